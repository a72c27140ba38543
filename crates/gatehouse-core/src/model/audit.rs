//! CloudTrail-shaped audit records.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const EVENT_VERSION: &str = "1.08";

/// One record, serialized exactly as CloudTrail delivers it (camelCase, `ARN` in resources).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    pub event_version: String,
    pub user_identity: Value,
    pub event_time: DateTime<Utc>,
    pub event_source: String,
    pub event_name: String,
    pub aws_region: String,
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: String,
    pub user_agent: String,
    pub request_parameters: Value,
    pub response_elements: Value,
    #[serde(rename = "requestID")]
    pub request_id: String,
    #[serde(rename = "eventID")]
    pub event_id: String,
    pub read_only: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<AuditResource>,
    pub event_type: String,
    pub management_event: bool,
    pub recipient_account_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub additional_event_data: Value,
    /// Sign-in events: `{"<eventName>": "Success" | "Failure"}`.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub service_event_details: Value,
}

impl AuditRecord {
    /// Who acted, as CloudTrail's `Username` lookup attribute names them: the user name, or
    /// for a role session its session name (the person behind the role).
    pub fn user_name(&self) -> Option<String> {
        let id = &self.user_identity;
        if let Some(name) = id.get("userName").and_then(Value::as_str) {
            return Some(name.to_string());
        }
        if id.get("type").and_then(Value::as_str) == Some("AssumedRole") {
            return id.get("arn").and_then(Value::as_str).and_then(|arn| arn.rsplit('/').next()).map(str::to_string);
        }
        None
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditResource {
    #[serde(rename = "accountId", skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(rename = "ARN")]
    pub arn: String,
}

/// A stored record with its position in the log (for tailing and exporting in order).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAudit {
    pub seq: i64,
    pub record: AuditRecord,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub after_seq: Option<i64>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub event_name: Option<String>,
    /// [`AuditRecord::user_name`], exactly.
    pub user_name: Option<String>,
    pub event_id: Option<String>,
    /// Newest first, before `before_seq` (the console's pages), instead of log order.
    pub newest_first: bool,
    pub before_seq: Option<i64>,
    pub limit: u64,
}

/// What the console's activity charts count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditBucket {
    /// A completed portal sign-in (UserAuthentication).
    SignIn,
    /// A credential that did not verify (CredentialVerification: Failure).
    FailedSignIn,
    /// A change provisioned into AWS accounts (assignments, ProvisionPermissionSet) or made by
    /// automatic provisioning (SCIM writes).
    Provisioning,
}

/// The account provisioning events [`AuditBucket::Provisioning`] counts.
pub const PROVISIONING_EVENTS: &[&str] =
    &["CreateAccountAssignment", "DeleteAccountAssignment", "ProvisionPermissionSet", "CreateOrganizationalUnitAssignment"];

/// One day of the dashboard's activity charts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayActivity {
    /// "YYYY-MM-DD", UTC.
    pub day: String,
    pub sign_ins: i64,
    pub failed_sign_ins: i64,
    pub provisioning: i64,
}
