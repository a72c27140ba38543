//! The SAML service provider's one-time IDs: outstanding AuthnRequests and the replay cache.

use super::*;
use crate::entity::{saml_sp_id, user_idp_tags};
use gatehouse_core::error::StoreError;
use sea_orm::sea_query::OnConflict;

#[async_trait]
impl SamlSpRepo for SeaTx {
    async fn insert_sp_id(&mut self, kind: &str, id: &str, expires_at: DateTime<Utc>) -> StoreResult<bool> {
        let row = saml_sp_id::Model { kind: kind.to_string(), id: id.to_string(), expires_at };
        let inserted = saml_sp_id::Entity::insert(row.into_active_model())
            .on_conflict(OnConflict::columns([saml_sp_id::Column::Kind, saml_sp_id::Column::Id]).do_nothing().to_owned())
            .exec_without_returning(self.db())
            .await
            .map_err(db_err)?;
        Ok(inserted > 0)
    }

    async fn take_sp_id(&mut self, kind: &str, id: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let deleted = saml_sp_id::Entity::delete_many()
            .filter(saml_sp_id::Column::Kind.eq(kind))
            .filter(saml_sp_id::Column::Id.eq(id))
            .filter(saml_sp_id::Column::ExpiresAt.gt(now))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(deleted.rows_affected > 0)
    }

    async fn purge_sp_ids(&mut self, now: DateTime<Utc>) -> StoreResult<u64> {
        let deleted =
            saml_sp_id::Entity::delete_many().filter(saml_sp_id::Column::ExpiresAt.lte(now)).exec(self.db()).await.map_err(db_err)?;
        Ok(deleted.rows_affected)
    }

    async fn put_idp_tags(&mut self, user_id: &str, tags: &[(String, String)], at: DateTime<Utc>) -> StoreResult<()> {
        let text = serde_json::to_string(tags).map_err(|e| StoreError::Other(e.to_string()))?;
        let row = user_idp_tags::Model { user_id: user_id.to_string(), tags: text, updated_at: at };
        user_idp_tags::Entity::insert(row.into_active_model())
            .on_conflict(
                OnConflict::column(user_idp_tags::Column::UserId)
                    .update_columns([user_idp_tags::Column::Tags, user_idp_tags::Column::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(self.db())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn get_idp_tags(&mut self, user_id: &str) -> StoreResult<Vec<(String, String)>> {
        match user_idp_tags::Entity::find_by_id(user_id.to_string()).one(self.db()).await.map_err(db_err)? {
            Some(row) => serde_json::from_str(&row.tags).map_err(|e| StoreError::Other(format!("stored IdP tags: {e}"))),
            None => Ok(Vec::new()),
        }
    }
}
