use sea_orm::entity::prelude::*;

/// Asynchronous sso-admin requests and their status (ids are time-ordered UUIDs).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sso_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub request_id: String,
    pub kind: String,
    pub status: String,
    pub failure_reason: Option<String>,
    pub account_id: Option<String>,
    pub permission_set_id: String,
    pub principal: Option<String>,
    pub via_ou: Option<String>,
    pub internal: bool,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
