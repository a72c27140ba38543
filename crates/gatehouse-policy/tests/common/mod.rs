//! Helpers shared by the integration tests.
#![allow(dead_code)]

use gatehouse_policy::{Context, Decision, Policy, Request, evaluate};

pub const INSTANCE: &str = "arn:aws:sso:::instance/ssoins-1111111111111111";
pub const PERMISSION_SET: &str = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222";
pub const ACCOUNT: &str = "arn:aws:sso:::account/123456789012";

/// Build a context from `(key, values)` pairs; one value uses `insert`,
/// any other count uses `insert_multi`.
pub fn context(entries: &[(&str, &[&str])]) -> Context {
    let mut ctx = Context::new();
    for (key, values) in entries {
        match values {
            [single] => ctx.insert(key, *single),
            many => ctx.insert_multi(key, many.iter().map(|v| v.to_string()).collect()),
        }
    }
    ctx
}

pub fn parse(json: &str) -> Policy {
    match Policy::parse(json) {
        Ok(p) => p,
        Err(e) => panic!("policy failed to parse: {e}\n{json}"),
    }
}

pub fn decide(policies: &[Policy], action: &str, resource: &str, ctx: &Context) -> Decision {
    evaluate(policies, &Request { action, resource, context: ctx })
}

/// A one-statement 2012-10-17 policy.
pub fn statement(effect: &str, action: &str, resource: &str, condition: Option<&str>) -> String {
    let condition = condition.map(|c| format!(r#", "Condition": {c}"#)).unwrap_or_default();
    format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "{effect}", "Action": {action}, "Resource": {resource}{condition}}}]}}"#
    )
}
