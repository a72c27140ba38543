//! SSO OIDC (what `aws sso login` speaks): registered clients, device authorizations waiting for
//! a person's approval, and the access and refresh tokens the portal API accepts. Every secret
//! is stored as its SHA-256 hash.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcClient {
    pub client_id: String,
    pub secret_hash: String,
    pub name: String,
    pub client_type: String,
    pub scopes: Vec<String>,
    /// authorization_code clients: where the code may be sent (loopback: any port).
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    Pending,
    Approved,
    Denied,
    /// Exchanged for a token: a device code works once.
    Used,
}

impl DeviceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::Pending => "PENDING",
            DeviceStatus::Approved => "APPROVED",
            DeviceStatus::Denied => "DENIED",
            DeviceStatus::Used => "USED",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "PENDING" => Some(DeviceStatus::Pending),
            "APPROVED" => Some(DeviceStatus::Approved),
            "DENIED" => Some(DeviceStatus::Denied),
            "USED" => Some(DeviceStatus::Used),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAuthorization {
    pub device_code_hash: String,
    /// `ABCD-EFGH`, what the person types or sees on the approval page.
    pub user_code: String,
    pub client_id: String,
    pub status: DeviceStatus,
    /// Who approved or denied it.
    pub user_id: Option<String>,
    pub interval_seconds: i64,
    pub last_polled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// One grant: an access token and the refresh token that renews it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoToken {
    pub token_id: String,
    pub access_hash: String,
    pub refresh_hash: Option<String>,
    pub client_id: String,
    pub user_id: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub refresh_expires_at: DateTime<Utc>,
    pub revoked: bool,
}

/// An authorization code (the authorization-code grant with PKCE), by the hash of the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    pub code_hash: String,
    pub client_id: String,
    pub user_id: String,
    pub redirect_uri: String,
    /// base64url(SHA-256(verifier)), S256 only.
    pub code_challenge: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used: bool,
}
