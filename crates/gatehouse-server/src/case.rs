//! Attribute-name case. The identity store's profile uses SCIM's attribute names in PascalCase
//! (the identitystore API's spelling); SCIM and identitystore attribute paths use camelCase.

/// `givenName` → `GivenName`.
pub fn pascal(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `GivenName` → `givenName`.
pub fn camel(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(first) => first.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}
