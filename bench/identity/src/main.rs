//! Creates users, groups and memberships through the service layer (validation, policy check,
//! one transaction with its audit record per create) with concurrent callers, and measures the
//! limit of the same storage in the same run: bare one-row transactions with nothing else.
//! Prints creates/s, p50/p99 latency and the ratio to that limit.

use anyhow::Context;
use clap::Parser;
use gatehouse_core::clock::SystemClock;
use gatehouse_core::crypto::MasterKey;
use gatehouse_core::model::{GroupProfile, Meta, Name, TypedValue, User, UserProfile};
use gatehouse_core::services::ServiceConfig;
use gatehouse_core::{Ctx, Services};
use gatehouse_store::StoreOptions;
use indicatif::{ProgressBar, ProgressStyle};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(about = "Gatehouse identity-store benchmark")]
struct Args {
    /// Database URL (sqlite://…?mode=rwc or postgres://…); it must be empty.
    #[arg(long)]
    database_url: String,
    #[arg(long, default_value_t = 50_000)]
    users: usize,
    #[arg(long, default_value_t = 10_000)]
    groups: usize,
    #[arg(long, default_value_t = 200_000)]
    memberships: usize,
    /// Concurrent callers.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Bare transactions measured for the storage limit.
    #[arg(long, default_value_t = 5_000)]
    baseline: usize,
    /// SQLite durability: full or normal.
    #[arg(long, default_value = "full")]
    sqlite_synchronous: String,
}

struct Phase {
    name: &'static str,
    count: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64()
    }
    fn pct(&self, p: f64) -> f64 {
        let mut l = self.latencies.clone();
        l.sort();
        let i = ((l.len() as f64 * p).ceil() as usize).saturating_sub(1).min(l.len().saturating_sub(1));
        l.get(i).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
    }
    fn print(&self, limit: Option<f64>) {
        let ratio = limit.map(|l| format!("  {:.2}x of the bare-transaction limit", self.rate() / l)).unwrap_or_default();
        println!(
            "{:<12} {:>8} in {:>7.1}s  {:>9.0} creates/s  p50 {:>6.2} ms  p99 {:>6.2} ms{ratio}",
            self.name,
            self.count,
            self.elapsed.as_secs_f64(),
            self.rate(),
            self.pct(0.50),
            self.pct(0.99)
        );
    }
}

/// Run `op(i)` for i in 0..count with `concurrency` workers, timing each call.
async fn run_phase<F, Fut>(name: &'static str, count: usize, concurrency: usize, op: F) -> anyhow::Result<Phase>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    let bar = ProgressBar::new(count as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg:<12} {bar:40} {pos}/{len} ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(name);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (op, next, bar) = (op.clone(), next.clone(), bar.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let t = Instant::now();
                op(i).await?;
                lat.push(t.elapsed());
                bar.inc(1);
            }
            anyhow::Ok(lat)
        }));
    }
    let mut latencies = Vec::with_capacity(count);
    for t in tasks {
        latencies.extend(t.await??);
    }
    bar.finish_and_clear();
    Ok(Phase { name, count, elapsed: start.elapsed(), latencies })
}

fn profile(i: usize) -> UserProfile {
    UserProfile {
        user_name: format!("user{i:06}"),
        name: Name { given_name: Some("Bench".into()), family_name: Some(format!("User{i}")), ..Default::default() },
        display_name: Some(format!("Bench User {i}")),
        emails: vec![TypedValue {
            value: Some(format!("user{i:06}@example.com")),
            kind: Some("work".into()),
            primary: true,
            display: None,
        }],
        ..Default::default()
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let options = StoreOptions {
        max_connections: (args.concurrency as u32 + 2).max(4),
        sqlite_synchronous_full: args.sqlite_synchronous == "full",
        connect_timeout: Duration::from_secs(10),
    };
    let store = gatehouse_store::connect(&args.database_url, &options).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let config = ServiceConfig { max_users: args.users as u64 + 1, max_groups: args.groups as u64, ..ServiceConfig::default() };
    let svc = Arc::new(Services::open(store.clone(), MasterKey::generate(), Arc::new(SystemClock), config).await?);
    svc.bootstrap().await?.context("the database must be empty")?;
    let ctx: Arc<Ctx> = Arc::new(svc.operator_ctx("bench")?);
    let store_id = svc.instance()?.identity_store_id.clone();
    println!(
        "backend {} | {} users, {} groups, {} memberships | {} concurrent callers{}",
        svc.store().backend(),
        args.users,
        args.groups,
        args.memberships,
        args.concurrency,
        if svc.store().backend() == "sqlite" { format!(" | synchronous={}", args.sqlite_synchronous) } else { String::new() }
    );

    // The limit: one bare transaction per row, same storage, no validation/policy/audit.
    let limit = {
        let (store, store_id) = (svc.store().clone(), store_id.clone());
        run_phase("bare tx", args.baseline, args.concurrency, move |i| {
            let (store, store_id) = (store.clone(), store_id.clone());
            async move {
                let now = chrono_now();
                let user = User {
                    identity_store_id: store_id,
                    user_id: format!("00000000-0000-4000-8000-{i:012}"),
                    profile: {
                        let mut p = profile(i);
                        p.user_name = format!("bare{i}");
                        p.emails[0].value = Some(format!("bare{i}@example.com"));
                        p
                    },
                    active: true,
                    meta: Meta { created_at: now, created_by: "bench".into(), updated_at: now, updated_by: "bench".into(), revision: 1 },
                };
                let mut tx = store.begin().await?;
                tx.insert_user(&user).await?;
                tx.commit().await?;
                Ok(())
            }
        })
        .await?
    };
    limit.print(None);
    // Remove the bare rows again so the service phases run on the sizes asked for.
    {
        let mut tx = svc.store().begin().await?;
        for i in 0..args.baseline {
            tx.delete_user(&store_id, &format!("00000000-0000-4000-8000-{i:012}")).await?;
        }
        tx.commit().await?;
    }

    let user_ids = Arc::new(std::sync::Mutex::new(vec![String::new(); args.users]));
    let users = {
        let (svc, ctx, ids) = (svc.clone(), ctx.clone(), user_ids.clone());
        run_phase("users", args.users, args.concurrency, move |i| {
            let (svc, ctx, ids) = (svc.clone(), ctx.clone(), ids.clone());
            async move {
                let u = svc.create_user(&ctx, profile(i)).await?;
                ids.lock().map_err(|_| anyhow::anyhow!("poisoned"))?[i] = u.user_id;
                Ok(())
            }
        })
        .await?
    };
    users.print(Some(limit.rate()));

    let group_ids = Arc::new(std::sync::Mutex::new(vec![String::new(); args.groups]));
    let groups = {
        let (svc, ctx, ids) = (svc.clone(), ctx.clone(), group_ids.clone());
        run_phase("groups", args.groups, args.concurrency, move |i| {
            let (svc, ctx, ids) = (svc.clone(), ctx.clone(), ids.clone());
            async move {
                let g = svc
                    .create_group(
                        &ctx,
                        GroupProfile { display_name: format!("group{i:05}"), description: Some("bench".into()), external_ids: vec![] },
                    )
                    .await?;
                ids.lock().map_err(|_| anyhow::anyhow!("poisoned"))?[i] = g.group_id;
                Ok(())
            }
        })
        .await?
    };
    groups.print(Some(limit.rate()));

    let users_v: Arc<Vec<String>> = Arc::new(user_ids.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.clone());
    let groups_v: Arc<Vec<String>> = Arc::new(group_ids.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.clone());
    let per_user = args.memberships.div_ceil(args.users.max(1));
    let stride = (args.groups / per_user.max(1)).max(1);
    let memberships = {
        let (svc, ctx) = (svc.clone(), ctx.clone());
        run_phase("memberships", args.memberships, args.concurrency, move |i| {
            let (svc, ctx, users, groups) = (svc.clone(), ctx.clone(), users_v.clone(), groups_v.clone());
            async move {
                // User u joins groups u, u+stride, u+2·stride, … : distinct pairs.
                let (u, k) = (i % users.len(), i / users.len());
                let g = (u + k * stride) % groups.len();
                svc.create_group_membership(&ctx, &groups[g], &users[u]).await?;
                Ok(())
            }
        })
        .await?
    };
    memberships.print(Some(limit.rate()));

    let total = users.count + groups.count + memberships.count;
    let secs = users.elapsed + groups.elapsed + memberships.elapsed;
    println!(
        "all creates  {total} in {:.1}s = {:.0} creates/s (each with its audit record)",
        secs.as_secs_f64(),
        total as f64 / secs.as_secs_f64()
    );
    store.close().await;
    Ok(())
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    gatehouse_core::clock::truncate(chrono::Utc::now())
}
