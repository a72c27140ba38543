//! Evaluating a [`Filter`] against a resource's JSON (RFC 7644 §3.4.2.2).
//!
//! Semantics: attribute names match ignoring case; a multi-valued attribute
//! matches when any value does; a complex multi-valued attribute without a
//! sub-attribute is compared by its `value` (so `emails co "@x"` works);
//! strings compare ignoring case unless the attribute is `caseExact`;
//! `ne` is "no value equals"; `gt`/`ge`/`lt`/`le` order strings (so ISO 8601
//! timestamps) and numbers; booleans and null only support `eq`/`ne`.

use std::cmp::Ordering;

use serde_json::Value as Json;

use super::{AttrPath, CompareOp, Filter, Value};
use crate::json;
use crate::schema::{AttrDef, find_attribute};

impl Filter {
    /// Whether the resource (a User or Group, extensions under their URN
    /// keys) matches this filter.
    pub fn matches(&self, resource: &Json) -> bool {
        eval(self, resource, None)
    }
}

/// `parent` is the multi-valued attribute whose element `obj` is, inside a
/// value filter; its definition tells sub-attributes' case-exactness.
pub(crate) fn eval(f: &Filter, obj: &Json, parent: Option<&'static AttrDef>) -> bool {
    match f {
        Filter::Compare { path, op, value } => {
            let (values, def) = resolve(obj, path, parent);
            let exact = def.is_some_and(|d| d.case_exact);
            if *op == CompareOp::Ne {
                !values.iter().any(|v| compare(v, CompareOp::Eq, value, exact))
            } else {
                values.iter().any(|v| compare(v, *op, value, exact))
            }
        }
        Filter::Present(path) => resolve(obj, path, parent).0.into_iter().any(is_present),
        Filter::And(l, r) => eval(l, obj, parent) && eval(r, obj, parent),
        Filter::Or(l, r) => eval(l, obj, parent) || eval(r, obj, parent),
        Filter::Not(inner) => !eval(inner, obj, parent),
        Filter::ValuePath { path, filter } => {
            let def = definition(path, parent);
            match attribute(obj, path, parent) {
                Some(Json::Array(items)) => items.iter().any(|item| eval(filter, item, def)),
                Some(item @ Json::Object(_)) => eval(filter, item, def),
                _ => false,
            }
        }
    }
}

fn definition(path: &AttrPath, parent: Option<&'static AttrDef>) -> Option<&'static AttrDef> {
    let def = match parent {
        Some(p) => p.sub_attribute(&path.name),
        None => find_attribute(path.schema.as_ref(), &path.name),
    };
    match &path.sub_attr {
        Some(sub) => def.and_then(|d| d.sub_attribute(sub)),
        None => def,
    }
}

/// The value of `path.name` (not descending into `sub_attr`).
fn attribute<'a>(obj: &'a Json, path: &AttrPath, parent: Option<&'static AttrDef>) -> Option<&'a Json> {
    let container = match path.extension() {
        Some(schema) if parent.is_none() => json::get(obj.as_object()?, schema.urn())?,
        _ => obj,
    };
    json::get(container.as_object()?, &path.name)
}

/// Every scalar `path` denotes in `obj`, and the leaf's definition.
fn resolve<'a>(obj: &'a Json, path: &AttrPath, parent: Option<&'static AttrDef>) -> (Vec<&'a Json>, Option<&'static AttrDef>) {
    let mut def = definition(path, parent);
    let mut out = Vec::new();
    let Some(value) = attribute(obj, path, parent) else {
        return (out, def);
    };
    match &path.sub_attr {
        Some(sub) => {
            let sub_of = |v: &'a Json| v.as_object().and_then(|m| json::get(m, sub));
            let subs: Vec<&Json> = match value {
                Json::Array(items) => items.iter().filter_map(sub_of).collect(),
                other => sub_of(other).into_iter().collect(),
            };
            for v in subs {
                match v {
                    Json::Array(items) => out.extend(items),
                    other => out.push(other),
                }
            }
        }
        None => match value {
            Json::Array(items) => {
                for item in items {
                    match item {
                        Json::Object(m) => out.extend(json::get(m, "value")),
                        other => out.push(other),
                    }
                }
                if items.iter().any(Json::is_object) {
                    def = def.and_then(|d| d.sub_attribute("value"));
                }
            }
            other => out.push(other),
        },
    }
    (out, def)
}

fn is_present(v: &Json) -> bool {
    match v {
        Json::Null => false,
        Json::String(s) => !s.is_empty(),
        Json::Array(a) => !a.is_empty(),
        Json::Object(o) => !o.is_empty(),
        _ => true,
    }
}

fn compare(actual: &Json, op: CompareOp, expected: &Value, case_exact: bool) -> bool {
    match (actual, expected) {
        (Json::String(a), Value::String(b)) => {
            if case_exact {
                compare_str(a, op, b)
            } else {
                compare_str(&a.to_lowercase(), op, &b.to_lowercase())
            }
        }
        (Json::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => a.partial_cmp(&b).is_some_and(|o| ordering_matches(o, op)),
            _ => false,
        },
        (Json::Bool(a), Value::Bool(b)) => match op {
            CompareOp::Eq => a == b,
            CompareOp::Ne => a != b,
            _ => false,
        },
        (Json::Null, Value::Null) => op == CompareOp::Eq,
        _ => false,
    }
}

fn compare_str(a: &str, op: CompareOp, b: &str) -> bool {
    match op {
        CompareOp::Co => a.contains(b),
        CompareOp::Sw => a.starts_with(b),
        CompareOp::Ew => a.ends_with(b),
        _ => ordering_matches(a.cmp(b), op),
    }
}

fn ordering_matches(o: Ordering, op: CompareOp) -> bool {
    match op {
        CompareOp::Eq => o == Ordering::Equal,
        CompareOp::Ne => o != Ordering::Equal,
        CompareOp::Gt => o == Ordering::Greater,
        CompareOp::Ge => o != Ordering::Less,
        CompareOp::Lt => o == Ordering::Less,
        CompareOp::Le => o != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::filter::parse_filter;

    /// The RFC 7643 §8.2 "full representation" user, trimmed.
    fn bjensen() -> serde_json::Value {
        json!({
            "schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
            ],
            "id": "2819c223-7f76-453a-919d-413861904646",
            "externalId": "701984",
            "userName": "bjensen@example.com",
            "name": {"familyName": "Jensen", "givenName": "Barbara"},
            "title": "Tour Guide",
            "userType": "Employee",
            "active": true,
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "meta": {"lastModified": "2011-05-13T04:42:34Z", "version": "W/\"3694e05e9dff591\""},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "employeeNumber": "701984",
                "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}
            },
            "loginCount": 7
        })
    }

    fn check(filter: &str) -> bool {
        parse_filter(filter).unwrap_or_else(|e| panic!("{filter}: {e}")).matches(&bjensen())
    }

    #[test]
    fn rfc_examples_evaluate() {
        assert!(check(r#"userName eq "bjensen@example.com""#));
        assert!(check(r#"userName eq "BJENSEN@example.com""#), "userName is not caseExact");
        assert!(check(r#"name.familyName co "ens""#));
        assert!(check(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "bj""#));
        assert!(check("title pr"));
        assert!(!check("nickName pr"));
        assert!(!check(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#));
        assert!(check(r#"meta.lastModified ge "2011-05-13T04:42:34Z""#));
        assert!(check(r#"meta.lastModified lt "2012-01-01T00:00:00Z""#));
        assert!(check(r#"title pr and userType eq "Employee""#));
        assert!(check(r#"title pr or userType eq "Intern""#));
        assert!(check(r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#));
        assert!(check(r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#));
        assert!(!check(r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#));
        assert!(check(r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#));
        assert!(!check(r#"emails[type eq "home" and value co "@example.com"]"#));
        assert!(check(r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#));
    }

    #[test]
    fn extension_numbers_booleans_and_case_exactness() {
        assert!(check(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#));
        assert!(check(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value sw "26118915""#));
        assert!(!check(r#"employeeNumber eq "701984""#), "unqualified means core");
        assert!(check("active eq true"));
        assert!(!check("active eq false"));
        assert!(check("active ne false"));
        assert!(!check("active gt false"));
        assert!(check("loginCount gt 5 and loginCount le 7.0"));
        assert!(!check(r#"loginCount eq "7""#));
        assert!(check(r#"externalId eq "701984""#));
        assert!(!check(r#"id eq "2819C223-7F76-453A-919D-413861904646""#), "id is caseExact");
        assert!(check(r#"emails[primary eq true and value ew "example.com"]"#));
        assert!(check(r#"nickName ne "x""#), "ne matches an absent attribute");
        assert!(check(r#"EMAILS[TYPE EQ "WORK"]"#));
        assert!(check(r#"name[givenName eq "barbara"]"#), "a value filter on a singular complex");
        assert!(!check("title eq null"));
    }
}
