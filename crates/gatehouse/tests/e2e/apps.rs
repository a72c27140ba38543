//! Applications at the service layer (the real-client tests drive the same functions through
//! pysaml2 and python3-saml): certificate rotation and expiry colours under a manual clock,
//! assignments (users and direct groups), refusals and their Federate events, AuthnRequest checks.

use base64::Engine;
use chrono::Duration;
use gatehouse_core::clock::{Clock, ManualClock};
use gatehouse_core::model::{AttributeMapping, PrincipalType};
use gatehouse_core::services::applications::{NewApplication, SamlBinding, SamlConfigChange, expiry_status};
use gatehouse_core::services::{Client, ServiceConfig, Services, SessionInfo, SignInConfig};
use gatehouse_core::{Ctx, Error};
use std::sync::Arc;

use crate::harness::*;

const ACS: &str = "https://sp.example.com/saml/acs";
const AUDIENCE: &str = "https://sp.example.com/saml/metadata";

async fn open(db: &TestDb) -> (Arc<ManualClock>, Arc<Services>, Ctx) {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let config = ServiceConfig { signin: SignInConfig { failure_delay_ms: 0, ..SignInConfig::default() }, ..ServiceConfig::default() };
    let svc = open_services_at(db, config, clock.clone()).await;
    svc.bootstrap().await.unwrap();
    let ctx = svc.operator_ctx("tester").unwrap();
    (clock, svc, ctx)
}

async fn custom_app(svc: &Services, ctx: &Ctx, provider: &str) -> String {
    let new = NewApplication {
        provider_arn: gatehouse_core::ids::application_provider_arn(provider),
        name: format!("{provider} app"),
        ..Default::default()
    };
    let app = svc.create_application(ctx, new).await.unwrap();
    let change = SamlConfigChange { acs_url: Some(ACS.into()), audience: Some(AUDIENCE.into()), ..Default::default() };
    svc.put_saml_configuration(ctx, &app.application_id, change).await.unwrap();
    app.application_id
}

/// A signed-in portal session of a new user (with or without a primary email).
async fn signed_in(svc: &Services, ctx: &Ctx, name: &str, email: bool) -> SessionInfo {
    let mut p = profile(name, &format!("{name}@example.com"));
    if !email {
        p.emails.clear();
    }
    let u = svc.create_user(ctx, p).await.unwrap();
    svc.set_password(ctx, &u.user_id, "Apps-Passw0rd!", false).await.unwrap();
    let client = Client { source_ip: "192.0.2.7".into(), user_agent: "test".into(), device_token: None };
    let step = svc.sign_in(&client, name, "Apps-Passw0rd!", "/start/").await.unwrap();
    svc.portal_session(&step.token).await.unwrap().expect("signed in")
}

fn user_ctx(svc: &Services, info: &SessionInfo) -> Ctx {
    Ctx::new(info.principal(&svc.instance().unwrap().management_account_id), "192.0.2.7", "test")
}

fn xml_of(b64: &str) -> String {
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap()
}

#[tokio::test]
async fn certificate_rotation_and_expiry_status() {
    for db in databases().await {
        let (clock, svc, ctx) = open(&db).await;
        let app = custom_app(&svc, &ctx, "custom-saml").await;
        let info = signed_in(&svc, &ctx, "rosa", true).await;
        svc.create_app_assignment(&ctx, &app, PrincipalType::User, &info.user.user_id).await.unwrap();

        let first = svc.list_app_certificates(&ctx, &app).await.unwrap();
        assert_eq!(first.len(), 1, "created with the application");
        let old = first[0].clone();
        assert!(old.active && old.key_size == 2048 && old.algorithm == "SHA256");
        assert_eq!((old.not_after - old.not_before).num_days(), 365 * 5 + 1, "five years");

        let new = svc.create_app_certificate(&ctx, &app, 12, 1024, "SHA1").await.unwrap();
        assert!(!new.active, "a new certificate starts inactive");
        let third = svc.create_app_certificate(&ctx, &app, 12, 2048, "SHA256").await.unwrap_err();
        assert!(matches!(third, Error::QuotaExceeded { .. }), "{third:?}");
        let active = svc.delete_app_certificate(&ctx, &app, &old.certificate_id).await.unwrap_err();
        assert!(matches!(active, Error::Conflict { .. }), "{active:?}");

        let uctx = user_ctx(&svc, &info);
        let before = svc.federate(&uctx, &info, &app, None).await.unwrap();
        gatehouse_saml::verify_assertion(&before.xml, &[&old.certificate_pem]).expect("signed by the active certificate");
        svc.activate_app_certificate(&ctx, &app, &new.certificate_id).await.unwrap();
        let after = svc.federate(&uctx, &info, &app, None).await.unwrap();
        gatehouse_saml::verify_assertion(&after.xml, &[&new.certificate_pem]).expect("signed by the new certificate");
        assert!(gatehouse_saml::verify_assertion(&after.xml, &[&old.certificate_pem]).is_err(), "not by the old one");
        assert!(after.xml.contains("rsa-sha1"), "the new certificate's algorithm");
        svc.delete_app_certificate(&ctx, &app, &old.certificate_id).await.unwrap();
        assert_eq!(svc.list_app_certificates(&ctx, &app).await.unwrap().len(), 1);

        // Colours at each boundary: green until 90 days remain, yellow to the end, then red.
        let now = clock.now();
        assert_eq!(expiry_status(&new, now), "VALID");
        clock.advance(new.not_after - now - Duration::days(91));
        assert_eq!(expiry_status(&new, clock.now()), "VALID");
        clock.advance(Duration::days(1));
        assert_eq!(expiry_status(&new, clock.now()), "EXPIRING_SOON");
        clock.advance(Duration::days(90) - Duration::seconds(1));
        assert_eq!(expiry_status(&new, clock.now()), "EXPIRING_SOON");
        clock.advance(Duration::seconds(1));
        assert_eq!(expiry_status(&new, clock.now()), "EXPIRED");
    }
}

#[tokio::test]
async fn assignments_refusals_and_federate_events() {
    for db in databases().await {
        let (_clock, svc, ctx) = open(&db).await;
        let app = custom_app(&svc, &ctx, "amplitude").await;
        let info = signed_in(&svc, &ctx, "ines", true).await;
        let uctx = user_ctx(&svc, &info);

        let e = svc.federate(&uctx, &info, &app, None).await.unwrap_err();
        assert!(matches!(&e, Error::AccessDenied { message } if message.contains("not assigned")), "{e:?}");
        assert_eq!(last_event(&svc, "Federate").await.error_code.as_deref(), Some("AccessDeniedException"));

        // A directly assigned group gives access; deleting the group takes it away.
        let group = svc
            .create_group(
                &ctx,
                gatehouse_core::model::GroupProfile { display_name: "analysts".into(), description: None, external_ids: vec![] },
            )
            .await
            .unwrap();
        svc.create_group_membership(&ctx, &group.group_id, &info.user.user_id).await.unwrap();
        svc.create_app_assignment(&ctx, &app, PrincipalType::Group, &group.group_id).await.unwrap();
        let dup = svc.create_app_assignment(&ctx, &app, PrincipalType::Group, &group.group_id).await.unwrap_err();
        assert!(matches!(dup, Error::Conflict { .. }));
        let ok = svc.federate(&uctx, &info, &app, None).await.unwrap();
        let xml = xml_of(&ok.saml_response);
        assert!(xml.contains("nameid-format:emailAddress\">ines@example.com</saml:NameID>"), "{xml}");
        let apps = svc.my_applications(&uctx, &info).await.unwrap();
        assert_eq!(apps.len(), 1, "the tile");
        assert!(successful_events(&svc, "Federate").await >= 1);
        svc.delete_group(&ctx, &group.group_id).await.unwrap();
        assert!(svc.federate(&uctx, &info, &app, None).await.is_err(), "the group's assignment went with it");

        // Disabled: refused, even for an assigned user.
        svc.create_app_assignment(&ctx, &app, PrincipalType::User, &info.user.user_id).await.unwrap();
        let change = gatehouse_core::services::applications::ApplicationChange { enabled: Some(false), ..Default::default() };
        svc.update_application(&ctx, &app, change).await.unwrap();
        let e = svc.federate(&uctx, &info, &app, None).await.unwrap_err();
        assert!(e.to_string().contains("disabled"), "{e}");
        assert!(svc.my_applications(&uctx, &info).await.unwrap().is_empty(), "no tile for a disabled application");

        // Amplitude: the user without a primary email gets the error naming ${user:email}.
        let enable = gatehouse_core::services::applications::ApplicationChange { enabled: Some(true), ..Default::default() };
        svc.update_application(&ctx, &app, enable).await.unwrap();
        let nomail = signed_in(&svc, &ctx, "noemail", false).await;
        svc.create_app_assignment(&ctx, &app, PrincipalType::User, &nomail.user.user_id).await.unwrap();
        svc.flush_audit().await; // successful Federate records are batched; write them first
        let e = svc.federate(&user_ctx(&svc, &nomail), &nomail, &app, None).await.unwrap_err();
        assert!(e.to_string().contains("${user:email}"), "{e}");
        assert_eq!(last_event(&svc, "Federate").await.error_code.as_deref(), Some("ValidationException"));

        // Deleting a user removes their assignments.
        svc.delete_user(&ctx, &nomail.user.user_id).await.unwrap();
        let left = svc.list_app_assignments(&ctx, &app, &Default::default()).await.unwrap();
        assert!(left.items.iter().all(|a| a.principal_id != nomail.user.user_id));

        // Mappings are validated as a table.
        let bad = vec![AttributeMapping { attribute: "Subject".into(), source: "${user:groups}".into(), format: "persistent".into() }];
        assert!(matches!(svc.put_attribute_mappings(&ctx, &app, bad).await.unwrap_err(), Error::Validation { .. }));
    }
}

fn authn_request(svc: &Services, app: &str, acs: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    let xml = format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_req1" Version="2.0" IssueInstant="{}" Destination="{}" AssertionConsumerServiceURL="{acs}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"><saml:Issuer>{AUDIENCE}</saml:Issuer></samlp:AuthnRequest>"#,
        gatehouse_saml::instant(now),
        svc.idp_sso_url(app)
    );
    base64::engine::general_purpose::STANDARD.encode(xml)
}

#[tokio::test]
async fn authn_requests_are_checked_before_sign_in() {
    for db in databases().await {
        let (clock, svc, ctx) = open(&db).await;
        let app = custom_app(&svc, &ctx, "custom-saml").await;
        let info = signed_in(&svc, &ctx, "sol", true).await;
        svc.create_app_assignment(&ctx, &app, PrincipalType::User, &info.user.user_id).await.unwrap();
        let anon = Ctx::new(gatehouse_core::services::Principal::anonymous("000000000000"), "192.0.2.9", "sp");

        let good = authn_request(&svc, &app, ACS, clock.now());
        let pending =
            svc.check_authn_request(&anon, &app, SamlBinding::Post { saml_request: &good, relay_state: Some("deep/link") }).await.unwrap();
        let sealed = svc.seal_pending(&pending);
        assert!(svc.open_pending("apl-0000000000000000", &sealed).is_err(), "bound to its application");
        let reopened = svc.open_pending(&app, &sealed).unwrap();
        let answer = svc.federate(&user_ctx(&svc, &info), &info, &app, Some(&reopened)).await.unwrap();
        assert_eq!(answer.relay_state.as_deref(), Some("deep/link"));
        assert!(answer.xml.contains("InResponseTo=\"_req1\""), "{}", answer.xml);

        svc.flush_audit().await; // successful Federate records are batched; write them first
        let foreign = authn_request(&svc, &app, "https://evil.example.com/acs", clock.now());
        let e = svc.check_authn_request(&anon, &app, SamlBinding::Post { saml_request: &foreign, relay_state: None }).await.unwrap_err();
        assert!(e.to_string().contains("registered ACS URL"), "{e}");
        let event = last_event(&svc, "Federate").await;
        assert_eq!(event.error_code.as_deref(), Some("ValidationException"));
        assert!(event.error_message.unwrap_or_default().contains("evil.example.com"));

        let stale = authn_request(&svc, &app, ACS, clock.now() - Duration::minutes(30));
        assert!(svc.check_authn_request(&anon, &app, SamlBinding::Post { saml_request: &stale, relay_state: None }).await.is_err());

        clock.advance(Duration::minutes(16));
        assert!(svc.open_pending(&app, &sealed).is_err(), "a checked request waits 15 minutes at most");

        // Signed requests required, and this one is not signed.
        let pem = svc.list_app_certificates(&ctx, &app).await.unwrap()[0].certificate_pem.clone();
        let change = SamlConfigChange { require_signed_requests: Some(true), sp_certificates: Some(vec![pem]), ..Default::default() };
        svc.put_saml_configuration(&ctx, &app, change).await.unwrap();
        let unsigned = authn_request(&svc, &app, ACS, clock.now());
        let e = svc.check_authn_request(&anon, &app, SamlBinding::Post { saml_request: &unsigned, relay_state: None }).await.unwrap_err();
        assert!(e.to_string().contains("not signed"), "{e}");
    }
}
