//! `gatehouse scim …`: automatic provisioning from an identity provider and its access tokens.

use clap::Subcommand;
use gatehouse_core::services::NewScimToken;
use serde_json::json;

use super::operator_ctx;
use crate::app::{self, service_error};
use crate::config::Config;
use crate::output::{self, OutputFormat};

#[derive(Subcommand)]
pub enum ScimCommand {
    /// Enable automatic provisioning: prints the SCIM endpoint and the first access token (once).
    Enable,
    /// Disable automatic provisioning (delete its access tokens first).
    Disable,
    /// Show whether provisioning is enabled, the endpoint and the tokens.
    Status,
    /// Access tokens for the identity provider (at most 2 active, so rotation overlaps).
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Generate a new access token; its value is printed once.
    Create,
    /// List tokens: id, created, expires, last used (never their values).
    List,
    /// Delete a token; the identity provider using it is refused from then on.
    Delete { token_id: String },
}

fn endpoint(config: &Config) -> String {
    format!("{}/scim/v2", config.public_url())
}

fn print_token(out: OutputFormat, config: &Config, new: &NewScimToken) {
    match out {
        OutputFormat::Json => println!(
            "{}",
            json!({"ScimEndpoint": endpoint(config), "TokenId": new.info.token_id, "AccessToken": &*new.token,
                "ExpiresAt": new.info.expires_at})
        ),
        OutputFormat::Table => println!(
            "SCIM endpoint: {}\nAccess token:  {}\nToken id:      {}\nExpires:       {}\n(the access token is shown only this once)",
            endpoint(config),
            &*new.token,
            new.info.token_id,
            new.info.expires_at.to_rfc3339()
        ),
    }
}

pub async fn run(config: Config, out: OutputFormat, command: ScimCommand) -> anyhow::Result<()> {
    let opened = app::open(&config).await?;
    let svc = &opened.services;
    let ctx = operator_ctx(svc)?;
    let result = async {
        match command {
            ScimCommand::Enable => match svc.enable_provisioning(&ctx).await.map_err(service_error)? {
                Some(new) => print_token(out, &config, &new),
                None => println!(
                    "Automatic provisioning is enabled. SCIM endpoint: {} (use `gatehouse scim token create` for a new token)",
                    endpoint(&config)
                ),
            },
            ScimCommand::Disable => {
                svc.disable_provisioning(&ctx).await.map_err(service_error)?;
                println!("Automatic provisioning is disabled.");
            }
            ScimCommand::Status | ScimCommand::Token(TokenCommand::List) => {
                let (enabled, tokens) = svc.list_scim_tokens(&ctx).await.map_err(service_error)?;
                if matches!(command, ScimCommand::Status) && matches!(out, OutputFormat::Table) {
                    println!("Automatic provisioning: {}", if enabled { "enabled" } else { "disabled" });
                    println!("SCIM endpoint: {}", endpoint(&config));
                }
                let rows = tokens
                    .iter()
                    .map(|t| {
                        vec![
                            t.token_id.clone(),
                            t.created_at.to_rfc3339(),
                            t.expires_at.to_rfc3339(),
                            t.last_used_at.map(|t| t.to_rfc3339()).unwrap_or_else(|| "never".into()),
                        ]
                    })
                    .collect();
                let doc = json!({"Enabled": enabled, "ScimEndpoint": endpoint(&config), "Tokens": tokens});
                output::print(out, &["TOKEN ID", "CREATED", "EXPIRES", "LAST USED"], rows, &doc);
            }
            ScimCommand::Token(TokenCommand::Create) => {
                let new = svc.create_scim_token(&ctx).await.map_err(service_error)?;
                print_token(out, &config, &new);
            }
            ScimCommand::Token(TokenCommand::Delete { token_id }) => {
                svc.delete_scim_token(&ctx, &token_id).await.map_err(service_error)?;
                println!("Access token {token_id} is deleted.");
            }
        }
        Ok(())
    }
    .await;
    opened.close().await;
    result
}
