//! Opening Gatehouse from a configuration: data directory, master key, database, services.

use anyhow::Context;
use gatehouse_core::clock::SystemClock;
use gatehouse_core::crypto::MasterKey;
use gatehouse_core::services::ServiceConfig;
use gatehouse_core::{Error, Services};
use gatehouse_store::StoreOptions;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{Config, redact_url};

pub struct Opened {
    pub services: Arc<Services>,
    pub store: Arc<gatehouse_store::SeaStore>,
}

/// The master key in effect: `master_key` (or `<data_dir>/master.key`, created on first use),
/// able to open also what the previous keys sealed (`previous_master_keys`, and the lines of
/// `<data_dir>/master.key.previous` that `gatehouse key rotate` keeps).
pub fn master_key(config: &Config) -> anyhow::Result<MasterKey> {
    let current = if !config.master_key.is_empty() {
        MasterKey::from_base64(&config.master_key).map_err(|e| anyhow::anyhow!("GATEHOUSE_MASTER_KEY / master_key: {e}"))?
    } else {
        let path = config.data_dir.join("master.key");
        let (key, created) = MasterKey::load_or_create(&path).with_context(|| format!("reading the master key {}", path.display()))?;
        if created {
            tracing::info!(path = %path.display(), "created a new master key (mode 0600): back it up, it encrypts every secret");
        }
        key
    };
    let mut previous = Vec::new();
    for k in &config.previous_master_keys {
        previous.push(MasterKey::from_base64(k).map_err(|e| anyhow::anyhow!("previous_master_keys: {e}"))?);
    }
    let kept = config.data_dir.join(PREVIOUS_KEYS_FILE);
    if let Ok(text) = std::fs::read_to_string(&kept) {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            previous.push(MasterKey::from_base64(line).map_err(|e| anyhow::anyhow!("{}: {e}", kept.display()))?);
        }
    }
    Ok(current.with_previous(&previous))
}

/// Where `gatehouse key rotate` keeps the keys it replaced, one per line.
pub const PREVIOUS_KEYS_FILE: &str = "master.key.previous";

/// Open the database (running migrations) and the services. Does not create the instance.
pub async fn open(config: &Config) -> anyhow::Result<Opened> {
    if !config.data_dir.exists() {
        std::fs::create_dir_all(&config.data_dir).with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
        // The database holds password hashes and sealed secrets: owner only.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&config.data_dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    let key = master_key(config)?;
    let url = config.effective_database_url();
    let options = StoreOptions {
        max_connections: config.database_max_connections,
        sqlite_synchronous_full: config.sqlite_synchronous == "full",
        connect_timeout: Duration::from_secs(10),
    };
    let store = gatehouse_store::connect(&url, &options)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the database {}: {e}", redact_url(&url)))?;
    let service_config = ServiceConfig {
        region: config.region.clone(),
        max_users: config.max_users,
        max_groups: config.max_groups,
        admin_email: config.admin_email.clone(),
        api_rate_limit: config.api_rate_limit,
        scim_token_lifetime_days: config.scim_token_lifetime_days,
        signin: gatehouse_core::services::SignInConfig {
            session_hours: config.session_hours,
            lockout_threshold: config.signin_lockout_threshold,
            ip_lockout_threshold: config.signin_ip_lockout_threshold,
            lockout_seconds: config.signin_lockout_seconds,
            trusted_device_days: config.trusted_device_days,
            user_domains: config.signin_user_domains.clone(),
            ..Default::default()
        },
        public_url: config.public_url(),
        portal_domain: Some(config.portal_domain.trim().trim_matches('.').to_ascii_lowercase()).filter(|d| !d.is_empty()),
        smtp: config.smtp(),
        max_permission_sets: config.max_permission_sets,
        max_permission_sets_per_account: config.max_permission_sets_per_account,
        provisioning: gatehouse_core::services::permission_sets::ProvisioningConfig {
            workers: config.provisioning_workers,
            lease_seconds: config.provisioning_lease_seconds,
            ..Default::default()
        },
        ..ServiceConfig::default()
    };
    let services = Services::open(store.clone(), key, Arc::new(SystemClock), service_config).await.map_err(service_error)?;
    let timeout = Duration::from_secs(config.aws_call_timeout_seconds);
    services.set_iam_gateway(Arc::new(gatehouse_aws::SdkGateway::new(timeout)));
    services.set_directory_gateway(Arc::new(gatehouse_ldap::LdapGateway));
    Ok(Opened { services: Arc::new(services), store })
}

impl Opened {
    /// Write pending audit records, then close the database.
    pub async fn close(&self) {
        self.services.flush_audit().await;
        self.store.close().await;
    }
}

pub fn service_error(e: Error) -> anyhow::Error {
    anyhow::Error::new(e)
}
