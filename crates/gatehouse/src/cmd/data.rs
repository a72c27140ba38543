//! Operating on the database as a whole: `gatehouse backup`, `restore`, `migrate` (SQLite to
//! PostgreSQL) and `check`. Each prints every table's row count, so a copy can be compared with
//! its source. Restore and migrate need the server stopped: `serve` holds a shared lock on
//! `<data_dir>/serve.lock` and they take it exclusively.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use gatehouse_store::transfer::{TableCount, copy_all, sqlite_snapshot, table_counts};
use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::{Database, DatabaseConnection};

use crate::config::{Config, redact_url};
use crate::output::OutputFormat;

const LOCK_FILE: &str = "serve.lock";

/// `serve`'s hold on the data directory: restore and migrate refuse while it is held.
pub fn hold_serve_lock(config: &Config) -> anyhow::Result<File> {
    let file = lock_file(config)?;
    file.try_lock_shared().map_err(|_| anyhow::anyhow!("{} is locked by a restore or migration in progress", config.data_dir.display()))?;
    Ok(file)
}

fn lock_file(config: &Config) -> anyhow::Result<File> {
    std::fs::create_dir_all(&config.data_dir).with_context(|| format!("creating {}", config.data_dir.display()))?;
    let path = config.data_dir.join(LOCK_FILE);
    File::options().create(true).truncate(false).write(true).open(&path).with_context(|| format!("opening {}", path.display()))
}

/// The data directory to ourselves: no server runs on it while this is held.
fn exclusive(config: &Config) -> anyhow::Result<File> {
    let file = lock_file(config)?;
    file.try_lock().map_err(|_| anyhow::anyhow!("a Gatehouse server is running on {}: stop it first", config.data_dir.display()))?;
    Ok(file)
}

fn sqlite_path(config: &Config) -> anyhow::Result<PathBuf> {
    if !config.database_url.is_empty() && !config.database_url.starts_with("sqlite:") {
        bail!(
            "this Gatehouse uses {}: back PostgreSQL up with pg_dump (and restore with pg_restore), then compare `gatehouse check` on both",
            redact_url(&config.database_url)
        );
    }
    Ok(config.data_dir.join("gatehouse.db"))
}

fn sqlite_url(path: &Path, mode: &str) -> String {
    format!("sqlite://{}?mode={mode}", path.display())
}

/// Open a database, bringing its schema up to date (Gatehouse's migrations).
async fn open_migrated(url: &str) -> anyhow::Result<DatabaseConnection> {
    let options = gatehouse_store::StoreOptions {
        max_connections: 4,
        sqlite_synchronous_full: true,
        connect_timeout: std::time::Duration::from_secs(10),
    };
    let store = gatehouse_store::connect(url, &options).await.map_err(|e| anyhow::anyhow!("cannot open {}: {e}", redact_url(url)))?;
    Ok(store.connection().clone())
}

fn print_counts(out: OutputFormat, counts: &[TableCount]) {
    match out {
        OutputFormat::Json => {
            let rows: Vec<_> =
                counts.iter().map(|c| serde_json::json!({"Table": c.table, "Source": c.source, "Target": c.target})).collect();
            println!("{}", serde_json::json!({ "Tables": rows }));
        }
        OutputFormat::Table => {
            println!("{:<24} {:>10} {:>10}", "TABLE", "SOURCE", "COPY");
            for c in counts {
                let mark = if c.source == c.target { "" } else { "  MISMATCH" };
                println!("{:<24} {:>10} {:>10}{mark}", c.table, c.source, c.target);
            }
        }
    }
}

fn compare(source: Vec<(&'static str, u64)>, target: Vec<(&'static str, u64)>) -> Vec<TableCount> {
    source.into_iter().zip(target).map(|((table, source), (_, target))| TableCount { table, source, target }).collect()
}

fn check_equal(counts: &[TableCount]) -> anyhow::Result<()> {
    let off: Vec<_> = counts.iter().filter(|c| c.source != c.target).map(|c| c.table).collect();
    if off.is_empty() { Ok(()) } else { bail!("the copy differs from its source in: {}", off.join(", ")) }
}

#[derive(Args)]
pub struct BackupArgs {
    /// Where to write the backup (a SQLite database file; it must not exist yet).
    pub file: PathBuf,
}

/// A consistent online copy of the SQLite database (the server may keep running).
pub async fn backup(config: Config, out: OutputFormat, args: BackupArgs) -> anyhow::Result<()> {
    let path = sqlite_path(&config)?;
    if args.file.exists() {
        bail!("{} exists already: choose a new file", args.file.display());
    }
    let source = open_migrated(&sqlite_url(&path, "rwc")).await?;
    sqlite_snapshot(&source, &args.file).await.with_context(|| format!("writing {}", args.file.display()))?;
    let copy = Database::connect(sqlite_url(&args.file, "ro")).await?;
    let counts = compare(table_counts(&source).await?, table_counts(&copy).await?);
    print_counts(out, &counts);
    eprintln!("Backed up to {}. Keep the master key ({}) with it: it decrypts the secrets.", args.file.display(), master_key_hint(&config));
    Ok(())
}

fn master_key_hint(config: &Config) -> String {
    if config.master_key.is_empty() { config.data_dir.join("master.key").display().to_string() } else { "GATEHOUSE_MASTER_KEY".into() }
}

#[derive(Args)]
pub struct RestoreArgs {
    /// A file written by `gatehouse backup`.
    pub file: PathBuf,
}

/// Replace the SQLite database with a backup (the server must be stopped).
pub async fn restore(config: Config, out: OutputFormat, args: RestoreArgs) -> anyhow::Result<()> {
    let path = sqlite_path(&config)?;
    let _lock = exclusive(&config)?;
    let backup = Database::connect(sqlite_url(&args.file, "ro")).await.with_context(|| format!("opening {}", args.file.display()))?;
    let counts = table_counts(&backup).await.map_err(|e| anyhow::anyhow!("{} is not a Gatehouse backup: {e}", args.file.display()))?;
    if counts.iter().find(|(t, _)| *t == "instance").map(|(_, n)| *n) != Some(1) {
        bail!("{} is not a Gatehouse backup: it holds no instance", args.file.display());
    }
    backup.close().await?;
    // Copy next to the database, then rename over it: the database is the old one or the
    // restored one, never half of each. Its write-ahead log belongs to the old one.
    let staged = path.with_extension("db.restoring");
    std::fs::copy(&args.file, &staged).with_context(|| format!("copying {}", args.file.display()))?;
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    std::fs::rename(&staged, &path).with_context(|| format!("replacing {}", path.display()))?;
    let restored = open_migrated(&sqlite_url(&path, "rwc")).await?;
    let counts = compare(counts, table_counts(&restored).await?);
    print_counts(out, &counts);
    check_equal(&counts)?;
    eprintln!("Restored {} from {}.", path.display(), args.file.display());
    Ok(())
}

#[derive(Args)]
pub struct MigrateArgs {
    /// The PostgreSQL database to move to (postgres://user:pass@host/db); it must hold no
    /// Gatehouse data yet.
    #[arg(long)]
    pub to: String,
}

/// Move a single-node SQLite install to PostgreSQL: every table copied in one transaction,
/// then counted on both sides.
pub async fn migrate(config: Config, out: OutputFormat, args: MigrateArgs) -> anyhow::Result<()> {
    let path = sqlite_path(&config)?;
    if !args.to.starts_with("postgres://") && !args.to.starts_with("postgresql://") {
        bail!("--to must be a postgres:// URL");
    }
    let _lock = exclusive(&config)?;
    let source = open_migrated(&sqlite_url(&path, "rw")).await?;
    let target = open_migrated(&args.to).await?;
    let before = table_counts(&target).await?;
    if before.iter().any(|(t, n)| *t == "instance" && *n > 0) {
        bail!("{} holds a Gatehouse instance already: migrate into an empty database", redact_url(&args.to));
    }
    let totals = table_counts(&source).await?;
    let bar = ProgressBar::new(totals.iter().map(|(_, n)| n).sum());
    bar.set_style(ProgressStyle::with_template("{msg:24} {bar:40} {pos}/{len} rows").unwrap_or_else(|_| ProgressStyle::default_bar()));
    if out == OutputFormat::Json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let done_before = std::sync::Mutex::new((String::new(), 0u64, 0u64));
    let progress = |table: &str, copied: u64| {
        let mut d = done_before.lock().unwrap_or_else(|p| p.into_inner());
        if d.0 != table {
            *d = (table.to_string(), d.1 + d.2, 0);
        }
        d.2 = copied;
        bar.set_message(table.to_string());
        bar.set_position(d.1 + d.2);
    };
    let counts =
        copy_all(&source, &target, &progress).await.map_err(|e| anyhow::anyhow!("the migration stopped, nothing was kept: {e}"))?;
    bar.finish_and_clear();
    print_counts(out, &counts);
    check_equal(&counts)?;
    eprintln!(
        "Migrated to {}. Now set database_url to it and start Gatehouse with the same master key ({}).",
        redact_url(&args.to),
        master_key_hint(&config)
    );
    Ok(())
}

/// Every table's row count (compare a PostgreSQL dump and its restore, or two nodes' views).
pub async fn check(config: Config, out: OutputFormat) -> anyhow::Result<()> {
    let db = open_migrated(&config.effective_database_url()).await?;
    let counts: Vec<TableCount> =
        table_counts(&db).await?.into_iter().map(|(table, n)| TableCount { table, source: n, target: n }).collect();
    match out {
        OutputFormat::Json => {
            let rows: serde_json::Map<String, serde_json::Value> = counts.iter().map(|c| (c.table.to_string(), c.source.into())).collect();
            println!("{}", serde_json::json!({ "Tables": rows }));
        }
        OutputFormat::Table => {
            for c in &counts {
                println!("{:<24} {:>10}", c.table, c.source);
            }
        }
    }
    Ok(())
}
