//! Who is calling: the principal's identity (for audit) and its policies (for authorization).

use gatehouse_policy::{Context, Decision, Policy, Request, evaluate};
use serde_json::{Value, json};
use std::sync::{Arc, OnceLock};

use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub enum PrincipalKind {
    /// Someone running the `gatehouse` command on the server with access to its data directory.
    Operator { os_user: String },
    /// A caller signing with an access key (bootstrap or automation key).
    AccessKey { access_key_id: String, user_name: String },
    /// An identity provider pushing users and groups over SCIM with a bearer token.
    ScimToken { token_id: String },
    /// Gatehouse itself: first start and background jobs. Never reachable from a front door.
    System,
    /// A user signed in to the portal, acting on their own account (MFA devices, password).
    PortalUser { user_id: String, user_name: String },
    /// A browser not signed in (a service provider's AuthnRequest before sign-in). Holds no
    /// policy; its events are recorded so refused requests are audited.
    Anonymous,
}

/// A policy the principal holds: built-in (static) or its own document.
#[derive(Debug, Clone)]
pub enum HeldPolicy {
    Managed(&'static Policy),
    Inline(Arc<Policy>),
}

impl HeldPolicy {
    fn get(&self) -> &Policy {
        match self {
            HeldPolicy::Managed(p) => p,
            HeldPolicy::Inline(p) => p,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub kind: PrincipalKind,
    pub arn: String,
    pub account_id: String,
    pub policies: Vec<HeldPolicy>,
}

pub const MASTER_ADMIN_POLICY: &str = "AWSSSOMasterAccountAdministrator";

/// The root of the management account may do anything: Gatehouse itself (first start, jobs) and
/// the operator at the server's shell, who holds the data directory and master key anyway.
fn root_policy() -> &'static Policy {
    static P: OnceLock<Policy> = OnceLock::new();
    P.get_or_init(|| {
        Policy::parse(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
            .unwrap_or_else(|e| panic!("built-in root policy must parse: {e}"))
    })
}

/// What a SCIM token may do: the identity store's users, groups and memberships (including a
/// user's active status), nothing else.
fn scim_policy() -> &'static Policy {
    static P: OnceLock<Policy> = OnceLock::new();
    P.get_or_init(|| {
        Policy::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["identitystore:*","sso-directory:DisableUser","sso-directory:EnableUser"],"Resource":"*"}]}"#,
        )
            .unwrap_or_else(|e| panic!("built-in SCIM policy must parse: {e}"))
    })
}

pub fn managed_policy(name: &str) -> Result<HeldPolicy> {
    gatehouse_policy::managed::policy(name).map(HeldPolicy::Managed).ok_or_else(|| {
        Error::validation(
            "PolicyName",
            format!("unknown managed policy '{name}'; known: {}", gatehouse_policy::managed::names().join(", ")),
        )
    })
}

impl Principal {
    pub fn system(management_account: &str) -> Self {
        Principal {
            kind: PrincipalKind::System,
            arn: format!("arn:aws:iam::{management_account}:root"),
            account_id: management_account.to_string(),
            policies: vec![HeldPolicy::Managed(root_policy())],
        }
    }

    /// The local operator acts as the management account's root; its calls are still evaluated
    /// and audited like anyone else's.
    pub fn operator(management_account: &str, os_user: &str) -> Self {
        Principal {
            kind: PrincipalKind::Operator { os_user: os_user.to_string() },
            arn: format!("arn:aws:iam::{management_account}:root"),
            account_id: management_account.to_string(),
            policies: vec![HeldPolicy::Managed(root_policy())],
        }
    }

    /// An identity provider provisioning through the SCIM token `token_id`.
    pub fn scim(management_account: &str, token_id: &str) -> Self {
        Principal {
            kind: PrincipalKind::ScimToken { token_id: token_id.to_string() },
            arn: format!("arn:aws:sso:::scim-token/{token_id}"),
            account_id: management_account.to_string(),
            policies: vec![HeldPolicy::Managed(scim_policy())],
        }
    }

    /// A user signed in to the portal. They may manage their own MFA devices; whether the
    /// instance lets users do so at all is the service's check (MFA settings).
    pub fn portal_user(management_account: &str, user_id: &str, user_name: &str) -> Self {
        let document = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Action": [
                    "sso-directory:ListMfaDevicesForUser",
                    "sso-directory:StartVirtualMfaDeviceRegistration",
                    "sso-directory:CompleteVirtualMfaDeviceRegistration",
                    "sso-directory:StartWebAuthnDeviceRegistration",
                    "sso-directory:CompleteWebAuthnDeviceRegistration",
                    "sso-directory:UpdateMfaDeviceForUser",
                    "sso-directory:DeleteMfaDeviceForUser",
                    "sso-directory:UpdatePassword"
                ],
                "Resource": crate::ids::user_arn(user_id),
            }, {
                // "Sign out everywhere".
                "Effect": "Allow",
                "Action": ["identitystore-auth:ListSessions", "identitystore-auth:BatchDeleteSession"],
                "Resource": crate::ids::user_arn(user_id),
            }]
        });
        let policies = Policy::parse(&document.to_string()).map(|p| vec![HeldPolicy::Inline(Arc::new(p))]).unwrap_or_default();
        Principal {
            kind: PrincipalKind::PortalUser { user_id: user_id.to_string(), user_name: user_name.to_string() },
            arn: crate::ids::user_arn(user_id),
            account_id: management_account.to_string(),
            policies,
        }
    }

    pub fn anonymous(management_account: &str) -> Self {
        Principal { kind: PrincipalKind::Anonymous, arn: String::new(), account_id: management_account.to_string(), policies: Vec::new() }
    }

    pub fn display_name(&self) -> String {
        match &self.kind {
            PrincipalKind::PortalUser { user_name, .. } => user_name.clone(),
            PrincipalKind::Operator { os_user } => format!("operator:{os_user}"),
            PrincipalKind::AccessKey { user_name, .. } => user_name.clone(),
            PrincipalKind::ScimToken { .. } => "SCIM".to_string(),
            PrincipalKind::System => "gatehouse".to_string(),
            PrincipalKind::Anonymous => "anonymous".to_string(),
        }
    }

    /// CloudTrail's `userIdentity` element.
    pub fn user_identity(&self) -> Value {
        match &self.kind {
            PrincipalKind::Operator { os_user } => json!({
                "type": "Root",
                "principalId": self.account_id,
                "arn": self.arn,
                "accountId": self.account_id,
                "invokedBy": "gatehouse-cli",
                "userName": os_user,
            }),
            PrincipalKind::AccessKey { access_key_id, user_name } if user_name.contains('/') => json!({
                "type": "AssumedRole",
                "principalId": access_key_id,
                "arn": self.arn,
                "accountId": self.account_id,
                "accessKeyId": access_key_id,
                "sessionContext": {"sessionIssuer": {"type": "Role", "userName": user_name.split('/').next().unwrap_or_default()}},
            }),
            PrincipalKind::AccessKey { access_key_id, user_name } => json!({
                "type": "IAMUser",
                "principalId": access_key_id,
                "arn": self.arn,
                "accountId": self.account_id,
                "accessKeyId": access_key_id,
                "userName": user_name,
            }),
            PrincipalKind::ScimToken { token_id } => json!({
                "type": "Unknown",
                "principalId": format!("scim-token/{token_id}"),
                "arn": self.arn,
                "accountId": self.account_id,
                "credentialId": token_id,
                "userName": "SCIM",
            }),
            PrincipalKind::System => json!({
                "type": "AWSService",
                "invokedBy": "gatehouse.internal",
            }),
            PrincipalKind::Anonymous => json!({
                "type": "Unknown",
                "accountId": self.account_id,
            }),
            // As Identity Center records its portal users.
            PrincipalKind::PortalUser { user_id, user_name } => json!({
                "type": "Unknown",
                "principalId": user_id,
                "accountId": self.account_id,
                "userName": user_name,
            }),
        }
    }

    fn condition_context(&self) -> Context {
        let mut c = Context::new();
        c.insert("aws:PrincipalArn", self.arn.clone());
        c.insert("aws:PrincipalAccount", self.account_id.clone());
        if let PrincipalKind::AccessKey { user_name, .. } = &self.kind {
            c.insert("aws:username", user_name.clone());
        }
        c
    }

    /// Evaluate every held policy for `action` on `resource`; explicit Deny wins, default deny.
    /// `extra` adds request or resource condition keys such as `aws:ResourceTag/<key>`.
    pub fn authorize(&self, action: &str, resource: &str, extra: &[(String, String)]) -> Result<()> {
        let mut context = self.condition_context();
        for (k, v) in extra {
            context.insert(k, v.clone());
        }
        let request = Request { action, resource, context: &context };
        let mut allowed = false;
        for held in &self.policies {
            match evaluate(std::slice::from_ref(held.get()), &request) {
                Decision::ExplicitDeny => return Err(self.denied(action, resource, true)),
                Decision::Allow => allowed = true,
                Decision::ImplicitDeny => {}
            }
        }
        if allowed { Ok(()) } else { Err(self.denied(action, resource, false)) }
    }

    fn denied(&self, action: &str, resource: &str, explicit: bool) -> Error {
        let how = if explicit { " with an explicit deny" } else { "" };
        Error::AccessDenied { message: format!("User: {} is not authorized to perform: {action} on resource: {resource}{how}", self.arn) }
    }
}

/// Everything a service operation knows about the request besides its input.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub principal: Arc<Principal>,
    pub source_ip: String,
    pub user_agent: String,
    pub request_id: String,
}

impl Ctx {
    pub fn new(principal: Principal, source_ip: impl Into<String>, user_agent: impl Into<String>) -> Self {
        Ctx {
            principal: Arc::new(principal),
            source_ip: source_ip.into(),
            user_agent: user_agent.into(),
            request_id: uuid::Uuid::new_v4().to_string(),
        }
    }
}
