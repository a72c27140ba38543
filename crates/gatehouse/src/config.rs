//! Configuration: defaults, then the TOML file given with `--config`, then `GATEHOUSE_*`
//! environment variables (e.g. `GATEHOUSE_LISTEN`, `GATEHOUSE_DATABASE_URL`), then flags.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// The URL people and clients use to reach this server: sign-in instructions, links in emails,
    /// and the WebAuthn relying party (its host). Empty: `http://localhost:<port>` of `listen`.
    pub public_url: String,
    /// A domain whose subdomains (a wildcard DNS name) reach this server, e.g. "sso.example.com":
    /// administrators can then customize the portal URL once as `<name>.<portal_domain>/start`.
    /// Empty: the portal URL is `<public_url>/start`.
    pub portal_domain: String,
    /// HTTPS: PEM files of the certificate chain and its private key. Both set: Gatehouse serves
    /// TLS itself (rustls), reloads the files when they change, and sends HSTS.
    pub tls_certificate_file: String,
    pub tls_key_file: String,
    /// Reverse proxies (addresses or CIDR blocks) whose `X-Forwarded-For` names the client for
    /// audit records, rate limits and lockouts. Empty: the connection's address is the client.
    pub trusted_proxies: Vec<String>,
    /// Holds the SQLite database and the master key file.
    pub data_dir: PathBuf,
    /// Empty: SQLite in the data directory. `postgres://user:pass@host/db` for PostgreSQL.
    pub database_url: String,
    /// Maximum database connections per node.
    pub database_max_connections: u32,
    /// SQLite durability: "full" (survives power loss) or "normal" (survives process crashes).
    pub sqlite_synchronous: String,
    /// Base64 of 32 bytes. Empty: read or create `<data_dir>/master.key` (mode 0600).
    pub master_key: String,
    /// Earlier master keys (base64), still able to open what they sealed until `gatehouse key
    /// rotate` has sealed everything again under `master_key`.
    pub previous_master_keys: Vec<String>,
    /// Region reported in audit records and expected in request signatures.
    pub region: String,
    /// Email of the Administrator user and management account created at first start.
    pub admin_email: String,
    /// Identity store quotas (the guide's defaults).
    pub max_users: u64,
    pub max_groups: u64,
    /// AWS-compatible API calls per second for the instance (the guide's 20 TPS); 0 turns it off.
    pub api_rate_limit: f64,
    /// Validity of new SCIM access tokens, in days.
    pub scim_token_lifetime_days: i64,
    /// Portal sessions last this many hours (the guide's default: 8).
    pub session_hours: i64,
    /// Failed sign-ins for one user name before it is locked, and for one address.
    pub signin_lockout_threshold: i64,
    pub signin_ip_lockout_threshold: i64,
    /// How long a lockout lasts, in seconds.
    pub signin_lockout_seconds: i64,
    /// Days a browser marked "This is a trusted device" skips MFA (context-aware mode).
    pub trusted_device_days: i64,
    /// Directory domains users may type as DOMAIN\user or user@domain at sign-in.
    pub signin_user_domains: Vec<String>,
    /// Outgoing email (invitations, password-reset links): the SMTP server. Empty: no email.
    pub smtp_host: String,
    pub smtp_port: u16,
    /// "starttls" (port 587), "tls" (port 465) or "none" (a local relay or test sink only).
    pub smtp_security: String,
    pub smtp_username: String,
    pub smtp_password: String,
    /// The From address, e.g. "Gatehouse <sso@example.com>".
    pub smtp_from: String,
    /// "text" or "json".
    pub log_format: String,
    /// tracing filter, e.g. "info" or "gatehouse=debug,info".
    pub log_level: String,
    /// Seconds in-flight requests get to finish after SIGTERM.
    pub shutdown_grace_seconds: u64,
    /// The guide's quotas: permission sets per instance and per AWS account.
    pub max_permission_sets: u64,
    pub max_permission_sets_per_account: u64,
    /// Provisioning jobs (IAM calls into AWS accounts) this node runs at once.
    pub provisioning_workers: usize,
    /// Seconds a job or an account stays with a node that shows no sign of life; after that
    /// another node takes the job over (e.g. after a crash).
    pub provisioning_lease_seconds: i64,
    /// Seconds an IAM or STS call may take, retries included, before its job fails.
    pub aws_call_timeout_seconds: u64,
    /// How often (seconds) a node checks whether Active Directory's synchronization interval
    /// has passed.
    pub directory_sync_check_seconds: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            public_url: String::new(),
            portal_domain: String::new(),
            trusted_proxies: Vec::new(),
            tls_certificate_file: String::new(),
            tls_key_file: String::new(),
            data_dir: PathBuf::from("./gatehouse-data"),
            database_url: String::new(),
            database_max_connections: 16,
            sqlite_synchronous: "full".into(),
            master_key: String::new(),
            previous_master_keys: Vec::new(),
            region: "us-east-1".into(),
            admin_email: "admin@example.com".into(),
            max_users: 50_000,
            max_groups: 10_000,
            api_rate_limit: 20.0,
            scim_token_lifetime_days: 365,
            session_hours: 8,
            signin_lockout_threshold: 5,
            signin_ip_lockout_threshold: 50,
            signin_lockout_seconds: 900,
            trusted_device_days: 30,
            signin_user_domains: Vec::new(),
            smtp_host: String::new(),
            smtp_port: 587,
            smtp_security: "starttls".into(),
            smtp_username: String::new(),
            smtp_password: String::new(),
            smtp_from: String::new(),
            log_format: "text".into(),
            log_level: "info".into(),
            shutdown_grace_seconds: 30,
            max_permission_sets: 500,
            max_permission_sets_per_account: 50,
            provisioning_workers: 4,
            provisioning_lease_seconds: 60,
            aws_call_timeout_seconds: 30,
            directory_sync_check_seconds: 60,
        }
    }
}

const KEYS: &[&str] = &[
    "listen",
    "public_url",
    "portal_domain",
    "trusted_proxies",
    "tls_certificate_file",
    "tls_key_file",
    "data_dir",
    "database_url",
    "database_max_connections",
    "sqlite_synchronous",
    "master_key",
    "previous_master_keys",
    "region",
    "admin_email",
    "max_users",
    "max_groups",
    "api_rate_limit",
    "scim_token_lifetime_days",
    "session_hours",
    "signin_lockout_threshold",
    "signin_ip_lockout_threshold",
    "signin_lockout_seconds",
    "trusted_device_days",
    "signin_user_domains",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_username",
    "smtp_password",
    "smtp_from",
    "log_format",
    "log_level",
    "shutdown_grace_seconds",
    "max_permission_sets",
    "max_permission_sets_per_account",
    "provisioning_workers",
    "provisioning_lease_seconds",
    "aws_call_timeout_seconds",
    "directory_sync_check_seconds",
];

impl Config {
    /// The SMTP settings, if email is configured.
    pub fn smtp(&self) -> Option<gatehouse_core::mail::SmtpConfig> {
        use gatehouse_core::mail::{SmtpConfig, SmtpSecurity};
        (!self.smtp_host.is_empty()).then(|| SmtpConfig {
            host: self.smtp_host.clone(),
            port: self.smtp_port,
            security: match self.smtp_security.as_str() {
                "tls" => SmtpSecurity::Tls,
                "none" => SmtpSecurity::None,
                _ => SmtpSecurity::StartTls,
            },
            username: self.smtp_username.clone(),
            password: self.smtp_password.clone(),
            from: self.smtp_from.clone(),
        })
    }

    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                anyhow::bail!("configuration file {} does not exist", path.display());
            }
            fig = fig.merge(Toml::file(path));
        }
        // Only known keys: other GATEHOUSE_* variables (test harness settings) are not config.
        fig = fig.merge(Env::prefixed("GATEHOUSE_").only(KEYS));
        let config: Config = fig.extract().map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> anyhow::Result<()> {
        if !self.public_url.is_empty() && !self.public_url.starts_with("https://") && !self.public_url.starts_with("http://") {
            anyhow::bail!("public_url must start with https:// (or http:// for localhost), not {:?}", self.public_url);
        }
        if !matches!(self.sqlite_synchronous.as_str(), "full" | "normal") {
            anyhow::bail!("sqlite_synchronous must be \"full\" or \"normal\", not {:?}", self.sqlite_synchronous);
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            anyhow::bail!("log_format must be \"text\" or \"json\", not {:?}", self.log_format);
        }
        // The guide: sessions of 15 minutes to 7 days.
        if !(1..=168).contains(&self.session_hours) {
            anyhow::bail!("session_hours must be between 1 and 168, not {}", self.session_hours);
        }
        if self.signin_lockout_seconds < 1 || self.signin_lockout_threshold < 1 || self.signin_ip_lockout_threshold < 1 {
            anyhow::bail!("signin_lockout_seconds and the lockout thresholds must be at least 1");
        }
        if !["starttls", "tls", "none"].contains(&self.smtp_security.as_str()) {
            anyhow::bail!("smtp_security must be \"starttls\", \"tls\" or \"none\", not {:?}", self.smtp_security);
        }
        if !self.smtp_host.is_empty() && self.smtp_from.is_empty() {
            anyhow::bail!("smtp_from is required when smtp_host is set");
        }
        if !(1..=3650).contains(&self.scim_token_lifetime_days) {
            anyhow::bail!("scim_token_lifetime_days must be between 1 and 3650, not {}", self.scim_token_lifetime_days);
        }
        if self.directory_sync_check_seconds < 1 {
            anyhow::bail!("directory_sync_check_seconds must be at least 1");
        }
        if !(1..=64).contains(&self.provisioning_workers) || self.provisioning_lease_seconds < 1 || self.aws_call_timeout_seconds < 1 {
            anyhow::bail!("provisioning_workers must be 1 to 64, provisioning_lease_seconds and aws_call_timeout_seconds at least 1");
        }
        if self.tls_certificate_file.is_empty() != self.tls_key_file.is_empty() {
            anyhow::bail!("tls_certificate_file and tls_key_file go together: set both, or neither");
        }
        let known = ["postgres://", "postgresql://", "sqlite:"].iter().any(|p| self.database_url.starts_with(p));
        if !self.database_url.is_empty() && !known {
            anyhow::bail!("database_url must start with postgres:// or sqlite: (got {:?})", redact_url(&self.database_url));
        }
        Ok(())
    }

    /// The public URL in effect: as configured, else this machine's own address for `listen`
    /// (loopback and wildcard addresses become `localhost`, which browsers treat as secure).
    pub fn public_url(&self) -> String {
        if !self.public_url.is_empty() {
            return self.public_url.trim_end_matches('/').to_string();
        }
        let (host, port) = self.listen.rsplit_once(':').unwrap_or((self.listen.as_str(), "80"));
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let local = ["127.0.0.1", "0.0.0.0", "::", "::1", "localhost", ""].contains(&host);
        let host = if local {
            "localhost".to_string()
        } else if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        let scheme = if self.tls() { "https" } else { "http" };
        format!("{scheme}://{host}:{port}")
    }

    /// Whether Gatehouse serves HTTPS itself.
    pub fn tls(&self) -> bool {
        !self.tls_certificate_file.is_empty()
    }

    /// The database URL in effect: PostgreSQL when configured, else SQLite in the data directory.
    pub fn effective_database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}?mode=rwc", self.data_dir.join("gatehouse.db").display())
        } else {
            self.database_url.clone()
        }
    }
}

/// Hide a password in a database URL before printing it.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}://{user}:***@{}", &url[..s], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts() {
        assert_eq!(redact_url("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn public_url_follows_listen_unless_set() {
        let mut c = Config { listen: "127.0.0.1:43123".into(), ..Config::default() };
        assert_eq!(c.public_url(), "http://localhost:43123");
        c.listen = "0.0.0.0:8080".into();
        assert_eq!(c.public_url(), "http://localhost:8080");
        c.listen = "[::1]:9000".into();
        assert_eq!(c.public_url(), "http://localhost:9000");
        c.listen = "10.0.0.5:8080".into();
        assert_eq!(c.public_url(), "http://10.0.0.5:8080");
        c.public_url = "https://sso.example.com/".into();
        assert_eq!(c.public_url(), "https://sso.example.com");
    }
}
