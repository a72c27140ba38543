//! The service layer: one function per operation, shared by every front door (API, SCIM, console,
//! CLI). Each validates, authorizes, writes in one transaction and records its audit event.

mod access_keys;
pub mod applications;
mod audit;
mod audit_sink;
mod bootstrap;
pub mod console;
pub mod directory;
mod groups;
pub mod identity_source;
mod instance;
mod lookups;
mod memberships;
mod mfa;
mod network;
pub mod oidc;
mod op;
mod org;
pub(crate) mod passwords;
pub mod permission_sets;
pub mod portal_accounts;
mod portal_url;
pub mod principal;
mod quota;
mod scim_tokens;
pub mod signin;
mod ttl_cache;
mod users;

use std::sync::{Arc, OnceLock};

pub use access_keys::{KeyAuth, NewAccessKey, SESSION_LIFETIME};
pub use bootstrap::Bootstrapped;
pub use lookups::AlternateId;
pub use mfa::{MAX_AUTHENTICATOR_APPS, MAX_SECURITY_KEYS, TotpEnrollment, totp_enrollment};
pub use network::{Door, IdentityStoreInfo};
pub use op::Source;
pub use org::{ChildType, Node};
pub use portal_url::check_alias;
pub use principal::{Ctx, HeldPolicy, Principal, PrincipalKind};
pub use scim_tokens::{MAX_ACTIVE_SCIM_TOKENS, NewScimToken, ScimAuthError};
pub use signin::{Client, KeyAttachment, KeyCeremony, MfaChallenge, SessionInfo, SignInConfig, SignInError, Step};
pub use users::UserChange;

use crate::clock::Clock;
use crate::crypto::MasterKey;
use crate::error::{Error, Result};
use crate::model::Instance;
use crate::store::Store;

/// Settings the services need (the binary maps its configuration file onto this).
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Reported as `awsRegion` and checked in SigV4 scopes.
    pub region: String,
    /// The guide's identity store quotas.
    pub max_users: u64,
    pub max_groups: u64,
    /// Email of the Administrator user and of the management account created at first start.
    pub admin_email: String,
    /// Name of the management account.
    pub management_account_name: String,
    /// AWS-compatible API calls per second for the whole instance (the guide: 20); 0 turns the
    /// limit off.
    pub api_rate_limit: f64,
    /// How long a new SCIM access token is valid (the guide: one year).
    pub scim_token_lifetime_days: i64,
    /// Portal sign-in: sessions, lockout, trusted devices.
    pub signin: SignInConfig,
    /// Where people reach Gatehouse (links in emails).
    pub public_url: String,
    /// A domain whose subdomains reach Gatehouse: the portal URL can then be customized as
    /// `<alias>.<portal_domain>` (portal_url.rs).
    pub portal_domain: Option<String>,
    /// Outgoing email; None: invitations, reset links and emailed codes are refused clearly.
    pub smtp: Option<crate::mail::SmtpConfig>,
    /// The guide's quotas: permission sets per instance (500) and per account (50).
    pub max_permission_sets: u64,
    pub max_permission_sets_per_account: u64,
    /// How this node runs provisioning jobs.
    pub provisioning: permission_sets::ProvisioningConfig,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            region: "us-east-1".to_string(),
            max_users: 50_000,
            max_groups: 10_000,
            admin_email: "admin@example.com".to_string(),
            management_account_name: "Management".to_string(),
            scim_token_lifetime_days: 365,
            api_rate_limit: 20.0,
            signin: SignInConfig::default(),
            public_url: "http://localhost:8080".to_string(),
            portal_domain: None,
            smtp: None,
            max_permission_sets: 500,
            max_permission_sets_per_account: 50,
            provisioning: permission_sets::ProvisioningConfig::default(),
        }
    }
}

pub struct Services {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) key: MasterKey,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: ServiceConfig,
    pub(crate) instance: OnceLock<Instance>,
    pub(crate) audit_sink: audit_sink::AuditSink,
    pub(crate) key_cache: access_keys::KeyCache,
    pub(crate) network_cache: network::NetworkCache,
    pub(crate) scim_token_cache: scim_tokens::ScimTokenCache,
    pub(crate) user_count: quota::CountCache,
    pub(crate) group_count: quota::CountCache,
    pub(crate) mailer: Option<crate::mail::Mailer>,
    /// WebAuthn: this server as browsers know it (the public URL).
    pub(crate) relying_party: signin::RelyingParty,
    /// Application signing keys, parsed once per node.
    pub(crate) signers: applications::SignerCache,
    /// Signed-in portal sessions by token hash, applications with their certificates by id, and
    /// who may use which: read on every sign-in to an application (see READ_CACHE_TTL).
    pub(crate) session_cache: ttl_cache::TtlCache<signin::SessionInfo>,
    pub(crate) app_cache: ttl_cache::TtlCache<(crate::model::Application, Vec<crate::model::AppCertificate>)>,
    /// (application, user) → assigned?, and the user's groups.
    pub(crate) access_cache: ttl_cache::TtlCache<(bool, Vec<(String, String)>)>,
    /// The portal API: bearer tokens by hash with their user, and what each user reaches.
    pub(crate) bearer_cache: ttl_cache::TtlCache<(crate::model::SsoToken, crate::model::User)>,
    pub(crate) reach_cache: ttl_cache::TtlCache<Arc<portal_accounts::Reach>>,
    /// IAM and STS of AWS accounts (set by the binary: the SDK lives in `gatehouse-aws`).
    pub(crate) iam: OnceLock<Arc<dyn crate::iam::IamGateway>>,
    /// LDAP calls into Active Directory (set by the binary: `gatehouse-ldap`).
    pub(crate) directory: OnceLock<Arc<dyn crate::directory::DirectoryGateway>>,
    /// Wakes this node's provisioning workers when a request is queued here.
    pub(crate) provisioning_wake: Arc<tokio::sync::Notify>,
    /// Provisioning: the IdP metadata for AWS accounts, and which accounts hold it already (by
    /// account, endpoint and metadata digest), so that a burst of assignments to one account
    /// does not re-send it each time. Repair always sends it.
    pub(crate) aws_metadata_cache: ttl_cache::TtlCache<String>,
    pub(crate) aws_provider_cache: ttl_cache::TtlCache<String>,
    /// The instance's name (UpdateInstance), as last read or written here.
    pub(crate) instance_name: std::sync::Mutex<String>,
    pub(crate) portal_alias_cache: ttl_cache::TtlCache<Option<String>>,
}

/// How long a node trusts a session or application it has read: a session ended, a user
/// disabled or an application changed by another node or the command line takes effect here
/// within this time; on this node at once (every write clears the caches).
pub const READ_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(1);

impl Services {
    /// Build the services and load the instance if one exists (see [`Services::bootstrap`]).
    pub async fn open(store: Arc<dyn Store>, key: MasterKey, clock: Arc<dyn Clock>, config: ServiceConfig) -> Result<Self> {
        let mailer = config.smtp.as_ref().map(crate::mail::Mailer::new).transpose()?;
        let relying_party = signin::RelyingParty::new(&config.public_url)?;
        let svc = Services {
            store: store.clone(),
            key,
            clock,
            config,
            instance: OnceLock::new(),
            audit_sink: audit_sink::AuditSink::start(store.clone()),
            key_cache: access_keys::KeyCache::default(),
            network_cache: network::NetworkCache::default(),
            scim_token_cache: scim_tokens::ScimTokenCache::default(),
            user_count: quota::CountCache::new(store.backend() != "sqlite"),
            group_count: quota::CountCache::new(store.backend() != "sqlite"),
            mailer,
            relying_party,
            signers: applications::SignerCache::default(),
            session_cache: ttl_cache::TtlCache::new(READ_CACHE_TTL),
            app_cache: ttl_cache::TtlCache::new(READ_CACHE_TTL),
            access_cache: ttl_cache::TtlCache::new(READ_CACHE_TTL),
            bearer_cache: ttl_cache::TtlCache::new(READ_CACHE_TTL),
            reach_cache: ttl_cache::TtlCache::new(READ_CACHE_TTL),
            iam: OnceLock::new(),
            directory: OnceLock::new(),
            provisioning_wake: Arc::new(tokio::sync::Notify::new()),
            instance_name: std::sync::Mutex::new(String::new()),
            portal_alias_cache: ttl_cache::TtlCache::new(READ_CACHE_TTL),
            aws_metadata_cache: ttl_cache::TtlCache::new(std::time::Duration::from_secs(60)),
            aws_provider_cache: ttl_cache::TtlCache::new(std::time::Duration::from_secs(300)),
        };
        let mut tx = svc.store.begin().await?;
        let found = tx.get_instance().await?;
        tx.rollback().await?;
        if let Some(instance) = found {
            let _ = svc.instance.set(instance);
        }
        Ok(svc)
    }

    /// The instance; an error before `gatehouse init` (or the first `serve`) has created it.
    pub fn instance(&self) -> Result<&Instance> {
        self.instance
            .get()
            .ok_or_else(|| Error::conflict("Gatehouse is not initialized yet: run `gatehouse init` or start `gatehouse serve` once"))
    }

    /// Forget what this node has cached from the database: called after each write it commits.
    pub(crate) fn clear_read_caches(&self) {
        self.session_cache.clear();
        self.app_cache.clear();
        self.access_cache.clear();
        self.bearer_cache.clear();
        self.reach_cache.clear();
    }

    /// The master key sealing secrets at rest (a server swaps in rotated keys).
    pub fn master_key(&self) -> &MasterKey {
        &self.key
    }

    /// Another node committed a write (PostgreSQL's notification, gatehouse-store's
    /// invalidation.rs): forget everything this node cached, so the change is seen at once.
    pub fn forget_cached_reads(&self) {
        self.clear_read_caches();
        self.key_cache.clear();
        self.scim_token_cache.clear();
        self.network_cache.clear();
        self.portal_alias_cache.clear();
    }

    /// Wait until the records of earlier successful reads are written (call before exiting).
    pub async fn flush_audit(&self) {
        self.audit_sink.flush().await
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    /// A context for the local operator (the `gatehouse` command line).
    pub fn operator_ctx(&self, os_user: &str) -> Result<Ctx> {
        let instance = self.instance()?;
        let principal = Principal::operator(&instance.management_account_id, os_user);
        Ok(Ctx::new(principal, "127.0.0.1", format!("gatehouse-cli/{}", env!("CARGO_PKG_VERSION"))))
    }

    /// Admit one AWS API call under the instance's rate limit ("All AWS SSO APIs have a throttle
    /// limit maximum of 20 transactions per second"), or refuse it with ThrottlingException.
    pub async fn admit_api_call(&self) -> Result<()> {
        let rate = self.config.api_rate_limit;
        if rate <= 0.0 {
            return Ok(());
        }
        if self.store.take_token("aws-api", rate, rate.max(1.0), self.clock.now()).await? {
            Ok(())
        } else {
            Err(Error::Throttled { message: "Rate exceeded".into() })
        }
    }

    /// Requests name the identity store; there is one per instance.
    pub fn require_identity_store(&self, identity_store_id: &str) -> Result<()> {
        if self.instance()?.identity_store_id == identity_store_id {
            Ok(())
        } else {
            Err(Error::not_found(crate::error::ResourceType::IdentityStore, identity_store_id))
        }
    }

    /// An opaque, tamper-proof pagination token (authenticated encryption under the master key),
    /// bound to the operation that issued it.
    pub fn seal_page_token(&self, operation: &str, cursor: &str) -> String {
        self.key.encrypt_str(&format!("{operation}\n{cursor}"))
    }

    /// The cursor inside a token from [`Services::seal_page_token`]; a forged, altered or foreign
    /// token is a ValidationException naming `NextToken`.
    pub fn open_page_token(&self, operation: &str, token: &str) -> Result<String> {
        let bad = || Error::validation("NextToken", "the pagination token is invalid");
        let text = self.key.decrypt_string(token).map_err(|_| bad())?;
        let (op, cursor) = text.split_once('\n').ok_or_else(bad)?;
        if op != operation {
            return Err(bad());
        }
        Ok(cursor.to_string())
    }

    fn identity_store_arn(&self) -> Result<String> {
        let i = self.instance()?;
        Ok(crate::ids::identity_store_arn(&i.management_account_id, &i.identity_store_id))
    }

    fn store_id(&self) -> Result<String> {
        Ok(self.instance()?.identity_store_id.clone())
    }
}
