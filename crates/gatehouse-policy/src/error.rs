//! Parse errors. Every message names the element at fault (for example
//! `Statement[1].Effect`) because the text is shown to administrators who
//! paste policies into the console or the API.

/// Why a policy document was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The text is not JSON at all (or has a duplicate key, which JSON
    /// parsers would silently resolve by keeping one of the values).
    #[error("policy is not valid JSON: {0}")]
    MalformedJson(String),

    /// The top level is JSON but not an object.
    #[error("policy document must be a JSON object")]
    NotAnObject,

    /// `Version` is present but is not one of the two IAM versions.
    #[error("Version must be \"2012-10-17\" or \"2008-10-17\", found {0}")]
    UnsupportedVersion(String),

    /// A required element is absent, e.g. `Statement[0]` is missing `Effect`.
    #[error("{path} is missing {element}")]
    MissingElement { path: String, element: &'static str },

    /// An element has the wrong type or value; `reason` completes the sentence
    /// after the path, e.g. `Statement[1].Effect must be "Allow" or "Deny"`.
    #[error("{path} {reason}")]
    InvalidElement { path: String, reason: String },

    /// Both halves of a mutually exclusive pair were given.
    #[error("{path} has both {first} and {second}; use exactly one")]
    ConflictingElements { path: String, first: &'static str, second: &'static str },

    /// `Principal`/`NotPrincipal` only belong in resource-based policies.
    #[error("{path} has {element}, which is not allowed in an identity-based policy")]
    PrincipalNotAllowed { path: String, element: String },

    /// An element name IAM does not define (element names are case-sensitive).
    #[error("{path} has unknown element \"{element}\"")]
    UnknownElement { path: String, element: String },

    /// A condition operator that IAM does not define.
    #[error("{path} has unknown condition operator \"{operator}\"")]
    UnknownOperator { path: String, operator: String },

    /// A real IAM condition operator that Gatehouse does not evaluate; rejected
    /// rather than ignored so a policy never silently grants more than written.
    #[error("{path} uses condition operator \"{operator}\", which Gatehouse does not support")]
    UnsupportedOperator { path: String, operator: String },

    /// IAM requires statement ids to be unique within a policy.
    #[error("Sid \"{0}\" is used by more than one statement")]
    DuplicateSid(String),
}

impl PolicyError {
    pub(crate) fn invalid(path: impl Into<String>, reason: impl Into<String>) -> Self {
        PolicyError::InvalidElement { path: path.into(), reason: reason.into() }
    }
}
