//! The SQLite write connection, driven in place.
//!
//! sqlx runs each SQLite connection on a worker thread and hands it every statement through a
//! channel: a write operation of seven statements paid fourteen thread hand-offs while holding
//! SQLite's only write lock, and that hold time capped provisioning throughput (docs/design/0011).
//! Writes therefore go to one rusqlite connection that the task holding the writer (see
//! group_commit.rs) drives directly: a statement is a cached-statement lookup and a few
//! microseconds of SQLite work on the calling thread. Only the COMMIT, which waits for an fsync,
//! moves to a blocking thread. Reads keep using sqlx's pool, which runs alongside in WAL mode.
//!
//! The same SeaORM-built statements run here as on PostgreSQL: the writer binds SeaORM values and
//! returns rows as SeaORM values, typed by the columns' declared types so that entities decode
//! exactly as they do from sqlx. SeaORM 2.0.4 offers one public way to turn such values into its
//! `QueryResult` and `ExecResult`: its in-memory database, `MockDatabase`, which hands back rows it
//! is given. It serves here only as that constructor (its `proxy` feature, meant for this, does not
//! compile in 2.0.4 alongside sqlx-sqlite).

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::types::{Value as Lite, ValueRef};
use rusqlite::{Connection, OpenFlags};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, ExecResult, MockDatabase, MockExecResult, QueryResult, RuntimeErr, Statement, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Connections that serve reads in place, as the writer serves writes: each statement borrows
/// one for its few microseconds. WAL readers never wait for the writer.
pub struct ReadPool {
    conns: Vec<LiteConn>,
    next: std::sync::atomic::AtomicUsize,
}

impl ReadPool {
    pub fn open(path: &Path, size: usize) -> Result<Self, DbErr> {
        let conns = (0..size.max(1)).map(|_| LiteConn::open(path, true)).collect::<Result<_, _>>()?;
        Ok(ReadPool { conns, next: Default::default() })
    }

    /// A connection for the next read operation, round robin.
    pub fn conn(&self) -> LiteConn {
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % self.conns.len();
        self.conns[i].clone()
    }
}

/// Prepared statements kept per connection; the store issues a few dozen distinct ones.
const STATEMENT_CACHE: usize = 256;

/// WAL pages between checkpoints (SQLite's default is 1,000). A checkpoint copies each page once
/// however often it changed since the last, and index pages change on nearly every write, so a
/// longer WAL (16 MiB here) copies far fewer pages per write.
const CHECKPOINT_PAGES: u32 = 4_000;

/// One SQLite connection driven in place: the writer, or one of the read pool.
#[derive(Clone)]
pub struct LiteConn(Arc<Mutex<Connection>>);

impl LiteConn {
    /// Open `path` with the pool's settings: WAL, the chosen durability, foreign keys, the same
    /// page cache and the query planner stability guarantee.
    pub fn open(path: &Path, synchronous_full: bool) -> Result<Self, DbErr> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(lite_err)?;
        conn.busy_timeout(Duration::from_secs(30)).map_err(lite_err)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let sync = if synchronous_full { "FULL" } else { "NORMAL" };
        // temp_store = MEMORY keeps each operation's savepoint journal (group_commit.rs) in
        // memory: on disk it cost a file open and a write for every page an operation touched,
        // a fifth of a SCIM create's time (docs/benchmarks.md).
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = {sync}; PRAGMA foreign_keys = ON; \
             PRAGMA cache_size = -65536; PRAGMA mmap_size = 268435456; PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}; \
             PRAGMA temp_store = MEMORY;"
        ))
        .map_err(lite_err)?;
        // SAFETY: the handle is this connection's, used on this thread only for this call;
        // SQLITE_DBCONFIG_ENABLE_QPSG takes an int and an optional int* (see sqlite_tuning.rs).
        let rc = unsafe {
            libsqlite3_sys::sqlite3_db_config(
                conn.handle(),
                libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
                1 as std::os::raw::c_int,
                std::ptr::null_mut::<std::os::raw::c_int>(),
            )
        };
        if rc != libsqlite3_sys::SQLITE_OK {
            return Err(DbErr::Custom(format!("sqlite3_db_config(ENABLE_QPSG) failed with code {rc}")));
        }
        Ok(LiteConn(Arc::new(Mutex::new(conn))))
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, DbErr> {
        // The writer: the group-commit lock already serializes users, so this mutex is never
        // contended. A reader: held for one statement. A panic while it was held leaves nothing a
        // later ROLLBACK cannot undo.
        let conn = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(&conn).map_err(lite_err)
    }

    /// Transaction control and other statements without parameters or rows.
    pub fn batch(&self, sql: &str) -> Result<(), DbErr> {
        self.with(|c| c.execute_batch(sql))
    }

    /// COMMIT waits for the fsync: run it where blocking is allowed.
    pub async fn commit(&self) -> Result<(), DbErr> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.batch("COMMIT"))
            .await
            .map_err(|e| DbErr::Custom(format!("the commit task failed: {e}")))?
    }

    pub async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let params = params(&stmt)?;
        let (last_insert_id, rows_affected) = self.with(|c| {
            let mut s = c.prepare_cached(&stmt.sql)?;
            let changed = s.execute(rusqlite::params_from_iter(params.iter()))?;
            Ok((c.last_insert_rowid() as u64, changed as u64))
        })?;
        let result = MockExecResult { last_insert_id, rows_affected };
        MockDatabase::new(DbBackend::Sqlite).append_exec_results([result]).into_connection().execute_raw(stmt).await
    }

    pub async fn query(&self, stmt: Statement, limit: Option<usize>) -> Result<Vec<QueryResult>, DbErr> {
        let rows = self.rows(&stmt, limit)?;
        MockDatabase::new(DbBackend::Sqlite).append_query_results([rows]).into_connection().query_all_raw(stmt).await
    }

    fn rows(&self, stmt: &Statement, limit: Option<usize>) -> Result<Vec<BTreeMap<String, Value>>, DbErr> {
        let params = params(stmt)?;
        self.with(|c| {
            let mut s = c.prepare_cached(&stmt.sql)?;
            let columns: Vec<(String, Option<String>)> =
                s.columns().iter().map(|col| (col.name().to_string(), col.decl_type().map(str::to_ascii_lowercase))).collect();
            let mut rows = s.query(rusqlite::params_from_iter(params.iter()))?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let mut values = BTreeMap::new();
                for (i, (name, decl)) in columns.iter().enumerate() {
                    values.insert(name.clone(), to_sea(row.get_ref(i)?, decl.as_deref()).map_err(|e| conversion(name, e))?);
                }
                out.push(values);
                if limit.is_some_and(|n| out.len() >= n) {
                    break;
                }
            }
            Ok(out)
        })
    }
}

fn params(stmt: &Statement) -> Result<Vec<Lite>, DbErr> {
    stmt.values.as_ref().map(|v| v.0.iter().map(to_lite).collect()).unwrap_or_else(|| Ok(Vec::new()))
}

/// A SeaORM value as SQLite stores it — the encodings sqlx uses, so both connections agree.
fn to_lite(v: &Value) -> Result<Lite, DbErr> {
    fn int<T: Into<i64> + Copy>(x: &Option<T>) -> Lite {
        x.map_or(Lite::Null, |x| Lite::Integer(x.into()))
    }
    Ok(match v {
        Value::Bool(b) => b.map_or(Lite::Null, |b| Lite::Integer(b as i64)),
        Value::TinyInt(x) => int(x),
        Value::SmallInt(x) => int(x),
        Value::Int(x) => int(x),
        Value::BigInt(x) => int(x),
        Value::TinyUnsigned(x) => int(x),
        Value::SmallUnsigned(x) => int(x),
        Value::Unsigned(x) => int(x),
        Value::BigUnsigned(x) => match x {
            None => Lite::Null,
            Some(x) => Lite::Integer(i64::try_from(*x).map_err(|_| DbErr::Custom(format!("{x} does not fit SQLite's integer")))?),
        },
        Value::Float(x) => x.map_or(Lite::Null, |x| Lite::Real(x.into())),
        Value::Double(x) => x.map_or(Lite::Null, Lite::Real),
        Value::String(s) => s.clone().map_or(Lite::Null, Lite::Text),
        Value::Char(c) => c.map_or(Lite::Null, |c| Lite::Text(c.to_string())),
        Value::Bytes(b) => b.clone().map_or(Lite::Null, Lite::Blob),
        Value::Json(j) => j.as_ref().map_or(Lite::Null, |j| Lite::Text(j.to_string())),
        Value::ChronoDateTimeUtc(t) => t.map_or(Lite::Null, |t| Lite::Text(t.to_rfc3339_opts(SecondsFormat::AutoSi, false))),
        other => return Err(DbErr::Custom(format!("the SQLite writer cannot bind {other:?}"))),
    })
}

/// A stored value as the SeaORM value its column's declared type calls for.
fn to_sea(v: ValueRef<'_>, decl: Option<&str>) -> Result<Value, String> {
    let text = |v: ValueRef<'_>| v.as_str().map(str::to_string).map_err(|e| e.to_string());
    Ok(match (decl, v) {
        (Some("boolean"), ValueRef::Null) => Value::Bool(None),
        (Some("boolean"), ValueRef::Integer(i)) => Value::Bool(Some(i != 0)),
        (Some(d), ValueRef::Null) if d.starts_with("timestamp") => Value::ChronoDateTimeUtc(None),
        (Some(d), v @ ValueRef::Text(_)) if d.starts_with("timestamp") => {
            let t = text(v)?;
            Value::ChronoDateTimeUtc(Some(DateTime::parse_from_rfc3339(&t).map_err(|e| format!("{t:?}: {e}"))?.with_timezone(&Utc)))
        }
        (Some("double" | "real" | "float"), ValueRef::Null) => Value::Double(None),
        (Some("integer" | "bigint"), ValueRef::Null) => Value::BigInt(None),
        (Some(d), ValueRef::Null) if d.starts_with("blob") => Value::Bytes(None),
        (_, ValueRef::Null) => Value::String(None),
        (_, ValueRef::Integer(i)) => Value::BigInt(Some(i)),
        (_, ValueRef::Real(f)) => Value::Double(Some(f)),
        (_, v @ ValueRef::Text(_)) => Value::String(Some(text(v)?)),
        (_, ValueRef::Blob(b)) => Value::Bytes(Some(b.to_vec())),
    })
}

fn conversion(column: &str, e: String) -> rusqlite::Error {
    rusqlite::Error::InvalidColumnName(format!("{column}: {e}"))
}

/// SQLite's message is kept as is: `db_err` recognizes "UNIQUE constraint failed" in it, as it
/// does in sqlx's.
fn lite_err(e: rusqlite::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::Internal(e.to_string()))
}
