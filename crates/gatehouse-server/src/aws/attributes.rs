//! identitystore `AttributeOperations`: `{AttributePath, AttributeValue}` pairs applied to a
//! resource's attributes. Paths are camelCase (`name.givenName`, `emails`,
//! `aws:identitystore:enterprise.department`); the value is a JSON document in the API's own
//! shapes; a missing value removes the attribute. Applied to the PascalCase JSON form of the
//! profile and read back, so a wrongly typed value is a ValidationException.

use gatehouse_core::Error;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::case::pascal;

/// The one extension the identitystore API knows: SCIM's enterprise user.
pub const ENTERPRISE: &str = "aws:identitystore:enterprise";

/// `name.givenName` → ["Name", "GivenName"]; the enterprise extension maps to "Enterprise".
fn keys(path: &str) -> Result<Vec<String>, Error> {
    let bad = || Error::validation("Operations.AttributePath", format!("'{path}' is not an attribute path"));
    let (head, rest) = match path.strip_prefix(ENTERPRISE) {
        Some(rest) => (vec!["Enterprise".to_string()], rest.strip_prefix('.').ok_or_else(bad)?),
        None => (vec![], path),
    };
    let tail: Vec<String> = rest.split('.').map(pascal).collect();
    if tail.iter().any(|k| k.is_empty() || !k.chars().all(char::is_alphabetic)) || tail.len() > 2 {
        return Err(bad());
    }
    Ok(head.into_iter().chain(tail).collect())
}

/// Apply the operations to `target`, returning the attribute paths for the audit record.
pub fn apply<T: Serialize + DeserializeOwned>(target: &mut T, operations: &[(String, Option<Value>)]) -> Result<(), Error> {
    let mut doc = serde_json::to_value(&*target).map_err(|e| Error::internal(e.to_string()))?;
    for (path, value) in operations {
        let keys = keys(path)?;
        let (last, parents) = keys.split_last().ok_or_else(|| Error::validation("Operations.AttributePath", "is empty"))?;
        let mut node = &mut doc;
        for k in parents {
            let obj = node
                .as_object_mut()
                .ok_or_else(|| Error::validation("Operations.AttributePath", format!("'{path}' is not an attribute path")))?;
            node = obj.entry(k.clone()).or_insert_with(|| Value::Object(Map::new()));
        }
        let obj = node
            .as_object_mut()
            .ok_or_else(|| Error::validation("Operations.AttributePath", format!("'{path}' is not an attribute path")))?;
        match value {
            Some(v) if !v.is_null() => {
                obj.insert(last.clone(), v.clone());
            }
            _ => {
                obj.remove(last);
            }
        }
    }
    *target = serde_json::from_value(doc).map_err(|e| Error::validation("Operations.AttributeValue", e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::model::UserProfile;
    use serde_json::json;

    #[test]
    fn paths_values_and_removal() {
        let mut p = UserProfile { user_name: "a".into(), display_name: Some("A".into()), ..Default::default() };
        let ops = vec![
            ("name.givenName".to_string(), Some(json!("Ann"))),
            ("emails".to_string(), Some(json!([{"Value": "a@example.com", "Primary": true}]))),
            ("aws:identitystore:enterprise.department".to_string(), Some(json!("R&D"))),
            ("displayName".to_string(), None),
        ];
        apply(&mut p, &ops).unwrap();
        assert_eq!(p.name.given_name.as_deref(), Some("Ann"));
        assert_eq!(p.primary_email(), Some("a@example.com"));
        assert_eq!(p.enterprise.department.as_deref(), Some("R&D"));
        assert_eq!(p.display_name, None);
        assert!(apply(&mut p, &[("emails".to_string(), Some(json!("not a list")))]).is_err());
        assert!(apply(&mut p, &[("no-such.path.at.all".to_string(), Some(json!(1)))]).is_err());
    }
}
