//! Portal sign-in state on the one transaction type.

use super::*;
use crate::entity::{email_token, mfa_device, portal_session, signin_throttle, trusted_device};
use gatehouse_core::error::StoreError;

fn session_row(s: &PortalSession) -> portal_session::Model {
    portal_session::Model {
        session_id: s.session_id.clone(),
        token_hash: s.token_hash.clone(),
        user_id: s.user_id.clone(),
        stage: s.stage.as_str().to_string(),
        auth_workflow_id: s.auth_workflow_id.clone(),
        verified: s.verified.join(","),
        enrolled_device: s.enrolled_device,
        source_ip: s.source_ip.clone(),
        user_agent: s.user_agent.clone(),
        created_at: s.created_at,
        last_seen_at: s.last_seen_at,
        expires_at: s.expires_at,
        pending: s.pending.clone(),
    }
}

fn session_from(m: portal_session::Model) -> StoreResult<PortalSession> {
    Ok(PortalSession {
        stage: Stage::parse(&m.stage).ok_or_else(|| StoreError::Other(format!("unknown session stage {:?}", m.stage)))?,
        session_id: m.session_id,
        token_hash: m.token_hash,
        user_id: m.user_id,
        auth_workflow_id: m.auth_workflow_id,
        verified: m.verified.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
        enrolled_device: m.enrolled_device,
        source_ip: m.source_ip,
        user_agent: m.user_agent,
        created_at: m.created_at,
        last_seen_at: m.last_seen_at,
        expires_at: m.expires_at,
        pending: m.pending,
    })
}

fn device_row(d: &MfaDevice) -> mfa_device::Model {
    mfa_device::Model {
        device_id: d.device_id.clone(),
        user_id: d.user_id.clone(),
        kind: d.kind.as_str().to_string(),
        name: d.name.clone(),
        secret: d.secret.clone(),
        credential_id: d.credential_id.clone(),
        last_step: d.last_step,
        drift_steps: d.drift_steps,
        created_at: d.created_at,
        last_used_at: d.last_used_at,
    }
}

fn device_from(m: mfa_device::Model) -> StoreResult<MfaDevice> {
    Ok(MfaDevice {
        kind: MfaKind::parse(&m.kind).ok_or_else(|| StoreError::Other(format!("unknown MFA device kind {:?}", m.kind)))?,
        device_id: m.device_id,
        user_id: m.user_id,
        name: m.name,
        secret: m.secret,
        credential_id: m.credential_id,
        last_step: m.last_step,
        drift_steps: m.drift_steps,
        created_at: m.created_at,
        last_used_at: m.last_used_at,
    })
}

fn email_token_from(m: email_token::Model) -> StoreResult<EmailToken> {
    Ok(EmailToken {
        purpose: EmailPurpose::parse(&m.purpose)
            .ok_or_else(|| StoreError::Other(format!("unknown email token purpose {:?}", m.purpose)))?,
        token_hash: m.token_hash,
        user_id: m.user_id,
        created_at: m.created_at,
        expires_at: m.expires_at,
        used_at: m.used_at,
    })
}

/// Replace a row by its primary key (every column set).
pub(super) async fn replace<A>(db: &Db, am: A) -> StoreResult<()>
where
    A: ActiveModelTrait + sea_orm::ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    <A::Entity as EntityTrait>::update(am).exec(db).await.map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl SignInRepo for SeaTx {
    async fn insert_session(&mut self, s: &PortalSession) -> StoreResult<()> {
        session_row(s).into_active_model().insert_row(self.db()).await.map_err(db_err)
    }

    async fn find_session(&mut self, token_hash: &str) -> StoreResult<Option<PortalSession>> {
        let row =
            portal_session::Entity::find().filter(portal_session::Column::TokenHash.eq(token_hash)).one(self.db()).await.map_err(db_err)?;
        row.map(session_from).transpose()
    }

    async fn update_session(&mut self, s: &PortalSession) -> StoreResult<()> {
        let mut am = session_row(s).into_active_model().reset_all();
        am.session_id = sea_orm::ActiveValue::Unchanged(s.session_id.clone());
        replace(self.db(), am).await
    }

    async fn delete_session(&mut self, session_id: &str) -> StoreResult<bool> {
        let r = portal_session::Entity::delete_by_id(session_id.to_string()).exec(self.db()).await.map_err(db_err)?;
        Ok(r.rows_affected > 0)
    }

    async fn list_sessions_of_user(&mut self, user_id: &str) -> StoreResult<Vec<PortalSession>> {
        let rows = portal_session::Entity::find()
            .filter(portal_session::Column::UserId.eq(user_id))
            .order_by_asc(portal_session::Column::CreatedAt)
            .all(self.db())
            .await
            .map_err(db_err)?;
        rows.into_iter().map(session_from).collect()
    }

    async fn delete_sessions_of_user(&mut self, user_id: &str) -> StoreResult<u64> {
        let r = portal_session::Entity::delete_many()
            .filter(portal_session::Column::UserId.eq(user_id))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(r.rows_affected)
    }

    async fn insert_mfa_device(&mut self, d: &MfaDevice) -> StoreResult<()> {
        device_row(d).into_active_model().insert_row(self.db()).await.map_err(db_err)
    }

    async fn update_mfa_device(&mut self, d: &MfaDevice) -> StoreResult<()> {
        let mut am = device_row(d).into_active_model().reset_all();
        am.device_id = sea_orm::ActiveValue::Unchanged(d.device_id.clone());
        replace(self.db(), am).await
    }

    async fn list_mfa_devices(&mut self, user_id: &str) -> StoreResult<Vec<MfaDevice>> {
        let rows = mfa_device::Entity::find()
            .filter(mfa_device::Column::UserId.eq(user_id))
            .order_by_asc(mfa_device::Column::CreatedAt)
            .all(self.db())
            .await
            .map_err(db_err)?;
        rows.into_iter().map(device_from).collect()
    }

    async fn delete_mfa_device(&mut self, user_id: &str, device_id: &str) -> StoreResult<bool> {
        let r = mfa_device::Entity::delete_many()
            .filter(mfa_device::Column::DeviceId.eq(device_id))
            .filter(mfa_device::Column::UserId.eq(user_id))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(r.rows_affected > 0)
    }

    async fn delete_mfa_devices_of_user(&mut self, user_id: &str) -> StoreResult<u64> {
        let r = mfa_device::Entity::delete_many().filter(mfa_device::Column::UserId.eq(user_id)).exec(self.db()).await.map_err(db_err)?;
        Ok(r.rows_affected)
    }

    async fn insert_trusted_device(&mut self, d: &TrustedDevice) -> StoreResult<()> {
        trusted_device::Model {
            token_hash: d.token_hash.clone(),
            user_id: d.user_id.clone(),
            browser: d.browser.clone(),
            source_ip: d.source_ip.clone(),
            created_at: d.created_at,
            expires_at: d.expires_at,
        }
        .into_active_model()
        .insert_row(self.db())
        .await
        .map_err(db_err)
    }

    async fn find_trusted_device(&mut self, token_hash: &str) -> StoreResult<Option<TrustedDevice>> {
        let row = trusted_device::Entity::find_by_id(token_hash.to_string()).one(self.db()).await.map_err(db_err)?;
        Ok(row.map(|m| TrustedDevice {
            token_hash: m.token_hash,
            user_id: m.user_id,
            browser: m.browser,
            source_ip: m.source_ip,
            created_at: m.created_at,
            expires_at: m.expires_at,
        }))
    }

    async fn delete_trusted_devices_of_user(&mut self, user_id: &str) -> StoreResult<u64> {
        let r = trusted_device::Entity::delete_many()
            .filter(trusted_device::Column::UserId.eq(user_id))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(r.rows_affected)
    }

    async fn insert_email_token(&mut self, t: &EmailToken) -> StoreResult<()> {
        email_token::Model {
            token_hash: t.token_hash.clone(),
            user_id: t.user_id.clone(),
            purpose: t.purpose.as_str().to_string(),
            created_at: t.created_at,
            expires_at: t.expires_at,
            used_at: t.used_at,
        }
        .into_active_model()
        .insert_row(self.db())
        .await
        .map_err(db_err)
    }

    async fn find_email_token(&mut self, token_hash: &str) -> StoreResult<Option<EmailToken>> {
        let row = email_token::Entity::find_by_id(token_hash.to_string()).one(self.db()).await.map_err(db_err)?;
        row.map(email_token_from).transpose()
    }

    async fn use_email_token(&mut self, token_hash: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        let r = email_token::Entity::update_many()
            .col_expr(email_token::Column::UsedAt, Expr::value(at))
            .filter(email_token::Column::TokenHash.eq(token_hash))
            .filter(email_token::Column::UsedAt.is_null())
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(r.rows_affected == 1)
    }

    async fn delete_email_tokens(&mut self, user_id: &str, purpose: EmailPurpose) -> StoreResult<u64> {
        let r = email_token::Entity::delete_many()
            .filter(email_token::Column::UserId.eq(user_id))
            .filter(email_token::Column::Purpose.eq(purpose.as_str()))
            .filter(email_token::Column::UsedAt.is_null())
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(r.rows_affected)
    }

    async fn get_throttle(&mut self, key: &str) -> StoreResult<Option<Throttle>> {
        let row = signin_throttle::Entity::find_by_id(key.to_string()).one(self.db()).await.map_err(db_err)?;
        Ok(row.map(|m| Throttle { key: m.key, failures: m.failures, last_failure_at: m.last_failure_at, locked_until: m.locked_until }))
    }

    async fn put_throttle(&mut self, t: &Throttle) -> StoreResult<()> {
        let row = signin_throttle::ActiveModel {
            key: Set(t.key.clone()),
            failures: Set(t.failures),
            last_failure_at: Set(t.last_failure_at),
            locked_until: Set(t.locked_until),
        };
        signin_throttle::Entity::insert(row)
            .on_conflict(
                sea_orm::sea_query::OnConflict::column(signin_throttle::Column::Key)
                    .update_columns([
                        signin_throttle::Column::Failures,
                        signin_throttle::Column::LastFailureAt,
                        signin_throttle::Column::LockedUntil,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(self.db())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn delete_throttle(&mut self, key: &str) -> StoreResult<bool> {
        let r = signin_throttle::Entity::delete_by_id(key.to_string()).exec(self.db()).await.map_err(db_err)?;
        Ok(r.rows_affected > 0)
    }
}
