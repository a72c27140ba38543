//! A storage-neutral condition over users or groups: what a SCIM filter (RFC 7644 §3.4.2.2) means,
//! in the identity store's own attribute names. Front doors build it; the store translates it into
//! SQL so that a filtered list never scans the store in memory.

use chrono::{DateTime, Utc};

/// An attribute a condition can test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attr {
    /// `id`: UserId / GroupId.
    Id,
    /// Users: `userName`. Case-insensitive.
    UserName,
    /// Users and groups: `displayName`. Case-insensitive.
    DisplayName,
    /// Users: `active`.
    Active,
    /// `externalId`: matches the id of any of the resource's external ids.
    ExternalId,
    /// `meta.created` / `meta.lastModified`.
    Created,
    LastModified,
    /// Any other single-valued attribute inside the stored profile JSON, by its PascalCase path:
    /// `["Name", "GivenName"]`, `["Title"]`, `["Enterprise", "Department"]`.
    Profile(Vec<String>),
    /// A sub-attribute of a multi-valued profile attribute: true when any element matches, e.g.
    /// `list = "Emails", field = "Value"` for `emails.value` and `emails[value eq …]`.
    AnyOf {
        list: String,
        field: String,
    },
    /// Groups: `members.value` — whether the group has a member with this user id.
    Member,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    /// contains
    Co,
    /// starts with
    Sw,
    /// ends with
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Compared case-insensitively (SCIM's caseExact=false, which holds for every attribute
    /// Gatehouse filters on except `id`).
    Str(String),
    Bool(bool),
    Time(DateTime<Utc>),
    Null,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
    Compare {
        attr: Attr,
        op: Op,
        value: Value,
    },
    /// `pr`: the attribute has a non-empty value.
    Present(Attr),
    /// Several comparisons on the same element of a multi-valued attribute:
    /// `emails[type eq "work" and value co "@example.com"]`. Each inner condition uses
    /// `Attr::AnyOf` with this `list`, and they must hold for one element together.
    Element {
        list: String,
        condition: Box<Condition>,
    },
}
