//! Per-connection SQLite settings that sqlx's options cannot express.

use sea_orm::sqlx;
use std::os::raw::c_int;

/// Turn on SQLite's query planner stability guarantee (SQLITE_DBCONFIG_ENABLE_QPSG).
///
/// The bundled SQLite is built with STAT4. Without QPSG, a prepared statement whose WHERE clause
/// compares an indexed column with a bound value is marked expired whenever that value changes,
/// and `sqlite3_step` recompiles it: every lookup by user name, email or id was parsed and
/// planned again (about a fifth of the server's CPU under SCIM provisioning). With QPSG the
/// cached plan is reused; plans then never depend on the values, which suits these key lookups.
pub async fn stable_query_plans(conn: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is the connection's live handle, and the lock guarantees sqlx's worker thread
    // makes no call on it meanwhile; SQLITE_DBCONFIG_ENABLE_QPSG takes an int and an optional
    // int* for the old value, per the SQLite C API.
    let rc = unsafe {
        libsqlite3_sys::sqlite3_db_config(db, libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG, 1 as c_int, std::ptr::null_mut::<c_int>())
    };
    if rc == libsqlite3_sys::SQLITE_OK {
        Ok(())
    } else {
        Err(sqlx::Error::Protocol(format!("sqlite3_db_config(ENABLE_QPSG) failed with code {rc}")))
    }
}
