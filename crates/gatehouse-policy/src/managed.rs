//! Built-in ("AWS managed") policies, scoped to Gatehouse's action namespaces.
//!
//! They follow the AWS SSO user guide's "AWS managed policies for AWS Single
//! Sign-On" section, with the guide's `sso-directory:*` grants extended to
//! the newer `identitystore:`/`identitystore-auth:` namespaces that Gatehouse
//! also serves, and the guide's lists of individual `organizations:` reads
//! written as `organizations:Describe*`/`organizations:List*`.
//!
//! Master vs member administrator: the guide gives both full `sso:*` and
//! `sso-directory:*`; only the master (management account) administrator may
//! create the `AWSServiceRoleForSSO` service-linked role and pass it to SSO,
//! which is what enabling SSO (creating the instance) in the management
//! account requires. Assigning access *to* the management account
//! additionally needs IAM role permissions (the guide's `IAMFullAccess`),
//! which none of these policies grant.

use std::sync::OnceLock;

use crate::Policy;

const MASTER_ACCOUNT_ADMINISTRATOR: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AWSSSOCreateSLR",
      "Effect": "Allow",
      "Action": "iam:CreateServiceLinkedRole",
      "Resource": "arn:aws:iam::*:role/aws-service-role/sso.amazonaws.com/AWSServiceRoleForSSO",
      "Condition": {
        "StringLike": {
          "iam:AWSServiceName": "sso.amazonaws.com"
        }
      }
    },
    {
      "Sid": "AWSSSOMasterAccountAdministrator",
      "Effect": "Allow",
      "Action": "iam:PassRole",
      "Resource": "arn:aws:iam::*:role/aws-service-role/sso.amazonaws.com/AWSServiceRoleForSSO",
      "Condition": {
        "StringLike": {
          "iam:PassedToService": "sso.amazonaws.com"
        }
      }
    },
    {
      "Sid": "AWSSSOMemberAccountAdministrator",
      "Effect": "Allow",
      "Action": [
        "ds:DescribeTrusts",
        "ds:UnauthorizeApplication",
        "ds:DescribeDirectories",
        "ds:AuthorizeApplication",
        "ds:CreateAlias",
        "iam:ListPolicies",
        "organizations:EnableAWSServiceAccess",
        "organizations:Describe*",
        "organizations:List*",
        "sso:*",
        "sso-directory:*",
        "identitystore:*",
        "identitystore-auth:*"
      ],
      "Resource": "*"
    }
  ]
}"#;

const MEMBER_ACCOUNT_ADMINISTRATOR: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AWSSSOMemberAccountAdministrator",
      "Effect": "Allow",
      "Action": [
        "ds:DescribeDirectories",
        "ds:AuthorizeApplication",
        "ds:UnauthorizeApplication",
        "ds:DescribeTrusts",
        "ds:CreateAlias",
        "iam:ListPolicies",
        "organizations:EnableAWSServiceAccess",
        "organizations:Describe*",
        "organizations:List*",
        "sso:*",
        "sso-directory:*",
        "identitystore:*",
        "identitystore-auth:*"
      ],
      "Resource": "*"
    }
  ]
}"#;

const DIRECTORY_ADMINISTRATOR: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AWSSSODirectoryAdministrator",
      "Effect": "Allow",
      "Action": [
        "sso-directory:*",
        "identitystore:*",
        "identitystore-auth:*",
        "sso:ListDirectoryAssociations"
      ],
      "Resource": "*"
    }
  ]
}"#;

/// Per the guide, this policy can see settings, permission sets and
/// assignments but not users or groups, so it has no identity-store reads.
const READ_ONLY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AWSSSOReadOnly",
      "Effect": "Allow",
      "Action": [
        "ds:DescribeDirectories",
        "ds:DescribeTrusts",
        "iam:ListPolicies",
        "organizations:Describe*",
        "organizations:List*",
        "sso:Describe*",
        "sso:Get*",
        "sso:List*",
        "sso:Search*",
        "sso-directory:DescribeDirectory"
      ],
      "Resource": "*"
    }
  ]
}"#;

/// Users and groups only: no assignments, permission sets or settings.
const DIRECTORY_READ_ONLY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AWSSSODirectoryReadOnly",
      "Effect": "Allow",
      "Action": [
        "sso-directory:Search*",
        "sso-directory:Describe*",
        "sso-directory:List*",
        "sso-directory:Get*",
        "identitystore:Describe*",
        "identitystore:List*",
        "identitystore:Get*",
        "identitystore:IsMemberInGroups",
        "identitystore-auth:ListSessions",
        "identitystore-auth:BatchGetSession"
      ],
      "Resource": "*"
    }
  ]
}"#;

/// AWS's job-function policy for full access; in Gatehouse it grants every action (a permission
/// set holding it in the management account administers Gatehouse).
const ADMINISTRATOR_ACCESS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
}"#;

const POLICIES: [(&str, &str); 6] = [
    ("AdministratorAccess", ADMINISTRATOR_ACCESS),
    ("AWSSSOMasterAccountAdministrator", MASTER_ACCOUNT_ADMINISTRATOR),
    ("AWSSSOMemberAccountAdministrator", MEMBER_ACCOUNT_ADMINISTRATOR),
    ("AWSSSODirectoryAdministrator", DIRECTORY_ADMINISTRATOR),
    ("AWSSSOReadOnly", READ_ONLY),
    ("AWSSSODirectoryReadOnly", DIRECTORY_READ_ONLY),
];

const NAMES: [&str; 6] = [POLICIES[0].0, POLICIES[1].0, POLICIES[2].0, POLICIES[3].0, POLICIES[4].0, POLICIES[5].0];

/// Built-in managed policies by name: AdministratorAccess, AWSSSOMasterAccountAdministrator,
/// AWSSSOMemberAccountAdministrator, AWSSSODirectoryAdministrator,
/// AWSSSOReadOnly, AWSSSODirectoryReadOnly. Returns the JSON document.
/// Names are case-sensitive, as IAM policy names are.
pub fn document(name: &str) -> Option<&'static str> {
    POLICIES.iter().find(|(n, _)| *n == name).map(|(_, doc)| *doc)
}

/// All built-in policy names.
pub fn names() -> &'static [&'static str] {
    &NAMES
}

/// Parsed form of [`document`], parsed once on first use.
pub fn policy(name: &str) -> Option<&'static Policy> {
    static PARSED: OnceLock<Vec<Option<Policy>>> = OnceLock::new();
    let parsed = PARSED.get_or_init(|| {
        // The documents are constants covered by tests, so parsing cannot
        // fail in practice; `ok()` keeps this path panic-free regardless.
        POLICIES.iter().map(|(_, doc)| Policy::parse(doc).ok()).collect()
    });
    let index = POLICIES.iter().position(|(n, _)| *n == name)?;
    parsed.get(index)?.as_ref()
}
