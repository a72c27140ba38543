//! Storage behaviour that the services rely on: one bootstrap wins among racing nodes, jobs are
//! claimed exclusively, and the instance survives reopening.

use chrono::{Duration, Utc};
use gatehouse_core::model::Job;
use gatehouse_core::services::ServiceConfig;
use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn bootstrap_happens_once_even_when_nodes_race() {
    for db in databases().await {
        let a = open_services(&db, ServiceConfig::default()).await;
        let b = open_services(&db, ServiceConfig::default()).await;
        let (ra, rb) = tokio::join!(a.bootstrap(), b.bootstrap());
        let created = [ra.unwrap().is_some(), rb.unwrap().is_some()];
        assert_eq!(created.iter().filter(|c| **c).count(), 1, "{}: exactly one node creates the instance", db.backend);
        assert_eq!(a.instance().unwrap(), b.instance().unwrap());
        // Reopening finds it and creates nothing.
        let c = open_services(&db, ServiceConfig::default()).await;
        assert!(c.bootstrap().await.unwrap().is_none());
        assert_eq!(c.instance().unwrap().instance_arn, a.instance().unwrap().instance_arn);
        let successes = successful_events(&c, "CreateInstance").await;
        assert_eq!(successes, 1, "{}: one successful CreateInstance record", db.backend);
        let arn = &c.instance().unwrap().instance_arn;
        assert!(arn.starts_with("arn:aws:sso:::instance/ssoins-") && arn.len() == "arn:aws:sso:::instance/ssoins-".len() + 16);
        let store_id = &c.instance().unwrap().identity_store_id;
        assert!(store_id.starts_with("d-") && store_id.len() == 12);
    }
}

fn job(kind: &str) -> Job {
    let now = Utc::now() - Duration::seconds(1);
    Job {
        id: uuid::Uuid::new_v4().to_string(),
        kind: kind.into(),
        payload: json!({"n": 1}),
        status: "QUEUED".into(),
        attempts: 0,
        run_after: now,
        locked_by: None,
        locked_until: None,
        last_error: None,
        created_at: now,
        updated_at: now,
    }
}

#[tokio::test]
async fn jobs_are_claimed_once() {
    each_backend(|e| async move {
        let store = e.svc.store().clone();
        let mut tx = store.begin().await.unwrap();
        for _ in 0..3 {
            tx.insert_job(&job("provision")).await.unwrap();
        }
        tx.insert_job(&job("other")).await.unwrap();
        tx.commit().await.unwrap();
        let now = Utc::now();
        let lease = now + Duration::minutes(5);

        let mut claimed = Vec::new();
        if e.backend == "postgres" {
            // Two nodes claiming at the same time: row locks make them take different jobs.
            let mut t1 = store.begin().await.unwrap();
            let mut t2 = store.begin().await.unwrap();
            let j1 = t1.claim_job(&["provision"], "node-1", now, lease).await.unwrap().unwrap();
            let j2 = t2.claim_job(&["provision"], "node-2", now, lease).await.unwrap().unwrap();
            t1.commit().await.unwrap();
            t2.commit().await.unwrap();
            claimed.extend([j1.id, j2.id]);
        } else {
            for node in ["node-1", "node-2"] {
                let mut t = store.begin().await.unwrap();
                claimed.push(t.claim_job(&["provision"], node, now, lease).await.unwrap().unwrap().id);
                t.commit().await.unwrap();
            }
        }
        assert_ne!(claimed[0], claimed[1]);
        let mut t = store.begin().await.unwrap();
        let third = t.claim_job(&["provision"], "node-3", now, lease).await.unwrap().unwrap();
        assert!(!claimed.contains(&third.id));
        assert!(t.claim_job(&["provision"], "node-3", now, lease).await.unwrap().is_none(), "all claimed");
        t.commit().await.unwrap();

        // A node that died holding a lease: after it expires, another node takes the job over.
        let later = lease + Duration::seconds(1);
        let mut t = store.begin().await.unwrap();
        let retaken = t.claim_job(&["provision"], "node-4", later, later + Duration::minutes(5)).await.unwrap().unwrap();
        assert_eq!(retaken.attempts, 2);
        assert_eq!(retaken.locked_by.as_deref(), Some("node-4"));
        t.commit().await.unwrap();
    })
    .await;
}

/// Writes that overlap commit together (SQLite group commit), and one that is abandoned mid-way
/// (its request cancelled) or fails leaves nothing behind while the others commit.
#[tokio::test]
async fn concurrent_writes_commit_and_abandoned_ones_leave_nothing() {
    for db in databases().await {
        let svc = open_services(&db, ServiceConfig::default()).await;
        let store = svc.store().clone();
        let jobs: Vec<Job> = (0..40).map(|i| job(&format!("group-{i}"))).collect();
        let abandoned = job("abandoned");
        let failed = job("failed");
        let mut tasks = Vec::new();
        for (i, j) in jobs.iter().cloned().enumerate() {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut tx = store.begin().await.unwrap();
                tx.insert_job(&j).await.unwrap();
                if i % 10 == 0 {
                    tokio::task::yield_now().await;
                }
                tx.commit().await
            }));
        }
        {
            // Dropped without commit or rollback, as a cancelled request's transaction is.
            let mut tx = store.begin().await.unwrap();
            tx.insert_job(&abandoned).await.unwrap();
        }
        let mut tx = store.begin().await.unwrap();
        tx.insert_job(&failed).await.unwrap();
        tx.rollback().await.unwrap();
        for t in tasks {
            t.await.unwrap().unwrap_or_else(|e| panic!("{}: a grouped commit failed: {e}", db.backend));
        }
        // A later write commits too (the abandoned one released its place).
        let after = job("after");
        let mut tx = store.begin().await.unwrap();
        tx.insert_job(&after).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.begin_read().await.unwrap();
        for j in jobs.iter().chain([&after]) {
            assert!(tx.get_job(&j.id).await.unwrap().is_some(), "{}: committed job {} is there", db.backend, j.kind);
        }
        for j in [&abandoned, &failed] {
            assert!(tx.get_job(&j.id).await.unwrap().is_none(), "{}: {} left nothing", db.backend, j.kind);
        }
        tx.rollback().await.unwrap();
    }
}

/// Provisioning holds a lease per account: one holder at a time, until it releases or the lease
/// runs out (its node died).
#[tokio::test]
async fn account_leases_have_one_holder_until_they_expire() {
    each_backend(|e| async move {
        let store = e.svc.store().clone();
        let now = Utc::now();
        let until = now + Duration::seconds(30);
        let take = |holder: &'static str, at: chrono::DateTime<Utc>| {
            let store = store.clone();
            async move {
                let mut t = store.begin().await.unwrap();
                let taken = t.try_lease("account/111111111111", holder, at, at + Duration::seconds(30)).await.unwrap();
                if taken {
                    t.commit().await.unwrap();
                } else {
                    t.rollback().await.unwrap();
                }
                taken
            }
        };
        assert!(take("node-a", now).await, "{}: a free lease is taken", e.backend);
        assert!(!take("node-b", now).await, "{}: a held lease is refused", e.backend);
        assert!(take("node-a", now).await, "{}: its holder may extend it", e.backend);
        let mut t = store.begin().await.unwrap();
        t.release_lease("account/111111111111", "node-b").await.unwrap();
        t.commit().await.unwrap();
        assert!(!take("node-b", now).await, "{}: only the holder releases", e.backend);
        assert!(take("node-b", until + Duration::seconds(1)).await, "{}: an expired lease is taken over", e.backend);
        let mut t = store.begin().await.unwrap();
        t.release_lease("account/111111111111", "node-b").await.unwrap();
        t.commit().await.unwrap();
        assert!(take("node-c", now).await, "{}: a released lease is free", e.backend);
    })
    .await;
}

/// Upgrading a database whose audit log predates the user-name column: the records already
/// written are found by user afterwards.
#[tokio::test]
async fn the_audit_user_name_is_filled_in_for_records_written_before_it_existed() {
    use gatehouse_core::model::{AuditQuery, AuditRecord};
    use sea_orm::{ConnectionTrait, Database, Statement};
    use sea_orm_migration::MigratorTrait;
    for db in databases().await {
        let conn = Database::connect(&db.url).await.unwrap();
        // Every migration before m0014_audit_user_name.
        gatehouse_store::Migrator::up(&conn, Some(13)).await.unwrap();
        let record = |user: serde_json::Value, id: &str| AuditRecord {
            event_version: "1.08".into(),
            user_identity: user,
            event_time: Utc::now(),
            event_source: "sso.amazonaws.com".into(),
            event_name: "CreatePermissionSet".into(),
            aws_region: "us-east-1".into(),
            source_ip_address: "127.0.0.1".into(),
            user_agent: "test".into(),
            request_parameters: json!({}),
            response_elements: json!(null),
            request_id: id.into(),
            event_id: id.into(),
            read_only: false,
            resources: vec![],
            event_type: "AwsApiCall".into(),
            management_event: true,
            recipient_account_id: "111111111111".into(),
            error_code: None,
            error_message: None,
            additional_event_data: json!(null),
            service_event_details: json!(null),
        };
        let role =
            json!({"type": "AssumedRole", "arn": "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/carol"});
        for r in
            [record(json!({"type": "IAMUser", "userName": "alice"}), "e1"), record(role, "e2"), record(json!({"type": "AWSService"}), "e3")]
        {
            let sql = "INSERT INTO audit_events (event_id, event_time, event_source, event_name, read_only, record) VALUES ($1, $2, $3, $4, $5, $6)";
            let values = [
                r.event_id.clone().into(),
                r.event_time.into(),
                r.event_source.clone().into(),
                r.event_name.clone().into(),
                false.into(),
                serde_json::to_string(&r).unwrap().into(),
            ];
            conn.execute_raw(Statement::from_sql_and_values(conn.get_database_backend(), sql, values)).await.unwrap();
        }
        let _ = conn.close().await;
        // Opening the store runs the rest.
        let svc = open_services(&db, ServiceConfig::default()).await;
        let mut tx = svc.store().begin_read().await.unwrap();
        for (user, id) in [("alice", "e1"), ("carol", "e2")] {
            let found = tx.list_audit(&AuditQuery { user_name: Some(user.into()), limit: 10, ..Default::default() }).await.unwrap();
            assert_eq!(found.iter().map(|s| s.record.event_id.as_str()).collect::<Vec<_>>(), [id], "{}: {user}", db.backend);
        }
        let newest = tx.list_audit(&AuditQuery { newest_first: true, limit: 1, ..Default::default() }).await.unwrap();
        assert_eq!(newest[0].record.event_id, "e3", "{}: newest first", db.backend);
        tx.rollback().await.unwrap();
    }
}
