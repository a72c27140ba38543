use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    /// Log order.
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub event_id: String,
    pub event_time: ChronoDateTimeUtc,
    pub event_source: String,
    pub event_name: String,
    pub read_only: bool,
    pub error_code: Option<String>,
    /// Who acted (`AuditRecord::user_name`), for lookups by user.
    pub user_name: Option<String>,
    /// The whole CloudTrail record as JSON.
    pub record: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
