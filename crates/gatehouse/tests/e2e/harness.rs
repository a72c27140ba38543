//! Test environments on real databases: a temporary SQLite file always, and a fresh PostgreSQL
//! database per test when GATEHOUSE_TEST_DATABASE_URL names a server (CI sets it).

use gatehouse_core::clock::{Clock, SystemClock};
use gatehouse_core::crypto::MasterKey;
use gatehouse_core::model::{AuditQuery, AuditRecord, Name, TypedValue, UserProfile};
use gatehouse_core::services::ServiceConfig;
use gatehouse_core::{Ctx, Services};
use gatehouse_store::StoreOptions;
use sea_orm::{ConnectionTrait, Database};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

pub struct TestDb {
    pub url: String,
    pub backend: &'static str,
    pub dir: tempfile::TempDir,
}

fn postgres_admin_url() -> Option<String> {
    std::env::var("GATEHOUSE_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())
}

/// Replace the database name of a postgres:// URL.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let cut = base.rfind('/').filter(|&i| i > "postgres://".len()).unwrap_or(base.len());
    let mut out = format!("{}/{db}", &base[..cut]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

pub async fn sqlite_db() -> TestDb {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("gatehouse.db").display());
    TestDb { url, backend: "sqlite", dir }
}

pub async fn postgres_db(admin: &str) -> TestDb {
    let name = format!("gh_test_{}", uuid::Uuid::new_v4().simple());
    let conn =
        Database::connect(admin).await.unwrap_or_else(|e| panic!("GATEHOUSE_TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}"));
    conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
    let _ = conn.close().await;
    TestDb { url: with_database(admin, &name), backend: "postgres", dir: tempfile::tempdir().expect("tempdir") }
}

/// Every backend this run tests: SQLite, plus PostgreSQL when configured.
pub async fn databases() -> Vec<TestDb> {
    let mut dbs = vec![sqlite_db().await];
    if let Some(admin) = postgres_admin_url() {
        dbs.push(postgres_db(&admin).await);
    }
    dbs
}

#[allow(dead_code)] // url and dir serve tests that run a process against the same database
pub struct Env {
    /// The database URL (for running the CLI or a server against the same database).
    pub url: String,
    pub backend: &'static str,
    /// A scratch directory that lives as long as the test.
    pub dir: PathBuf,
    pub svc: Arc<Services>,
    /// The operator (root of the management account).
    pub ctx: Ctx,
}

pub async fn open_services(db: &TestDb, config: ServiceConfig) -> Arc<Services> {
    open_services_at(db, config, Arc::new(SystemClock)).await
}

pub async fn open_services_at(db: &TestDb, config: ServiceConfig, clock: Arc<dyn Clock>) -> Arc<Services> {
    let options = StoreOptions { max_connections: 4, ..StoreOptions::default() };
    let store = gatehouse_store::connect(&db.url, &options).await.expect("connect");
    Arc::new(Services::open(store, MasterKey::generate(), clock, config).await.expect("open services"))
}

/// Open and bootstrap an instance on `db`. `db` must outlive the returned Env (it owns the files).
pub async fn env_with(db: &TestDb, config: ServiceConfig) -> Env {
    let svc = open_services(db, config).await;
    svc.bootstrap().await.expect("bootstrap").expect("fresh instance");
    let ctx = svc.operator_ctx("tester").expect("operator ctx");
    Env { url: db.url.clone(), backend: db.backend, dir: db.dir.path().to_path_buf(), svc, ctx }
}

/// Run `test` once per backend, each with a fresh bootstrapped instance.
pub async fn each_backend<F, Fut>(test: F)
where
    F: Fn(Env) -> Fut,
    Fut: Future<Output = ()>,
{
    each_backend_with(ServiceConfig::default(), test).await
}

pub async fn each_backend_with<F, Fut>(config: ServiceConfig, test: F)
where
    F: Fn(Env) -> Fut,
    Fut: Future<Output = ()>,
{
    for db in databases().await {
        let backend = db.backend;
        eprintln!("-- on {backend}");
        test(env_with(&db, config.clone()).await).await;
        drop(db);
    }
}

pub fn profile(user_name: &str, email: &str) -> UserProfile {
    UserProfile {
        user_name: user_name.to_string(),
        name: Name { given_name: Some("Given".into()), family_name: Some("Family".into()), ..Default::default() },
        display_name: Some(format!("{user_name} display")),
        emails: vec![TypedValue { value: Some(email.to_string()), kind: Some("work".into()), primary: true, display: None }],
        ..Default::default()
    }
}

/// The newest audit record with this event name.
pub async fn last_event(svc: &Services, name: &str) -> AuditRecord {
    svc.flush_audit().await;
    let mut tx = svc.store().begin().await.expect("begin");
    let rows = tx.list_audit(&AuditQuery { event_name: Some(name.into()), limit: 100_000, ..Default::default() }).await.expect("audit");
    tx.rollback().await.expect("rollback");
    rows.into_iter().last().unwrap_or_else(|| panic!("no {name} audit record")).record
}

/// How many records with this event name succeeded (no errorCode).
pub async fn successful_events(svc: &Services, name: &str) -> usize {
    svc.flush_audit().await;
    let mut tx = svc.store().begin().await.expect("begin");
    let rows = tx.list_audit(&AuditQuery { event_name: Some(name.into()), limit: 100_000, ..Default::default() }).await.expect("audit");
    tx.rollback().await.expect("rollback");
    rows.iter().filter(|r| r.record.error_code.is_none()).count()
}

#[test]
fn database_name_replacement() {
    assert_eq!(with_database("postgres://u:p@127.0.0.1:5432/postgres", "x"), "postgres://u:p@127.0.0.1:5432/x");
    assert_eq!(with_database("postgres://u@h/postgres?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
    assert_eq!(with_database("postgres://u@h:1", "x"), "postgres://u@h:1/x");
}
