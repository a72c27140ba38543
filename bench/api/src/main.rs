//! Closed-loop load: `concurrency` workers, each on one keep-alive connection, send SigV4-signed
//! identitystore calls for `duration` seconds and time each. The same binary drives Gatehouse and
//! the peer (moto_server), so the two are measured under exactly the same load.

use anyhow::bail;
use clap::Parser;
use gatehouse_bench_api::{http, stats};
use rand::Rng;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser, Clone)]
struct Args {
    /// host:port
    #[arg(long)]
    endpoint: String,
    #[arg(long)]
    access_key: String,
    #[arg(long)]
    secret: String,
    #[arg(long, default_value = "us-east-1")]
    region: String,
    #[arg(long)]
    store_id: String,
    /// A file with one UserId per line (DescribeUser picks among them at random).
    #[arg(long)]
    ids_file: String,
    /// describe | list
    #[arg(long)]
    op: String,
    #[arg(long, default_value_t = 15)]
    duration: u64,
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Label printed with the result.
    #[arg(long)]
    label: String,
}

/// Send one request; returns (status, keep_alive).
async fn call(conn: &mut http::Conn, args: &Args, target: &str, body: &str) -> anyhow::Result<(u16, bool)> {
    let headers = vec![
        ("host".to_string(), args.endpoint.clone()),
        ("content-type".to_string(), "application/x-amz-json-1.1".to_string()),
        ("x-amz-target".to_string(), target.to_string()),
    ];
    let req = gatehouse_sigv4::Request { method: "POST", path: "/", query: "", headers: &headers, body: body.as_bytes() };
    let (date, auth) = gatehouse_sigv4::sign(&req, &args.access_key, &args.secret, &args.region, "identitystore", chrono::Utc::now());
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: {target}\r\nX-Amz-Date: {date}\r\nAuthorization: {auth}\r\nContent-Length: {}\r\nConnection: keep-alive\r\n\r\n",
        args.endpoint,
        body.len()
    );
    let response = http::send(conn, &head, body.as_bytes()).await?;
    Ok((response.status, response.keep_alive))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Arc::new(Args::parse());
    let ids: Arc<Vec<String>> =
        Arc::new(std::fs::read_to_string(&args.ids_file)?.lines().map(str::to_string).filter(|l| !l.is_empty()).collect());
    if ids.is_empty() {
        bail!("no user ids in {}", args.ids_file);
    }
    let (target, list) = match args.op.as_str() {
        "describe" => ("AWSIdentityStore.DescribeUser", false),
        "list" => ("AWSIdentityStore.ListUsers", true),
        other => bail!("unknown op {other}"),
    };
    let deadline = Instant::now() + Duration::from_secs(args.duration);
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (args, ids) = (args.clone(), ids.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0u64;
            let mut conn: Option<http::Conn> = None;
            while Instant::now() < deadline {
                let body = if list {
                    format!(r#"{{"IdentityStoreId":"{}","MaxResults":50}}"#, args.store_id)
                } else {
                    let id = &ids[rand::thread_rng().gen_range(0..ids.len())];
                    format!(r#"{{"IdentityStoreId":"{}","UserId":"{id}"}}"#, args.store_id)
                };
                if conn.is_none() {
                    conn = Some(http::connect(&args.endpoint).await?);
                }
                let t = Instant::now();
                let outcome = match conn.as_mut() {
                    Some(c) => call(c, &args, target, &body).await,
                    None => continue,
                };
                match outcome {
                    Ok((200, keep)) => {
                        lat.push(t.elapsed());
                        if !keep {
                            conn = None;
                        }
                    }
                    Ok((_, keep)) => {
                        errors += 1;
                        if !keep {
                            conn = None;
                        }
                    }
                    Err(_) => {
                        errors += 1;
                        conn = None;
                    }
                }
            }
            anyhow::Ok((lat, errors))
        }));
    }
    let (mut lat, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (l, e) = t.await??;
        lat.extend(l);
        errors += e;
    }
    println!("{}", stats::line(&args.label, &args.op, &mut lat, errors, args.duration as f64, args.concurrency));
    Ok(())
}
