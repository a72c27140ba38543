//! The customer managed policy examples from the AWS SSO user guide
//! ("Customer managed policy examples", Examples 1-5), embedded as printed.
//!
//! Only PDF-extraction damage has been repaired, and each repair is listed:
//! - page breaks split several documents into two code blocks, adding or
//!   dropping closing brackets at the split; the blocks are rejoined;
//! - Example 2 prints `sso>Delete...`, `iam>Delete...` and `iam>List...`,
//!   where the PDF turned `:` into `>`; restored to `:` (the damaged text is
//!   kept as EXAMPLE_2_AS_EXTRACTED to show the parser rejects it clearly);
//! - Example 2 ends with one `}` too many; removed.
//!
//! Example 5's account- and permission-based policies are bare statements in
//! the guide; they are wrapped in a document here. Its ARNs are printed as
//! `arn:aws:sso::account/...` (two colons) whereas real SSO ARNs are
//! `arn:aws:sso:::account/...`, so the verbatim policies are tested with the
//! guide's own ARN spelling, and an adapted copy with realistic ARNs is tested
//! separately.

mod common;

use common::{ACCOUNT, INSTANCE, PERMISSION_SET, context, decide, parse};
use gatehouse_policy::{Context, Decision, Policy};

const EXAMPLE_1: &str = r#"{
  "Version": "2012-10-17",
"Statement": [
  {
    "Sid": "VisualEditor0",
    "Effect": "Allow",
    "Action": [
      "ds:DescribeDirectories",
      "ds:DescribeTrusts",
      "iam:ListPolicies",
      "organizations:DescribeOrganization",
      "organizations:DescribeAccount",
      "organizations:ListParents",
      "organizations:ListChildren",
      "organizations:ListAccounts",
      "organizations:ListRoots",
      "organizations:ListAccountsForParent",
      "organizations:ListOrganizationalUnitsForParent",
      "sso:ListManagedPoliciesInPermissionSet",
      "sso:ListPermissionSetsProvisionedToAccount",
      "sso:ListAccountAssignments",
      "sso:ListAccountsForProvisionedPermissionSet",
      "sso:ListPermissionSetsProvisionedToAccount",
      "sso:ListPermissionSets",
      "sso:DescribePermissionSet",
      "sso:GetInlinePolicyForPermissionSet",
      "sso-directory:DescribeDirectory",
      "sso-directory:SearchUsers",
      "sso-directory:SearchGroups"
    ],
    "Resource": "*"
  }
]
}"#;

const EXAMPLE_2: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "sso:AttachManagedPolicyToPermissionSet",
        "sso:CreateAccountAssignment",
        "sso:CreatePermissionSet",
        "sso:DeleteAccountAssignment",
        "sso:DeleteInlinePolicyFromPermissionSet",
        "sso:DeletePermissionSet",
        "sso:DetachManagedPolicyFromPermissionSet",
        "sso:ProvisionPermissionSet",
        "sso:PutInlinePolicyToPermissionSet",
        "sso:UpdatePermissionSet"
      ],
      "Resource": "*"
    },
    {
      "Sid": "IAMListPermissions",
      "Effect": "Allow",
      "Action": [
        "iam:ListRoles",
        "iam:ListPolicies"
      ],
        "Resource": "*"
      },
      {
        "Sid": "AccessToSSOProvisionedRoles",
        "Effect": "Allow",
        "Action": [
          "iam:AttachRolePolicy",
          "iam:CreateRole",
          "iam:DeleteRole",
          "iam:DeleteRolePolicy",
          "iam:DetachRolePolicy",
          "iam:GetRole",
          "iam:ListAttachedRolePolicies",
          "iam:ListRolePolicies",
          "iam:PutRolePolicy",
          "iam:UpdateRole",
          "iam:UpdateRoleDescription"
        ],
        "Resource": "arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*"
      },
      {
        "Effect": "Allow",
        "Action": [
          "iam:GetSAMLProvider"
        ],
        "Resource": "arn:aws:iam::*:saml-provider/AWSSSO_*_DO_NOT_DELETE"
      }
    ]
  }"#;

/// The first half of Example 2 exactly as the PDF extraction printed it.
const EXAMPLE_2_AS_EXTRACTED: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "sso:AttachManagedPolicyToPermissionSet",
        "sso:CreateAccountAssignment",
        "sso:CreatePermissionSet",
        "sso>DeleteAccountAssignment",
        "sso>DeleteInlinePolicyFromPermissionSet",
        "sso>DeletePermissionSet",
        "sso:DetachManagedPolicyFromPermissionSet",
        "sso:ProvisionPermissionSet",
        "sso:PutInlinePolicyToPermissionSet",
        "sso:UpdatePermissionSet"
      ],
      "Resource": "*"
    }
  ]
}"#;

const EXAMPLE_3: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "sso:AssociateProfile",
        "sso:CreateApplicationInstance",
        "sso:ImportApplicationInstanceServiceProviderMetadata",
        "sso:DeleteApplicationInstance",
        "sso:DeleteProfile",
        "sso:DisassociateProfile",
        "sso:GetApplicationTemplate",
        "sso:UpdateApplicationInstanceServiceProviderConfiguration",
        "sso:UpdateApplicationInstanceDisplayData",
        "sso:DeleteManagedApplicationInstance",
        "sso:UpdateApplicationInstanceStatus",
        "sso:GetManagedApplicationInstance",
        "sso:UpdateManagedApplicationInstanceStatus",
        "sso:CreateManagedApplicationInstance",
        "sso:UpdateApplicationInstanceSecurityConfiguration",
        "sso:UpdateApplicationInstanceResponseConfiguration",
        "sso:GetApplicationInstance",
        "sso:CreateApplicationInstanceCertificate",
        "sso:UpdateApplicationInstanceResponseSchemaConfiguration",
        "sso:UpdateApplicationInstanceActiveCertificate",
        "sso:DeleteApplicationInstanceCertificate",
        "sso:ListApplicationInstanceCertificates",
        "sso:ListApplicationTemplates",
        "sso:ListApplications",
        "sso:ListApplicationInstances",
        "sso:ListDirectoryAssociations",
        "sso:ListProfiles",
        "sso:ListProfileAssociations",
        "sso:ListInstances",
        "sso:GetProfile",
        "sso:GetSSOStatus",
        "sso:GetSsoConfiguration",
        "sso-directory:DescribeDirectory",
        "sso-directory:DescribeUsers",
        "sso-directory:ListMembersInGroup",
        "sso-directory:SearchGroups",
        "sso-directory:SearchUsers"
    ],
    "Resource": "*"
}
]
}"#;

const EXAMPLE_4: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "VisualEditor0",
      "Effect": "Allow",
      "Action": [
        "sso-directory:ListGroupsForUser",
        "sso-directory:DisableUser",
        "sso-directory:EnableUser",
        "sso-directory:SearchGroups",
        "sso-directory:DeleteGroup",
        "sso-directory:AddMemberToGroup",
        "sso-directory:DescribeDirectory",
        "sso-directory:UpdateUser",
        "sso-directory:ListMembersInGroup",
        "sso-directory:CreateUser",
        "sso-directory:DescribeGroups",
        "sso-directory:SearchUsers",
        "sso:ListDirectoryAssociations",
        "sso-directory:RemoveMemberFromGroup",
        "sso-directory:DeleteUser",
        "sso-directory:DescribeUsers",
        "sso-directory:UpdateGroup",
        "sso-directory:CreateGroup"
    ],
    "Resource": "*"
}
]
}"#;

/// Example 5, account-based delegation (a bare statement in the guide).
const EXAMPLE_5_ACCOUNTS: &str = r#"{
  "Sid": "DelegateAccountsAdminAccess",
  "Effect": "Allow",
  "Action": [
    "sso:ProvisionPermissionSet",
    "sso:CreateAccountAssignment",
    "sso:DeleteInlinePolicyFromPermissionSet",
    "sso:UpdateInstanceAccessControlAttributeConfiguration",
    "sso:PutInlinePolicyToPermissionSet",
    "sso:DeleteAccountAssignment",
    "sso:DetachManagedPolicyFromPermissionSet",
    "sso:DeletePermissionSet",
    "sso:AttachManagedPolicyToPermissionSet",
    "sso:CreatePermissionSet",
    "sso:UpdatePermissionSet",
    "sso:CreateInstanceAccessControlAttributeConfiguration",
    "sso:DeleteInstanceAccessControlAttributeConfiguration"
  ],
  "Resource": [
    "arn:aws:sso::account/112233445566",
    "arn:aws:sso::account/223344556677",
    "arn:aws:sso::account/334455667788"
  ]
}"#;

/// Example 5, permission-based delegation (a bare statement in the guide).
const EXAMPLE_5_PERMISSIONS: &str = r#"{
  "Sid": "DelegatePermissionsAdminAccess",
  "Effect": "Allow",
  "Action": [
    "sso:ProvisionPermissionSet",
    "sso:CreateAccountAssignment",
    "sso:DeleteInlinePolicyFromPermissionSet",
    "sso:UpdateInstanceAccessControlAttributeConfiguration",
    "sso:PutInlinePolicyToPermissionSet",
    "sso:DeleteAccountAssignment",
    "sso:DetachManagedPolicyFromPermissionSet",
    "sso:DeletePermissionSet",
    "sso:AttachManagedPolicyToPermissionSet",
    "sso:CreatePermissionSet",
    "sso:UpdatePermissionSet",
    "sso:CreateInstanceAccessControlAttributeConfiguration",
    "sso:DeleteInstanceAccessControlAttributeConfiguration",
    "sso:ProvisionApplicationInstanceForAWSAccount"
  ],
  "Resource": [
    "arn:aws:sso::instance/ssoins-1111111111",
    "arn:aws:sso::permissionSet/ssoins-1111111111/ps-112233abcdef123"
  ]
}"#;

/// Example 5, OU-based delegation (two statements, split by a page break).
const EXAMPLE_5_OU: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "DelegateOUsAdminAccess",
      "Effect": "Allow",
      "Action": [
        "sso:ProvisionPermissionSet",
        "sso:CreateAccountAssignment",
        "sso:DeleteInlinePolicyFromPermissionSet",
        "sso:UpdateInstanceAccessControlAttributeConfiguration",
        "sso:PutInlinePolicyToPermissionSet",
        "sso:DeleteAccountAssignment",
        "sso:DetachManagedPolicyFromPermissionSet",
        "sso:DeletePermissionSet",
        "sso:AttachManagedPolicyToPermissionSet",
        "sso:CreatePermissionSet",
        "sso:UpdatePermissionSet",
        "sso:CreateInstanceAccessControlAttributeConfiguration",
        "sso:DeleteInstanceAccessControlAttributeConfiguration",
        "sso:ProvisionApplicationInstanceForAWSAccount"
      ],
      "Resource": "arn:aws:sso::permissionSet/*/*",
      "Condition": {
        "StringEquals": {
          "aws:ResourceTag/Environment": "Development",
          "aws:ResourceTag/OU": "Test"
        }
      }
    },
    {
      "Sid": "Instance",
      "Effect": "Allow",
      "Action": [
        "sso:ProvisionPermissionSet",
        "sso:CreateAccountAssignment",
        "sso:DeleteInlinePolicyFromPermissionSet",
        "sso:UpdateInstanceAccessControlAttributeConfiguration",
        "sso:PutInlinePolicyToPermissionSet",
        "sso:DeleteAccountAssignment",
        "sso:DetachManagedPolicyFromPermissionSet",
        "sso:DeletePermissionSet",
        "sso:AttachManagedPolicyToPermissionSet",
        "sso:CreatePermissionSet",
        "sso:UpdatePermissionSet",
        "sso:CreateInstanceAccessControlAttributeConfiguration",
        "sso:DeleteInstanceAccessControlAttributeConfiguration",
        "sso:ProvisionApplicationInstanceForAWSAccount"
      ],
      "Resource": [
        "arn:aws:sso::instance/ssoins-82593a6ed92c8920",
        "arn:aws:sso::account/112233445566",
        "arn:aws:sso::account/223344556677",
        "arn:aws:sso::account/334455667788"
      ]
    }
  ]
}"#;

fn wrap_statement(statement: &str) -> String {
    format!(r#"{{"Version": "2012-10-17", "Statement": {statement}}}"#)
}

/// The guide's policies with realistic Gatehouse ARNs: three colons, and the
/// instance/permission set/account ids used across the test suite.
fn realistic(policy: &str) -> String {
    policy
        .replace("arn:aws:sso::", "arn:aws:sso:::")
        .replace("ssoins-1111111111/", "ssoins-1111111111111111/")
        .replace("ssoins-1111111111\"", "ssoins-1111111111111111\"")
        .replace("ssoins-82593a6ed92c8920", "ssoins-1111111111111111")
        .replace("ps-112233abcdef123", "ps-2222222222222222")
        .replace("112233445566", "123456789012")
}

/// (action, resource, context, want)
type Row<'a> = (&'a str, &'a str, &'a [(&'a str, &'a [&'a str])], Decision);

fn check(name: &str, policy: &Policy, rows: &[Row]) {
    let mut failures = Vec::new();
    for (action, resource, ctx, want) in rows {
        let got = decide(std::slice::from_ref(policy), action, resource, &context(ctx));
        if got != *want {
            failures.push(format!("{action} on {resource} with {ctx:?}: {got:?}, want {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{name}:\n{}", failures.join("\n"));
}

use Decision::{Allow, ImplicitDeny};

#[test]
fn example_1_view_only() {
    let policy = parse(EXAMPLE_1);
    let mut rows: Vec<Row> = [
        "ds:DescribeDirectories",
        "iam:ListPolicies",
        "organizations:DescribeOrganization",
        "organizations:ListAccounts",
        "sso:ListPermissionSets",
        "sso:DescribePermissionSet",
        "sso:ListAccountAssignments",
        "sso:GetInlinePolicyForPermissionSet",
        "sso-directory:SearchUsers",
        "sso-directory:DescribeDirectory",
    ]
    .into_iter()
    .map(|a| (a, PERMISSION_SET, &[][..], Allow))
    .collect();
    rows.extend(
        [
            "sso:CreatePermissionSet",
            "sso:DeletePermissionSet",
            "sso:CreateAccountAssignment",
            "sso:PutInlinePolicyToPermissionSet",
            "sso-directory:CreateUser",
            "identitystore:CreateUser",
            "organizations:EnableAWSServiceAccess",
            "iam:CreateRole",
        ]
        .into_iter()
        .map(|a| (a, PERMISSION_SET, &[][..], ImplicitDeny)),
    );
    check("Example 1", &policy, &rows);
}

#[test]
fn example_2_manage_permission_sets_and_assignments() {
    let policy = parse(EXAMPLE_2);
    let sso_role = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef";
    let saml = "arn:aws:iam::123456789012:saml-provider/AWSSSO_0123456789abcdef_DO_NOT_DELETE";
    check(
        "Example 2",
        &policy,
        &[
            ("sso:CreatePermissionSet", INSTANCE, &[], Allow),
            ("sso:CreateAccountAssignment", ACCOUNT, &[], Allow),
            ("sso:DeleteAccountAssignment", ACCOUNT, &[], Allow),
            ("sso:DeletePermissionSet", PERMISSION_SET, &[], Allow),
            ("sso:ProvisionPermissionSet", PERMISSION_SET, &[], Allow),
            ("sso:PutInlinePolicyToPermissionSet", PERMISSION_SET, &[], Allow),
            ("iam:ListRoles", "*", &[], Allow),
            ("iam:CreateRole", sso_role, &[], Allow),
            ("iam:DeleteRole", sso_role, &[], Allow),
            ("iam:ListRolePolicies", sso_role, &[], Allow),
            ("iam:CreateRole", "arn:aws:iam::123456789012:role/Admin", &[], ImplicitDeny),
            ("iam:GetSAMLProvider", saml, &[], Allow),
            ("iam:GetSAMLProvider", "arn:aws:iam::123456789012:saml-provider/Okta", &[], ImplicitDeny),
            ("iam:DeleteSAMLProvider", saml, &[], ImplicitDeny),
            ("sso:CreateInstance", "*", &[], ImplicitDeny),
            ("sso:ListPermissionSets", INSTANCE, &[], ImplicitDeny),
            ("identitystore:CreateUser", "*", &[], ImplicitDeny),
        ],
    );
}

#[test]
fn example_2_as_extracted_is_rejected_with_a_clear_message() {
    let err = Policy::parse(EXAMPLE_2_AS_EXTRACTED).unwrap_err().to_string();
    assert_eq!(err, r#"Statement[0].Action[3] "sso>DeleteAccountAssignment" must be "*" or of the form "service:action""#);
}

#[test]
fn example_3_manage_applications() {
    let policy = parse(EXAMPLE_3);
    check(
        "Example 3",
        &policy,
        &[
            ("sso:CreateApplicationInstance", "*", &[], Allow),
            ("sso:AssociateProfile", "*", &[], Allow),
            ("sso:DeleteApplicationInstanceCertificate", "*", &[], Allow),
            ("sso:ListInstances", "*", &[], Allow),
            ("sso:GetSSOStatus", "*", &[], Allow),
            ("sso-directory:SearchUsers", "*", &[], Allow),
            ("sso:CreatePermissionSet", INSTANCE, &[], ImplicitDeny),
            ("sso:CreateAccountAssignment", ACCOUNT, &[], ImplicitDeny),
            ("sso-directory:CreateUser", "*", &[], ImplicitDeny),
            ("sso:CreateApplicationInstanceX", "*", &[], ImplicitDeny),
        ],
    );
}

#[test]
fn example_4_manage_users_and_groups() {
    let policy = parse(EXAMPLE_4);
    check(
        "Example 4",
        &policy,
        &[
            ("sso-directory:CreateUser", "*", &[], Allow),
            ("sso-directory:DeleteGroup", "*", &[], Allow),
            ("sso-directory:AddMemberToGroup", "*", &[], Allow),
            ("sso-directory:DisableUser", "*", &[], Allow),
            ("SSO-Directory:createuser", "*", &[], Allow),
            ("sso:ListDirectoryAssociations", "*", &[], Allow),
            ("sso-directory:CreateAlias", "*", &[], ImplicitDeny),
            ("identitystore:CreateUser", "*", &[], ImplicitDeny),
            ("sso:CreatePermissionSet", INSTANCE, &[], ImplicitDeny),
            ("sso:CreateAccountAssignment", ACCOUNT, &[], ImplicitDeny),
        ],
    );
}

#[test]
fn example_5_account_based_delegation_verbatim() {
    let policy = parse(&wrap_statement(EXAMPLE_5_ACCOUNTS));
    let listed = "arn:aws:sso::account/223344556677";
    check(
        "Example 5 (accounts)",
        &policy,
        &[
            ("sso:CreateAccountAssignment", listed, &[], Allow),
            ("sso:DeleteAccountAssignment", "arn:aws:sso::account/334455667788", &[], Allow),
            ("sso:CreateAccountAssignment", "arn:aws:sso::account/999999999999", &[], ImplicitDeny),
            ("sso:ListAccountAssignments", listed, &[], ImplicitDeny),
            // The guide's two-colon ARN does not match a real three-colon one.
            ("sso:CreateAccountAssignment", "arn:aws:sso:::account/223344556677", &[], ImplicitDeny),
        ],
    );
}

#[test]
fn example_5_permission_based_delegation_verbatim() {
    let policy = parse(&wrap_statement(EXAMPLE_5_PERMISSIONS));
    check(
        "Example 5 (permission sets)",
        &policy,
        &[
            ("sso:CreateAccountAssignment", "arn:aws:sso::permissionSet/ssoins-1111111111/ps-112233abcdef123", &[], Allow),
            ("sso:ProvisionPermissionSet", "arn:aws:sso::instance/ssoins-1111111111", &[], Allow),
            ("sso:CreateAccountAssignment", "arn:aws:sso::permissionSet/ssoins-1111111111/ps-999", &[], ImplicitDeny),
            ("sso:CreateAccountAssignment", "arn:aws:sso::instance/ssoins-2222222222", &[], ImplicitDeny),
        ],
    );
}

#[test]
fn example_5_ou_based_delegation_verbatim() {
    let policy = parse(EXAMPLE_5_OU);
    let ps = "arn:aws:sso::permissionSet/ssoins-82593a6ed92c8920/ps-2222222222222222";
    const DEV_TEST: &[(&str, &[&str])] = &[("aws:ResourceTag/Environment", &["Development"]), ("aws:ResourceTag/OU", &["Test"])];
    const DEV_PROD: &[(&str, &[&str])] = &[("aws:ResourceTag/Environment", &["Development"]), ("aws:ResourceTag/OU", &["Prod"])];
    const DEV_ONLY: &[(&str, &[&str])] = &[("aws:ResourceTag/Environment", &["Development"])];
    check(
        "Example 5 (OU)",
        &policy,
        &[
            ("sso:CreateAccountAssignment", ps, DEV_TEST, Allow),
            ("sso:ProvisionPermissionSet", ps, DEV_TEST, Allow),
            ("sso:CreateAccountAssignment", ps, DEV_PROD, ImplicitDeny),
            ("sso:CreateAccountAssignment", ps, DEV_ONLY, ImplicitDeny),
            ("sso:CreateAccountAssignment", ps, &[], ImplicitDeny),
            ("sso:CreateAccountAssignment", "arn:aws:sso::account/112233445566", &[], Allow),
            ("sso:CreateAccountAssignment", "arn:aws:sso::instance/ssoins-82593a6ed92c8920", &[], Allow),
            ("sso:CreateAccountAssignment", "arn:aws:sso::account/999999999999", &[], ImplicitDeny),
            ("sso:CreateAccountAssignment", "arn:aws:sso::instance/ssoins-1111111111111111", &[], ImplicitDeny),
        ],
    );
}

/// Example 5 with realistic Gatehouse ARNs: an administrator may manage only
/// the listed instance, permission set and accounts.
#[test]
fn example_5_with_realistic_arns() {
    let accounts = parse(&realistic(&wrap_statement(EXAMPLE_5_ACCOUNTS)));
    let permissions = parse(&realistic(&wrap_statement(EXAMPLE_5_PERMISSIONS)));
    let ou = parse(&realistic(EXAMPLE_5_OU));
    let other_ps = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-3333333333333333";
    let other_account = "arn:aws:sso:::account/999999999999";
    let other_instance = "arn:aws:sso:::instance/ssoins-9999999999999999";

    check(
        "Example 5 (accounts, realistic)",
        &accounts,
        &[
            ("sso:CreateAccountAssignment", ACCOUNT, &[], Allow),
            ("sso:CreateAccountAssignment", "arn:aws:sso:::account/223344556677", &[], Allow),
            ("sso:CreateAccountAssignment", other_account, &[], ImplicitDeny),
            ("sso:CreateAccountAssignment", PERMISSION_SET, &[], ImplicitDeny),
        ],
    );
    check(
        "Example 5 (permission sets, realistic)",
        &permissions,
        &[
            ("sso:CreateAccountAssignment", PERMISSION_SET, &[], Allow),
            ("sso:CreateAccountAssignment", INSTANCE, &[], Allow),
            ("sso:UpdatePermissionSet", PERMISSION_SET, &[], Allow),
            ("sso:CreateAccountAssignment", other_ps, &[], ImplicitDeny),
            ("sso:CreateAccountAssignment", other_instance, &[], ImplicitDeny),
            ("sso:DescribePermissionSet", PERMISSION_SET, &[], ImplicitDeny),
        ],
    );
    const TAGGED: &[(&str, &[&str])] = &[("aws:ResourceTag/Environment", &["Development"]), ("aws:ResourceTag/OU", &["Test"])];
    const WRONG_TAGS: &[(&str, &[&str])] = &[("aws:ResourceTag/Environment", &["Production"]), ("aws:ResourceTag/OU", &["Test"])];
    check(
        "Example 5 (OU, realistic)",
        &ou,
        &[
            ("sso:CreateAccountAssignment", PERMISSION_SET, TAGGED, Allow),
            ("sso:CreateAccountAssignment", other_ps, TAGGED, Allow),
            ("sso:CreateAccountAssignment", PERMISSION_SET, WRONG_TAGS, ImplicitDeny),
            ("sso:CreateAccountAssignment", PERMISSION_SET, &[], ImplicitDeny),
            ("sso:CreateAccountAssignment", ACCOUNT, &[], Allow),
            ("sso:CreateAccountAssignment", INSTANCE, &[], Allow),
            ("sso:CreateAccountAssignment", other_account, &[], ImplicitDeny),
            ("sso:CreateAccountAssignment", other_instance, &[], ImplicitDeny),
        ],
    );

    // A CreateAccountAssignment call touches the instance, the permission set
    // and the target account; all three must be allowed.
    let all_allowed = |policies: &[Policy], ps: &str, account: &str, ctx: &Context| {
        [INSTANCE, ps, account].iter().all(|r| decide(policies, "sso:CreateAccountAssignment", r, ctx).is_allowed())
    };
    let both = [accounts.clone(), permissions.clone()];
    let empty = Context::new();
    assert!(all_allowed(&both, PERMISSION_SET, ACCOUNT, &empty));
    assert!(!all_allowed(&both, other_ps, ACCOUNT, &empty));
    assert!(!all_allowed(&both, PERMISSION_SET, other_account, &empty));
    let tagged = context(TAGGED);
    assert!(all_allowed(std::slice::from_ref(&ou), PERMISSION_SET, ACCOUNT, &tagged));
    assert!(!all_allowed(std::slice::from_ref(&ou), PERMISSION_SET, ACCOUNT, &empty));
    assert!(!all_allowed(std::slice::from_ref(&ou), PERMISSION_SET, other_account, &tagged));
}
