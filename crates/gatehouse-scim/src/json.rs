//! Case-insensitive access to JSON object keys. SCIM attribute names are
//! case-insensitive (RFC 7643 §2.1), so `userName`, `USERNAME` and `username`
//! name the same member; an exact match is tried first because it is the
//! common case.

use serde_json::{Map, Value};

/// The key actually stored in `map` that equals `name` ignoring ASCII case.
pub(crate) fn find_key(map: &Map<String, Value>, name: &str) -> Option<String> {
    if map.contains_key(name) {
        return Some(name.to_string());
    }
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

pub(crate) fn get<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    match map.get(name) {
        Some(v) => Some(v),
        None => map.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v),
    }
}

pub(crate) fn remove(map: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let key = find_key(map, name)?;
    map.remove(&key)
}

/// Takes the member named `name` out of `map`, returning the stored key (or
/// `name` when absent) so the caller can put a new value back under it.
pub(crate) fn take(map: &mut Map<String, Value>, name: &str) -> (String, Option<Value>) {
    match find_key(map, name) {
        Some(key) => {
            let value = map.remove(&key);
            (key, value)
        }
        None => (name.to_string(), None),
    }
}

/// Sets `name` to `value`, replacing a member whose key differs only in
/// case (keeping the stored spelling), or inserting under `name`.
pub(crate) fn set(map: &mut Map<String, Value>, name: &str, value: Value) {
    let key = find_key(map, name).unwrap_or_else(|| name.to_string());
    map.insert(key, value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_match_ignoring_case() {
        let mut v = json!({"userName": "a", "Active": true});
        let map = v.as_object_mut().unwrap();
        assert_eq!(get(map, "USERNAME"), Some(&json!("a")));
        assert_eq!(find_key(map, "active").as_deref(), Some("Active"));
        set(map, "ACTIVE", json!(false));
        assert_eq!(map.get("Active"), Some(&json!(false)));
        assert_eq!(map.len(), 2);
        assert_eq!(remove(map, "UserName"), Some(json!("a")));
        assert_eq!(take(map, "active"), ("Active".to_string(), Some(json!(false))));
        assert_eq!(take(map, "x"), ("x".to_string(), None));
        assert!(get(map, "missing").is_none());
    }
}
