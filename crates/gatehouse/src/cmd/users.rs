//! `gatehouse user …`: the identity store's users, through the same services as every front door.

use anyhow::Context;
use clap::{Args, Subcommand};
use gatehouse_core::model::{ExternalId, Page, TypedValue, User, UserProfile, UserQuery};
use gatehouse_core::services::UserChange;
use gatehouse_core::{Ctx, Error, Services};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::io::{BufRead, Write};
use std::path::PathBuf;

use super::operator_ctx;
use crate::app::{self, service_error};
use crate::config::Config;
use crate::output::{self, OutputFormat};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user (user name, primary email, first and last name are required).
    Create(CreateArgs),
    /// List users, optionally filtered.
    List(ListArgs),
    /// Show one user (by user name or UserId).
    Show { user: String },
    /// Change a user's attributes (the user name cannot be changed).
    Update(UpdateArgs),
    /// Disable a user: no sign-in, no edits, no password reset, no new group memberships.
    Disable { user: String },
    /// Enable a disabled user.
    Enable { user: String },
    /// Delete a user and remove their group memberships.
    Delete { user: String },
    /// Generate a one-time password; the user must change it at the next sign-in.
    ResetPassword { user: String },
    /// Set a user's password, read from standard input (first line).
    SetPassword {
        user: String,
        /// The user must change it at the next sign-in.
        #[arg(long)]
        temporary: bool,
    },
    /// Create users from a JSON Lines file (one identitystore-shaped user per line), printing
    /// each user as it is committed.
    Import(ImportArgs),
    /// Email a user an invitation to choose their password and sign in (valid 24 hours, once).
    Invite { user: String },
    /// List a user's portal sessions.
    Sessions { user: String },
    /// End every portal session of a user at once.
    RevokeSessions { user: String },
}

#[derive(Args)]
pub struct Attrs {
    /// Primary email address (must be unique).
    #[arg(long)]
    email: Option<String>,
    /// First name.
    #[arg(long)]
    given_name: Option<String>,
    /// Last name.
    #[arg(long)]
    family_name: Option<String>,
    /// Display name (defaults to "<first> <last>" when creating).
    #[arg(long)]
    display_name: Option<String>,
    #[arg(long)]
    title: Option<String>,
    /// Employee ID (enterprise extension).
    #[arg(long)]
    employee_number: Option<String>,
    #[arg(long)]
    department: Option<String>,
    /// External identifier as ISSUER:ID (repeatable).
    #[arg(long = "external-id", value_name = "ISSUER:ID")]
    external_ids: Vec<String>,
}

#[derive(Args)]
pub struct CreateArgs {
    /// Sign-in name: unique (case-insensitively) and cannot be changed later.
    user_name: String,
    #[command(flatten)]
    attrs: Attrs,
    /// Also generate a one-time password to hand to the user.
    #[arg(long, conflicts_with = "send_invitation")]
    one_time_password: bool,
    /// Email the user an invitation to choose their password (needs smtp_host).
    #[arg(long)]
    send_invitation: bool,
}

#[derive(Args)]
pub struct UpdateArgs {
    user: String,
    #[command(flatten)]
    attrs: Attrs,
    /// Not allowed: shown here so that the refusal is explicit.
    #[arg(long, hide = true)]
    user_name: Option<String>,
}

#[derive(Args)]
pub struct ListArgs {
    /// Only the user with this user name (case-insensitive).
    #[arg(long)]
    user_name: Option<String>,
    /// Only the user with this primary email.
    #[arg(long)]
    email: Option<String>,
    /// Only enabled (true) or disabled (false) users.
    #[arg(long)]
    enabled: Option<bool>,
    /// At most this many users (0: all).
    #[arg(long, default_value_t = 100)]
    limit: u64,
}

#[derive(Args)]
pub struct ImportArgs {
    file: PathBuf,
    /// Stop at the first line that fails (default: report it and go on).
    #[arg(long)]
    stop_on_error: bool,
}

fn parse_external_ids(values: &[String]) -> anyhow::Result<Vec<ExternalId>> {
    values
        .iter()
        .map(|v| {
            let (issuer, id) = v.split_once(':').ok_or_else(|| Error::validation("ExternalIds", format!("'{v}' is not ISSUER:ID")))?;
            Ok(ExternalId { issuer: issuer.to_string(), id: id.to_string() })
        })
        .collect()
}

/// Apply the attributes given on the command line to a profile.
fn apply_attrs(p: &mut UserProfile, a: &Attrs, external_ids: Vec<ExternalId>) {
    if let Some(e) = &a.email {
        p.emails.retain(|x| !x.primary && x.value.as_deref() != Some(e));
        for x in &mut p.emails {
            x.primary = false;
        }
        p.emails.insert(0, TypedValue { value: Some(e.clone()), kind: Some("work".into()), primary: true, display: None });
    }
    if let Some(v) = &a.given_name {
        p.name.given_name = Some(v.clone());
    }
    if let Some(v) = &a.family_name {
        p.name.family_name = Some(v.clone());
    }
    if let Some(v) = &a.display_name {
        p.display_name = Some(v.clone());
    }
    if let Some(v) = &a.title {
        p.title = Some(v.clone());
    }
    if let Some(v) = &a.employee_number {
        p.enterprise.employee_number = Some(v.clone());
    }
    if let Some(v) = &a.department {
        p.enterprise.department = Some(v.clone());
    }
    if !external_ids.is_empty() {
        p.external_ids = external_ids;
    }
}

fn looks_like_id(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

/// A user named by UserId or user name.
pub async fn resolve(services: &Services, ctx: &Ctx, user: &str) -> anyhow::Result<User> {
    let found = if looks_like_id(user) { services.describe_user(ctx, user).await } else { services.find_user_by_name(ctx, user).await };
    found.map_err(service_error)
}

fn primary_email(u: &User) -> String {
    u.profile.primary_email().unwrap_or("").to_string()
}

fn user_rows(users: &[User]) -> Vec<Vec<String>> {
    users
        .iter()
        .map(|u| {
            vec![
                u.user_id.clone(),
                u.profile.user_name.clone(),
                u.profile.display_name.clone().unwrap_or_default(),
                primary_email(u),
                u.status().into(),
            ]
        })
        .collect()
}

fn show(out: OutputFormat, u: &User) {
    let mut fields = vec![
        ("UserId", u.user_id.clone()),
        ("UserName", u.profile.user_name.clone()),
        ("DisplayName", u.profile.display_name.clone().unwrap_or_default()),
        ("GivenName", u.profile.name.given_name.clone().unwrap_or_default()),
        ("FamilyName", u.profile.name.family_name.clone().unwrap_or_default()),
        ("Email", primary_email(u)),
        ("Status", u.status().into()),
    ];
    if let Some(t) = &u.profile.title {
        fields.push(("Title", t.clone()));
    }
    if let Some(e) = &u.profile.enterprise.employee_number {
        fields.push(("EmployeeNumber", e.clone()));
    }
    if let Some(d) = &u.profile.enterprise.department {
        fields.push(("Department", d.clone()));
    }
    for x in &u.profile.external_ids {
        fields.push(("ExternalId", format!("{}:{}", x.issuer, x.id)));
    }
    fields.push(("CreatedAt", u.meta.created_at.to_rfc3339()));
    fields.push(("UpdatedAt", u.meta.updated_at.to_rfc3339()));
    fields.push(("Revision", u.meta.revision.to_string()));
    output::print_fields(out, fields, u);
}

pub async fn run(config: Config, out: OutputFormat, command: UserCommand) -> anyhow::Result<()> {
    let opened = app::open(&config).await?;
    let svc = &opened.services;
    let ctx = operator_ctx(svc)?;
    let result = run_with(svc, &ctx, out, command).await;
    opened.close().await;
    result
}

async fn run_with(svc: &Services, ctx: &Ctx, out: OutputFormat, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create(args) => {
            if args.send_invitation && !svc.email_configured() {
                anyhow::bail!(service_error(gatehouse_core::Error::validation(
                    "Email",
                    "Email is not configured (set smtp_host and smtp_from); use --one-time-password instead"
                )));
            }
            let mut profile = UserProfile { user_name: args.user_name, ..Default::default() };
            apply_attrs(&mut profile, &args.attrs, parse_external_ids(&args.attrs.external_ids)?);
            if profile.display_name.is_none()
                && let (Some(g), Some(f)) = (&profile.name.given_name, &profile.name.family_name)
            {
                profile.display_name = Some(format!("{g} {f}"));
            }
            let user = svc.create_user(ctx, profile).await.map_err(service_error)?;
            let otp =
                if args.one_time_password { Some(svc.reset_password(ctx, &user.user_id).await.map_err(service_error)?) } else { None };
            if args.send_invitation {
                svc.send_invitation(ctx, &user.user_id).await.map_err(service_error)?;
                eprintln!("An invitation was emailed to {}.", user.profile.primary_email().unwrap_or_default());
            }
            match out {
                OutputFormat::Json => {
                    let mut v = serde_json::to_value(&user)?;
                    if let Some(p) = &otp {
                        v["OneTimePassword"] = json!(&**p);
                    }
                    println!("{}", serde_json::to_string_pretty(&v)?);
                }
                OutputFormat::Table => {
                    show(out, &user);
                    if let Some(p) = &otp {
                        println!("\nOne-time password (shown once; the user must change it at the next sign-in): {}", &**p);
                    }
                }
            }
        }
        UserCommand::List(args) => {
            let query = UserQuery { user_name: args.user_name, email: args.email, active: args.enabled, ..Default::default() };
            let mut users = Vec::new();
            let mut after = None;
            loop {
                let want = if args.limit == 0 { 100 } else { (args.limit - users.len() as u64).min(100) };
                let page = svc.list_users(ctx, query.clone(), Page { after, limit: want }).await.map_err(service_error)?;
                users.extend(page.items);
                after = page.next;
                if after.is_none() || (args.limit != 0 && users.len() as u64 >= args.limit) {
                    break;
                }
            }
            output::print(out, &["USER ID", "USER NAME", "DISPLAY NAME", "EMAIL", "STATUS"], user_rows(&users), &json!({"Users": users}));
        }
        UserCommand::Show { user } => show(out, &resolve(svc, ctx, &user).await?),
        UserCommand::Update(args) => {
            let user = resolve(svc, ctx, &args.user).await?;
            let external_ids = parse_external_ids(&args.attrs.external_ids)?;
            let new_name = args.user_name.clone();
            let attrs = args.attrs;
            let params = json!({"attributes": changed_names(&attrs, new_name.is_some())});
            let change = UserChange::new(params, move |p, _active| {
                if let Some(n) = new_name {
                    p.user_name = n;
                }
                apply_attrs(p, &attrs, external_ids);
                Ok(())
            });
            let updated = svc.update_user(ctx, &user.user_id, change).await.map_err(service_error)?;
            show(out, &updated);
        }
        UserCommand::Invite { user } => {
            let u = resolve(svc, ctx, &user).await?;
            svc.send_invitation(ctx, &u.user_id).await.map_err(service_error)?;
            println!("An invitation was emailed to {}.", u.profile.primary_email().unwrap_or_default());
        }
        UserCommand::Sessions { user } => {
            let u = resolve(svc, ctx, &user).await?;
            let sessions = svc.list_user_sessions(ctx, &u.user_id).await.map_err(service_error)?;
            let rows = sessions
                .iter()
                .map(|s| {
                    vec![
                        s.session_id.clone(),
                        s.stage.as_str().to_string(),
                        s.source_ip.clone(),
                        s.created_at.to_rfc3339(),
                        s.expires_at.to_rfc3339(),
                    ]
                })
                .collect();
            output::print(out, &["SESSION ID", "STAGE", "FROM", "STARTED", "EXPIRES"], rows, &serde_json::json!({"Sessions": sessions}));
        }
        UserCommand::RevokeSessions { user } => {
            let u = resolve(svc, ctx, &user).await?;
            let n = svc.revoke_user_sessions(ctx, &u.user_id).await.map_err(service_error)?;
            println!("Ended {n} session(s) of {}.", u.profile.user_name);
        }
        UserCommand::Disable { user } => {
            let u = resolve(svc, ctx, &user).await?;
            let u = svc.set_user_active(ctx, &u.user_id, false).await.map_err(service_error)?;
            println!("User {} ({}) is disabled.", u.profile.user_name, u.user_id);
        }
        UserCommand::Enable { user } => {
            let u = resolve(svc, ctx, &user).await?;
            let u = svc.set_user_active(ctx, &u.user_id, true).await.map_err(service_error)?;
            println!("User {} ({}) is enabled.", u.profile.user_name, u.user_id);
        }
        UserCommand::Delete { user } => {
            let u = resolve(svc, ctx, &user).await?;
            svc.delete_user(ctx, &u.user_id).await.map_err(service_error)?;
            println!("User {} ({}) is deleted.", u.profile.user_name, u.user_id);
        }
        UserCommand::ResetPassword { user } => {
            let u = resolve(svc, ctx, &user).await?;
            let otp = svc.reset_password(ctx, &u.user_id).await.map_err(service_error)?;
            match out {
                OutputFormat::Json => println!("{}", json!({"UserId": u.user_id, "OneTimePassword": &*otp})),
                OutputFormat::Table => {
                    println!("One-time password for {} (shown once; must be changed at the next sign-in): {}", u.profile.user_name, &*otp)
                }
            }
        }
        UserCommand::SetPassword { user, temporary } => {
            let u = resolve(svc, ctx, &user).await?;
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
            let password = line.trim_end_matches(['\r', '\n']);
            svc.set_password(ctx, &u.user_id, password, temporary).await.map_err(service_error)?;
            println!(
                "Password of {} is set{}.",
                u.profile.user_name,
                if temporary { " (must be changed at the next sign-in)" } else { "" }
            );
        }
        UserCommand::Import(args) => import(svc, ctx, args).await?,
    }
    Ok(())
}

fn changed_names(a: &Attrs, user_name: bool) -> Vec<&'static str> {
    let mut v = Vec::new();
    for (set, name) in [
        (a.email.is_some(), "emails"),
        (a.given_name.is_some(), "name.givenName"),
        (a.family_name.is_some(), "name.familyName"),
        (a.display_name.is_some(), "displayName"),
        (a.title.is_some(), "title"),
        (a.employee_number.is_some(), "enterprise.employeeNumber"),
        (a.department.is_some(), "enterprise.department"),
        (!a.external_ids.is_empty(), "externalIds"),
        (user_name, "userName"),
    ] {
        if set {
            v.push(name);
        }
    }
    v
}

/// One user per line; each is its own transaction, printed once committed ("created <name> <id>").
async fn import(svc: &Services, ctx: &Ctx, args: ImportArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let bar = ProgressBar::new(lines.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} users ({per_sec}, eta {eta})").unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let (mut created, mut failed) = (0u64, 0u64);
    let stdout = std::io::stdout();
    for (n, line) in lines.iter().enumerate() {
        let outcome = match serde_json::from_str::<UserProfile>(line) {
            Ok(p) => svc.create_user(ctx, p).await.map_err(anyhow::Error::new),
            Err(e) => Err(anyhow::Error::new(Error::validation("line", format!("not a user object: {e}")))),
        };
        match outcome {
            Ok(u) => {
                created += 1;
                let mut lock = stdout.lock();
                writeln!(lock, "created {} {}", u.profile.user_name, u.user_id)?;
                lock.flush()?;
            }
            Err(e) => {
                failed += 1;
                bar.suspend(|| eprintln!("line {}: {}", n + 1, output::describe_error(&e)));
                if args.stop_on_error {
                    bar.finish_and_clear();
                    return Err(e);
                }
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    eprintln!("{created} created, {failed} failed");
    if failed > 0 {
        anyhow::bail!("{failed} of {} lines failed", lines.len());
    }
    Ok(())
}
