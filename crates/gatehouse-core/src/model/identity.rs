//! Users, groups and memberships of the identity store, in the identitystore API's vocabulary.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExternalId {
    pub issuer: String,
    pub id: String,
}

/// `issuer:id`, as messages show it.
impl std::fmt::Display for ExternalId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.issuer, self.id)
    }
}

/// The external ids of a resource, as messages show them.
pub fn external_ids_text(ids: &[ExternalId]) -> String {
    ids.iter().map(ExternalId::to_string).collect::<Vec<_>>().join(", ")
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Name {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub honorific_prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub honorific_suffix: Option<String>,
}

impl Name {
    pub fn is_empty(&self) -> bool {
        self == &Name::default()
    }
}

/// An email, phone number, photo or role: the multi-valued `{Value, Type, Display, Primary}` shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TypedValue {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(rename = "Type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub primary: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Address {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    #[serde(rename = "Type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub primary: bool,
}

/// SCIM's enterprise user extension (`aws:identitystore:enterprise` in the identitystore API).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnterpriseUser {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employee_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_center: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub division: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// The manager's UserId. Read also from SCIM's reference form `{"value": id}`.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "manager_reference")]
    pub manager: Option<String>,
}

fn manager_reference<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Reference {
        Id(String),
        Object {
            #[serde(alias = "Value")]
            value: Option<String>,
        },
    }
    Ok(match Option::<Reference>::deserialize(d)? {
        Some(Reference::Id(id)) => Some(id),
        Some(Reference::Object { value }) => value,
        None => None,
    })
}

impl EnterpriseUser {
    pub fn is_empty(&self) -> bool {
        self == &EnterpriseUser::default()
    }
}

/// Everything about a user that a write may set. `user_name` is here so that the service, not a
/// front door, is the one place that refuses to change it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserProfile {
    pub user_name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_ids: Vec<ExternalId>,
    #[serde(default, skip_serializing_if = "Name::is_empty")]
    pub name: Name,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nick_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<TypedValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<Address>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phone_numbers: Vec<TypedValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<TypedValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<TypedValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birthdate: Option<String>,
    #[serde(default, skip_serializing_if = "EnterpriseUser::is_empty")]
    pub enterprise: EnterpriseUser,
}

impl UserProfile {
    /// The primary email: the one marked primary, else the only one.
    pub fn primary_email(&self) -> Option<&str> {
        let primary = self.emails.iter().find(|e| e.primary);
        let only = if self.emails.len() == 1 { self.emails.first() } else { None };
        primary.or(only).and_then(|e| e.value.as_deref())
    }
}

/// Who created or last changed a resource and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Meta {
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    /// Bumped on every change; the identitystore `Revision` and the SCIM ETag.
    pub revision: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct User {
    pub identity_store_id: String,
    pub user_id: String,
    #[serde(flatten)]
    pub profile: UserProfile,
    /// Disabled users cannot sign in, be edited, have their password reset or join groups.
    pub active: bool,
    #[serde(flatten)]
    pub meta: Meta,
}

impl User {
    pub fn status(&self) -> &'static str {
        if self.active { "ENABLED" } else { "DISABLED" }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupProfile {
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_ids: Vec<ExternalId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Group {
    pub identity_store_id: String,
    pub group_id: String,
    #[serde(flatten)]
    pub profile: GroupProfile,
    #[serde(flatten)]
    pub meta: Meta,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Membership {
    pub identity_store_id: String,
    pub membership_id: String,
    pub group_id: String,
    /// The member's UserId (only users can be members: groups do not nest).
    pub user_id: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// Password state, kept apart from the profile so that no read of a user ever carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordRecord {
    pub user_id: String,
    /// argon2id PHC string.
    pub hash: String,
    /// Set by an administrator's one-time password: the user must choose a new one at sign-in.
    pub must_change: bool,
    /// PHC strings of earlier passwords, newest first (the current one is `hash`).
    pub history: Vec<String>,
    pub updated_at: DateTime<Utc>,
}

/// Which users a list returns. Every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserQuery {
    /// Case-insensitive exact match.
    pub user_name: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub external_id: Option<ExternalId>,
    pub active: Option<bool>,
    /// A general condition (SCIM filters), evaluated by the database.
    pub condition: Option<super::condition::Condition>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupQuery {
    pub display_name: Option<String>,
    pub external_id: Option<ExternalId>,
    pub condition: Option<super::condition::Condition>,
}

/// Keyset pagination: items after `after` (an id), at most `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub after: Option<String>,
    pub limit: u64,
}

impl Default for Page {
    fn default() -> Self {
        Page { after: None, limit: 100 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paged<T> {
    pub items: Vec<T>,
    /// The id to pass as `after` for the next page; None on the last page.
    pub next: Option<String>,
}
