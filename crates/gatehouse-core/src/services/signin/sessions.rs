//! Signed-in portal sessions: checked on every request, ended by signing out, and ended at once
//! when the user is disabled, deleted or given a new password.

use chrono::Duration;
use serde_json::json;

use crate::crypto::token_hash;
use crate::error::Result;
use crate::ids;
use crate::model::{PortalSession, Stage, User};
use crate::services::Services;
use crate::services::op::Source;
use crate::services::principal::{Ctx, Principal};
use crate::store::Tx;

/// A valid signed-in session and its user.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub session: PortalSession,
    pub user: User,
}

impl SessionInfo {
    /// The principal the user acts as in the portal.
    pub fn principal(&self, management_account: &str) -> Principal {
        Principal::portal_user(management_account, &self.user.user_id, &self.user.profile.user_name)
    }
}

/// `last_seen_at` is written at most this often per session.
const TOUCH_SECONDS: i64 = 60;

impl Services {
    /// The signed-in session a cookie names, or None (unknown, expired, not finished signing in,
    /// or its user disabled or deleted).
    /// A node trusts a session it has checked for READ_CACHE_TTL (services/mod.rs).
    pub async fn portal_session(&self, token: &str) -> Result<Option<SessionInfo>> {
        let now = self.clock.now();
        let hash = token_hash(token);
        if let Some(info) = self.session_cache.get(&hash).filter(|i| i.session.expires_at > now) {
            return Ok(Some(info));
        }
        let mut tx = self.store.begin_read().await?;
        let Some(mut session) = tx.find_session(&hash).await? else { return Ok(None) };
        if session.stage != Stage::SignedIn || session.expires_at <= now {
            return Ok(None);
        }
        let Some(user) = tx.get_user(&self.store_id()?, &session.user_id).await?.filter(|u| u.active) else { return Ok(None) };
        tx.rollback().await?;
        if now - session.last_seen_at >= Duration::seconds(TOUCH_SECONDS) {
            session.last_seen_at = now;
            let mut tx = self.store.begin().await?;
            tx.update_session(&session).await?;
            tx.commit().await?;
        }
        let info = SessionInfo { session, user };
        self.session_cache.put(&hash, info.clone());
        Ok(Some(info))
    }

    /// The session a token names at any stage (sign-in steps), if not expired.
    pub async fn step_of(&self, token: &str) -> Result<Option<PortalSession>> {
        let mut tx = self.store.begin_read().await?;
        let session = tx.find_session(&token_hash(token)).await?;
        tx.rollback().await?;
        Ok(session.filter(|s| s.expires_at > self.clock.now()))
    }

    /// Sign out: the session is deleted, not just forgotten by the browser.
    pub async fn sign_out(&self, ctx: &Ctx, token: &str) -> Result<()> {
        let mut op = self.begin(ctx, Source::Sso, "Logout", false, json!({})).await?;
        let result = async {
            if let Some(session) = op.tx.find_session(&token_hash(token)).await? {
                op.tx.delete_session(&session.session_id).await?;
            }
            Ok(())
        }
        .await;
        op.finish(result).await
    }

    /// A user's sessions (administrators; a user sees their own).
    pub async fn list_user_sessions(&self, ctx: &Ctx, user_id: &str) -> Result<Vec<PortalSession>> {
        let params = json!({"UserId": user_id});
        let mut op = self.begin(ctx, Source::IdentityStoreAuth, "ListSessions", true, params).await?;
        let result = async {
            op.authorize(&ids::user_arn(user_id))?;
            let now = self.clock.now();
            Ok(op.tx.list_sessions_of_user(user_id).await?.into_iter().filter(|s| s.expires_at > now).collect())
        }
        .await;
        op.finish(result).await
    }

    /// End every session of a user (an administrator, or the user signing out everywhere).
    pub async fn revoke_user_sessions(&self, ctx: &Ctx, user_id: &str) -> Result<u64> {
        let params = json!({"UserId": user_id});
        let mut op = self.begin(ctx, Source::IdentityStoreAuth, "BatchDeleteSession", false, params).await?;
        let result = async {
            op.authorize(&ids::user_arn(user_id))?;
            let n = op.tx.delete_sessions_of_user(user_id).await?;
            op.resource("AWS::IdentityStore::User", ids::user_arn(user_id));
            op.respond(json!({"SessionsRevoked": n}));
            Ok(n)
        }
        .await;
        op.finish(result).await
    }
}

/// Within another operation's transaction: the user's sessions and trusted browsers end (disable,
/// delete, password reset).
pub(crate) async fn end_sessions(tx: &mut Box<dyn Tx>, user_id: &str) -> Result<()> {
    tx.delete_sessions_of_user(user_id).await?;
    tx.delete_trusted_devices_of_user(user_id).await?;
    // The CLI's tokens too: re-enabling the user does not bring them back.
    tx.revoke_tokens_of_user(user_id).await?;
    Ok(())
}
