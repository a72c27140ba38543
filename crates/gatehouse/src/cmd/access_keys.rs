//! `gatehouse admin access-key …`: keys for automation (boto3, the AWS CLI).

use anyhow::Context;
use clap::Subcommand;
use serde_json::json;
use std::path::PathBuf;

use super::operator_ctx;
use crate::app::{self, service_error};
use crate::config::Config;
use crate::output::{self, OutputFormat};

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Access keys for the AWS-compatible APIs.
    #[command(subcommand)]
    AccessKey(AccessKeyCommand),
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
    },
    /// List keys (never their secrets).
    List,
    /// Delete a key.
    Delete { access_key_id: String },
}

pub async fn run(config: Config, out: OutputFormat, command: AdminCommand) -> anyhow::Result<()> {
    let AdminCommand::AccessKey(command) = command;
    let opened = app::open(&config).await?;
    let svc = &opened.services;
    let ctx = operator_ctx(svc)?;
    let result = async {
        match command {
            AccessKeyCommand::Create { name, policies, policy_files } => {
                let mut inline = Vec::new();
                for f in policy_files {
                    inline.push(std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?);
                }
                let key = svc.create_access_key(&ctx, &name, policies, inline).await.map_err(service_error)?;
                match out {
                    OutputFormat::Json => println!(
                        "{}",
                        json!({"AccessKey": {"AccessKeyId": key.info.access_key_id, "SecretAccessKey": &*key.secret_access_key, "UserName": key.info.user_name}})
                    ),
                    OutputFormat::Table => println!(
                        "AWS_ACCESS_KEY_ID={}\nAWS_SECRET_ACCESS_KEY={}\n(the secret is shown only this once)",
                        key.info.access_key_id, &*key.secret_access_key
                    ),
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
                        ]
                    })
                    .collect();
                output::print(out, &["ACCESS KEY ID", "USER", "MANAGED POLICIES", "INLINE", "CREATED", "LAST USED"], rows, &json!({"AccessKeys": keys}));
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
