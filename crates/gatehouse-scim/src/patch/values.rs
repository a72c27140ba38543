//! Shaping the values a client sends before they are written: coercions
//! for what real IdPs send, type checks against the attribute table, and the
//! helpers that compare and build multi-valued elements.

use serde_json::{Map, Value as Json};

use crate::error::ScimError;
use crate::filter::{CompareOp, Filter};
use crate::json;
use crate::schema::{AttrDef, AttrType};

/// Brings a client's value into the attribute's shape where the intent is
/// unambiguous:
/// - `"True"`/`"False"` (any case) for a boolean: Entra ID sends `active`
///   and `primary` this way;
/// - a number or boolean for a string attribute becomes its text;
/// - a bare string for a complex attribute with a `value` sub-attribute
///   becomes `{"value": ...}` (Entra ID sends `manager` as the id alone; some
///   clients send `emails: ["a@x"]`);
/// - sub-attribute keys take their canonical spelling (`GIVENNAME` →
///   `givenName`), recursively.
///
/// Anything else is returned unchanged for [`validate`] to judge.
pub(super) fn coerce(def: Option<&AttrDef>, value: Json) -> Json {
    let Some(def) = def else { return value };
    match (def.kind, value) {
        (AttrType::Boolean, Json::String(s)) if s.eq_ignore_ascii_case("true") => Json::Bool(true),
        (AttrType::Boolean, Json::String(s)) if s.eq_ignore_ascii_case("false") => Json::Bool(false),
        (AttrType::String, Json::Number(n)) => Json::String(n.to_string()),
        (AttrType::String, Json::Bool(b)) => Json::String(b.to_string()),
        (AttrType::Complex, Json::Array(items)) if def.multi_valued => {
            Json::Array(items.into_iter().map(|i| coerce_element(def, wrap_bare(def, i))).collect())
        }
        (AttrType::Complex, value) => coerce_element(def, wrap_bare(def, value)),
        (_, value) => value,
    }
}

/// A bare string given for a complex attribute that has a `value`.
fn wrap_bare(def: &AttrDef, value: Json) -> Json {
    match value {
        Json::String(s) if def.sub_attribute("value").is_some() => {
            let mut m = Map::new();
            m.insert("value".into(), Json::String(s));
            Json::Object(m)
        }
        other => other,
    }
}

/// Canonical spelling and coercion of an element's sub-attributes.
pub(super) fn coerce_element(def: &AttrDef, value: Json) -> Json {
    match value {
        Json::Object(fields) => Json::Object(
            fields
                .into_iter()
                .map(|(k, v)| match def.sub_attribute(&k) {
                    Some(sub) => (sub.name.to_string(), coerce(Some(sub), v)),
                    None => (k, v),
                })
                .collect(),
        ),
        other => other,
    }
}

/// Checks a (coerced) value against the attribute's type. `null` means
/// "unassign" and is always accepted; unknown attributes are not checked.
pub(super) fn validate(def: Option<&AttrDef>, label: &str, value: &Json) -> Result<(), ScimError> {
    let Some(def) = def else { return Ok(()) };
    match value {
        Json::Null => Ok(()),
        Json::Array(items) if def.multi_valued => items.iter().try_for_each(|item| validate_single(def, label, item)),
        single => validate_single(def, label, single),
    }
}

/// Checks one value of a (possibly multi-valued) attribute.
pub(super) fn validate_single(def: &AttrDef, label: &str, value: &Json) -> Result<(), ScimError> {
    let ok = match def.kind {
        AttrType::String | AttrType::Reference | AttrType::DateTime => value.is_string(),
        AttrType::Boolean => value.is_boolean(),
        AttrType::Decimal | AttrType::Integer => value.is_number(),
        AttrType::Complex => value.is_object(),
    };
    if !ok {
        let kind = match def.kind {
            AttrType::Complex => "an object",
            AttrType::Boolean => "a boolean",
            AttrType::Decimal | AttrType::Integer => "a number",
            _ => "a string",
        };
        return Err(ScimError::invalid_value(format!("{label} must be {kind}, not {}", describe(value))));
    }
    if let Json::Object(fields) = value {
        for (k, v) in fields {
            if let Some(sub) = def.sub_attribute(k) {
                validate(Some(sub), &format!("{label}.{}", sub.name), v)?;
            }
        }
    }
    Ok(())
}

fn describe(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// Identity of a multi-valued element for de-duplication: its `value` when
/// it has one (so re-adding a member with a different `display` is still a
/// duplicate), else the whole element.
pub(super) fn element_key(element: &Json) -> String {
    match element.as_object().and_then(|m| json::get(m, "value")) {
        Some(Json::String(s)) => format!("s:{s}"),
        Some(other) => format!("v:{other}"),
        None => format!("e:{element}"),
    }
}

/// Sets each field of `new` in `current`; a `null` field unassigns.
pub(super) fn merge(current: &mut Map<String, Json>, new: Map<String, Json>) {
    for (k, v) in new {
        if v.is_null() {
            json::remove(current, &k);
        } else {
            json::set(current, &k, v);
        }
    }
}

/// The element a value filter describes, when it is only `eq` tests joined
/// by `and` (`type eq "work"`, `type eq "work" and primary eq true`). Used to
/// create the element when nothing matches, as Entra ID expects for
/// `emails[type eq "work"].value` on a user with no work email.
pub(super) fn template(filter: &Filter, def: Option<&AttrDef>) -> Option<Map<String, Json>> {
    fn collect(f: &Filter, def: Option<&AttrDef>, out: &mut Map<String, Json>) -> bool {
        match f {
            Filter::Compare { path, op: CompareOp::Eq, value } if path.schema.is_none() && path.sub_attr.is_none() => {
                let sub = def.and_then(|d| d.sub_attribute(&path.name));
                let name = sub.map_or(path.name.as_str(), |s| s.name);
                !value.to_json().is_null() && out.insert(name.to_string(), value.to_json()).is_none()
            }
            Filter::And(l, r) => collect(l, def, out) && collect(r, def, out),
            _ => false,
        }
    }
    let mut out = Map::new();
    collect(filter, def, &mut out).then_some(out)
}

/// RFC 7643 §2.4: `primary: true` appears at most once. If an element at one
/// of `touched` is now primary, the others stop being so.
pub(super) fn single_primary(items: &mut [Json], touched: &[usize]) {
    let is_primary = |v: &Json| v.as_object().and_then(|m| json::get(m, "primary")).and_then(Json::as_bool) == Some(true);
    let Some(&keep) = touched.iter().rev().find(|&&i| items.get(i).is_some_and(is_primary)) else {
        return;
    };
    for (i, item) in items.iter_mut().enumerate() {
        if i != keep
            && is_primary(item)
            && let Some(m) = item.as_object_mut()
        {
            json::set(m, "primary", Json::Bool(false));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse_filter;
    use crate::schema::{ENTERPRISE_USER_URN, Schema, find_attribute};
    use serde_json::json;

    fn def(name: &str) -> Option<&'static AttrDef> {
        find_attribute(None, name)
    }

    #[test]
    fn coercions_for_idp_quirks() {
        assert_eq!(coerce(def("active"), json!("False")), json!(false));
        assert_eq!(coerce(def("active"), json!("TRUE")), json!(true));
        assert_eq!(coerce(def("active"), json!("yes")), json!("yes"));
        assert_eq!(coerce(def("userName"), json!(42)), json!("42"));
        assert_eq!(
            coerce(def("emails"), json!([{"VALUE": "a@x", "Primary": "True"}, "b@x"])),
            json!([{"value": "a@x", "primary": true}, {"value": "b@x"}])
        );
        let manager = find_attribute(Some(&Schema::EnterpriseUser), "manager");
        assert_eq!(coerce(manager, json!("boss-id")), json!({"value": "boss-id"}));
        assert_eq!(coerce(def("name"), json!({"givenname": "Ann"})), json!({"givenName": "Ann"}));
        assert_eq!(coerce(None, json!("False")), json!("False"));
        assert!(!ENTERPRISE_USER_URN.is_empty());
    }

    #[test]
    fn validation_names_the_attribute() {
        let err = validate(def("active"), "active", &json!("yes")).unwrap_err();
        assert_eq!(err.detail, "active must be a boolean, not a string");
        let err = validate(def("emails"), "emails", &json!([{"value": 5}])).unwrap_err();
        assert_eq!(err.detail, "emails.value must be a string, not a number");
        assert!(validate(def("name"), "name", &json!("Ann")).is_err());
        assert!(validate(def("active"), "active", &Json::Null).is_ok());
        assert!(validate(None, "x", &json!({"any": [1]})).is_ok());
    }

    #[test]
    fn templates_come_from_eq_conjunctions_only() {
        let f = parse_filter(r#"TYPE eq "work" and primary eq true"#).unwrap();
        assert_eq!(template(&f, def("emails")), Some(json!({"type": "work", "primary": true}).as_object().unwrap().clone()));
        for text in [r#"type ne "work""#, r#"type eq "a" or type eq "b""#, r#"type eq "a" and type eq "b""#, "type eq null", "type pr"] {
            let f = parse_filter(text).unwrap();
            assert_eq!(template(&f, def("emails")), None, "{text}");
        }
    }

    #[test]
    fn one_primary_at_most() {
        let mut items = vec![json!({"value": "a", "primary": true}), json!({"value": "b", "primary": true})];
        single_primary(&mut items, &[1]);
        assert_eq!(items[0]["primary"], false);
        assert_eq!(items[1]["primary"], true);
        single_primary(&mut items, &[0]);
        assert_eq!(items[1]["primary"], true, "untouched non-primary changes nothing");
        assert_eq!(element_key(&json!({"value": "a", "display": "A"})), element_key(&json!({"Value": "a"})));
        assert_ne!(element_key(&json!({"value": "1"})), element_key(&json!({"value": 1})));
    }
}
