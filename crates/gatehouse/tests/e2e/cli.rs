//! The same identity-store rules through the `gatehouse` command line, with exit codes and
//! messages a person or script can act on; configuration errors and an unreachable database.

use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::harness::*;

pub const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

pub struct Cli {
    pub data_dir: std::path::PathBuf,
    pub url: String,
}

impl Cli {
    pub fn for_db(db: &TestDb) -> Cli {
        Cli { data_dir: db.dir.path().join("data"), url: db.url.clone() }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--data-dir").arg(&self.data_dir).arg("--database-url").arg(&self.url).args(args);
        c.env_remove("GATEHOUSE_MAX_USERS").env("USER", "cli-tester");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run gatehouse")
    }

    pub fn run_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child = self.command(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
        child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
        child.wait_with_output().expect("wait")
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "gatehouse {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["-o", "json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).expect("JSON output")
    }

    /// Run a command that must fail with `code`, returning its error message.
    pub fn fails(&self, code: i32, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(code), "gatehouse {args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        stderr
    }
}

fn create(cli: &Cli, name: &str, email: &str) -> Output {
    cli.run(&["user", "create", name, "--email", email, "--given-name", "Given", "--family-name", "Family"])
}

#[test]
fn init_prints_secrets_once() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for db in rt.block_on(databases()) {
        let cli = Cli::for_db(&db);
        let first = cli.ok(&["init"]);
        assert!(first.contains("One-time password:") && first.contains("AWS_SECRET_ACCESS_KEY="), "{first}");
        assert!(first.contains("Username:            Administrator"));
        let second = cli.ok(&["init"]);
        assert!(second.contains("already initialized"), "{second}");
        assert!(!second.contains("AWS_SECRET_ACCESS_KEY") && !second.contains("One-time password"));
        assert_master_key_private(&cli.data_dir.join("master.key"));
    }
}

fn assert_master_key_private(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).expect("master key exists").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "master key must be owner-only");
}

#[test]
fn identity_rules_through_the_cli() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for db in rt.block_on(databases()) {
        eprintln!("-- on {}", db.backend);
        let cli = Cli::for_db(&db);
        cli.ok(&["init"]);
        let alice =
            cli.json(&["user", "create", "alice", "--email", "alice@example.com", "--given-name", "Alice", "--family-name", "Smith"]);
        let alice_id = alice["UserId"].as_str().unwrap().to_string();
        assert_eq!(alice["DisplayName"], "Alice Smith");

        // Uniqueness, case-insensitive.
        assert!(
            cli.fails(5, &["user", "create", "ALICE", "--email", "a2@example.com", "--given-name", "A", "--family-name", "B"])
                .contains("ConflictException")
        );
        assert!(
            cli.fails(5, &["user", "create", "bob", "--email", "ALICE@EXAMPLE.COM", "--given-name", "B", "--family-name", "C"])
                .contains("email")
        );
        // Validation names the field.
        assert!(String::from_utf8_lossy(&create(&cli, "carol", "not-an-email").stderr).contains("Emails[0].Value"));
        assert_eq!(create(&cli, "carol", "not-an-email").status.code(), Some(3));
        let long = "x".repeat(129);
        assert!(
            cli.fails(3, &["user", "create", &long, "--email", "l@example.com", "--given-name", "L", "--family-name", "L"])
                .contains("UserName")
        );
        assert!(cli.fails(3, &["user", "create", "dan"]).contains("Name.GivenName"));
        // The user name cannot change.
        assert!(cli.fails(3, &["user", "update", "alice", "--user-name", "alice2"]).contains("cannot be changed"));
        assert_eq!(cli.json(&["user", "update", "alice", "--title", "Engineer"])["Title"], "Engineer");

        // Password policy and history.
        assert!(cli.run_stdin(&["user", "set-password", "alice"], "weak\n").status.code() == Some(3));
        for p in ["First-Pass1", "Second-Pass2", "Third-Pass3"] {
            let out = cli.run_stdin(&["user", "set-password", "alice"], &format!("{p}\n"));
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        let reuse = cli.run_stdin(&["user", "set-password", "alice"], "First-Pass1\n");
        assert_eq!(reuse.status.code(), Some(3));
        assert!(String::from_utf8_lossy(&reuse.stderr).contains("last three"));
        let otp = cli.json(&["user", "reset-password", "alice"]);
        assert_eq!(otp["OneTimePassword"].as_str().unwrap().len(), 16);

        // Disabled users: no edits, no password reset, no new groups.
        cli.ok(&["group", "create", "Engineering", "--description", "builders"]);
        cli.ok(&["group", "create", "Ops"]);
        assert!(cli.fails(5, &["group", "create", "engineering"]).contains("already exists"));
        cli.ok(&["group", "add-member", "Engineering", "alice"]);
        cli.ok(&["user", "disable", "alice"]);
        assert_eq!(cli.json(&["user", "show", &alice_id])["Active"], false);
        assert!(cli.fails(5, &["user", "update", "alice", "--title", "x"]).contains("disabled"));
        assert!(cli.fails(5, &["user", "reset-password", "alice"]).contains("disabled"));
        assert!(cli.fails(5, &["group", "add-member", "Ops", "alice"]).contains("disabled"));
        cli.ok(&["user", "enable", "alice"]);
        cli.ok(&["group", "add-member", "Ops", "alice"]);

        // Deleting removes memberships.
        cli.ok(&["user", "delete", "alice"]);
        let eng = cli.json(&["group", "show", "Engineering"]);
        assert_eq!(eng["Memberships"].as_array().unwrap().len(), 0);
        assert!(cli.fails(4, &["user", "show", "alice"]).contains("ResourceNotFoundException"));
        cli.ok(&["group", "delete", "Ops"]);

        // Every step above is in the audit log, failures with their error codes.
        let tail = cli.ok(&["-o", "json", "audit", "tail", "-n", "500"]);
        let records: Vec<Value> = tail.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let find = |name: &str, code: Option<&str>| {
            records
                .iter()
                .any(|r| r["eventName"] == name && r["errorCode"].as_str() == code && r["userIdentity"]["userName"] == "cli-tester")
        };
        for (name, code) in [
            ("CreateUser", None),
            ("CreateUser", Some("ConflictException")),
            ("CreateUser", Some("ValidationException")),
            ("UpdateUser", Some("ValidationException")),
            ("UpdatePassword", Some("ValidationException")),
            ("ResetUserPassword", Some("ConflictException")),
            ("DisableUser", None),
            ("EnableUser", None),
            ("CreateGroupMembership", Some("ConflictException")),
            ("DeleteUser", None),
            ("DeleteGroup", None),
        ] {
            assert!(find(name, code), "missing {name} {code:?}");
        }
        assert!(!tail.contains("First-Pass1") && !tail.contains(otp["OneTimePassword"].as_str().unwrap()), "no secrets in audit");

        // Access keys: malformed policy JSON and unknown managed policies are refused clearly.
        let bad = db.dir.path().join("bad-policy.json");
        std::fs::write(&bad, r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"#).unwrap();
        assert!(
            cli.fails(3, &["admin", "access-key", "create", "--name", "bot", "--policy-file", bad.to_str().unwrap()])
                .contains("PolicyDocument[0]")
        );
        assert!(
            cli.fails(3, &["admin", "access-key", "create", "--name", "bot", "--policy", "AWSSSONoSuchPolicy"])
                .contains("unknown managed policy")
        );
        let key = cli.json(&["admin", "access-key", "create", "--name", "bot", "--policy", "AWSSSODirectoryReadOnly"]);
        let key_id = key["AccessKey"]["AccessKeyId"].as_str().unwrap().to_string();
        let listed = cli.json(&["admin", "access-key", "list"]);
        assert!(!listed.to_string().contains(key["AccessKey"]["SecretAccessKey"].as_str().unwrap()), "list never shows secrets");
        assert_eq!(listed["AccessKeys"].as_array().unwrap().len(), 2, "bootstrap key and bot");
        cli.ok(&["admin", "access-key", "delete", &key_id]);
        assert!(cli.fails(4, &["admin", "access-key", "delete", &key_id]).contains("not found"));
    }
}

#[test]
fn audit_export_jsonl_and_cloudtrail_files() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(sqlite_db());
    let cli = Cli::for_db(&db);
    cli.ok(&["init"]);
    for i in 0..7 {
        assert!(create(&cli, &format!("u{i}"), &format!("u{i}@example.com")).status.success());
    }
    let jsonl = cli.ok(&["audit", "export", "--since", "1h"]);
    let lines: Vec<Value> = jsonl.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.iter().filter(|r| r["eventName"] == "CreateUser").count() == 7);
    for r in &lines {
        for key in [
            "eventVersion",
            "userIdentity",
            "eventTime",
            "eventSource",
            "eventName",
            "awsRegion",
            "sourceIPAddress",
            "userAgent",
            "requestID",
            "eventID",
            "readOnly",
            "eventType",
            "recipientAccountId",
        ] {
            assert!(r.get(key).is_some(), "{key} missing in {r}");
        }
    }
    assert!(cli.ok(&["audit", "export", "--since", "2999-01-01T00:00:00Z"]).is_empty());

    let dir = db.dir.path().join("trail");
    cli.ok(&["audit", "export", "--since", "1h", "--format", "cloudtrail", "--to", dir.to_str().unwrap(), "--records-per-file", "5"]);
    let mut total = 0;
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(files.len() >= 2);
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.contains("_CloudTrail_us-east-1_") && name.ends_with(".json.gz"), "{name}");
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(std::fs::File::open(&f).unwrap()), &mut text).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        let records = doc["Records"].as_array().unwrap();
        assert!(!records.is_empty() && records.len() <= 5);
        total += records.len();
    }
    // Both earlier exports (jsonl, and the empty one) were audited after they read.
    assert_eq!(total, lines.len() + 2);
    assert!(cli.fails(1, &["audit", "export", "--since", "yesterday"]).contains("RFC 3339"));
}

#[test]
fn configuration_and_database_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let run = |args: &[&str], envs: &[(&str, &str)]| {
        let mut c = Command::new(BIN);
        c.args(args);
        for (k, v) in envs {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let check = |out: &Output, code: i32, text: &str| {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{stderr}");
        assert!(stderr.contains(text), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    };
    // Unreachable PostgreSQL: exit 7 with the cause, password redacted.
    let out = run(&["--data-dir", data, "--database-url", "postgres://u:hunter2@127.0.0.1:1/x", "user", "list"], &[]);
    check(&out, 7, "cannot open the database postgres://u:***@127.0.0.1:1/x");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("hunter2"));
    // Configuration problems: exit 2.
    check(&run(&["--config", "/nonexistent/gatehouse.toml", "init"], &[]), 2, "does not exist");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "listen = \"127.0.0.1:1\"\nno_such_key = 1\n").unwrap();
    check(&run(&["--config", bad.to_str().unwrap(), "init"], &[]), 2, "no_such_key");
    std::fs::write(&bad, "sqlite_synchronous = \"sometimes\"\n").unwrap();
    check(&run(&["--config", bad.to_str().unwrap(), "init"], &[]), 2, "sqlite_synchronous");
    check(&run(&["init"], &[("GATEHOUSE_MASTER_KEY", "too-short")]), 1, "master");
    // The environment overrides the file: a quota of one user (the Administrator) refuses more.
    let good = dir.path().join("good.toml");
    std::fs::write(&good, format!("data_dir = \"{data}\"\nmax_users = 100\n")).unwrap();
    let cfg = good.to_str().unwrap();
    assert!(run(&["--config", cfg, "init"], &[]).status.success());
    let out = run(
        &["--config", cfg, "user", "create", "x", "--email", "x@example.com", "--given-name", "X", "--family-name", "Y"],
        &[("GATEHOUSE_MAX_USERS", "1")],
    );
    check(&out, 8, "ServiceQuotaExceededException");
    // Unknown commands and flags: clap's usage error.
    assert_eq!(run(&["user", "frobnicate"], &[]).status.code(), Some(2));
}
