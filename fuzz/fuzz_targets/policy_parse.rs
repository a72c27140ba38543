//! Feed arbitrary bytes to `Policy::parse`; evaluate every document that
//! parses against a fixed set of requests. Any panic, overflow or hang is a bug.
#![no_main]

use std::sync::OnceLock;

use gatehouse_policy::{Context, Policy, Request, evaluate};
use libfuzzer_sys::fuzz_target;

/// Requests chosen to reach every matcher: actions with and without wildcard
/// hits, a real ARN, the empty string and "*".
const REQUESTS: &[(&str, &str)] = &[
    ("sso:CreateAccountAssignment", "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222"),
    ("identitystore:DescribeUser", "*"),
    ("SSO:listinstances", "arn:aws:sso:::account/123456789012"),
    ("", ""),
];

fn context() -> &'static Context {
    static CONTEXT: OnceLock<Context> = OnceLock::new();
    CONTEXT.get_or_init(|| {
        let mut ctx = Context::new();
        ctx.insert("aws:username", "alice");
        ctx.insert("aws:PrincipalTag/team", "blue");
        ctx.insert("aws:ResourceTag/Environment", "Development");
        ctx.insert("aws:MultiFactorAuthPresent", "true");
        ctx.insert("sso:InstanceArn", "arn:aws:sso:::instance/ssoins-1111111111111111");
        ctx.insert_multi("aws:TagKeys", vec!["Team".into(), "Env".into()]);
        ctx.insert_multi("aws:PrincipalTag/empty", Vec::new());
        ctx
    })
}

fuzz_target!(|data: &[u8]| {
    // Lossy decoding: invalid UTF-8 still exercises the JSON parser.
    let text = String::from_utf8_lossy(data);
    let Ok(policy) = Policy::parse(&text) else {
        return;
    };
    let policies = std::slice::from_ref(&policy);
    for &(action, resource) in REQUESTS {
        let request = Request { action, resource, context: context() };
        let _ = evaluate(policies, &request);
    }
});
