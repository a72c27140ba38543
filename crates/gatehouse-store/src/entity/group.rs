use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "groups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub group_id: String,
    pub identity_store_id: String,
    pub display_name: String,
    pub display_name_lower: String,
    pub description: Option<String>,
    /// JSON array of `ExternalId`.
    pub external_ids: String,
    pub created_at: ChronoDateTimeUtc,
    pub created_by: String,
    pub updated_at: ChronoDateTimeUtc,
    pub updated_by: String,
    pub revision: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
