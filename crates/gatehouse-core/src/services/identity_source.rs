//! The identity source (Settings → Identity source) and the external identity provider Gatehouse
//! trusts as a SAML service provider: its configuration, certificates, and the guide's switching
//! rules. Sign-in through the IdP is in `external_signin.rs`.

use serde_json::json;

use super::Services;
use super::op::Source;
use super::principal::Ctx;
use crate::error::{Error, Result};
use crate::model::{ExternalIdp, IdentitySource, IdentitySourceKind, IdpCertificate};
use crate::store::Tx;

const SOURCE_SETTING: &str = "identity-source";
/// The guide's limit on an imported certificate.
pub const MAX_CERTIFICATE_BYTES: usize = 2048;

/// What the administrator gives for the external IdP: its metadata, or its values by hand.
#[derive(Debug, Clone, Default)]
pub struct ExternalIdpInput {
    pub metadata_xml: Option<String>,
    pub entity_id: Option<String>,
    pub sso_url: Option<String>,
    pub certificate_pem: Option<String>,
    pub allow_idp_initiated: Option<bool>,
    pub allow_sha1: Option<bool>,
    pub require_mfa: Option<bool>,
}

/// Gatehouse as the IdP sees it: what goes into the IdP's application for Gatehouse.
pub struct SpConfiguration {
    pub entity_id: String,
    pub acs_url: String,
    pub metadata_xml: String,
}

pub(crate) fn parse_source(value: Option<String>) -> Result<IdentitySource> {
    match value {
        Some(v) => serde_json::from_str(&v).map_err(|e| Error::internal(format!("stored identity source: {e}"))),
        None => Ok(IdentitySource::default()),
    }
}

/// A certificate as it is imported: PEM of at most 2 KB that parses as X.509.
fn certificate(pem: &str, now: chrono::DateTime<chrono::Utc>) -> Result<IdpCertificate> {
    let pem = pem.trim();
    if pem.len() > MAX_CERTIFICATE_BYTES {
        return Err(Error::validation("Certificate", format!("is {} bytes; at most {MAX_CERTIFICATE_BYTES} are allowed", pem.len())));
    }
    let (not_before, not_after) = gatehouse_saml::cert::validity(pem).map_err(|e| Error::validation("Certificate", e.to_string()))?;
    Ok(IdpCertificate { id: crate::ids::new_uuid(), pem: pem.to_string(), not_before, not_after, imported_at: now })
}

/// The settings after `input`: metadata first, then values given by hand over it.
fn apply_input(mut idp: ExternalIdp, input: ExternalIdpInput, now: chrono::DateTime<chrono::Utc>) -> Result<ExternalIdp> {
    let mut new_pems = Vec::new();
    if let Some(xml) = &input.metadata_xml {
        let m = gatehouse_saml::sp::parse_idp_metadata(xml).map_err(|e| Error::validation("Metadata", e.to_string()))?;
        idp.entity_id = m.entity_id;
        idp.sso_url = m.sso_redirect_url.ok_or_else(|| Error::validation("Metadata", "the IdP has no HTTP-Redirect sign-in URL"))?;
        new_pems.extend(m.certificates_pem);
    }
    if let Some(v) = input.entity_id {
        idp.entity_id = v;
    }
    if let Some(v) = input.sso_url {
        idp.sso_url = v;
    }
    new_pems.extend(input.certificate_pem);
    for pem in new_pems {
        let cert = certificate(&pem, now)?;
        if !idp.certificates.iter().any(|c| c.pem == cert.pem) {
            idp.certificates.push(cert);
        }
    }
    idp.allow_idp_initiated = input.allow_idp_initiated.unwrap_or(idp.allow_idp_initiated);
    idp.allow_sha1 = input.allow_sha1.unwrap_or(idp.allow_sha1);
    idp.require_mfa = input.require_mfa.unwrap_or(idp.require_mfa);
    if idp.entity_id.trim().is_empty() {
        return Err(Error::validation("IssuerURL", "the IdP's issuer (entity ID) is required"));
    }
    super::applications::check_url("SignInURL", &idp.sso_url)?;
    if idp.certificates.is_empty() {
        return Err(Error::validation("Certificate", "at least one IdP signing certificate is required"));
    }
    Ok(idp)
}

impl Services {
    pub(crate) async fn identity_source_in(&self, tx: &mut Box<dyn Tx>) -> Result<IdentitySource> {
        parse_source(tx.get_setting(SOURCE_SETTING).await?)
    }

    pub(crate) async fn save_identity_source(&self, tx: &mut Box<dyn Tx>, source: &IdentitySource) -> Result<()> {
        let value = serde_json::to_string(source).map_err(|e| Error::internal(e.to_string()))?;
        tx.put_setting(SOURCE_SETTING, &value, self.clock.now()).await?;
        Ok(())
    }

    /// The identity source and the external IdP's settings (ListDirectoryAssociations).
    pub async fn describe_identity_source(&self, ctx: &Ctx) -> Result<IdentitySource> {
        let mut op = self.begin(ctx, Source::Sso, "ListDirectoryAssociations", true, json!({})).await?;
        let result = async {
            op.authorize(&self.instance()?.instance_arn)?;
            self.identity_source_in(&mut op.tx).await
        }
        .await;
        op.finish(result).await
    }

    /// Gatehouse's service-provider side: entity ID, ACS URL and metadata. Public (the IdP's
    /// administrator downloads it), so no caller is needed.
    pub fn sp_configuration(&self) -> SpConfiguration {
        let base = self.config.public_url.trim_end_matches('/');
        let entity_id = format!("{base}/start/saml");
        let acs_url = format!("{base}/start/saml/acs");
        let metadata_xml = gatehouse_saml::sp::sp_metadata(&entity_id, &acs_url);
        SpConfiguration { entity_id, acs_url, metadata_xml }
    }

    /// Create or update the external IdP's settings (from its metadata, or by hand). Does not
    /// switch the identity source: that is `change_identity_source`.
    pub async fn put_external_idp(&self, ctx: &Ctx, input: ExternalIdpInput) -> Result<ExternalIdp> {
        let request = json!({
            "metadata": input.metadata_xml.is_some(), "issuerUrl": input.entity_id, "signInUrl": input.sso_url,
            "certificate": input.certificate_pem.is_some(), "allowIdpInitiated": input.allow_idp_initiated,
            "allowSha1": input.allow_sha1, "requireMfa": input.require_mfa,
        });
        let existing = {
            let mut tx = self.store.begin_read().await?;
            let found = self.identity_source_in(&mut tx).await;
            tx.rollback().await?;
            found?.external.is_some()
        };
        let name = if existing { "UpdateExternalIdPConfigurationForDirectory" } else { "CreateExternalIdPConfigurationForDirectory" };
        let mut op = self.begin(ctx, Source::SsoDirectory, name, false, request).await?;
        let result = async {
            op.authorize(&self.instance()?.instance_arn)?;
            let mut source = self.identity_source_in(&mut op.tx).await?;
            let idp = apply_input(source.external.clone().unwrap_or_default(), input, self.clock.now())?;
            source.external = Some(idp.clone());
            self.save_identity_source(&mut op.tx, &source).await?;
            op.respond(json!({"issuerUrl": idp.entity_id, "signInUrl": idp.sso_url, "certificates": idp.certificates.len()}));
            Ok(idp)
        }
        .await;
        op.finish(result).await
    }

    /// Delete one of the IdP's certificates; the last one stays (the guide).
    pub async fn delete_idp_certificate(&self, ctx: &Ctx, certificate_id: &str) -> Result<()> {
        let request = json!({"certificateId": certificate_id});
        let mut op = self.begin(ctx, Source::SsoDirectory, "UpdateExternalIdPConfigurationForDirectory", false, request).await?;
        let result = async {
            op.authorize(&self.instance()?.instance_arn)?;
            let mut source = self.identity_source_in(&mut op.tx).await?;
            let idp = source.external.as_mut().ok_or_else(|| Error::conflict("No external identity provider is configured"))?;
            if !idp.certificates.iter().any(|c| c.id == certificate_id) {
                return Err(Error::validation("CertificateId", format!("the IdP has no certificate {certificate_id}")));
            }
            if idp.certificates.len() == 1 {
                return Err(Error::conflict("This is the IdP's only certificate: import its successor before deleting it"));
            }
            idp.certificates.retain(|c| c.id != certificate_id);
            self.save_identity_source(&mut op.tx, &source).await
        }
        .await;
        op.finish(result).await
    }

    /// Delete every user and group with its memberships and assignments; returns how many of
    /// each went.
    async fn purge_identities(&self, op: &mut super::op::Op<'_>) -> Result<(u64, u64)> {
        let store_id = self.store_id()?;
        let first = crate::model::Page { after: None, limit: 500 };
        let mut users = 0;
        loop {
            let page = op.tx.list_users(&store_id, &Default::default(), &first).await?.items;
            if page.is_empty() {
                break;
            }
            for u in page {
                self.purge_user_in(op, &store_id, &u.user_id, true).await?;
                users += 1;
            }
        }
        let mut groups = 0;
        loop {
            let page = op.tx.list_groups(&store_id, &Default::default(), &first).await?.items;
            if page.is_empty() {
                break;
            }
            for g in page {
                self.purge_group_in(op, &store_id, &g.group_id, true).await?;
                groups += 1;
            }
        }
        Ok((users, groups))
    }

    /// Switch the identity source, with the typed confirmation the console asks for (ACCEPT to
    /// an external IdP, CONFIRM otherwise). What is kept follows the guide's "Considerations for
    /// changing your identity source": between the Gatehouse directory and an external IdP
    /// everything is kept (users, groups, memberships, assignments); to or from Active Directory
    /// every user, group, membership and assignment is deleted.
    pub async fn change_identity_source(&self, ctx: &Ctx, to: IdentitySourceKind, confirmation: &str) -> Result<IdentitySource> {
        let request = json!({"identitySource": to.as_str()});
        let mut op = self.begin(ctx, Source::Sso, "UpdateDirectoryAssociation", false, request).await?;
        let result = async {
            op.authorize(&self.instance()?.instance_arn)?;
            let expected = if to == IdentitySourceKind::ExternalIdp { "ACCEPT" } else { "CONFIRM" };
            if confirmation != expected {
                return Err(Error::validation("Confirmation", format!("type {expected} to change the identity source")));
            }
            let mut source = self.identity_source_in(&mut op.tx).await?;
            if source.kind == to {
                return Err(Error::conflict(format!("The identity source is already {}", to.as_str())));
            }
            match to {
                IdentitySourceKind::ExternalIdp if source.external.is_none() => {
                    return Err(Error::conflict("Configure the external identity provider (its metadata or values) first"));
                }
                IdentitySourceKind::ActiveDirectory if source.ldap.is_none() => {
                    return Err(Error::conflict("Active Directory is not configured: connect an LDAP directory first"));
                }
                _ => {}
            }
            // To or from Active Directory, every user, group and assignment goes (the guide).
            if to == IdentitySourceKind::ActiveDirectory || source.kind == IdentitySourceKind::ActiveDirectory {
                let gone = self.purge_identities(&mut op).await?;
                op.additional("usersDeleted", json!(gone.0));
                op.additional("groupsDeleted", json!(gone.1));
            }
            if let Some(d) = source.ldap.as_mut() {
                // A new connection starts its synchronization history afresh.
                d.last_sync = None;
            }
            source.kind = to;
            source.changed_at = Some(self.clock.now());
            self.save_identity_source(&mut op.tx, &source).await?;
            op.respond(json!({"identitySource": to.as_str()}));
            Ok(source)
        }
        .await;
        op.finish(result).await
    }
}
