//! `gatehouse app …`: applications that sign in through Gatehouse (SAML 2.0 identity provider)
//! — the catalog, configuration, attribute mappings, certificates and assignments.

use std::io::BufRead;

use clap::{Args, Subcommand};
use gatehouse_core::model::{Application, AttributeMapping, Page, PrincipalType, SignedParts};
use gatehouse_core::services::applications::{ApplicationChange, NewApplication, SamlConfigChange, expiry_status, iso_duration};
use gatehouse_core::{Ctx, Services};
use serde_json::json;

use super::operator_ctx;
use crate::app::{self, service_error};
use crate::config::Config;
use crate::output::{self, OutputFormat};

#[derive(Subcommand)]
pub enum AppCommand {
    /// The pre-integrated applications (and the custom SAML 2.0 application) to create from.
    Catalog,
    /// Add an application from the catalog; its signing certificate is created with it.
    Create {
        /// Catalog id (see `gatehouse app catalog`), e.g. custom-saml, amplitude, salesforce.
        #[arg(long)]
        provider: String,
        /// Display name.
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// List applications.
    List,
    /// Show an application (by id or display name): configuration, mappings and certificates.
    Show { app: String },
    /// Set the application's metadata and properties.
    Configure(ConfigureArgs),
    /// Replace the attribute mappings: repeat --map ATTRIBUTE SOURCE FORMAT (Subject sets the NameID).
    Map {
        app: String,
        #[arg(long = "map", num_args = 3, value_names = ["ATTRIBUTE", "SOURCE", "FORMAT"], required = true)]
        rows: Vec<String>,
    },
    /// Let assigned users sign in again.
    Enable { app: String },
    /// Refuse every sign-in to the application.
    Disable { app: String },
    /// Remove the application, its certificates and assignments (asks you to type its name).
    Delete {
        app: String,
        /// Do not ask for the typed confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Give a user or a group (directly; members of nested groups are not reached) access.
    Assign(AssignArgs),
    /// Remove a user's or group's access.
    Unassign(AssignArgs),
    /// List the users and groups assigned.
    Assignments { app: String },
    /// Print the IdP metadata to give the application.
    Metadata { app: String },
    /// Signing certificates: at most 2, the active one signs.
    #[command(subcommand)]
    Cert(CertCommand),
}

#[derive(Args)]
pub struct ConfigureArgs {
    app: String,
    /// The application's SAML metadata XML file (sets ACS URL, audience and its certificates).
    #[arg(long)]
    metadata: Option<std::path::PathBuf>,
    #[arg(long)]
    acs_url: Option<String>,
    /// The application's SAML audience (its entity ID).
    #[arg(long)]
    audience: Option<String>,
    /// Sent with IdP-initiated sign-ins ("" clears it).
    #[arg(long)]
    relay_state: Option<String>,
    /// ISO-8601, PT1H to PT12H: the assertion's NotOnOrAfter.
    #[arg(long)]
    session_duration: Option<String>,
    /// The tile opens this URL (the application then sends its AuthnRequest); "" clears it.
    #[arg(long)]
    start_url: Option<String>,
    /// ASSERTION, RESPONSE or BOTH.
    #[arg(long)]
    signed_parts: Option<String>,
    /// Refuse AuthnRequests that are not signed with the application's certificate.
    #[arg(long)]
    require_signed_requests: Option<bool>,
    /// The application's signing certificate (PEM file); repeat for several.
    #[arg(long = "sp-certificate")]
    sp_certificates: Vec<std::path::PathBuf>,
}

#[derive(Args)]
pub struct AssignArgs {
    app: String,
    #[arg(long, conflicts_with = "group", required_unless_present = "group")]
    user: Option<String>,
    #[arg(long)]
    group: Option<String>,
}

#[derive(Subcommand)]
pub enum CertCommand {
    /// List certificates with their expiry status (VALID, EXPIRING_SOON within 90 days, EXPIRED).
    List { app: String },
    /// Generate a new, inactive certificate.
    Create {
        app: String,
        #[arg(long, default_value_t = 60)]
        months: u32,
        /// 1024 or 2048.
        #[arg(long, default_value_t = 2048)]
        key_size: u32,
        /// SHA1 or SHA256.
        #[arg(long, default_value = "SHA256")]
        algorithm: String,
    },
    /// Make a certificate the one that signs.
    Activate { app: String, certificate_id: String },
    /// Delete an inactive certificate.
    Delete { app: String, certificate_id: String },
    /// Print the active certificate (PEM).
    Download { app: String },
}

async fn resolve(svc: &Services, ctx: &Ctx, app: &str) -> anyhow::Result<Application> {
    if app.starts_with("apl-") {
        return svc.describe_application(ctx, app).await.map_err(service_error);
    }
    let all = svc.list_applications(ctx, None, &Page { after: None, limit: 10_000 }).await.map_err(service_error)?;
    let mut found: Vec<Application> = all.items.into_iter().filter(|a| a.name.eq_ignore_ascii_case(app)).collect();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(anyhow::anyhow!(gatehouse_core::Error::not_found(gatehouse_core::error::ResourceType::Application, app))),
        n => anyhow::bail!("{n} applications are named '{app}'; use the application id (apl-…)"),
    }
}

fn read(path: &std::path::Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))
}

fn show(svc: &Services, out: OutputFormat, app: &Application) {
    let s = &app.saml;
    let id = &app.application_id;
    let doc = json!({
        "ApplicationId": id, "ApplicationArn": svc.application_arn(id).unwrap_or_default(), "Name": app.name,
        "Provider": app.provider, "Status": if app.enabled { "ENABLED" } else { "DISABLED" },
        "AcsUrl": s.acs_url, "Audience": s.audience, "RelayState": s.relay_state, "StartUrl": app.application_url,
        "SessionDuration": iso_duration(s.session_minutes), "SignedParts": s.signed_parts.as_str(),
        "RequireSignedAuthnRequests": s.require_signed_requests,
        "IdpEntityId": svc.idp_entity_id(id), "IdpSsoUrl": svc.idp_sso_url(id),
        "AttributeMappings": s.mappings.iter().map(|m| json!({"Attribute": m.attribute, "Source": m.source, "Format": m.format})).collect::<Vec<_>>(),
    });
    let fields = vec![
        ("Application id", id.clone()),
        ("Name", app.name.clone()),
        ("Provider", app.provider.clone()),
        ("Status", if app.enabled { "enabled" } else { "disabled" }.to_string()),
        ("ACS URL", s.acs_url.clone()),
        ("Audience", s.audience.clone()),
        ("Start URL", app.application_url.clone().unwrap_or_default()),
        ("Relay state", s.relay_state.clone().unwrap_or_default()),
        ("Session duration", iso_duration(s.session_minutes)),
        ("Signed", s.signed_parts.as_str().to_string()),
        ("Signed requests required", s.require_signed_requests.to_string()),
        ("IdP entity ID", svc.idp_entity_id(id)),
        ("IdP sign-in URL", svc.idp_sso_url(id)),
        ("IdP metadata", format!("{}/metadata", svc.idp_entity_id(id))),
        (
            "Attribute mappings",
            s.mappings.iter().map(|m| format!("{} = {} ({})", m.attribute, m.source, m.format)).collect::<Vec<_>>().join("; "),
        ),
    ];
    output::print_fields(out, fields, &doc);
}

pub async fn run(config: Config, out: OutputFormat, command: AppCommand) -> anyhow::Result<()> {
    let opened = app::open(&config).await?;
    let svc = &opened.services;
    let ctx = operator_ctx(svc)?;
    let result = run_with(svc, &ctx, out, command).await;
    opened.close().await;
    result
}

async fn run_with(svc: &Services, ctx: &Ctx, out: OutputFormat, command: AppCommand) -> anyhow::Result<()> {
    match command {
        AppCommand::Catalog => {
            let providers = svc.list_application_providers(ctx).await.map_err(service_error)?;
            let rows = providers.iter().map(|t| vec![t.id.to_string(), t.name.to_string(), t.description.to_string()]).collect();
            let doc: Vec<_> = providers
                .iter()
                .map(|t| json!({"Id": t.id, "Name": t.name, "Description": t.description, "ApplicationProviderArn": gatehouse_core::ids::application_provider_arn(t.id)}))
                .collect();
            output::print(out, &["ID", "NAME", "DESCRIPTION"], rows, &doc);
        }
        AppCommand::Create { provider, name, description } => {
            let new = NewApplication {
                provider_arn: gatehouse_core::ids::application_provider_arn(&provider),
                name,
                description,
                ..Default::default()
            };
            let app = svc.create_application(ctx, new).await.map_err(service_error)?;
            show(svc, out, &app);
            if let (OutputFormat::Table, Some(t)) = (out, gatehouse_saml::catalog::find(&app.provider)) {
                println!("\nNext steps: {}", t.instructions);
            }
        }
        AppCommand::List => {
            let apps = svc.list_applications(ctx, None, &Page { after: None, limit: 10_000 }).await.map_err(service_error)?;
            let rows = apps
                .items
                .iter()
                .map(|a| {
                    vec![
                        a.application_id.clone(),
                        a.name.clone(),
                        a.provider.clone(),
                        if a.enabled { "enabled" } else { "disabled" }.into(),
                        a.saml.acs_url.clone(),
                    ]
                })
                .collect();
            let doc: Vec<_> = apps
                .items
                .iter()
                .map(|a| json!({"ApplicationId": a.application_id, "Name": a.name, "Provider": a.provider, "Enabled": a.enabled, "AcsUrl": a.saml.acs_url}))
                .collect();
            output::print(out, &["APPLICATION ID", "NAME", "PROVIDER", "STATUS", "ACS URL"], rows, &doc);
        }
        AppCommand::Show { app } => show(svc, out, &resolve(svc, ctx, &app).await?),
        AppCommand::Configure(a) => {
            let app = resolve(svc, ctx, &a.app).await?;
            let signed_parts = match a.signed_parts.as_deref() {
                None => None,
                Some(s) => Some(SignedParts::parse(&s.to_ascii_uppercase()).ok_or_else(|| {
                    anyhow::anyhow!(gatehouse_core::Error::validation("--signed-parts", "must be ASSERTION, RESPONSE or BOTH"))
                })?),
            };
            let sp_certificates = if a.sp_certificates.is_empty() {
                None
            } else {
                Some(a.sp_certificates.iter().map(|p| read(p)).collect::<anyhow::Result<Vec<_>>>()?)
            };
            let change = SamlConfigChange {
                acs_url: a.acs_url,
                audience: a.audience,
                metadata_xml: a.metadata.as_deref().map(read).transpose()?,
                relay_state: a.relay_state,
                session_duration: a.session_duration,
                signed_parts,
                require_signed_requests: a.require_signed_requests,
                sp_certificates,
            };
            let mut updated = svc.put_saml_configuration(ctx, &app.application_id, change).await.map_err(service_error)?;
            if let Some(url) = a.start_url {
                let mut change = ApplicationChange::default();
                change.portal.application_url = Some(url);
                updated = svc.update_application(ctx, &app.application_id, change).await.map_err(service_error)?;
            }
            show(svc, out, &updated);
        }
        AppCommand::Map { app, rows } => {
            let app = resolve(svc, ctx, &app).await?;
            let rows =
                rows.chunks(3).map(|r| AttributeMapping { attribute: r[0].clone(), source: r[1].clone(), format: r[2].clone() }).collect();
            let updated = svc.put_attribute_mappings(ctx, &app.application_id, rows).await.map_err(service_error)?;
            show(svc, out, &updated);
        }
        AppCommand::Enable { app } => {
            let app = resolve(svc, ctx, &app).await?;
            svc.update_application(ctx, &app.application_id, ApplicationChange { enabled: Some(true), ..Default::default() })
                .await
                .map_err(service_error)?;
            println!("{} is enabled.", app.name);
        }
        AppCommand::Disable { app } => {
            let app = resolve(svc, ctx, &app).await?;
            svc.update_application(ctx, &app.application_id, ApplicationChange { enabled: Some(false), ..Default::default() })
                .await
                .map_err(service_error)?;
            println!("{} is disabled: every sign-in to it is refused.", app.name);
        }
        AppCommand::Delete { app, yes } => {
            let app = resolve(svc, ctx, &app).await?;
            if !yes {
                eprintln!("This removes {} with its certificates and assignments; users lose access at once.", app.name);
                eprint!("Type the application's name to remove it: ");
                let mut typed = String::new();
                std::io::stdin().lock().read_line(&mut typed)?;
                if typed.trim() != app.name {
                    anyhow::bail!("the typed name does not match; nothing was removed");
                }
            }
            svc.delete_application(ctx, &app.application_id).await.map_err(service_error)?;
            println!("{} is removed.", app.name);
        }
        AppCommand::Assign(a) => {
            let app = resolve(svc, ctx, &a.app).await?;
            let (kind, id, name) = principal(svc, ctx, &a).await?;
            svc.create_app_assignment(ctx, &app.application_id, kind, &id).await.map_err(service_error)?;
            println!("{name} is assigned to {}.", app.name);
        }
        AppCommand::Unassign(a) => {
            let app = resolve(svc, ctx, &a.app).await?;
            let (kind, id, name) = principal(svc, ctx, &a).await?;
            svc.delete_app_assignment(ctx, &app.application_id, kind, &id).await.map_err(service_error)?;
            println!("{name} is no longer assigned to {}.", app.name);
        }
        AppCommand::Assignments { app } => {
            let app = resolve(svc, ctx, &app).await?;
            let list =
                svc.list_app_assignments(ctx, &app.application_id, &Page { after: None, limit: 10_000 }).await.map_err(service_error)?;
            let rows = list.items.iter().map(|a| vec![a.principal_type.as_str().to_string(), a.principal_id.clone()]).collect();
            let doc: Vec<_> =
                list.items.iter().map(|a| json!({"PrincipalType": a.principal_type.as_str(), "PrincipalId": a.principal_id})).collect();
            output::print(out, &["TYPE", "PRINCIPAL ID"], rows, &doc);
        }
        AppCommand::Metadata { app } => {
            let app = resolve(svc, ctx, &app).await?;
            println!("{}", svc.idp_metadata(&app.application_id).await.map_err(service_error)?);
        }
        AppCommand::Cert(c) => cert(svc, ctx, out, c).await?,
    }
    Ok(())
}

async fn principal(svc: &Services, ctx: &Ctx, a: &AssignArgs) -> anyhow::Result<(PrincipalType, String, String)> {
    match (&a.user, &a.group) {
        (Some(u), _) => {
            let user = super::users::resolve(svc, ctx, u).await?;
            Ok((PrincipalType::User, user.user_id.clone(), user.profile.user_name.clone()))
        }
        (None, Some(g)) => {
            let group = super::groups::resolve(svc, ctx, g).await?;
            Ok((PrincipalType::Group, group.group_id.clone(), group.profile.display_name.clone()))
        }
        (None, None) => anyhow::bail!("name a --user or a --group"),
    }
}

async fn cert(svc: &Services, ctx: &Ctx, out: OutputFormat, command: CertCommand) -> anyhow::Result<()> {
    match command {
        CertCommand::List { app } => {
            let app = resolve(svc, ctx, &app).await?;
            let certs = svc.list_app_certificates(ctx, &app.application_id).await.map_err(service_error)?;
            let now = svc.clock().now();
            let rows = certs
                .iter()
                .map(|c| {
                    vec![
                        c.certificate_id.clone(),
                        if c.active { "ACTIVE" } else { "INACTIVE" }.into(),
                        format!("RSA-{} / {}", c.key_size, c.algorithm),
                        c.not_after.to_rfc3339(),
                        expiry_status(c, now).into(),
                    ]
                })
                .collect();
            let doc: Vec<_> = certs
                .iter()
                .map(|c| {
                    json!({"CertificateId": c.certificate_id, "Active": c.active, "KeySize": c.key_size, "Algorithm": c.algorithm,
                                "NotAfter": c.not_after, "ExpiryStatus": expiry_status(c, now)})
                })
                .collect();
            output::print(out, &["CERTIFICATE ID", "STATUS", "KEY", "EXPIRES", "EXPIRY STATUS"], rows, &doc);
        }
        CertCommand::Create { app, months, key_size, algorithm } => {
            let app = resolve(svc, ctx, &app).await?;
            let c = svc
                .create_app_certificate(ctx, &app.application_id, months, key_size, &algorithm.to_ascii_uppercase())
                .await
                .map_err(service_error)?;
            println!("Certificate {} is generated (inactive; it expires {}).", c.certificate_id, c.not_after.to_rfc3339());
        }
        CertCommand::Activate { app, certificate_id } => {
            let app = resolve(svc, ctx, &app).await?;
            svc.activate_app_certificate(ctx, &app.application_id, &certificate_id).await.map_err(service_error)?;
            println!("Certificate {certificate_id} now signs every response of {}.", app.name);
        }
        CertCommand::Delete { app, certificate_id } => {
            let app = resolve(svc, ctx, &app).await?;
            svc.delete_app_certificate(ctx, &app.application_id, &certificate_id).await.map_err(service_error)?;
            println!("Certificate {certificate_id} is deleted.");
        }
        CertCommand::Download { app } => {
            let app = resolve(svc, ctx, &app).await?;
            print!("{}", svc.idp_certificate(&app.application_id).await.map_err(service_error)?);
        }
    }
    Ok(())
}
