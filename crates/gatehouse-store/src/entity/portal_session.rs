use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "portal_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub session_id: String,
    /// SHA-256 of the cookie's token; unique.
    pub token_hash: String,
    pub user_id: String,
    pub stage: String,
    pub auth_workflow_id: String,
    /// Verified credential types, comma-separated.
    pub verified: String,
    pub enrolled_device: bool,
    pub source_ip: String,
    pub user_agent: String,
    pub created_at: ChronoDateTimeUtc,
    pub last_seen_at: ChronoDateTimeUtc,
    pub expires_at: ChronoDateTimeUtc,
    pub pending: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
