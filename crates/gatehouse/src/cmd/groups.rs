//! `gatehouse group …`: groups and memberships.

use clap::Subcommand;
use gatehouse_core::model::{Group, GroupProfile, GroupQuery, Page};
use gatehouse_core::{Ctx, Services};
use serde_json::json;

use super::operator_ctx;
use super::users::resolve as resolve_user;
use crate::app::{self, service_error};
use crate::config::Config;
use crate::output::{self, OutputFormat};

#[derive(Subcommand)]
pub enum GroupCommand {
    /// Create a group (display names are unique, case-insensitively).
    Create {
        name: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// List groups.
    List {
        #[arg(long, default_value_t = 100)]
        limit: u64,
    },
    /// Show a group and its members (by display name or GroupId).
    Show { group: String },
    /// Add a user to a group.
    AddMember { group: String, user: String },
    /// Remove a user from a group.
    RemoveMember { group: String, user: String },
    /// Delete a group and its memberships.
    Delete { group: String },
}

pub async fn resolve(svc: &Services, ctx: &Ctx, group: &str) -> anyhow::Result<Group> {
    let found =
        if uuid::Uuid::parse_str(group).is_ok() { svc.describe_group(ctx, group).await } else { svc.find_group_by_name(ctx, group).await };
    found.map_err(service_error)
}

pub async fn run(config: Config, out: OutputFormat, command: GroupCommand) -> anyhow::Result<()> {
    let opened = app::open(&config).await?;
    let ctx = operator_ctx(&opened.services)?;
    let result = run_with(&opened.services, &ctx, out, command).await;
    opened.close().await;
    result
}

async fn run_with(svc: &Services, ctx: &Ctx, out: OutputFormat, command: GroupCommand) -> anyhow::Result<()> {
    match command {
        GroupCommand::Create { name, description } => {
            let g = svc
                .create_group(ctx, GroupProfile { display_name: name, description, external_ids: vec![] })
                .await
                .map_err(service_error)?;
            output::print_fields(out, vec![("GroupId", g.group_id.clone()), ("DisplayName", g.profile.display_name.clone())], &g);
        }
        GroupCommand::List { limit } => {
            let page = svc.list_groups(ctx, GroupQuery::default(), Page { after: None, limit }).await.map_err(service_error)?;
            let rows = page
                .items
                .iter()
                .map(|g| vec![g.group_id.clone(), g.profile.display_name.clone(), g.profile.description.clone().unwrap_or_default()])
                .collect();
            output::print(out, &["GROUP ID", "DISPLAY NAME", "DESCRIPTION"], rows, &json!({"Groups": page.items}));
        }
        GroupCommand::Show { group } => {
            let g = resolve(svc, ctx, &group).await?;
            let mut members = Vec::new();
            let mut after = None;
            loop {
                let page = svc.list_group_memberships(ctx, &g.group_id, Page { after, limit: 100 }).await.map_err(service_error)?;
                members.extend(page.items);
                after = page.next;
                if after.is_none() {
                    break;
                }
            }
            match out {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&json!({"Group": g, "Memberships": members}))?),
                OutputFormat::Table => {
                    println!(
                        "GroupId      {}\nDisplayName  {}\nDescription  {}\nMembers      {}",
                        g.group_id,
                        g.profile.display_name,
                        g.profile.description.clone().unwrap_or_default(),
                        members.len()
                    );
                    for m in &members {
                        println!("  {} (membership {})", m.user_id, m.membership_id);
                    }
                }
            }
        }
        GroupCommand::AddMember { group, user } => {
            let g = resolve(svc, ctx, &group).await?;
            let member_id = if uuid::Uuid::parse_str(&user).is_ok() { user.clone() } else { resolve_user(svc, ctx, &user).await?.user_id };
            let m = svc.create_group_membership(ctx, &g.group_id, &member_id).await.map_err(service_error)?;
            output::print_fields(
                out,
                vec![("MembershipId", m.membership_id.clone()), ("GroupId", m.group_id.clone()), ("UserId", m.user_id.clone())],
                &m,
            );
        }
        GroupCommand::RemoveMember { group, user } => {
            let g = resolve(svc, ctx, &group).await?;
            let u = resolve_user(svc, ctx, &user).await?;
            let m = svc.get_group_membership_id(ctx, &g.group_id, &u.user_id).await.map_err(service_error)?;
            svc.delete_group_membership(ctx, &m.membership_id).await.map_err(service_error)?;
            println!("Removed {} from {}.", u.profile.user_name, g.profile.display_name);
        }
        GroupCommand::Delete { group } => {
            let g = resolve(svc, ctx, &group).await?;
            svc.delete_group(ctx, &g.group_id).await.map_err(service_error)?;
            println!("Group {} ({}) is deleted.", g.profile.display_name, g.group_id);
        }
    }
    Ok(())
}
