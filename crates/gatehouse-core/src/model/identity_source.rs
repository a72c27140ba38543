//! Where users come from and how they prove who they are: the Gatehouse directory (the default),
//! an external SAML 2.0 identity provider, or Active Directory over LDAP.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IdentitySourceKind {
    /// Users and groups kept by Gatehouse, signing in with Gatehouse passwords and MFA.
    #[default]
    Directory,
    /// Users sign in at an external SAML 2.0 identity provider; users and groups come by SCIM or
    /// by hand, matched by username.
    ExternalIdp,
    /// Users and groups synchronized from Active Directory / LDAP, signing in by LDAP bind.
    ActiveDirectory,
}

impl IdentitySourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentitySourceKind::Directory => "DIRECTORY",
            IdentitySourceKind::ExternalIdp => "EXTERNAL_IDP",
            IdentitySourceKind::ActiveDirectory => "ACTIVE_DIRECTORY",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [IdentitySourceKind::Directory, IdentitySourceKind::ExternalIdp, IdentitySourceKind::ActiveDirectory]
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
    }
}

/// The identity source and each source's settings (kept when switching away, so switching back
/// finds them again).
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct IdentitySource {
    pub kind: IdentitySourceKind,
    #[serde(default)]
    pub external: Option<ExternalIdp>,
    #[serde(default)]
    pub ldap: Option<super::directory::LdapDirectory>,
    #[serde(default)]
    pub changed_at: Option<DateTime<Utc>>,
}

/// The external identity provider Gatehouse trusts, as its SAML service provider.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct ExternalIdp {
    /// The IdP's issuer (entity ID).
    pub entity_id: String,
    /// Where AuthnRequests go (HTTP-Redirect binding).
    pub sso_url: String,
    /// Every one is trusted (rotation); the last one cannot be deleted.
    pub certificates: Vec<IdpCertificate>,
    /// Accept responses the IdP sends without our AuthnRequest (sign-in started at the IdP).
    #[serde(default)]
    pub allow_idp_initiated: bool,
    /// Accept RSA-SHA1 signatures (older IdPs); SHA-256 or better otherwise.
    #[serde(default)]
    pub allow_sha1: bool,
    /// Beyond Identity Center: ask for Gatehouse MFA after the IdP's sign-in.
    #[serde(default)]
    pub require_mfa: bool,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct IdpCertificate {
    pub id: String,
    pub pem: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub imported_at: DateTime<Utc>,
}
