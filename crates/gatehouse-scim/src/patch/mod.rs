//! The PATCH engine (RFC 7644 §3.5.2): applies a PatchOp request to a
//! resource held as JSON.
//!
//! Besides the RFC, it accepts what real provisioning clients send:
//! - op names in any case (Entra ID sends `Replace`, `Add`, `Remove`);
//! - `"True"`/`"False"` for booleans, `manager` as a bare id (Entra ID);
//! - `{"op":"replace","value":{"active":false}}` and value objects whose keys
//!   are paths (`"name.givenName"`, URN-qualified names) or extension URNs;
//! - the resource's own `id` echoed in a path-less replace (Okta);
//! - `remove` of `members` with a `value` list: only those members go
//!   (Entra ID), rather than the whole list;
//! - `add`/`replace` on `attr[type eq "work"].sub` where nothing matches
//!   creates that value (Entra ID), where the RFC would answer `noTarget`.
//!
//! The whole request is applied or none of it: the resource is taken by
//! value and only returned on success.

mod members;
mod ops;
mod values;

use serde_json::{Map, Value as Json};

use crate::error::ScimError;
use crate::filter::{AttrPath, PatchPath, parse_path};
use crate::json;
use crate::schema::{Mutability, PATCH_OP_URN, Schema, find_attribute};
use members::MemberLog;

/// `op` of one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Replace,
    Remove,
}

impl Op {
    /// Parses an op name ignoring case.
    pub fn parse(name: &str) -> Option<Op> {
        [Op::Add, Op::Replace, Op::Remove].into_iter().find(|op| op.name().eq_ignore_ascii_case(name))
    }

    pub fn name(self) -> &'static str {
        match self {
            Op::Add => "add",
            Op::Replace => "replace",
            Op::Remove => "remove",
        }
    }
}

/// One element of `Operations`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    pub op: Op,
    /// The `path` text; `None` when absent or empty.
    pub path: Option<String>,
    /// The `value`; `None` when absent (an explicit `null` is `Some(Null)`).
    pub value: Option<Json>,
}

/// A parsed PatchOp request body.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchRequest {
    pub operations: Vec<PatchOperation>,
}

/// The patched resource and the net change to a Group's members.
///
/// The member lists are computed against the `members` array of the
/// resource passed in, so pass the group's full current member list (ids are
/// enough: `[{"value": id}, ...]`); a member missing there cannot be seen
/// being removed.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOutcome {
    pub resource: Json,
    /// Ids that were not members before the request and are now.
    pub members_added: Vec<String>,
    /// Ids that were members before the request and are not now.
    pub members_removed: Vec<String>,
    /// Some operation replaced or removed the whole `members` list. The two
    /// lists above are still the exact net change; this flag is for callers
    /// that prefer to rewrite the membership from `resource` in that case.
    pub members_replaced: bool,
}

impl PatchRequest {
    /// Reads a PatchOp body. `schemas` may be absent, but if present it must
    /// name the PatchOp message; `Operations` is matched ignoring case.
    pub fn parse(body: Json) -> Result<PatchRequest, ScimError> {
        let Json::Object(mut body) = body else {
            return Err(ScimError::invalid_syntax("PATCH body must be a JSON object"));
        };
        if let Some(schemas) = json::get(&body, "schemas") {
            let names_patch_op =
                schemas.as_array().is_some_and(|a| a.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP_URN))));
            if !names_patch_op {
                return Err(ScimError::invalid_syntax(format!("schemas must contain \"{PATCH_OP_URN}\"")));
            }
        }
        let Some(Json::Array(raw)) = json::remove(&mut body, "Operations") else {
            return Err(ScimError::invalid_syntax("PATCH body needs an \"Operations\" array"));
        };
        let operations = raw.into_iter().enumerate().map(|(i, op)| parse_operation(i, op)).collect::<Result<_, _>>()?;
        Ok(PatchRequest { operations })
    }

    /// Applies every operation in order to `resource` (a JSON object).
    pub fn apply(self, resource: Json) -> Result<PatchOutcome, ScimError> {
        let Json::Object(mut root) = resource else {
            return Err(ScimError::status(500, "the resource to patch is not a JSON object"));
        };
        let mut log = MemberLog::default();
        for operation in self.operations {
            apply_operation(&mut root, operation, &mut log)?;
        }
        sync_extension_schemas(&mut root);
        let (members_added, members_removed, members_replaced) = log.finish();
        Ok(PatchOutcome { resource: Json::Object(root), members_added, members_removed, members_replaced })
    }
}

/// Parses `body` as a PatchOp request and applies it to `resource`.
pub fn apply_patch(resource: Json, body: Json) -> Result<PatchOutcome, ScimError> {
    PatchRequest::parse(body)?.apply(resource)
}

fn parse_operation(index: usize, op: Json) -> Result<PatchOperation, ScimError> {
    let at = |what: &str| format!("Operations[{index}]: {what}");
    let Json::Object(mut fields) = op else {
        return Err(ScimError::invalid_syntax(at("an operation must be an object")));
    };
    let op = match json::get(&fields, "op") {
        Some(Json::String(name)) => {
            Op::parse(name).ok_or_else(|| ScimError::invalid_syntax(at(&format!("unknown op \"{name}\"; use add, replace or remove"))))?
        }
        _ => return Err(ScimError::invalid_syntax(at("\"op\" is missing"))),
    };
    let path = match json::remove(&mut fields, "path") {
        None | Some(Json::Null) => None,
        Some(Json::String(p)) if p.trim().is_empty() => None,
        Some(Json::String(p)) => Some(p),
        Some(_) => return Err(ScimError::invalid_path(at("\"path\" must be a string"))),
    };
    Ok(PatchOperation { op, path, value: json::remove(&mut fields, "value") })
}

fn apply_operation(root: &mut Map<String, Json>, operation: PatchOperation, log: &mut MemberLog) -> Result<(), ScimError> {
    let PatchOperation { op, path, value } = operation;
    let Some(path) = path else {
        return apply_without_path(root, op, value, log);
    };
    if let Some(schema) = whole_schema(root, &path) {
        return apply_to_schema(root, op, &schema, value, log);
    }
    let path = parse_path(&path)?;
    ops::apply_path(root, op, &path, value, log)
}

/// A path naming a whole schema rather than an attribute: a known URN, or
/// one the resource lists in `schemas`.
fn whole_schema(root: &Map<String, Json>, path: &str) -> Option<Schema> {
    if let Some(schema) = Schema::known(path) {
        return Some(schema);
    }
    let listed = json::get(root, "schemas")?.as_array()?;
    listed.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(path))).then(|| Schema::from_urn(path))
}

/// add/replace without a path: each member of the value object is applied
/// as if it were the path (RFC 7644 §3.5.2.1, §3.5.2.3).
fn apply_without_path(root: &mut Map<String, Json>, op: Op, value: Option<Json>, log: &mut MemberLog) -> Result<(), ScimError> {
    if op == Op::Remove {
        return Err(ScimError::no_target("remove needs a path"));
    }
    let Some(Json::Object(fields)) = value else {
        return Err(ScimError::invalid_value(format!("{} without a path needs an object value", op.name())));
    };
    for (key, v) in fields {
        if key.eq_ignore_ascii_case("schemas") {
            continue; // the server keeps `schemas` in step with the content
        }
        if let Some(schema) = whole_schema(root, &key) {
            apply_to_schema(root, op, &schema, Some(v), log)?;
            continue;
        }
        let attr =
            AttrPath::parse(&key).map_err(|_| ScimError::invalid_path(format!("\"{key}\" in the value is not an attribute name")))?;
        if unchanged_read_only(root, &attr, &v) {
            continue; // Okta echoes the resource's `id`
        }
        let path = PatchPath { attr, filter: None, sub_attr: None };
        ops::apply_path(root, op, &path, Some(v), log)?;
    }
    Ok(())
}

fn unchanged_read_only(root: &Map<String, Json>, attr: &AttrPath, value: &Json) -> bool {
    attr.extension().is_none()
        && attr.sub_attr.is_none()
        && find_attribute(attr.schema.as_ref(), &attr.name).is_some_and(|d| d.mutability == Mutability::ReadOnly)
        && json::get(root, &attr.name) == Some(value)
}

/// An operation on a whole schema: for an extension, its object under the
/// URN key; for a core schema, the resource's top level.
fn apply_to_schema(
    root: &mut Map<String, Json>,
    op: Op,
    schema: &Schema,
    value: Option<Json>,
    log: &mut MemberLog,
) -> Result<(), ScimError> {
    if schema.is_core() {
        return apply_without_path(root, op, value, log);
    }
    let fields = match (op, value) {
        (Op::Remove, _) | (_, Some(Json::Null)) => {
            json::remove(root, schema.urn());
            return Ok(());
        }
        (_, Some(Json::Object(fields))) => fields,
        _ => return Err(ScimError::invalid_value(format!("{} {} needs an object value", op.name(), schema.urn()))),
    };
    for (key, v) in fields {
        let mut attr = AttrPath::parse(&key).map_err(|_| ScimError::invalid_path(format!("\"{key}\" is not an attribute name")))?;
        attr.schema.get_or_insert_with(|| schema.clone());
        let path = PatchPath { attr, filter: None, sub_attr: None };
        ops::apply_path(root, op, &path, Some(v), log)?;
    }
    Ok(())
}

/// Drops emptied extension objects and keeps `schemas` listing exactly the
/// extensions present (RFC 7643 §3: `schemas` names the extensions used).
fn sync_extension_schemas(root: &mut Map<String, Json>) {
    let extensions: Vec<(String, bool)> = root
        .iter()
        .filter(|(k, _)| k.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")))
        .filter_map(|(k, v)| v.as_object().map(|m| (k.clone(), !m.is_empty())))
        .collect();
    let mut listed: Vec<Json> = match json::get(root, "schemas") {
        Some(Json::Array(a)) => a.clone(),
        _ => return,
    };
    let mut changed = false;
    for (urn, present) in extensions {
        let position = listed.iter().position(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(&urn)));
        match (present, position) {
            (true, None) => {
                listed.push(Json::String(urn));
                changed = true;
            }
            (false, found) => {
                root.remove(&urn);
                if let Some(i) = found {
                    listed.remove(i);
                    changed = true;
                }
            }
            (true, Some(_)) => {}
        }
    }
    // An extension removed outright (path = its URN) leaves no key behind.
    let before = listed.len();
    listed.retain(|s| {
        s.as_str().is_none_or(|urn| !matches!(Schema::known(urn), Some(Schema::EnterpriseUser)) || json::get(root, urn).is_some())
    });
    if changed || listed.len() != before {
        json::set(root, "schemas", Json::Array(listed));
    }
}

#[cfg(test)]
mod tests;
