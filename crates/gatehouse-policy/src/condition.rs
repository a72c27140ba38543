//! The `Condition` element: operators, set qualifiers and their evaluation.
//!
//! A block `{ Operator: { key: value | [values] } }` yields one [`Condition`]
//! per (operator, key) pair. All conditions of a statement must hold (AND);
//! the values listed for one key are alternatives (OR).

use crate::Context;
use crate::error::PolicyError;
use crate::json::Json;
use crate::matcher::glob_match;
use crate::variables::Template;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Bool,
    Null,
}

impl Operator {
    fn from_name(name: &str) -> Option<Operator> {
        Some(match name {
            "StringEquals" => Operator::StringEquals,
            "StringNotEquals" => Operator::StringNotEquals,
            "StringEqualsIgnoreCase" => Operator::StringEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase" => Operator::StringNotEqualsIgnoreCase,
            "StringLike" => Operator::StringLike,
            "StringNotLike" => Operator::StringNotLike,
            "ArnEquals" => Operator::ArnEquals,
            "ArnLike" => Operator::ArnLike,
            "ArnNotEquals" => Operator::ArnNotEquals,
            "ArnNotLike" => Operator::ArnNotLike,
            "Bool" => Operator::Bool,
            "Null" => Operator::Null,
            _ => return None,
        })
    }

    /// Negated operators are true when *no* listed value matches.
    fn negated(self) -> bool {
        matches!(
            self,
            Operator::StringNotEquals
                | Operator::StringNotEqualsIgnoreCase
                | Operator::StringNotLike
                | Operator::ArnNotEquals
                | Operator::ArnNotLike
        )
    }

    /// In IAM, `ArnEquals` accepts wildcards exactly like `ArnLike`.
    fn wildcards(self) -> bool {
        matches!(
            self,
            Operator::StringLike
                | Operator::StringNotLike
                | Operator::ArnEquals
                | Operator::ArnLike
                | Operator::ArnNotEquals
                | Operator::ArnNotLike
        )
    }

    fn ignore_case(self) -> bool {
        matches!(self, Operator::StringEqualsIgnoreCase | Operator::StringNotEqualsIgnoreCase | Operator::Bool)
    }
}

/// Real IAM operators that Gatehouse does not evaluate. Rejecting them with a
/// specific message beats calling them "unknown" and beats ignoring them.
const UNSUPPORTED_IAM_OPERATORS: &[&str] = &[
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetQualifier {
    /// True if at least one request value satisfies the operator.
    ForAnyValue,
    /// True if every request value satisfies the operator (vacuously true
    /// when the key is absent or empty).
    ForAllValues,
}

#[derive(Debug, Clone)]
enum Test {
    /// `Null`: each entry is `true` ("key must be absent") or `false`.
    Null(Vec<bool>),
    /// Every other operator: candidate values, possibly with variables.
    Match(Vec<Template>),
}

/// One (operator, key) pair of a `Condition` block.
#[derive(Debug, Clone)]
pub(crate) struct Condition {
    operator: Operator,
    set: Option<SetQualifier>,
    if_exists: bool,
    /// Lowercased: condition key names are case-insensitive.
    key: String,
    test: Test,
}

/// Parse a statement's `Condition` element. `path` is e.g. `Statement[0].Condition`.
pub(crate) fn parse_block(block: &Json, path: &str, variables: bool) -> Result<Vec<Condition>, PolicyError> {
    let Json::Object(operators) = block else {
        return Err(PolicyError::invalid(path, format!("must be an object, found {}", block.kind())));
    };
    let mut conditions = Vec::new();
    for (name, keys) in operators {
        let (operator, set, if_exists) = parse_operator(name, path)?;
        let op_path = format!("{path}.{name}");
        let Json::Object(keys) = keys else {
            return Err(PolicyError::invalid(op_path, format!("must be an object of condition keys, found {}", keys.kind())));
        };
        if keys.is_empty() {
            return Err(PolicyError::invalid(op_path, "must name at least one condition key"));
        }
        for (key, value) in keys {
            let key_path = format!("{op_path}[{key:?}]");
            if key.trim().is_empty() {
                return Err(PolicyError::invalid(key_path, "condition key must not be empty"));
            }
            let values = condition_values(value, &key_path)?;
            let test = match operator {
                Operator::Null | Operator::Bool => {
                    let flags = values.iter().map(|v| parse_bool(v, &key_path)).collect::<Result<Vec<bool>, _>>()?;
                    if operator == Operator::Null {
                        Test::Null(flags)
                    } else {
                        let literal = |b: bool| Template::parse(&b.to_string(), false, false);
                        Test::Match(flags.into_iter().map(literal).collect())
                    }
                }
                _ => Test::Match(values.iter().map(|v| Template::parse(v, operator.wildcards(), variables)).collect()),
            };
            conditions.push(Condition { operator, set, if_exists, key: key.to_lowercase(), test });
        }
    }
    Ok(conditions)
}

/// Split `ForAnyValue:StringLikeIfExists` into its three parts.
fn parse_operator(name: &str, path: &str) -> Result<(Operator, Option<SetQualifier>, bool), PolicyError> {
    let unknown = || PolicyError::UnknownOperator { path: path.to_owned(), operator: name.to_owned() };
    let (set, rest) = if let Some(rest) = name.strip_prefix("ForAnyValue:") {
        (Some(SetQualifier::ForAnyValue), rest)
    } else if let Some(rest) = name.strip_prefix("ForAllValues:") {
        (Some(SetQualifier::ForAllValues), rest)
    } else {
        (None, name)
    };
    let (base, if_exists) = match rest.strip_suffix("IfExists") {
        Some(base) => (base, true),
        None => (rest, false),
    };
    match Operator::from_name(base) {
        // `Null` is itself an existence test; IAM has no `NullIfExists`.
        Some(Operator::Null) if if_exists => Err(unknown()),
        Some(op) => Ok((op, set, if_exists)),
        None if UNSUPPORTED_IAM_OPERATORS.contains(&base) => {
            Err(PolicyError::UnsupportedOperator { path: path.to_owned(), operator: name.to_owned() })
        }
        None => Err(unknown()),
    }
}

/// A condition value may be a string, boolean or number, or a non-empty
/// array of those; IAM compares them all as strings.
fn condition_values(value: &Json, path: &str) -> Result<Vec<String>, PolicyError> {
    let scalar = |v: &Json| match v {
        Json::String(s) => Some(s.clone()),
        Json::Bool(b) => Some(b.to_string()),
        Json::Number(n) => Some(n.clone()),
        _ => None,
    };
    let wrong_type =
        |found: &Json| PolicyError::invalid(path, format!("must be a string, boolean, number or an array of them, found {}", found.kind()));
    match value {
        Json::Array(items) => {
            if items.is_empty() {
                return Err(PolicyError::invalid(path, "must list at least one value"));
            }
            items.iter().map(|item| scalar(item).ok_or_else(|| wrong_type(item))).collect()
        }
        other => Ok(vec![scalar(other).ok_or_else(|| wrong_type(other))?]),
    }
}

fn parse_bool(value: &str, path: &str) -> Result<bool, PolicyError> {
    if value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(PolicyError::invalid(path, format!("must be \"true\" or \"false\", found {value:?}")))
    }
}

impl Condition {
    /// Evaluate against the request context.
    ///
    /// A key that is absent (or present with no values) makes positive
    /// operators false and negated operators true, as documented for IAM
    /// ("If the policy condition requires that the key is not matched, such
    /// as StringNotLike or ArnNotLike, and the right key is not present, the
    /// condition is true"). `...IfExists` and `ForAllValues:` are true for an
    /// absent key; `ForAnyValue:` is false unless combined with `IfExists`.
    ///
    /// `None` means "cannot tell": a negated operator whose value has a policy
    /// variable that cannot be resolved. The caller fails closed on it.
    pub(crate) fn evaluate(&self, context: &Context) -> Option<bool> {
        let values = context.get(&self.key).filter(|v| !v.is_empty());
        let templates = match &self.test {
            Test::Null(expect_absent) => {
                let absent = values.is_none();
                return Some(expect_absent.contains(&absent));
            }
            Test::Match(templates) => templates,
        };
        let negated = self.operator.negated();

        if values.is_none() {
            match (self.set, self.if_exists) {
                (_, true) | (Some(SetQualifier::ForAllValues), _) => return Some(true),
                (Some(SetQualifier::ForAnyValue), false) => return Some(false),
                (None, false) if !negated => return Some(false),
                // Negated operator, key absent: true, subject to the
                // variable check below.
                (None, false) => {}
            }
        }

        // Substitute variables. A value whose variable cannot be resolved
        // never matches; for a negated operator that would silently turn the
        // test into "true", so the result is left undetermined instead (IAM:
        // an unresolvable variable may make the whole statement invalid).
        let mut patterns = Vec::with_capacity(templates.len());
        for template in templates {
            match template.resolve(context) {
                Some(tokens) => patterns.push(tokens),
                None if negated => return None,
                None => {}
            }
        }
        let Some(values) = values else {
            return Some(true); // negated, key absent, all variables resolved
        };

        let ignore_case = self.operator.ignore_case();
        let satisfies = |value: &String| {
            let text: Vec<char> = value.chars().collect();
            let matched = patterns.iter().any(|tokens| glob_match(tokens, &text, ignore_case));
            matched != negated
        };
        Some(match self.set {
            Some(SetQualifier::ForAllValues) => values.iter().all(satisfies),
            Some(SetQualifier::ForAnyValue) => values.iter().any(satisfies),
            // Plain operator on a multi-valued key: positive operators need
            // one matching value, negated ones need no value to match.
            None if negated => values.iter().all(satisfies),
            None => values.iter().any(satisfies),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(block: &str) -> Result<Vec<Condition>, PolicyError> {
        parse_block(&Json::parse(block).unwrap(), "Statement[0].Condition", true)
    }

    #[test]
    fn operator_names() {
        let ok = [
            "StringEquals",
            "StringNotEqualsIfExists",
            "ForAnyValue:StringLike",
            "ForAllValues:ArnNotLikeIfExists",
            "BoolIfExists",
            "Null",
        ];
        for name in ok {
            assert!(parse_operator(name, "p").is_ok(), "{name}");
        }
        for name in ["stringequals", "StringEqual", "NullIfExists", "ForSomeValues:StringLike", "IfExists", ""] {
            assert!(matches!(parse_operator(name, "p"), Err(PolicyError::UnknownOperator { .. })), "{name}");
        }
        assert!(matches!(parse_operator("NumericLessThanIfExists", "p"), Err(PolicyError::UnsupportedOperator { .. })));
    }

    #[test]
    fn value_types() {
        assert!(parse(r#"{"StringEquals":{"k":["a",true,3,1.5]}}"#).is_ok());
        for bad in [
            r#"{"StringEquals":{"k":null}}"#,
            r#"{"StringEquals":{"k":{"x":1}}}"#,
            r#"{"StringEquals":{"k":[["a"]]}}"#,
            r#"{"StringEquals":{"k":[]}}"#,
            r#"{"StringEquals":{}}"#,
            r#"{"StringEquals":"k"}"#,
            r#"{"StringEquals":{"":"v"}}"#,
            r#"{"Null":{"k":"maybe"}}"#,
            r#"{"Bool":{"k":"yes"}}"#,
            r#"[]"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
