//! One operation on one attribute path (RFC 7644 §3.5.2.1-3). Each function
//! takes the attribute's current value out of its object and returns the
//! value to put back (`None`: the attribute is now unassigned).

use std::collections::HashSet;

use serde_json::{Map, Value as Json};

use super::Op;
use super::members::{MemberLog, member_id};
use super::values::{coerce, coerce_element, element_key, merge, single_primary, template, validate, validate_single};
use crate::error::ScimError;
use crate::filter::eval::eval;
use crate::filter::{Filter, PatchPath};
use crate::json;
use crate::schema::{AttrDef, Mutability, find_attribute};

/// Applies `op` at `path` inside `root` (the resource object).
pub(super) fn apply_path(
    root: &mut Map<String, Json>,
    op: Op,
    path: &PatchPath,
    value: Option<Json>,
    log: &mut MemberLog,
) -> Result<(), ScimError> {
    let attr = &path.attr;
    let def = find_attribute(attr.schema.as_ref(), &attr.name);
    if def.is_some_and(|d| d.mutability == Mutability::ReadOnly)
        || (attr.extension().is_none() && attr.name.eq_ignore_ascii_case("schemas"))
    {
        return Err(ScimError::mutability(format!("{} is readOnly", attr.name)));
    }
    let is_members = attr.extension().is_none() && attr.name.eq_ignore_ascii_case("members");
    let names_value = [&attr.sub_attr, &path.sub_attr].into_iter().flatten().any(|s| s.eq_ignore_ascii_case("value"));
    if is_members && names_value {
        return Err(ScimError::invalid_path("a member's value (its id) cannot be changed; remove the member and add the new one"));
    }
    let value = match (op, value) {
        (Op::Remove, value) => value,
        (_, Some(value)) => Some(value),
        (_, None) => {
            return Err(ScimError::invalid_value(format!("{} {path} needs a value", op.name())));
        }
    };
    let name = def.map_or(attr.name.as_str(), |d| d.name);
    let target = Target { label: path.to_string(), def, members: is_members.then_some(log) };

    // Extension attributes live in an object under the schema URN.
    let (ext_key, mut ext) = match attr.extension() {
        Some(schema) => {
            let (key, current) = json::take(root, schema.urn());
            let map = match current {
                Some(Json::Object(map)) => map,
                _ if op == Op::Remove => return Ok(()),
                _ => Map::new(),
            };
            (Some(key), Some(map))
        }
        None => (None, None),
    };
    let container = match ext.as_mut() {
        Some(map) => map,
        None => &mut *root,
    };

    let (key, current) = json::take(container, name);
    let new = match (&path.filter, &attr.sub_attr) {
        (Some(filter), _) => filtered(target, current, op, filter, path.sub_attr.as_deref(), value)?,
        (None, Some(sub)) => sub_attribute(target, current, op, sub, value)?,
        (None, None) => whole(target, current, op, value)?,
    };
    if let Some(new) = new {
        container.insert(key, new);
    }
    if let (Some(key), Some(map)) = (ext_key, ext) {
        root.insert(key, Json::Object(map));
    }
    Ok(())
}

/// What an operation is aimed at, for messages, typing and member logging.
struct Target<'a> {
    label: String,
    def: Option<&'static AttrDef>,
    /// Set when the attribute is a Group's `members`.
    members: Option<&'a mut MemberLog>,
}

impl Target<'_> {
    fn multi_valued(&self, current: &Option<Json>, value: &Option<Json>) -> bool {
        self.def.is_some_and(|d| d.multi_valued) || matches!(current, Some(Json::Array(_))) || matches!(value, Some(Json::Array(_)))
    }

    /// Members must carry their id as a string `value`.
    fn check_members(&self, items: &[Json]) -> Result<(), ScimError> {
        if self.members.is_some()
            && let Some(bad) = items.iter().find(|i| member_id(i).is_none_or(str::is_empty))
        {
            return Err(ScimError::invalid_value(format!("each member needs a \"value\" with the member's id, got {bad}")));
        }
        Ok(())
    }
}

fn into_items(current: Option<Json>) -> Vec<Json> {
    match current {
        Some(Json::Array(items)) => items,
        None | Some(Json::Null) => Vec::new(),
        Some(other) => vec![other],
    }
}

fn non_empty(items: Vec<Json>) -> Option<Json> {
    (!items.is_empty()).then_some(Json::Array(items))
}

/// `path` names the whole attribute: `emails`, `active`, `name`.
fn whole(mut t: Target, current: Option<Json>, op: Op, value: Option<Json>) -> Result<Option<Json>, ScimError> {
    let multi = t.multi_valued(&current, &value);
    let value = value.map(|v| coerce(t.def, v));
    // A remove's value only selects what to remove, so it is not type-checked.
    if op != Op::Remove
        && let Some(v) = &value
    {
        validate(t.def, &t.label, v)?;
    }
    match (op, value) {
        // Remove with a value: remove just those values (Entra ID removes
        // members as `{"op":"Remove","path":"members","value":[{"value":id}]}`).
        (Op::Remove, Some(v)) if multi && !v.is_null() => {
            let doomed: HashSet<String> = into_items(Some(v)).iter().map(element_key).collect();
            let mut items = into_items(current);
            items.retain(|item| {
                let keep = !doomed.contains(&element_key(item));
                if let (false, Some(log), Some(id)) = (keep, t.members.as_deref_mut(), member_id(item)) {
                    log.removed(id);
                }
                keep
            });
            Ok(non_empty(items))
        }
        (Op::Remove, _) | (_, Some(Json::Null)) | (_, None) => {
            if let Some(log) = t.members.as_deref_mut() {
                log.mark_replaced();
                log.diff(&into_items(current), &[]);
            }
            Ok(None)
        }
        (Op::Add, Some(v)) if multi => {
            let mut items = into_items(current);
            let new = into_items(Some(v));
            t.check_members(&new)?;
            let first_new = items.len();
            append_unique(&mut items, new, t.members.as_deref_mut());
            let touched: Vec<usize> = (first_new..items.len()).collect();
            single_primary(&mut items, &touched);
            Ok(non_empty(items))
        }
        (Op::Replace, Some(v)) if multi => {
            let new = into_items(Some(v));
            t.check_members(&new)?;
            if let Some(log) = t.members.as_deref_mut() {
                log.mark_replaced();
                log.diff(&into_items(current), &new);
            }
            let mut deduped = Vec::with_capacity(new.len());
            append_unique(&mut deduped, new, None);
            Ok(non_empty(deduped))
        }
        // A singular complex attribute: the given sub-attributes are set and
        // the others kept, for add and replace alike (§3.5.2.1, §3.5.2.3).
        (_, Some(Json::Object(new))) if matches!(current, Some(Json::Object(_))) => {
            let mut map = match current {
                Some(Json::Object(map)) => map,
                _ => Map::new(),
            };
            merge(&mut map, new);
            Ok((!map.is_empty()).then_some(Json::Object(map)))
        }
        (_, Some(v)) => Ok(Some(v)),
    }
}

/// Appends the values of `new` not already in `items` (by `value`), using a
/// set so adding a thousand members is linear, not quadratic.
fn append_unique(items: &mut Vec<Json>, new: Vec<Json>, mut log: Option<&mut MemberLog>) {
    let mut seen: HashSet<String> = items.iter().map(element_key).collect();
    for item in new {
        if seen.insert(element_key(&item)) {
            if let (Some(log), Some(id)) = (log.as_deref_mut(), member_id(&item)) {
                log.added(id);
            }
            items.push(item);
        }
    }
}

/// `path` is `attr.sub` without a filter: `name.givenName`; on a
/// multi-valued attribute (`emails.type`) every value's sub-attribute.
fn sub_attribute(t: Target, current: Option<Json>, op: Op, sub: &str, value: Option<Json>) -> Result<Option<Json>, ScimError> {
    let sub_def = t.def.and_then(|d| d.sub_attribute(sub));
    let sub_name = sub_def.map_or(sub, |d| d.name);
    let value = match (op, value) {
        (Op::Remove, _) => None,
        (_, v) => v.map(|v| coerce(sub_def, v)).filter(|v| !v.is_null()),
    };
    if let Some(v) = &value {
        validate(sub_def, &t.label, v)?;
    }
    let set = |map: &mut Map<String, Json>| match &value {
        Some(v) => json::set(map, sub_name, v.clone()),
        None => {
            json::remove(map, sub_name);
        }
    };
    Ok(match current {
        Some(Json::Object(mut map)) => {
            set(&mut map);
            (!map.is_empty()).then_some(Json::Object(map))
        }
        Some(Json::Array(mut items)) => {
            items.iter_mut().filter_map(Json::as_object_mut).for_each(&set);
            non_empty(items)
        }
        current => match value {
            None => current,
            Some(v) => {
                let mut map = Map::new();
                map.insert(sub_name.to_string(), v);
                let element = Json::Object(map);
                Some(if t.def.is_some_and(|d| d.multi_valued) { Json::Array(vec![element]) } else { element })
            }
        },
    })
}

/// `path` is `attr[filter]` or `attr[filter].sub`.
fn filtered(
    mut t: Target,
    current: Option<Json>,
    op: Op,
    filter: &Filter,
    sub: Option<&str>,
    value: Option<Json>,
) -> Result<Option<Json>, ScimError> {
    let mut items = match current {
        Some(Json::Array(items)) => items,
        None | Some(Json::Null) => Vec::new(),
        Some(other) if op == Op::Remove => return Ok(Some(other)),
        Some(_) => {
            return Err(ScimError::invalid_path(format!("{}: a value filter needs a multi-valued attribute", t.label)));
        }
    };
    let matched: Vec<bool> = items.iter().map(|item| eval(filter, item, t.def)).collect();
    let any = matched.contains(&true);
    let sub_def = sub.and_then(|s| t.def.and_then(|d| d.sub_attribute(s)));
    let sub_name = sub.map(|s| sub_def.map_or(s, |d| d.name));

    if op == Op::Remove {
        // RFC 7644 §3.5.2.2: removing with a filter that matches nothing is
        // not an error.
        match sub_name {
            Some(sub) => {
                for (item, _) in items.iter_mut().zip(&matched).filter(|(_, m)| **m) {
                    if let Some(map) = item.as_object_mut() {
                        json::remove(map, sub);
                    }
                }
            }
            None => {
                let mut flags = matched.iter();
                items.retain(|item| {
                    let doomed = flags.next().copied().unwrap_or(false);
                    if let (true, Some(log), Some(id)) = (doomed, t.members.as_deref_mut(), member_id(item)) {
                        log.removed(id);
                    }
                    !doomed
                });
            }
        }
        return Ok(non_empty(items));
    }
    let Some(value) = value else {
        return Err(ScimError::invalid_value(format!("{} {} needs a value", op.name(), t.label)));
    };

    // The value is a sub-attribute's (`.sub`) or a whole element's.
    let value = match (sub, sub_def, t.def) {
        (Some(_), sub_def, _) => coerce(sub_def, value),
        (None, _, Some(def)) => coerce_element(def, value),
        (None, _, None) => value,
    };
    match (sub, sub_def, t.def) {
        _ if value.is_null() => {}
        (Some(_), sub_def, _) => validate(sub_def, &t.label, &value)?,
        (None, _, Some(def)) => validate_single(def, &t.label, &value)?,
        (None, _, None) => {}
    }
    if sub.is_none() && !value.is_null() {
        if !value.is_object() {
            return Err(ScimError::invalid_value(format!("{} needs an object value", t.label)));
        }
        if op == Op::Replace {
            t.check_members(std::slice::from_ref(&value))?;
        }
    }

    let mut touched = Vec::new();
    if any {
        for (i, item) in items.iter_mut().enumerate().filter(|(i, _)| matched[*i]) {
            touched.push(i);
            match (sub_name, item.as_object_mut()) {
                (Some(sub), Some(map)) if value.is_null() => {
                    json::remove(map, sub);
                }
                (Some(sub), Some(map)) => json::set(map, sub, value.clone()),
                (Some(_), None) => {}
                (None, Some(map)) if op == Op::Add => {
                    if let Json::Object(new) = value.clone() {
                        merge(map, new);
                    }
                }
                (None, _) => {
                    // Replace (§3.5.2.3): matching values are replaced whole.
                    if let Some(log) = t.members.as_deref_mut() {
                        log.diff(std::slice::from_ref(item), std::slice::from_ref(&value));
                    }
                    *item = value.clone();
                }
            }
        }
        items.retain(|item| !item.is_null());
    } else {
        // Nothing matched: create the value the filter describes, which is
        // how Entra ID sets e.g. a work phone number the user did not have.
        if value.is_null() {
            return Ok(non_empty(items));
        }
        let Some(mut element) = template(filter, t.def) else {
            return Err(ScimError::no_target(format!("no value matches {}", t.label)));
        };
        match (sub_name, value) {
            (Some(sub), value) => {
                element.insert(sub.to_string(), value);
            }
            (None, Json::Object(new)) => merge(&mut element, new),
            (None, _) => {}
        }
        let element = Json::Object(element);
        t.check_members(std::slice::from_ref(&element))?;
        if let (Some(log), Some(id)) = (t.members.as_deref_mut(), member_id(&element)) {
            log.added(id);
        }
        touched.push(items.len());
        items.push(element);
    }
    single_primary(&mut items, &touched);
    Ok(non_empty(items))
}
