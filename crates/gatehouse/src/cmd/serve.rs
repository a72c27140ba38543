//! `gatehouse serve` and `gatehouse init`.

use anyhow::Context;
use clap::Args;
use gatehouse_core::services::Bootstrapped;
use std::time::Duration;

use crate::app;
use crate::config::{Config, redact_url};
use crate::output::OutputFormat;

#[derive(Args)]
pub struct ServeArgs {
    /// Listen address (overrides `listen`).
    #[arg(long)]
    listen: Option<String>,
}

fn print_bootstrap(config: &Config, b: &Bootstrapped) {
    let i = &b.instance;
    println!(
        "\nGatehouse is initialized.\n\
         \n  Instance:            {}\n  Identity store:      {}\n  Management account:  {}\n\
         \nSign in at {}/start as:\n  Username:            {}\n  One-time password:   {}\n  (you will choose a new password at the first sign-in)\n\
         \nThe console: in the portal, open the management account ({}), then {} → Management console.\n\
         \nBootstrap access key (policy AWSSSOMasterAccountAdministrator), for boto3 and the AWS CLI:\n  AWS_ACCESS_KEY_ID={}\n  AWS_SECRET_ACCESS_KEY={}\n\
         \nThese secrets are shown only this once. Store them now.\n",
        i.instance_arn,
        i.identity_store_id,
        i.management_account_id,
        config.public_url(),
        b.admin_user_name,
        &*b.admin_one_time_password,
        i.management_account_id,
        b.admin_permission_set,
        b.access_key_id,
        &*b.secret_access_key,
    );
}

pub async fn init(config: Config, out: OutputFormat) -> anyhow::Result<()> {
    let opened = app::open(&config).await?;
    match opened.services.bootstrap().await.map_err(app::service_error)? {
        Some(b) => match out {
            OutputFormat::Json => println!(
                "{}",
                serde_json::json!({
                    "InstanceArn": b.instance.instance_arn,
                    "IdentityStoreId": b.instance.identity_store_id,
                    "ManagementAccountId": b.instance.management_account_id,
                    "AdministratorUserName": b.admin_user_name,
                    "AdministratorOneTimePassword": &*b.admin_one_time_password,
                    "AccessKeyId": b.access_key_id,
                    "SecretAccessKey": &*b.secret_access_key,
                })
            ),
            OutputFormat::Table => print_bootstrap(&config, &b),
        },
        None => {
            let i = opened.services.instance().map_err(app::service_error)?;
            println!("Gatehouse is already initialized (instance {}). Secrets are shown only at creation.", i.instance_arn);
        }
    }
    opened.close().await;
    Ok(())
}

pub async fn run(mut config: Config, args: ServeArgs) -> anyhow::Result<()> {
    if let Some(l) = args.listen {
        config.listen = l;
    }
    // Bind first: with port 0 the port is known only now, and the public URL may follow it.
    let listener = tokio::net::TcpListener::bind(&config.listen).await.with_context(|| format!("cannot listen on {}", config.listen))?;
    let local = listener.local_addr()?;
    config.listen = local.to_string();
    let metrics = gatehouse_server::install_metrics_recorder();
    // Held until the process ends: `gatehouse restore` and `migrate` wait for no server.
    let _serving = crate::cmd::data::hold_serve_lock(&config)?;
    let opened = app::open(&config).await?;
    if let Some(b) = opened.services.bootstrap().await.map_err(app::service_error)? {
        print_bootstrap(&config, &b);
    }
    tracing::info!(
        address = %local,
        database = %redact_url(&config.effective_database_url()),
        backend = opened.services.store().backend(),
        "Gatehouse listening"
    );
    let scheme = if config.tls() { "https" } else { "http" };
    println!("Gatehouse listening on {scheme}://{local} (public URL {})", config.public_url());

    let workers = opened.services.spawn_provisioning_workers();
    // The key files: a rotation (`gatehouse key rotate`) is taken without a restart.
    let key_watch = config.master_key.is_empty().then(|| tokio::spawn(keys::follow_files(config.clone(), opened.services.clone())));
    // PostgreSQL: other nodes' writes empty this node's caches as they commit.
    let forget = opened.services.clone();
    let invalidation = gatehouse_store::invalidation::spawn_listener(opened.store.connection(), move || forget.forget_cached_reads());
    // Active Directory: synchronize whenever the configured interval has passed.
    let check = Duration::from_secs(config.directory_sync_check_seconds);
    let directory_sync = tokio::spawn(opened.services.clone().directory_sync_loop(check));
    let trusted_proxies =
        gatehouse_server::forwarded::TrustedProxies::parse(&config.trusted_proxies).map_err(|e| anyhow::anyhow!("trusted_proxies: {e}"))?;
    let state = gatehouse_server::AppState { services: opened.services.clone(), metrics, public_url: config.public_url(), trusted_proxies };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let grace = Duration::from_secs(config.shutdown_grace_seconds);
    let stopped = async move {
        let _ = stop_rx.await;
    };
    let server = if config.tls() {
        let tls = tls::load(&config).await?;
        tokio::spawn(tls::reload_on_change(tls.clone(), config.tls_certificate_file.clone(), config.tls_key_file.clone()));
        tokio::spawn(gatehouse_server::serve_tls(listener.into_std()?, tls, state, stopped, grace))
    } else {
        tokio::spawn(gatehouse_server::serve(listener, state, stopped))
    };
    shutdown_signal().await;
    tracing::info!("shutting down: finishing in-flight requests");
    let _ = stop_tx.send(());
    match tokio::time::timeout(grace, server).await {
        Ok(joined) => joined.context("server task failed")??,
        Err(_) => tracing::warn!(seconds = grace.as_secs(), "in-flight requests did not finish in time"),
    }
    // A job cut short here is taken over after its lease (it is idempotent).
    for w in workers {
        w.abort();
    }
    directory_sync.abort();
    if let Some(listener) = invalidation {
        listener.abort();
    }
    if let Some(watch) = key_watch {
        watch.abort();
    }
    opened.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

/// HTTPS from PEM files, reloaded when they change (a renewed certificate needs no restart).
mod tls {
    use anyhow::Context;
    use gatehouse_server::RustlsConfig;
    use std::time::{Duration, SystemTime};

    use crate::config::Config;

    /// How often the files are looked at.
    const CHECK: Duration = Duration::from_secs(2);

    pub async fn load(config: &Config) -> anyhow::Result<RustlsConfig> {
        gatehouse_server::install_tls_provider();
        RustlsConfig::from_pem_file(&config.tls_certificate_file, &config.tls_key_file)
            .await
            .with_context(|| format!("reading the TLS certificate {} and key {}", config.tls_certificate_file, config.tls_key_file))
    }

    fn modified(cert: &str, key: &str) -> Option<(SystemTime, SystemTime)> {
        Some((std::fs::metadata(cert).ok()?.modified().ok()?, std::fs::metadata(key).ok()?.modified().ok()?))
    }

    pub async fn reload_on_change(tls: RustlsConfig, cert: String, key: String) {
        let mut seen = modified(&cert, &key);
        loop {
            tokio::time::sleep(CHECK).await;
            let now = modified(&cert, &key);
            if now.is_none() || now == seen {
                continue;
            }
            // A certificate and key that do not load (half-written, mismatched) leave the old
            // ones serving; the next change is tried again.
            seen = now;
            match tls.reload_from_pem_file(&cert, &key).await {
                Ok(()) => tracing::info!(certificate = %cert, "reloaded the TLS certificate"),
                Err(e) => {
                    tracing::warn!(certificate = %cert, error = %e, "the changed TLS certificate did not load; still serving the old one")
                }
            }
        }
    }
}

/// The master key files, followed: after `gatehouse key rotate` this server seals with the new
/// key and still opens what the old one sealed, without a restart.
mod keys {
    use std::sync::Arc;
    use std::time::{Duration, SystemTime};

    use crate::app::{PREVIOUS_KEYS_FILE, master_key};
    use crate::config::Config;

    fn modified(config: &Config) -> Vec<Option<SystemTime>> {
        ["master.key", PREVIOUS_KEYS_FILE]
            .iter()
            .map(|f| std::fs::metadata(config.data_dir.join(f)).and_then(|m| m.modified()).ok())
            .collect()
    }

    pub async fn follow_files(config: Config, services: Arc<gatehouse_core::Services>) {
        let mut seen = modified(&config);
        loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            let now = modified(&config);
            if now == seen {
                continue;
            }
            seen = now;
            match master_key(&config) {
                Ok(key) if !key.same_as(services.master_key()) => {
                    services.master_key().replace_with(&key);
                    tracing::info!("took the rotated master key from the key files");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "the master key files did not load; keeping the keys in use"),
            }
        }
    }
}
