use sea_orm::entity::prelude::*;

/// Tags of sso resources (instance, permission sets).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "resource_tags")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub resource_arn: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub tag_key: String,
    pub tag_value: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
