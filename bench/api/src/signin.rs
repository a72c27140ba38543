//! Portal password sign-ins per second next to the bare argon2id verification rate with the same
//! parameters, measured in the same run on the same machine: the sign-in path's overhead over the
//! hash it cannot avoid. The bare rate is measured before and after the sign-ins, and averaged.

use clap::Parser;
use gatehouse_bench_api::{http, stats};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser, Clone)]
struct Args {
    /// host:port of the Gatehouse server
    #[arg(long)]
    endpoint: String,
    #[arg(long)]
    user: String,
    #[arg(long)]
    password: String,
    /// Browsers signing in at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Seconds of sign-ins (and of each bare-hash measurement).
    #[arg(long, default_value_t = 20)]
    seconds: u64,
}

/// argon2id verifications per second on every core, with Gatehouse's own parameters.
fn bare_hash_rate(seconds: u64) -> f64 {
    let phc = gatehouse_core::password::hash("Bench-Passw0rd!").expect("hash");
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (phc, stop, done) = (phc.clone(), stop.clone(), done.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    assert!(gatehouse_core::password::verify("Bench-Passw0rd!", &phc));
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.join();
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

/// One browser signing in over and over on a keep-alive connection. The CSRF token is the
/// browser's own choice, repeated in the cookie and the form, as double-submit allows.
async fn browser(args: Arc<Args>, deadline: Instant) -> anyhow::Result<(Vec<Duration>, u64)> {
    let (head, body) = http::signin_request(&args.endpoint, &args.user, &args.password);
    http::closed_loop(&args.endpoint, &head, body.as_bytes(), deadline, |r| r.status == 303).await
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Arc::new(Args::parse());
    let before = tokio::task::spawn_blocking({
        let s = args.seconds / 2;
        move || bare_hash_rate(s.max(1))
    })
    .await?;
    let start = Instant::now();
    let deadline = start + Duration::from_secs(args.seconds);
    let (mut latencies, errors) =
        http::gather((0..args.concurrency).map(|_| tokio::spawn(browser(args.clone(), deadline))).collect()).await?;
    let elapsed = start.elapsed().as_secs_f64();
    let after = tokio::task::spawn_blocking({
        let s = args.seconds / 2;
        move || bare_hash_rate(s.max(1))
    })
    .await?;
    let signins = latencies.len() as f64 / elapsed;
    let bare = (before + after) / 2.0;
    println!("{}", stats::line("gatehouse", "sign-ins", &mut latencies, errors, elapsed, args.concurrency));
    println!("argon2id verify, bare: {before:.1}/s before, {after:.1}/s after (all cores)");
    println!("sign-ins/s ÷ bare argon2id verifications/s = {:.2} (target >= 0.90)", signins / bare);
    Ok(())
}
