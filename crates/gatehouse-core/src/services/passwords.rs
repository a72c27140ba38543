//! Passwords of identity-store users: the guide's policy, the last three cannot be reused, and
//! administrator one-time passwords that must be changed at the next sign-in.

use serde_json::json;
use zeroize::Zeroizing;

use super::Services;
use super::op::{Op, Source};
use super::principal::Ctx;
use super::users::{disabled, load_user};
use crate::error::{Error, Result};
use crate::ids;
use crate::model::PasswordRecord;
use crate::password;

const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

impl Services {
    /// Generate a one-time password for an enabled user; it is returned once and must be changed
    /// at the next sign-in.
    pub async fn reset_password(&self, ctx: &Ctx, user_id: &str) -> Result<Zeroizing<String>> {
        let store_id = self.store_id()?;
        let params = json!({"identityStoreId": store_id, "userId": user_id, "mode": "OTP"});
        let mut op = self.begin(ctx, Source::SsoDirectory, "ResetUserPassword", false, params).await?;
        let result = async {
            op.authorize(&ids::user_arn(user_id))?;
            self.ensure_not_directory(&mut op, "Passwords").await?;
            let otp = Zeroizing::new(password::generate_one_time());
            self.store_password(&mut op, &store_id, user_id, &otp, true).await?;
            op.respond(json!({"password": HIDDEN}));
            Ok(otp)
        }
        .await;
        op.finish(result).await
    }

    /// Set a user's password (an administrator choosing it, or the user changing their own once
    /// signed in). `temporary` makes the user change it at the next sign-in.
    pub async fn set_password(&self, ctx: &Ctx, user_id: &str, new_password: &str, temporary: bool) -> Result<()> {
        let store_id = self.store_id()?;
        let params = json!({"identityStoreId": store_id, "userId": user_id, "password": HIDDEN, "temporary": temporary});
        let mut op = self.begin(ctx, Source::SsoDirectory, "UpdatePassword", false, params).await?;
        let result = async {
            op.authorize(&ids::user_arn(user_id))?;
            self.ensure_not_directory(&mut op, "Passwords").await?;
            password::check_policy("Password", new_password)?;
            self.store_password(&mut op, &store_id, user_id, new_password, temporary).await
        }
        .await;
        op.finish(result).await
    }

    /// Check a user's password (no audit of its own: sign-in records its own events).
    pub async fn verify_password(&self, user_id: &str, candidate: &str) -> Result<bool> {
        let mut tx = self.store.begin_read().await?;
        let record = tx.get_password(user_id).await?;
        tx.rollback().await?;
        Ok(record.is_some_and(|r| password::verify(candidate, &r.hash)))
    }

    /// Does the user have to choose a new password at the next sign-in?
    pub async fn password_must_change(&self, user_id: &str) -> Result<bool> {
        let mut tx = self.store.begin_read().await?;
        let record = tx.get_password(user_id).await?;
        tx.rollback().await?;
        Ok(record.is_some_and(|r| r.must_change))
    }

    async fn store_password(&self, op: &mut Op<'_>, store_id: &str, user_id: &str, new_password: &str, must_change: bool) -> Result<()> {
        let user = load_user(op, store_id, user_id).await?;
        if !user.active {
            return Err(disabled(user_id, "given a new password"));
        }
        let previous = op.tx.get_password(user_id).await?;
        let record = next_password(user_id, previous, new_password, must_change, self.clock.now()).await?;
        op.tx.put_password(&record).await?;
        // A password set for the user (reset or chosen by an administrator) ends their sessions.
        super::signin::end_sessions(&mut op.tx, user_id).await?;
        op.resource("AWS::IdentityStore::User", ids::user_arn(user_id));
        Ok(())
    }
}

/// The record that replaces `previous` with `new_password`: none of the last three passwords
/// reused, the history kept. Every way of setting a password goes through here (administrators,
/// the forced change at sign-in, emailed links). The hashing runs on a blocking thread.
pub(crate) async fn next_password(
    user_id: &str,
    previous: Option<PasswordRecord>,
    new_password: &str,
    must_change: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<PasswordRecord> {
    // The current password and the ones before it, up to the last three in all.
    let recent: Vec<String> =
        previous.map(|p| std::iter::once(p.hash).chain(p.history).take(password::HISTORY).collect()).unwrap_or_default();
    let candidate = Zeroizing::new(new_password.to_string());
    let (reused, hash, recent) = password::off_thread(move || {
        let reused = recent.iter().any(|h| password::verify(&candidate, h));
        (reused, password::hash(&candidate), recent)
    })
    .await?;
    if reused {
        return Err(Error::validation("Password", "The last three passwords cannot be reused"));
    }
    let mut history = recent;
    history.truncate(password::HISTORY - 1);
    Ok(PasswordRecord { user_id: user_id.to_string(), hash: hash?, must_change, history, updated_at: now })
}
