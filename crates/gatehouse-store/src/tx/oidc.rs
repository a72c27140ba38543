//! SSO OIDC clients, device authorizations and tokens.

use super::*;
use crate::entity::{authorization_code, device_authorization, oidc_client, sso_token};
use gatehouse_core::error::StoreError;

fn scopes_of(text: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(text).map_err(|e| StoreError::Other(format!("stored scopes: {e}")))
}

fn scopes_text(scopes: &[String]) -> String {
    serde_json::to_string(scopes).unwrap_or_else(|_| "[]".into())
}

fn device_row(d: &DeviceAuthorization) -> device_authorization::Model {
    device_authorization::Model {
        device_code_hash: d.device_code_hash.clone(),
        user_code: d.user_code.clone(),
        client_id: d.client_id.clone(),
        status: d.status.as_str().to_string(),
        user_id: d.user_id.clone(),
        interval_seconds: d.interval_seconds,
        last_polled_at: d.last_polled_at,
        created_at: d.created_at,
        expires_at: d.expires_at,
    }
}

fn device_from(m: device_authorization::Model) -> StoreResult<DeviceAuthorization> {
    Ok(DeviceAuthorization {
        status: DeviceStatus::parse(&m.status).ok_or_else(|| StoreError::Other(format!("stored device status {:?}", m.status)))?,
        device_code_hash: m.device_code_hash,
        user_code: m.user_code,
        client_id: m.client_id,
        user_id: m.user_id,
        interval_seconds: m.interval_seconds,
        last_polled_at: m.last_polled_at,
        created_at: m.created_at,
        expires_at: m.expires_at,
    })
}

fn token_row(t: &SsoToken) -> sso_token::Model {
    sso_token::Model {
        token_id: t.token_id.clone(),
        access_hash: t.access_hash.clone(),
        refresh_hash: t.refresh_hash.clone(),
        client_id: t.client_id.clone(),
        user_id: t.user_id.clone(),
        scopes: scopes_text(&t.scopes),
        created_at: t.created_at,
        expires_at: t.expires_at,
        refresh_expires_at: t.refresh_expires_at,
        revoked: t.revoked,
    }
}

fn token_from(m: sso_token::Model) -> StoreResult<SsoToken> {
    Ok(SsoToken {
        scopes: scopes_of(&m.scopes)?,
        token_id: m.token_id,
        access_hash: m.access_hash,
        refresh_hash: m.refresh_hash,
        client_id: m.client_id,
        user_id: m.user_id,
        created_at: m.created_at,
        expires_at: m.expires_at,
        refresh_expires_at: m.refresh_expires_at,
        revoked: m.revoked,
    })
}

#[async_trait]
impl OidcRepo for SeaTx {
    async fn insert_oidc_client(&mut self, c: &OidcClient) -> StoreResult<()> {
        oidc_client::Model {
            client_id: c.client_id.clone(),
            secret_hash: c.secret_hash.clone(),
            name: c.name.clone(),
            client_type: c.client_type.clone(),
            scopes: scopes_text(&c.scopes),
            redirect_uris: scopes_text(&c.redirect_uris),
            grant_types: scopes_text(&c.grant_types),
            created_at: c.created_at,
            expires_at: c.expires_at,
        }
        .into_active_model()
        .insert_row(self.db())
        .await
        .map_err(db_err)
    }

    async fn get_oidc_client(&mut self, client_id: &str) -> StoreResult<Option<OidcClient>> {
        let Some(m) = oidc_client::Entity::find_by_id(client_id.to_string()).one(self.db()).await.map_err(db_err)? else {
            return Ok(None);
        };
        Ok(Some(OidcClient {
            scopes: scopes_of(&m.scopes)?,
            redirect_uris: scopes_of(&m.redirect_uris)?,
            grant_types: scopes_of(&m.grant_types)?,
            client_id: m.client_id,
            secret_hash: m.secret_hash,
            name: m.name,
            client_type: m.client_type,
            created_at: m.created_at,
            expires_at: m.expires_at,
        }))
    }

    async fn insert_device_authorization(&mut self, d: &DeviceAuthorization) -> StoreResult<()> {
        device_row(d).into_active_model().insert_row(self.db()).await.map_err(db_err)
    }

    async fn update_device_authorization(&mut self, d: &DeviceAuthorization) -> StoreResult<()> {
        let mut am = device_row(d).into_active_model().reset_all();
        am.device_code_hash = sea_orm::ActiveValue::Unchanged(d.device_code_hash.clone());
        super::signin::replace(self.db(), am).await
    }

    async fn find_device_by_code_hash(&mut self, hash: &str) -> StoreResult<Option<DeviceAuthorization>> {
        device_authorization::Entity::find_by_id(hash.to_string()).one(self.db()).await.map_err(db_err)?.map(device_from).transpose()
    }

    async fn find_device_by_user_code(&mut self, user_code: &str, now: DateTime<Utc>) -> StoreResult<Option<DeviceAuthorization>> {
        device_authorization::Entity::find()
            .filter(device_authorization::Column::UserCode.eq(user_code))
            .filter(device_authorization::Column::ExpiresAt.gt(now))
            .one(self.db())
            .await
            .map_err(db_err)?
            .map(device_from)
            .transpose()
    }

    async fn insert_sso_token(&mut self, t: &SsoToken) -> StoreResult<()> {
        token_row(t).into_active_model().insert_row(self.db()).await.map_err(db_err)
    }

    async fn update_sso_token(&mut self, t: &SsoToken) -> StoreResult<()> {
        let mut am = token_row(t).into_active_model().reset_all();
        am.token_id = sea_orm::ActiveValue::Unchanged(t.token_id.clone());
        super::signin::replace(self.db(), am).await
    }

    async fn find_token_by_access_hash(&mut self, hash: &str) -> StoreResult<Option<SsoToken>> {
        sso_token::Entity::find()
            .filter(sso_token::Column::AccessHash.eq(hash))
            .one(self.db())
            .await
            .map_err(db_err)?
            .map(token_from)
            .transpose()
    }

    async fn find_token_by_refresh_hash(&mut self, hash: &str) -> StoreResult<Option<SsoToken>> {
        sso_token::Entity::find()
            .filter(sso_token::Column::RefreshHash.eq(hash))
            .one(self.db())
            .await
            .map_err(db_err)?
            .map(token_from)
            .transpose()
    }

    async fn insert_authorization_code(&mut self, c: &AuthorizationCode) -> StoreResult<()> {
        authorization_code::Model {
            code_hash: c.code_hash.clone(),
            client_id: c.client_id.clone(),
            user_id: c.user_id.clone(),
            redirect_uri: c.redirect_uri.clone(),
            code_challenge: c.code_challenge.clone(),
            scopes: scopes_text(&c.scopes),
            created_at: c.created_at,
            expires_at: c.expires_at,
            used: c.used,
        }
        .into_active_model()
        .insert_row(self.db())
        .await
        .map_err(db_err)
    }

    async fn find_authorization_code(&mut self, code_hash: &str) -> StoreResult<Option<AuthorizationCode>> {
        let Some(m) = authorization_code::Entity::find_by_id(code_hash.to_string()).one(self.db()).await.map_err(db_err)? else {
            return Ok(None);
        };
        Ok(Some(AuthorizationCode {
            scopes: scopes_of(&m.scopes)?,
            code_hash: m.code_hash,
            client_id: m.client_id,
            user_id: m.user_id,
            redirect_uri: m.redirect_uri,
            code_challenge: m.code_challenge,
            created_at: m.created_at,
            expires_at: m.expires_at,
            used: m.used,
        }))
    }

    async fn use_authorization_code(&mut self, code_hash: &str) -> StoreResult<bool> {
        let r = authorization_code::Entity::update_many()
            .col_expr(authorization_code::Column::Used, Expr::value(true))
            .filter(authorization_code::Column::CodeHash.eq(code_hash))
            .filter(authorization_code::Column::Used.eq(false))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(r.rows_affected > 0)
    }

    async fn revoke_tokens_of_user(&mut self, user_id: &str) -> StoreResult<u64> {
        let r = sso_token::Entity::update_many()
            .col_expr(sso_token::Column::Revoked, Expr::value(true))
            .filter(sso_token::Column::UserId.eq(user_id))
            .filter(sso_token::Column::Revoked.eq(false))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(r.rows_affected)
    }
}
