//! Malformed documents: each is rejected with a message that names the
//! problem, and no input makes the parser or evaluator panic.

use gatehouse_policy::{Context, Policy, PolicyError, Request, evaluate, managed};

/// (description, document, exact error message)
const CASES: &[(&str, &str, &str)] = &[
    ("bad JSON", r#"{"Version": "2012-10-17", "Statement": ["#, "policy is not valid JSON: EOF while parsing a list at line 1 column 40"),
    ("empty input", "", "policy is not valid JSON: EOF while parsing a value at line 1 column 0"),
    (
        "trailing garbage",
        r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}} x"#,
        "policy is not valid JSON: trailing characters at line 1 column 68",
    ),
    (
        "duplicate key",
        r#"{"Statement": {"Effect": "Deny", "Effect": "Allow", "Action": "*", "Resource": "*"}}"#,
        "policy is not valid JSON: duplicate key \"Effect\" at line 1 column 41",
    ),
    ("not an object", r#"["Statement"]"#, "policy document must be a JSON object"),
    ("string document", r#""policy""#, "policy document must be a JSON object"),
    (
        "wrong Version",
        r#"{"Version": "2012-10-18", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#,
        r#"Version must be "2012-10-17" or "2008-10-17", found "2012-10-18""#,
    ),
    (
        "Version as a number",
        r#"{"Version": 2012, "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#,
        r#"Version must be "2012-10-17" or "2008-10-17", found a number"#,
    ),
    ("missing Statement", r#"{"Version": "2012-10-17"}"#, "policy is missing Statement"),
    ("empty Statement", r#"{"Version": "2012-10-17", "Statement": []}"#, "Statement must contain at least one statement"),
    (
        "Statement of wrong type",
        r#"{"Version": "2012-10-17", "Statement": "Allow"}"#,
        "Statement must be an object or an array of objects, found a string",
    ),
    (
        "statement not an object",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}, 7]}"#,
        "Statement[1] must be an object, found a number",
    ),
    ("unknown top-level element", r#"{"Version": "2012-10-17", "Statment": []}"#, r#"policy has unknown element "Statment""#),
    ("missing Effect", r#"{"Version": "2012-10-17", "Statement": [{"Action": "*", "Resource": "*"}]}"#, "Statement[0] is missing Effect"),
    (
        "bad Effect",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Effect": "Permit", "Action": "*", "Resource": "*"}]}"#,
        r#"Statement[1].Effect must be "Allow" or "Deny""#,
    ),
    (
        "lowercase Effect",
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "allow", "Action": "*", "Resource": "*"}}"#,
        r#"Statement.Effect must be "Allow" or "Deny""#,
    ),
    (
        "Effect not a string",
        r#"{"Version": "2012-10-17", "Statement": {"Effect": true, "Action": "*", "Resource": "*"}}"#,
        r#"Statement.Effect must be "Allow" or "Deny""#,
    ),
    (
        "lowercase element name",
        r#"{"Version": "2012-10-17", "Statement": {"effect": "Allow", "Action": "*", "Resource": "*"}}"#,
        r#"Statement has unknown element "effect""#,
    ),
    (
        "Action and NotAction",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sso:*", "NotAction": "sso:Delete*", "Resource": "*"}]}"#,
        "Statement[0] has both Action and NotAction; use exactly one",
    ),
    (
        "neither Action nor NotAction",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]}"#,
        "Statement[0] is missing Action or NotAction",
    ),
    (
        "Resource and NotResource",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "NotResource": "arn:aws:sso:::account/1"}]}"#,
        "Statement[0] has both Resource and NotResource; use exactly one",
    ),
    (
        "missing Resource",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]}"#,
        "Statement[0] is missing Resource or NotResource",
    ),
    (
        "Principal present",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*", "Resource": "*"}]}"#,
        "Statement[0] has Principal, which is not allowed in an identity-based policy",
    ),
    (
        "NotPrincipal present",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "NotPrincipal": "*", "Action": "*", "Resource": "*"}]}"#,
        "Statement[0] has NotPrincipal, which is not allowed in an identity-based policy",
    ),
    (
        "Action without service prefix",
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": ["sso:List*", "CreateUser"], "Resource": "*"}}"#,
        r#"Statement.Action[1] "CreateUser" must be "*" or of the form "service:action""#,
    ),
    (
        "empty Action list",
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": [], "Resource": "*"}}"#,
        "Statement.Action must list at least one entry",
    ),
    (
        "Action of wrong type",
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": {"sso": "*"}, "Resource": "*"}}"#,
        "Statement.Action must be a string or an array of strings, found an object",
    ),
    (
        "Action entry of wrong type",
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": ["sso:*", 3], "Resource": "*"}}"#,
        "Statement.Action[1] must be a string, found a number",
    ),
    (
        "Resource not an ARN",
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "permissionSet/ps-1"}}"#,
        r#"Statement.Resource "permissionSet/ps-1" must be "*" or an ARN ("arn:...")"#,
    ),
    (
        "Sid not a string",
        r#"{"Version": "2012-10-17", "Statement": {"Sid": 1, "Effect": "Allow", "Action": "*", "Resource": "*"}}"#,
        "Statement.Sid must be a string, found a number",
    ),
    (
        "duplicate Sid",
        r#"{"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Allow", "Action": "*", "Resource": "*"}, {"Sid": "A", "Effect": "Deny", "Action": "*", "Resource": "*"}]}"#,
        r#"Sid "A" is used by more than one statement"#,
    ),
    (
        "unknown condition operator",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEqualz": {"aws:username": "a"}}}]}"#,
        r#"Statement[0].Condition has unknown condition operator "StringEqualz""#,
    ),
    (
        "unknown set qualifier",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"ForEachValue:StringEquals": {"aws:TagKeys": "a"}}}]}"#,
        r#"Statement[0].Condition has unknown condition operator "ForEachValue:StringEquals""#,
    ),
    (
        "unsupported IAM operator",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}"#,
        r#"Statement[0].Condition uses condition operator "IpAddress", which Gatehouse does not support"#,
    ),
    (
        "Condition of wrong type",
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": ["StringEquals"]}}"#,
        "Statement.Condition must be an object, found an array",
    ),
    (
        "condition value null",
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {"aws:username": null}}}}"#,
        r#"Statement.Condition.StringEquals["aws:username"] must be a string, boolean, number or an array of them, found null"#,
    ),
    (
        "Null value not boolean",
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Null": {"aws:username": "maybe"}}}}"#,
        r#"Statement.Condition.Null["aws:username"] must be "true" or "false", found "maybe""#,
    ),
];

#[test]
fn malformed_documents_are_rejected_with_clear_messages() {
    let mut failures = Vec::new();
    for (what, doc, want) in CASES {
        match Policy::parse(doc) {
            Ok(_) => failures.push(format!("{what}: parsed but should fail")),
            Err(e) if e.to_string() != *want => failures.push(format!("{what}:\n   got  {e}\n   want {want}")),
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn error_variants() {
    let err = |doc: &str| Policy::parse(doc).unwrap_err();
    assert!(matches!(err("{"), PolicyError::MalformedJson(_)));
    assert!(matches!(err("[]"), PolicyError::NotAnObject));
    assert!(matches!(err(r#"{"Version": "1", "Statement": []}"#), PolicyError::UnsupportedVersion(_)));
    assert!(matches!(err(r#"{"Statement": {"Action": "*", "Resource": "*"}}"#), PolicyError::MissingElement { element: "Effect", .. }));
    assert!(matches!(
        err(r#"{"Statement": {"Effect": "Allow", "Action": "*", "NotAction": "*", "Resource": "*"}}"#),
        PolicyError::ConflictingElements { first: "Action", second: "NotAction", .. }
    ));
    assert!(matches!(
        err(r#"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}}"#),
        PolicyError::PrincipalNotAllowed { .. }
    ));
    assert!(matches!(
        err(r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Foo": {"k": "v"}}}}"#),
        PolicyError::UnknownOperator { .. }
    ));
}

#[test]
fn well_formed_variants_parse() {
    for doc in [
        // Single statement object, no Version, Id present.
        r#"{"Id": "x", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#,
        r#"{"Version": "2008-10-17", "Statement": [{"Effect": "Deny", "NotAction": ["sso:List*"], "NotResource": ["arn:aws:sso:::account/1"]}]}"#,
        r#"{"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {}}, {"Sid": "B", "Effect": "Allow", "Action": "*", "Resource": "*"}]}"#,
        // Statements without Sid may repeat freely.
        r#"{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Effect": "Allow", "Action": "*", "Resource": "*"}]}"#,
    ] {
        if let Err(e) = Policy::parse(doc) {
            panic!("{doc}: {e}");
        }
    }
}

/// A tiny deterministic fuzzer (xorshift) over mutations, truncations and
/// splices of real documents, so `cargo test` alone already exercises the
/// no-panic guarantee. The cargo-fuzz target in /fuzz goes much further.
#[test]
fn no_input_panics() {
    let mut seeds: Vec<String> = managed::names().iter().filter_map(|n| managed::document(n)).map(str::to_owned).collect();
    seeds.push(CONDITIONS.to_owned());
    seeds.extend(CASES.iter().map(|(_, doc, _)| doc.to_string()));

    let mut ctx = Context::new();
    ctx.insert("aws:username", "alice");
    ctx.insert("aws:PrincipalTag/team", "blue");
    ctx.insert_multi("aws:TagKeys", vec!["Team".into(), "Env".into()]);
    let alphabet: Vec<char> = "{}[]\":,*?$'\\ aAIfExistsForAnyValue:Null0tru\u{e9}\u{1F600}".chars().collect();

    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut parsed = 0;
    for round in 0..20_000 {
        let seed = &seeds[(next() as usize) % seeds.len()];
        let mut chars: Vec<char> = seed.chars().collect();
        let edits = 1 + next() % 4;
        for _ in 0..edits {
            if chars.is_empty() {
                break;
            }
            let at = (next() as usize) % chars.len();
            match next() % 4 {
                0 => {
                    chars.remove(at);
                }
                1 => chars.insert(at, alphabet[(next() as usize) % alphabet.len()]),
                2 => chars.truncate(at),
                _ => {
                    let other: Vec<char> = seeds[(next() as usize) % seeds.len()].chars().collect();
                    let from = (next() as usize) % other.len().max(1);
                    chars.splice(at..at, other.into_iter().skip(from).take(40));
                }
            }
        }
        let text: String = chars.into_iter().collect();
        if let Ok(policy) = Policy::parse(&text) {
            parsed += 1;
            let actions = ["sso:CreatePermissionSet", "", "*", "identitystore:x"];
            let request =
                Request { action: actions[round % actions.len()], resource: "arn:aws:sso:::permissionSet/ssoins-1/ps-2", context: &ctx };
            let _ = evaluate(std::slice::from_ref(&policy), &request);
        }
    }
    assert!(parsed > 100, "mutations should still parse sometimes ({parsed})");
}

const CONDITIONS: &str = r#"{"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Allow",
  "Action": ["sso:*", "identitystore:Describe?ser"], "Resource": "arn:aws:sso:::permissionSet/${aws:PrincipalTag/team, 'x'}/*",
  "Condition": {"ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["T*", 1, true]},
                "Null": {"aws:username": "false"}, "StringNotEquals": {"aws:username": "${aws:username}${*}"}}},
  {"Sid": "B", "Effect": "Deny", "NotAction": "sso:List*", "NotResource": ["arn:aws:sso:::${$}*"]}]}"#;

/// Large documents must parse in roughly linear time (duplicate-key and
/// duplicate-Sid checks use sets); a quadratic check would take minutes here.
#[test]
fn large_documents_parse_quickly() {
    let keys: Vec<String> = (0..50_000).map(|i| format!(r#""k{i}": "v""#)).collect();
    let doc = format!(
        r#"{{"Version": "2012-10-17", "Statement": {{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {{"StringEquals": {{{}}}}}}}}}"#,
        keys.join(",")
    );
    assert!(Policy::parse(&doc).is_ok());

    let statements: Vec<String> =
        (0..20_000).map(|i| format!(r#"{{"Sid": "S{i}", "Effect": "Allow", "Action": "sso:A{i}", "Resource": "*"}}"#)).collect();
    let doc = format!(r#"{{"Version": "2012-10-17", "Statement": [{}]}}"#, statements.join(","));
    let policy = Policy::parse(&doc).unwrap();
    assert_eq!(policy.statement_count(), 20_000);
    let ctx = Context::new();
    let request = Request { action: "sso:A19999", resource: "*", context: &ctx };
    assert!(policy.evaluate(&request).is_allowed());
}
