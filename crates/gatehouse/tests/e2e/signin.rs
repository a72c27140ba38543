//! Portal sign-in at the service layer (the browser tests drive the same functions through the
//! pages): passwords, forced change, sessions and their end, authenticator apps, lockout, and the
//! guide's sign-in events. TOTP codes come from totp-rs, independently of Gatehouse's own code.

use chrono::Duration;
use gatehouse_core::clock::{Clock, ManualClock};
use gatehouse_core::model::{EmailPurpose, MfaMode, MfaSettings, NoDevice, Stage};
use gatehouse_core::services::{Client, ServiceConfig, Services, SignInConfig, SignInError};
use gatehouse_core::{Ctx, Error};
use std::sync::Arc;

use crate::harness::*;

fn config() -> ServiceConfig {
    ServiceConfig { signin: SignInConfig { failure_delay_ms: 0, ..SignInConfig::default() }, ..ServiceConfig::default() }
}

fn browser(ip: &str) -> Client {
    Client { source_ip: ip.into(), user_agent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/148.0.0.0 Safari/537.36".into(), device_token: None }
}

/// A user with a password they chose (no forced change).
async fn user_with_password(svc: &Services, ctx: &Ctx, name: &str, password: &str) -> String {
    let u = svc.create_user(ctx, profile(name, &format!("{name}@example.com"))).await.unwrap();
    svc.set_password(ctx, &u.user_id, password, false).await.unwrap();
    u.user_id
}

fn code_at(secret: &str, clock: &ManualClock) -> String {
    let bytes = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, secret).expect("base32 secret");
    let totp = totp_rs::Builder::new().with_secret(bytes).build().expect("totp");
    totp.generate(clock.now().timestamp() as u64).to_string()
}

/// An authenticator app registered for `user_id`, proven by its current code: its secret.
async fn register_app(svc: &Services, ctx: &Ctx, user_id: &str, clock: &ManualClock, name: &str) -> String {
    let e = svc.start_totp_registration(ctx, user_id).await.unwrap();
    svc.complete_totp_registration(ctx, user_id, &e.secret, &code_at(&e.secret, clock), name).await.unwrap();
    e.secret
}

async fn open(db: &TestDb) -> (Arc<ManualClock>, Arc<Services>, Ctx) {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let svc = open_services_at(db, config(), clock.clone()).await;
    svc.bootstrap().await.unwrap();
    let ctx = svc.operator_ctx("tester").unwrap();
    (clock, svc, ctx)
}

#[tokio::test]
async fn password_forced_change_session_expiry_sign_out_and_disable() {
    for db in databases().await {
        let (clock, svc, ctx) = open(&db).await;
        let b = browser("192.0.2.1");
        let u = svc.create_user(&ctx, profile("ana", "ana@example.com")).await.unwrap();
        let otp = svc.reset_password(&ctx, &u.user_id).await.unwrap();

        let step = svc.sign_in(&b, "ana", &otp, "/start/").await.unwrap();
        assert_eq!(step.stage, Stage::PasswordChange, "a one-time password must be changed first");
        assert!(svc.portal_session(&step.token).await.unwrap().is_none(), "not signed in yet");
        let err = svc.change_password_at_sign_in(&b, &step.token, "short", "/start/").await.unwrap_err();
        assert!(matches!(err, SignInError::Invalid(_)), "{err:?}");
        let done = svc.change_password_at_sign_in(&b, &step.token, "N3w-Passw0rd!", "/start/").await.unwrap();
        assert_eq!(done.stage, Stage::SignedIn);
        assert_ne!(done.token, step.token, "the session token rotates at each step");
        assert!(svc.portal_session(&step.token).await.unwrap().is_none(), "the old token is worthless");
        let info = svc.portal_session(&done.token).await.unwrap().expect("signed in");
        assert_eq!(info.user.user_id, u.user_id);
        assert!(matches!(svc.sign_in(&b, "ana", &otp, "/start/").await.unwrap_err(), SignInError::Incorrect), "the OTP is spent");

        // Eight hours by default.
        clock.advance(Duration::hours(8) - Duration::seconds(1));
        assert!(svc.portal_session(&done.token).await.unwrap().is_some());
        clock.advance(Duration::seconds(2));
        assert!(svc.portal_session(&done.token).await.unwrap().is_none(), "expired after 8 hours");

        // Sign-out removes the session.
        let s = svc.sign_in(&b, "ana", "N3w-Passw0rd!", "/start/").await.unwrap();
        svc.sign_out(&ctx, &s.token).await.unwrap();
        assert!(svc.portal_session(&s.token).await.unwrap().is_none());

        // Disabling the user ends an open session at once; so does a password reset.
        let s = svc.sign_in(&b, "ana", "N3w-Passw0rd!", "/start/").await.unwrap();
        assert_eq!(svc.list_user_sessions(&ctx, &u.user_id).await.unwrap().len(), 1);
        svc.set_user_active(&ctx, &u.user_id, false).await.unwrap();
        assert!(svc.portal_session(&s.token).await.unwrap().is_none());
        assert!(matches!(svc.sign_in(&b, "ana", "N3w-Passw0rd!", "/start/").await.unwrap_err(), SignInError::Incorrect));
        svc.set_user_active(&ctx, &u.user_id, true).await.unwrap();
        let s = svc.sign_in(&b, "ana", "N3w-Passw0rd!", "/start/").await.unwrap();
        svc.reset_password(&ctx, &u.user_id).await.unwrap();
        assert!(svc.portal_session(&s.token).await.unwrap().is_none(), "a reset ends sessions");
        drop(db);
    }
}

#[tokio::test]
async fn authenticator_apps_codes_once_at_most_two_and_mfa_modes() {
    for db in databases().await {
        let (clock, svc, ctx) = open(&db).await;
        let b = browser("192.0.2.2");
        let id = user_with_password(&svc, &ctx, "ben", "Passw0rd!x").await;

        // Register an app as an administrator would: a secret, then a code that proves the app has it.
        let e = svc.start_totp_registration(&ctx, &id).await.unwrap();
        assert!(e.uri.starts_with("otpauth://totp/") && e.qr_svg.contains("<svg"));
        let err = svc.complete_totp_registration(&ctx, &id, &e.secret, "000000", "phone").await.unwrap_err();
        assert!(matches!(err, Error::Validation { .. }), "{err:?}");
        svc.complete_totp_registration(&ctx, &id, &e.secret, &code_at(&e.secret, &clock), "phone").await.unwrap();

        // Context-aware (the default): a new browser is asked for a code.
        clock.advance(Duration::seconds(30));
        let step = svc.sign_in(&b, "ben", "Passw0rd!x", "/start/").await.unwrap();
        assert_eq!(step.stage, Stage::Mfa);
        assert!(matches!(
            svc.verify_totp_at_sign_in(&b, &step.token, "123456", false, "/start/").await.unwrap_err(),
            SignInError::WrongCode
        ));
        let code = code_at(&e.secret, &clock);
        let done = svc.verify_totp_at_sign_in(&b, &step.token, &code, true, "/start/").await.unwrap();
        assert_eq!(done.stage, Stage::SignedIn);
        let device = done.trusted_device_token.clone().expect("trusted device cookie");

        // The same code does not work twice.
        let again = svc.sign_in(&b, "ben", "Passw0rd!x", "/start/").await.unwrap();
        let trusted = Client { device_token: Some(device.clone()), ..b.clone() };
        assert_eq!(again.stage, Stage::Mfa, "without the device cookie MFA is asked again");
        assert!(matches!(svc.verify_totp_at_sign_in(&b, &again.token, &code, false, "/start/").await.unwrap_err(), SignInError::WrongCode));

        // The trusted browser skips MFA; the same cookie from another address does not.
        assert_eq!(svc.sign_in(&trusted, "ben", "Passw0rd!x", "/start/").await.unwrap().stage, Stage::SignedIn);
        let moved = Client { source_ip: "198.51.100.7".into(), ..trusted.clone() };
        assert_eq!(svc.sign_in(&moved, "ben", "Passw0rd!x", "/start/").await.unwrap().stage, Stage::Mfa);

        // Always-on asks even the trusted browser; never asks nobody.
        let mut settings = MfaSettings { mode: MfaMode::AlwaysOn, ..MfaSettings::default() };
        svc.put_mfa_settings(&ctx, &settings).await.unwrap();
        assert_eq!(svc.sign_in(&trusted, "ben", "Passw0rd!x", "/start/").await.unwrap().stage, Stage::Mfa);
        settings.mode = MfaMode::Never;
        svc.put_mfa_settings(&ctx, &settings).await.unwrap();
        assert_eq!(svc.sign_in(&b, "ben", "Passw0rd!x", "/start/").await.unwrap().stage, Stage::SignedIn);

        // A second app is allowed, a third is not.
        register_app(&svc, &ctx, &id, &clock, "tablet").await;
        let e3 = svc.start_totp_registration(&ctx, &id).await.unwrap();
        let err = svc.complete_totp_registration(&ctx, &id, &e3.secret, &code_at(&e3.secret, &clock), "laptop").await.unwrap_err();
        assert!(matches!(err, Error::QuotaExceeded { .. }), "{err:?}");
        let devices = svc.list_mfa_devices(&ctx, &id).await.unwrap();
        assert_eq!(devices.len(), 2);
        svc.rename_mfa_device(&ctx, &id, &devices[0].device_id, "old phone").await.unwrap();
        svc.delete_mfa_device(&ctx, &id, &devices[1].device_id).await.unwrap();
        assert_eq!(svc.list_mfa_devices(&ctx, &id).await.unwrap()[0].name, "old phone");
        drop(db);
    }
}

#[tokio::test]
async fn an_app_whose_clock_is_off_is_resynced_with_its_next_code() {
    for db in databases().await {
        let (clock, svc, ctx) = open(&db).await;
        let b = browser("192.0.2.3");
        let id = user_with_password(&svc, &ctx, "rita", "Passw0rd!x").await;
        let secret = register_app(&svc, &ctx, &id, &clock, "phone").await;
        svc.put_mfa_settings(&ctx, &MfaSettings { mode: MfaMode::AlwaysOn, ..MfaSettings::default() }).await.unwrap();

        // The phone's clock is five minutes fast.
        let phone = Arc::new(ManualClock::new(clock.now() + Duration::seconds(300)));
        clock.advance(Duration::seconds(60));
        phone.advance(Duration::seconds(60));
        let step = svc.sign_in(&b, "rita", "Passw0rd!x", "/start/").await.unwrap();
        let err = svc.verify_totp_at_sign_in(&b, &step.token, &code_at(&secret, &phone), false, "/start/").await.unwrap_err();
        assert!(matches!(err, SignInError::OutOfSync), "{err:?}");
        // A made-up code is no resync; the app's next code is.
        let err = svc.verify_totp_at_sign_in(&b, &step.token, "000000", false, "/start/").await.unwrap_err();
        assert!(matches!(err, SignInError::WrongCode), "{err:?}");
        phone.advance(Duration::seconds(30));
        clock.advance(Duration::seconds(30));
        let done = svc.verify_totp_at_sign_in(&b, &step.token, &code_at(&secret, &phone), false, "/start/").await.unwrap();
        assert_eq!(done.stage, Stage::SignedIn);
        assert_eq!(done.session.verified, vec!["PASSWORD".to_string(), "RESYNC_TOTP".to_string()]);

        // From now on the fast phone's codes are accepted at once.
        clock.advance(Duration::seconds(90));
        phone.advance(Duration::seconds(90));
        let step = svc.sign_in(&b, "rita", "Passw0rd!x", "/start/").await.unwrap();
        let done = svc.verify_totp_at_sign_in(&b, &step.token, &code_at(&secret, &phone), false, "/start/").await.unwrap();
        assert_eq!(done.session.verified, vec!["PASSWORD".to_string(), "TOTP".to_string()]);

        // An hour off is simply wrong.
        clock.advance(Duration::seconds(60));
        let step = svc.sign_in(&b, "rita", "Passw0rd!x", "/start/").await.unwrap();
        let hour = ManualClock::new(clock.now() + Duration::seconds(3600));
        let err = svc.verify_totp_at_sign_in(&b, &step.token, &code_at(&secret, &hour), false, "/start/").await.unwrap_err();
        assert!(matches!(err, SignInError::WrongCode), "{err:?}");
        drop(db);
    }
}

/// The guide's four choices for a user without a device, when MFA is asked.
#[tokio::test]
async fn users_without_a_device() {
    for db in databases().await {
        let (_clock, svc, ctx) = open(&db).await;
        let b = browser("192.0.2.3");
        user_with_password(&svc, &ctx, "cy", "Passw0rd!x").await;
        for (no_device, expect) in [
            (NoDevice::Allow, Ok(Stage::SignedIn)),
            (NoDevice::RequireRegistration, Ok(Stage::MfaEnroll)),
            (NoDevice::Block, Err("blocked")),
            // A code by email needs SMTP (tests/py/test_portal.py has it): without, the sign-in is
            // refused rather than let through.
            (NoDevice::EmailCode, Err("no email")),
        ] {
            svc.put_mfa_settings(&ctx, &MfaSettings { no_device, ..MfaSettings::default() }).await.unwrap();
            let got = svc.sign_in(&b, "cy", "Passw0rd!x", "/start/").await;
            match (expect, got) {
                (Ok(stage), Ok(step)) => assert_eq!(step.stage, stage, "{no_device:?}"),
                (Err(_), Err(SignInError::NoDeviceBlocked)) => {}
                (want, got) => panic!("{no_device:?}: wanted {want:?}, got {got:?}"),
            }
        }
        drop(db);
    }
}

#[tokio::test]
async fn lockout_after_bad_passwords_same_for_unknown_users_and_released() {
    for db in databases().await {
        let (clock, svc, ctx) = open(&db).await;
        let b = browser("192.0.2.4");
        user_with_password(&svc, &ctx, "dee", "Passw0rd!x").await;
        for name in ["dee", "nobody-here"] {
            for _ in 0..5 {
                let err = svc.sign_in(&b, name, "wrong-Passw0rd!", "/start/").await.unwrap_err();
                assert!(matches!(err, SignInError::Incorrect), "{name}: {err:?}");
            }
            let err = svc.sign_in(&b, name, "Passw0rd!x", "/start/").await.unwrap_err();
            assert!(matches!(err, SignInError::Locked), "{name}: locked even with the right password: {err:?}");
            assert_eq!(err.to_string(), SignInError::Locked.to_string());
        }
        clock.advance(Duration::seconds(901));
        assert_eq!(svc.sign_in(&b, "dee", "Passw0rd!x", "/start/").await.unwrap().stage, Stage::SignedIn, "released after the wait");
        drop(db);
    }
}

/// Event names, a shared AuthWorkflowID and CredentialType values as in the guide's examples.
#[tokio::test]
async fn sign_in_events_match_the_guide() {
    for db in databases().await {
        let (clock, svc, ctx) = open(&db).await;
        let b = browser("203.0.113.9");
        let id = user_with_password(&svc, &ctx, "eve", "Passw0rd!x").await;
        let events = |svc: Arc<Services>| async move {
            svc.flush_audit().await;
            let mut tx = svc.store().begin().await.unwrap();
            let rows = tx.list_audit(&gatehouse_core::model::AuditQuery { limit: 100_000, ..Default::default() }).await.unwrap();
            tx.rollback().await.unwrap();
            rows.into_iter().map(|r| r.record).filter(|r| r.event_source == "signin.amazonaws.com").collect::<Vec<_>>()
        };
        let seen = |records: &[gatehouse_core::model::AuditRecord]| {
            records
                .iter()
                .map(|r| {
                    (
                        r.event_name.clone(),
                        r.additional_event_data["CredentialType"].as_str().unwrap_or("").to_string(),
                        r.service_event_details[&r.event_name].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect::<Vec<_>>()
        };
        let t = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());

        // Password only.
        svc.sign_in(&b, "eve", "Passw0rd!x", "/start/").await.unwrap();
        let all = events(svc.clone()).await;
        assert_eq!(
            seen(&all),
            vec![
                t("CredentialChallenge", "PASSWORD", "Success"),
                t("CredentialVerification", "PASSWORD", "Success"),
                t("UserAuthentication", "PASSWORD", "Success"),
            ]
        );
        let flow = all[0].additional_event_data["AuthWorkflowID"].clone();
        assert!(all.iter().all(|r| r.additional_event_data["AuthWorkflowID"] == flow && r.event_type == "AwsServiceEvent"));
        assert_eq!(all[2].additional_event_data["LoginTo"], "/start/");
        assert_eq!(all[0].user_identity["userName"], "eve");
        assert_eq!(all[0].user_identity["type"], "Unknown");
        // Then the portal's own Authenticate, in the same workflow.
        svc.flush_audit().await;
        let mut tx = svc.store().begin().await.unwrap();
        let rows = tx.list_audit(&gatehouse_core::model::AuditQuery { limit: 100_000, ..Default::default() }).await.unwrap();
        tx.rollback().await.unwrap();
        let portal: Vec<_> = rows.iter().map(|r| &r.record).filter(|r| r.event_name == "Authenticate").collect();
        assert_eq!(portal.len(), 1, "{portal:?}");
        assert_eq!((portal[0].event_source.as_str(), &portal[0].additional_event_data["AuthWorkflowID"]), ("sso.amazonaws.com", &flow));

        // Failed password.
        let before = all.len();
        svc.sign_in(&b, "eve", "wrong-Passw0rd!", "/start/").await.unwrap_err();
        let all = events(svc.clone()).await;
        assert_eq!(
            seen(&all[before..]),
            vec![t("CredentialChallenge", "PASSWORD", "Success"), t("CredentialVerification", "PASSWORD", "Failure")]
        );

        // Forced MFA registration: PASSWORD, then UserAuthentication with DeviceEnrollmentRequired.
        svc.put_mfa_settings(&ctx, &MfaSettings { no_device: NoDevice::RequireRegistration, ..MfaSettings::default() }).await.unwrap();
        let before = all.len();
        let step = svc.sign_in(&b, "eve", "Passw0rd!x", "/start/").await.unwrap();
        assert_eq!(step.stage, Stage::MfaEnroll);
        let e = svc.start_enrollment_at_sign_in(&step.token).await.unwrap();
        let done = svc.complete_enrollment_at_sign_in(&b, &step.token, &code_at(&e.secret, &clock), "phone", "/start/").await.unwrap();
        assert_eq!(done.stage, Stage::SignedIn);
        let all = events(svc.clone()).await;
        assert_eq!(
            seen(&all[before..]),
            vec![
                t("CredentialChallenge", "PASSWORD", "Success"),
                t("CredentialVerification", "PASSWORD", "Success"),
                t("UserAuthentication", "PASSWORD", "Success"),
            ]
        );
        assert_eq!(all.last().unwrap().additional_event_data["DeviceEnrollmentRequired"], "true");

        // Password and an authenticator app.
        clock.advance(Duration::seconds(60));
        let before = all.len();
        let step = svc.sign_in(&b, "eve", "Passw0rd!x", "/start/").await.unwrap();
        svc.verify_totp_at_sign_in(&b, &step.token, &code_at(&e.secret, &clock), false, "/start/").await.unwrap();
        let all = events(svc.clone()).await;
        assert_eq!(
            seen(&all[before..]),
            vec![
                t("CredentialChallenge", "PASSWORD", "Success"),
                t("CredentialVerification", "PASSWORD", "Success"),
                t("CredentialChallenge", "TOTP", "Success"),
                t("CredentialVerification", "TOTP", "Success"),
                t("UserAuthentication", "PASSWORD,TOTP", "Success"),
            ]
        );
        let _ = id;
        drop(db);
    }
}

/// A local SMTP server for the tests: accepts every message and keeps its text.
async fn smtp_sink() -> (u16, Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let messages = Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = messages.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.ok();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            kept.lock().unwrap().push(data.take().unwrap_or_default());
                            write.write_all(b"250 queued\r\n").await.ok();
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 sink\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go on\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.ok();
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(reply).await.ok();
                }
            });
        }
    });
    (port, messages)
}

/// The link token in the last message (undoing quoted-printable soft breaks and `=3D`).
fn last_token(messages: &std::sync::Mutex<Vec<String>>) -> String {
    let text = messages.lock().unwrap().last().cloned().expect("an email").replace("=\n", "").replace("=3D", "=");
    let at = text.find("?token=").expect("a link") + "?token=".len();
    text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

#[tokio::test]
async fn emailed_links_expire() {
    for db in databases().await {
        let (port, messages) = smtp_sink().await;
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        let smtp = gatehouse_core::mail::SmtpConfig {
            host: "127.0.0.1".into(),
            port,
            security: gatehouse_core::mail::SmtpSecurity::None,
            username: String::new(),
            password: String::new(),
            from: "Gatehouse <sso@example.com>".into(),
        };
        let svc = open_services_at(&db, ServiceConfig { smtp: Some(smtp), ..config() }, clock.clone()).await;
        svc.bootstrap().await.unwrap();
        let ctx = svc.operator_ctx("tester").unwrap();
        let b = browser("192.0.2.5");
        let u = svc.create_user(&ctx, profile("fay", "fay@example.com")).await.unwrap();

        // An invitation lasts 24 hours.
        svc.send_invitation(&ctx, &u.user_id).await.unwrap();
        let invitation = last_token(&messages);
        assert!(svc.email_link_valid(&invitation, EmailPurpose::Invitation).await.unwrap());
        assert!(!svc.email_link_valid(&invitation, EmailPurpose::PasswordReset).await.unwrap(), "a link is for its purpose only");
        clock.advance(Duration::hours(24) + Duration::seconds(1));
        assert!(!svc.email_link_valid(&invitation, EmailPurpose::Invitation).await.unwrap());
        let err = svc.redeem_email_link(&b, &invitation, EmailPurpose::Invitation, "Fay-Passw0rd!", "/start/").await.unwrap_err();
        assert!(matches!(err, SignInError::Invalid(_)), "{err:?}");

        // A reset link lasts an hour and works once.
        svc.request_password_reset(&b, "fay").await.unwrap();
        let reset = last_token(&messages);
        clock.advance(Duration::minutes(59));
        assert!(svc.redeem_email_link(&b, &reset, EmailPurpose::PasswordReset, "Fay-Passw0rd!", "/start/").await.unwrap().is_none());
        assert!(svc.redeem_email_link(&b, &reset, EmailPurpose::PasswordReset, "Fay-Passw0rd!2", "/start/").await.is_err(), "once");
        svc.request_password_reset(&b, "fay").await.unwrap();
        let late = last_token(&messages);
        clock.advance(Duration::minutes(61));
        assert!(svc.redeem_email_link(&b, &late, EmailPurpose::PasswordReset, "Fay-Passw0rd!3", "/start/").await.is_err(), "expired");
        assert_eq!(svc.sign_in(&b, "fay", "Fay-Passw0rd!", "/start/").await.unwrap().stage, Stage::SignedIn);
        drop(db);
    }
}

/// User names as people type them: plain, `DOMAIN\user` and `user@domain` for a configured domain.
#[tokio::test]
async fn user_name_forms() {
    for db in databases().await {
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        let mut cfg = config();
        cfg.signin.user_domains = vec!["corp.example.com".into()];
        let svc = open_services_at(&db, cfg, clock.clone()).await;
        svc.bootstrap().await.unwrap();
        let ctx = svc.operator_ctx("tester").unwrap();
        let b = browser("192.0.2.6");
        user_with_password(&svc, &ctx, "gus", "Passw0rd!x").await;
        for typed in ["gus", "GUS", "CORP\\gus", "corp.example.com\\gus", "gus@corp.example.com"] {
            assert_eq!(svc.sign_in(&b, typed, "Passw0rd!x", "/start/").await.unwrap().stage, Stage::SignedIn, "{typed}");
        }
        for typed in ["OTHER\\gus", "gus@other.example.com"] {
            let err = svc.sign_in(&b, typed, "Passw0rd!x", "/start/").await.unwrap_err();
            assert!(matches!(err, SignInError::Incorrect), "{typed}: {err:?}");
        }
        drop(db);
    }
}

/// SSO OIDC lifetimes: device codes expire after 10 minutes (ExpiredTokenException), access
/// tokens after the session length, and refresh tokens renew them.
#[tokio::test]
async fn device_codes_and_access_tokens_expire() {
    use gatehouse_core::services::oidc::{CodeExchange, OidcError, TokenRequest};
    for db in databases().await {
        let (clock, svc, ctx) = open(&db).await;
        let b = browser("192.0.2.9");
        user_with_password(&svc, &ctx, "otto", "Otto-Passw0rd!").await;
        let client = svc.register_client(&ctx, "cli", "public", vec![], vec![], vec![]).await.unwrap();
        let start_url = format!("{}/start", svc.config().public_url);
        fn grant<'a>(client: &'a gatehouse_core::services::oidc::RegisteredClient, code: &'a str) -> TokenRequest<'a> {
            TokenRequest {
                client_id: &client.client.client_id,
                client_secret: &client.secret,
                grant_type: "urn:ietf:params:oauth:grant-type:device_code",
                device_code: Some(code),
                refresh_token: None,
                authorization: CodeExchange::default(),
            }
        }

        let stale = svc.start_device_authorization(&ctx, &client.client.client_id, &client.secret, &start_url).await.unwrap();
        clock.advance(Duration::seconds(601));
        assert!(
            matches!(svc.create_token(&ctx, grant(&client, &stale.device_code)).await, Err(OidcError::ExpiredToken(_))),
            "{}",
            db.backend
        );
        assert!(svc.pending_device(&stale.user_code).await.unwrap().is_none(), "an expired code cannot be approved");

        let fresh = svc.start_device_authorization(&ctx, &client.client.client_id, &client.secret, &start_url).await.unwrap();
        let step = svc.sign_in(&b, "otto", "Otto-Passw0rd!", "/start/").await.unwrap();
        let session = svc.portal_session(&step.token).await.unwrap().expect("signed in");
        assert!(svc.decide_device(&ctx, &session, &fresh.user_code.to_lowercase(), true).await.unwrap());
        clock.advance(Duration::seconds(2));
        let tokens = svc.create_token(&ctx, grant(&client, &fresh.device_code)).await.unwrap();
        assert_eq!(tokens.expires_in, 8 * 3600);
        assert!(svc.bearer_principal(&tokens.access_token).await.unwrap().is_some());
        clock.advance(Duration::hours(8) + Duration::seconds(1));
        assert!(svc.bearer_principal(&tokens.access_token).await.unwrap().is_none(), "the access token expired");
        let renewed = svc
            .create_token(
                &ctx,
                TokenRequest {
                    client_id: &client.client.client_id,
                    client_secret: &client.secret,
                    grant_type: "refresh_token",
                    device_code: None,
                    refresh_token: Some(&tokens.refresh_token),
                    authorization: CodeExchange::default(),
                },
            )
            .await
            .unwrap();
        assert!(svc.bearer_principal(&renewed.access_token).await.unwrap().is_some(), "the refresh token renews it");
    }
}
