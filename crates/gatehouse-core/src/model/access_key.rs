//! Long-lived access keys for automation (like IAM user keys), each carrying its own policies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One stored key. The secret is sealed with the master key because SigV4 needs it in clear to
/// recompute signatures; it is never listed or logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyRecord {
    pub access_key_id: String,
    /// The key's owner name; the principal ARN is `arn:aws:iam::<management>:user/<name>`.
    pub user_name: String,
    pub sealed_secret: String,
    /// Names of built-in managed policies.
    pub managed_policies: Vec<String>,
    /// Inline policy documents (JSON).
    pub inline_policies: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// Temporary keys: the hash of the session token a request must carry, and the expiry.
    pub session_token_hash: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// What a list or describe shows of a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessKeyInfo {
    pub access_key_id: String,
    pub user_name: String,
    pub managed_policies: Vec<String>,
    pub inline_policy_count: usize,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// Temporary keys only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

impl From<&AccessKeyRecord> for AccessKeyInfo {
    fn from(r: &AccessKeyRecord) -> Self {
        AccessKeyInfo {
            access_key_id: r.access_key_id.clone(),
            user_name: r.user_name.clone(),
            managed_policies: r.managed_policies.clone(),
            inline_policy_count: r.inline_policies.len(),
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            expires_at: r.expires_at,
        }
    }
}
