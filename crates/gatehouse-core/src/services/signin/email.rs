//! Emailed links: the invitation an administrator sends with a new user (24 hours) and the
//! password-reset link a user asks for (1 hour). Each works once; the store keeps only its hash.

use chrono::Duration;
use serde_json::json;

use super::{Client, SignInError, SignInResult, Step, new_secret};
use crate::crypto::token_hash;
use crate::error::{Error, Result};
use crate::ids;
use crate::model::{EmailPurpose, EmailToken, User};
use crate::services::Services;
use crate::services::op::Source;
use crate::services::principal::Ctx;

const INVITATION_HOURS: i64 = 24;
const RESET_MINUTES: i64 = 60;

impl Services {
    /// Can Gatehouse send email (smtp_host configured)?
    pub fn email_configured(&self) -> bool {
        self.mailer.is_some()
    }

    fn mailer(&self) -> Result<&crate::mail::Mailer> {
        self.mailer.as_ref().ok_or_else(|| {
            Error::validation("Email", "Email is not configured: set smtp_host (and smtp_from) to send invitations and reset links")
        })
    }

    fn link(&self, path: &str, token: &str) -> String {
        format!("{}{path}?token={token}", self.config.public_url.trim_end_matches('/'))
    }

    /// A new single-use token for `user`, replacing their unused ones of the same purpose.
    async fn new_email_token(
        &self,
        tx: &mut Box<dyn crate::store::Tx>,
        user: &User,
        purpose: EmailPurpose,
        valid: Duration,
    ) -> Result<String> {
        let token = new_secret();
        let now = self.clock.now();
        tx.delete_email_tokens(&user.user_id, purpose).await?;
        tx.insert_email_token(&EmailToken {
            token_hash: token_hash(&token),
            user_id: user.user_id.clone(),
            purpose,
            created_at: now,
            expires_at: now + valid,
            used_at: None,
        })
        .await?;
        Ok(token)
    }

    /// The audited part of emailing a user a link (an invitation, or an administrator's password
    /// reset): the caller may, Passwords are Gatehouse's, the user is enabled and has an email.
    /// Returns the address, the link's token and the user.
    async fn email_link_op(
        &self,
        ctx: &Ctx,
        user_id: &str,
        event: &'static str,
        params: serde_json::Value,
        purpose: EmailPurpose,
        lifetime: Duration,
    ) -> Result<(String, String, crate::model::User)> {
        let mut op = self.begin(ctx, Source::SsoDirectory, event, false, params).await?;
        let result = async {
            op.authorize(&ids::user_arn(user_id))?;
            self.ensure_not_directory(&mut op, "Passwords").await?;
            self.mailer()?;
            let user = crate::services::users::load_user(&mut op, &self.store_id()?, user_id).await?;
            if !user.active {
                return Err(crate::services::users::disabled(user_id, "sent a password link"));
            }
            let to = user
                .profile
                .primary_email()
                .map(str::to_string)
                .ok_or_else(|| Error::validation("Email", "The user has no primary email address"))?;
            let token = self.new_email_token(&mut op.tx, &user, purpose, lifetime).await?;
            op.resource("AWS::IdentityStore::User", ids::user_arn(user_id));
            Ok((to, token, user))
        }
        .await;
        op.finish(result).await
    }

    /// Email a user an invitation to set their password and sign in (the guide's "Send an email to
    /// this user with password setup instructions").
    pub async fn send_invitation(&self, ctx: &Ctx, user_id: &str) -> Result<()> {
        let params = json!({"UserId": user_id});
        let (to, token, user) =
            self.email_link_op(ctx, user_id, "SendInvitation", params, EmailPurpose::Invitation, Duration::hours(INVITATION_HOURS)).await?;
        let body = format!(
            "Hello {name},\n\nYou have been invited to sign in to Gatehouse as {user_name}.\n\
             Accept the invitation and choose your password here (the link works once, for {INVITATION_HOURS} hours):\n\n{link}\n",
            name = user.profile.display_name.as_deref().unwrap_or(&user.profile.user_name),
            user_name = user.profile.user_name,
            link = self.link("/start/invitation", &token),
        );
        self.mailer()?.send(&to, "Invitation to join Gatehouse", body).await
    }

    /// An administrator's "Reset password" → "Send an email to the user with instructions to
    /// reset the password": a one-use link to choose a new one (the current one keeps working
    /// until then).
    pub async fn send_password_reset(&self, ctx: &Ctx, user_id: &str) -> Result<()> {
        let params = json!({"identityStoreId": self.store_id()?, "userId": user_id, "mode": "EMAIL"});
        let (to, token, user) = self
            .email_link_op(ctx, user_id, "ResetUserPassword", params, EmailPurpose::PasswordReset, Duration::minutes(RESET_MINUTES))
            .await?;
        let body = format!(
            "Hello {name},\n\nYour administrator reset the password of {user_name}.\n\
             Choose a new password here (the link works once, for {RESET_MINUTES} minutes):\n\n{link}\n",
            name = user.profile.display_name.as_deref().unwrap_or(&user.profile.user_name),
            user_name = user.profile.user_name,
            link = self.link("/start/reset", &token),
        );
        self.mailer()?.send(&to, "Reset your Gatehouse password", body).await
    }

    /// "Forgot password?": email a reset link when the user exists, is enabled and has an email.
    /// The answer is the same either way, so it tells nobody whether a user exists.
    pub async fn request_password_reset(&self, client: &Client, user_name: &str) -> Result<()> {
        let mut tx = self.store.begin().await?;
        let user = self.user_for_sign_in(&mut tx, user_name.trim()).await?.filter(|u| u.active);
        let (Some(user), Ok(mailer)) = (user, self.mailer()) else {
            tx.rollback().await?;
            return Ok(());
        };
        let Some(to) = user.profile.primary_email().map(str::to_string) else {
            tx.rollback().await?;
            return Ok(());
        };
        let token = self.new_email_token(&mut tx, &user, EmailPurpose::PasswordReset, Duration::minutes(RESET_MINUTES)).await?;
        tx.commit().await?;
        self.clear_read_caches();
        let body = format!(
            "Hello {name},\n\nSomeone (from {ip}) asked to reset the password of {user_name}.\n\
             Choose a new password here (the link works once, for {RESET_MINUTES} minutes):\n\n{link}\n\n\
             If it was not you, ignore this email: your password stays as it is.\n",
            name = user.profile.display_name.as_deref().unwrap_or(&user.profile.user_name),
            ip = client.source_ip,
            user_name = user.profile.user_name,
            link = self.link("/start/reset", &token),
        );
        mailer.send(&to, "Reset your Gatehouse password", body).await
    }

    /// Is this link still usable (for showing its page)?
    pub async fn email_link_valid(&self, token: &str, purpose: EmailPurpose) -> Result<bool> {
        let mut tx = self.store.begin_read().await?;
        let found = tx.find_email_token(&token_hash(token)).await?;
        tx.rollback().await?;
        Ok(found.is_some_and(|t| t.purpose == purpose && t.used_at.is_none() && t.expires_at > self.clock.now()))
    }

    /// Use an emailed link to set a new password. An invitation then signs the user in (MFA
    /// still applies); a reset ends the user's sessions and sends them to sign in.
    pub async fn redeem_email_link(
        &self,
        client: &Client,
        token: &str,
        purpose: EmailPurpose,
        new_password: &str,
        login_to: &str,
    ) -> SignInResult<Option<Step>> {
        crate::password::check_policy("Password", new_password).map_err(SignInError::Invalid)?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let found = tx.find_email_token(&token_hash(token)).await?;
        let Some(t) = found.filter(|t| t.purpose == purpose && t.used_at.is_none() && t.expires_at > now) else {
            return Err(SignInError::Invalid(Error::validation("Link", "This link has expired or was already used. Ask for a new one.")));
        };
        if !tx.use_email_token(&t.token_hash, now).await? {
            return Err(SignInError::Invalid(Error::validation("Link", "This link has expired or was already used. Ask for a new one.")));
        }
        let user = tx.get_user(&self.store_id()?, &t.user_id).await?.filter(|u| u.active).ok_or(SignInError::Restart)?;
        let previous = tx.get_password(&user.user_id).await?;
        let record = crate::services::passwords::next_password(&user.user_id, previous, new_password, false, now)
            .await
            .map_err(SignInError::from_input)?;
        tx.put_password(&record).await?;
        super::end_sessions(&mut tx, &user.user_id).await?;
        if purpose != EmailPurpose::Invitation {
            tx.commit().await?;
            self.clear_read_caches();
            return Ok(None);
        }
        // The invitation proves the email address and sets the password: the sign-in goes on from
        // the password step.
        let session = self.password_verified(&user, client, &ids::new_uuid());
        let mut events = Vec::new();
        let session = self.after_password(&mut tx, session, &user, client, login_to, &mut events).await?;
        let step = self.save_step(tx, session, events, true).await?;
        self.clear_read_caches();
        Ok(Some(self.send_email_code(step).await?))
    }
}
