use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "applications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub application_id: String,
    pub provider: String,
    pub name: String,
    pub description: Option<String>,
    pub enabled: bool,
    pub visible: bool,
    pub sign_in_origin: String,
    pub application_url: Option<String>,
    /// The SAML configuration as JSON (model::SamlConfig).
    pub saml: String,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
