//! The one error type every service returns. Front doors map it to their protocol's shape
//! (AWS `__type`, SCIM error schema, HTML), so the variants follow the AWS exception names.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Input failed validation; `field` names the offending member (e.g. "UserName").
    Validation { field: String, message: String },
    /// A uniqueness rule or state rule was violated (duplicate name, disabled user, ...).
    Conflict { message: String, reason: Option<String> },
    /// The named resource does not exist.
    NotFound { resource_type: ResourceType, resource_id: String },
    /// The policy evaluation denied the action.
    AccessDenied { message: String },
    /// A configured quota would be exceeded.
    QuotaExceeded { message: String },
    /// Over the API rate limit: clients retry with backoff.
    Throttled { message: String },
    /// The database or another dependency cannot be reached.
    Unavailable { message: String },
    /// A bug or unexpected state; the message is for logs, not for attackers.
    Internal { message: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceType {
    User,
    Group,
    GroupMembership,
    IdentityStore,
    Account,
    OrganizationalUnit,
    AccessKey,
    ScimToken,
    Instance,
    MfaDevice,
    /// A root or organizational unit named as a parent.
    Parent,
    /// An account or organizational unit named as a child.
    Child,
    Application,
    ApplicationProvider,
    ApplicationAssignment,
    Certificate,
    PermissionSet,
    AccountAssignment,
    /// An asynchronous sso-admin request (by request id).
    Request,
    AccessControlConfiguration,
}

impl ResourceType {
    /// The identitystore API's ResourceType enum spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::User => "USER",
            ResourceType::Group => "GROUP",
            ResourceType::GroupMembership => "GROUP_MEMBERSHIP",
            ResourceType::IdentityStore => "IDENTITY_STORE",
            ResourceType::Account => "ACCOUNT",
            ResourceType::OrganizationalUnit => "ORGANIZATIONAL_UNIT",
            ResourceType::AccessKey => "ACCESS_KEY",
            ResourceType::ScimToken => "SCIM_TOKEN",
            ResourceType::Instance => "INSTANCE",
            ResourceType::MfaDevice => "MFA_DEVICE",
            ResourceType::Parent => "PARENT",
            ResourceType::Child => "CHILD",
            ResourceType::Application => "APPLICATION",
            ResourceType::ApplicationProvider => "APPLICATION_PROVIDER",
            ResourceType::ApplicationAssignment => "APPLICATION_ASSIGNMENT",
            ResourceType::Certificate => "CERTIFICATE",
            ResourceType::PermissionSet => "PERMISSION_SET",
            ResourceType::AccountAssignment => "ACCOUNT_ASSIGNMENT",
            ResourceType::Request => "REQUEST",
            ResourceType::AccessControlConfiguration => "ACCESS_CONTROL_CONFIGURATION",
        }
    }
    fn noun(self) -> &'static str {
        match self {
            ResourceType::User => "User",
            ResourceType::Group => "Group",
            ResourceType::GroupMembership => "Group membership",
            ResourceType::IdentityStore => "Identity store",
            ResourceType::Account => "Account",
            ResourceType::OrganizationalUnit => "Organizational unit",
            ResourceType::AccessKey => "Access key",
            ResourceType::ScimToken => "SCIM access token",
            ResourceType::Instance => "Instance",
            ResourceType::MfaDevice => "MFA device",
            ResourceType::Parent => "Parent",
            ResourceType::Child => "Child",
            ResourceType::Application => "Application",
            ResourceType::ApplicationProvider => "Application provider",
            ResourceType::ApplicationAssignment => "Application assignment",
            ResourceType::Certificate => "Certificate",
            ResourceType::PermissionSet => "Permission set",
            ResourceType::AccountAssignment => "Account assignment",
            ResourceType::Request => "Request",
            ResourceType::AccessControlConfiguration => "Attributes for access control configuration",
        }
    }
}

impl Error {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation { field: field.into(), message: message.into() }
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Error::Conflict { message: message.into(), reason: None }
    }
    pub fn conflict_reason(message: impl Into<String>, reason: &str) -> Self {
        Error::Conflict { message: message.into(), reason: Some(reason.to_string()) }
    }
    pub fn not_found(resource_type: ResourceType, resource_id: impl Into<String>) -> Self {
        Error::NotFound { resource_type, resource_id: resource_id.into() }
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Error::Internal { message: message.into() }
    }

    /// The AWS-style error code, used as CloudTrail `errorCode` and as `__type`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Validation { .. } => "ValidationException",
            Error::Conflict { .. } => "ConflictException",
            Error::NotFound { .. } => "ResourceNotFoundException",
            Error::AccessDenied { .. } => "AccessDeniedException",
            Error::QuotaExceeded { .. } => "ServiceQuotaExceededException",
            Error::Throttled { .. } => "ThrottlingException",
            Error::Unavailable { .. } => "ServiceUnavailableException",
            Error::Internal { .. } => "InternalServerException",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Validation { field, message } => write!(f, "{field}: {message}"),
            Error::Conflict { message, .. } => f.write_str(message),
            Error::NotFound { resource_type, resource_id } => {
                write!(f, "{} {resource_id} not found", resource_type.noun())
            }
            Error::AccessDenied { message } => f.write_str(message),
            Error::QuotaExceeded { message } => f.write_str(message),
            Error::Throttled { message } => f.write_str(message),
            Error::Unavailable { message } => write!(f, "service unavailable: {message}"),
            Error::Internal { .. } => f.write_str("internal error"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What storage implementations report; services turn it into [`Error`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// A unique index rejected the write (a race the service's own check lost).
    Unique(String),
    /// Cannot reach the database.
    Unavailable(String),
    /// The query itself is invalid (e.g. a filter on an attribute the resource does not have):
    /// the caller's fault, reported as a validation error on `Filter`.
    Invalid(String),
    Other(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Unique(m) => write!(f, "unique constraint violated: {m}"),
            StoreError::Unavailable(m) => write!(f, "database unavailable: {m}"),
            StoreError::Invalid(m) => write!(f, "invalid query: {m}"),
            StoreError::Other(m) => write!(f, "database error: {m}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unique(m) => Error::conflict(format!("a resource with the same unique value exists ({m})")),
            StoreError::Unavailable(m) => Error::Unavailable { message: m },
            StoreError::Invalid(m) => Error::validation("Filter", m),
            StoreError::Other(m) => Error::internal(m),
        }
    }
}
