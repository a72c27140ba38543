//! `gatehouse audit tail|export`: the audit log as CloudTrail delivers it.

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use clap::{Subcommand, ValueEnum};
use flate2::Compression;
use flate2::write::GzEncoder;
use gatehouse_core::model::{AuditQuery, AuditRecord, StoredAudit};
use gatehouse_core::{Ctx, Services};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::operator_ctx;
use crate::app::{self, service_error};
use crate::config::Config;
use crate::output::{self, OutputFormat};

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Show the latest records, and with --follow keep printing new ones.
    Tail {
        /// How many of the latest records to show first.
        #[arg(short = 'n', long, default_value_t = 20)]
        lines: u64,
        #[arg(short, long)]
        follow: bool,
        /// Only records with this eventName.
        #[arg(long)]
        event_name: Option<String>,
    },
    /// Export records from a point in time, as JSON Lines or CloudTrail log files.
    Export {
        /// RFC 3339 time (2026-01-31T00:00:00Z) or an age such as 90m, 12h, 7d.
        #[arg(long)]
        since: String,
        /// RFC 3339 time or age; default now.
        #[arg(long)]
        until: Option<String>,
        #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
        format: ExportFormat,
        /// jsonl: a file (default standard output). cloudtrail: a directory for the .json.gz files.
        #[arg(long = "to")]
        destination: Option<PathBuf>,
        /// cloudtrail: records per file.
        #[arg(long, default_value_t = 1000)]
        records_per_file: usize,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    /// One CloudTrail record per line.
    Jsonl,
    /// gzip files shaped {"Records": [...]}, named as CloudTrail names its log files.
    Cloudtrail,
}

/// RFC 3339, or an age before now: 30s, 90m, 12h, 7d.
pub fn parse_time(text: &str, now: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let (num, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: i64 = num.parse().map_err(|_| anyhow::anyhow!("'{text}' is neither an RFC 3339 time nor an age like 12h or 7d"))?;
    let age = match unit {
        "s" => Duration::seconds(n),
        "m" => Duration::minutes(n),
        "h" => Duration::hours(n),
        "d" => Duration::days(n),
        _ => anyhow::bail!("'{text}': the unit must be s, m, h or d"),
    };
    Ok(now - age)
}

fn summary_row(s: &StoredAudit) -> Vec<String> {
    let r = &s.record;
    let who = r.user_identity.get("arn").or_else(|| r.user_identity.get("invokedBy")).and_then(|v| v.as_str()).unwrap_or("").to_string();
    vec![r.event_time.to_rfc3339(), r.event_source.clone(), r.event_name.clone(), who, r.error_code.clone().unwrap_or_default()]
}

pub async fn run(config: Config, out: OutputFormat, command: AuditCommand) -> anyhow::Result<()> {
    let opened = app::open(&config).await?;
    let svc = &opened.services;
    let ctx = operator_ctx(svc)?;
    let result = match command {
        AuditCommand::Tail { lines, follow, event_name } => tail(svc, &ctx, out, lines, follow, event_name).await,
        AuditCommand::Export { since, until, format, destination, records_per_file } => {
            let now = Utc::now();
            let since = parse_time(&since, now)?;
            let until = until.map(|u| parse_time(&u, now)).transpose()?;
            export(svc, &ctx, &config, since, until, format, destination.as_deref(), records_per_file.max(1)).await
        }
    };
    opened.close().await;
    result
}

async fn tail(svc: &Services, ctx: &Ctx, out: OutputFormat, lines: u64, follow: bool, event_name: Option<String>) -> anyhow::Result<()> {
    // Find the last `lines` records by reading forward in pages (the log is append-only).
    let mut recent: std::collections::VecDeque<StoredAudit> = std::collections::VecDeque::new();
    let mut after = None;
    loop {
        let q = AuditQuery { after_seq: after, event_name: event_name.clone(), limit: 1000, ..Default::default() };
        let page = svc.read_events_quietly(ctx, q).await.map_err(service_error)?;
        let done = page.len() < 1000;
        for r in page {
            after = Some(r.seq);
            recent.push_back(r);
            while recent.len() as u64 > lines {
                recent.pop_front();
            }
        }
        if done {
            break;
        }
    }
    let print = |rows: &[StoredAudit]| match out {
        OutputFormat::Json => {
            for r in rows {
                println!("{}", serde_json::to_string(&r.record).unwrap_or_default());
            }
        }
        OutputFormat::Table => {
            for r in rows {
                println!("{}", summary_row(r).join("  "));
            }
        }
    };
    let first: Vec<StoredAudit> = recent.into_iter().collect();
    if out == OutputFormat::Table && !follow {
        output::print_table(&["TIME", "SOURCE", "EVENT", "PRINCIPAL", "ERROR"], &first.iter().map(summary_row).collect::<Vec<_>>());
    } else {
        print(&first);
    }
    if !follow {
        return Ok(());
    }
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let q = AuditQuery { after_seq: after, event_name: event_name.clone(), limit: 1000, ..Default::default() };
        let page = svc.read_events_quietly(ctx, q).await.map_err(service_error)?;
        if let Some(last) = page.last() {
            after = Some(last.seq);
        }
        print(&page);
        std::io::stdout().flush()?;
    }
}

#[allow(clippy::too_many_arguments)]
async fn export(
    svc: &Services,
    ctx: &Ctx,
    config: &Config,
    since: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
    format: ExportFormat,
    destination: Option<&Path>,
    per_file: usize,
) -> anyhow::Result<()> {
    let instance = svc.instance().map_err(service_error)?.clone();
    let mut jsonl: Box<dyn Write> = match (format, destination) {
        (ExportFormat::Jsonl, Some(path)) => {
            Box::new(std::io::BufWriter::new(std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?))
        }
        _ => Box::new(std::io::stdout().lock()),
    };
    if let (ExportFormat::Cloudtrail, Some(dir)) = (format, destination) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut batch: Vec<AuditRecord> = Vec::new();
    let (mut total, mut files) = (0u64, 0u64);
    let mut after = None;
    // The export is itself audited once (LookupEvents), then read in pages.
    let mut first = true;
    loop {
        let q = AuditQuery { after_seq: after, since: Some(since), until, limit: 1000, ..Default::default() };
        let page = if first { svc.lookup_events(ctx, q).await } else { svc.read_events_quietly(ctx, q).await }.map_err(service_error)?;
        first = false;
        let done = page.len() < 1000;
        for r in page {
            after = Some(r.seq);
            total += 1;
            match format {
                ExportFormat::Jsonl => writeln!(jsonl, "{}", serde_json::to_string(&r.record)?)?,
                ExportFormat::Cloudtrail => {
                    batch.push(r.record);
                    if batch.len() >= per_file {
                        write_cloudtrail_file(destination, &instance.management_account_id, &config.region, &batch)?;
                        files += 1;
                        batch.clear();
                    }
                }
            }
        }
        if done {
            break;
        }
    }
    if !batch.is_empty() {
        write_cloudtrail_file(destination, &instance.management_account_id, &config.region, &batch)?;
        files += 1;
    }
    jsonl.flush()?;
    match format {
        ExportFormat::Jsonl => eprintln!("{total} records exported"),
        ExportFormat::Cloudtrail => eprintln!("{total} records exported in {files} files"),
    }
    Ok(())
}

/// `<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz`, as CloudTrail names files.
fn write_cloudtrail_file(dir: Option<&Path>, account: &str, region: &str, records: &[AuditRecord]) -> anyhow::Result<()> {
    let dir = dir.ok_or_else(|| anyhow::anyhow!("--format cloudtrail needs --to DIRECTORY"))?;
    let stamp = records.first().map(|r| r.event_time).unwrap_or_else(Utc::now).format("%Y%m%dT%H%MZ");
    let unique = uuid::Uuid::new_v4().simple().to_string();
    let path = dir.join(format!("{account}_CloudTrail_{region}_{stamp}_{}.json.gz", &unique[..16]));
    let file = std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    let mut gz = GzEncoder::new(file, Compression::default());
    serde_json::to_writer(&mut gz, &serde_json::json!({ "Records": records }))?;
    gz.finish()?.sync_all()?;
    Ok(())
}
