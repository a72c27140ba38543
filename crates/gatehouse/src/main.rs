//! `gatehouse`: the server and its administration commands, in one binary.

mod app;
mod cmd;
mod config;
mod output;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::output::OutputFormat;

/// A request allocates many small short-lived values (JSON, SQL, rows); mimalloc serves them with
/// a quarter of glibc malloc's CPU, measured under SCIM provisioning (docs/design/0011).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EXIT_CODES: &str = "Exit codes: 0 success, 1 other error, 2 usage, 3 invalid input, 4 not found, \
5 conflict (duplicate, disabled user), 6 access denied, 7 database unavailable, 8 quota exceeded.";

#[derive(Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "Self-hosted workforce single sign-on and AWS access center",
    long_about = "Gatehouse: an identity store, SAML identity provider, user portal and AWS account access in one binary.\n\n\
Start with `gatehouse serve`: the first start creates the instance, an Administrator user with a one-time \
password and a bootstrap access key, and prints them once.",
    after_help = EXIT_CODES
)]
struct Cli {
    /// TOML configuration file (every key can also be set as a GATEHOUSE_<KEY> environment variable).
    #[arg(long, short = 'c', global = true, env = "GATEHOUSE_CONFIG")]
    config: Option<PathBuf>,
    /// Override the data directory (database and master key).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Override the database URL (postgres://… or sqlite:…).
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Output for people (table) or scripts (json).
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = OutputFormat::Table)]
    output: OutputFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (creates the instance on first start).
    Serve(cmd::serve::ServeArgs),
    /// Create the instance and print the administrator's sign-in and bootstrap access key (once).
    Init,
    /// Copy the SQLite database to a file while the server runs (a consistent snapshot), and
    /// print every table's row count.
    Backup(cmd::data::BackupArgs),
    /// Replace the SQLite database with a backup (stop the server first).
    Restore(cmd::data::RestoreArgs),
    /// Move this SQLite install to an empty PostgreSQL database (stop the server first), with a
    /// progress bar and every table counted on both sides at the end.
    Migrate(cmd::data::MigrateArgs),
    /// Print every table's row count (compare a pg_dump's restore with its source).
    Check,
    /// The master key that seals secrets at rest: generate one, or rotate it.
    #[command(subcommand)]
    Key(cmd::key::KeyCommand),
    /// Manage users of the identity store.
    #[command(subcommand)]
    User(cmd::users::UserCommand),
    /// Manage groups and their members.
    #[command(subcommand)]
    Group(cmd::groups::GroupCommand),
    /// Manage the AWS accounts of the organization.
    #[command(subcommand)]
    Account(cmd::org::AccountCommand),
    /// Manage organizational units.
    #[command(subcommand)]
    Ou(cmd::org::OuCommand),
    /// Read the CloudTrail-shaped audit log.
    #[command(subcommand)]
    Audit(cmd::audit::AuditCommand),
    /// Administration credentials and the identity store's network configuration.
    #[command(subcommand)]
    Admin(cmd::access_keys::AdminCommand),
    /// Automatic provisioning (SCIM) from an external identity provider.
    #[command(subcommand)]
    Scim(cmd::scim::ScimCommand),
    /// Multi-factor authentication: the settings, and users' MFA devices.
    #[command(subcommand)]
    Mfa(cmd::mfa::MfaCommand),
    /// Applications that sign in through Gatehouse (SAML 2.0): catalog, configuration,
    /// attribute mappings, certificates and assignments.
    #[command(subcommand)]
    App(cmd::apps::AppCommand),
    /// Where users come from: the Gatehouse directory, an external SAML 2.0 identity provider
    /// (its settings and certificates) or Active Directory over LDAP (connection, attribute
    /// mappings, synchronization), and switching between them.
    #[command(subcommand)]
    IdentitySource(cmd::identity_source::IdentitySourceCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut config = match config::Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    if let Some(d) = cli.data_dir {
        config.data_dir = d;
    }
    if let Some(u) = cli.database_url {
        config.database_url = u;
    }
    let serving = matches!(cli.command, Command::Serve(_));
    output::init_logging(&config, serving);

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let out = cli.output;
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => cmd::serve::run(config, args).await,
            Command::Init => cmd::serve::init(config, out).await,
            Command::Backup(a) => cmd::data::backup(config, out, a).await,
            Command::Restore(a) => cmd::data::restore(config, out, a).await,
            Command::Migrate(a) => cmd::data::migrate(config, out, a).await,
            Command::Check => cmd::data::check(config, out).await,
            Command::Key(c) => cmd::key::run(config, out, c).await,
            Command::User(c) => cmd::users::run(config, out, c).await,
            Command::Group(c) => cmd::groups::run(config, out, c).await,
            Command::Account(c) => cmd::org::run_account(config, out, c).await,
            Command::Ou(c) => cmd::org::run_ou(config, out, c).await,
            Command::Audit(c) => cmd::audit::run(config, out, c).await,
            Command::Admin(c) => cmd::access_keys::run(config, out, c).await,
            Command::Scim(c) => cmd::scim::run(config, out, c).await,
            Command::Mfa(c) => cmd::mfa::run(config, out, c).await,
            Command::App(c) => cmd::apps::run(config, out, c).await,
            Command::IdentitySource(c) => cmd::identity_source::run(config, out, c).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", output::describe_error(&e));
            ExitCode::from(output::exit_code(&e))
        }
    }
}
