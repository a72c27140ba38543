use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "app_certificates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub certificate_id: String,
    pub application_id: String,
    pub certificate_pem: String,
    /// The private key (PEM), encrypted with the master key.
    pub sealed_key: String,
    pub key_size: i64,
    pub algorithm: String,
    pub active: bool,
    pub not_before: ChronoDateTimeUtc,
    pub not_after: ChronoDateTimeUtc,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
