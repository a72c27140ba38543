//! Portal sign-in: password, forced password change, MFA (or its registration), and the session
//! that results. Each step is one transaction that also writes the guide's sign-in events.
//!
//! A sign-in is a server-side session that moves through stages (`Stage`); the browser holds a
//! random token whose hash names the session, and every stage change issues a new token, so a
//! token seen before sign-in completes is worthless after.

mod email;
mod events;
mod external;
mod pending;
mod sessions;
mod throttle;
pub(crate) mod totp;
mod webauthn;

use chrono::Duration;

use super::Services;
use crate::crypto::token_hash;
use crate::error::{Error, Result};
use crate::model::{IdentitySourceKind, MfaDevice, MfaKind, MfaMode, MfaSettings, NoDevice, PortalSession, Stage, TrustedDevice, User};
use crate::store::Tx;
use events::{Attempt, Outcome};
use pending::Pending;

pub use sessions::SessionInfo;
pub(crate) use sessions::end_sessions;
pub use webauthn::{KeyAttachment, KeyCeremony, MfaChallenge, RelyingParty};

/// Sign-in settings from the configuration file.
#[derive(Debug, Clone)]
pub struct SignInConfig {
    /// How long a portal session lasts (the guide's default: 8 hours).
    pub session_hours: i64,
    /// Failed sign-ins for one user name before it is locked for `lockout_seconds`.
    pub lockout_threshold: i64,
    /// Failed sign-ins from one address before it is locked for `lockout_seconds`.
    pub ip_lockout_threshold: i64,
    pub lockout_seconds: i64,
    /// The delay added to a failed attempt grows by this much per recent failure (at most 5 s).
    pub failure_delay_ms: u64,
    /// How long a browser marked "This is a trusted device" skips MFA.
    pub trusted_device_days: i64,
    /// Directory domains users may type before (`DOMAIN\user`) or after (`user@domain`) their
    /// user name. Empty: user names are taken as typed.
    pub user_domains: Vec<String>,
}

impl Default for SignInConfig {
    fn default() -> Self {
        SignInConfig {
            session_hours: 8,
            lockout_threshold: 5,
            ip_lockout_threshold: 50,
            lockout_seconds: 900,
            failure_delay_ms: 250,
            trusted_device_days: 30,
            user_domains: Vec::new(),
        }
    }
}

/// The browser a step comes from.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub source_ip: String,
    pub user_agent: String,
    /// The trusted-device cookie, if the browser has one.
    pub device_token: Option<String>,
}

/// Why a sign-in step did not go through. The messages never tell whether a user exists.
#[derive(Debug)]
pub enum SignInError {
    /// Wrong user name or password.
    Incorrect,
    /// Too many failed attempts for this user name or from this address.
    Locked,
    /// MFA is required, the user has no device, and the administrator blocks such sign-ins.
    NoDeviceBlocked,
    /// The MFA code was wrong or already used.
    WrongCode,
    /// The security key's answer did not verify (another key, a forged or replayed answer).
    KeyRefused,
    /// The authenticator app's code is genuine but its clock is off: the next code resyncs it.
    OutOfSync,
    /// The step's session is missing, expired or at another stage: sign in again.
    Restart,
    /// The external identity provider's answer was refused (the reason is audited and shown).
    ExternalRefused(String),
    /// An external identity provider is the identity source: no Gatehouse passwords.
    UseExternalIdp,
    /// Input the user can correct (a password that breaks the policy, say).
    Invalid(Error),
    Failed(Error),
}

impl SignInError {
    /// Bad input (a password the rules refuse) is the user's to correct; anything else failed.
    pub(crate) fn from_input(e: Error) -> Self {
        match e {
            e @ Error::Validation { .. } => SignInError::Invalid(e),
            other => SignInError::Failed(other),
        }
    }
}

impl From<Error> for SignInError {
    fn from(e: Error) -> Self {
        SignInError::Failed(e)
    }
}

impl From<crate::error::StoreError> for SignInError {
    fn from(e: crate::error::StoreError) -> Self {
        SignInError::Failed(e.into())
    }
}

impl std::fmt::Display for SignInError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignInError::Incorrect => write!(f, "Your user name or password is incorrect."),
            SignInError::Locked => write!(f, "Too many failed sign-in attempts. Wait a few minutes, then try again."),
            SignInError::NoDeviceBlocked => {
                write!(f, "Your administrator requires an MFA device to sign in, and you have none registered. Contact your administrator.")
            }
            SignInError::WrongCode => write!(f, "The code is incorrect or was already used. Enter the current code."),
            SignInError::OutOfSync => write!(
                f,
                "Your authenticator app's clock is out of sync. Wait for the app to show its next code, then enter that code to resync it."
            ),
            SignInError::KeyRefused => {
                write!(f, "Your security key's answer could not be verified. Use a key registered to you and try again.")
            }
            SignInError::Restart => write!(f, "Your sign-in expired. Sign in again."),
            SignInError::UseExternalIdp => {
                write!(f, "Sign in at your organization's identity provider: open the portal again to go there.")
            }
            SignInError::ExternalRefused(why) => write!(f, "Your identity provider's sign-in could not be accepted: {why}"),
            SignInError::Invalid(e) | SignInError::Failed(e) => write!(f, "{e}"),
        }
    }
}

pub type SignInResult<T> = std::result::Result<T, SignInError>;

/// Where the browser goes next, and the cookie that takes it there.
#[derive(Debug)]
pub struct Step {
    /// The new session token: the cookie's value from now on.
    pub token: String,
    pub stage: Stage,
    pub session: PortalSession,
    /// Set when the user ticked "This is a trusted device": the device cookie's value.
    pub trusted_device_token: Option<String>,
}

/// A random secret for cookies and links: 32 bytes, base64url.
pub(crate) fn new_secret() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A CSRF token for a browser's forms (the portal's double-submit cookie).
pub fn new_csrf_token() -> String {
    new_secret()
}

/// The browser's family and major version, from its User-Agent: enough to tell "another browser"
/// without breaking on every minor update.
pub(crate) fn browser_of(user_agent: &str) -> String {
    for marker in ["Edg/", "OPR/", "Firefox/", "Chrome/", "Version/"] {
        if let Some(rest) = user_agent.split(marker).nth(1) {
            let major = rest.split(['.', ' ']).next().unwrap_or_default();
            return format!("{}{major}", marker.trim_end_matches('/'));
        }
    }
    user_agent.chars().take(64).collect()
}

impl Services {
    pub(crate) fn signin_config(&self) -> &SignInConfig {
        &self.config.signin
    }

    /// MFA settings of the instance ("PutMfaDeviceManagementForDirectory" changes them).
    pub async fn mfa_settings(&self) -> Result<MfaSettings> {
        let mut tx = self.store.begin_read().await?;
        let value = tx.get_setting(MFA_SETTING).await?;
        tx.rollback().await?;
        parse_mfa_settings(value)
    }

    /// Find the user a typed name means: as typed, else without a configured `DOMAIN\` prefix or
    /// `@domain` suffix.
    async fn user_for_sign_in(&self, tx: &mut Box<dyn Tx>, typed: &str) -> Result<Option<User>> {
        let store_id = self.store_id()?;
        if let Some(user) = tx.find_user_by_name(&store_id, typed).await? {
            return Ok(Some(user));
        }
        let domains = &self.signin_config().user_domains;
        let bare = match (typed.split_once('\\'), typed.rsplit_once('@')) {
            (Some((domain, name)), _)
                if domains.iter().any(|d| d.eq_ignore_ascii_case(domain) || short(d).eq_ignore_ascii_case(domain)) =>
            {
                Some(name)
            }
            (_, Some((name, domain))) if domains.iter().any(|d| d.eq_ignore_ascii_case(domain)) => Some(name),
            _ => None,
        };
        match bare {
            Some(name) if !name.is_empty() => Ok(tx.find_user_by_name(&store_id, name).await?),
            _ => Ok(None),
        }
    }

    /// First step: user name and password.
    pub async fn sign_in(&self, client: &Client, user_name: &str, password: &str, login_to: &str) -> SignInResult<Step> {
        let user_name = user_name.trim();
        let source = self.identity_source().await?;
        if source.kind == IdentitySourceKind::ExternalIdp && source.external.is_some() {
            return Err(SignInError::UseExternalIdp);
        }
        let directory = source.ldap.filter(|_| source.kind == IdentitySourceKind::ActiveDirectory);
        let workflow = crate::ids::new_uuid();
        let attempt = Attempt { user_name, source_ip: &client.source_ip, user_agent: &client.user_agent, workflow: &workflow };
        let now = self.clock.now();
        let mut tx = self.store.begin_read().await?;
        if self.throttled(&mut tx, user_name, &client.source_ip, now).await? {
            tx.rollback().await?;
            self.write_events(vec![
                self.challenge_event(&attempt, "PASSWORD"),
                self.verification_event(&attempt, "PASSWORD", Outcome::Failure),
            ])
            .await?;
            return Err(SignInError::Locked);
        }
        let (user, record, matches) = match &directory {
            // Active Directory checks the password; the user is created or refreshed from it.
            Some(d) => {
                tx.rollback().await?;
                let user = self.directory_password(d, user_name, password).await?;
                let matches = user.is_some();
                (user, None, matches)
            }
            None => {
                let user = self.user_for_sign_in(&mut tx, user_name).await?;
                let record = match &user {
                    Some(u) => tx.get_password(&u.user_id).await?,
                    None => None,
                };
                tx.rollback().await?;
                // Hash even for unknown users, so timing does not tell them apart.
                let candidate = zeroize::Zeroizing::new(password.to_string());
                let stored = record.as_ref().map(|r| r.hash.clone());
                let matches = crate::password::off_thread(move || crate::password::verify_or_burn(&candidate, stored.as_deref())).await?;
                (user, record, matches)
            }
        };

        let user = match user {
            Some(u) if matches && u.active => u,
            _ => {
                let failures = self
                    .record_failure(
                        user_name,
                        &client.source_ip,
                        vec![self.challenge_event(&attempt, "PASSWORD"), self.verification_event(&attempt, "PASSWORD", Outcome::Failure)],
                    )
                    .await?;
                self.failure_delay(failures).await;
                return Err(SignInError::Incorrect);
            }
        };
        let must_change = record.is_some_and(|r| r.must_change);
        let mut events = vec![self.challenge_event(&attempt, "PASSWORD"), self.verification_event(&attempt, "PASSWORD", Outcome::Success)];
        let session = self.password_verified(&user, client, &workflow);
        let mut tx = self.store.begin().await?;
        let session =
            if must_change { session } else { self.after_password(&mut tx, session, &user, client, login_to, &mut events).await? };
        let step = self.save_step(tx, session, events, true).await?;
        self.clear_failures(user_name).await?;
        self.send_email_code(step).await
    }

    /// A new sign-in whose password is verified, at its first stage (a forced change, until
    /// `after_password` moves it on).
    fn password_verified(&self, user: &User, client: &Client, workflow: &str) -> PortalSession {
        let now = self.clock.now();
        PortalSession {
            session_id: crate::ids::new_uuid(),
            token_hash: String::new(),
            user_id: user.user_id.clone(),
            stage: Stage::PasswordChange,
            auth_workflow_id: workflow.to_string(),
            verified: vec!["PASSWORD".to_string()],
            enrolled_device: false,
            source_ip: client.source_ip.clone(),
            user_agent: client.user_agent.clone(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + Duration::minutes(STEP_MINUTES),
            pending: None,
        }
    }

    /// After the password (and any forced change): MFA, its registration, or signed in.
    async fn after_password(
        &self,
        tx: &mut Box<dyn Tx>,
        mut session: PortalSession,
        user: &User,
        client: &Client,
        login_to: &str,
        events: &mut Vec<crate::model::AuditRecord>,
    ) -> SignInResult<PortalSession> {
        let settings = self.mfa_settings().await?;
        let devices: Vec<MfaDevice> = tx.list_mfa_devices(&user.user_id).await?.into_iter().filter(|d| settings.allows(d.kind)).collect();
        let prompt = match settings.mode {
            MfaMode::Never => false,
            MfaMode::AlwaysOn => true,
            MfaMode::ContextAware => !self.trusted(tx, user, client).await?,
        };
        let attempt = Attempt {
            user_name: &user.profile.user_name,
            source_ip: &client.source_ip,
            user_agent: &client.user_agent,
            workflow: &session.auth_workflow_id,
        };
        session.stage = if !prompt {
            Stage::SignedIn
        } else if let Some(kind) = preferred(&devices) {
            events.push(self.challenge_event(&attempt, kind.as_str()));
            Stage::Mfa
        } else {
            match settings.no_device {
                NoDevice::Allow => Stage::SignedIn,
                NoDevice::RequireRegistration => Stage::MfaEnroll,
                NoDevice::Block => return Err(SignInError::NoDeviceBlocked),
                NoDevice::EmailCode => {
                    if self.mailer.is_none() || user.profile.primary_email().is_none() {
                        return Err(SignInError::NoDeviceBlocked);
                    }
                    events.push(self.challenge_event(&attempt, EMAIL_OTP));
                    // The code itself is made and sent once the step is stored (send_email_code).
                    session.pending = Some(Pending::EmailCodeDue.encode());
                    Stage::Mfa
                }
            }
        };
        if session.stage == Stage::SignedIn {
            self.complete(&mut session, &user.profile.user_name, client, login_to, events);
        }
        Ok(session)
    }

    /// Mark the session signed in for the full session length, with its UserAuthentication event.
    fn complete(
        &self,
        session: &mut PortalSession,
        user_name: &str,
        client: &Client,
        login_to: &str,
        events: &mut Vec<crate::model::AuditRecord>,
    ) {
        let now = self.clock.now();
        session.stage = Stage::SignedIn;
        session.created_at = now;
        session.expires_at = now + Duration::hours(self.signin_config().session_hours);
        session.pending = None;
        let attempt =
            Attempt { user_name, source_ip: &client.source_ip, user_agent: &client.user_agent, workflow: &session.auth_workflow_id };
        events.push(self.authentication_event(&attempt, &session.verified, session.enrolled_device, login_to));
        events.push(self.portal_authenticate_event(&attempt));
    }

    /// Store the session under a new token with the step's events, in one transaction.
    async fn save_step(
        &self,
        mut tx: Box<dyn Tx>,
        mut session: PortalSession,
        events: Vec<crate::model::AuditRecord>,
        new: bool,
    ) -> SignInResult<Step> {
        let token = new_secret();
        session.token_hash = token_hash(&token);
        if new {
            tx.insert_session(&session).await?;
        } else {
            tx.update_session(&session).await?;
        }
        for e in &events {
            tx.insert_audit(e).await?;
        }
        tx.commit().await?;
        self.clear_read_caches();
        Ok(Step { token, stage: session.stage, session, trusted_device_token: None })
    }

    /// The session a step's token names, if it is at `stage` and not expired.
    async fn step_session(&self, tx: &mut Box<dyn Tx>, token: &str, stage: Stage) -> SignInResult<(PortalSession, User)> {
        let session = tx.find_session(&token_hash(token)).await?.ok_or(SignInError::Restart)?;
        if session.stage != stage || session.expires_at <= self.clock.now() {
            return Err(SignInError::Restart);
        }
        let user = tx.get_user(&self.store_id()?, &session.user_id).await?.filter(|u| u.active).ok_or(SignInError::Restart)?;
        Ok((session, user))
    }

    /// Forced change after a one-time password: the new password, then on to MFA.
    pub async fn change_password_at_sign_in(&self, client: &Client, token: &str, new_password: &str, login_to: &str) -> SignInResult<Step> {
        crate::password::check_policy("Password", new_password).map_err(SignInError::Invalid)?;
        let mut tx = self.store.begin().await?;
        let (session, user) = self.step_session(&mut tx, token, Stage::PasswordChange).await?;
        let record = tx.get_password(&user.user_id).await?.ok_or(SignInError::Restart)?;
        let record = crate::services::passwords::next_password(&user.user_id, Some(record), new_password, false, self.clock.now())
            .await
            .map_err(SignInError::from_input)?;
        tx.put_password(&record).await?;
        let mut events = Vec::new();
        let session = self.after_password(&mut tx, session, &user, client, login_to, &mut events).await?;
        let step = self.save_step(tx, session, events, false).await?;
        self.send_email_code(step).await
    }

    /// Answer the MFA challenge with an authenticator app's code (or the code sent by email).
    pub async fn verify_totp_at_sign_in(
        &self,
        client: &Client,
        token: &str,
        code: &str,
        trust_device: bool,
        login_to: &str,
    ) -> SignInResult<Step> {
        let (mut tx, session, user) = self.mfa_step(client, token).await?;
        let now = self.clock.now();
        let unix = now.timestamp().max(0) as u64;
        let settings = self.mfa_settings().await?;
        let devices = if settings.authenticator_apps { tx.list_mfa_devices(&user.user_id).await? } else { Vec::new() };
        let mut out_of_sync = None;
        let (credential, accepted) = match Pending::of(&session) {
            Some(Pending::EmailCode(hash)) => {
                let ok = crate::crypto::constant_time_eq(token_hash(code.trim()).as_bytes(), hash.as_bytes());
                (EMAIL_OTP, ok.then_some(None))
            }
            Some(Pending::TotpResync { device_id, step }) => {
                let device = devices.iter().find(|d| d.device_id == device_id);
                let resynced = match device {
                    Some(d) => totp::resync(&self.key, d, step, code, unix)?,
                    None => None,
                };
                (RESYNC_TOTP, resynced.map(Some))
            }
            _ => match self.match_totp(&devices, code)? {
                Some(device) => ("TOTP", Some(Some(device))),
                None => {
                    out_of_sync = totp::out_of_sync(&self.key, &devices, code, unix)?;
                    ("TOTP", None)
                }
            },
        };
        if let Some(Some(mut device)) = accepted.clone() {
            device.last_used_at = Some(now);
            tx.update_mfa_device(&device).await?;
        }
        let answer = MfaAnswer { credential, ok: accepted.is_some(), trust_device };
        let result = self.finish_mfa(tx, session.clone(), user, client, answer, login_to).await;
        match (result, out_of_sync) {
            // A genuine code from an app whose clock is off: its next code resyncs it.
            (Err(SignInError::WrongCode), Some((device, step))) => {
                self.set_pending(session, Some(Pending::TotpResync { device_id: device.device_id, step })).await?;
                Err(SignInError::OutOfSync)
            }
            (result, _) => result,
        }
    }

    /// An MFA challenge being answered: its transaction, session and user, unless the user or
    /// address is locked out.
    async fn mfa_step(&self, client: &Client, token: &str) -> SignInResult<(Box<dyn Tx>, PortalSession, User)> {
        let mut tx = self.store.begin().await?;
        let (session, user) = self.step_session(&mut tx, token, Stage::Mfa).await?;
        if self.throttled(&mut tx, &user.profile.user_name, &client.source_ip, self.clock.now()).await? {
            return Err(SignInError::Locked);
        }
        Ok((tx, session, user))
    }

    /// The end of an MFA challenge, whatever answered it: on success the user is signed in (and
    /// the browser trusted if asked); on failure the attempt counts towards the lockout.
    async fn finish_mfa(
        &self,
        mut tx: Box<dyn Tx>,
        mut session: PortalSession,
        user: User,
        client: &Client,
        answer: MfaAnswer,
        login_to: &str,
    ) -> SignInResult<Step> {
        let attempt = Attempt {
            user_name: &user.profile.user_name,
            source_ip: &client.source_ip,
            user_agent: &client.user_agent,
            workflow: &session.auth_workflow_id,
        };
        if !answer.ok {
            tx.rollback().await?;
            let failure = vec![self.verification_event(&attempt, answer.credential, Outcome::Failure)];
            let failures = self.record_failure(&user.profile.user_name, &client.source_ip, failure).await?;
            self.failure_delay(failures).await;
            return Err(if answer.credential == WEBAUTHN { SignInError::KeyRefused } else { SignInError::WrongCode });
        }
        let mut events = vec![self.verification_event(&attempt, answer.credential, Outcome::Success)];
        session.verified.push(answer.credential.to_string());
        self.complete(&mut session, &user.profile.user_name, client, login_to, &mut events);
        let trusted = if answer.trust_device { Some(self.trust_device(&mut tx, &user, client).await?) } else { None };
        let mut step = self.save_step(tx, session, events, false).await?;
        step.trusted_device_token = trusted;
        self.clear_failures(&user.profile.user_name).await?;
        Ok(step)
    }

    /// Forced registration at sign-in: a new authenticator secret, kept (encrypted) with the
    /// sign-in until the user proves their app has it.
    pub async fn start_enrollment_at_sign_in(&self, token: &str) -> SignInResult<crate::services::TotpEnrollment> {
        let mut tx = self.store.begin().await?;
        let (mut session, user) = self.step_session(&mut tx, token, Stage::MfaEnroll).await?;
        if !self.mfa_settings().await?.authenticator_apps {
            return Err(SignInError::Failed(Error::validation("DeviceType", "Authenticator apps are not allowed by the MFA settings")));
        }
        let secret = totp::new_secret();
        session.pending = Some(Pending::TotpSecret(self.key.encrypt_str(&secret)).encode());
        let enrollment = totp::enrollment(secret, &user.profile.user_name)?;
        tx.update_session(&session).await?;
        tx.commit().await?;
        self.clear_read_caches();
        Ok(enrollment)
    }

    /// Finish the forced registration with the app's current code: the device is stored and the
    /// user is signed in (UserAuthentication with DeviceEnrollmentRequired).
    pub async fn complete_enrollment_at_sign_in(
        &self,
        client: &Client,
        token: &str,
        code: &str,
        name: &str,
        login_to: &str,
    ) -> SignInResult<Step> {
        let (session, user, ctx) = self.enrolling(token, client).await?;
        let Some(Pending::TotpSecret(sealed)) = Pending::of(&session) else { return Err(SignInError::Restart) };
        let secret = self.key.decrypt_string(&sealed)?;
        let registered = self.complete_totp_registration(&ctx, &user.user_id, &secret, code, name).await;
        self.after_enrollment(registered, client, token, login_to).await
    }

    /// A forced registration in progress: its session, its user, and that user as the principal
    /// registering their own device.
    async fn enrolling(&self, token: &str, client: &Client) -> SignInResult<(PortalSession, User, crate::services::Ctx)> {
        let mut tx = self.store.begin_read().await?;
        let (session, user) = self.step_session(&mut tx, token, Stage::MfaEnroll).await?;
        tx.rollback().await?;
        let ctx = crate::services::Ctx::new(session_principal(self, &user)?, client.source_ip.clone(), client.user_agent.clone());
        Ok((session, user, ctx))
    }

    /// A forced registration's outcome: with the device stored the user is signed in
    /// (UserAuthentication with DeviceEnrollmentRequired); a refusal the user can correct keeps
    /// them on the registration page.
    async fn after_enrollment(&self, registered: Result<MfaDevice>, client: &Client, token: &str, login_to: &str) -> SignInResult<Step> {
        match registered {
            Ok(_) => {}
            Err(Error::Validation { field, .. }) if field == "Code" => return Err(SignInError::WrongCode),
            Err(e @ (Error::Validation { .. } | Error::Conflict { .. } | Error::QuotaExceeded { .. })) => {
                return Err(SignInError::Invalid(e));
            }
            Err(e) => return Err(e.into()),
        }
        let mut tx = self.store.begin().await?;
        let (mut session, user) = self.step_session(&mut tx, token, Stage::MfaEnroll).await?;
        session.enrolled_device = true;
        let mut events = Vec::new();
        self.complete(&mut session, &user.profile.user_name, client, login_to, &mut events);
        self.save_step(tx, session, events, false).await
    }

    /// A signed-in user starts registering an authenticator app: the secret is kept (encrypted)
    /// with their session until the app's first code proves it.
    pub async fn start_device_registration(&self, ctx: &crate::services::Ctx, token: &str) -> Result<crate::services::TotpEnrollment> {
        let info = self.portal_session(token).await?.ok_or_else(|| Error::AccessDenied { message: "Sign in again".into() })?;
        let enrollment = self.start_totp_registration(ctx, &info.user.user_id).await?;
        let mut session = info.session;
        session.pending = Some(Pending::TotpSecret(self.key.encrypt_str(&enrollment.secret)).encode());
        let mut tx = self.store.begin().await?;
        tx.update_session(&session).await?;
        tx.commit().await?;
        self.clear_read_caches();
        Ok(enrollment)
    }

    /// The registration started by [`Services::start_device_registration`], with the app's code.
    pub async fn complete_device_registration(&self, ctx: &crate::services::Ctx, token: &str, code: &str, name: &str) -> Result<MfaDevice> {
        let info = self.portal_session(token).await?.ok_or_else(|| Error::AccessDenied { message: "Sign in again".into() })?;
        let Some(Pending::TotpSecret(sealed)) = Pending::of(&info.session) else {
            return Err(Error::validation("Code", "Start the registration again"));
        };
        let secret = self.key.decrypt_string(&sealed)?;
        let device = self.complete_totp_registration(ctx, &info.user.user_id, &secret, code, name).await?;
        let mut session = info.session;
        session.pending = None;
        let mut tx = self.store.begin().await?;
        tx.update_session(&session).await?;
        tx.commit().await?;
        self.clear_read_caches();
        Ok(device)
    }

    /// The pending registration's secret again (the page is shown anew after a wrong code).
    pub async fn pending_registration(&self, token: &str) -> Result<Option<crate::services::TotpEnrollment>> {
        let Some(session) = self.step_of(token).await? else { return Ok(None) };
        let Some(Pending::TotpSecret(sealed)) = Pending::of(&session) else { return Ok(None) };
        let secret = self.key.decrypt_string(&sealed)?.to_string();
        let mut tx = self.store.begin_read().await?;
        let user = tx.get_user(&self.store_id()?, &session.user_id).await?;
        tx.rollback().await?;
        let Some(user) = user else { return Ok(None) };
        Ok(Some(totp::enrollment(secret, &user.profile.user_name)?))
    }

    /// A step that asks for an emailed code: make the code, keep its hash, send it.
    pub(crate) async fn send_email_code(&self, mut step: Step) -> SignInResult<Step> {
        if step.stage != Stage::Mfa || Pending::of(&step.session) != Some(Pending::EmailCodeDue) {
            return Ok(step);
        }
        use rand::Rng;
        let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32));
        step.session.pending = Some(Pending::EmailCode(token_hash(&code)).encode());
        let mut tx = self.store.begin().await?;
        tx.update_session(&step.session).await?;
        let user = tx.get_user(&self.store_id()?, &step.session.user_id).await?.ok_or(SignInError::Restart)?;
        tx.commit().await?;
        self.clear_read_caches();
        let to = user.profile.primary_email().ok_or(SignInError::NoDeviceBlocked)?;
        let body = format!(
            "Your Gatehouse sign-in code is {code}.\n\nIt works once, for {STEP_MINUTES} minutes. If you did not try to sign in, change your password.\n"
        );
        self.mailer.as_ref().ok_or(SignInError::NoDeviceBlocked)?.send(to, "Your Gatehouse sign-in code", body).await?;
        Ok(step)
    }

    /// Is this sign-in step waiting for a code sent by email (rather than an app's)?
    pub fn expects_email_code(session: &PortalSession) -> bool {
        matches!(Pending::of(session), Some(Pending::EmailCode(_)))
    }

    /// Remember this browser: MFA is skipped here (context-aware mode) while it and its address
    /// stay the same.
    async fn trust_device(&self, tx: &mut Box<dyn Tx>, user: &User, client: &Client) -> SignInResult<String> {
        let token = new_secret();
        let now = self.clock.now();
        tx.insert_trusted_device(&TrustedDevice {
            token_hash: token_hash(&token),
            user_id: user.user_id.clone(),
            browser: browser_of(&client.user_agent),
            source_ip: client.source_ip.clone(),
            created_at: now,
            expires_at: now + Duration::days(self.signin_config().trusted_device_days),
        })
        .await?;
        Ok(token)
    }

    async fn trusted(&self, tx: &mut Box<dyn Tx>, user: &User, client: &Client) -> Result<bool> {
        let Some(token) = &client.device_token else { return Ok(false) };
        let Some(device) = tx.find_trusted_device(&token_hash(token)).await? else { return Ok(false) };
        Ok(device.user_id == user.user_id
            && device.expires_at > self.clock.now()
            && device.browser == browser_of(&client.user_agent)
            && device.source_ip == client.source_ip)
    }

    async fn write_events(&self, events: Vec<crate::model::AuditRecord>) -> Result<()> {
        let mut tx = self.store.begin().await?;
        for e in &events {
            tx.insert_audit(e).await?;
        }
        tx.commit().await?;
        self.clear_read_caches();
        Ok(())
    }
}

/// The stored MFA settings, or the defaults when none were ever set.
pub(crate) fn parse_mfa_settings(stored: Option<String>) -> Result<MfaSettings> {
    match stored {
        Some(text) => serde_json::from_str(&text).map_err(|e| Error::internal(format!("stored MFA settings do not parse: {e}"))),
        None => Ok(MfaSettings::default()),
    }
}

/// The principal a user acts as during their own sign-in (registering their first device).
fn session_principal(svc: &Services, user: &User) -> Result<crate::services::Principal> {
    let account = &svc.instance()?.management_account_id;
    Ok(crate::services::Principal::portal_user(account, &user.user_id, &user.profile.user_name))
}

/// The credential type of a security key or built-in authenticator.
pub(crate) const WEBAUTHN: &str = "WEBAUTHN";
/// The credential type of an authenticator app's code that resynced it.
const RESYNC_TOTP: &str = "RESYNC_TOTP";
/// The credential type of a one-time code sent by email.
const EMAIL_OTP: &str = "EMAIL_OTP";

/// How an MFA challenge was answered.
struct MfaAnswer {
    /// The CredentialType of the audit events.
    credential: &'static str,
    ok: bool,
    /// The user ticked "This is a trusted device".
    trust_device: bool,
}

/// Sign-in steps that are not finished expire after this many minutes.
const STEP_MINUTES: i64 = 15;
pub(crate) const MFA_SETTING: &str = "mfa";

/// The device type to challenge with: security keys first (phishing-resistant), else an app.
fn preferred(devices: &[MfaDevice]) -> Option<MfaKind> {
    if devices.iter().any(|d| d.kind == MfaKind::WebAuthn) {
        Some(MfaKind::WebAuthn)
    } else if devices.iter().any(|d| d.kind == MfaKind::Totp) {
        Some(MfaKind::Totp)
    } else {
        None
    }
}

/// `example.com` → `example`, the NetBIOS-style short name users type before a backslash.
fn short(domain: &str) -> &str {
    domain.split('.').next().unwrap_or(domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_by_family_and_major_version() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/148.0.7778.167 Safari/537.36";
        assert_eq!(browser_of(chrome), "Chrome148");
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(browser_of(firefox), "Firefox128");
        assert_ne!(browser_of(chrome), browser_of(firefox));
    }

    #[test]
    fn preferred_device_kind() {
        assert_eq!(preferred(&[]), None);
    }
}
