//! Parsing and validating identity-based policy documents.
//!
//! Validation is strict (unknown elements, bad action syntax, `Principal`,
//! duplicate keys are errors) because a typo that is silently ignored in an
//! authorization policy usually grants or denies more than its author meant.

use crate::condition::{self, Condition};
use crate::error::PolicyError;
use crate::json::Json;
use crate::matcher::{ActionPattern, is_valid_action};
use crate::variables::Template;

/// The two policy language versions IAM accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    /// The original language: no policy variables.
    V2008,
    /// Adds policy variables.
    V2012,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    Allow,
    Deny,
}

/// `Action` or `NotAction`.
#[derive(Debug, Clone)]
pub(crate) struct ActionList {
    pub(crate) not: bool,
    pub(crate) patterns: Vec<ActionPattern>,
}

/// `Resource` or `NotResource`.
#[derive(Debug, Clone)]
pub(crate) struct ResourceList {
    pub(crate) not: bool,
    pub(crate) patterns: Vec<Template>,
}

#[derive(Debug, Clone)]
pub(crate) struct Statement {
    pub(crate) effect: Effect,
    pub(crate) actions: ActionList,
    pub(crate) resources: ResourceList,
    pub(crate) conditions: Vec<Condition>,
}

/// A parsed, validated IAM identity-based policy document.
#[derive(Debug, Clone)]
pub struct Policy {
    version: Version,
    pub(crate) statements: Vec<Statement>,
}

impl Policy {
    /// Parse an IAM policy document (JSON). Errors name what is wrong, e.g.
    /// `Statement[1].Effect must be "Allow" or "Deny"`.
    pub fn parse(json: &str) -> Result<Policy, PolicyError> {
        let document = Json::parse(json).map_err(PolicyError::MalformedJson)?;
        let Json::Object(members) = document else {
            return Err(PolicyError::NotAnObject);
        };

        // Absent Version means the 2008 language, as in IAM.
        let mut version = Version::V2008;
        let mut statement = None;
        for (name, value) in &members {
            match name.as_str() {
                "Version" => version = parse_version(value)?,
                "Id" => {
                    expect_string(value, "Id")?;
                }
                "Statement" => statement = Some(value),
                _ => {
                    return Err(PolicyError::UnknownElement { path: "policy".into(), element: name.clone() });
                }
            }
        }
        let statement = statement.ok_or(PolicyError::MissingElement { path: "policy".into(), element: "Statement" })?;

        // A single statement may be written as an object instead of an array.
        let entries: Vec<(String, &Json)> = match statement {
            Json::Array(items) if items.is_empty() => {
                return Err(PolicyError::invalid("Statement", "must contain at least one statement"));
            }
            Json::Array(items) => items.iter().enumerate().map(|(i, item)| (format!("Statement[{i}]"), item)).collect(),
            Json::Object(_) => vec![("Statement".to_owned(), statement)],
            other => {
                return Err(PolicyError::invalid("Statement", format!("must be an object or an array of objects, found {}", other.kind())));
            }
        };

        let mut sids = std::collections::HashSet::new();
        let mut statements = Vec::with_capacity(entries.len());
        for (path, entry) in entries {
            let (parsed, sid) = parse_statement(entry, &path, version)?;
            if let Some(sid) = sid
                && !sids.insert(sid.clone())
            {
                return Err(PolicyError::DuplicateSid(sid));
            }
            statements.push(parsed);
        }
        Ok(Policy { version, statements })
    }

    /// The document's language version: `"2012-10-17"` or `"2008-10-17"`.
    pub fn version(&self) -> &'static str {
        match self.version {
            Version::V2008 => "2008-10-17",
            Version::V2012 => "2012-10-17",
        }
    }

    /// Number of statements in the document.
    pub fn statement_count(&self) -> usize {
        self.statements.len()
    }

    /// Evaluate this policy alone; shorthand for [`crate::evaluate`].
    pub fn evaluate(&self, request: &crate::Request) -> crate::Decision {
        crate::evaluate(std::slice::from_ref(self), request)
    }
}

impl std::str::FromStr for Policy {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Policy::parse(s)
    }
}

fn parse_version(value: &Json) -> Result<Version, PolicyError> {
    match value {
        Json::String(s) if s == "2012-10-17" => Ok(Version::V2012),
        Json::String(s) if s == "2008-10-17" => Ok(Version::V2008),
        Json::String(s) => Err(PolicyError::UnsupportedVersion(format!("{s:?}"))),
        other => Err(PolicyError::UnsupportedVersion(other.kind().to_owned())),
    }
}

fn expect_string<'a>(value: &'a Json, path: &str) -> Result<&'a str, PolicyError> {
    match value {
        Json::String(s) => Ok(s),
        other => Err(PolicyError::invalid(path, format!("must be a string, found {}", other.kind()))),
    }
}

/// A string or a non-empty array of strings, each with the path used in
/// error messages (`Statement[0].Action[2]`, or `Statement[0].Action` for the
/// single-string form).
fn string_list<'a>(value: &'a Json, path: &str) -> Result<Vec<(String, &'a str)>, PolicyError> {
    match value {
        Json::String(s) => Ok(vec![(path.to_owned(), s.as_str())]),
        Json::Array(items) if items.is_empty() => Err(PolicyError::invalid(path, "must list at least one entry")),
        Json::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let item_path = format!("{path}[{i}]");
                expect_string(item, &item_path).map(|s| (item_path, s))
            })
            .collect(),
        other => Err(PolicyError::invalid(path, format!("must be a string or an array of strings, found {}", other.kind()))),
    }
}

/// Returns the statement and its Sid (for the uniqueness check).
fn parse_statement(value: &Json, path: &str, version: Version) -> Result<(Statement, Option<String>), PolicyError> {
    let Json::Object(members) = value else {
        return Err(PolicyError::invalid(path, format!("must be an object, found {}", value.kind())));
    };

    let mut sid = None;
    let mut effect = None;
    let mut action = None;
    let mut not_action = None;
    let mut resource = None;
    let mut not_resource = None;
    let mut condition = None;
    for (name, value) in members {
        match name.as_str() {
            "Sid" => sid = Some(expect_string(value, &format!("{path}.Sid"))?.to_owned()),
            "Effect" => effect = Some(value),
            "Action" => action = Some(value),
            "NotAction" => not_action = Some(value),
            "Resource" => resource = Some(value),
            "NotResource" => not_resource = Some(value),
            "Condition" => condition = Some(value),
            "Principal" | "NotPrincipal" => {
                return Err(PolicyError::PrincipalNotAllowed { path: path.to_owned(), element: name.clone() });
            }
            _ => {
                return Err(PolicyError::UnknownElement { path: path.to_owned(), element: name.clone() });
            }
        }
    }

    let effect = match effect {
        None => {
            return Err(PolicyError::MissingElement { path: path.to_owned(), element: "Effect" });
        }
        // Effect values are case-sensitive in IAM.
        Some(Json::String(s)) if s == "Allow" => Effect::Allow,
        Some(Json::String(s)) if s == "Deny" => Effect::Deny,
        Some(_) => {
            return Err(PolicyError::invalid(format!("{path}.Effect"), "must be \"Allow\" or \"Deny\""));
        }
    };

    let (not, value, name) = exactly_one(path, action, not_action, "Action", "NotAction")?;
    let mut patterns = Vec::new();
    for (item_path, entry) in string_list(value, &format!("{path}.{name}"))? {
        if !is_valid_action(entry) {
            return Err(PolicyError::invalid(item_path, format!("{entry:?} must be \"*\" or of the form \"service:action\"")));
        }
        patterns.push(ActionPattern::new(entry));
    }
    let actions = ActionList { not, patterns };

    let (not, value, name) = exactly_one(path, resource, not_resource, "Resource", "NotResource")?;
    let variables = version == Version::V2012;
    let mut patterns = Vec::new();
    for (item_path, entry) in string_list(value, &format!("{path}.{name}"))? {
        if entry != "*" && !entry.starts_with("arn:") {
            return Err(PolicyError::invalid(item_path, format!("{entry:?} must be \"*\" or an ARN (\"arn:...\")")));
        }
        patterns.push(Template::parse(entry, true, variables));
    }
    let resources = ResourceList { not, patterns };

    let conditions = match condition {
        Some(block) => condition::parse_block(block, &format!("{path}.Condition"), variables)?,
        None => Vec::new(),
    };

    Ok((Statement { effect, actions, resources, conditions }, sid))
}

/// Enforce "exactly one of X / NotX". Returns (is_not, value, element name).
fn exactly_one<'a>(
    path: &str,
    positive: Option<&'a Json>,
    negative: Option<&'a Json>,
    positive_name: &'static str,
    negative_name: &'static str,
) -> Result<(bool, &'a Json, &'static str), PolicyError> {
    match (positive, negative) {
        (Some(v), None) => Ok((false, v, positive_name)),
        (None, Some(v)) => Ok((true, v, negative_name)),
        (Some(_), Some(_)) => Err(PolicyError::ConflictingElements { path: path.to_owned(), first: positive_name, second: negative_name }),
        (None, None) => Err(PolicyError::MissingElement {
            path: path.to_owned(),
            element: if positive_name == "Action" { "Action or NotAction" } else { "Resource or NotResource" },
        }),
    }
}
