use sea_orm::entity::prelude::*;

/// Lookup and uniqueness index for external ids (the profile JSON carries them too).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "external_ids")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub identity_store_id: String,
    /// USER or GROUP
    pub resource_type: String,
    pub resource_id: String,
    pub issuer: String,
    pub external_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
