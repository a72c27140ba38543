//! The built-in managed policies.

mod common;

use common::{ACCOUNT, INSTANCE, PERMISSION_SET, context, decide};
use gatehouse_policy::{Context, Decision, Policy, managed};

const MASTER: &str = "AWSSSOMasterAccountAdministrator";
const MEMBER: &str = "AWSSSOMemberAccountAdministrator";
const DIRECTORY_ADMIN: &str = "AWSSSODirectoryAdministrator";
const READ_ONLY: &str = "AWSSSOReadOnly";
const DIRECTORY_READ_ONLY: &str = "AWSSSODirectoryReadOnly";

const SLR: &str = "arn:aws:iam::123456789012:role/aws-service-role/sso.amazonaws.com/AWSServiceRoleForSSO";

fn policy(name: &str) -> &'static Policy {
    managed::policy(name).unwrap_or_else(|| panic!("managed policy {name} missing"))
}

#[test]
fn names_documents_and_parsing() {
    assert_eq!(managed::names(), &["AdministratorAccess", MASTER, MEMBER, DIRECTORY_ADMIN, READ_ONLY, DIRECTORY_READ_ONLY]);
    for name in managed::names() {
        let doc = managed::document(name).unwrap();
        let parsed = Policy::parse(doc).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(parsed.version(), "2012-10-17");
        assert!(managed::policy(name).is_some(), "{name}");
        // The document is valid JSON with the same shape as stored.
        assert!(serde_json::from_str::<serde_json::Value>(doc).is_ok());
    }
    assert_eq!(managed::document("PowerUserAccess"), None);
    let admin = policy("AdministratorAccess");
    assert_eq!(decide(std::slice::from_ref(admin), "identitystore:DeleteUser", INSTANCE, &Context::new()), Decision::Allow);
    assert!(managed::policy("awsssoreadonly").is_none(), "names are case-sensitive");
    // Parsed once: the same reference every time.
    assert!(std::ptr::eq(policy(MASTER), policy(MASTER)));
}

/// (policy, action, resource, allowed?)
const TABLE: &[(&str, &str, &str, bool)] = &[
    // Master account administrator: everything Gatehouse does.
    (MASTER, "sso:CreatePermissionSet", INSTANCE, true),
    (MASTER, "sso:CreateAccountAssignment", ACCOUNT, true),
    (MASTER, "sso:CreateInstance", "*", true),
    (MASTER, "sso:DeleteInstance", INSTANCE, true),
    (MASTER, "sso:CreateApplication", "*", true),
    (MASTER, "identitystore:CreateUser", "*", true),
    (MASTER, "identitystore:DeleteGroupMembership", "*", true),
    (MASTER, "identitystore-auth:BatchDeleteSession", "*", true),
    (MASTER, "sso-directory:CreateUser", "*", true),
    (MASTER, "organizations:ListAccounts", "*", true),
    (MASTER, "organizations:DescribeOrganization", "*", true),
    (MASTER, "organizations:EnableAWSServiceAccess", "*", true),
    (MASTER, "organizations:CreateAccount", "*", false),
    (MASTER, "organizations:LeaveOrganization", "*", false),
    (MASTER, "ds:DescribeDirectories", "*", true),
    (MASTER, "ds:DeleteDirectory", "*", false),
    (MASTER, "iam:ListPolicies", "*", true),
    (MASTER, "iam:CreateRole", "*", false),
    (MASTER, "gatehouse:Anything", "*", false),
    // Member account administrator: the same SSO powers...
    (MEMBER, "sso:CreatePermissionSet", INSTANCE, true),
    (MEMBER, "sso:CreateAccountAssignment", ACCOUNT, true),
    (MEMBER, "identitystore:CreateUser", "*", true),
    (MEMBER, "sso-directory:CreateUser", "*", true),
    (MEMBER, "organizations:ListAccounts", "*", true),
    (MEMBER, "iam:ListPolicies", "*", true),
    // ...but not the management-account-only service-linked role (see below).
    (MEMBER, "iam:CreateServiceLinkedRole", SLR, false),
    (MEMBER, "iam:PassRole", SLR, false),
    (MEMBER, "organizations:CreateAccount", "*", false),
    // Directory administrator: users, groups and sessions only.
    (DIRECTORY_ADMIN, "identitystore:CreateUser", "*", true),
    (DIRECTORY_ADMIN, "identitystore:UpdateGroup", "*", true),
    (DIRECTORY_ADMIN, "identitystore:CreateGroupMembership", "*", true),
    (DIRECTORY_ADMIN, "identitystore-auth:BatchDeleteSession", "*", true),
    (DIRECTORY_ADMIN, "sso-directory:DeleteUser", "*", true),
    (DIRECTORY_ADMIN, "sso:ListDirectoryAssociations", "*", true),
    (DIRECTORY_ADMIN, "sso:CreatePermissionSet", INSTANCE, false),
    (DIRECTORY_ADMIN, "sso:CreateAccountAssignment", ACCOUNT, false),
    (DIRECTORY_ADMIN, "sso:ListPermissionSets", INSTANCE, false),
    (DIRECTORY_ADMIN, "organizations:ListAccounts", "*", false),
    // SSO read-only: settings, permission sets, assignments; no writes, no users.
    (READ_ONLY, "sso:ListPermissionSets", INSTANCE, true),
    (READ_ONLY, "sso:DescribePermissionSet", PERMISSION_SET, true),
    (READ_ONLY, "sso:GetInlinePolicyForPermissionSet", PERMISSION_SET, true),
    (READ_ONLY, "sso:ListAccountAssignments", ACCOUNT, true),
    (READ_ONLY, "sso:ListInstances", "*", true),
    (READ_ONLY, "sso-directory:DescribeDirectory", "*", true),
    (READ_ONLY, "organizations:ListAccounts", "*", true),
    (READ_ONLY, "ds:DescribeDirectories", "*", true),
    (READ_ONLY, "sso:CreatePermissionSet", INSTANCE, false),
    (READ_ONLY, "sso:DeletePermissionSet", PERMISSION_SET, false),
    (READ_ONLY, "sso:CreateAccountAssignment", ACCOUNT, false),
    (READ_ONLY, "sso:PutInlinePolicyToPermissionSet", PERMISSION_SET, false),
    (READ_ONLY, "sso:ProvisionPermissionSet", PERMISSION_SET, false),
    (READ_ONLY, "sso:TagResource", PERMISSION_SET, false),
    (READ_ONLY, "identitystore:DescribeUser", "*", false),
    (READ_ONLY, "sso-directory:SearchUsers", "*", false),
    (READ_ONLY, "organizations:EnableAWSServiceAccess", "*", false),
    // Directory read-only: users and groups only, no writes.
    (DIRECTORY_READ_ONLY, "identitystore:DescribeUser", "*", true),
    (DIRECTORY_READ_ONLY, "identitystore:ListUsers", "*", true),
    (DIRECTORY_READ_ONLY, "identitystore:ListGroups", "*", true),
    (DIRECTORY_READ_ONLY, "identitystore:GetUserId", "*", true),
    (DIRECTORY_READ_ONLY, "identitystore:IsMemberInGroups", "*", true),
    (DIRECTORY_READ_ONLY, "identitystore:ListGroupMembershipsForMember", "*", true),
    (DIRECTORY_READ_ONLY, "sso-directory:SearchUsers", "*", true),
    (DIRECTORY_READ_ONLY, "sso-directory:DescribeGroups", "*", true),
    (DIRECTORY_READ_ONLY, "identitystore-auth:ListSessions", "*", true),
    (DIRECTORY_READ_ONLY, "identitystore:CreateUser", "*", false),
    (DIRECTORY_READ_ONLY, "identitystore:DeleteUser", "*", false),
    (DIRECTORY_READ_ONLY, "identitystore:UpdateGroup", "*", false),
    (DIRECTORY_READ_ONLY, "identitystore:CreateGroupMembership", "*", false),
    (DIRECTORY_READ_ONLY, "identitystore-auth:BatchDeleteSession", "*", false),
    (DIRECTORY_READ_ONLY, "sso-directory:CreateUser", "*", false),
    (DIRECTORY_READ_ONLY, "sso:ListPermissionSets", INSTANCE, false),
    (DIRECTORY_READ_ONLY, "sso:ListAccountAssignments", ACCOUNT, false),
];

#[test]
fn managed_policy_table() {
    let ctx = Context::new();
    let mut failures = Vec::new();
    for &(name, action, resource, want) in TABLE {
        let got = decide(std::slice::from_ref(policy(name)), action, resource, &ctx);
        let want_decision = if want { Decision::Allow } else { Decision::ImplicitDeny };
        if got != want_decision {
            failures.push(format!("{name}: {action} on {resource} -> {got:?}, want {want_decision:?}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Only the master administrator may create and pass the SSO service-linked
/// role, and only for the SSO service (the guide's two extra statements).
#[test]
fn master_service_linked_role_statements() {
    let for_sso = context(&[("iam:AWSServiceName", &["sso.amazonaws.com"]), ("iam:PassedToService", &["sso.amazonaws.com"])]);
    let for_other = context(&[("iam:AWSServiceName", &["ec2.amazonaws.com"]), ("iam:PassedToService", &["ec2.amazonaws.com"])]);
    let master = std::slice::from_ref(policy(MASTER));
    let member = std::slice::from_ref(policy(MEMBER));
    let other_role = "arn:aws:iam::123456789012:role/Admin";

    assert_eq!(decide(master, "iam:CreateServiceLinkedRole", SLR, &for_sso), Decision::Allow);
    assert_eq!(decide(master, "iam:PassRole", SLR, &for_sso), Decision::Allow);
    assert_eq!(decide(master, "iam:CreateServiceLinkedRole", SLR, &for_other), Decision::ImplicitDeny);
    assert_eq!(decide(master, "iam:PassRole", SLR, &for_other), Decision::ImplicitDeny);
    assert_eq!(decide(master, "iam:PassRole", SLR, &Context::new()), Decision::ImplicitDeny);
    assert_eq!(decide(master, "iam:PassRole", other_role, &for_sso), Decision::ImplicitDeny);
    assert_eq!(decide(member, "iam:CreateServiceLinkedRole", SLR, &for_sso), Decision::ImplicitDeny);
    assert_eq!(decide(member, "iam:PassRole", SLR, &for_sso), Decision::ImplicitDeny);
}

/// A customer Deny still overrides a managed Allow.
#[test]
fn managed_allow_is_overridden_by_customer_deny() {
    let deny =
        Policy::parse(r#"{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "identitystore:Delete*", "Resource": "*"}}"#)
            .unwrap();
    let policies = [policy(MASTER).clone(), deny];
    let ctx = Context::new();
    assert_eq!(decide(&policies, "identitystore:DeleteUser", "*", &ctx), Decision::ExplicitDeny);
    assert_eq!(decide(&policies, "identitystore:CreateUser", "*", &ctx), Decision::Allow);
}
