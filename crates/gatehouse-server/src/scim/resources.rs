//! Users and groups as SCIM resources, and back. The identity store's profile uses the same
//! attribute names as SCIM in PascalCase, so the mapping is a key-case change plus the few
//! attributes SCIM places elsewhere (externalId, the enterprise extension, `active`, `meta`).
//! Attributes the guide lists as unsupported (password, ims, photos, entitlements,
//! x509Certificates, the `display` sub-attribute) are accepted and dropped, never stored.

use gatehouse_core::model::{ExternalId, Group, GroupProfile, User, UserProfile};
use gatehouse_scim::ScimError;
use gatehouse_scim::schema::{ENTERPRISE_USER_URN, GROUP_URN, USER_URN};
use serde_json::{Map, Value, json};

use crate::case::{camel, pascal};

/// The issuer recorded on external ids that SCIM provisioned.
pub const SCIM_ISSUER: &str = "SCIM";

const UNSUPPORTED: &[&str] = &["password", "ims", "photos", "entitlements", "x509certificates", "groups", "roles"];

/// Recursively rename object keys with `f`, dropping `display` sub-attributes of lists.
fn rekey(v: &Value, f: fn(&str) -> String) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (f(k), rekey(v, f))).collect()),
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|item| {
                    let mut item = rekey(item, f);
                    if let Some(obj) = item.as_object_mut() {
                        obj.retain(|k, _| !k.eq_ignore_ascii_case("display"));
                    }
                    item
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn rfc3339(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn version(revision: i64) -> String {
    format!("W/\"{revision}\"")
}

fn scim_external_id(ids: &[ExternalId]) -> Option<&str> {
    ids.iter().find(|x| x.issuer == SCIM_ISSUER).map(|x| x.id.as_str())
}

/// The SCIM JSON of a user.
pub fn user_resource(u: &User, base: &str) -> Value {
    let mut profile = u.profile.clone();
    let enterprise = std::mem::take(&mut profile.enterprise);
    let external_id = scim_external_id(&profile.external_ids).map(str::to_string);
    profile.external_ids.clear();
    profile.photos.clear();
    profile.roles.clear();
    let mut doc = rekey(&serde_json::to_value(&profile).unwrap_or_else(|_| json!({})), camel);
    let Some(map) = doc.as_object_mut() else { return doc };
    map.remove("website");
    map.remove("birthdate");
    let mut schemas = vec![USER_URN];
    if !enterprise.is_empty() {
        let mut e = rekey(&serde_json::to_value(&enterprise).unwrap_or_else(|_| json!({})), camel);
        if let Some(id) = e.get("manager").and_then(Value::as_str).map(str::to_string) {
            e["manager"] = json!({"value": id, "$ref": format!("{base}/Users/{id}")});
        }
        map.insert(ENTERPRISE_USER_URN.into(), e);
        schemas.push(ENTERPRISE_USER_URN);
    }
    map.insert("schemas".into(), json!(schemas));
    map.insert("id".into(), json!(u.user_id));
    if let Some(x) = external_id {
        map.insert("externalId".into(), json!(x));
    }
    map.insert("active".into(), json!(u.active));
    map.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": rfc3339(&u.meta.created_at),
            "lastModified": rfc3339(&u.meta.updated_at),
            "location": format!("{base}/Users/{}", u.user_id),
            "version": version(u.meta.revision),
        }),
    );
    doc
}

/// `"False"`/`"true"` as IdPs send booleans, as well as JSON booleans.
fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A SCIM user document read into a profile and its `active` flag (absent: `None`). The existing
/// external ids from other issuers are kept by the caller.
pub fn user_from_resource(doc: &Value) -> Result<(UserProfile, Option<bool>, Option<String>), ScimError> {
    let obj = doc.as_object().ok_or_else(|| ScimError::invalid_syntax("a User must be a JSON object"))?;
    let mut core = Map::new();
    let mut enterprise = Value::Null;
    let mut active = None;
    let mut external_id = None;
    for (key, value) in obj {
        let lower = key.to_ascii_lowercase();
        if lower == ENTERPRISE_USER_URN.to_ascii_lowercase() {
            enterprise = value.clone();
            continue;
        }
        match lower.as_str() {
            "schemas" | "id" | "meta" => {}
            "active" => {
                active = Some(boolean(value).ok_or_else(|| ScimError::invalid_value("active must be a boolean"))?);
            }
            "externalid" => {
                external_id = match value {
                    Value::String(s) if !s.is_empty() => Some(s.clone()),
                    Value::Null => None,
                    _ => return Err(ScimError::invalid_value("externalId must be a string")),
                }
            }
            l if UNSUPPORTED.contains(&l) => {}
            // An extension URN other than the enterprise user's: not stored.
            l if l.starts_with("urn:") => {}
            _ => {
                core.insert(pascal(key), rekey(value, pascal));
            }
        }
    }
    if let Some(Value::Array(emails)) = core.get_mut("Emails") {
        for e in emails.iter_mut() {
            if let Some(p) = e.get("Primary").and_then(boolean) {
                e["Primary"] = json!(p);
            }
        }
    }
    let mut profile: UserProfile =
        serde_json::from_value(Value::Object(core)).map_err(|e| ScimError::invalid_value(format!("invalid User: {e}")))?;
    if !enterprise.is_null() {
        let e = rekey(&enterprise, pascal);
        profile.enterprise =
            serde_json::from_value(e).map_err(|e| ScimError::invalid_value(format!("invalid enterprise extension: {e}")))?;
    }
    Ok((profile, active, external_id))
}

/// Set the SCIM-issued external id, keeping those of other issuers.
pub fn set_scim_external_id(ids: &mut Vec<ExternalId>, value: Option<String>) {
    ids.retain(|x| x.issuer != SCIM_ISSUER);
    if let Some(id) = value {
        ids.push(ExternalId { issuer: SCIM_ISSUER.to_string(), id });
    }
}

/// The SCIM JSON of a group; `members` when loaded.
/// `members`: the user ids of the group's members, when the resource should list them.
pub fn group_resource(g: &Group, members: Option<&[String]>, base: &str) -> Value {
    let mut doc = json!({
        "schemas": [GROUP_URN],
        "id": g.group_id,
        "displayName": g.profile.display_name,
        "meta": {
            "resourceType": "Group",
            "created": rfc3339(&g.meta.created_at),
            "lastModified": rfc3339(&g.meta.updated_at),
            "location": format!("{base}/Groups/{}", g.group_id),
            "version": version(g.meta.revision),
        },
    });
    if let Some(x) = scim_external_id(&g.profile.external_ids) {
        doc["externalId"] = json!(x);
    }
    if let Some(d) = &g.profile.description {
        doc["description"] = json!(d);
    }
    if let Some(members) = members {
        doc["members"] = members.iter().map(|u| json!({"value": u, "type": "User", "$ref": format!("{base}/Users/{u}")})).collect();
    }
    doc
}

/// A SCIM group document: its profile fields, external id and member ids (when given).
pub struct GroupInput {
    pub display_name: String,
    pub description: Option<String>,
    pub external_id: Option<String>,
    pub members: Option<Vec<String>>,
}

pub fn group_from_resource(doc: &Value) -> Result<GroupInput, ScimError> {
    let obj = doc.as_object().ok_or_else(|| ScimError::invalid_syntax("a Group must be a JSON object"))?;
    let get = |name: &str| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v);
    let display_name = match get("displayName") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(ScimError::invalid_value("displayName is required")),
    };
    let text = |name: &str| -> Result<Option<String>, ScimError> {
        match get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ScimError::invalid_value(format!("{name} must be a string"))),
        }
    };
    let members = match get("members") {
        None | Some(Value::Null) => None,
        Some(Value::Array(list)) => Some(
            list.iter()
                .map(|m| {
                    m.get("value")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .ok_or_else(|| ScimError::invalid_value("members[].value is required"))
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(_) => return Err(ScimError::invalid_value("members must be a list")),
    };
    Ok(GroupInput { display_name, description: text("description")?, external_id: text("externalId")?, members })
}

impl GroupInput {
    pub fn profile(&self, existing: &[ExternalId]) -> GroupProfile {
        let mut external_ids = existing.to_vec();
        set_scim_external_id(&mut external_ids, self.external_id.clone());
        GroupProfile { display_name: self.display_name.clone(), description: self.description.clone(), external_ids }
    }
}
