//! Applications that sign in through Gatehouse as their SAML identity provider: the sso-admin
//! shape (name, provider, status, portal options), the SAML configuration the model lacks, signing
//! certificates and assignments.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One application. `saml` is stored as JSON beside the searchable columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// `apl-` and 16 characters: the last part of the ARN and of the `/saml/<id>/…` URLs.
    pub application_id: String,
    /// The catalog template it was created from (`custom-saml`, `amplitude`, …).
    pub provider: String,
    pub name: String,
    pub description: Option<String>,
    pub enabled: bool,
    /// Shown as a tile in the portal (PortalOptions.Visibility).
    pub visible: bool,
    /// Where sign-in starts (PortalOptions.SignInOptions): IDENTITY_CENTER (IdP-initiated) or
    /// APPLICATION (the tile opens `application_url`, the start URL).
    pub sign_in_origin: SignInOrigin,
    pub application_url: Option<String>,
    pub saml: SamlConfig,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SignInOrigin {
    IdentityCenter,
    Application,
}

impl SignInOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            SignInOrigin::IdentityCenter => "IDENTITY_CENTER",
            SignInOrigin::Application => "APPLICATION",
        }
    }
}

/// Which parts of a Response carry a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SignedParts {
    #[default]
    Assertion,
    Response,
    Both,
}

impl SignedParts {
    pub fn as_str(self) -> &'static str {
        match self {
            SignedParts::Assertion => "ASSERTION",
            SignedParts::Response => "RESPONSE",
            SignedParts::Both => "BOTH",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "ASSERTION" => SignedParts::Assertion,
            "RESPONSE" => SignedParts::Response,
            "BOTH" => SignedParts::Both,
            _ => return None,
        })
    }
}

/// One attribute mapping row (`Subject` sets the NameID).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeMapping {
    pub attribute: String,
    pub source: String,
    /// unspecified, uri, basic, emailAddress, persistent or transient.
    pub format: String,
}

/// The application's SAML settings: its metadata, properties and attribute mappings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SamlConfig {
    /// Where Responses go; empty until the administrator sets it.
    #[serde(default)]
    pub acs_url: String,
    /// The SP's entity ID, sent as the AudienceRestriction.
    #[serde(default)]
    pub audience: String,
    /// SP signing certificates (PEM), to check signed AuthnRequests.
    #[serde(default)]
    pub sp_certificates: Vec<String>,
    #[serde(default)]
    pub require_signed_requests: bool,
    /// Sent as RelayState with IdP-initiated sign-ins (the guide's "Relay state").
    #[serde(default)]
    pub relay_state: Option<String>,
    /// Assertion lifetime in minutes (the guide's "Session duration"), 60 to 720.
    #[serde(default = "default_session_minutes")]
    pub session_minutes: u32,
    #[serde(default)]
    pub signed_parts: SignedParts,
    #[serde(default)]
    pub mappings: Vec<AttributeMapping>,
}

fn default_session_minutes() -> u32 {
    60
}

/// A signing certificate of an application. The private key is sealed with the master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppCertificate {
    pub certificate_id: String,
    pub application_id: String,
    pub certificate_pem: String,
    pub sealed_key: String,
    /// 1024 or 2048.
    pub key_size: u32,
    /// "SHA1" or "SHA256".
    pub algorithm: String,
    pub active: bool,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrincipalType {
    User,
    Group,
}

impl PrincipalType {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::User => "USER",
            PrincipalType::Group => "GROUP",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "USER" => Some(PrincipalType::User),
            "GROUP" => Some(PrincipalType::Group),
            _ => None,
        }
    }
}

/// A user or a group (directly) assigned to an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppAssignment {
    pub application_id: String,
    pub principal_type: PrincipalType,
    pub principal_id: String,
    pub created_at: DateTime<Utc>,
}
