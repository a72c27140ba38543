//! Gatehouse storage on SQLite (embedded default) and PostgreSQL through one SeaORM code path.

pub mod condition_sql;
mod convert;
mod entity;
mod group_commit;
pub mod invalidation;
mod migration;
mod sqlite_tuning;
mod sqlite_writer;
pub mod transfer;
mod tx;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use sea_orm_migration::MigratorTrait;
use std::sync::Arc;
use std::time::Duration;

use gatehouse_core::error::StoreError;
use gatehouse_core::store::{PoolStats, Store, StoreResult, Tx};

pub use migration::Migrator;

/// How to open the database.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub max_connections: u32,
    /// SQLite only: FULL makes every commit durable across power loss; NORMAL (with WAL) across
    /// process crashes only.
    pub sqlite_synchronous_full: bool,
    pub connect_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions { max_connections: 16, sqlite_synchronous_full: true, connect_timeout: Duration::from_secs(10) }
    }
}

pub struct SeaStore {
    db: DatabaseConnection,
    backend: DbBackend,
    /// SQLite has one writer at a time; every transaction writes (its audit record at least), so
    /// transactions queue here instead of spinning on SQLITE_BUSY, and commit in groups.
    sqlite_writer: Option<group_commit::GroupCommit>,
    /// SQLite reads, in place too (sqlite_writer.rs).
    sqlite_readers: Option<sqlite_writer::ReadPool>,
    /// SQLite serves one node, so its rate buckets live in memory.
    local_buckets: std::sync::Mutex<std::collections::HashMap<String, (f64, f64)>>,
}

/// Connect to `url` (`sqlite://path?mode=rwc` or `postgres://…`) and run pending migrations.
pub async fn connect(url: &str, options: &StoreOptions) -> StoreResult<Arc<SeaStore>> {
    let mut opts = ConnectOptions::new(url.to_string());
    opts.max_connections(options.max_connections)
        .min_connections(1)
        .connect_timeout(options.connect_timeout)
        .acquire_timeout(options.connect_timeout)
        .sqlx_logging(false);
    let sqlite = url.starts_with("sqlite:");
    if sqlite {
        let full = options.sqlite_synchronous_full;
        opts.max_connections(options.max_connections.min(4));
        opts.map_sqlx_sqlite_pool_opts(|pool| pool.after_connect(|conn, _| Box::pin(sqlite_tuning::stable_query_plans(conn))));
        opts.map_sqlx_sqlite_opts(move |o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30))
                .synchronous(if full { SqliteSynchronous::Full } else { SqliteSynchronous::Normal })
                // A 64 MiB page cache per connection and reads through mmap: lookups of a
                // 50,000-user store stay in memory instead of costing a pread each.
                .pragma("cache_size", "-65536")
                .pragma("mmap_size", "268435456")
                .create_if_missing(true)
        });
    }
    let db = Database::connect(opts).await.map_err(convert::db_err)?;
    Migrator::up(&db, None).await.map_err(convert::db_err)?;
    let backend = db.get_database_backend();
    let (sqlite_writer, sqlite_readers) = if sqlite {
        let path = sqlite_path(url)?;
        let writer = sqlite_writer::LiteConn::open(&path, options.sqlite_synchronous_full).map_err(convert::db_err)?;
        let readers = sqlite_writer::ReadPool::open(&path, READERS).map_err(convert::db_err)?;
        (Some(group_commit::GroupCommit::new(writer)), Some(readers))
    } else {
        (None, None)
    };
    Ok(Arc::new(SeaStore { db, backend, sqlite_writer, sqlite_readers, local_buckets: Default::default() }))
}

impl SeaStore {
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    pub async fn close(&self) {
        let _ = self.db.clone().close().await;
    }
}

#[async_trait]
impl Store for SeaStore {
    async fn begin(&self) -> StoreResult<Box<dyn Tx>> {
        if let Some(writer) = &self.sqlite_writer {
            let (conn, slot) = writer.begin().await?;
            return Ok(Box::new(tx::SeaTx::on_writer(conn, slot)));
        }
        let txn = self.db.begin().await.map_err(convert::db_err)?;
        Ok(Box::new(tx::SeaTx::new(txn)))
    }

    /// Reads run on the pool without BEGIN/ROLLBACK, statement by statement: each statement sees a
    /// consistent snapshot by itself on both backends, and read operations answer from one
    /// statement (those that run several, such as IsMemberInGroups, need no snapshot across them).
    async fn begin_read(&self) -> StoreResult<Box<dyn Tx>> {
        if let Some(readers) = &self.sqlite_readers {
            return Ok(Box::new(tx::SeaTx::reads_in_place(readers.conn())));
        }
        Ok(Box::new(tx::SeaTx::reads(self.db.clone())))
    }

    async fn ping(&self) -> StoreResult<()> {
        self.db.ping().await.map_err(convert::db_err)
    }

    async fn take_token(&self, key: &str, rate: f64, burst: f64, now: DateTime<Utc>) -> StoreResult<bool> {
        let now = now.timestamp_micros() as f64 / 1e6;
        if self.backend != DbBackend::Postgres {
            let mut buckets = self.local_buckets.lock().unwrap_or_else(|p| p.into_inner());
            let (tokens, at) = buckets.entry(key.to_string()).or_insert((burst, now));
            let available = (*tokens + (now - *at).max(0.0) * rate).min(burst);
            *at = now;
            *tokens = if available >= 1.0 { available - 1.0 } else { available };
            return Ok(available >= 1.0);
        }
        // One statement: refill by elapsed time, take a token only if one is there. Concurrent
        // nodes serialize on the row; a refused take changes nothing and returns no row.
        let sql = "INSERT INTO rate_buckets (key, tokens, updated_at) VALUES ($1, $2 - 1, $3) \
                   ON CONFLICT (key) DO UPDATE SET \
                     tokens = LEAST($2, rate_buckets.tokens + GREATEST($3 - rate_buckets.updated_at, 0) * $4) - 1, \
                     updated_at = $3 \
                   WHERE LEAST($2, rate_buckets.tokens + GREATEST($3 - rate_buckets.updated_at, 0) * $4) >= 1 \
                   RETURNING tokens";
        let stmt = Statement::from_sql_and_values(DbBackend::Postgres, sql, [key.into(), burst.into(), now.into(), rate.into()]);
        let row = self.db.query_one_raw(stmt).await.map_err(convert::db_err)?;
        Ok(row.is_some())
    }

    fn pool_stats(&self) -> PoolStats {
        match self.backend {
            DbBackend::Sqlite => {
                let p = self.db.get_sqlite_connection_pool();
                PoolStats { size: p.size(), idle: p.num_idle() as u32 }
            }
            DbBackend::Postgres => {
                let p = self.db.get_postgres_connection_pool();
                PoolStats { size: p.size(), idle: p.num_idle() as u32 }
            }
            _ => PoolStats::default(),
        }
    }

    fn backend(&self) -> &'static str {
        match self.backend {
            DbBackend::Sqlite => "sqlite",
            DbBackend::Postgres => "postgres",
            _ => "other",
        }
    }
}

/// SQLite read connections: a statement holds one for microseconds, so a few serve many tasks.
const READERS: usize = 4;

/// The file of a `sqlite:` URL, as sqlx reads it (`sqlite://path?options` or `sqlite:path`).
fn sqlite_path(url: &str) -> StoreResult<std::path::PathBuf> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Err(StoreError::Other(format!("{url}: the SQLite store needs a database file")));
    }
    Ok(path.into())
}

/// A convenience for errors outside a transaction.
pub fn store_error(message: impl Into<String>) -> StoreError {
    StoreError::Other(message.into())
}
