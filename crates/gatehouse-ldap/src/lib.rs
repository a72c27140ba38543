//! LDAP calls into Active Directory through ldap3 over rustls (AWS-LC), behind the services'
//! [`DirectoryGateway`] trait: a service-account search, and a password check by binding as the
//! person. Each call opens its own connection: binds change a connection's identity, and a
//! directory call is rare next to everything else a sign-in does.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use gatehouse_core::directory::{Connection, DirectoryError, DirectoryGateway};
use gatehouse_core::model::directory::DirEntry;
use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, Scope, SearchEntry};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Connecting (TCP and TLS) and each operation have this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(60);
/// Entries per page of a search (AD's default MaxPageSize is 1000).
const PAGE_SIZE: i32 = 500;

#[derive(Debug, Default, Clone)]
pub struct LdapGateway;

fn unavailable(what: &str, e: impl std::fmt::Display) -> DirectoryError {
    DirectoryError::Unavailable(format!("{what}: {e}"))
}

/// TLS that trusts the system's CAs and the directory's own CA, if one is configured.
fn tls_config(conn: &Connection) -> Result<Arc<rustls::ClientConfig>, DirectoryError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(pem) = &conn.ca_certificate_pem {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|e| unavailable("the directory's CA certificate", e))?;
        if certs.is_empty() {
            return Err(DirectoryError::Unavailable("the directory's CA certificate holds no certificate".into()));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| unavailable("the directory's CA certificate", e))?;
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| unavailable("TLS", e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A connection to the directory, TLS set up as configured, not yet bound.
async fn open(conn: &Connection) -> Result<Ldap, DirectoryError> {
    let mut settings = LdapConnSettings::new().set_conn_timeout(CONNECT_TIMEOUT);
    let secure = conn.url.starts_with("ldaps://") || conn.start_tls;
    if secure {
        settings = settings.set_config(tls_config(conn)?).set_starttls(conn.start_tls && conn.url.starts_with("ldap://"));
    } else if !conn.allow_plaintext {
        return Err(DirectoryError::Unavailable("plain LDAP is not allowed: use ldaps:// or StartTLS".into()));
    }
    let (driver, mut ldap) =
        LdapConnAsync::with_settings(settings, &conn.url).await.map_err(|e| unavailable(&format!("connecting to {}", conn.url), e))?;
    ldap3::drive!(driver);
    ldap.with_timeout(OPERATION_TIMEOUT);
    Ok(ldap)
}

/// Bind as the service account.
async fn open_as_service(conn: &Connection) -> Result<Ldap, DirectoryError> {
    let mut ldap = open(conn).await?;
    let result = ldap.simple_bind(&conn.bind_dn, &conn.bind_password).await.map_err(|e| unavailable("binding", e))?;
    if result.rc != 0 {
        let _ = ldap.unbind().await;
        return Err(DirectoryError::Unavailable(format!(
            "the service account {} was refused (LDAP result {}: {})",
            conn.bind_dn, result.rc, result.text
        )));
    }
    Ok(ldap)
}

/// AD's string form of an objectGUID: the first three fields are little-endian.
fn guid_text(raw: &[u8]) -> Option<String> {
    let bytes: [u8; 16] = raw.try_into().ok()?;
    Some(uuid::Uuid::from_bytes_le(bytes).to_string())
}

fn to_entry(entry: SearchEntry) -> DirEntry {
    let is_guid = |k: &String| k.eq_ignore_ascii_case("objectGUID");
    let binary = entry.bin_attrs.iter().find(|(k, _)| is_guid(k)).and_then(|(_, v)| v.first()).and_then(|raw| guid_text(raw));
    // A GUID whose 16 bytes happen to be valid UTF-8 arrives as text.
    let text = || entry.attrs.iter().find(|(k, _)| is_guid(k)).and_then(|(_, v)| v.first()).and_then(|s| guid_text(s.as_bytes()));
    let guid = binary.or_else(text).unwrap_or_default();
    let attrs = entry.attrs.into_iter().filter(|(k, _)| !is_guid(k)).map(|(k, v)| (k.to_ascii_lowercase(), v)).collect();
    DirEntry { dn: entry.dn, guid, attrs }
}

fn refused(what: &str, e: LdapError) -> DirectoryError {
    DirectoryError::Refused(format!("{what}: {e}"))
}

#[async_trait]
impl DirectoryGateway for LdapGateway {
    async fn search(&self, conn: &Connection, base: &str, filter: &str, attributes: &[&str]) -> Result<Vec<DirEntry>, DirectoryError> {
        let mut ldap = open_as_service(conn).await?;
        let adapters: Vec<Box<dyn Adapter<'_, &str, Vec<&str>>>> =
            vec![Box::new(EntriesOnly::new()), Box::new(PagedResults::new(PAGE_SIZE))];
        let what = format!("searching {base} for {filter}");
        let mut stream =
            ldap.streaming_search_with(adapters, base, Scope::Subtree, filter, attributes.to_vec()).await.map_err(|e| refused(&what, e))?;
        let mut out = Vec::new();
        while let Some(raw) = stream.next().await.map_err(|e| refused(&what, e))? {
            // ldap3 panics on an entry it cannot decode; a directory's bad answer must not take
            // the server down.
            let entry = std::panic::catch_unwind(AssertUnwindSafe(|| SearchEntry::construct(raw)))
                .map_err(|_| DirectoryError::Refused(format!("{what}: an entry could not be decoded")))?;
            out.push(to_entry(entry));
        }
        let done = stream.finish().await;
        let _ = ldap.unbind().await;
        // 32, noSuchObject: the base does not exist.
        if done.rc != 0 {
            return Err(DirectoryError::Refused(format!("{what}: LDAP result {}: {}", done.rc, done.text)));
        }
        Ok(out)
    }

    async fn check_password(&self, conn: &Connection, dn: &str, password: &str) -> Result<bool, DirectoryError> {
        if password.is_empty() || dn.is_empty() {
            return Ok(false);
        }
        let mut ldap = open(conn).await?;
        let result = ldap.simple_bind(dn, password).await.map_err(|e| unavailable("binding", e))?;
        let _ = ldap.unbind().await;
        match result.rc {
            0 => Ok(true),
            // 49, invalidCredentials (AD adds why: expired, locked, disabled…).
            49 => Ok(false),
            rc => Err(DirectoryError::Refused(format!("binding as {dn}: LDAP result {rc}: {}", result.text))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_read_in_ad_byte_order() {
        let raw = [0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff];
        assert_eq!(guid_text(&raw).unwrap(), "00112233-4455-6677-8899-aabbccddeeff");
        assert_eq!(guid_text(&raw[..15]), None);
    }
}
