use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: String,
    pub identity_store_id: String,
    pub user_name: String,
    /// Lower-cased user name: the case-insensitive unique key on every backend.
    pub user_name_lower: String,
    pub primary_email_lower: Option<String>,
    pub display_name: Option<String>,
    pub display_name_lower: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub active: bool,
    /// The whole `UserProfile` as JSON.
    pub profile: String,
    pub created_at: ChronoDateTimeUtc,
    pub created_by: String,
    pub updated_at: ChronoDateTimeUtc,
    pub updated_by: String,
    pub revision: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
