//! Portal sign-in: sessions, MFA devices and settings, trusted devices, emailed links and codes,
//! and the brute-force throttle.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a portal session is in the sign-in sequence. Only `SignedIn` grants access; the other
/// stages allow exactly their next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The password was right but is a one-time password: choose a new one.
    PasswordChange,
    /// Solve an MFA challenge.
    Mfa,
    /// Register an MFA device before going on (no device, "require registration").
    MfaEnroll,
    SignedIn,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::PasswordChange => "password_change",
            Stage::Mfa => "mfa",
            Stage::MfaEnroll => "mfa_enroll",
            Stage::SignedIn => "signed_in",
        }
    }
    pub fn parse(s: &str) -> Option<Stage> {
        Some(match s {
            "password_change" => Stage::PasswordChange,
            "mfa" => Stage::Mfa,
            "mfa_enroll" => Stage::MfaEnroll,
            "signed_in" => Stage::SignedIn,
            _ => return None,
        })
    }
}

/// A server-side portal session. The browser holds a random token; the store holds its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalSession {
    /// Public id, for listing and revoking (never the cookie value).
    pub session_id: String,
    #[serde(skip)]
    pub token_hash: String,
    pub user_id: String,
    pub stage: Stage,
    /// Correlates the sign-in's audit events (AuthWorkflowID).
    pub auth_workflow_id: String,
    /// Credential types verified so far, in order (PASSWORD, TOTP, WEBAUTHN, EMAIL_OTP...).
    pub verified: Vec<String>,
    /// The user had to register an MFA device during this sign-in.
    pub enrolled_device: bool,
    pub source_ip: String,
    pub user_agent: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Scratch state of a step in progress: a TOTP secret being registered (encrypted), a WebAuthn
    /// challenge, an emailed code's hash. Never sent to the browser as is.
    #[serde(skip)]
    pub pending: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MfaKind {
    /// An authenticator app (TOTP, RFC 6238).
    #[serde(rename = "TOTP")]
    Totp,
    /// A security key or built-in authenticator (WebAuthn).
    #[serde(rename = "WEBAUTHN")]
    WebAuthn,
}

impl MfaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MfaKind::Totp => "TOTP",
            MfaKind::WebAuthn => "WEBAUTHN",
        }
    }
    pub fn parse(s: &str) -> Option<MfaKind> {
        match s {
            "TOTP" => Some(MfaKind::Totp),
            "WEBAUTHN" => Some(MfaKind::WebAuthn),
            _ => None,
        }
    }
    /// The guide's words for it.
    pub fn label(self) -> &'static str {
        match self {
            MfaKind::Totp => "Authenticator app",
            MfaKind::WebAuthn => "Security key or built-in authenticator",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaDevice {
    pub device_id: String,
    pub user_id: String,
    pub kind: MfaKind,
    pub name: String,
    /// TOTP: the base32 secret; WebAuthn: the credential as webauthn-rs serializes it. Encrypted
    /// with the master key.
    #[serde(skip)]
    pub secret: String,
    /// WebAuthn credential id (base64url), to find the device an assertion names.
    pub credential_id: Option<String>,
    /// TOTP: the last time step accepted, so a code works once.
    #[serde(skip)]
    pub last_step: Option<i64>,
    /// TOTP: how many steps the app's clock is ahead (or, negative, behind), learned by a
    /// resync; codes are expected around the server's step plus this.
    #[serde(skip)]
    pub drift_steps: i64,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// "Prompt users for MFA" in the guide's console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MfaMode {
    /// Only when the sign-in context changes (new browser, new IP address).
    #[default]
    ContextAware,
    /// Every sign-in.
    AlwaysOn,
    /// MFA is disabled.
    Never,
}

impl MfaMode {
    /// The name in the API (`Gatehouse.PutMfaDeviceManagementForDirectory`).
    pub fn as_str(self) -> &'static str {
        match self {
            MfaMode::ContextAware => "CONTEXT_AWARE",
            MfaMode::AlwaysOn => "ALWAYS_ON",
            MfaMode::Never => "NEVER",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [MfaMode::ContextAware, MfaMode::AlwaysOn, MfaMode::Never].into_iter().find(|m| m.as_str() == s)
    }
}

/// "If a user does not yet have a registered MFA device".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NoDevice {
    /// "Require them to register an MFA device at sign in".
    RequireRegistration,
    /// "Require them to provide a one-time password sent by email to sign in".
    EmailCode,
    /// "Block their sign-in".
    Block,
    /// "Allow them to sign in" (the default).
    #[default]
    Allow,
}

impl NoDevice {
    /// The name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            NoDevice::RequireRegistration => "REQUIRE_REGISTRATION",
            NoDevice::EmailCode => "EMAIL_CODE",
            NoDevice::Block => "BLOCK",
            NoDevice::Allow => "ALLOW",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [NoDevice::RequireRegistration, NoDevice::EmailCode, NoDevice::Block, NoDevice::Allow].into_iter().find(|m| m.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MfaSettings {
    pub mode: MfaMode,
    /// "Users can authenticate with these MFA types".
    pub authenticator_apps: bool,
    pub security_keys: bool,
    pub no_device: NoDevice,
    /// "Who can manage MFA devices": users (and administrators), or administrators only.
    pub users_manage_devices: bool,
}

impl Default for MfaSettings {
    fn default() -> Self {
        MfaSettings {
            mode: MfaMode::ContextAware,
            authenticator_apps: true,
            security_keys: true,
            no_device: NoDevice::Allow,
            users_manage_devices: true,
        }
    }
}

impl MfaSettings {
    pub fn allows(&self, kind: MfaKind) -> bool {
        match kind {
            MfaKind::Totp => self.authenticator_apps,
            MfaKind::WebAuthn => self.security_keys,
        }
    }
}

/// A change to some of the MFA settings; the members left out keep their value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MfaSettingsChange {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<MfaMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authenticator_apps: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_keys: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_device: Option<NoDevice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users_manage_devices: Option<bool>,
}

impl MfaSettingsChange {
    pub fn apply(&self, s: &mut MfaSettings) {
        s.mode = self.mode.unwrap_or(s.mode);
        s.authenticator_apps = self.authenticator_apps.unwrap_or(s.authenticator_apps);
        s.security_keys = self.security_keys.unwrap_or(s.security_keys);
        s.no_device = self.no_device.unwrap_or(s.no_device);
        s.users_manage_devices = self.users_manage_devices.unwrap_or(s.users_manage_devices);
    }
}

impl From<&MfaSettings> for MfaSettingsChange {
    /// Every member: the whole settings replaced.
    fn from(s: &MfaSettings) -> Self {
        MfaSettingsChange {
            mode: Some(s.mode),
            authenticator_apps: Some(s.authenticator_apps),
            security_keys: Some(s.security_keys),
            no_device: Some(s.no_device),
            users_manage_devices: Some(s.users_manage_devices),
        }
    }
}

/// A browser the user marked "This is a trusted device": MFA is skipped there while the browser
/// and its IP address stay the same (context-aware mode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedDevice {
    pub token_hash: String,
    pub user_id: String,
    pub browser: String,
    pub source_ip: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailPurpose {
    Invitation,
    PasswordReset,
    SignInCode,
}

impl EmailPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            EmailPurpose::Invitation => "invitation",
            EmailPurpose::PasswordReset => "password_reset",
            EmailPurpose::SignInCode => "sign_in_code",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "invitation" => Some(EmailPurpose::Invitation),
            "password_reset" => Some(EmailPurpose::PasswordReset),
            "sign_in_code" => Some(EmailPurpose::SignInCode),
            _ => None,
        }
    }
}

/// A link or code sent by email; stored as the hash of its secret, usable once before expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailToken {
    pub token_hash: String,
    pub user_id: String,
    pub purpose: EmailPurpose,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// Failed sign-ins counted per user and per source address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttle {
    pub key: String,
    pub failures: i64,
    pub last_failure_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
}
