//! `gatehouse identity-source …`: where users come from (Settings → Identity source), and the
//! external identity provider Gatehouse trusts.

use clap::{Subcommand, ValueEnum};
use gatehouse_core::model::{IdentitySource, IdentitySourceKind};
use gatehouse_core::services::directory::{LdapDirectoryInput, SyncProgress};
use gatehouse_core::services::identity_source::ExternalIdpInput;
use gatehouse_saml::ExpiryStatus;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;

use super::operator_ctx;
use crate::app::{self, service_error};
use crate::config::Config;
use crate::output::{self, OutputFormat};

#[derive(Subcommand)]
pub enum IdentitySourceCommand {
    /// Show the identity source and the external IdP's settings and certificates.
    Show,
    /// Gatehouse's service-provider metadata (entity ID, ACS URL), for the IdP's administrator.
    SpMetadata,
    /// Configure the external IdP from its metadata or by hand; options not given keep their
    /// value. Certificates are added (every one is trusted). This does not switch the source.
    SetExternal {
        /// The IdP's SAML metadata (issuer, sign-in URL, signing certificates).
        #[arg(long)]
        metadata: Option<PathBuf>,
        /// The IdP's issuer (entity ID).
        #[arg(long)]
        issuer: Option<String>,
        /// The IdP's sign-in URL (HTTP-Redirect binding).
        #[arg(long)]
        sso_url: Option<String>,
        /// A signing certificate of the IdP (PEM, at most 2 KB).
        #[arg(long)]
        certificate: Option<PathBuf>,
        /// Accept sign-ins started at the IdP (responses to no request of ours).
        #[arg(long)]
        allow_idp_initiated: Option<bool>,
        /// Accept RSA-SHA1 signatures from this IdP.
        #[arg(long)]
        allow_sha1: Option<bool>,
        /// Ask for Gatehouse MFA after the IdP's sign-in.
        #[arg(long)]
        require_mfa: Option<bool>,
    },
    /// Delete one of the IdP's certificates (never the last one).
    DeleteCertificate { certificate_id: String },
    /// Connect Active Directory (or another LDAP directory with AD's user and group schema);
    /// options not given keep their value. The connection is tested before it is saved. This
    /// does not switch the source.
    SetLdap {
        /// ldaps://host[:port], or ldap://host[:port] with --start-tls.
        #[arg(long)]
        url: Option<String>,
        /// Upgrade an ldap:// connection with StartTLS.
        #[arg(long)]
        start_tls: Option<bool>,
        /// Allow ldap:// without TLS (passwords cross it in the clear).
        #[arg(long)]
        allow_plaintext: Option<bool>,
        /// A CA certificate (PEM) to trust for the directory's TLS certificate.
        #[arg(long)]
        ca_file: Option<PathBuf>,
        /// The service account that reads the directory.
        #[arg(long)]
        bind_dn: Option<String>,
        /// Its password (prefer the environment variable to the command line).
        #[arg(long, env = "GATEHOUSE_LDAP_BIND_PASSWORD", hide_env_values = true)]
        bind_password: Option<String>,
        /// Where users are searched (subtree).
        #[arg(long)]
        user_base_dn: Option<String>,
        /// Where groups are searched (subtree).
        #[arg(long)]
        group_base_dn: Option<String>,
        /// Which entries are users [default: (&(objectClass=user)(!(objectClass=computer)))].
        #[arg(long)]
        user_filter: Option<String>,
        /// Which entries are groups [default: (objectClass=group)].
        #[arg(long)]
        group_filter: Option<String>,
        /// The NetBIOS domain people type as DOMAIN\user.
        #[arg(long)]
        domain: Option<String>,
        /// Synchronize every N minutes (0: only on demand) [default: 60].
        #[arg(long)]
        sync_minutes: Option<u32>,
    },
    /// Show the directory's attribute mappings, or change some: `email='${dir:windowsUpn}'`.
    Mappings {
        /// ATTRIBUTE=SOURCE pairs, e.g. familyName='${dir:lastname}'.
        changes: Vec<String>,
    },
    /// Synchronize the assigned users and groups from Active Directory now.
    Sync,
    /// Switch the identity source. Type the confirmation the console asks for: ACCEPT to switch to
    /// an external IdP, CONFIRM otherwise.
    Change {
        #[arg(value_enum)]
        to: SourceChoice,
        #[arg(long)]
        confirm: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SourceChoice {
    /// The Gatehouse directory (the default).
    Directory,
    /// An external SAML 2.0 identity provider.
    ExternalIdp,
    /// Active Directory over LDAP.
    ActiveDirectory,
}

fn print_source(out: OutputFormat, s: &IdentitySource) {
    let now = chrono::Utc::now();
    let mut fields = vec![("Identity source", s.kind.as_str().to_string())];
    if let Some(d) = &s.ldap {
        fields.push(("Directory URL", format!("{}{}", d.url, if d.start_tls { " (StartTLS)" } else { "" })));
        fields.push(("Directory service account", d.bind_dn.clone()));
        fields.push(("Directory users", format!("{} {}", d.user_base_dn, d.user_filter)));
        fields.push(("Directory groups", format!("{} {}", d.group_base_dn, d.group_filter)));
        fields.push(("Directory domain", d.domain.clone()));
        fields.push(("Synchronization", format!("every {} minutes", d.sync_interval_minutes)));
        if let Some(last) = &d.last_sync {
            fields.push(("Last synchronization", last.describe()));
        }
    }
    if let Some(idp) = &s.external {
        fields.push(("IdP issuer", idp.entity_id.clone()));
        fields.push(("IdP sign-in URL", idp.sso_url.clone()));
        fields.push(("IdP-initiated sign-in", idp.allow_idp_initiated.to_string()));
        fields.push(("SHA-1 signatures", idp.allow_sha1.to_string()));
        fields.push(("Gatehouse MFA after the IdP", idp.require_mfa.to_string()));
        for c in &idp.certificates {
            let status = match ExpiryStatus::of(c.not_after, now) {
                ExpiryStatus::Expired => "expired",
                ExpiryStatus::ExpiringSoon => "expires soon",
                ExpiryStatus::Valid => "valid",
            };
            fields.push(("IdP certificate", format!("{} (expires {}, {status})", c.id, c.not_after.format("%Y-%m-%d"))));
        }
    }
    // The sealed bind password stays out of the JSON too.
    let mut shown = serde_json::to_value(s).unwrap_or_default();
    if let Some(d) = shown.get_mut("ldap").and_then(|d| d.as_object_mut()) {
        d.remove("bind_password_sealed");
    }
    output::print_fields(out, fields, &shown);
}

/// Draw the synchronization's progress on standard error.
fn sync_with_bar(out: OutputFormat) -> (ProgressBar, impl Fn(SyncProgress) + Send + Sync) {
    let bar = ProgressBar::new(0);
    bar.set_style(ProgressStyle::with_template("{msg:24} {bar:40} {pos}/{len}").unwrap_or_else(|_| ProgressStyle::default_bar()));
    if out == OutputFormat::Json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let shown = bar.clone();
    (bar, move |p: SyncProgress| {
        shown.set_message(p.phase);
        shown.set_length(p.total);
        shown.set_position(p.done);
    })
}

pub async fn run(config: Config, out: OutputFormat, command: IdentitySourceCommand) -> anyhow::Result<()> {
    let opened = app::open(&config).await?;
    let svc = &opened.services;
    let ctx = operator_ctx(svc)?;
    let result = async {
        match command {
            IdentitySourceCommand::Show => print_source(out, &svc.describe_identity_source(&ctx).await.map_err(service_error)?),
            IdentitySourceCommand::SpMetadata => {
                let sp = svc.sp_configuration();
                match out {
                    OutputFormat::Json => {
                        println!("{}", json!({"EntityId": sp.entity_id, "AcsUrl": sp.acs_url, "Metadata": sp.metadata_xml}))
                    }
                    OutputFormat::Table => println!("{}", sp.metadata_xml),
                }
            }
            IdentitySourceCommand::SetExternal { metadata, issuer, sso_url, certificate, allow_idp_initiated, allow_sha1, require_mfa } => {
                let read = |p: Option<PathBuf>| p.map(std::fs::read_to_string).transpose();
                let input = ExternalIdpInput {
                    metadata_xml: read(metadata)?,
                    entity_id: issuer,
                    sso_url,
                    certificate_pem: read(certificate)?,
                    allow_idp_initiated,
                    allow_sha1,
                    require_mfa,
                };
                svc.put_external_idp(&ctx, input).await.map_err(service_error)?;
                print_source(out, &svc.describe_identity_source(&ctx).await.map_err(service_error)?);
            }
            IdentitySourceCommand::DeleteCertificate { certificate_id } => {
                svc.delete_idp_certificate(&ctx, &certificate_id).await.map_err(service_error)?;
                println!("Deleted certificate {certificate_id}.");
            }
            IdentitySourceCommand::SetLdap {
                url,
                start_tls,
                allow_plaintext,
                ca_file,
                bind_dn,
                bind_password,
                user_base_dn,
                group_base_dn,
                user_filter,
                group_filter,
                domain,
                sync_minutes,
            } => {
                let input = LdapDirectoryInput {
                    url,
                    start_tls,
                    allow_plaintext,
                    ca_certificate_pem: ca_file.map(std::fs::read_to_string).transpose()?,
                    bind_dn,
                    bind_password,
                    user_base_dn,
                    group_base_dn,
                    user_filter,
                    group_filter,
                    domain,
                    sync_interval_minutes: sync_minutes,
                };
                svc.put_ldap_directory(&ctx, input).await.map_err(service_error)?;
                print_source(out, &svc.describe_identity_source(&ctx).await.map_err(service_error)?);
            }
            IdentitySourceCommand::Mappings { changes } => {
                let mut parsed = BTreeMap::new();
                for c in changes {
                    let (k, v) = c.split_once('=').ok_or_else(|| anyhow::anyhow!("'{c}' is not ATTRIBUTE=SOURCE"))?;
                    parsed.insert(k.trim().to_string(), v.to_string());
                }
                let mappings = if parsed.is_empty() {
                    let source = svc.describe_identity_source(&ctx).await.map_err(service_error)?;
                    source.ldap.map(|d| d.mappings).ok_or_else(|| anyhow::anyhow!("no directory is connected"))?
                } else {
                    svc.put_directory_mappings(&ctx, parsed).await.map_err(service_error)?
                };
                match out {
                    OutputFormat::Json => println!("{}", json!(mappings)),
                    OutputFormat::Table => {
                        for (k, v) in &mappings {
                            println!("{k:<20} {v}");
                        }
                    }
                }
            }
            IdentitySourceCommand::Sync => {
                let (bar, progress) = sync_with_bar(out);
                let summary = svc.sync_directory(&ctx, &progress).await;
                bar.finish_and_clear();
                let summary = summary.map_err(service_error)?;
                match out {
                    OutputFormat::Json => println!("{}", json!(summary)),
                    OutputFormat::Table => println!("Synchronized {}", summary.describe()),
                }
            }
            IdentitySourceCommand::Change { to, confirm } => {
                let kind = match to {
                    SourceChoice::Directory => IdentitySourceKind::Directory,
                    SourceChoice::ExternalIdp => IdentitySourceKind::ExternalIdp,
                    SourceChoice::ActiveDirectory => IdentitySourceKind::ActiveDirectory,
                };
                print_source(out, &svc.change_identity_source(&ctx, kind, &confirm).await.map_err(service_error)?);
            }
        }
        Ok(())
    }
    .await;
    opened.close().await;
    result
}
