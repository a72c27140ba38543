//! `gatehouse admin …`: keys for automation (boto3, the AWS CLI) and the identity store's network
//! configuration.

use anyhow::Context;
use clap::Subcommand;
use serde_json::json;
use std::path::PathBuf;

use super::operator_ctx;
use crate::app::{self, service_error};
use crate::config::Config;
use crate::output::{self, OutputFormat};
use gatehouse_core::model::NetworkConfiguration;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Access keys for the AWS-compatible APIs.
    #[command(subcommand)]
    AccessKey(AccessKeyCommand),
    /// Which addresses may call the identity store API and SCIM (identitystore
    /// NetworkConfiguration). The local CLI is never restricted.
    #[command(subcommand)]
    Network(NetworkCommand),
}

#[derive(Subcommand)]
pub enum NetworkCommand {
    /// Show the network configuration.
    Show,
    /// Replace the network configuration.
    Set {
        /// Admit API calls only from the private network (loopback, RFC 1918, RFC 4193), Gatehouse's
        /// reading of "through a VPC endpoint".
        #[arg(long)]
        vpce_required: bool,
        /// An address or CIDR range always admitted to the API (repeatable).
        #[arg(long = "api-allow")]
        api_allow: Vec<String>,
        /// A VPC ARN allowed to call the API (repeatable; stored for parity with AWS: no request
        /// comes from a VPC here, so only --api-allow addresses are then admitted).
        #[arg(long = "api-vpc")]
        api_vpcs: Vec<String>,
        /// The only addresses or CIDR ranges admitted to SCIM (repeatable).
        #[arg(long = "scim-allow")]
        scim_allow: Vec<String>,
    },
    /// Remove every restriction.
    Clear,
}

#[derive(Subcommand)]
pub enum AccessKeyCommand {
    /// Create a key; its secret is printed once.
    Create {
        /// The key owner's name (shown in audit records as the IAM user).
        #[arg(long)]
        name: String,
        /// A managed policy to attach, e.g. AWSSSOReadOnly (repeatable).
        #[arg(long = "policy")]
        policies: Vec<String>,
        /// A file holding an IAM policy document (repeatable).
        #[arg(long = "policy-file")]
        policy_files: Vec<PathBuf>,
        /// Make temporary credentials (ASIA… key with a session token) valid this many seconds
        /// (900 to 43200).
        #[arg(long)]
        duration: Option<i64>,
    },
    /// List keys (never their secrets).
    List,
    /// Delete a key.
    Delete { access_key_id: String },
}

pub async fn run(config: Config, out: OutputFormat, command: AdminCommand) -> anyhow::Result<()> {
    let command = match command {
        AdminCommand::AccessKey(c) => c,
        AdminCommand::Network(c) => return run_network(config, out, c).await,
    };
    let opened = app::open(&config).await?;
    let svc = &opened.services;
    let ctx = operator_ctx(svc)?;
    let result = async {
        match command {
            AccessKeyCommand::Create { name, policies, policy_files, duration } => {
                let mut inline = Vec::new();
                for f in policy_files {
                    inline.push(std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?);
                }
                let key = match duration {
                    Some(seconds) => svc.create_session_key(&ctx, &name, policies, inline, seconds).await,
                    None => svc.create_access_key(&ctx, &name, policies, inline).await,
                }
                .map_err(service_error)?;
                let token = key.session_token.as_deref().map(String::as_str);
                match out {
                    OutputFormat::Json => println!(
                        "{}",
                        json!({"AccessKey": {"AccessKeyId": key.info.access_key_id, "SecretAccessKey": &*key.secret_access_key,
                            "SessionToken": token, "Expiration": key.info.expires_at, "UserName": key.info.user_name}})
                    ),
                    OutputFormat::Table => {
                        println!("AWS_ACCESS_KEY_ID={}\nAWS_SECRET_ACCESS_KEY={}", key.info.access_key_id, &*key.secret_access_key);
                        if let (Some(token), Some(expires)) = (token, key.info.expires_at) {
                            println!("AWS_SESSION_TOKEN={token}\n(expires {})", expires.to_rfc3339());
                        }
                        println!("(the secret is shown only this once)");
                    }
                }
            }
            AccessKeyCommand::List => {
                let keys = svc.list_access_keys(&ctx).await.map_err(service_error)?;
                let rows = keys
                    .iter()
                    .map(|k| {
                        vec![
                            k.access_key_id.clone(),
                            k.user_name.clone(),
                            k.managed_policies.join(","),
                            k.inline_policy_count.to_string(),
                            k.created_at.to_rfc3339(),
                            k.last_used_at.map(|t| t.to_rfc3339()).unwrap_or_else(|| "never".into()),
                            k.expires_at.map(|t| t.to_rfc3339()).unwrap_or_else(|| "never".into()),
                        ]
                    })
                    .collect();
                output::print(
                    out,
                    &["ACCESS KEY ID", "USER", "MANAGED POLICIES", "INLINE", "CREATED", "LAST USED", "EXPIRES"],
                    rows,
                    &json!({"AccessKeys": keys}),
                );
            }
            AccessKeyCommand::Delete { access_key_id } => {
                svc.delete_access_key(&ctx, &access_key_id).await.map_err(service_error)?;
                println!("Access key {access_key_id} is deleted.");
            }
        }
        Ok(())
    }
    .await;
    opened.close().await;
    result
}

async fn run_network(config: Config, out: OutputFormat, command: NetworkCommand) -> anyhow::Result<()> {
    let opened = app::open(&config).await?;
    let svc = &opened.services;
    let ctx = operator_ctx(svc)?;
    let result = async {
        let info = match command {
            NetworkCommand::Show => svc.describe_identity_store(&ctx).await,
            NetworkCommand::Set { vpce_required, api_allow, api_vpcs, scim_allow } => {
                let n = NetworkConfiguration {
                    vpce_access_required: vpce_required,
                    api_restrict_source_vpcs: api_vpcs,
                    api_allow_source_ips: api_allow,
                    scim_allow_source_ips: scim_allow,
                };
                svc.update_identity_store(&ctx, Some(n)).await
            }
            NetworkCommand::Clear => svc.update_identity_store(&ctx, Some(NetworkConfiguration::default())).await,
        }
        .map_err(service_error)?;
        let n = info.network.unwrap_or_default();
        let list = |l: &[String]| if l.is_empty() { "-".to_string() } else { l.join(",") };
        let rows = vec![
            vec!["IdentityStoreId".into(), info.identity_store_id.clone()],
            vec!["VpceAccessRequired".into(), n.vpce_access_required.to_string()],
            vec!["ApiRestrictSourceVpcs".into(), list(&n.api_restrict_source_vpcs)],
            vec!["ApiAllowSourceIps".into(), list(&n.api_allow_source_ips)],
            vec!["ScimAllowSourceIps".into(), list(&n.scim_allow_source_ips)],
        ];
        output::print(out, &["SETTING", "VALUE"], rows, &json!({"IdentityStoreId": info.identity_store_id, "NetworkConfiguration": n}));
        Ok(())
    }
    .await;
    opened.close().await;
    result
}
