//! Console sessions: a browser in the Gatehouse console acts as a role session of the management
//! account ("Management console" in the portal), so every page is authorized by that permission
//! set's policies like the same role's API calls. The session also needs the portal sign-in it
//! came from: signing out of the portal, or the user being disabled, ends the console too.

use serde_json::json;

use super::Services;
use super::access_keys::KeyAuth;
use super::op::Source;
use super::principal::{Ctx, Principal, PrincipalKind};
use crate::error::Result;
use crate::model::User;

impl Services {
    /// The principal of the console session `access_key_id` (with its session token) for the
    /// signed-in `user`: None when the key is unknown, expired, not a role session, or another
    /// person's.
    pub async fn console_principal(&self, user: &User, access_key_id: &str, session_token: &str) -> Result<Option<Principal>> {
        let KeyAuth::Valid(principal, _) = self.authenticate_access_key(access_key_id, Some(session_token)).await? else {
            return Ok(None);
        };
        let mine = match &principal.kind {
            PrincipalKind::AccessKey { user_name, .. } => {
                user_name.split_once('/').is_some_and(|(_, session)| session == user.profile.user_name)
            }
            _ => false,
        };
        Ok(mine.then_some(principal))
    }

    /// Sign out of the console: its role session ends (its key is deleted).
    pub async fn end_console_session(&self, ctx: &Ctx) -> Result<()> {
        let PrincipalKind::AccessKey { access_key_id, .. } = &ctx.principal.kind else { return Ok(()) };
        let mut op = self.begin(ctx, Source::Gatehouse, "EndConsoleSession", false, json!({"accessKeyId": access_key_id})).await?;
        let result = async {
            op.tx.delete_access_key(access_key_id).await?;
            self.key_cache.evict(access_key_id);
            Ok(())
        }
        .await;
        op.finish(result).await
    }
}
