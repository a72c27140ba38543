//! Table-driven tests of request evaluation: precedence, wildcards,
//! NotAction/NotResource, every condition operator, policy variables.

mod common;

use common::{ACCOUNT, INSTANCE, PERMISSION_SET, context, decide, parse, statement};
use gatehouse_policy::{Context, Decision, Policy, Request};

use Decision::{Allow, ExplicitDeny, ImplicitDeny};

struct Case {
    name: &'static str,
    policies: Vec<String>,
    action: &'static str,
    resource: &'static str,
    context: &'static [(&'static str, &'static [&'static str])],
    want: Decision,
}

fn run(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for case in &cases {
        let policies: Vec<Policy> = case.policies.iter().map(|p| parse(p)).collect();
        let ctx = context(case.context);
        let got = decide(&policies, case.action, case.resource, &ctx);
        if got != case.want {
            failures.push(format!("{}: {} on {} -> {got:?}, want {:?}", case.name, case.action, case.resource, case.want));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

fn allow(action: &str, resource: &str) -> String {
    statement("Allow", action, resource, None)
}

fn deny(action: &str, resource: &str) -> String {
    statement("Deny", action, resource, None)
}

#[test]
fn precedence_and_default_deny() {
    let allow_all_sso = allow(r#""sso:*""#, r#""*""#);
    let deny_delete = deny(r#""sso:DeletePermissionSet""#, r#""*""#);
    let in_one_policy = r#"{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sso:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "sso:Delete*", "Resource": "*"}]}"#
        .to_string();
    let deny_unless_tagged = statement("Deny", r#""sso:*""#, r#""*""#, Some(r#"{"StringNotEquals": {"aws:ResourceTag/Team": "blue"}}"#));
    run(vec![
        Case { name: "no policies", policies: vec![], action: "sso:ListInstances", resource: "*", context: &[], want: ImplicitDeny },
        Case {
            name: "nothing matches",
            policies: vec![allow(r#""identitystore:*""#, r#""*""#)],
            action: "sso:ListInstances",
            resource: "*",
            context: &[],
            want: ImplicitDeny,
        },
        Case {
            name: "allow",
            policies: vec![allow_all_sso.clone()],
            action: "sso:DeletePermissionSet",
            resource: PERMISSION_SET,
            context: &[],
            want: Allow,
        },
        Case {
            name: "deny in second policy beats allow in first",
            policies: vec![allow_all_sso.clone(), deny_delete.clone()],
            action: "sso:DeletePermissionSet",
            resource: PERMISSION_SET,
            context: &[],
            want: ExplicitDeny,
        },
        Case {
            name: "deny in first policy beats allow in second",
            policies: vec![deny_delete.clone(), allow_all_sso.clone()],
            action: "sso:DeletePermissionSet",
            resource: PERMISSION_SET,
            context: &[],
            want: ExplicitDeny,
        },
        Case {
            name: "deny of another action leaves allow",
            policies: vec![allow_all_sso.clone(), deny_delete.clone()],
            action: "sso:CreatePermissionSet",
            resource: INSTANCE,
            context: &[],
            want: Allow,
        },
        Case {
            name: "deny within one policy",
            policies: vec![in_one_policy.clone()],
            action: "sso:DeleteAccountAssignment",
            resource: ACCOUNT,
            context: &[],
            want: ExplicitDeny,
        },
        Case {
            name: "allow within that policy",
            policies: vec![in_one_policy],
            action: "sso:CreateAccountAssignment",
            resource: ACCOUNT,
            context: &[],
            want: Allow,
        },
        Case {
            name: "deny alone is explicit deny",
            policies: vec![deny_delete.clone()],
            action: "sso:DeletePermissionSet",
            resource: "*",
            context: &[],
            want: ExplicitDeny,
        },
        Case {
            name: "deny alone does not allow others",
            policies: vec![deny_delete],
            action: "sso:ListInstances",
            resource: "*",
            context: &[],
            want: ImplicitDeny,
        },
        Case {
            name: "conditional deny applies",
            policies: vec![allow_all_sso.clone(), deny_unless_tagged.clone()],
            action: "sso:UpdatePermissionSet",
            resource: PERMISSION_SET,
            context: &[("aws:ResourceTag/Team", &["red"])],
            want: ExplicitDeny,
        },
        Case {
            name: "conditional deny does not apply",
            policies: vec![allow_all_sso.clone(), deny_unless_tagged.clone()],
            action: "sso:UpdatePermissionSet",
            resource: PERMISSION_SET,
            context: &[("aws:ResourceTag/Team", &["blue"])],
            want: Allow,
        },
        Case {
            name: "conditional deny with the tag missing applies (negated operator, absent key)",
            policies: vec![allow_all_sso, deny_unless_tagged],
            action: "sso:UpdatePermissionSet",
            resource: PERMISSION_SET,
            context: &[],
            want: ExplicitDeny,
        },
    ]);
}

#[test]
fn action_wildcards_and_case() {
    let cases: &[(&str, &str, bool)] = &[
        ("*", "sso:CreatePermissionSet", true),
        ("*", "identitystore:CreateUser", true),
        ("sso:*", "sso:CreatePermissionSet", true),
        ("sso:*", "sso-directory:CreateUser", false),
        ("sso:*", "identitystore:CreateUser", false),
        ("sso-directory:*", "sso:ListInstances", false),
        ("sso:List*", "sso:ListInstances", true),
        ("sso:List*", "sso:DescribePermissionSet", false),
        ("sso:List*", "sso:List", true),
        ("sso:List?", "sso:ListX", true),
        ("sso:List?", "sso:List", false),
        ("sso:List?", "sso:ListXY", false),
        ("sso:?istInstances", "sso:ListInstances", true),
        ("sso:*Permission*", "sso:ProvisionPermissionSet", true),
        ("identitystore:Describe*", "identitystore:DescribeUser", true),
        ("identitystore:Describe*", "identitystore:ListUsers", false),
        ("s*:List*", "sso-directory:ListGroups", true),
        ("SSO:listinstances", "sso:ListInstances", true),
        ("sso:ListInstances", "SSO:LISTINSTANCES", true),
        ("Sso:LIST*", "sso:ListInstances", true),
        ("sso:ListInstances", "sso:ListInstance", false),
        ("sso:ListInstance", "sso:ListInstances", false),
    ];
    let ctx = Context::new();
    for (pattern, action, want) in cases {
        let policy = parse(&allow(&format!("{pattern:?}"), r#""*""#));
        let got = decide(&[policy], action, "*", &ctx);
        assert_eq!(got.is_allowed(), *want, "Action {pattern:?} vs {action:?}");
    }
}

#[test]
fn resource_wildcards() {
    let cases: &[(&str, &str, bool)] = &[
        ("*", PERMISSION_SET, true),
        ("*", "*", true),
        (PERMISSION_SET, PERMISSION_SET, true),
        (PERMISSION_SET, "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-3333333333333333", false),
        ("arn:aws:sso:::permissionSet/ssoins-1111111111111111/*", PERMISSION_SET, true),
        ("arn:aws:sso:::permissionSet/ssoins-9999999999999999/*", PERMISSION_SET, false),
        ("arn:aws:sso:::permissionSet/*/*", PERMISSION_SET, true),
        ("arn:aws:sso:::permissionSet/*", PERMISSION_SET, true),
        ("arn:aws:sso:::*", ACCOUNT, true),
        ("arn:aws:sso:::account/12345678901?", ACCOUNT, true),
        ("arn:aws:sso:::account/1234567890?", ACCOUNT, false),
        ("arn:aws:sso:::account/*", INSTANCE, false),
        // Case-sensitive, unlike actions.
        ("arn:aws:sso:::permissionset/*", PERMISSION_SET, false),
        ("arn:AWS:sso:::account/123456789012", ACCOUNT, false),
        // A specific ARN does not match the literal "*" resource.
        (ACCOUNT, "*", false),
        (
            "arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*",
            "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_abc",
            true,
        ),
        ("arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*", "arn:aws:iam::123456789012:role/Admin", false),
    ];
    let ctx = Context::new();
    for (pattern, resource, want) in cases {
        let policy = parse(&allow(r#""sso:*""#, &format!("{pattern:?}")));
        let got = decide(&[policy], "sso:CreateAccountAssignment", resource, &ctx);
        assert_eq!(got.is_allowed(), *want, "Resource {pattern:?} vs {resource:?}");
    }
}

#[test]
fn resource_list_is_any_of() {
    let policy = parse(&allow(r#""sso:*""#, &format!("[{INSTANCE:?}, {ACCOUNT:?}]")));
    let ctx = Context::new();
    let policies = std::slice::from_ref(&policy);
    assert_eq!(decide(policies, "sso:X", INSTANCE, &ctx), Allow);
    assert_eq!(decide(policies, "sso:X", ACCOUNT, &ctx), Allow);
    assert_eq!(decide(policies, "sso:X", PERMISSION_SET, &ctx), ImplicitDeny);
}

#[test]
fn not_action_and_not_resource() {
    let allow_not_delete = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
        "NotAction": ["sso:Delete*", "identitystore:*"], "Resource": "*"}}"#;
    let deny_not_read = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Deny",
        "NotAction": ["sso:List*", "sso:Describe*"], "Resource": "*"}}"#;
    let allow_not_account = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
        "Action": "sso:*", "NotResource": "arn:aws:sso:::account/999999999999"}}"#
        .to_string();
    let deny_outside_instance = format!(
        r#"{{"Version": "2012-10-17", "Statement": {{"Effect": "Deny",
        "Action": "sso:*", "NotResource": ["{INSTANCE}", "arn:aws:sso:::permissionSet/ssoins-1111111111111111/*"]}}}}"#
    );
    let allow_all = allow(r#""*""#, r#""*""#);
    run(vec![
        Case {
            name: "NotAction allow: unlisted action allowed",
            policies: vec![allow_not_delete.into()],
            action: "sso:CreatePermissionSet",
            resource: "*",
            context: &[],
            want: Allow,
        },
        Case {
            name: "NotAction allow: other services allowed too",
            policies: vec![allow_not_delete.into()],
            action: "organizations:ListAccounts",
            resource: "*",
            context: &[],
            want: Allow,
        },
        Case {
            name: "NotAction allow: listed action not allowed",
            policies: vec![allow_not_delete.into()],
            action: "sso:DeletePermissionSet",
            resource: "*",
            context: &[],
            want: ImplicitDeny,
        },
        Case {
            name: "NotAction allow: listed service not allowed (case-insensitive)",
            policies: vec![allow_not_delete.into()],
            action: "IdentityStore:CreateUser",
            resource: "*",
            context: &[],
            want: ImplicitDeny,
        },
        Case {
            name: "NotAction deny: reads pass",
            policies: vec![allow_all.clone(), deny_not_read.into()],
            action: "sso:ListInstances",
            resource: "*",
            context: &[],
            want: Allow,
        },
        Case {
            name: "NotAction deny: writes denied",
            policies: vec![allow_all.clone(), deny_not_read.into()],
            action: "sso:CreatePermissionSet",
            resource: "*",
            context: &[],
            want: ExplicitDeny,
        },
        Case {
            name: "NotResource allow: other account allowed",
            policies: vec![allow_not_account.clone()],
            action: "sso:CreateAccountAssignment",
            resource: ACCOUNT,
            context: &[],
            want: Allow,
        },
        Case {
            name: "NotResource allow: excluded account not allowed",
            policies: vec![allow_not_account],
            action: "sso:CreateAccountAssignment",
            resource: "arn:aws:sso:::account/999999999999",
            context: &[],
            want: ImplicitDeny,
        },
        Case {
            name: "NotResource deny: inside instance passes",
            policies: vec![allow_all.clone(), deny_outside_instance.clone()],
            action: "sso:UpdatePermissionSet",
            resource: PERMISSION_SET,
            context: &[],
            want: Allow,
        },
        Case {
            name: "NotResource deny: other instance denied",
            policies: vec![allow_all, deny_outside_instance],
            action: "sso:UpdatePermissionSet",
            resource: "arn:aws:sso:::permissionSet/ssoins-9999999999999999/ps-2222222222222222",
            context: &[],
            want: ExplicitDeny,
        },
    ]);
}

/// Evaluate a single condition block in an Allow statement.
fn condition_allows(condition: &str, ctx: &Context) -> bool {
    let policy = parse(&statement("Allow", r#""sso:*""#, r#""*""#, Some(condition)));
    decide(&[policy], "sso:ListInstances", "*", ctx).is_allowed()
}

type Ctx = &'static [(&'static str, &'static [&'static str])];

fn run_conditions(cases: &[(&str, Ctx, bool)]) {
    let mut failures = Vec::new();
    for (condition, ctx, want) in cases {
        if condition_allows(condition, &context(ctx)) != *want {
            failures.push(format!("{condition} with {ctx:?}: want {want}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

const DEPT_ENG: Ctx = &[("aws:PrincipalTag/dept", &["eng"])];
const DEPT_OPS: Ctx = &[("aws:PrincipalTag/dept", &["ops"])];
const DEPT_ENG_UPPER: Ctx = &[("aws:PrincipalTag/dept", &["ENG"])];
const EMPTY: Ctx = &[];
const INSTANCE_CTX: Ctx = &[("sso:InstanceArn", &["arn:aws:sso:::instance/ssoins-1111111111111111"])];

#[test]
fn string_operators() {
    run_conditions(&[
        (r#"{"StringEquals": {"aws:PrincipalTag/dept": "eng"}}"#, DEPT_ENG, true),
        (r#"{"StringEquals": {"aws:PrincipalTag/dept": "eng"}}"#, DEPT_OPS, false),
        (r#"{"StringEquals": {"aws:PrincipalTag/dept": "eng"}}"#, DEPT_ENG_UPPER, false),
        (r#"{"StringEquals": {"aws:PrincipalTag/dept": "eng"}}"#, EMPTY, false),
        (r#"{"StringEquals": {"aws:PrincipalTag/dept": ["ops", "eng"]}}"#, DEPT_ENG, true),
        (r#"{"StringEquals": {"AWS:PRINCIPALTAG/DEPT": "eng"}}"#, DEPT_ENG, true),
        (r#"{"StringEquals": {"aws:PrincipalTag/dept": "e*"}}"#, DEPT_ENG, false),
        (r#"{"StringEquals": {"k": "e*"}}"#, &[("k", &["e*"])], true),
        (r#"{"StringEquals": {"k": 5}}"#, &[("k", &["5"])], true),
        (r#"{"StringEquals": {"k": true}}"#, &[("k", &["true"])], true),
        (r#"{"StringNotEquals": {"aws:PrincipalTag/dept": "ops"}}"#, DEPT_ENG, true),
        (r#"{"StringNotEquals": {"aws:PrincipalTag/dept": "ops"}}"#, DEPT_OPS, false),
        (r#"{"StringNotEquals": {"aws:PrincipalTag/dept": ["ops", "eng"]}}"#, DEPT_ENG, false),
        (r#"{"StringNotEquals": {"aws:PrincipalTag/dept": "ENG"}}"#, DEPT_ENG, true),
        (r#"{"StringNotEquals": {"aws:PrincipalTag/dept": "ops"}}"#, EMPTY, true),
        (r#"{"StringEqualsIgnoreCase": {"aws:PrincipalTag/dept": "ENG"}}"#, DEPT_ENG, true),
        (r#"{"StringEqualsIgnoreCase": {"aws:PrincipalTag/dept": "eng"}}"#, DEPT_ENG_UPPER, true),
        (r#"{"StringEqualsIgnoreCase": {"aws:PrincipalTag/dept": "eng"}}"#, DEPT_OPS, false),
        (r#"{"StringEqualsIgnoreCase": {"aws:PrincipalTag/dept": "e*"}}"#, DEPT_ENG, false),
        (r#"{"StringEqualsIgnoreCase": {"aws:PrincipalTag/dept": "eng"}}"#, EMPTY, false),
        (r#"{"StringNotEqualsIgnoreCase": {"aws:PrincipalTag/dept": "ENG"}}"#, DEPT_ENG, false),
        (r#"{"StringNotEqualsIgnoreCase": {"aws:PrincipalTag/dept": "ENG"}}"#, DEPT_OPS, true),
        (r#"{"StringNotEqualsIgnoreCase": {"aws:PrincipalTag/dept": "ENG"}}"#, EMPTY, true),
        (r#"{"StringLike": {"aws:PrincipalTag/dept": "e?g*"}}"#, &[("aws:PrincipalTag/dept", &["engineering"])], true),
        (r#"{"StringLike": {"aws:PrincipalTag/dept": "e?g*"}}"#, DEPT_OPS, false),
        (r#"{"StringLike": {"aws:PrincipalTag/dept": "E*"}}"#, DEPT_ENG, false),
        (r#"{"StringLike": {"aws:PrincipalTag/dept": ["x*", "*g"]}}"#, DEPT_ENG, true),
        (r#"{"StringLike": {"aws:PrincipalTag/dept": "*"}}"#, EMPTY, false),
        (r#"{"StringNotLike": {"aws:PrincipalTag/dept": "e*"}}"#, DEPT_OPS, true),
        (r#"{"StringNotLike": {"aws:PrincipalTag/dept": "e*"}}"#, DEPT_ENG, false),
        (r#"{"StringNotLike": {"aws:PrincipalTag/dept": ["o*", "e*"]}}"#, DEPT_ENG, false),
        (r#"{"StringNotLike": {"aws:PrincipalTag/dept": "e*"}}"#, EMPTY, true),
    ]);
}

#[test]
fn arn_bool_and_null_operators() {
    run_conditions(&[
        (r#"{"ArnEquals": {"sso:InstanceArn": "arn:aws:sso:::instance/ssoins-1111111111111111"}}"#, INSTANCE_CTX, true),
        (r#"{"ArnEquals": {"sso:InstanceArn": "arn:aws:sso:::instance/ssoins-2222222222222222"}}"#, INSTANCE_CTX, false),
        (r#"{"ArnEquals": {"sso:InstanceArn": "arn:aws:sso:::instance/*"}}"#, INSTANCE_CTX, true),
        (r#"{"ArnEquals": {"sso:InstanceArn": "arn:aws:sso:::instance/ssoins-1111111111111111"}}"#, EMPTY, false),
        (r#"{"ArnLike": {"sso:InstanceArn": "arn:aws:sso:::instance/ssoins-*"}}"#, INSTANCE_CTX, true),
        (r#"{"ArnLike": {"sso:InstanceArn": "arn:aws:sso:::instance/ssoins-????????????????"}}"#, INSTANCE_CTX, true),
        (r#"{"ArnLike": {"sso:InstanceArn": "arn:aws:sso:::Instance/*"}}"#, INSTANCE_CTX, false),
        (r#"{"ArnLike": {"sso:InstanceArn": "arn:aws:sso:::*"}}"#, EMPTY, false),
        (r#"{"ArnNotEquals": {"sso:InstanceArn": "arn:aws:sso:::instance/ssoins-2222222222222222"}}"#, INSTANCE_CTX, true),
        (r#"{"ArnNotEquals": {"sso:InstanceArn": "arn:aws:sso:::instance/ssoins-1111111111111111"}}"#, INSTANCE_CTX, false),
        (r#"{"ArnNotEquals": {"sso:InstanceArn": "arn:aws:sso:::instance/x"}}"#, EMPTY, true),
        (r#"{"ArnNotLike": {"sso:InstanceArn": "arn:aws:sso:::instance/ssoins-2*"}}"#, INSTANCE_CTX, true),
        (r#"{"ArnNotLike": {"sso:InstanceArn": "arn:aws:sso:::instance/ssoins-1*"}}"#, INSTANCE_CTX, false),
        (r#"{"ArnNotLike": {"sso:InstanceArn": "arn:*"}}"#, EMPTY, true),
        (r#"{"Bool": {"aws:MultiFactorAuthPresent": "true"}}"#, &[("aws:MultiFactorAuthPresent", &["true"])], true),
        (r#"{"Bool": {"aws:MultiFactorAuthPresent": "true"}}"#, &[("aws:MultiFactorAuthPresent", &["TRUE"])], true),
        (r#"{"Bool": {"aws:MultiFactorAuthPresent": true}}"#, &[("aws:MultiFactorAuthPresent", &["true"])], true),
        (r#"{"Bool": {"aws:MultiFactorAuthPresent": "true"}}"#, &[("aws:MultiFactorAuthPresent", &["false"])], false),
        (r#"{"Bool": {"aws:MultiFactorAuthPresent": "false"}}"#, &[("aws:MultiFactorAuthPresent", &["false"])], true),
        (r#"{"Bool": {"aws:MultiFactorAuthPresent": "true"}}"#, EMPTY, false),
        (r#"{"Bool": {"aws:MultiFactorAuthPresent": "false"}}"#, EMPTY, false),
        (r#"{"Null": {"aws:PrincipalTag/dept": "true"}}"#, EMPTY, true),
        (r#"{"Null": {"aws:PrincipalTag/dept": "true"}}"#, DEPT_ENG, false),
        (r#"{"Null": {"aws:PrincipalTag/dept": "false"}}"#, DEPT_ENG, true),
        (r#"{"Null": {"aws:PrincipalTag/dept": "false"}}"#, EMPTY, false),
        (r#"{"Null": {"aws:PrincipalTag/dept": true}}"#, EMPTY, true),
        (r#"{"Null": {"aws:PrincipalTag/dept": "true"}}"#, &[("aws:PrincipalTag/dept", &[])], true),
        (r#"{"Null": {"AWS:PrincipalTag/DEPT": "false"}}"#, DEPT_ENG, true),
    ]);
}

/// For every operator: a value that satisfies it and one that does not.
/// Checks plain, `IfExists`, `ForAnyValue:` and `ForAllValues:` forms,
/// including absent keys.
#[test]
fn every_operator_with_if_exists_and_set_qualifiers() {
    // (operator, condition value, satisfying context value, failing context value)
    let table: &[(&str, &str, &str, &str)] = &[
        ("StringEquals", "eng", "eng", "ops"),
        ("StringNotEquals", "eng", "ops", "eng"),
        ("StringEqualsIgnoreCase", "ENG", "eng", "ops"),
        ("StringNotEqualsIgnoreCase", "ENG", "ops", "eng"),
        ("StringLike", "e*", "eng", "ops"),
        ("StringNotLike", "e*", "ops", "eng"),
        ("ArnEquals", "arn:aws:sso:::account/1*", "arn:aws:sso:::account/123", "arn:aws:sso:::account/9"),
        ("ArnLike", "arn:aws:sso:::account/1*", "arn:aws:sso:::account/123", "arn:aws:sso:::account/9"),
        ("ArnNotEquals", "arn:aws:sso:::account/1*", "arn:aws:sso:::account/9", "arn:aws:sso:::account/123"),
        ("ArnNotLike", "arn:aws:sso:::account/1*", "arn:aws:sso:::account/9", "arn:aws:sso:::account/123"),
        ("Bool", "true", "true", "false"),
    ];
    let mut failures = Vec::new();
    let mut check = |operator: String, value: &str, ctx: Context, want: bool| {
        let condition = format!(r#"{{"{operator}": {{"test:key": "{value}"}}}}"#);
        if condition_allows(&condition, &ctx) != want {
            failures.push(format!("{condition} with {:?}: want {want}", ctx.get("test:key")));
        }
    };
    for &(op, value, good, bad) in table {
        let negated = op.contains("Not");
        let one = |v: &str| Context::new().with("test:key", v);
        let absent = Context::new;
        let many = |vs: &[&str]| {
            let mut c = Context::new();
            c.insert_multi("test:key", vs.iter().map(|v| v.to_string()).collect());
            c
        };

        // Plain operator.
        check(op.into(), value, one(good), true);
        check(op.into(), value, one(bad), false);
        // Absent key: false, except negated operators (IAM: true).
        check(op.into(), value, absent(), negated);
        // Multi-valued key without a set qualifier: positive operators need
        // any value to match, negated ones need no value to match.
        check(op.into(), value, many(&[bad, good]), !negated);
        check(op.into(), value, many(&[good, good]), true);

        // IfExists: absent key is true; present key behaves as the base operator.
        let if_exists = format!("{op}IfExists");
        check(if_exists.clone(), value, absent(), true);
        check(if_exists.clone(), value, one(good), true);
        check(if_exists.clone(), value, one(bad), false);

        // ForAnyValue: some value satisfies; absent/empty key is false.
        let any = format!("ForAnyValue:{op}");
        check(any.clone(), value, many(&[bad, good]), true);
        check(any.clone(), value, many(&[bad, bad]), false);
        check(any.clone(), value, absent(), false);
        check(any.clone(), value, many(&[]), false);
        check(format!("ForAnyValue:{op}IfExists"), value, absent(), true);

        // ForAllValues: every value satisfies; absent/empty key is true.
        let all = format!("ForAllValues:{op}");
        check(all.clone(), value, many(&[good, good]), true);
        check(all.clone(), value, many(&[bad, good]), false);
        check(all.clone(), value, absent(), true);
        check(all.clone(), value, many(&[]), true);
        check(format!("ForAllValues:{op}IfExists"), value, many(&[good]), true);
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn set_operators_on_tag_keys() {
    const TEAM: Ctx = &[("aws:TagKeys", &["Team"])];
    const TEAM_ENV: Ctx = &[("aws:TagKeys", &["Team", "Env"])];
    const TEAM_OWNER: Ctx = &[("aws:TagKeys", &["Team", "Owner"])];
    const OWNER_ENV: Ctx = &[("aws:TagKeys", &["Owner", "Env"])];
    const NONE: Ctx = &[("aws:TagKeys", &[])];
    run_conditions(&[
        (r#"{"ForAllValues:StringEquals": {"aws:TagKeys": ["Team", "Env"]}}"#, TEAM, true),
        (r#"{"ForAllValues:StringEquals": {"aws:TagKeys": ["Team", "Env"]}}"#, TEAM_ENV, true),
        (r#"{"ForAllValues:StringEquals": {"aws:TagKeys": ["Team", "Env"]}}"#, TEAM_OWNER, false),
        (r#"{"ForAllValues:StringEquals": {"aws:TagKeys": ["Team", "Env"]}}"#, NONE, true),
        (r#"{"ForAllValues:StringEquals": {"aws:TagKeys": ["Team", "Env"]}}"#, EMPTY, true),
        (r#"{"ForAnyValue:StringEquals": {"aws:TagKeys": ["Team"]}}"#, TEAM_OWNER, true),
        (r#"{"ForAnyValue:StringEquals": {"aws:TagKeys": ["Team"]}}"#, OWNER_ENV, false),
        (r#"{"ForAnyValue:StringEquals": {"aws:TagKeys": ["Team"]}}"#, NONE, false),
        (r#"{"ForAnyValue:StringEquals": {"aws:TagKeys": ["Team"]}}"#, EMPTY, false),
        (r#"{"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["Team"]}}"#, TEAM_OWNER, true),
        (r#"{"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["Team"]}}"#, TEAM, false),
        (r#"{"ForAllValues:StringNotEquals": {"aws:TagKeys": ["Team"]}}"#, OWNER_ENV, true),
        (r#"{"ForAllValues:StringNotEquals": {"aws:TagKeys": ["Team"]}}"#, TEAM_OWNER, false),
        (r#"{"ForAllValues:StringLike": {"aws:TagKeys": ["T*", "E?v"]}}"#, TEAM_ENV, true),
        (r#"{"ForAllValues:StringLike": {"aws:TagKeys": ["T*"]}}"#, TEAM_ENV, false),
        (r#"{"ForAnyValue:StringEqualsIgnoreCase": {"aws:TagKeys": "OWNER"}}"#, TEAM_OWNER, true),
        // The usual guard: ForAllValues plus Null=false so an absent key does not pass.
        (r#"{"ForAllValues:StringEquals": {"aws:TagKeys": ["Team"]}, "Null": {"aws:TagKeys": "false"}}"#, EMPTY, false),
        (r#"{"ForAllValues:StringEquals": {"aws:TagKeys": ["Team"]}, "Null": {"aws:TagKeys": "false"}}"#, TEAM, true),
        // Plain operators on a multi-valued key.
        (r#"{"StringEquals": {"aws:TagKeys": "Owner"}}"#, TEAM_OWNER, true),
        (r#"{"StringNotEquals": {"aws:TagKeys": "Owner"}}"#, TEAM_OWNER, false),
        (r#"{"StringNotEquals": {"aws:TagKeys": "Owner"}}"#, TEAM_ENV, true),
    ]);
}

#[test]
fn conditions_combine_with_and_values_with_or() {
    const BOTH: Ctx = &[("a", &["1"]), ("b", &["xy"])];
    const ONLY_A: Ctx = &[("a", &["1"]), ("b", &["y"])];
    const ONLY_B: Ctx = &[("a", &["2"]), ("b", &["xy"])];
    run_conditions(&[
        (r#"{"StringEquals": {"a": "1"}, "StringLike": {"b": "x*"}}"#, BOTH, true),
        (r#"{"StringEquals": {"a": "1"}, "StringLike": {"b": "x*"}}"#, ONLY_A, false),
        (r#"{"StringEquals": {"a": "1"}, "StringLike": {"b": "x*"}}"#, ONLY_B, false),
        (r#"{"StringEquals": {"a": "1", "b": "xy"}}"#, BOTH, true),
        (r#"{"StringEquals": {"a": "1", "b": "xy"}}"#, ONLY_A, false),
        (r#"{"StringEquals": {"a": ["2", "1"], "b": ["q", "xy"]}}"#, BOTH, true),
        (r#"{"StringEquals": {"a": ["2", "1"], "b": ["q", "xy"]}}"#, ONLY_B, true),
        (r#"{}"#, EMPTY, true),
    ]);
}

#[test]
fn policy_variables() {
    let user_home = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
        "Action": "iam:*", "Resource": "arn:aws:iam::123456789012:user/${aws:username}"}}"#;
    let user_home_2008 = user_home.replace("2012-10-17", "2008-10-17");
    let user_home_no_version = user_home.replace(r#""Version": "2012-10-17","#, "");
    let owner_is_me = statement("Allow", r#""sso:*""#, r#""*""#, Some(r#"{"StringEquals": {"aws:ResourceTag/owner": "${aws:username}"}}"#));
    let owner_is_not_me =
        statement("Allow", r#""sso:*""#, r#""*""#, Some(r#"{"StringNotEquals": {"aws:ResourceTag/owner": "${aws:username}"}}"#));
    let team_prefix = statement(
        "Allow",
        r#""sso:*""#,
        r#""arn:aws:sso:::permissionSet/${sso:InstanceId}/*""#,
        Some(r#"{"StringLike": {"aws:ResourceTag/Team": "${aws:PrincipalTag/team}*"}}"#),
    );
    let escapes = allow(r#""s3:*""#, r#""arn:aws:s3:::bucket/${*}${?}${$}""#);
    let with_default = allow(r#""iam:*""#, r#""arn:aws:iam::123456789012:user/${aws:username, 'guest'}""#);
    let not_mine = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
        "Action": "iam:*", "NotResource": "arn:aws:iam::123456789012:user/${aws:username}"}}"#;
    let allow_all = allow(r#""*""#, r#""*""#);
    let deny_unless_owner =
        statement("Deny", r#""sso:*""#, r#""*""#, Some(r#"{"StringNotEquals": {"aws:ResourceTag/owner": "${aws:username}"}}"#));
    let deny_outside_home = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Deny",
        "Action": "iam:*", "NotResource": "arn:aws:iam::123456789012:user/${aws:username}"}}"#;

    const ALICE: Ctx = &[("aws:username", &["alice"])];
    const STAR_USER: Ctx = &[("aws:username", &["*"])];
    const TWO_NAMES: Ctx = &[("aws:username", &["alice", "bob"])];
    run(vec![
        Case {
            name: "resource variable resolves",
            policies: vec![user_home.into()],
            action: "iam:GetUser",
            resource: "arn:aws:iam::123456789012:user/alice",
            context: ALICE,
            want: Allow,
        },
        Case {
            name: "resource variable is case-insensitive in the key",
            policies: vec![user_home.replace("aws:username", "AWS:UserName")],
            action: "iam:GetUser",
            resource: "arn:aws:iam::123456789012:user/alice",
            context: ALICE,
            want: Allow,
        },
        Case {
            name: "resource variable: other user",
            policies: vec![user_home.into()],
            action: "iam:GetUser",
            resource: "arn:aws:iam::123456789012:user/bob",
            context: ALICE,
            want: ImplicitDeny,
        },
        Case {
            name: "resource variable missing",
            policies: vec![user_home.into()],
            action: "iam:GetUser",
            resource: "arn:aws:iam::123456789012:user/alice",
            context: EMPTY,
            want: ImplicitDeny,
        },
        Case {
            name: "resource variable missing does not match its literal text",
            policies: vec![user_home.into()],
            action: "iam:GetUser",
            resource: "arn:aws:iam::123456789012:user/${aws:username}",
            context: EMPTY,
            want: ImplicitDeny,
        },
        Case {
            name: "multi-valued key is not a variable",
            policies: vec![user_home.into()],
            action: "iam:GetUser",
            resource: "arn:aws:iam::123456789012:user/alice",
            context: TWO_NAMES,
            want: ImplicitDeny,
        },
        Case {
            name: "substituted value is literal, not a wildcard",
            policies: vec![user_home.into()],
            action: "iam:GetUser",
            resource: "arn:aws:iam::123456789012:user/bob",
            context: STAR_USER,
            want: ImplicitDeny,
        },
        Case {
            name: "2008-10-17 does not substitute",
            policies: vec![user_home_2008.clone()],
            action: "iam:GetUser",
            resource: "arn:aws:iam::123456789012:user/alice",
            context: ALICE,
            want: ImplicitDeny,
        },
        Case {
            name: "2008-10-17 treats ${...} literally",
            policies: vec![user_home_2008],
            action: "iam:GetUser",
            resource: "arn:aws:iam::123456789012:user/${aws:username}",
            context: ALICE,
            want: Allow,
        },
        Case {
            name: "absent Version means 2008-10-17",
            policies: vec![user_home_no_version],
            action: "iam:GetUser",
            resource: "arn:aws:iam::123456789012:user/alice",
            context: ALICE,
            want: ImplicitDeny,
        },
        Case {
            name: "condition variable matches",
            policies: vec![owner_is_me.clone()],
            action: "sso:UpdatePermissionSet",
            resource: "*",
            context: &[("aws:username", &["alice"]), ("aws:ResourceTag/owner", &["alice"])],
            want: Allow,
        },
        Case {
            name: "condition variable differs",
            policies: vec![owner_is_me.clone()],
            action: "sso:UpdatePermissionSet",
            resource: "*",
            context: &[("aws:username", &["alice"]), ("aws:ResourceTag/owner", &["bob"])],
            want: ImplicitDeny,
        },
        Case {
            name: "condition variable missing",
            policies: vec![owner_is_me],
            action: "sso:UpdatePermissionSet",
            resource: "*",
            context: &[("aws:ResourceTag/owner", &["alice"])],
            want: ImplicitDeny,
        },
        Case {
            name: "negated condition with resolved variable",
            policies: vec![owner_is_not_me.clone()],
            action: "sso:UpdatePermissionSet",
            resource: "*",
            context: &[("aws:username", &["alice"]), ("aws:ResourceTag/owner", &["bob"])],
            want: Allow,
        },
        Case {
            name: "negated condition with missing variable does not apply",
            policies: vec![owner_is_not_me],
            action: "sso:UpdatePermissionSet",
            resource: "*",
            context: &[("aws:ResourceTag/owner", &["bob"])],
            want: ImplicitDeny,
        },
        Case {
            name: "variables in resource and StringLike",
            policies: vec![team_prefix.clone()],
            action: "sso:UpdatePermissionSet",
            resource: PERMISSION_SET,
            context: &[
                ("sso:InstanceId", &["ssoins-1111111111111111"]),
                ("aws:PrincipalTag/team", &["blue"]),
                ("aws:ResourceTag/Team", &["blue-admins"]),
            ],
            want: Allow,
        },
        Case {
            name: "variables in resource and StringLike: other team",
            policies: vec![team_prefix],
            action: "sso:UpdatePermissionSet",
            resource: PERMISSION_SET,
            context: &[
                ("sso:InstanceId", &["ssoins-1111111111111111"]),
                ("aws:PrincipalTag/team", &["red"]),
                ("aws:ResourceTag/Team", &["blue-admins"]),
            ],
            want: ImplicitDeny,
        },
        Case {
            name: "escapes are literal",
            policies: vec![escapes.clone()],
            action: "s3:GetObject",
            resource: "arn:aws:s3:::bucket/*?$",
            context: EMPTY,
            want: Allow,
        },
        Case {
            name: "escaped star is not a wildcard",
            policies: vec![escapes],
            action: "s3:GetObject",
            resource: "arn:aws:s3:::bucket/abc",
            context: EMPTY,
            want: ImplicitDeny,
        },
        Case {
            name: "default value used when key missing",
            policies: vec![with_default.clone()],
            action: "iam:GetUser",
            resource: "arn:aws:iam::123456789012:user/guest",
            context: EMPTY,
            want: Allow,
        },
        Case {
            name: "default value ignored when key present",
            policies: vec![with_default],
            action: "iam:GetUser",
            resource: "arn:aws:iam::123456789012:user/guest",
            context: ALICE,
            want: ImplicitDeny,
        },
        Case {
            name: "NotResource with resolved variable",
            policies: vec![not_mine.into()],
            action: "iam:GetUser",
            resource: "arn:aws:iam::123456789012:user/bob",
            context: ALICE,
            want: Allow,
        },
        Case {
            name: "NotResource excludes own user",
            policies: vec![not_mine.into()],
            action: "iam:GetUser",
            resource: "arn:aws:iam::123456789012:user/alice",
            context: ALICE,
            want: ImplicitDeny,
        },
        Case {
            name: "Deny with negated condition: owner matches",
            policies: vec![allow_all.clone(), deny_unless_owner.clone()],
            action: "sso:UpdatePermissionSet",
            resource: "*",
            context: &[("aws:username", &["alice"]), ("aws:ResourceTag/owner", &["alice"])],
            want: Allow,
        },
        Case {
            name: "Deny with negated condition: owner differs",
            policies: vec![allow_all.clone(), deny_unless_owner.clone()],
            action: "sso:UpdatePermissionSet",
            resource: "*",
            context: &[("aws:username", &["alice"]), ("aws:ResourceTag/owner", &["bob"])],
            want: ExplicitDeny,
        },
        Case {
            name: "Deny with negated condition and missing variable fails closed",
            policies: vec![allow_all.clone(), deny_unless_owner],
            action: "sso:UpdatePermissionSet",
            resource: "*",
            context: &[("aws:ResourceTag/owner", &["bob"])],
            want: ExplicitDeny,
        },
        Case {
            name: "Deny NotResource: own user passes",
            policies: vec![allow_all.clone(), deny_outside_home.into()],
            action: "iam:GetUser",
            resource: "arn:aws:iam::123456789012:user/alice",
            context: ALICE,
            want: Allow,
        },
        Case {
            name: "Deny NotResource: other user denied",
            policies: vec![allow_all.clone(), deny_outside_home.into()],
            action: "iam:GetUser",
            resource: "arn:aws:iam::123456789012:user/bob",
            context: ALICE,
            want: ExplicitDeny,
        },
        Case {
            name: "Deny NotResource with missing variable fails closed",
            policies: vec![allow_all, deny_outside_home.into()],
            action: "iam:GetUser",
            resource: "arn:aws:iam::123456789012:user/bob",
            context: EMPTY,
            want: ExplicitDeny,
        },
        Case {
            name: "NotResource with missing variable does not apply",
            policies: vec![not_mine.into()],
            action: "iam:GetUser",
            resource: "arn:aws:iam::123456789012:user/bob",
            context: EMPTY,
            want: ImplicitDeny,
        },
    ]);
}

#[test]
fn context_api() {
    let mut ctx = Context::new();
    assert_eq!(ctx.get("aws:username"), None);
    ctx.insert("AWS:UserName", "alice");
    assert_eq!(ctx.get("aws:username"), Some(&["alice".to_string()][..]));
    assert_eq!(ctx.get("AWS:USERNAME"), Some(&["alice".to_string()][..]));
    ctx.insert("aws:username", "bob");
    assert_eq!(ctx.get("aws:UserName"), Some(&["bob".to_string()][..]));
    ctx.insert_multi("aws:TagKeys", vec!["a".into(), "b".into()]);
    assert_eq!(ctx.get("AWS:TAGKEYS").map(<[String]>::len), Some(2));
    ctx.insert("aws:TagKeys", "c");
    assert_eq!(ctx.get("aws:tagkeys"), Some(&["c".to_string()][..]));
    ctx.insert_multi("empty", vec![]);
    assert_eq!(ctx.get("empty"), Some(&[][..]));
}

#[test]
fn decision_and_policy_helpers() {
    assert!(Allow.is_allowed());
    assert!(!ExplicitDeny.is_allowed());
    assert!(!ImplicitDeny.is_allowed());

    let policy: Policy = allow(r#""sso:*""#, r#""*""#).parse().unwrap();
    assert_eq!(policy.version(), "2012-10-17");
    assert_eq!(policy.statement_count(), 1);
    let ctx = Context::new();
    let request = Request { action: "sso:ListInstances", resource: "*", context: &ctx };
    assert_eq!(policy.evaluate(&request), Allow);
}
