//! Permission sets, account assignments and the asynchronous requests that provision them into
//! AWS accounts (sso-admin's shapes), with what Gatehouse adds: assignments to organizational
//! units and each account's connection to its IAM and STS endpoints.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::PrincipalType;

/// A permission set. Its policies are stored as JSON beside the searchable columns; `version`
/// counts changes to what a role carries, so "provisioned with the latest version" is a compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionSet {
    /// `ps-` and 16 hex: the last part of the ARN.
    pub permission_set_id: String,
    pub name: String,
    pub description: Option<String>,
    /// Minutes, 60–720 (PT1H–PT12H).
    pub session_minutes: u32,
    pub relay_state: Option<String>,
    pub policies: RolePolicies,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Everything a permission set puts on its role.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RolePolicies {
    #[serde(default)]
    pub managed: Vec<String>,
    #[serde(default)]
    pub inline: Option<String>,
    #[serde(default)]
    pub customer_managed: Vec<CustomerPolicyRef>,
    #[serde(default)]
    pub boundary: Option<Boundary>,
}

/// A customer managed policy by name and path: each account must hold a policy of that name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerPolicyRef {
    pub name: String,
    pub path: String,
}

impl CustomerPolicyRef {
    pub fn arn_in(&self, partition: &str, account_id: &str) -> String {
        format!("arn:{partition}:iam::{account_id}:policy{}{}", self.path, self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Boundary {
    Managed(String),
    Customer(CustomerPolicyRef),
}

/// Who an assignment grants access to. One row per (account, permission set, principal),
/// however many ways it was made: directly, and through any number of OU assignments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountAssignment {
    pub account_id: String,
    pub permission_set_id: String,
    pub principal_type: PrincipalType,
    pub principal_id: String,
    /// Made by CreateAccountAssignment.
    pub direct: bool,
    /// The OU assignments it comes from.
    pub via_ous: Vec<String>,
    pub created_at: DateTime<Utc>,
}

impl AccountAssignment {
    /// Still granted one way or another.
    pub fn in_use(&self) -> bool {
        self.direct || !self.via_ous.is_empty()
    }
}

/// An assignment to an organizational unit: every account under it, now and later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OuAssignment {
    pub ou_id: String,
    pub permission_set_id: String,
    pub principal_type: PrincipalType,
    pub principal_id: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// CreateAccountAssignment
    Create,
    /// DeleteAccountAssignment (and the clean-up after a user, group or OU assignment goes)
    Delete,
    /// ProvisionPermissionSet
    Provision,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Create => "CREATE",
            RequestKind::Delete => "DELETE",
            RequestKind::Provision => "PROVISION",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "CREATE" => Some(RequestKind::Create),
            "DELETE" => Some(RequestKind::Delete),
            "PROVISION" => Some(RequestKind::Provision),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    InProgress,
    Failed,
    Succeeded,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::InProgress => "IN_PROGRESS",
            RequestStatus::Failed => "FAILED",
            RequestStatus::Succeeded => "SUCCEEDED",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "IN_PROGRESS" => Some(RequestStatus::InProgress),
            "FAILED" => Some(RequestStatus::Failed),
            "SUCCEEDED" => Some(RequestStatus::Succeeded),
            _ => None,
        }
    }
}

/// One asynchronous request, exactly what Describe…Status reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoRequest {
    pub request_id: String,
    pub kind: RequestKind,
    pub status: RequestStatus,
    pub failure_reason: Option<String>,
    /// The account; None for ProvisionPermissionSet to ALL_PROVISIONED_ACCOUNTS.
    pub account_id: Option<String>,
    pub permission_set_id: String,
    /// Assignment requests only.
    pub principal: Option<(PrincipalType, String)>,
    /// The OU an assignment request comes from, if any.
    pub via_ou: Option<String>,
    /// Internal clean-up (not listed by the API): remove the role if nothing uses it any more.
    pub internal: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A permission set provisioned to an account: its role exists there, at `version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionedRole {
    pub account_id: String,
    pub permission_set_id: String,
    pub role_name: String,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

/// How Gatehouse reaches an account's IAM and STS: stored per account (and once for the
/// management connection), the secret sealed with the master key.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AccountConnection {
    /// IAM endpoint; None: AWS's for the partition.
    #[serde(default)]
    pub iam_endpoint: Option<String>,
    /// STS endpoint; None: AWS's regional endpoint.
    #[serde(default)]
    pub sts_endpoint: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    /// `aws`, `aws-cn`, `aws-us-gov`, …; None: `aws`.
    #[serde(default)]
    pub partition: Option<String>,
    /// Static credentials of this account (the secret sealed).
    #[serde(default)]
    pub access_key_id: Option<String>,
    #[serde(default)]
    pub sealed_secret: Option<String>,
    /// A role to assume with the management connection's credentials; when neither credentials
    /// nor a role are set, `OrganizationAccountAccessRole` in the account.
    #[serde(default)]
    pub role_arn: Option<String>,
    /// The AWS sign-in SAML endpoint (the trust policy's `SAML:aud`); None:
    /// `https://signin.aws.amazon.com/saml`.
    #[serde(default)]
    pub saml_endpoint: Option<String>,
}

pub const DEFAULT_SAML_ENDPOINT: &str = "https://signin.aws.amazon.com/saml";

impl AccountConnection {
    pub fn partition(&self) -> &str {
        self.partition.as_deref().unwrap_or("aws")
    }
    pub fn saml_endpoint(&self) -> &str {
        self.saml_endpoint.as_deref().unwrap_or(DEFAULT_SAML_ENDPOINT)
    }
}

/// A key of the instance's attributes for access control and where its value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessControlAttribute {
    pub key: String,
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// An AWS managed policy the console offers by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManagedPolicyChoice {
    pub name: &'static str,
    pub arn: &'static str,
    pub description: &'static str,
}

const fn choice(name: &'static str, arn: &'static str, description: &'static str) -> ManagedPolicyChoice {
    ManagedPolicyChoice { name, arn, description }
}

/// IAM's AWS managed policies for job functions: the guide's "Use an existing job function
/// policy" makes a permission set named after one of these, with it attached.
pub const JOB_FUNCTION_POLICIES: &[ManagedPolicyChoice] = &[
    choice("AdministratorAccess", "arn:aws:iam::aws:policy/AdministratorAccess", "Full access to AWS services and resources"),
    choice("Billing", "arn:aws:iam::aws:policy/job-function/Billing", "View and change billing and payment"),
    choice(
        "DatabaseAdministrator",
        "arn:aws:iam::aws:policy/job-function/DatabaseAdministrator",
        "Set up, configure and maintain AWS databases",
    ),
    choice("DataScientist", "arn:aws:iam::aws:policy/job-function/DataScientist", "Run analytics and machine-learning work"),
    choice("NetworkAdministrator", "arn:aws:iam::aws:policy/job-function/NetworkAdministrator", "Set up and maintain network resources"),
    choice("PowerUserAccess", "arn:aws:iam::aws:policy/PowerUserAccess", "Full access except users, groups and organizations"),
    choice("SecurityAudit", "arn:aws:iam::aws:policy/SecurityAudit", "Read security configuration metadata"),
    choice("SupportUser", "arn:aws:iam::aws:policy/job-function/SupportUser", "Contact AWS Support and view account status"),
    choice(
        "SystemAdministrator",
        "arn:aws:iam::aws:policy/job-function/SystemAdministrator",
        "Set up and maintain resources for operations",
    ),
    choice("ViewOnlyAccess", "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess", "List resources and view basic metadata"),
];

/// Service policies the custom permission set page lists beside the job functions (any other
/// AWS managed policy can be given by its ARN).
pub const COMMON_MANAGED_POLICIES: &[ManagedPolicyChoice] = &[
    choice("ReadOnlyAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess", "Read-only access to AWS services and resources"),
    choice("IAMFullAccess", "arn:aws:iam::aws:policy/IAMFullAccess", "Full access to IAM"),
    choice(
        "AWSSSOMasterAccountAdministrator",
        "arn:aws:iam::aws:policy/AWSSSOMasterAccountAdministrator",
        "Administer SSO, including the management account",
    ),
    choice(
        "AWSSSOMemberAccountAdministrator",
        "arn:aws:iam::aws:policy/AWSSSOMemberAccountAdministrator",
        "Administer SSO from a member account",
    ),
    choice("AWSSSOReadOnly", "arn:aws:iam::aws:policy/AWSSSOReadOnly", "View SSO configuration"),
    choice("AmazonS3ReadOnlyAccess", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "Read-only access to Amazon S3"),
    choice("AmazonEC2FullAccess", "arn:aws:iam::aws:policy/AmazonEC2FullAccess", "Full access to Amazon EC2"),
];
