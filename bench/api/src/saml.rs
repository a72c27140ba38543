//! IdP-initiated SAML sign-ins per second (a portal tile: session lookup, assignment check,
//! attribute mappings, a signed Response, the Federate event) next to the limit that signing
//! sets: `openssl speed rsa2048` signs per second on every core, measured in the same run, before
//! and after, and averaged.

use anyhow::{Context, bail};
use clap::Parser;
use gatehouse_bench_api::{http, stats};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser, Clone)]
struct Args {
    /// host:port of the identity provider
    #[arg(long)]
    endpoint: String,
    /// Gatehouse: the portal user signed in once.
    #[arg(long, default_value = "")]
    user: String,
    #[arg(long, default_value = "")]
    password: String,
    /// Gatehouse: the application id (apl-…) whose tile is opened.
    #[arg(long, default_value = "")]
    app: String,
    /// A peer IdP instead: the path that answers an IdP-initiated sign-in…
    #[arg(long)]
    peer_path: Option<String>,
    /// …and the session cookies of a user already signed in there.
    #[arg(long, default_value = "")]
    peer_cookie: String,
    /// The name printed in front of the figures.
    #[arg(long, default_value = "gatehouse")]
    label: String,
    /// Browsers at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Seconds of sign-ins.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
}

fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
}

/// RSA-2048 signs per second on `processes` cores at once, as `openssl speed -multi` reports.
fn openssl_signs(seconds: u64, processes: usize) -> anyhow::Result<f64> {
    let out = std::process::Command::new("openssl")
        .args(["speed", "-seconds", &seconds.to_string(), "-multi", &processes.to_string(), "rsa2048"])
        .stderr(std::process::Stdio::null())
        .output()
        .context("run `openssl speed` (apt-get install openssl)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "rsa 2048 bits 0.000408s 0.000026s   2451.5  37876.8": sign/s is the second number from the end.
    let line = text.lines().rev().find(|l| l.starts_with("rsa") && l.contains("2048 bits")).context("no rsa 2048 line from openssl")?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    fields.get(fields.len().saturating_sub(2)).and_then(|f| f.parse().ok()).context("openssl's sign/s")
}

/// Sign in once: the session cookie every browser then uses (one user, many tabs).
async fn session_cookie(args: &Args) -> anyhow::Result<String> {
    let (head, body) = http::signin_request(&args.endpoint, &args.user, &args.password);
    let mut conn = http::connect(&args.endpoint).await?;
    let r = http::send(&mut conn, &head, body.as_bytes()).await?;
    match r.cookies.into_iter().find(|c| c.starts_with("gh_session=")) {
        Some(c) if r.status == 303 => Ok(c),
        _ => bail!("sign-in failed with status {}", r.status),
    }
}

async fn browser(args: Arc<Args>, cookie: Arc<String>, deadline: Instant) -> anyhow::Result<(Vec<Duration>, u64)> {
    let path = args.peer_path.clone().unwrap_or_else(|| format!("/start/applications/{}", args.app));
    let head = format!("GET {path} HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\n\r\n", args.endpoint);
    // A full answer: the page that posts the signed Response.
    http::closed_loop(&args.endpoint, &head, b"", deadline, |r| r.status == 200 && r.body.windows(12).any(|w| w == b"SAMLResponse")).await
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Arc::new(Args::parse());
    let probe = (args.seconds / 4).max(2);
    let one = tokio::task::spawn_blocking(move || openssl_signs(probe, 1)).await??;
    let before = tokio::task::spawn_blocking(move || openssl_signs(probe, cores())).await??;
    let cookie = Arc::new(match &args.peer_path {
        Some(_) => args.peer_cookie.clone(),
        None => session_cookie(&args).await?,
    });
    let start = Instant::now();
    let deadline = start + Duration::from_secs(args.seconds);
    let (mut latencies, errors) =
        http::gather((0..args.concurrency).map(|_| tokio::spawn(browser(args.clone(), cookie.clone(), deadline))).collect()).await?;
    let elapsed = start.elapsed().as_secs_f64();
    let after = tokio::task::spawn_blocking(move || openssl_signs(probe, cores())).await??;
    let rate = latencies.len() as f64 / elapsed;
    let limit = (before + after) / 2.0;
    println!("{}", stats::line(&args.label, "IdP-initiated responses", &mut latencies, errors, elapsed, args.concurrency));
    let n = cores();
    println!("openssl speed rsa2048: {before:.1} signs/s on {n} cores at once before, {after:.1} after; one core {one:.1}");
    println!("signed responses/s ÷ openssl RSA-2048 signs/s on all cores = {:.2} (target >= 0.50)", rate / limit);
    println!("signed responses/s ÷ (one core's signs/s × {n}) = {:.2}", rate / (one * n as f64));
    Ok(())
}
