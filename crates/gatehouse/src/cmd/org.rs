//! `gatehouse account …` and `gatehouse ou …`: the organization tree.

use clap::Subcommand;
use gatehouse_core::model::Page;
use gatehouse_core::{Ctx, Services};
use serde_json::json;

use super::operator_ctx;
use crate::app::{self, service_error};
use crate::config::Config;
use crate::output::{self, OutputFormat};

#[derive(Subcommand)]
pub enum AccountCommand {
    /// Add an AWS account to the organization.
    Add {
        /// Display name.
        name: String,
        #[arg(long)]
        email: String,
        /// The 12-digit AWS account id (generated when omitted, for tests and demos).
        #[arg(long)]
        id: Option<String>,
        /// Root or OU id (default: the root).
        #[arg(long)]
        parent: Option<String>,
    },
    /// Change an account's name or email.
    Update {
        account_id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        email: Option<String>,
    },
    /// Move an account under another root or OU.
    Move { account_id: String, destination: String },
    /// Remove an account from the organization (not the management account).
    Remove { account_id: String },
    /// List accounts (under one parent with --parent).
    List {
        #[arg(long)]
        parent: Option<String>,
    },
    /// Set how Gatehouse reaches an account's IAM and STS to provision permission sets. Without
    /// an account id: the default connection — the organization management account's
    /// credentials, which assume OrganizationAccountAccessRole (or --role-arn) in each account.
    /// Replaces the whole connection. The secret is read from GATEHOUSE_AWS_SECRET_ACCESS_KEY
    /// so that it stays out of the shell history.
    Connect {
        account_id: Option<String>,
        /// IAM endpoint (default: AWS's), e.g. a test endpoint or another partition's.
        #[arg(long)]
        iam_endpoint: Option<String>,
        /// STS endpoint (default: AWS's).
        #[arg(long)]
        sts_endpoint: Option<String>,
        #[arg(long)]
        region: Option<String>,
        /// aws, aws-cn, aws-us-gov, … (default: aws).
        #[arg(long)]
        partition: Option<String>,
        #[arg(long)]
        access_key_id: Option<String>,
        /// The role to assume in the account.
        #[arg(long)]
        role_arn: Option<String>,
        /// The AWS sign-in SAML endpoint roles trust (default: https://signin.aws.amazon.com/saml).
        #[arg(long)]
        saml_endpoint: Option<String>,
    },
    /// Show an account's connection (without an account id: the default one); never the secret.
    Connection { account_id: Option<String> },
    /// Re-create the account's IAM SAML identity provider, or refresh its metadata.
    RepairIdp { account_id: String },
    /// Delete the account's IAM SAML identity provider.
    RemoveIdp { account_id: String },
}

#[derive(Subcommand)]
pub enum OuCommand {
    /// Create an organizational unit under a root or OU.
    Create {
        name: String,
        /// Root or OU id (default: the root).
        #[arg(long)]
        parent: Option<String>,
    },
    /// Rename an organizational unit.
    Rename { ou_id: String, name: String },
    /// Move an organizational unit under another root or OU.
    Move { ou_id: String, destination: String },
    /// Delete an empty organizational unit.
    Delete { ou_id: String },
    /// List the organizational units under a parent (default: the root).
    List {
        #[arg(long)]
        parent: Option<String>,
    },
}

async fn all_accounts(svc: &Services, ctx: &Ctx, parent: Option<&str>) -> anyhow::Result<Vec<gatehouse_core::model::Account>> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = Page { after, limit: 500 };
        let p = match parent {
            Some(parent) => svc.list_accounts_for_parent(ctx, parent, page).await,
            None => svc.list_accounts(ctx, page).await,
        }
        .map_err(service_error)?;
        out.extend(p.items);
        after = p.next;
        if after.is_none() {
            return Ok(out);
        }
    }
}

pub async fn run_account(config: Config, out: OutputFormat, command: AccountCommand) -> anyhow::Result<()> {
    let opened = app::open(&config).await?;
    let svc = &opened.services;
    let ctx = operator_ctx(svc)?;
    let result = async {
        let account = match command {
            AccountCommand::Add { name, email, id, parent } => svc.add_account(&ctx, id, &name, &email, parent).await,
            AccountCommand::Update { account_id, name, email } => svc.update_account(&ctx, &account_id, name, email).await,
            AccountCommand::Move { account_id, destination } => svc.move_account(&ctx, &account_id, &destination).await,
            AccountCommand::Remove { account_id } => {
                svc.remove_account(&ctx, &account_id).await.map_err(service_error)?;
                println!("Account {account_id} is removed from the organization.");
                return Ok(());
            }
            AccountCommand::Connect {
                account_id,
                iam_endpoint,
                sts_endpoint,
                region,
                partition,
                access_key_id,
                role_arn,
                saml_endpoint,
            } => {
                let secret_access_key = std::env::var("GATEHOUSE_AWS_SECRET_ACCESS_KEY").ok().filter(|s| !s.is_empty());
                if access_key_id.is_some() && secret_access_key.is_none() {
                    anyhow::bail!("--access-key-id needs its secret in the environment variable GATEHOUSE_AWS_SECRET_ACCESS_KEY");
                }
                let change = gatehouse_core::services::permission_sets::ConnectionChange {
                    iam_endpoint,
                    sts_endpoint,
                    region,
                    partition,
                    access_key_id,
                    secret_access_key,
                    role_arn,
                    saml_endpoint,
                };
                svc.put_account_connection(&ctx, account_id.as_deref(), change).await.map_err(service_error)?;
                println!("The connection of {} is saved.", account_id.as_deref().unwrap_or("every account without its own"));
                return Ok(());
            }
            AccountCommand::Connection { account_id } => {
                let c = svc.describe_account_connection(&ctx, account_id.as_deref()).await.map_err(service_error)?;
                let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(default)".into());
                output::print_fields(
                    out,
                    vec![
                        ("IamEndpoint", show(&c.iam_endpoint)),
                        ("StsEndpoint", show(&c.sts_endpoint)),
                        ("Region", show(&c.region)),
                        ("Partition", show(&c.partition)),
                        ("AccessKeyId", show(&c.access_key_id)),
                        ("RoleArn", show(&c.role_arn)),
                        ("SamlEndpoint", show(&c.saml_endpoint)),
                    ],
                    &json!({"IamEndpoint": c.iam_endpoint, "StsEndpoint": c.sts_endpoint, "Region": c.region, "Partition": c.partition,
                            "AccessKeyId": c.access_key_id, "RoleArn": c.role_arn, "SamlEndpoint": c.saml_endpoint}),
                );
                return Ok(());
            }
            AccountCommand::RepairIdp { account_id } => {
                let arn = svc.repair_identity_provider(&ctx, &account_id).await.map_err(service_error)?;
                println!("The IAM identity provider of account {account_id} is in place: {arn}");
                return Ok(());
            }
            AccountCommand::RemoveIdp { account_id } => {
                let arn = svc.remove_identity_provider(&ctx, &account_id).await.map_err(service_error)?;
                println!("The IAM identity provider {arn} is removed.");
                return Ok(());
            }
            AccountCommand::List { parent } => {
                let accounts = all_accounts(svc, &ctx, parent.as_deref()).await?;
                let rows = accounts
                    .iter()
                    .map(|a| vec![a.id.clone(), a.name.clone(), a.email.clone(), a.parent_id.clone(), a.status.clone()])
                    .collect();
                output::print(out, &["ACCOUNT ID", "NAME", "EMAIL", "PARENT", "STATUS"], rows, &json!({"Accounts": accounts}));
                return Ok(());
            }
        }
        .map_err(service_error)?;
        output::print_fields(
            out,
            vec![
                ("Id", account.id.clone()),
                ("Name", account.name.clone()),
                ("Email", account.email.clone()),
                ("Parent", account.parent_id.clone()),
            ],
            &account,
        );
        Ok(())
    }
    .await;
    opened.close().await;
    result
}

pub async fn run_ou(config: Config, out: OutputFormat, command: OuCommand) -> anyhow::Result<()> {
    let opened = app::open(&config).await?;
    let svc = &opened.services;
    let ctx = operator_ctx(svc)?;
    let root = svc.instance().map_err(service_error)?.root_id.clone();
    let result = async {
        let unit = match command {
            OuCommand::Create { name, parent } => svc.create_ou(&ctx, parent.as_deref().unwrap_or(&root), &name).await,
            OuCommand::Rename { ou_id, name } => svc.rename_ou(&ctx, &ou_id, &name).await,
            OuCommand::Move { ou_id, destination } => svc.move_ou(&ctx, &ou_id, &destination).await,
            OuCommand::Delete { ou_id } => {
                svc.delete_ou(&ctx, &ou_id).await.map_err(service_error)?;
                println!("Organizational unit {ou_id} is deleted.");
                return Ok(());
            }
            OuCommand::List { parent } => {
                let page = svc
                    .list_ous_for_parent(&ctx, parent.as_deref().unwrap_or(&root), Page { after: None, limit: 1000 })
                    .await
                    .map_err(service_error)?;
                let rows = page.items.iter().map(|u| vec![u.id.clone(), u.name.clone(), u.parent_id.clone().unwrap_or_default()]).collect();
                output::print(out, &["OU ID", "NAME", "PARENT"], rows, &json!({"OrganizationalUnits": page.items}));
                return Ok(());
            }
        }
        .map_err(service_error)?;
        output::print_fields(
            out,
            vec![("Id", unit.id.clone()), ("Name", unit.name.clone()), ("Parent", unit.parent_id.clone().unwrap_or_default())],
            &unit,
        );
        Ok(())
    }
    .await;
    opened.close().await;
    result
}
