//! Security keys and built-in authenticators (WebAuthn, through webauthn-rs): registration by a
//! signed-in user or forced at sign-in, and the sign-in challenge.
//!
//! The relying party id is the public URL's host and its origin the only one accepted. Each
//! ceremony's state is sealed into the session's `pending`, so a challenge answers once, for the
//! session that asked for it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{
    AuthenticatorAttachment, PublicKeyCredential, RegisterPublicKeyCredential, SecurityKey, SecurityKeyAuthentication,
    SecurityKeyRegistration, Url, Uuid, Webauthn, WebauthnBuilder,
};

use super::pending::Pending;
use super::{Client, MfaAnswer, SignInError, SignInResult, Step};
use crate::error::{Error, Result};
use crate::ids;
use crate::model::{MfaDevice, MfaKind, Stage, User};
use crate::services::op::Source;
use crate::services::{Ctx, MAX_SECURITY_KEYS, Services};

/// The WebAuthn relying party: this server, as the browser knows it.
pub struct RelyingParty(Webauthn);

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RelyingParty").field(&self.0.get_allowed_origins()).finish()
    }
}

impl RelyingParty {
    /// The relying party of `public_url`: its host is the RP id, its origin the one accepted.
    pub fn new(public_url: &str) -> Result<Self> {
        let bad =
            |why: String| Error::validation("PublicUrl", format!("public_url {public_url:?} cannot name a WebAuthn relying party: {why}"));
        let url = Url::parse(public_url).map_err(|e| bad(e.to_string()))?;
        let host = url.host_str().ok_or_else(|| bad("it has no host".into()))?.to_string();
        let origin = Url::parse(&url.origin().ascii_serialization()).map_err(|e| bad(e.to_string()))?;
        // A key is a second factor after the password, as U2F keys and Identity Center's are:
        // touching it is enough, no PIN is demanded (keys that have one may still ask).
        let webauthn = WebauthnBuilder::new(&host, &origin)
            .and_then(|b| b.rp_name("Gatehouse").danger_set_user_presence_only_security_keys(true).build())
            .map_err(|e| bad(e.to_string()))?;
        Ok(RelyingParty(webauthn))
    }
}

/// Which kind of authenticator the browser should offer first. Only a hint: the user's browser
/// may offer others, and any FIDO2 or U2F authenticator is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyAttachment {
    /// A roaming security key (USB, NFC, Bluetooth).
    #[default]
    SecurityKey,
    /// The device's own authenticator (Touch ID, Windows Hello, a phone's screen lock).
    BuiltIn,
}

impl KeyAttachment {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "security_key" => Some(KeyAttachment::SecurityKey),
            "built_in" => Some(KeyAttachment::BuiltIn),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAttachment::SecurityKey => "security_key",
            KeyAttachment::BuiltIn => "built_in",
        }
    }
    /// The guide's words, and the default name of such a device.
    pub fn label(self) -> &'static str {
        match self {
            KeyAttachment::SecurityKey => "Security key",
            KeyAttachment::BuiltIn => "Built-in authenticator",
        }
    }
    fn hint(self) -> AuthenticatorAttachment {
        match self {
            KeyAttachment::SecurityKey => AuthenticatorAttachment::CrossPlatform,
            KeyAttachment::BuiltIn => AuthenticatorAttachment::Platform,
        }
    }
}

/// A ceremony for the browser: `options` is the JSON for `navigator.credentials.create` or
/// `.get` (binary values in base64url, as WebAuthn Level 3's JSON forms have them).
#[derive(Debug, Clone)]
pub struct KeyCeremony {
    pub options: String,
}

/// What the MFA challenge page offers this sign-in.
#[derive(Debug, Clone, Default)]
pub struct MfaChallenge {
    /// A security key challenge, when the user has keys and the settings allow them.
    pub key: Option<KeyCeremony>,
    /// The user can type an authenticator app's code.
    pub app: bool,
    /// The code was sent by email (no device, "one-time password sent by email").
    pub emailed: bool,
    /// The authenticator app is being resynced: the page asks for its next code.
    pub resync: bool,
}

/// The user handle the authenticator stores: derived from the user id, so it names no one.
fn user_handle(user_id: &str) -> Uuid {
    let digest = Sha256::digest(user_id.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::internal(format!("WebAuthn state does not serialize: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| Error::internal(format!("stored WebAuthn state does not parse: {e}")))
}

/// The browser's answer, as the page posts it.
fn parse_answer<T: serde::de::DeserializeOwned>(credential: &str) -> Result<T> {
    serde_json::from_str(credential).map_err(|_| {
        Error::validation("Credential", "Your browser's answer was incomplete. Try again, and follow the browser's prompt to the end.")
    })
}

fn key_error(e: impl std::fmt::Display) -> Error {
    Error::validation("Credential", format!("The security key's answer could not be verified ({e}). Try again."))
}

impl Services {
    /// Start registering a security key or built-in authenticator for `user_id`. Returns the
    /// browser's options and the ceremony state (sealed) to keep until the answer comes.
    async fn start_key_registration(&self, ctx: &Ctx, user_id: &str, attachment: KeyAttachment) -> Result<(KeyCeremony, String)> {
        let params = json!({"UserId": user_id, "AuthenticatorAttachment": attachment.as_str()});
        let mut op = self.begin(ctx, Source::SsoDirectory, "StartWebAuthnDeviceRegistration", true, params).await?;
        let result = async {
            op.authorize(&ids::user_arn(user_id))?;
            self.check_self_service(ctx).await?;
            let user = crate::services::users::load_user(&mut op, &self.store_id()?, user_id).await?;
            if !self.mfa_settings().await?.security_keys {
                return Err(Error::validation(
                    "DeviceType",
                    "Security keys and built-in authenticators are not allowed by the MFA settings",
                ));
            }
            let keys: Vec<MfaDevice> = op.tx.list_mfa_devices(user_id).await?.into_iter().filter(|d| d.kind == MfaKind::WebAuthn).collect();
            if keys.len() >= MAX_SECURITY_KEYS {
                return Err(Error::QuotaExceeded {
                    message: format!("A user can register at most {MAX_SECURITY_KEYS} security keys and built-in authenticators"),
                });
            }
            // The browser refuses to register a key this user already has.
            let exclude = keys.iter().filter_map(|d| d.credential_id.as_deref()).filter_map(|id| URL_SAFE_NO_PAD.decode(id).ok()).collect();
            let name = &user.profile.user_name;
            let display = user.profile.display_name.as_deref().unwrap_or(name);
            let (options, state) = self
                .relying_party
                .0
                .start_securitykey_registration(user_handle(user_id), name, display, Some(exclude), None, Some(attachment.hint()))
                .map_err(|e| Error::internal(format!("WebAuthn registration could not start: {e}")))?;
            Ok((KeyCeremony { options: to_json(&options)? }, self.key.encrypt_str(&to_json(&state)?)))
        }
        .await;
        op.finish(result).await
    }

    /// Finish a registration with the browser's answer: the key is stored under `name`.
    async fn complete_key_registration(&self, ctx: &Ctx, user_id: &str, sealed: &str, credential: &str, name: &str) -> Result<MfaDevice> {
        let name = crate::services::mfa::device_name(name, MfaKind::WebAuthn)?;
        let params = json!({"UserId": user_id, "DeviceName": name});
        let mut op = self.begin(ctx, Source::SsoDirectory, "CompleteWebAuthnDeviceRegistration", false, params).await?;
        let result = async {
            op.authorize(&ids::user_arn(user_id))?;
            self.check_self_service(ctx).await?;
            let state: SecurityKeyRegistration = from_json(&self.key.decrypt_string(sealed)?)?;
            let answer: RegisterPublicKeyCredential = parse_answer(credential)?;
            let key = self.relying_party.0.finish_securitykey_registration(&answer, &state).map_err(key_error)?;
            let device = MfaDevice {
                device_id: ids::new_uuid(),
                user_id: user_id.to_string(),
                kind: MfaKind::WebAuthn,
                name,
                secret: self.key.encrypt_str(&to_json(&key)?),
                credential_id: Some(URL_SAFE_NO_PAD.encode(key.cred_id())),
                last_step: None,
                drift_steps: 0,
                created_at: self.clock.now(),
                last_used_at: None,
            };
            self.add_device(&mut op, &device).await?;
            Ok(device)
        }
        .await;
        op.finish(result).await
    }

    /// A signed-in user starts registering a key from the MFA devices page.
    pub async fn start_key_registration_in_session(&self, ctx: &Ctx, token: &str, attachment: KeyAttachment) -> Result<KeyCeremony> {
        let info = self.portal_session(token).await?.ok_or_else(|| Error::AccessDenied { message: "Sign in again".into() })?;
        let (ceremony, sealed) = self.start_key_registration(ctx, &info.user.user_id, attachment).await?;
        self.set_pending(info.session, Some(Pending::KeyRegistration(sealed))).await?;
        Ok(ceremony)
    }

    /// The registration started by [`Services::start_key_registration_in_session`], answered.
    pub async fn complete_key_registration_in_session(&self, ctx: &Ctx, token: &str, credential: &str, name: &str) -> Result<MfaDevice> {
        let info = self.portal_session(token).await?.ok_or_else(|| Error::AccessDenied { message: "Sign in again".into() })?;
        let Some(Pending::KeyRegistration(sealed)) = Pending::of(&info.session) else {
            return Err(Error::validation("Credential", "Start the registration again"));
        };
        // The state is spent whatever the outcome: a challenge answers once.
        self.set_pending(info.session.clone(), None).await?;
        self.complete_key_registration(ctx, &info.user.user_id, &sealed, credential, name).await
    }

    /// An administrator registers a key for `user_id` from the console, with the user's key at
    /// hand (the guide's "Register MFA device"); the ceremony is held by the administrator's own
    /// portal session.
    pub async fn start_key_registration_for_user(
        &self,
        ctx: &Ctx,
        admin_token: &str,
        user_id: &str,
        attachment: KeyAttachment,
    ) -> Result<KeyCeremony> {
        let info = self.portal_session(admin_token).await?.ok_or_else(|| Error::AccessDenied { message: "Sign in again".into() })?;
        let (ceremony, sealed) = self.start_key_registration(ctx, user_id, attachment).await?;
        self.set_pending(info.session, Some(Pending::KeyRegistrationFor { user_id: user_id.to_string(), sealed })).await?;
        Ok(ceremony)
    }

    /// The registration started by [`Services::start_key_registration_for_user`], answered.
    pub async fn complete_key_registration_for_user(
        &self,
        ctx: &Ctx,
        admin_token: &str,
        user_id: &str,
        credential: &str,
        name: &str,
    ) -> Result<MfaDevice> {
        let info = self.portal_session(admin_token).await?.ok_or_else(|| Error::AccessDenied { message: "Sign in again".into() })?;
        let Some(Pending::KeyRegistrationFor { user_id: pending_for, sealed }) = Pending::of(&info.session) else {
            return Err(Error::validation("Credential", "Start the registration again"));
        };
        if pending_for != user_id {
            return Err(Error::validation("Credential", "This registration was started for another user: start it again"));
        }
        self.set_pending(info.session.clone(), None).await?;
        self.complete_key_registration(ctx, user_id, &sealed, credential, name).await
    }

    /// Forced registration at sign-in, with a security key or built-in authenticator.
    pub async fn start_key_enrollment_at_sign_in(
        &self,
        client: &Client,
        token: &str,
        attachment: KeyAttachment,
    ) -> SignInResult<KeyCeremony> {
        let (session, user, ctx) = self.enrolling(token, client).await?;
        let (ceremony, sealed) = self.start_key_registration(&ctx, &user.user_id, attachment).await.map_err(SignInError::from_input)?;
        self.set_pending(session, Some(Pending::KeyRegistration(sealed))).await?;
        Ok(ceremony)
    }

    /// Finish the forced registration: the key is stored and the user signed in.
    pub async fn complete_key_enrollment_at_sign_in(
        &self,
        client: &Client,
        token: &str,
        credential: &str,
        name: &str,
        login_to: &str,
    ) -> SignInResult<Step> {
        let (session, user, ctx) = self.enrolling(token, client).await?;
        let Some(Pending::KeyRegistration(sealed)) = Pending::of(&session) else { return Err(SignInError::Restart) };
        self.set_pending(session, None).await?;
        let registered = self.complete_key_registration(&ctx, &user.user_id, &sealed, credential, name).await;
        self.after_enrollment(registered, client, token, login_to).await
    }

    /// What the MFA page offers this sign-in. With security keys registered (and allowed), a new
    /// challenge for them replaces any earlier one.
    pub async fn mfa_challenge(&self, token: &str) -> SignInResult<MfaChallenge> {
        let mut tx = self.store.begin_read().await?;
        let (session, user) = self.step_session(&mut tx, token, Stage::Mfa).await?;
        let devices = tx.list_mfa_devices(&user.user_id).await?;
        tx.rollback().await?;
        if matches!(Pending::of(&session), Some(Pending::EmailCode(_) | Pending::EmailCodeDue)) {
            return Ok(MfaChallenge { emailed: true, ..Default::default() });
        }
        if matches!(Pending::of(&session), Some(Pending::TotpResync { .. })) {
            return Ok(MfaChallenge { app: true, resync: true, ..Default::default() });
        }
        let settings = self.mfa_settings().await?;
        let app = settings.authenticator_apps && devices.iter().any(|d| d.kind == MfaKind::Totp);
        let keys = if settings.security_keys { self.security_keys(&devices)? } else { Vec::new() };
        if keys.is_empty() {
            return Ok(MfaChallenge { app: true, ..Default::default() });
        }
        let (options, state) = self
            .relying_party
            .0
            .start_securitykey_authentication(&keys)
            .map_err(|e| Error::internal(format!("WebAuthn challenge could not start: {e}")))?;
        let sealed = self.key.encrypt_str(&to_json(&state)?);
        self.set_pending(session, Some(Pending::KeyChallenge(sealed))).await?;
        Ok(MfaChallenge { key: Some(KeyCeremony { options: to_json(&options)? }), app, ..Default::default() })
    }

    /// Answer the MFA challenge with a security key or built-in authenticator.
    pub async fn verify_key_at_sign_in(
        &self,
        client: &Client,
        token: &str,
        credential: &str,
        trust_device: bool,
        login_to: &str,
    ) -> SignInResult<Step> {
        let (mut tx, session, user) = self.mfa_step(client, token).await?;
        // The challenge is cleared when the sign-in completes, so an answer is never replayed.
        let Some(Pending::KeyChallenge(sealed)) = Pending::of(&session) else { return Err(SignInError::Restart) };
        let ok = match self.check_key_answer(&mut tx, &user, &sealed, credential).await {
            Ok(()) => true,
            Err(e @ Error::Validation { .. }) => {
                tracing::info!(user = %user.user_id, error = %e, "security key answer refused");
                false
            }
            Err(e) => return Err(e.into()),
        };
        let answer = MfaAnswer { credential: super::WEBAUTHN, ok, trust_device };
        self.finish_mfa(tx, session, user, client, answer, login_to).await
    }

    /// Verify an assertion against the sealed challenge and the user's keys; the key's signature
    /// counter and last use are stored.
    async fn check_key_answer(&self, tx: &mut Box<dyn crate::store::Tx>, user: &User, sealed: &str, credential: &str) -> Result<()> {
        let state: SecurityKeyAuthentication = from_json(&self.key.decrypt_string(sealed)?)?;
        let answer: PublicKeyCredential = parse_answer(credential)?;
        let result = self.relying_party.0.finish_securitykey_authentication(&answer, &state).map_err(key_error)?;
        let credential_id = URL_SAFE_NO_PAD.encode(result.cred_id());
        let mut devices = tx.list_mfa_devices(&user.user_id).await?;
        let device = devices
            .iter_mut()
            .find(|d| d.kind == MfaKind::WebAuthn && d.credential_id.as_deref() == Some(credential_id.as_str()))
            .ok_or_else(|| key_error("this key is not registered to you"))?;
        let mut key: SecurityKey = from_json(&self.key.decrypt_string(&device.secret)?)?;
        if key.update_credential(&result) == Some(true) {
            device.secret = self.key.encrypt_str(&to_json(&key)?);
        }
        device.last_used_at = Some(self.clock.now());
        tx.update_mfa_device(device).await?;
        Ok(())
    }

    /// The user's registered keys, unsealed.
    fn security_keys(&self, devices: &[MfaDevice]) -> Result<Vec<SecurityKey>> {
        devices.iter().filter(|d| d.kind == MfaKind::WebAuthn).map(|d| from_json(&self.key.decrypt_string(&d.secret)?)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relying_party_is_the_public_host() {
        let rp = RelyingParty::new("http://localhost:8080").expect("localhost");
        assert_eq!(rp.0.get_allowed_origins(), &[Url::parse("http://localhost:8080").unwrap()]);
        assert!(RelyingParty::new("https://sso.example.com/base/").is_ok());
        assert!(RelyingParty::new("not a url").is_err());
    }

    #[test]
    fn user_handles_are_stable_and_opaque() {
        assert_eq!(user_handle("u-1"), user_handle("u-1"));
        assert_ne!(user_handle("u-1"), user_handle("u-2"));
        assert!(!user_handle("u-1").to_string().contains("u-1"));
    }
}
