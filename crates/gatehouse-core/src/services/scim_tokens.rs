//! Automatic provisioning (SCIM): enabling and disabling it, and its bearer access tokens — at
//! most two active at once so rotation overlaps, valid a year by default, stored as hashes, shown
//! once. Provisioning can be disabled only after its tokens are deleted (the guide).

use serde_json::json;
use zeroize::Zeroizing;

use super::Services;
use super::op::Source;
use super::principal::{Ctx, Principal};
use crate::crypto::token_hash;
use crate::error::{Error, ResourceType, Result};
use crate::model::ScimToken;

const ENABLED: &str = "scim.enabled";

/// How long a node trusts a token it has checked: a token deleted on another node (or by the CLI)
/// stops working within this time, at once on the node that deleted it.
const TOKEN_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// Recently checked tokens by hash, so a provisioning burst does not read the token table on every
/// request. Only valid tokens are cached.
#[derive(Default)]
pub(crate) struct ScimTokenCache(std::sync::Mutex<std::collections::HashMap<String, (ScimToken, std::time::Instant)>>);

impl ScimTokenCache {
    fn get(&self, hash: &str) -> Option<ScimToken> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(hash).filter(|(_, at)| at.elapsed() < TOKEN_TTL).map(|(t, _)| t.clone())
    }
    fn put(&self, token: &ScimToken) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, (_, at)| at.elapsed() < TOKEN_TTL);
        map.insert(token.token_hash.clone(), (token.clone(), std::time::Instant::now()));
    }
    /// Record a use without extending the entry's life.
    fn touch(&self, hash: &str, at: chrono::DateTime<chrono::Utc>) {
        if let Some((t, _)) = self.0.lock().unwrap_or_else(|p| p.into_inner()).get_mut(hash) {
            t.last_used_at = Some(at);
        }
    }
    pub(crate) fn clear(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// Tokens that may be valid at the same time.
pub const MAX_ACTIVE_SCIM_TOKENS: usize = 2;

/// A token just created: the only time its value is visible.
#[derive(Debug)]
pub struct NewScimToken {
    pub info: ScimToken,
    pub token: Zeroizing<String>,
}

/// A failed SCIM bearer check, for the front door's 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimAuthError {
    /// No such token (never issued, or deleted), or provisioning is off.
    Invalid,
    Expired,
}

fn sso_resource(svc: &Services) -> Result<String> {
    Ok(svc.instance()?.instance_arn.clone())
}

impl Services {
    async fn provisioning_enabled(&self, tx: &mut Box<dyn crate::store::Tx>) -> Result<bool> {
        Ok(tx.get_setting(ENABLED).await?.as_deref() == Some("true"))
    }

    /// Turn automatic provisioning on; the first call also issues the first access token.
    pub async fn enable_provisioning(&self, ctx: &Ctx) -> Result<Option<NewScimToken>> {
        let mut op = self.begin(ctx, Source::SsoDirectory, "EnableProvisioning", false, json!({})).await?;
        let result = async {
            op.authorize(&sso_resource(self)?)?;
            if self.provisioning_enabled(&mut op.tx).await? {
                return Ok(None);
            }
            op.tx.put_setting(ENABLED, "true", self.clock.now()).await?;
            let active = op.tx.list_scim_tokens().await?.iter().filter(|t| !t.is_expired(self.clock.now())).count();
            if active > 0 {
                return Ok(None);
            }
            Ok(Some(self.issue_scim_token(&mut op.tx).await?))
        }
        .await;
        op.finish(result).await
    }

    /// Turn automatic provisioning off; refused while any access token exists.
    pub async fn disable_provisioning(&self, ctx: &Ctx) -> Result<()> {
        let mut op = self.begin(ctx, Source::SsoDirectory, "DisableProvisioning", false, json!({})).await?;
        let result = async {
            op.authorize(&sso_resource(self)?)?;
            let tokens = op.tx.list_scim_tokens().await?;
            if !tokens.is_empty() {
                return Err(Error::conflict(format!(
                    "Delete the {} access token(s) before disabling automatic provisioning",
                    tokens.len()
                )));
            }
            op.tx.put_setting(ENABLED, "false", self.clock.now()).await?;
            Ok(())
        }
        .await;
        self.scim_token_cache.clear();
        op.finish(result).await
    }

    pub async fn create_scim_token(&self, ctx: &Ctx) -> Result<NewScimToken> {
        let mut op = self.begin(ctx, Source::SsoDirectory, "CreateBearerToken", false, json!({})).await?;
        let result = async {
            op.authorize(&sso_resource(self)?)?;
            if !self.provisioning_enabled(&mut op.tx).await? {
                return Err(Error::conflict("Automatic provisioning is not enabled"));
            }
            let now = self.clock.now();
            let active = op.tx.list_scim_tokens().await?.iter().filter(|t| !t.is_expired(now)).count();
            if active >= MAX_ACTIVE_SCIM_TOKENS {
                return Err(Error::QuotaExceeded {
                    message: format!(
                        "There are already {MAX_ACTIVE_SCIM_TOKENS} active access tokens; delete one before generating a new one"
                    ),
                });
            }
            let new = self.issue_scim_token(&mut op.tx).await?;
            op.respond(json!({"tokenId": new.info.token_id, "expiresAt": new.info.expires_at}));
            Ok(new)
        }
        .await;
        op.finish(result).await
    }

    async fn issue_scim_token(&self, tx: &mut Box<dyn crate::store::Tx>) -> Result<NewScimToken> {
        let now = self.clock.now();
        let token = Zeroizing::new(crate::ids::new_session_token());
        let info = ScimToken {
            token_id: uuid::Uuid::new_v4().to_string(),
            token_hash: token_hash(&token),
            created_at: now,
            expires_at: now + chrono::Duration::days(self.config.scim_token_lifetime_days),
            last_used_at: None,
        };
        tx.insert_scim_token(&info).await?;
        Ok(NewScimToken { info, token })
    }

    /// Whether provisioning is on, and its tokens (never their values).
    pub async fn list_scim_tokens(&self, ctx: &Ctx) -> Result<(bool, Vec<ScimToken>)> {
        let mut op = self.begin(ctx, Source::SsoDirectory, "ListBearerTokens", true, json!({})).await?;
        let result = async {
            op.authorize(&sso_resource(self)?)?;
            Ok((self.provisioning_enabled(&mut op.tx).await?, op.tx.list_scim_tokens().await?))
        }
        .await;
        op.finish(result).await
    }

    pub async fn delete_scim_token(&self, ctx: &Ctx, token_id: &str) -> Result<()> {
        let mut op = self.begin(ctx, Source::SsoDirectory, "DeleteBearerToken", false, json!({"tokenId": token_id})).await?;
        let result = async {
            op.authorize(&sso_resource(self)?)?;
            if !op.tx.delete_scim_token(token_id).await? {
                return Err(Error::not_found(ResourceType::ScimToken, token_id));
            }
            Ok(())
        }
        .await;
        self.scim_token_cache.clear();
        op.finish(result).await
    }

    /// The principal of a SCIM request's bearer token. Records when the token was last used
    /// (at most once a minute per token, so provisioning bursts do not write on every request).
    pub async fn authenticate_scim(&self, bearer: &str) -> Result<std::result::Result<Principal, ScimAuthError>> {
        let hash = token_hash(bearer);
        // Entries are refreshed only from the database, so a deleted token ages out of the cache.
        let token = match self.scim_token_cache.get(&hash) {
            Some(t) => t,
            None => {
                let mut tx = self.store.begin_read().await?;
                let found = tx.find_scim_token(&hash).await?;
                let enabled = self.provisioning_enabled(&mut tx).await?;
                tx.rollback().await?;
                let Some(token) = found.filter(|_| enabled) else { return Ok(Err(ScimAuthError::Invalid)) };
                self.scim_token_cache.put(&token);
                token
            }
        };
        let now = self.clock.now();
        if token.is_expired(now) {
            return Ok(Err(ScimAuthError::Expired));
        }
        if token.last_used_at.is_none_or(|t| now - t > chrono::Duration::minutes(1)) {
            let mut tx = self.store.begin().await?;
            tx.touch_scim_token(&token.token_id, now).await?;
            tx.commit().await?;
            self.scim_token_cache.touch(&hash, now);
        }
        Ok(Ok(Principal::scim(&self.instance()?.management_account_id, &token.token_id)))
    }
}
