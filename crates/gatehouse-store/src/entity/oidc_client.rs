use sea_orm::entity::prelude::*;

/// Registered SSO OIDC clients; `scopes` is a JSON array.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oidc_clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_id: String,
    pub secret_hash: String,
    pub name: String,
    pub client_type: String,
    pub scopes: String,
    pub redirect_uris: String,
    pub grant_types: String,
    pub created_at: ChronoDateTimeUtc,
    pub expires_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
