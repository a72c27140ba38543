//! Durability: a process creating 1,000 users is killed with SIGKILL part-way. Every user it
//! acknowledged exists afterwards with its CreateUser audit record, and the database still works.

use gatehouse_core::crypto::MasterKey;
use gatehouse_core::model::{AuditQuery, Page, UserQuery};
use gatehouse_core::services::ServiceConfig;
use gatehouse_core::{Ctx, Services};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::Arc;

use crate::cli::Cli;
use crate::harness::*;

#[test]
fn sigkill_during_1000_creations_loses_no_acknowledged_user() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for db in rt.block_on(databases()) {
        eprintln!("-- on {}", db.backend);
        let cli = Cli::for_db(&db);
        cli.ok(&["init"]);
        let file = db.dir.path().join("users.jsonl");
        let lines: Vec<String> = (0..1000)
            .map(|i| {
                serde_json::json!({
                    "UserName": format!("crash{i:04}"),
                    "Name": {"GivenName": "Crash", "FamilyName": format!("Test{i}")},
                    "DisplayName": format!("Crash Test {i}"),
                    "Emails": [{"Value": format!("crash{i:04}@example.com"), "Primary": true}]
                })
                .to_string()
            })
            .collect();
        std::fs::write(&file, lines.join("\n")).unwrap();

        let mut child =
            cli.command(&["user", "import", file.to_str().unwrap()]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut acked: HashMap<String, String> = HashMap::new();
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 0 {
            let parts: Vec<&str> = line.split_whitespace().collect();
            if let ["created", name, id] = parts[..] {
                acked.insert(name.to_string(), id.to_string());
            }
            line.clear();
            if acked.len() == 300 {
                child.kill().unwrap(); // SIGKILL
            }
        }
        let status = child.wait().unwrap();
        assert!(!status.success(), "the import was killed, not finished");
        assert!(acked.len() >= 300 && acked.len() < 1000, "killed part-way: {} acknowledged", acked.len());

        rt.block_on(async {
            let key = MasterKey::load_or_create(&cli.data_dir.join("master.key")).unwrap().0;
            let store = gatehouse_store::connect(&db.url, &Default::default()).await.unwrap();
            let svc =
                Arc::new(Services::open(store, key, Arc::new(gatehouse_core::clock::SystemClock), ServiceConfig::default()).await.unwrap());
            let ctx: Ctx = svc.operator_ctx("verifier").unwrap();
            let mut users = HashMap::new();
            let mut after = None;
            loop {
                let page = svc.list_users(&ctx, UserQuery::default(), Page { after, limit: 500 }).await.unwrap();
                users.extend(page.items.into_iter().map(|u| (u.profile.user_name.clone(), u.user_id.clone())));
                after = page.next;
                if after.is_none() {
                    break;
                }
            }
            let mut tx = svc.store().begin().await.unwrap();
            let records =
                tx.list_audit(&AuditQuery { event_name: Some("CreateUser".into()), limit: 100_000, ..Default::default() }).await.unwrap();
            tx.rollback().await.unwrap();
            let audited: HashMap<String, String> = records
                .iter()
                .filter(|r| r.record.error_code.is_none())
                .map(|r| {
                    (
                        r.record.request_parameters["userName"].as_str().unwrap().to_string(),
                        r.record.response_elements["userId"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            for (name, id) in &acked {
                assert_eq!(users.get(name), Some(id), "acknowledged user {name} is missing");
                assert_eq!(audited.get(name), Some(id), "acknowledged user {name} has no audit record");
            }
            // Every committed user has its record, and at most one more than acknowledged made it.
            let created = users.len() - 1; // minus the Administrator
            assert!(created == acked.len() || created == acked.len() + 1, "{created} vs {}", acked.len());
            assert_eq!(audited.len(), created);
            // The database is healthy: the rest of the import can be written.
            svc.create_user(&ctx, profile("after-crash", "after@example.com")).await.unwrap();
        });
        eprintln!("{}: {} acknowledged before SIGKILL, all present", db.backend, acked.len());
    }
}
