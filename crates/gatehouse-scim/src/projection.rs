//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9): which
//! attributes of a resource a response carries.
//!
//! Each parameter is a comma-separated list of attribute paths, matched
//! ignoring case: `userName`, `name.givenName`, `emails.value`,
//! `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`,
//! or a whole extension's URN. `id` and `schemas` are always returned and
//! `password` never is.

use serde_json::{Map, Value as Json};

use crate::error::ScimError;
use crate::filter::AttrPath;
use crate::json;
use crate::schema::Schema;

/// Attributes returned whatever the request says ("returned": "always").
const ALWAYS: [&str; 2] = ["id", "schemas"];
/// Attributes never returned ("returned": "never").
const NEVER: [&str; 1] = ["password"];

/// One entry of an attribute list.
enum Selector {
    /// A whole extension object (its URN), or the whole core resource.
    Schema(Schema),
    Attr(AttrPath),
}

/// Applies the two query parameters (pass `None` when absent) to a resource.
/// If both are given, `attributes` is applied first.
pub fn project(resource: &Json, attributes: Option<&str>, excluded_attributes: Option<&str>) -> Result<Json, ScimError> {
    let Some(root) = resource.as_object() else {
        return Ok(resource.clone());
    };
    let mut out = match attributes.map(|list| selectors(root, list)).transpose()? {
        Some(list) if !list.is_empty() => include(root, &list),
        _ => root.clone(),
    };
    if let Some(list) = excluded_attributes {
        for selector in selectors(root, list)? {
            exclude(&mut out, &selector);
        }
    }
    for name in NEVER {
        json::remove(&mut out, name);
    }
    Ok(Json::Object(out))
}

fn selectors(root: &Map<String, Json>, list: &str) -> Result<Vec<Selector>, ScimError> {
    let listed_schema = |s: &str| {
        json::get(root, "schemas")
            .and_then(Json::as_array)
            .is_some_and(|a| a.iter().any(|x| x.as_str().is_some_and(|x| x.eq_ignore_ascii_case(s))))
    };
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| match Schema::known(s) {
            Some(schema) => Ok(Selector::Schema(schema)),
            None if listed_schema(s) => Ok(Selector::Schema(Schema::from_urn(s))),
            None => AttrPath::parse(s).map(Selector::Attr),
        })
        .collect()
}

/// The object holding `attr`: the root, or its extension's object.
fn container<'a>(root: &'a Map<String, Json>, attr: &AttrPath) -> Option<&'a Map<String, Json>> {
    match attr.extension() {
        Some(schema) => json::get(root, schema.urn())?.as_object(),
        None => Some(root),
    }
}

fn include(root: &Map<String, Json>, list: &[Selector]) -> Map<String, Json> {
    let mut out = Map::new();
    for name in ALWAYS {
        if let Some((key, value)) = root.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
            out.insert(key.clone(), value.clone());
        }
    }
    // Sub-attribute selections first, so a whole-attribute selection of the
    // same attribute (`emails,emails.value`) wins.
    let (subs, wholes): (Vec<&Selector>, Vec<&Selector>) =
        list.iter().partition(|s| matches!(s, Selector::Attr(a) if a.sub_attr.is_some()));
    for selector in subs.into_iter().chain(wholes) {
        match selector {
            Selector::Schema(schema) if schema.is_core() => return root.clone(),
            Selector::Schema(schema) => copy(root, &mut out, schema.urn()),
            Selector::Attr(attr) => include_attr(root, &mut out, attr),
        }
    }
    // Selections that found nothing leave empty shells behind.
    out.retain(|_, v| match v {
        Json::Object(m) => !m.is_empty(),
        Json::Array(a) => !a.is_empty(),
        _ => true,
    });
    out
}

fn copy(from: &Map<String, Json>, to: &mut Map<String, Json>, name: &str) {
    if let Some((key, value)) = from.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
        to.insert(key.clone(), value.clone());
    }
}

fn include_attr(root: &Map<String, Json>, out: &mut Map<String, Json>, attr: &AttrPath) {
    let Some(source) = container(root, attr) else { return };
    let target = match attr.extension() {
        Some(schema) => {
            let key = json::find_key(root, schema.urn()).unwrap_or_else(|| schema.urn().to_string());
            match out.entry(key).or_insert_with(|| Json::Object(Map::new())).as_object_mut() {
                Some(map) => map,
                None => return,
            }
        }
        None => out,
    };
    let Some(sub) = &attr.sub_attr else {
        copy(source, target, &attr.name);
        return;
    };
    let Some((key, value)) = source.iter().find(|(k, _)| k.eq_ignore_ascii_case(&attr.name)) else {
        return;
    };
    match value {
        Json::Object(fields) => {
            if let Json::Object(picked) = target.entry(key.clone()).or_insert_with(|| Json::Object(Map::new())) {
                copy(fields, picked, sub);
            }
        }
        Json::Array(items) => {
            // Keep the elements aligned with the source so several
            // sub-attributes (`emails.value,emails.type`) combine.
            let slot = target.entry(key.clone()).or_insert_with(|| Json::Array(vec![Json::Object(Map::new()); items.len()]));
            if let Json::Array(picked) = slot {
                for (from, to) in items.iter().zip(picked.iter_mut()) {
                    if let (Json::Object(from), Json::Object(to)) = (from, to) {
                        copy(from, to, sub);
                    }
                }
                picked.retain(|p| p.as_object().is_none_or(|m| !m.is_empty()));
            }
        }
        _ => {}
    }
}

fn exclude(out: &mut Map<String, Json>, selector: &Selector) {
    let attr = match selector {
        Selector::Schema(schema) if schema.is_core() => return,
        Selector::Schema(schema) => {
            json::remove(out, schema.urn());
            return;
        }
        Selector::Attr(attr) => attr,
    };
    if attr.extension().is_none() && ALWAYS.iter().any(|a| a.eq_ignore_ascii_case(&attr.name)) {
        return;
    }
    let (ext_key, mut ext) = match attr.extension() {
        Some(schema) => match json::take(out, schema.urn()) {
            (key, Some(Json::Object(map))) => (Some(key), Some(map)),
            (key, Some(other)) => {
                out.insert(key, other);
                return;
            }
            (_, None) => return,
        },
        None => (None, None),
    };
    let container = match ext.as_mut() {
        Some(map) => map,
        None => &mut *out,
    };
    match &attr.sub_attr {
        None => {
            json::remove(container, &attr.name);
        }
        Some(sub) => {
            let (key, value) = json::take(container, &attr.name);
            let value = match value {
                Some(Json::Object(mut fields)) => {
                    json::remove(&mut fields, sub);
                    (!fields.is_empty()).then_some(Json::Object(fields))
                }
                Some(Json::Array(mut items)) => {
                    for item in items.iter_mut().filter_map(Json::as_object_mut) {
                        json::remove(item, sub);
                    }
                    Some(Json::Array(items))
                }
                other => other,
            };
            if let Some(value) = value {
                container.insert(key, value);
            }
        }
    }
    if let (Some(key), Some(map)) = (ext_key, ext)
        && !map.is_empty()
    {
        out.insert(key, Json::Object(map));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ENTERPRISE_USER_URN;
    use serde_json::json;

    fn user() -> Json {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE_USER_URN],
            "id": "u1",
            "userName": "bjensen",
            "password": "hunter2",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [
                {"value": "b@example.com", "type": "work", "primary": true},
                {"value": "babs@example.org", "type": "home"}
            ],
            "active": true,
            "meta": {"resourceType": "User", "location": "http://x/Users/u1"},
            ENTERPRISE_USER_URN: {"department": "Tour Operations", "employeeNumber": "701984"}
        })
    }

    fn run(attrs: Option<&str>, excluded: Option<&str>) -> Json {
        project(&user(), attrs, excluded).unwrap()
    }

    #[test]
    fn no_parameters_returns_everything_but_password() {
        let mut expected = user();
        expected.as_object_mut().unwrap().remove("password");
        assert_eq!(run(None, None), expected);
        assert_eq!(run(Some(" , "), None), expected);
    }

    #[test]
    fn attributes_keep_only_those_plus_id_and_schemas() {
        let out = run(Some("USERNAME, name.givenName"), None);
        assert_eq!(
            out,
            json!({
                "schemas": user()["schemas"],
                "id": "u1",
                "userName": "bjensen",
                "name": {"givenName": "Barbara"},
            })
        );
    }

    #[test]
    fn sub_attributes_of_multi_valued_attributes_combine() {
        let out = run(Some("emails.value,emails.TYPE"), None);
        assert_eq!(out["emails"], json!([{"value": "b@example.com", "type": "work"}, {"value": "babs@example.org", "type": "home"}]));
        let out = run(Some("emails.value,emails"), None);
        assert_eq!(out["emails"], user()["emails"], "the whole attribute wins");
    }

    #[test]
    fn urn_qualified_attributes_and_whole_extensions() {
        let out = run(Some(&format!("{ENTERPRISE_USER_URN}:department")), None);
        assert_eq!(out[ENTERPRISE_USER_URN], json!({"department": "Tour Operations"}));
        assert!(out.get("userName").is_none());
        let out = run(Some(&ENTERPRISE_USER_URN.to_lowercase()), None);
        assert_eq!(out[ENTERPRISE_USER_URN], user()[ENTERPRISE_USER_URN]);
        let out = run(Some("urn:ietf:params:scim:schemas:core:2.0:User:userName"), None);
        assert_eq!(out["userName"], "bjensen");
        let out = run(Some("urn:ietf:params:scim:schemas:core:2.0:User"), None);
        assert_eq!(out["emails"], user()["emails"]);
        assert!(out.get("password").is_none());
    }

    #[test]
    fn excluded_attributes_never_drop_id_or_schemas() {
        let out = run(None, Some("id,schemas,emails,name.familyName,meta"));
        assert_eq!(out["id"], "u1");
        assert!(out.get("schemas").is_some());
        assert!(out.get("emails").is_none());
        assert!(out.get("meta").is_none());
        assert_eq!(out["name"], json!({"givenName": "Barbara"}));
        let out = run(None, Some(&format!("{ENTERPRISE_USER_URN}:department,{ENTERPRISE_USER_URN}:employeeNumber")));
        assert!(out.get(ENTERPRISE_USER_URN).is_none(), "an emptied extension goes");
        let out = run(None, Some("emails.primary,name.givenName,name.familyName"));
        assert!(out["emails"][0].get("primary").is_none());
        assert!(out.get("name").is_none());
        let out = run(None, Some(ENTERPRISE_USER_URN));
        assert!(out.get(ENTERPRISE_USER_URN).is_none());
    }

    #[test]
    fn password_is_never_returned_even_when_asked_for() {
        assert!(run(Some("password"), None).get("password").is_none());
        let odd = json!({"id": "1", "Password": "x"});
        assert!(project(&odd, None, None).unwrap().get("Password").is_none());
    }

    #[test]
    fn malformed_lists_are_rejected_and_odd_resources_survive() {
        let err = project(&user(), Some("name..x"), None).unwrap_err();
        assert_eq!(err.scim_type, Some(crate::ScimType::InvalidPath));
        assert!(project(&user(), None, Some("emails[type eq \"work\"]")).is_err());
        assert_eq!(project(&json!([1]), Some("a"), None).unwrap(), json!([1]));
        let weird = json!({"id": "1", "name": "flat", "emails": "x", ENTERPRISE_USER_URN: 5});
        let out = project(&weird, Some(&format!("name.givenName,emails.value,{ENTERPRISE_USER_URN}:department")), None).unwrap();
        assert_eq!(out, json!({"id": "1"}));
        let out = project(&weird, None, Some(&format!("name.givenName,{ENTERPRISE_USER_URN}:department"))).unwrap();
        assert_eq!(out["name"], "flat");
        assert_eq!(out[ENTERPRISE_USER_URN], 5);
    }
}
