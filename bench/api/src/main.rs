//! Closed-loop load: `concurrency` workers, each on one keep-alive connection, send SigV4-signed
//! identitystore calls for `duration` seconds and time each. The same binary drives Gatehouse and
//! the peer (moto_server), so the two are measured under exactly the same load.

use anyhow::{Context, bail};
use clap::Parser;
use rand::Rng;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

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

struct Conn {
    reader: BufReader<TcpStream>,
}

async fn connect(endpoint: &str) -> anyhow::Result<Conn> {
    let stream = TcpStream::connect(endpoint).await.with_context(|| format!("connect {endpoint}"))?;
    stream.set_nodelay(true)?;
    Ok(Conn { reader: BufReader::new(stream) })
}

/// Send one request; returns (status, keep_alive).
async fn call(conn: &mut Conn, args: &Args, target: &str, body: &str) -> anyhow::Result<(u16, bool)> {
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
    let stream = conn.reader.get_mut();
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    let mut line = String::new();
    if conn.reader.read_line(&mut line).await? == 0 {
        bail!("connection closed");
    }
    let http10 = line.starts_with("HTTP/1.0");
    let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let (mut length, mut close) = (None, http10);
    loop {
        line.clear();
        conn.reader.read_line(&mut line).await?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase());
            if k == "content-length" {
                length = v.parse::<usize>().ok();
            } else if k == "connection" {
                close = v == "close";
            }
        }
    }
    match length {
        Some(n) => {
            let mut buf = vec![0u8; n];
            conn.reader.read_exact(&mut buf).await?;
        }
        None => {
            let mut rest = Vec::new();
            conn.reader.read_to_end(&mut rest).await?;
            close = true;
        }
    }
    Ok((status, !close))
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
            let mut conn: Option<Conn> = None;
            while Instant::now() < deadline {
                let body = if list {
                    format!(r#"{{"IdentityStoreId":"{}","MaxResults":50}}"#, args.store_id)
                } else {
                    let id = &ids[rand::thread_rng().gen_range(0..ids.len())];
                    format!(r#"{{"IdentityStoreId":"{}","UserId":"{id}"}}"#, args.store_id)
                };
                if conn.is_none() {
                    conn = Some(connect(&args.endpoint).await?);
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
    lat.sort();
    let pct = |p: f64| lat.get(((lat.len() as f64 * p).ceil() as usize).saturating_sub(1)).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0);
    let rps = lat.len() as f64 / args.duration as f64;
    println!(
        "{:<10} {:<9} {:>9.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  ({} ok, {} errors, {} connections)",
        args.label,
        args.op,
        rps,
        pct(0.5),
        pct(0.99),
        lat.len(),
        errors,
        args.concurrency
    );
    Ok(())
}
