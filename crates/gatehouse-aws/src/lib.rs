//! IAM and STS calls into AWS accounts through the AWS SDK for Rust, behind the services'
//! [`IamGateway`] trait. Every error message carries the SDK's whole cause chain, because it
//! becomes the FailureReason an administrator reads.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_iam::config::retry::RetryConfig;
use aws_sdk_iam::config::timeout::TimeoutConfig;
use aws_sdk_iam::config::{BehaviorVersion, Credentials as SdkCredentials, Region};
use aws_sdk_iam::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use gatehouse_core::iam::{AccountIam, AccountTarget, Credentials, INLINE_POLICY_NAME, IamError, IamGateway, RoleSpec, SessionCredentials};

/// Calls into real AWS (or any IAM/STS-compatible endpoint such as moto).
#[derive(Debug, Clone)]
pub struct SdkGateway {
    /// Per call, retries included: an unreachable endpoint fails the job instead of hanging it.
    pub operation_timeout: Duration,
    pub max_attempts: u32,
    /// IAM clients by target (with the credentials they were opened with): a job per
    /// assignment would otherwise assume the role and open connections every time.
    clients: Arc<Mutex<HashMap<String, (aws_sdk_iam::Client, Instant)>>>,
}

/// How long an opened client (and its assumed-role credentials, valid an hour) is reused.
const CLIENT_REUSE: Duration = Duration::from_secs(15 * 60);

impl Default for SdkGateway {
    fn default() -> Self {
        SdkGateway::new(Duration::from_secs(30))
    }
}

impl SdkGateway {
    pub fn new(operation_timeout: Duration) -> Self {
        SdkGateway { operation_timeout, max_attempts: 3, clients: Arc::default() }
    }
}

/// `<call> in account <id> failed: <cause>`: the service's code and message when it answered,
/// else the whole chain of what went wrong on the way (connection refused, timeout, …).
fn failed<E, R>(call: &str, account: &str, e: SdkError<E, R>) -> IamError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let cause = match &e {
        SdkError::ServiceError(se) => {
            let err = se.err();
            format!("{}: {}", err.code().unwrap_or("error"), err.message().unwrap_or("no message"))
        }
        other => DisplayErrorContext(other).to_string(),
    };
    IamError(format!("{call} in account {account} failed: {cause}"))
}

fn sdk_credentials(c: &Credentials) -> SdkCredentials {
    SdkCredentials::new(c.access_key_id.clone(), c.secret_access_key.clone(), c.session_token.clone(), None, "gatehouse")
}

impl SdkGateway {
    fn timeouts(&self) -> TimeoutConfig {
        TimeoutConfig::builder().connect_timeout(Duration::from_secs(5)).operation_timeout(self.operation_timeout).build()
    }

    /// An STS client for the target's endpoint, signing with `credentials` when given.
    fn sts(&self, target: &AccountTarget, credentials: Option<&Credentials>) -> aws_sdk_sts::Client {
        let mut conf = aws_sdk_sts::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(target.region.clone()))
            .retry_config(aws_sdk_sts::config::retry::RetryConfig::standard().with_max_attempts(self.max_attempts))
            .timeout_config(self.timeouts());
        if let Some(c) = credentials {
            conf = conf.credentials_provider(sdk_credentials(c));
        }
        if let Some(url) = &target.sts_endpoint {
            conf = conf.endpoint_url(url);
        }
        aws_sdk_sts::Client::from_conf(conf.build())
    }

    async fn assume(&self, target: &AccountTarget, role_arn: &str) -> Result<Credentials, IamError> {
        let out = self
            .sts(target, Some(&target.credentials))
            .assume_role()
            .role_arn(role_arn)
            .role_session_name("gatehouse-provisioning")
            .send()
            .await
            .map_err(|e| failed(&format!("sts:AssumeRole of {role_arn}"), &target.account_id, e))?;
        let c = out.credentials.ok_or_else(|| IamError(format!("sts:AssumeRole of {role_arn} returned no credentials")))?;
        Ok(Credentials { access_key_id: c.access_key_id, secret_access_key: c.secret_access_key, session_token: Some(c.session_token) })
    }
}

fn cache_key(target: &AccountTarget) -> String {
    format!(
        "{}|{}|{}|{}|{}|{}",
        target.account_id,
        target.region,
        target.iam_endpoint.as_deref().unwrap_or(""),
        target.sts_endpoint.as_deref().unwrap_or(""),
        target.credentials.access_key_id,
        target.assume_role_arn.as_deref().unwrap_or("")
    )
}

#[async_trait]
impl IamGateway for SdkGateway {
    async fn open(&self, target: &AccountTarget) -> Result<Box<dyn AccountIam>, IamError> {
        let key = cache_key(target);
        let cached = self.clients.lock().unwrap_or_else(|p| p.into_inner()).get(&key).cloned();
        if let Some((iam, at)) = cached
            && at.elapsed() < CLIENT_REUSE
        {
            return Ok(Box::new(SdkAccount { iam, account: target.account_id.clone() }));
        }
        let credentials = match &target.assume_role_arn {
            Some(role) => self.assume(target, role).await?,
            None => target.credentials.clone(),
        };
        let mut conf = aws_sdk_iam::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(target.region.clone()))
            .credentials_provider(sdk_credentials(&credentials))
            .retry_config(RetryConfig::standard().with_max_attempts(self.max_attempts))
            .timeout_config(self.timeouts());
        if let Some(url) = &target.iam_endpoint {
            conf = conf.endpoint_url(url);
        }
        let iam = aws_sdk_iam::Client::from_conf(conf.build());
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if clients.len() > 10_000 {
            clients.clear();
        }
        clients.insert(key, (iam.clone(), Instant::now()));
        Ok(Box::new(SdkAccount { iam, account: target.account_id.clone() }))
    }

    async fn assume_role_with_saml(
        &self,
        target: &AccountTarget,
        role_arn: &str,
        provider_arn: &str,
        assertion_base64: &str,
        duration_seconds: i32,
    ) -> Result<SessionCredentials, IamError> {
        // Unsigned: the assertion is the authority.
        let out = self
            .sts(target, None)
            .assume_role_with_saml()
            .role_arn(role_arn)
            .principal_arn(provider_arn)
            .saml_assertion(assertion_base64)
            .duration_seconds(duration_seconds)
            .send()
            .await
            .map_err(|e| failed(&format!("sts:AssumeRoleWithSAML of {role_arn}"), &target.account_id, e))?;
        let c = out.credentials.ok_or_else(|| IamError(format!("sts:AssumeRoleWithSAML of {role_arn} returned no credentials")))?;
        let expiration = chrono::DateTime::from_timestamp(c.expiration.secs(), 0).unwrap_or_else(chrono::Utc::now);
        Ok(SessionCredentials {
            credentials: Credentials {
                access_key_id: c.access_key_id,
                secret_access_key: c.secret_access_key,
                session_token: Some(c.session_token),
            },
            expiration,
        })
    }
}

struct SdkAccount {
    iam: aws_sdk_iam::Client,
    account: String,
}

fn is_no_such_entity<E: ProvideErrorMetadata>(e: &aws_sdk_iam::error::SdkError<E, aws_sdk_iam::config::http::HttpResponse>) -> bool {
    e.as_service_error().and_then(|s| s.code()) == Some("NoSuchEntity")
}

impl SdkAccount {
    fn failed<E, R>(&self, call: &str, e: SdkError<E, R>) -> IamError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        failed(call, &self.account, e)
    }

    async fn attached_policies(&self, role: &str) -> Result<Vec<String>, IamError> {
        let mut arns = Vec::new();
        let mut marker = None;
        loop {
            let out = self
                .iam
                .list_attached_role_policies()
                .role_name(role)
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| self.failed("iam:ListAttachedRolePolicies", e))?;
            arns.extend(out.attached_policies.unwrap_or_default().into_iter().filter_map(|p| p.policy_arn));
            match (out.is_truncated, out.marker) {
                (true, Some(m)) => marker = Some(m),
                _ => return Ok(arns),
            }
        }
    }

    /// Trust policy, description, session length and boundary of a role that already exists.
    async fn update_existing(&self, spec: &RoleSpec) -> Result<(), IamError> {
        let name = spec.name.as_str();
        let role = self.iam.get_role().role_name(name).send().await.map_err(|e| self.failed("iam:GetRole", e))?.role;
        self.iam
            .update_assume_role_policy()
            .role_name(name)
            .policy_document(&spec.trust_policy)
            .send()
            .await
            .map_err(|e| self.failed("iam:UpdateAssumeRolePolicy", e))?;
        self.iam
            .update_role()
            .role_name(name)
            .description(&spec.description)
            .max_session_duration(spec.max_session_seconds)
            .send()
            .await
            .map_err(|e| self.failed("iam:UpdateRole", e))?;
        match &spec.boundary_arn {
            Some(arn) => {
                self.iam
                    .put_role_permissions_boundary()
                    .role_name(name)
                    .permissions_boundary(arn)
                    .send()
                    .await
                    .map_err(|e| self.failed("iam:PutRolePermissionsBoundary", e))?;
            }
            None if role.is_some_and(|r| r.permissions_boundary.is_some()) => {
                self.iam
                    .delete_role_permissions_boundary()
                    .role_name(name)
                    .send()
                    .await
                    .map_err(|e| self.failed("iam:DeleteRolePermissionsBoundary", e))?;
            }
            None => {}
        }
        Ok(())
    }

    async fn inline_policies(&self, role: &str) -> Result<Vec<String>, IamError> {
        let out = self.iam.list_role_policies().role_name(role).send().await.map_err(|e| self.failed("iam:ListRolePolicies", e))?;
        Ok(out.policy_names)
    }
}

#[async_trait]
impl AccountIam for SdkAccount {
    async fn ensure_saml_provider(&self, name: &str, metadata_xml: &str) -> Result<String, IamError> {
        let list = self.iam.list_saml_providers().send().await.map_err(|e| self.failed("iam:ListSAMLProviders", e))?;
        let suffix = format!(":saml-provider/{name}");
        let existing = list.saml_provider_list.unwrap_or_default().into_iter().filter_map(|p| p.arn).find(|arn| arn.ends_with(&suffix));
        match existing {
            Some(arn) => {
                self.iam
                    .update_saml_provider()
                    .saml_provider_arn(&arn)
                    .saml_metadata_document(metadata_xml)
                    .send()
                    .await
                    .map_err(|e| self.failed("iam:UpdateSAMLProvider", e))?;
                Ok(arn)
            }
            None => {
                let out = self
                    .iam
                    .create_saml_provider()
                    .name(name)
                    .saml_metadata_document(metadata_xml)
                    .send()
                    .await
                    .map_err(|e| self.failed("iam:CreateSAMLProvider", e))?;
                out.saml_provider_arn.ok_or_else(|| IamError("iam:CreateSAMLProvider returned no ARN".into()))
            }
        }
    }

    async fn delete_saml_provider(&self, arn: &str) -> Result<(), IamError> {
        match self.iam.delete_saml_provider().saml_provider_arn(arn).send().await {
            Ok(_) => Ok(()),
            Err(e) if is_no_such_entity(&e) => Ok(()),
            Err(e) => Err(self.failed("iam:DeleteSAMLProvider", e)),
        }
    }

    /// A new role is created whole (one call per policy); an existing one is compared and
    /// brought to the spec.
    async fn put_role(&self, spec: &RoleSpec) -> Result<(), IamError> {
        let name = spec.name.as_str();
        let created = self
            .iam
            .create_role()
            .role_name(name)
            .path(&spec.path)
            .description(&spec.description)
            .assume_role_policy_document(&spec.trust_policy)
            .max_session_duration(spec.max_session_seconds)
            .set_permissions_boundary(spec.boundary_arn.clone())
            .send()
            .await;
        let fresh = match created {
            Ok(_) => true,
            Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("EntityAlreadyExists") => false,
            Err(e) => return Err(self.failed("iam:CreateRole", e)),
        };
        if !fresh {
            self.update_existing(spec).await?;
        }
        let attached = if fresh { Vec::new() } else { self.attached_policies(name).await? };
        let wanted: Vec<&String> = spec.managed_policy_arns.iter().chain(&spec.customer_policy_arns).collect();
        for arn in attached.iter().filter(|a| !wanted.contains(a)) {
            self.iam
                .detach_role_policy()
                .role_name(name)
                .policy_arn(arn)
                .send()
                .await
                .map_err(|e| self.failed(&format!("iam:DetachRolePolicy of {arn}"), e))?;
        }
        for arn in wanted.into_iter().filter(|a| !attached.contains(a)) {
            self.iam
                .attach_role_policy()
                .role_name(name)
                .policy_arn(arn)
                .send()
                .await
                .map_err(|e| self.failed(&format!("iam:AttachRolePolicy of {arn}"), e))?;
        }
        match &spec.inline_policy {
            Some(doc) => {
                self.iam
                    .put_role_policy()
                    .role_name(name)
                    .policy_name(INLINE_POLICY_NAME)
                    .policy_document(doc)
                    .send()
                    .await
                    .map_err(|e| self.failed("iam:PutRolePolicy", e))?;
            }
            None if !fresh && self.inline_policies(name).await?.iter().any(|p| p == INLINE_POLICY_NAME) => {
                self.iam
                    .delete_role_policy()
                    .role_name(name)
                    .policy_name(INLINE_POLICY_NAME)
                    .send()
                    .await
                    .map_err(|e| self.failed("iam:DeleteRolePolicy", e))?;
            }
            None => {}
        }
        Ok(())
    }

    async fn delete_role(&self, name: &str) -> Result<(), IamError> {
        match self.iam.get_role().role_name(name).send().await {
            Ok(_) => {}
            Err(e) if is_no_such_entity(&e) => return Ok(()),
            Err(e) => return Err(self.failed("iam:GetRole", e)),
        }
        for arn in self.attached_policies(name).await? {
            self.iam
                .detach_role_policy()
                .role_name(name)
                .policy_arn(&arn)
                .send()
                .await
                .map_err(|e| self.failed(&format!("iam:DetachRolePolicy of {arn}"), e))?;
        }
        for policy in self.inline_policies(name).await? {
            self.iam
                .delete_role_policy()
                .role_name(name)
                .policy_name(&policy)
                .send()
                .await
                .map_err(|e| self.failed("iam:DeleteRolePolicy", e))?;
        }
        match self.iam.delete_role().role_name(name).send().await {
            Ok(_) => Ok(()),
            Err(e) if is_no_such_entity(&e) => Ok(()),
            Err(e) => Err(self.failed("iam:DeleteRole", e)),
        }
    }
}
