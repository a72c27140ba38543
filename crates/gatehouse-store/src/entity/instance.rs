use sea_orm::entity::prelude::*;

/// The single instance row (id = 1), so a second bootstrap fails on the primary key.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "instance")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub instance_arn: String,
    pub identity_store_id: String,
    pub organization_id: String,
    pub root_id: String,
    pub management_account_id: String,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
