//! Applications that use Gatehouse as their SAML identity provider: the sso-admin operations
//! (create, describe, list, update, delete, providers), the SAML configuration and attribute
//! mappings the model lacks (Gatehouse extensions), certificates (certificates.rs), assignments
//! (assignments.rs) and sign-in (federation.rs).

mod assignments;
mod certificates;
mod federation;

pub(crate) use certificates::SignerCache;
pub use certificates::{MAX_APP_CERTIFICATES, expiry_status};
pub use federation::{Federation, PendingRequest, SamlBinding, SamlSignIn};

use gatehouse_saml::catalog::{self, Template};
use gatehouse_saml::mapping::{Format, Mapping, SUBJECT};
use serde_json::json;

use super::Services;
use super::op::Source;
use super::principal::Ctx;
use crate::error::{Error, ResourceType, Result};
use crate::model::{Application, AttributeMapping, Page, Paged, SamlConfig, SignInOrigin, SignedParts};

/// The sso-admin quota: applications per instance.
pub const MAX_APPLICATIONS: usize = 3000;

/// What CreateApplication sets.
#[derive(Debug, Clone, Default)]
pub struct NewApplication {
    pub provider_arn: String,
    pub name: String,
    pub description: Option<String>,
    pub enabled: Option<bool>,
    pub portal: PortalOptionsChange,
}

/// PortalOptions; None leaves a value as it is.
#[derive(Debug, Clone, Default)]
pub struct PortalOptionsChange {
    pub visible: Option<bool>,
    pub sign_in_origin: Option<SignInOrigin>,
    pub application_url: Option<String>,
}

/// UpdateApplication: None leaves a value as it is.
#[derive(Debug, Clone, Default)]
pub struct ApplicationChange {
    pub name: Option<String>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
    pub portal: PortalOptionsChange,
}

/// The SAML settings an administrator changes (Gatehouse extension); None leaves a value.
#[derive(Debug, Clone, Default)]
pub struct SamlConfigChange {
    pub acs_url: Option<String>,
    pub audience: Option<String>,
    /// The SP's metadata: sets the ACS URL, audience (entity ID) and SP certificates at once.
    pub metadata_xml: Option<String>,
    /// Empty clears it.
    pub relay_state: Option<String>,
    /// ISO-8601, PT1H to PT12H.
    pub session_duration: Option<String>,
    pub signed_parts: Option<SignedParts>,
    pub require_signed_requests: Option<bool>,
    pub sp_certificates: Option<Vec<String>>,
}

/// The template an ApplicationProviderArn names.
pub fn provider_of_arn(arn: &str) -> Result<&'static Template> {
    let id = arn
        .strip_prefix("arn:aws:sso::aws:applicationProvider/")
        .map(|rest| rest.strip_prefix("catalog/").unwrap_or(rest))
        .unwrap_or_default();
    catalog::find(id)
        .filter(|t| crate::ids::application_provider_arn(t.id) == arn)
        .ok_or_else(|| Error::not_found(ResourceType::ApplicationProvider, arn))
}

/// The session duration as ISO-8601 (`PT1H`, `PT1H30M`).
pub fn iso_duration(minutes: u32) -> String {
    match (minutes / 60, minutes % 60) {
        (h, 0) => format!("PT{h}H"),
        (0, m) => format!("PT{m}M"),
        (h, m) => format!("PT{h}H{m}M"),
    }
}

/// Minutes of `PT<h>H<m>M`, between 1 and 12 hours as the guide allows.
pub(crate) fn parse_session_duration(text: &str) -> Result<u32> {
    let bad = || Error::validation("SessionDuration", format!("'{text}' is not an ISO-8601 duration from PT1H to PT12H"));
    let rest = text.strip_prefix("PT").ok_or_else(bad)?;
    let (hours, rest) = match rest.split_once('H') {
        Some((h, r)) => (h.parse::<u32>().map_err(|_| bad())?, r),
        None => (0, rest),
    };
    let minutes = match rest.strip_suffix('M') {
        Some(m) => m.parse::<u32>().map_err(|_| bad())?,
        None if rest.is_empty() => 0,
        None => return Err(bad()),
    };
    let total = hours.checked_mul(60).and_then(|h| h.checked_add(minutes)).ok_or_else(bad)?;
    if (60..=720).contains(&total) { Ok(total) } else { Err(bad()) }
}

pub(crate) fn check_url(field: &str, url: &str) -> Result<()> {
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 1024
        && url.len() > "https://".len()
        && !url.chars().any(|c| c.is_control() || c.is_whitespace());
    if ok { Ok(()) } else { Err(Error::validation(field, format!("'{url}' is not an http(s) URL of at most 1024 characters"))) }
}

fn check_name(name: &str) -> Result<()> {
    if name.trim().is_empty() || name.chars().count() > 100 {
        return Err(Error::validation("Name", "must be 1 to 100 characters"));
    }
    Ok(())
}

fn check_description(d: &Option<String>) -> Result<()> {
    match d {
        Some(d) if d.is_empty() || d.chars().count() > 128 => Err(Error::validation("Description", "must be 1 to 128 characters")),
        _ => Ok(()),
    }
}

/// Validate rows as the attribute mappings tab does: each row on its own, at most one Subject,
/// no attribute twice.
pub fn validate_mappings(rows: &[AttributeMapping]) -> Result<Vec<Mapping>> {
    if rows.len() > 50 {
        return Err(Error::validation("AttributeMappings", "at most 50 attribute mappings"));
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for row in rows {
        let format = Format::parse(&row.format).ok_or_else(|| {
            Error::validation(
                "AttributeMappings",
                format!("'{}': format must be unspecified, uri, basic, emailAddress, persistent or transient", row.format),
            )
        })?;
        let m = Mapping { attribute: row.attribute.clone(), source: row.source.clone(), format };
        m.validate().map_err(|e| Error::validation("AttributeMappings", e.to_string()))?;
        if !seen.insert(row.attribute.clone()) {
            return Err(Error::validation("AttributeMappings", format!("'{}' is mapped twice", row.attribute)));
        }
        out.push(m);
    }
    Ok(out)
}

fn mapping_rows(mappings: &[Mapping]) -> Vec<AttributeMapping> {
    mappings
        .iter()
        .map(|m| AttributeMapping { attribute: m.attribute.clone(), source: m.source.clone(), format: m.format.as_str().to_string() })
        .collect()
}

/// The SAML NameID format URI of the Subject row (for metadata and NameIDPolicy checks).
pub(crate) fn subject_format(rows: &[AttributeMapping]) -> Option<&str> {
    rows.iter().find(|r| r.attribute == SUBJECT).map(|r| r.format.as_str())
}

impl SamlConfigChange {
    fn apply(self, saml: &mut SamlConfig) -> Result<()> {
        if let Some(xml) = &self.metadata_xml {
            let md = gatehouse_saml::metadata::parse_sp_metadata(xml).map_err(|e| Error::validation("MetadataXml", e.to_string()))?;
            let acs = md
                .default_acs()
                .ok_or_else(|| Error::validation("MetadataXml", "the metadata has no HTTP-POST AssertionConsumerService"))?;
            saml.acs_url = acs.location.clone();
            saml.audience = md.entity_id.clone();
            saml.sp_certificates = md.signing_certs.clone();
            if md.authn_requests_signed {
                saml.require_signed_requests = true;
            }
            if md.want_assertions_signed && saml.signed_parts == SignedParts::Response {
                saml.signed_parts = SignedParts::Both;
            }
        }
        if let Some(url) = self.acs_url {
            check_url("AcsUrl", &url)?;
            saml.acs_url = url;
        }
        if let Some(audience) = self.audience {
            if audience.is_empty() || audience.len() > 1024 || audience.chars().any(char::is_control) {
                return Err(Error::validation("Audience", "must be 1 to 1024 characters"));
            }
            saml.audience = audience;
        }
        if let Some(relay) = self.relay_state {
            if relay.len() > 1024 || relay.chars().any(char::is_control) {
                return Err(Error::validation("RelayState", "must be at most 1024 characters, without control characters"));
            }
            saml.relay_state = Some(relay).filter(|r| !r.is_empty());
        }
        if let Some(d) = self.session_duration {
            saml.session_minutes = parse_session_duration(&d)?;
        }
        if let Some(s) = self.signed_parts {
            saml.signed_parts = s;
        }
        if let Some(certs) = self.sp_certificates {
            for pem in &certs {
                gatehouse_saml::cert::pem_to_der(pem).map_err(|e| Error::validation("SpCertificates", e.to_string()))?;
            }
            saml.sp_certificates = certs;
        }
        if let Some(r) = self.require_signed_requests {
            saml.require_signed_requests = r;
        }
        if saml.require_signed_requests && saml.sp_certificates.is_empty() {
            return Err(Error::validation(
                "RequireSignedAuthnRequests",
                "signed requests need the application's certificate (SpCertificates or its metadata)",
            ));
        }
        Ok(())
    }
}

impl Services {
    pub fn application_arn(&self, application_id: &str) -> Result<String> {
        let i = self.instance()?;
        Ok(crate::ids::application_arn(&i.management_account_id, i.instance_id(), application_id))
    }

    /// The application id inside an ApplicationArn of this instance.
    pub fn application_id_of(&self, arn: &str) -> Result<String> {
        let i = self.instance()?;
        let prefix = format!("arn:aws:sso::{}:application/{}/", i.management_account_id, i.instance_id());
        arn.strip_prefix(&prefix)
            .filter(|id| id.starts_with("apl-") && !id.contains('/'))
            .map(str::to_string)
            .ok_or_else(|| Error::not_found(ResourceType::Application, arn))
    }

    /// Sso-admin requests name the instance; there is one.
    pub fn require_instance(&self, instance_arn: &str) -> Result<()> {
        if self.instance()?.instance_arn == instance_arn { Ok(()) } else { Err(Error::not_found(ResourceType::Instance, instance_arn)) }
    }

    pub(crate) async fn load_application(&self, tx: &mut Box<dyn crate::store::Tx>, id: &str) -> Result<Application> {
        let arn = self.application_arn(id)?;
        tx.get_application(id).await?.ok_or_else(|| Error::not_found(ResourceType::Application, arn))
    }

    pub async fn create_application(&self, ctx: &Ctx, new: NewApplication) -> Result<Application> {
        let request = json!({"applicationProviderArn": new.provider_arn, "name": new.name, "description": new.description});
        let mut op = self.begin(ctx, Source::Sso, "CreateApplication", false, request).await?;
        let result = async {
            op.authorize(&self.instance()?.instance_arn)?;
            let template = provider_of_arn(&new.provider_arn)?;
            check_name(&new.name)?;
            check_description(&new.description)?;
            if let Some(url) = &new.portal.application_url {
                check_url("ApplicationUrl", url)?;
            }
            let existing = op.tx.list_applications(None, &Page { after: None, limit: MAX_APPLICATIONS as u64 }).await?;
            if existing.items.len() >= MAX_APPLICATIONS {
                return Err(Error::QuotaExceeded { message: format!("An instance holds at most {MAX_APPLICATIONS} applications") });
            }
            let now = self.clock.now();
            let start_url = Some(template.start_url).filter(|u| !u.is_empty() && !u.contains('<')).map(str::to_string);
            let app = Application {
                application_id: crate::ids::new_application_id(),
                provider: template.id.to_string(),
                name: new.name.clone(),
                description: new.description.clone().or_else(|| Some(template.description.to_string())),
                enabled: new.enabled.unwrap_or(true),
                visible: new.portal.visible.unwrap_or(true),
                sign_in_origin: new.portal.sign_in_origin.unwrap_or(SignInOrigin::IdentityCenter),
                application_url: new.portal.application_url.clone().or(start_url),
                saml: SamlConfig {
                    acs_url: Some(template.acs_url).filter(|u| !u.contains('<')).unwrap_or_default().to_string(),
                    audience: Some(template.audience).filter(|u| !u.contains('<')).unwrap_or_default().to_string(),
                    session_minutes: template.session_hours * 60,
                    mappings: mapping_rows(&template.mappings()),
                    ..SamlConfig::default()
                },
                created_at: now,
                updated_at: now,
            };
            op.tx.insert_application(&app).await?;
            // "When you add an application, a certificate is automatically created" (five years).
            let cert = self
                .new_app_certificate(&app, 60, gatehouse_saml::KeySize::Rsa2048, gatehouse_saml::SignatureAlgorithm::Sha256, true)
                .await?;
            op.tx.insert_app_certificate(&cert).await?;
            let arn = self.application_arn(&app.application_id)?;
            op.resource("AWS::SSO::Application", arn.clone());
            op.respond(json!({"applicationArn": arn}));
            Ok(app)
        }
        .await;
        op.finish(result).await
    }

    pub async fn describe_application(&self, ctx: &Ctx, id: &str) -> Result<Application> {
        let mut op = self.begin(ctx, Source::Sso, "DescribeApplication", true, json!({"applicationId": id})).await?;
        let result = async {
            op.authorize(&self.application_arn(id)?)?;
            self.load_application(&mut op.tx, id).await
        }
        .await;
        op.finish(result).await
    }

    pub async fn list_applications(&self, ctx: &Ctx, provider_arn: Option<&str>, page: &Page) -> Result<Paged<Application>> {
        let mut op = self.begin(ctx, Source::Sso, "ListApplications", true, json!({"applicationProvider": provider_arn})).await?;
        let result = async {
            op.authorize(&self.instance()?.instance_arn)?;
            let provider = provider_arn.map(provider_of_arn).transpose()?.map(|t| t.id);
            Ok(op.tx.list_applications(provider, page).await?)
        }
        .await;
        op.finish(result).await
    }

    pub async fn update_application(&self, ctx: &Ctx, id: &str, change: ApplicationChange) -> Result<Application> {
        let request = json!({"applicationId": id, "name": change.name, "description": change.description, "status": change.enabled.map(|e| if e {"ENABLED"} else {"DISABLED"})});
        let mut op = self.begin(ctx, Source::Sso, "UpdateApplication", false, request).await?;
        let result = async {
            op.authorize(&self.application_arn(id)?)?;
            let mut app = self.load_application(&mut op.tx, id).await?;
            apply_change(&mut app, change)?;
            app.updated_at = self.clock.now();
            op.tx.update_application(&app).await?;
            op.resource("AWS::SSO::Application", self.application_arn(id)?);
            Ok(app)
        }
        .await;
        op.finish(result).await
    }

    /// The console's "Save changes" on an application's configuration: its details and
    /// properties, its SAML settings and (custom SAML applications) its attribute mappings, in one
    /// operation, so a refused part leaves nothing half-saved.
    pub async fn configure_application(
        &self,
        ctx: &Ctx,
        id: &str,
        change: ApplicationChange,
        saml: SamlConfigChange,
        mappings: Option<Vec<AttributeMapping>>,
    ) -> Result<Application> {
        let request = json!({"applicationId": id, "name": change.name, "description": change.description,
                             "acsUrl": saml.acs_url, "audience": saml.audience, "metadataUploaded": saml.metadata_xml.is_some(),
                             "relayState": saml.relay_state, "sessionDuration": saml.session_duration,
                             "attributeMappings": mappings.as_ref().map(|rows| rows.iter().map(|r| json!({"attribute": r.attribute, "source": r.source, "format": r.format})).collect::<Vec<_>>())});
        let mut op = self.begin(ctx, Source::Sso, "UpdateApplication", false, request).await?;
        let result = async {
            let arn = self.application_arn(id)?;
            op.authorize(&arn)?;
            op.authorize_also("PutApplicationSamlConfiguration", &arn)?;
            if mappings.is_some() {
                op.authorize_also("PutApplicationAttributeMappings", &arn)?;
            }
            let mut app = self.load_application(&mut op.tx, id).await?;
            apply_change(&mut app, change)?;
            saml.apply(&mut app.saml)?;
            if let Some(rows) = &mappings {
                app.saml.mappings = mapping_rows(&validate_mappings(rows)?);
            }
            app.updated_at = self.clock.now();
            op.tx.update_application(&app).await?;
            op.resource("AWS::SSO::Application", arn);
            Ok(app)
        }
        .await;
        op.finish(result).await
    }

    /// Delete an application with its certificates and assignments (the console's force-remove
    /// asks for a typed confirmation first).
    pub async fn delete_application(&self, ctx: &Ctx, id: &str) -> Result<()> {
        let mut op = self.begin(ctx, Source::Sso, "DeleteApplication", false, json!({"applicationId": id})).await?;
        let result = async {
            let arn = self.application_arn(id)?;
            op.authorize(&arn)?;
            if !op.tx.delete_application(id).await? {
                return Err(Error::not_found(ResourceType::Application, arn));
            }
            op.resource("AWS::SSO::Application", arn);
            Ok(())
        }
        .await;
        op.finish(result).await
    }

    /// The catalog as application providers.
    pub async fn list_application_providers(&self, ctx: &Ctx) -> Result<Vec<&'static Template>> {
        let op = self.begin(ctx, Source::Sso, "ListApplicationProviders", true, json!({})).await?;
        let result = op.authorize("*").map(|_| catalog::CATALOG.iter().collect());
        op.finish(result).await
    }

    pub async fn describe_application_provider(&self, ctx: &Ctx, arn: &str) -> Result<&'static Template> {
        let op = self.begin(ctx, Source::Sso, "DescribeApplicationProvider", true, json!({"applicationProviderArn": arn})).await?;
        let result = op.authorize(arn).and_then(|_| provider_of_arn(arn));
        op.finish(result).await
    }

    /// Change the SAML settings (Gatehouse extension: the console's application metadata and
    /// properties).
    pub async fn put_saml_configuration(&self, ctx: &Ctx, id: &str, change: SamlConfigChange) -> Result<Application> {
        let request = json!({"applicationId": id, "acsUrl": change.acs_url, "audience": change.audience,
                             "metadataUploaded": change.metadata_xml.is_some(), "relayState": change.relay_state,
                             "sessionDuration": change.session_duration, "signedParts": change.signed_parts.map(|s| s.as_str()),
                             "requireSignedAuthnRequests": change.require_signed_requests});
        let mut op = self.begin(ctx, Source::Sso, "PutApplicationSamlConfiguration", false, request).await?;
        let result = async {
            op.authorize(&self.application_arn(id)?)?;
            let mut app = self.load_application(&mut op.tx, id).await?;
            change.apply(&mut app.saml)?;
            app.updated_at = self.clock.now();
            op.tx.update_application(&app).await?;
            op.resource("AWS::SSO::Application", self.application_arn(id)?);
            Ok(app)
        }
        .await;
        op.finish(result).await
    }

    pub async fn put_attribute_mappings(&self, ctx: &Ctx, id: &str, rows: Vec<AttributeMapping>) -> Result<Application> {
        let request = json!({"applicationId": id, "attributeMappings": rows.iter().map(|r| json!({"attribute": r.attribute, "source": r.source, "format": r.format})).collect::<Vec<_>>()});
        let mut op = self.begin(ctx, Source::Sso, "PutApplicationAttributeMappings", false, request).await?;
        let result = async {
            op.authorize(&self.application_arn(id)?)?;
            let mut app = self.load_application(&mut op.tx, id).await?;
            app.saml.mappings = mapping_rows(&validate_mappings(&rows)?);
            app.updated_at = self.clock.now();
            op.tx.update_application(&app).await?;
            op.resource("AWS::SSO::Application", self.application_arn(id)?);
            Ok(app)
        }
        .await;
        op.finish(result).await
    }
}

/// UpdateApplication's changes to an application's own fields.
fn apply_change(app: &mut Application, change: ApplicationChange) -> Result<()> {
    if let Some(name) = change.name {
        check_name(&name)?;
        app.name = name;
    }
    if let Some(d) = change.description {
        let d = Some(d);
        check_description(&d)?;
        app.description = d;
    }
    if let Some(e) = change.enabled {
        app.enabled = e;
    }
    if let Some(v) = change.portal.visible {
        app.visible = v;
    }
    if let Some(o) = change.portal.sign_in_origin {
        app.sign_in_origin = o;
    }
    if let Some(url) = change.portal.application_url {
        if url.is_empty() {
            app.application_url = None;
        } else {
            check_url("ApplicationUrl", &url)?;
            app.application_url = Some(url);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_durations() {
        assert_eq!(parse_session_duration("PT1H").unwrap(), 60);
        assert_eq!(parse_session_duration("PT12H").unwrap(), 720);
        assert_eq!(parse_session_duration("PT1H30M").unwrap(), 90);
        assert_eq!(parse_session_duration("PT90M").unwrap(), 90);
        for bad in ["PT59M", "PT13H", "1H", "PTH", "PT", "P1D", "PT1H1", "PT-1H"] {
            assert!(parse_session_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(iso_duration(90), "PT1H30M");
        assert_eq!(iso_duration(720), "PT12H");
    }

    #[test]
    fn provider_arns() {
        assert_eq!(provider_of_arn("arn:aws:sso::aws:applicationProvider/custom-saml").unwrap().id, "custom-saml");
        assert_eq!(provider_of_arn("arn:aws:sso::aws:applicationProvider/catalog/amplitude").unwrap().id, "amplitude");
        assert!(provider_of_arn("arn:aws:sso::aws:applicationProvider/amplitude").is_err());
        assert!(provider_of_arn("arn:aws:sso::aws:applicationProvider/catalog/custom-saml").is_err());
    }

    #[test]
    fn mappings_are_checked_as_a_table() {
        let row = |a: &str, s: &str, f: &str| AttributeMapping { attribute: a.into(), source: s.into(), format: f.into() };
        assert!(validate_mappings(&[row("Subject", "${user:email}", "emailAddress"), row("email", "${user:email}", "basic")]).is_ok());
        assert!(validate_mappings(&[row("email", "${user:email}", "basic"), row("email", "x", "basic")]).is_err());
        assert!(validate_mappings(&[row("email", "${user:email}", "bogus")]).is_err());
    }
}
