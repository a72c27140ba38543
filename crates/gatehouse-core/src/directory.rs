//! The LDAP calls Gatehouse makes to an Active Directory (or any LDAP directory with AD's user
//! and group schema). The binary sets the implementation (`gatehouse-ldap`); services hold the
//! rules.

use async_trait::async_trait;

use crate::model::directory::DirEntry;

/// How to reach the directory: the service account's password already unsealed.
#[derive(Clone)]
pub struct Connection {
    pub url: String,
    pub start_tls: bool,
    pub allow_plaintext: bool,
    pub ca_certificate_pem: Option<String>,
    pub bind_dn: String,
    pub bind_password: zeroize::Zeroizing<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The directory could not be reached, TLS failed, or the service account was refused.
    #[error("the directory is unavailable: {0}")]
    Unavailable(String),
    /// A search or bind failed for another reason.
    #[error("the directory refused the request: {0}")]
    Refused(String),
}

#[async_trait]
pub trait DirectoryGateway: Send + Sync + 'static {
    /// Bind as the service account and search `base` (subtree) with `filter`, reading
    /// `attributes` (paged, so any number of entries). `objectGUID` comes back as
    /// [`DirEntry::guid`].
    async fn search(&self, conn: &Connection, base: &str, filter: &str, attributes: &[&str]) -> Result<Vec<DirEntry>, DirectoryError>;

    /// Simple-bind as `dn` with `password` on a fresh connection: true if the directory accepts
    /// it. An empty password is never sent (it would be an unauthenticated bind that succeeds).
    async fn check_password(&self, conn: &Connection, dn: &str, password: &str) -> Result<bool, DirectoryError>;
}
