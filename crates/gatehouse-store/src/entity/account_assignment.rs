use sea_orm::entity::prelude::*;

/// Account assignments: `principal` is `USER/<id>` or `GROUP/<id>`, `via_ous` a JSON array of OU ids.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_assignments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub permission_set_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub principal: String,
    pub direct: bool,
    pub via_ous: String,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
