//! SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2).
//!
//! [`parse_filter`] and [`parse_path`] turn text into the small tree below;
//! [`Filter::matches`] evaluates a filter against a resource's JSON, which
//! the PATCH engine uses for value-selection filters and the server may use
//! for in-memory filtering. Translating a filter to storage conditions is the
//! caller's business: match on [`Filter`] and use [`AttrPath::canonical`].

pub(crate) mod eval;
mod parse;

use std::fmt;

pub use parse::{MAX_DEPTH, MAX_LEN, parse_filter, parse_path};

use crate::error::ScimError;
use crate::schema::Schema;

/// A parsed filter. `and`/`or` chains are binary here; a chain of `n` terms
/// is folded into a balanced tree, so its depth grows with `log n`.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `attrPath op value`
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: Value,
    },
    /// `attrPath pr`
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `attrPath[filter]`: some element of the multi-valued attribute `path`
    /// matches `filter`, whose paths name sub-attributes of `path`.
    ValuePath {
        path: AttrPath,
        filter: Box<Filter>,
    },
}

/// Comparison operators (RFC 7644 §3.4.2.2, Table 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }
}

/// A comparison value: a JSON scalar.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    String(String),
    Number(serde_json::Number),
    Bool(bool),
    Null,
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Number(n) => serde_json::Value::Number(n.clone()),
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Null => serde_json::Value::Null,
        }
    }
}

/// `[schema URN ":"] name ["." subAttr]`. Names are kept as written and
/// compared case-insensitively; a core-schema prefix is kept in `schema`
/// but is otherwise the same as no prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    pub schema: Option<Schema>,
    pub name: String,
    pub sub_attr: Option<String>,
}

impl AttrPath {
    /// An unqualified path, `name` or `name.sub`, for building paths in code.
    pub fn new(name: &str, sub_attr: Option<&str>) -> Self {
        AttrPath { schema: None, name: name.to_string(), sub_attr: sub_attr.map(str::to_string) }
    }

    /// Parses a bare attribute path such as `name.givenName` or
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`
    /// (as in `attributes=` or `sortBy=`). Unlike the filter grammar it also
    /// accepts `$ref`, which RFC 7643 uses as a sub-attribute name.
    pub fn parse(text: &str) -> Result<AttrPath, ScimError> {
        let text = text.trim();
        let bad = || ScimError::invalid_path(format!("\"{text}\" is not an attribute path"));
        let (schema, rest) = if text.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) {
            let (urn, rest) = text.rsplit_once(':').ok_or_else(bad)?;
            (Some(Schema::from_urn(urn)), rest)
        } else {
            (None, text)
        };
        let (name, sub_attr) = match rest.split_once('.') {
            Some((name, sub)) => (name, Some(sub)),
            None => (rest, None),
        };
        if !is_attr_name(name) || sub_attr.is_some_and(|s| !is_attr_name(s)) {
            return Err(bad());
        }
        Ok(AttrPath { schema, name: name.to_string(), sub_attr: sub_attr.map(str::to_string) })
    }

    /// Whether this path names `path` (for example `"name.givenName"` or a
    /// URN-qualified path), ignoring case and any core-schema prefix.
    pub fn is(&self, path: &str) -> bool {
        AttrPath::parse(path).is_ok_and(|other| other.canonical() == self.canonical())
    }

    /// Lowercase dotted form for lookups: `name.givenname`, or for extension
    /// attributes the lowercase URN first, e.g.
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:department`.
    /// The core User and Group prefixes are dropped (an unqualified name
    /// means the same attribute).
    pub fn canonical(&self) -> String {
        let mut out = String::new();
        if let Some(schema) = self.schema.as_ref().filter(|s| !s.is_core()) {
            out.push_str(&schema.urn().to_ascii_lowercase());
            out.push(':');
        }
        out.push_str(&self.name.to_ascii_lowercase());
        if let Some(sub) = &self.sub_attr {
            out.push('.');
            out.push_str(&sub.to_ascii_lowercase());
        }
        out
    }

    /// The extension schema whose object holds this attribute, if not core.
    pub fn extension(&self) -> Option<&Schema> {
        self.schema.as_ref().filter(|s| !s.is_core())
    }
}

/// RFC 7644 ATTRNAME (`ALPHA *(nameChar)`), plus `$ref`.
fn is_attr_name(s: &str) -> bool {
    if s == "$ref" {
        return true;
    }
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic()) && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(schema) = &self.schema {
            write!(f, "{}:", schema.urn())?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_json())
    }
}

impl fmt::Display for Filter {
    /// Renders the filter back to SCIM syntax, adding parentheses only
    /// where precedence needs them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Compare { path, op, value } => write!(f, "{path} {} {value}", op.as_str()),
            Filter::Present(path) => write!(f, "{path} pr"),
            Filter::And(l, r) => {
                for (i, side) in [l, r].into_iter().enumerate() {
                    if i == 1 {
                        f.write_str(" and ")?;
                    }
                    if matches!(**side, Filter::Or(..)) {
                        write!(f, "({side})")?;
                    } else {
                        write!(f, "{side}")?;
                    }
                }
                Ok(())
            }
            Filter::Or(l, r) => write!(f, "{l} or {r}"),
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::ValuePath { path, filter } => write!(f, "{path}[{filter}]"),
        }
    }
}

impl std::str::FromStr for Filter {
    type Err = ScimError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_filter(s)
    }
}

/// A PATCH operation's `path`: `attrPath`, `attr[filter]` or
/// `attr[filter].sub`. With a filter, `attr` has no sub-attribute of its
/// own; the one after the bracket is `sub_attr`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
    pub sub_attr: Option<String>,
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.attr)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ENTERPRISE_USER_URN;

    #[test]
    fn attr_path_parse_splits_schema_and_sub_attribute() {
        let p = AttrPath::parse("name.givenName").unwrap();
        assert_eq!(p, AttrPath::new("name", Some("givenName")));
        let p = AttrPath::parse(&format!("{ENTERPRISE_USER_URN}:manager.$ref")).unwrap();
        assert_eq!(p.schema, Some(Schema::EnterpriseUser));
        assert_eq!(p.name, "manager");
        assert_eq!(p.sub_attr.as_deref(), Some("$ref"));
        let p = AttrPath::parse("urn:ietf:params:scim:schemas:core:2.0:User:userName").unwrap();
        assert_eq!(p.schema, Some(Schema::CoreUser));
        assert!(p.extension().is_none());
        let p = AttrPath::parse("urn:example:ext:1.0:color").unwrap();
        assert_eq!(p.schema, Some(Schema::Other("urn:example:ext:1.0".into())));
        for bad in ["", "a.b.c", "1abc", "name.", ".x", "urn:", "a b", "na$me", "urn:x:"] {
            assert!(AttrPath::parse(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn attr_path_is_and_canonical_ignore_case_and_core_prefix() {
        let p = AttrPath::parse("NAME.GivenName").unwrap();
        assert!(p.is("name.givenName"));
        assert!(p.is("urn:ietf:params:scim:schemas:core:2.0:User:name.givenname"));
        assert!(!p.is("name"));
        assert!(!p.is("not a path"));
        assert_eq!(p.canonical(), "name.givenname");
        let e = AttrPath::parse(&format!("{ENTERPRISE_USER_URN}:Department")).unwrap();
        assert_eq!(e.canonical(), "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:department");
        assert!(e.is(&format!("{}:department", ENTERPRISE_USER_URN.to_uppercase())));
        assert!(!e.is("department"));
    }

    #[test]
    fn display_round_trips_through_the_parser() {
        for text in [
            r#"userName eq "bjensen""#,
            r#"title pr and (userType eq "Employee" or userType eq "Intern")"#,
            r#"not (emails co "example.com") or active eq true"#,
            r#"emails[type eq "work" and value co "@example.com"]"#,
            r#"x gt 1.5 and y le -2 and z ne null"#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "7\"01""#,
        ] {
            let f = parse_filter(text).unwrap();
            let again = parse_filter(&f.to_string()).unwrap();
            assert_eq!(f, again, "{text}");
        }
        let p = parse_path(r#"emails[type eq "work"].value"#).unwrap();
        assert_eq!(p.to_string(), r#"emails[type eq "work"].value"#);
    }
}
