//! AWS JSON service models, interpreted: an operation's input shape checked against a request body.
//!
//! The models are the botocore files boto3 is generated from, embedded at build time and compiled
//! once (regexes included) on first use. Interpreting them instead of generating Rust types keeps
//! one source for every constraint, and a new operation needs no new validation code.
//!
//! Semantics follow Smithy: `pattern` is not implicitly anchored, lengths count characters,
//! unknown members are ignored (as AWS services do), and no value ever appears in a message
//! (many are `sensitive`). A model pattern the `regex` crate cannot express (lookahead, surrogate ranges) is
//! skipped; `unsupported_patterns` lists them so tests can keep the set known.

use regex::Regex;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The services Gatehouse speaks, by their model file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    IdentityStore,
    Organizations,
    SsoAdmin,
    Sso,
    SsoOidc,
    Sts,
    /// Gatehouse's own operations (portal sessions, MFA devices and settings): the same JSON
    /// protocol, with a model boto3 loads from `clients/botocore`.
    Gatehouse,
}

impl Service {
    fn source(self) -> &'static str {
        match self {
            Service::IdentityStore => include_str!("../models/identitystore.json"),
            Service::Organizations => include_str!("../models/organizations.json"),
            Service::SsoAdmin => include_str!("../models/sso-admin.json"),
            Service::Sso => include_str!("../models/sso.json"),
            Service::SsoOidc => include_str!("../models/sso-oidc.json"),
            Service::Sts => include_str!("../models/sts.json"),
            Service::Gatehouse => include_str!("../../../clients/botocore/gatehouse/2026-11-01/service-2.json"),
        }
    }

    /// The compiled model, built on first use.
    pub fn model(self) -> &'static ServiceModel {
        static MODELS: [OnceLock<ServiceModel>; 7] = [const { OnceLock::new() }; 7];
        MODELS[self as usize].get_or_init(|| ServiceModel::parse(self.source()).unwrap_or_default())
    }
}

/// One request-body problem, in the terms AWS uses for ValidationException.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The member path, as the client named it: `Name.GivenName`, `Emails[0].Value`.
    pub field: String,
    pub kind: ViolationKind,
    pub constraint: String,
}

/// Which constraint failed, for protocols that report a reason code (Organizations'
/// `InvalidInputException.Reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViolationKind {
    Required,
    TooShort,
    TooLong,
    TooSmall,
    TooLarge,
    Enum,
    Pattern,
    Type,
}

impl ViolationKind {
    /// The Organizations `InvalidInputExceptionReason` for this kind.
    pub fn organizations_reason(self) -> &'static str {
        match self {
            ViolationKind::Required => "INPUT_REQUIRED",
            ViolationKind::TooShort => "MIN_LENGTH_EXCEEDED",
            ViolationKind::TooLong => "MAX_LENGTH_EXCEEDED",
            ViolationKind::TooSmall => "MIN_VALUE_EXCEEDED",
            ViolationKind::TooLarge => "MAX_VALUE_EXCEEDED",
            ViolationKind::Enum => "INVALID_ENUM",
            ViolationKind::Pattern | ViolationKind::Type => "INVALID_PATTERN",
        }
    }
}

impl Violation {
    /// AWS's message form: "1 validation error detected: Value at 'X' failed to satisfy constraint: ...".
    pub fn message(&self) -> String {
        format!("1 validation error detected: Value at '{}' failed to satisfy constraint: {}", self.field, self.constraint)
    }
}

#[derive(Debug)]
enum Kind {
    Structure { members: Vec<(String, String)>, required: Vec<String> },
    List { member: String },
    Map { key: String, value: String },
    String { pattern: Option<Regex>, values: Option<Vec<String>> },
    Integer,
    Float,
    Boolean,
    Timestamp,
    Blob,
    Document,
}

#[derive(Debug)]
struct Shape {
    kind: Kind,
    min: Option<f64>,
    max: Option<f64>,
}

/// A parsed model: shapes by name and each operation's input shape.
#[derive(Debug, Default)]
pub struct ServiceModel {
    shapes: HashMap<String, Shape>,
    inputs: HashMap<String, Option<String>>,
    unsupported: Vec<String>,
}

fn shape_ref(v: &Value) -> String {
    v.get("shape").and_then(Value::as_str).unwrap_or_default().to_string()
}

impl ServiceModel {
    /// Parse a botocore service model. Malformed pieces are skipped, never a panic.
    pub fn parse(source: &str) -> Result<Self, serde_json::Error> {
        let doc: Value = serde_json::from_str(source)?;
        let mut model = ServiceModel::default();
        if let Some(ops) = doc.get("operations").and_then(Value::as_object) {
            for (name, op) in ops {
                model.inputs.insert(name.clone(), op.get("input").map(shape_ref));
            }
        }
        let empty = serde_json::Map::new();
        for (name, s) in doc.get("shapes").and_then(Value::as_object).unwrap_or(&empty) {
            let kind = match s.get("type").and_then(Value::as_str).unwrap_or("") {
                "structure" if s.get("document").and_then(Value::as_bool) == Some(true) => Kind::Document,
                "structure" => Kind::Structure {
                    members: s
                        .get("members")
                        .and_then(Value::as_object)
                        .map(|m| m.iter().map(|(k, v)| (k.clone(), shape_ref(v))).collect())
                        .unwrap_or_default(),
                    required: s
                        .get("required")
                        .and_then(Value::as_array)
                        .map(|r| r.iter().filter_map(Value::as_str).map(str::to_string).collect())
                        .unwrap_or_default(),
                },
                "list" => Kind::List { member: s.get("member").map(shape_ref).unwrap_or_default() },
                "map" => Kind::Map {
                    key: s.get("key").map(shape_ref).unwrap_or_default(),
                    value: s.get("value").map(shape_ref).unwrap_or_default(),
                },
                "string" => {
                    let pattern = match s.get("pattern").and_then(Value::as_str) {
                        Some(p) => match Regex::new(p) {
                            Ok(re) => Some(re),
                            Err(_) => {
                                model.unsupported.push(format!("{name}: {p}"));
                                None
                            }
                        },
                        None => None,
                    };
                    let values =
                        s.get("enum").and_then(Value::as_array).map(|e| e.iter().filter_map(Value::as_str).map(str::to_string).collect());
                    Kind::String { pattern, values }
                }
                "integer" | "long" => Kind::Integer,
                "double" | "float" => Kind::Float,
                "boolean" => Kind::Boolean,
                "timestamp" => Kind::Timestamp,
                "blob" => Kind::Blob,
                _ => Kind::Document,
            };
            model
                .shapes
                .insert(name.clone(), Shape { kind, min: s.get("min").and_then(Value::as_f64), max: s.get("max").and_then(Value::as_f64) });
        }
        model.unsupported.sort();
        Ok(model)
    }

    /// Whether the model has this operation.
    pub fn has_operation(&self, operation: &str) -> bool {
        self.inputs.contains_key(operation)
    }

    /// Model patterns that could not be compiled and are therefore not enforced.
    pub fn unsupported_patterns(&self) -> &[String] {
        &self.unsupported
    }

    /// Check `input` against the operation's input shape. The first violation found, members
    /// visited in model order so the answer is stable.
    pub fn validate(&self, operation: &str, input: &Value) -> Result<(), Violation> {
        match self.inputs.get(operation) {
            Some(Some(shape)) => self.check(shape, input, &mut String::new()),
            _ => Ok(()),
        }
    }

    fn check(&self, shape_name: &str, v: &Value, path: &mut String) -> Result<(), Violation> {
        let Some(shape) = self.shapes.get(shape_name) else { return Ok(()) };
        let fail = |path: &str, kind, constraint: String| Err(Violation { field: path.to_string(), kind, constraint });
        match (&shape.kind, v) {
            (_, Value::Null) => Ok(()),
            (Kind::Structure { members, required }, Value::Object(map)) => {
                for name in required {
                    if map.get(name).is_none_or(Value::is_null) {
                        return fail(&join(path, name), ViolationKind::Required, "Member must not be null".into());
                    }
                }
                for (name, member_shape) in members {
                    if let Some(value) = map.get(name) {
                        let len = path.len();
                        if len > 0 {
                            path.push('.');
                        }
                        path.push_str(name);
                        let r = self.check(member_shape, value, path);
                        path.truncate(len);
                        r?;
                    }
                }
                Ok(())
            }
            (Kind::List { member }, Value::Array(items)) => {
                self.check_size(shape, items.len(), path, "size")?;
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    let r = self.check(member, item, path);
                    path.truncate(len);
                    r?;
                }
                Ok(())
            }
            (Kind::Map { key, value }, Value::Object(map)) => {
                self.check_size(shape, map.len(), path, "size")?;
                for (k, item) in map {
                    let len = path.len();
                    path.push_str(&format!("[{k}]"));
                    let r = self.check(key, &Value::String(k.clone()), path).and_then(|_| self.check(value, item, path));
                    path.truncate(len);
                    r?;
                }
                Ok(())
            }
            (Kind::String { pattern, values }, Value::String(s)) => {
                self.check_size(shape, s.chars().count(), path, "length")?;
                if let Some(values) = values
                    && !values.iter().any(|e| e == s)
                {
                    return fail(path, ViolationKind::Enum, format!("Member must satisfy enum value set: [{}]", values.join(", ")));
                }
                if let Some(re) = pattern
                    && !re.is_match(s)
                {
                    return fail(path, ViolationKind::Pattern, format!("Member must satisfy regular expression pattern: {}", re.as_str()));
                }
                Ok(())
            }
            (Kind::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => {
                let x = n.as_f64().unwrap_or(0.0);
                if let Some(min) = shape.min
                    && x < min
                {
                    return fail(path, ViolationKind::TooSmall, format!("Member must have value greater than or equal to {min}"));
                }
                if let Some(max) = shape.max
                    && x > max
                {
                    return fail(path, ViolationKind::TooLarge, format!("Member must have value less than or equal to {max}"));
                }
                Ok(())
            }
            (Kind::Float, Value::Number(_)) | (Kind::Boolean, Value::Bool(_)) | (Kind::Document, _) => Ok(()),
            (Kind::Timestamp, Value::Number(_) | Value::String(_)) | (Kind::Blob, Value::String(_)) => Ok(()),
            (kind, _) => {
                let expected = match kind {
                    Kind::Structure { .. } => "an object",
                    Kind::List { .. } => "a list",
                    Kind::Map { .. } => "a map",
                    Kind::String { .. } | Kind::Blob => "a string",
                    Kind::Integer => "an integer",
                    Kind::Float | Kind::Timestamp => "a number",
                    Kind::Boolean => "a boolean",
                    Kind::Document => "a document",
                };
                fail(path, ViolationKind::Type, format!("Member must be {expected}"))
            }
        }
    }

    fn check_size(&self, shape: &Shape, n: usize, path: &str, what: &str) -> Result<(), Violation> {
        let n = n as f64;
        if let Some(min) = shape.min
            && n < min
        {
            let constraint = format!("Member must have {what} greater than or equal to {min}");
            return Err(Violation { field: path.to_string(), kind: ViolationKind::TooShort, constraint });
        }
        if let Some(max) = shape.max
            && n > max
        {
            let constraint = format!("Member must have {what} less than or equal to {max}");
            return Err(Violation { field: path.to_string(), kind: ViolationKind::TooLong, constraint });
        }
        Ok(())
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() { name.to_string() } else { format!("{prefix}.{name}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ids() -> &'static ServiceModel {
        Service::IdentityStore.model()
    }

    #[test]
    fn every_model_loads_with_its_operations() {
        assert!(ids().has_operation("CreateUser"));
        assert!(ids().has_operation("UpdateIdentityStore"));
        assert!(Service::Organizations.model().has_operation("ListAccounts"));
        assert!(Service::SsoAdmin.model().has_operation("CreatePermissionSet"));
        assert!(Service::Sso.model().has_operation("GetRoleCredentials"));
        assert!(Service::SsoOidc.model().has_operation("CreateToken"));
        assert!(Service::Sts.model().has_operation("AssumeRoleWithSAML"));
    }

    #[test]
    fn identitystore_and_organizations_patterns_all_compile() {
        assert_eq!(ids().unsupported_patterns(), &[] as &[String]);
        assert_eq!(Service::Organizations.model().unsupported_patterns(), &[] as &[String]);
    }

    #[test]
    fn a_valid_create_user_passes() {
        let body = json!({
            "IdentityStoreId": "d-1234567890", "UserName": "alice", "DisplayName": "Alice",
            "Name": {"GivenName": "Alice", "FamilyName": "Liddell"},
            "Emails": [{"Value": "alice@example.com", "Type": "work", "Primary": true}],
            "Extensions": {"aws:identitystore:enterprise": {"department": "R&D"}}
        });
        assert_eq!(ids().validate("CreateUser", &body), Ok(()));
    }

    #[test]
    fn required_members_are_named() {
        let v = ids().validate("DescribeUser", &json!({"IdentityStoreId": "d-1234567890"})).unwrap_err();
        assert_eq!(v.field, "UserId");
        assert!(v.message().starts_with("1 validation error detected: Value at 'UserId'"));
        let v = ids()
            .validate("GetUserId", &json!({"IdentityStoreId": "d-1234567890", "AlternateIdentifier": {"ExternalId": {"Issuer": "okta"}}}))
            .unwrap_err();
        assert_eq!(v.field, "AlternateIdentifier.ExternalId.Id");
    }

    #[test]
    fn lengths_patterns_enums_and_ranges_are_enforced() {
        let long = "x".repeat(129);
        let v = ids().validate("CreateUser", &json!({"IdentityStoreId": "d-1234567890", "UserName": long})).unwrap_err();
        assert_eq!(v.field, "UserName");
        assert!(v.constraint.contains("less than or equal to 128"), "{v:?}");

        let v = ids().validate("DescribeUser", &json!({"IdentityStoreId": "nope", "UserId": "x"})).unwrap_err();
        assert_eq!(v.field, "IdentityStoreId");
        assert!(v.constraint.contains("pattern"));

        let v = ids().validate("ListUsers", &json!({"IdentityStoreId": "d-1234567890", "MaxResults": 0})).unwrap_err();
        assert_eq!(v.field, "MaxResults");

        let v = Service::Organizations.model().validate("ListChildren", &json!({"ParentId": "r-ab12", "ChildType": "BOGUS"})).unwrap_err();
        assert_eq!(v.field, "ChildType");
        assert!(v.constraint.contains("enum value set"));
    }

    #[test]
    fn nested_list_and_map_paths_are_reported() {
        let body = json!({"IdentityStoreId": "d-1234567890", "UserName": "a", "Emails": [{"Value": ""}]});
        assert_eq!(ids().validate("CreateUser", &body).unwrap_err().field, "Emails[0].Value");
        let body = json!({"IdentityStoreId": "d-1234567890", "UserName": "a", "Extensions": {"enterprise": {}}});
        assert_eq!(ids().validate("CreateUser", &body).unwrap_err().field, "Extensions[enterprise]");
    }

    #[test]
    fn wrong_types_are_violations_not_panics() {
        for body in [json!({"IdentityStoreId": 5}), json!({"IdentityStoreId": "d-1234567890", "UserName": ["a"]}), json!([])] {
            assert!(ids().validate("CreateUser", &body).is_err() || body.is_array());
        }
        let v = ids().validate("ListUsers", &json!({"IdentityStoreId": "d-1234567890", "MaxResults": 1.5})).unwrap_err();
        assert_eq!(v.constraint, "Member must be an integer");
    }

    #[test]
    fn unknown_operations_and_members_pass_through() {
        assert_eq!(ids().validate("NoSuchOperation", &json!({})), Ok(()));
        assert_eq!(ids().validate("ListIdentityStores", &json!({"Surprise": 1})), Ok(()));
    }
}
