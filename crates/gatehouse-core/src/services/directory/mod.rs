//! Active Directory over LDAP as the identity source: the connection and its attribute mappings
//! (this file), sign-in by LDAP bind with just-in-time users (`signin.rs`), and synchronization
//! of the assigned users and groups (`sync.rs`).

mod lookup;
mod signin;
mod sync;

pub use sync::SyncProgress;

use std::collections::BTreeMap;

use serde_json::json;

use super::Services;
use super::op::Source;
use super::principal::{Ctx, Principal};
use crate::directory::{Connection, DirectoryError, DirectoryGateway};
use crate::error::{Error, Result};
use crate::model::directory::{self as dir, DirEntry, LdapDirectory};
use crate::model::{ExternalId, IdentitySourceKind, Name, TypedValue, UserProfile};

/// The largest CA certificate bundle accepted.
const MAX_CA_BYTES: usize = 16 * 1024;

/// What the administrator gives to connect the directory; `None` keeps what is configured.
#[derive(Debug, Clone, Default)]
pub struct LdapDirectoryInput {
    pub url: Option<String>,
    pub start_tls: Option<bool>,
    pub allow_plaintext: Option<bool>,
    /// Some("") removes it.
    pub ca_certificate_pem: Option<String>,
    pub bind_dn: Option<String>,
    pub bind_password: Option<String>,
    pub user_base_dn: Option<String>,
    pub group_base_dn: Option<String>,
    pub user_filter: Option<String>,
    pub group_filter: Option<String>,
    pub domain: Option<String>,
    pub sync_interval_minutes: Option<u32>,
}

fn required(field: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::validation(field, "is required"));
    }
    Ok(())
}

fn check_filter(field: &str, filter: &str) -> Result<()> {
    let f = filter.trim();
    let balanced = f.chars().try_fold(0i32, |depth, c| match c {
        '(' => Some(depth + 1),
        ')' if depth > 0 => Some(depth - 1),
        ')' => None,
        _ => Some(depth),
    });
    if !(f.starts_with('(') && f.ends_with(')') && balanced == Some(0)) {
        return Err(Error::validation(field, format!("'{filter}' is not an LDAP filter in parentheses, such as (objectClass=user)")));
    }
    Ok(())
}

/// Check the settings as they will be saved: a URL that is `ldaps://`, or `ldap://` with
/// StartTLS (plain LDAP only when explicitly allowed), and every required value.
fn validate(d: &LdapDirectory) -> Result<()> {
    let rest = d
        .url
        .strip_prefix("ldaps://")
        .or_else(|| d.url.strip_prefix("ldap://"))
        .ok_or_else(|| Error::validation("Url", "must start with ldaps:// or ldap://"))?;
    let host = rest.trim_end_matches('/');
    if host.is_empty() || host.contains('/') || host.contains('?') {
        return Err(Error::validation("Url", "must be ldaps://host[:port] or ldap://host[:port], without a path"));
    }
    if d.url.starts_with("ldap://") && !d.start_tls && !d.allow_plaintext {
        return Err(Error::validation(
            "Url",
            "plain LDAP sends passwords in the clear: use ldaps://, turn StartTLS on, or allow plaintext explicitly",
        ));
    }
    required("BindDn", &d.bind_dn)?;
    required("UserBaseDn", &d.user_base_dn)?;
    required("GroupBaseDn", &d.group_base_dn)?;
    check_filter("UserFilter", &d.user_filter)?;
    check_filter("GroupFilter", &d.group_filter)?;
    required("Domain", &d.domain)?;
    if d.domain.contains('\\') || d.domain.len() > 64 {
        return Err(Error::validation("Domain", "is the NetBIOS or DNS domain name people type before \\ (at most 64 characters)"));
    }
    if d.ca_certificate_pem.as_ref().is_some_and(|p| p.len() > MAX_CA_BYTES || !p.contains("-----BEGIN CERTIFICATE-----")) {
        return Err(Error::validation("CaCertificate", format!("must be PEM certificates of at most {MAX_CA_BYTES} bytes")));
    }
    dir::validate_mappings(&d.mappings).map_err(|m| Error::validation("AttributeMappings", m))
}

/// A directory user as a Gatehouse profile, through the mappings. `subject` (the user name) must
/// have a value; the external id is always the object's GUID.
pub(crate) fn profile_from(mappings: &BTreeMap<String, String>, entry: &DirEntry) -> std::result::Result<UserProfile, String> {
    if entry.guid.is_empty() {
        return Err(format!("{} has no objectGUID", entry.dn));
    }
    let mut values = dir::evaluate(mappings, entry);
    let user_name = values.remove("subject").ok_or_else(|| {
        format!(
            "{}: 'subject' maps to {}, which is empty for this user",
            entry.dn,
            mappings.get("subject").map(String::as_str).unwrap_or("nothing")
        )
    })?;
    Ok(UserProfile {
        user_name,
        external_ids: vec![ExternalId { issuer: dir::AD_ISSUER.into(), id: entry.guid.clone() }],
        name: Name {
            given_name: values.remove("givenName"),
            family_name: values.remove("familyName"),
            middle_name: values.remove("middleName"),
            ..Default::default()
        },
        display_name: values.remove("name"),
        nick_name: values.remove("preferredUsername"),
        emails: values
            .remove("email")
            .map(|e| vec![TypedValue { value: Some(e), kind: Some("work".into()), display: None, primary: true }])
            .unwrap_or_default(),
        ..Default::default()
    })
}

/// Whether the user came from Active Directory.
pub fn from_directory(user: &crate::model::User) -> bool {
    directory_guid(&user.profile.external_ids).is_some()
}

/// The directory GUID a user or group was synchronized from.
pub(crate) fn directory_guid(external_ids: &[ExternalId]) -> Option<&str> {
    external_ids.iter().find(|e| e.issuer == dir::AD_ISSUER).map(|e| e.id.as_str())
}

impl Services {
    /// Connect the LDAP gateway (the binary does, from `gatehouse-ldap`).
    pub fn set_directory_gateway(&self, gateway: std::sync::Arc<dyn DirectoryGateway>) {
        let _ = self.directory.set(gateway);
    }

    fn directory_gateway(&self) -> Result<&std::sync::Arc<dyn DirectoryGateway>> {
        self.directory.get().ok_or_else(|| Error::internal("no LDAP gateway is configured in this process"))
    }

    /// The connection, with the service account's password unsealed.
    pub(crate) fn directory_connection(&self, d: &LdapDirectory) -> Result<Connection> {
        let password =
            self.key.decrypt_string(&d.bind_password_sealed).map_err(|_| Error::internal("the bind password cannot be unsealed"))?;
        Ok(Connection {
            url: d.url.clone(),
            start_tls: d.start_tls,
            allow_plaintext: d.allow_plaintext,
            ca_certificate_pem: d.ca_certificate_pem.clone(),
            bind_dn: d.bind_dn.clone(),
            bind_password: password,
        })
    }

    /// The directory's settings when Active Directory is the identity source.
    pub(crate) async fn active_directory(&self) -> Result<Option<LdapDirectory>> {
        let source = self.identity_source().await?;
        Ok(source.ldap.filter(|_| source.kind == IdentitySourceKind::ActiveDirectory))
    }

    /// With Active Directory as the source, users, groups, memberships and passwords are the
    /// directory's: Gatehouse reads them and never changes them itself.
    pub(crate) async fn ensure_not_directory(&self, op: &mut crate::services::op::Op<'_>, what: &str) -> Result<()> {
        let source = self.identity_source_in(&mut op.tx).await?;
        if source.kind == IdentitySourceKind::ActiveDirectory {
            return Err(Error::conflict(format!(
                "{what} come from Active Directory, the identity source: change them there (Gatehouse synchronizes them)"
            )));
        }
        Ok(())
    }

    /// Search as the service account.
    pub(crate) async fn directory_search(&self, d: &LdapDirectory, base: &str, filter: &str, attributes: &[&str]) -> Result<Vec<DirEntry>> {
        let conn = self.directory_connection(d)?;
        self.directory_gateway()?.search(&conn, base, filter, attributes).await.map_err(directory_error)
    }

    /// Bind as the service account and search both bases for nothing: proves the URL, TLS, the
    /// account and the base DNs before they are saved.
    async fn test_directory(&self, d: &LdapDirectory) -> Result<()> {
        let none = "(&(objectClass=*)(!(objectClass=*)))";
        self.directory_search(d, &d.user_base_dn, none, &["cn"]).await?;
        if d.group_base_dn != d.user_base_dn {
            self.directory_search(d, &d.group_base_dn, none, &["cn"]).await?;
        }
        Ok(())
    }

    /// The operator's context for work Gatehouse does by itself (sign-in, periodic sync).
    pub(crate) fn system_ctx(&self, agent: &str) -> Result<Ctx> {
        let principal = Principal::system(&self.instance()?.management_account_id);
        Ok(Ctx::new(principal, "127.0.0.1", agent))
    }

    /// Connect (or reconnect) the directory: settings are checked and the connection tested
    /// before anything is saved. Does not switch the identity source (`change_identity_source`).
    pub async fn put_ldap_directory(&self, ctx: &Ctx, input: LdapDirectoryInput) -> Result<LdapDirectory> {
        let request = json!({
            "url": input.url, "startTls": input.start_tls, "allowPlaintext": input.allow_plaintext,
            "bindDn": input.bind_dn, "userBaseDn": input.user_base_dn, "groupBaseDn": input.group_base_dn,
            "userFilter": input.user_filter, "groupFilter": input.group_filter, "domain": input.domain,
            "syncIntervalMinutes": input.sync_interval_minutes,
        });
        let arn = self.instance()?.instance_arn.clone();
        let mut tx = self.store.begin_read().await?;
        let current = self.identity_source_in(&mut tx).await;
        tx.rollback().await?;
        let existing = current?.ldap;
        let built = self.build_directory(existing, input);
        // Only a caller allowed to change the settings makes Gatehouse connect anywhere.
        let tested = match &built {
            Ok(d) if ctx.principal.authorize("sso-directory:ConnectDirectory", &arn, &[]).is_ok() => self.test_directory(d).await,
            _ => Ok(()),
        };
        let mut op = self.begin(ctx, Source::SsoDirectory, "ConnectDirectory", false, request).await?;
        let result = async {
            op.authorize(&arn)?;
            let d = built?;
            tested?;
            let mut source = self.identity_source_in(&mut op.tx).await?;
            source.ldap = Some(d.clone());
            self.save_identity_source(&mut op.tx, &source).await?;
            op.respond(json!({"url": d.url, "domain": d.domain}));
            Ok(d)
        }
        .await;
        op.finish(result).await
    }

    fn build_directory(&self, existing: Option<LdapDirectory>, input: LdapDirectoryInput) -> Result<LdapDirectory> {
        let sealed = match (&input.bind_password, &existing) {
            (Some(p), _) if !p.is_empty() => self.key.encrypt_str(p),
            (_, Some(e)) => e.bind_password_sealed.clone(),
            _ => return Err(Error::validation("BindPassword", "is required")),
        };
        let mut d = existing.unwrap_or_else(|| LdapDirectory {
            url: String::new(),
            start_tls: false,
            allow_plaintext: false,
            ca_certificate_pem: None,
            bind_dn: String::new(),
            bind_password_sealed: String::new(),
            user_base_dn: String::new(),
            group_base_dn: String::new(),
            user_filter: dir::DEFAULT_USER_FILTER.into(),
            group_filter: dir::DEFAULT_GROUP_FILTER.into(),
            domain: String::new(),
            mappings: dir::default_mappings(),
            sync_interval_minutes: dir::DEFAULT_SYNC_MINUTES,
            last_sync: None,
        });
        d.bind_password_sealed = sealed;
        let text = |v: Option<String>, current: &mut String| {
            if let Some(v) = v {
                *current = v.trim().to_string();
            }
        };
        text(input.url, &mut d.url);
        text(input.bind_dn, &mut d.bind_dn);
        text(input.user_base_dn, &mut d.user_base_dn);
        text(input.group_base_dn, &mut d.group_base_dn);
        text(input.user_filter, &mut d.user_filter);
        text(input.group_filter, &mut d.group_filter);
        text(input.domain, &mut d.domain);
        d.start_tls = input.start_tls.unwrap_or(d.start_tls);
        d.allow_plaintext = input.allow_plaintext.unwrap_or(d.allow_plaintext);
        d.sync_interval_minutes = input.sync_interval_minutes.unwrap_or(d.sync_interval_minutes);
        if let Some(pem) = input.ca_certificate_pem {
            d.ca_certificate_pem = Some(pem.trim().to_string()).filter(|p| !p.is_empty());
        }
        validate(&d)?;
        Ok(d)
    }

    /// Settings → Attribute mappings → Edit: the `${dir:…}` source of each user attribute
    /// (unnamed ones keep theirs). Applied at the next synchronization and at each sign-in.
    pub async fn put_directory_mappings(&self, ctx: &Ctx, changes: BTreeMap<String, String>) -> Result<BTreeMap<String, String>> {
        let request = json!({"attributeMappings": changes});
        let mut op = self.begin(ctx, Source::SsoDirectory, "UpdateDirectoryAttributeMappings", false, request).await?;
        let result = async {
            op.authorize(&self.instance()?.instance_arn)?;
            let mut source = self.identity_source_in(&mut op.tx).await?;
            let d = source.ldap.as_mut().ok_or_else(|| Error::conflict("No directory is connected: connect one first"))?;
            for (attribute, value) in changes {
                d.mappings.insert(attribute, value.trim().to_string());
            }
            dir::validate_mappings(&d.mappings).map_err(|m| Error::validation("AttributeMappings", m))?;
            let mappings = d.mappings.clone();
            self.save_identity_source(&mut op.tx, &source).await?;
            op.respond(json!({"attributeMappings": mappings}));
            Ok(mappings)
        }
        .await;
        op.finish(result).await
    }
}

fn directory_error(e: DirectoryError) -> Error {
    Error::Unavailable { message: e.to_string() }
}
