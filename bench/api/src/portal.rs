//! The portal API the AWS CLI calls (issue 8): ListAccounts and ListAccountRoles latency for a
//! person with many groups, accounts and roles (p99 next to the 5 ms target), and role
//! credentials per second in the management account (Gatehouse issues them itself).

use clap::Parser;
use gatehouse_bench_api::{http, stats};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser, Clone)]
struct Args {
    /// host:port of Gatehouse
    #[arg(long)]
    endpoint: String,
    /// The person's access token (CreateToken).
    #[arg(long)]
    token: String,
    /// An account whose roles are listed.
    #[arg(long)]
    account: String,
    /// The management account and a role there, for GetRoleCredentials.
    #[arg(long)]
    management: String,
    #[arg(long)]
    role: String,
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Seconds per operation.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

/// Each operation runs this long unmeasured first, so that what the previous one left behind
/// (the audit records of thousands of reads still being written) is not counted against it.
const WARM_UP: Duration = Duration::from_secs(2);

const TARGET_P99_MS: f64 = 5.0;

async fn run(args: &Arc<Args>, path: String, expect: &'static [u8]) -> anyhow::Result<(Vec<Duration>, u64, f64)> {
    measure(args, &path, expect, WARM_UP).await?;
    measure(args, &path, expect, Duration::from_secs(args.seconds)).await
}

async fn measure(args: &Arc<Args>, path: &str, expect: &'static [u8], time: Duration) -> anyhow::Result<(Vec<Duration>, u64, f64)> {
    let head = format!("GET {path} HTTP/1.1\r\nHost: {}\r\nx-amz-sso_bearer_token: {}\r\n\r\n", args.endpoint, args.token);
    let head = Arc::new(head);
    let start = Instant::now();
    let deadline = start + time;
    let clients = (0..args.concurrency)
        .map(|_| {
            let (args, head) = (args.clone(), head.clone());
            tokio::spawn(async move {
                http::closed_loop(&args.endpoint, &head, b"", deadline, |r| {
                    r.status == 200 && r.body.windows(expect.len()).any(|w| w == expect)
                })
                .await
            })
        })
        .collect();
    let (latencies, errors) = http::gather(clients).await?;
    Ok((latencies, errors, start.elapsed().as_secs_f64()))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let base = Args::parse();
    // One client (a person at a terminal), then several at once.
    for c in [1, base.concurrency] {
        let args = Arc::new(Args { concurrency: c, ..base.clone() });
        let (mut accounts, e1, t1) = run(&args, "/assignment/accounts?max_result=100".into(), b"accountList").await?;
        println!("{}", stats::line("gatehouse", "ListAccounts (100 per page)", &mut accounts, e1, t1, c));
        let (mut roles, e2, t2) = run(&args, format!("/assignment/roles?account_id={}", args.account), b"roleList").await?;
        println!("{}", stats::line("gatehouse", "ListAccountRoles", &mut roles, e2, t2, c));
        let (mut creds, e3, t3) =
            run(&args, format!("/federation/credentials?account_id={}&role_name={}", args.management, args.role), b"roleCredentials")
                .await?;
        println!("{}", stats::line("gatehouse", "GetRoleCredentials (management account)", &mut creds, e3, t3, c));
        for (name, l) in [("ListAccounts", &accounts), ("ListAccountRoles", &roles)] {
            let p99 = stats::quantile_ms(l, 0.99);
            println!(
                "{name}, {c} connection(s): p99 {p99:.2} ms ÷ target {TARGET_P99_MS} ms = {:.2} (target <= 1.00)",
                p99 / TARGET_P99_MS
            );
        }
        println!("GetRoleCredentials in the management account, {c} connection(s): {:.0} per second", creds.len() as f64 / t3);
    }
    Ok(())
}
