use sea_orm::entity::prelude::*;

/// Permission sets; `policies` is `model::RolePolicies` as JSON.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "permission_sets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub permission_set_id: String,
    pub name: String,
    pub name_lower: String,
    pub description: Option<String>,
    pub session_minutes: i64,
    pub relay_state: Option<String>,
    pub policies: String,
    pub version: i64,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
