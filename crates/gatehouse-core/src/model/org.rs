//! The instance and its organization tree (root, OUs, accounts).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Created once by `gatehouse init` (or the first start); never changes afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Instance {
    pub instance_arn: String,
    pub identity_store_id: String,
    pub organization_id: String,
    pub root_id: String,
    pub management_account_id: String,
    pub created_at: DateTime<Utc>,
}

impl Instance {
    pub fn instance_id(&self) -> &str {
        self.instance_arn.rsplit('/').next().unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Account {
    pub id: String,
    pub name: String,
    pub email: String,
    /// Root or OU id.
    pub parent_id: String,
    /// ACTIVE | SUSPENDED
    pub status: String,
    /// CREATED | INVITED
    pub joined_method: String,
    pub joined_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrgUnit {
    pub id: String,
    pub name: String,
    /// None for the root.
    pub parent_id: Option<String>,
}
