//! Printing for people (aligned tables) and scripts (JSON), logging, and exit codes.

use gatehouse_core::Error;
use serde::Serialize;

use crate::config::Config;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

pub fn init_logging(config: &Config, serving: bool) {
    use tracing_subscriber::EnvFilter;
    // Commands log only warnings unless asked: their output is the answer, not the log.
    let default = if serving { config.log_level.clone() } else { "warn".to_string() };
    let filter = EnvFilter::try_from_env("GATEHOUSE_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if config.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Print rows as an aligned table (people) or the values as JSON (scripts).
pub fn print<T: Serialize>(format: OutputFormat, headers: &[&str], rows: Vec<Vec<String>>, json: &T) {
    match format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(json).unwrap_or_else(|_| "null".into())),
        OutputFormat::Table => print_table(headers, &rows),
    }
}

pub fn print_table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let parts: Vec<String> =
            cells.iter().enumerate().map(|(i, c)| format!("{:<w$}", c, w = widths.get(i).copied().unwrap_or(0))).collect();
        println!("{}", parts.join("  ").trim_end());
    };
    line(headers.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// Key/value lines for one object.
pub fn print_fields(format: OutputFormat, fields: Vec<(&str, String)>, json: &impl Serialize) {
    match format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(json).unwrap_or_else(|_| "null".into())),
        OutputFormat::Table => {
            let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
            for (k, v) in fields {
                println!("{k:<width$}  {v}");
            }
        }
    }
}

fn core_error(e: &anyhow::Error) -> Option<&Error> {
    e.chain().find_map(|c| c.downcast_ref::<Error>())
}

pub fn describe_error(e: &anyhow::Error) -> String {
    match core_error(e) {
        Some(Error::Internal { message }) => format!("InternalServerException: {message}"),
        Some(err) => format!("{}: {err}", err.code()),
        None => format!("{e:#}"),
    }
}

pub fn exit_code(e: &anyhow::Error) -> u8 {
    match core_error(e) {
        Some(Error::Validation { .. }) => 3,
        Some(Error::NotFound { .. }) => 4,
        Some(Error::Conflict { .. }) => 5,
        Some(Error::AccessDenied { .. }) => 6,
        Some(Error::Unavailable { .. }) => 7,
        Some(Error::QuotaExceeded { .. }) => 8,
        Some(Error::Throttled { .. }) => 9,
        Some(Error::Internal { .. }) | None => {
            if format!("{e:#}").contains("cannot open the database") {
                7
            } else {
                1
            }
        }
    }
}
