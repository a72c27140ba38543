use sea_orm::entity::prelude::*;

/// Assignments to organizational units (every account under them).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ou_assignments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub ou_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub permission_set_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub principal: String,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
