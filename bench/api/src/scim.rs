//! Provision users, groups and memberships over SCIM the way identity providers do: `concurrency`
//! clients, each on one keep-alive connection, POST users, then POST groups, then PATCH each
//! group to add its members. Prints creates/s and latency percentiles per phase. The same binary
//! drives Gatehouse and the peer (scim2-server).

use anyhow::{Context, bail};
use clap::Parser;
use gatehouse_bench_api::{http, stats};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser, Clone)]
struct Args {
    /// host:port
    #[arg(long)]
    endpoint: String,
    /// Path prefix of the SCIM service, e.g. /scim/v2
    #[arg(long, default_value = "/scim/v2")]
    base: String,
    #[arg(long)]
    token: String,
    #[arg(long, default_value_t = 50_000)]
    users: usize,
    #[arg(long, default_value_t = 10_000)]
    groups: usize,
    /// Members added to each group (users are spread over the groups round-robin).
    #[arg(long, default_value_t = 5)]
    members_per_group: usize,
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Label printed with the results.
    #[arg(long)]
    label: String,
}

struct Client {
    args: Arc<Args>,
    conn: Option<http::Conn>,
}

impl Client {
    async fn send(&mut self, method: &str, path: &str, body: &Value) -> anyhow::Result<(u16, Value)> {
        let body = body.to_string();
        let head = format!(
            "{method} {}{path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: keep-alive\r\n\r\n",
            self.args.base,
            self.args.endpoint,
            self.args.token,
            body.len()
        );
        if self.conn.is_none() {
            self.conn = Some(http::connect(&self.args.endpoint).await?);
        }
        let Some(conn) = self.conn.as_mut() else { bail!("no connection") };
        let response = match http::send(conn, &head, body.as_bytes()).await {
            Ok(r) => r,
            Err(e) => {
                self.conn = None;
                return Err(e);
            }
        };
        if !response.keep_alive {
            self.conn = None;
        }
        let json = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        Ok((response.status, json))
    }
}

fn user(i: usize) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "userName": format!("bench{i:06}@example.com"),
        "externalId": format!("00u{i:06}"),
        "name": {"givenName": "Bench", "familyName": format!("User{i}")},
        "displayName": format!("Bench User {i}"),
        "emails": [{"value": format!("bench{i:06}@example.com"), "type": "work", "primary": true}],
        "active": true,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": format!("Dept {}", i % 50)}
    })
}

/// Run `count` requests over `concurrency` clients; `request(i)` gives method, path and body.
/// Returns the ids the server assigned (by index) and the phase's result line.
async fn phase(
    args: &Arc<Args>,
    name: &str,
    count: usize,
    request: Arc<dyn Fn(usize) -> (&'static str, String, Value) + Send + Sync>,
    expect: &'static [u16],
) -> anyhow::Result<Vec<String>> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (args, next, request, name) = (args.clone(), next.clone(), request.clone(), name.to_string());
        tasks.push(tokio::spawn(async move {
            let mut client = Client { args, conn: None };
            let mut done: Vec<(usize, String, Duration)> = Vec::new();
            let mut errors = 0u64;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let (method, path, body) = request(i);
                let t = Instant::now();
                match client.send(method, &path, &body).await {
                    Ok((status, json)) if expect.contains(&status) => {
                        let id = json.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
                        done.push((i, id, t.elapsed()));
                    }
                    Ok((status, json)) => {
                        errors += 1;
                        if errors <= 3 {
                            eprintln!("{name} #{i}: HTTP {status} {json}");
                        }
                    }
                    Err(e) => {
                        errors += 1;
                        if errors <= 3 {
                            eprintln!("{name} #{i}: {e:#}");
                        }
                    }
                }
            }
            anyhow::Ok((done, errors))
        }));
    }
    let mut ids = vec![String::new(); count];
    let mut latencies = Vec::with_capacity(count);
    let mut errors = 0;
    for t in tasks {
        let (done, e) = t.await.context("worker")??;
        errors += e;
        for (i, id, lat) in done {
            ids[i] = id;
            latencies.push(lat);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!("{}", stats::line(&args.label, name, &mut latencies, errors, secs, args.concurrency));
    Ok(ids)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Arc::new(Args::parse());
    let users = phase(&args, "users", args.users, Arc::new(|i| ("POST", "/Users".to_string(), user(i))), &[201]).await?;
    let groups = phase(
        &args,
        "groups",
        args.groups,
        Arc::new(|i| {
            ("POST", "/Groups".to_string(), json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": format!("Bench Group {i:05}"), "externalId": format!("00g{i:05}")}))
        }),
        &[201],
    )
    .await?;
    let (users, groups) = (Arc::new(users), Arc::new(groups));
    let per = args.members_per_group;
    let member_ops = {
        let (users, groups) = (users.clone(), groups.clone());
        Arc::new(move |g: usize| {
            let members: Vec<Value> = (0..per)
                .map(|k| (g * per + k) % users.len().max(1))
                .filter_map(|u| users.get(u))
                .filter(|id| !id.is_empty())
                .map(|id| json!({"value": id}))
                .collect();
            let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "members", "value": members}]});
            ("PATCH", format!("/Groups/{}", groups[g]), body)
        })
    };
    let label = format!("memberships ({per}/group)");
    phase(&args, &label, groups.len(), member_ops, &[200, 204]).await.map(|_| ())
}
