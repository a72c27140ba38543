//! A parsed SCIM filter translated into the store's condition tree, in the identity store's
//! attribute names, so the database evaluates it.

use gatehouse_core::model::condition::{Attr, Condition, Op, Value as CondValue};
use gatehouse_scim::filter::Value as FilterValue;
use gatehouse_scim::schema::Schema;
use gatehouse_scim::{AttrPath, CompareOp, Filter, ScimError};

use crate::case::pascal;

/// Which resource a filter is about.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    User,
    Group,
}

/// Multi-valued user attributes whose sub-attributes can be filtered, with the profile's names.
const LISTS: &[(&str, &str)] = &[("emails", "Emails"), ("phonenumbers", "PhoneNumbers"), ("addresses", "Addresses")];

fn list_name(name: &str) -> Option<&'static str> {
    LISTS.iter().find(|(scim, _)| name.eq_ignore_ascii_case(scim)).map(|(_, p)| *p)
}

fn unknown(path: &AttrPath) -> ScimError {
    ScimError::invalid_filter(format!("the attribute '{}' cannot be filtered on", path.canonical()))
}

/// The condition attribute for a path outside any value-path bracket.
fn attribute(path: &AttrPath, resource: Resource) -> Result<Attr, ScimError> {
    let name = path.name.to_ascii_lowercase();
    let sub = path.sub_attr.as_deref().map(str::to_ascii_lowercase);
    if let Some(schema) = &path.schema {
        match (schema, resource) {
            (Schema::EnterpriseUser, Resource::User) => {
                return match (name.as_str(), sub.as_deref()) {
                    ("manager", None | Some("value")) => Ok(Attr::Profile(vec!["Enterprise".into(), "Manager".into()])),
                    ("employeenumber" | "costcenter" | "organization" | "division" | "department", None) => {
                        Ok(Attr::Profile(vec!["Enterprise".into(), pascal(&path.name)]))
                    }
                    _ => Err(unknown(path)),
                };
            }
            (Schema::CoreUser, Resource::User) | (Schema::CoreGroup, Resource::Group) => {}
            _ => return Err(unknown(path)),
        }
    }
    let common = match (name.as_str(), sub.as_deref()) {
        ("id", None) => Some(Attr::Id),
        ("externalid", None) => Some(Attr::ExternalId),
        ("displayname", None) => Some(Attr::DisplayName),
        ("meta", Some("created")) => Some(Attr::Created),
        ("meta", Some("lastmodified")) => Some(Attr::LastModified),
        _ => None,
    };
    if let Some(a) = common {
        return Ok(a);
    }
    match resource {
        Resource::Group => match (name.as_str(), sub.as_deref()) {
            ("members", None | Some("value")) => Ok(Attr::Member),
            ("description", None) => Ok(Attr::Profile(vec!["Description".into()])),
            _ => Err(unknown(path)),
        },
        Resource::User => match (name.as_str(), sub.as_deref()) {
            ("username", None) => Ok(Attr::UserName),
            ("active", None) => Ok(Attr::Active),
            ("name", Some(s))
                if ["givenname", "familyname", "middlename", "formatted", "honorificprefix", "honorificsuffix"].contains(&s) =>
            {
                Ok(Attr::Profile(vec!["Name".into(), pascal(path.sub_attr.as_deref().unwrap_or_default())]))
            }
            ("nickname" | "profileurl" | "title" | "usertype" | "preferredlanguage" | "locale" | "timezone", None) => {
                Ok(Attr::Profile(vec![pascal(&path.name)]))
            }
            (list, field) => match list_name(list) {
                Some(l) => {
                    let field = if field.is_some() { pascal(path.sub_attr.as_deref().unwrap_or_default()) } else { "Value".into() };
                    Ok(Attr::AnyOf { list: l.into(), field })
                }
                None => Err(unknown(path)),
            },
        },
    }
}

fn op(o: CompareOp) -> Op {
    match o {
        CompareOp::Eq => Op::Eq,
        CompareOp::Ne => Op::Ne,
        CompareOp::Co => Op::Co,
        CompareOp::Sw => Op::Sw,
        CompareOp::Ew => Op::Ew,
        CompareOp::Gt => Op::Gt,
        CompareOp::Ge => Op::Ge,
        CompareOp::Lt => Op::Lt,
        CompareOp::Le => Op::Le,
    }
}

fn value(attr: &Attr, v: &FilterValue) -> Result<CondValue, ScimError> {
    Ok(match v {
        FilterValue::String(s) if matches!(attr, Attr::Created | Attr::LastModified) => {
            let t = chrono::DateTime::parse_from_rfc3339(s)
                .map_err(|_| ScimError::invalid_filter(format!("'{s}' is not an RFC 3339 date-time")))?;
            CondValue::Time(t.with_timezone(&chrono::Utc))
        }
        FilterValue::String(s) => CondValue::Str(s.clone()),
        FilterValue::Bool(b) => CondValue::Bool(*b),
        FilterValue::Number(n) => CondValue::Str(n.to_string()),
        FilterValue::Null => CondValue::Null,
    })
}

/// Translate `filter` about `resource` into a condition the store evaluates.
pub fn condition(filter: &Filter, resource: Resource) -> Result<Condition, ScimError> {
    translate(filter, resource, None)
}

/// `element`: inside `list[...]`, paths name that list's sub-attributes.
fn translate(filter: &Filter, resource: Resource, element: Option<&str>) -> Result<Condition, ScimError> {
    let attr_of = |path: &AttrPath| -> Result<Attr, ScimError> {
        match element {
            Some(list) if path.schema.is_none() && path.sub_attr.is_none() => {
                Ok(Attr::AnyOf { list: list.to_string(), field: pascal(&path.name) })
            }
            Some(_) => Err(unknown(path)),
            None => attribute(path, resource),
        }
    };
    Ok(match filter {
        Filter::Compare { path, op: o, value: v } => {
            let attr = attr_of(path)?;
            let value = value(&attr, v)?;
            Condition::Compare { attr, op: op(*o), value }
        }
        Filter::Present(path) => Condition::Present(attr_of(path)?),
        Filter::And(a, b) => Condition::All(vec![translate(a, resource, element)?, translate(b, resource, element)?]),
        Filter::Or(a, b) => Condition::Any(vec![translate(a, resource, element)?, translate(b, resource, element)?]),
        Filter::Not(f) => Condition::Not(Box::new(translate(f, resource, element)?)),
        Filter::ValuePath { path, filter } => {
            if element.is_some() {
                return Err(ScimError::invalid_filter("value paths cannot be nested"));
            }
            if resource == Resource::Group && path.name.eq_ignore_ascii_case("members") {
                // members[value eq "id"]: the only sub-attribute Gatehouse keeps for members.
                return translate_members(filter);
            }
            let list = list_name(&path.name).ok_or_else(|| unknown(path))?;
            Condition::Element { list: list.to_string(), condition: Box::new(translate(filter, resource, Some(list))?) }
        }
    })
}

fn translate_members(filter: &Filter) -> Result<Condition, ScimError> {
    match filter {
        Filter::Compare { path, op: o, value: v } if path.name.eq_ignore_ascii_case("value") => {
            Ok(Condition::Compare { attr: Attr::Member, op: op(*o), value: value(&Attr::Member, v)? })
        }
        Filter::Or(a, b) => Ok(Condition::Any(vec![translate_members(a)?, translate_members(b)?])),
        _ => Err(ScimError::invalid_filter("members can be filtered by value only")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_scim::parse_filter;

    fn user(f: &str) -> Result<Condition, ScimError> {
        condition(&parse_filter(f).unwrap(), Resource::User)
    }

    #[test]
    fn common_idp_filters() {
        assert_eq!(
            user(r#"userName eq "bjensen""#).unwrap(),
            Condition::Compare { attr: Attr::UserName, op: Op::Eq, value: CondValue::Str("bjensen".into()) }
        );
        assert!(matches!(user(r#"externalId eq "00u1""#).unwrap(), Condition::Compare { attr: Attr::ExternalId, .. }));
        assert!(matches!(
            user(r#"emails[type eq "work" and value co "@example.com"]"#).unwrap(),
            Condition::Element { ref list, .. } if list == "Emails"
        ));
        assert!(matches!(
            user(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "R&D""#).unwrap(),
            Condition::Compare { attr: Attr::Profile(ref p), .. } if p == &["Enterprise", "Department"]
        ));
        assert!(
            matches!(user(r#"name.givenName sw "B""#).unwrap(), Condition::Compare { attr: Attr::Profile(ref p), .. } if p == &["Name", "GivenName"])
        );
        assert!(matches!(
            user(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#).unwrap(),
            Condition::Compare { value: CondValue::Time(_), .. }
        ));
    }

    #[test]
    fn groups_by_member_and_unknown_attributes() {
        let g = condition(&parse_filter(r#"members[value eq "u1"]"#).unwrap(), Resource::Group).unwrap();
        assert!(matches!(g, Condition::Compare { attr: Attr::Member, .. }));
        assert!(user(r#"password eq "x""#).is_err());
        assert!(user(r#"meta.created gt "yesterday""#).is_err());
        assert!(condition(&parse_filter(r#"userName eq "x""#).unwrap(), Resource::Group).is_err());
    }
}
