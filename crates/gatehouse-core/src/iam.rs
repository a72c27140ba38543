//! What the provisioning engine needs from an AWS account's IAM, as a trait: the AWS SDK lives in
//! `gatehouse-aws` (slow to compile), and the services stay free of it.

use async_trait::async_trait;

/// Where and as whom to call one account.
#[derive(Debug, Clone)]
pub struct AccountTarget {
    pub account_id: String,
    pub partition: String,
    pub region: String,
    pub iam_endpoint: Option<String>,
    pub sts_endpoint: Option<String>,
    pub credentials: Credentials,
    /// Assume this role with `credentials` first (STS AssumeRole).
    pub assume_role_arn: Option<String>,
}

#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, secret hidden)", self.access_key_id)
    }
}

/// The role a permission set becomes in an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSpec {
    pub name: String,
    pub path: String,
    pub description: String,
    pub trust_policy: String,
    pub max_session_seconds: i32,
    pub managed_policy_arns: Vec<String>,
    /// Put as `AwsSSOInlinePolicy`; None deletes it.
    pub inline_policy: Option<String>,
    pub customer_policy_arns: Vec<String>,
    pub boundary_arn: Option<String>,
}

/// The inline policy's name on every role, as Identity Center names it.
pub const INLINE_POLICY_NAME: &str = "AwsSSOInlinePolicy";

/// An IAM or STS call that failed, with a message naming the cause (shown as FailureReason).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct IamError(pub String);

/// Temporary credentials STS issued.
#[derive(Debug, Clone)]
pub struct SessionCredentials {
    pub credentials: Credentials,
    pub expiration: chrono::DateTime<chrono::Utc>,
}

#[async_trait]
pub trait IamGateway: Send + Sync + 'static {
    /// Open a session with one account (assuming the role if the target says so).
    async fn open(&self, target: &AccountTarget) -> Result<Box<dyn AccountIam>, IamError>;

    /// STS AssumeRoleWithSAML in the target's account (an unsigned call: the signed assertion is
    /// the authority; the target's credentials are not used).
    async fn assume_role_with_saml(
        &self,
        target: &AccountTarget,
        role_arn: &str,
        provider_arn: &str,
        assertion_base64: &str,
        duration_seconds: i32,
    ) -> Result<SessionCredentials, IamError>;
}

#[async_trait]
pub trait AccountIam: Send + Sync {
    /// Create the SAML provider, or update its metadata; returns its ARN.
    async fn ensure_saml_provider(&self, name: &str, metadata_xml: &str) -> Result<String, IamError>;
    /// Delete the SAML provider if it exists.
    async fn delete_saml_provider(&self, arn: &str) -> Result<(), IamError>;
    /// Create the role or bring an existing one to exactly `spec`.
    async fn put_role(&self, spec: &RoleSpec) -> Result<(), IamError>;
    /// Detach and delete everything on the role, then the role; absent is fine.
    async fn delete_role(&self, name: &str) -> Result<(), IamError>;
}
