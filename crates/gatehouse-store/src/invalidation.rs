//! Cross-node cache invalidation on PostgreSQL: every committed write transaction notifies the
//! channel, and each node listens and drops its read caches at once. The caches' own lifetime
//! (READ_CACHE_TTL) still bounds staleness should a notification be missed (a dropped listener
//! reconnects, and clears its caches when it does).

use std::time::Duration;

use sea_orm::DatabaseConnection;
use sea_orm::sqlx::postgres::PgListener;

const CHANNEL: &str = "gatehouse_caches";

/// Sent inside each write transaction; delivered at its commit.
pub(crate) const NOTIFY: &str = "NOTIFY gatehouse_caches";

/// Listen for other nodes' writes on a PostgreSQL store, calling `changed` for each (and after
/// each reconnection). None on SQLite, which one node serves.
pub fn spawn_listener(db: &DatabaseConnection, changed: impl Fn() + Send + Sync + 'static) -> Option<tokio::task::JoinHandle<()>> {
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return None;
    }
    let pool = db.get_postgres_connection_pool().clone();
    Some(tokio::spawn(async move {
        loop {
            let listening = async {
                let mut listener = PgListener::connect_with(&pool).await?;
                listener.listen(CHANNEL).await?;
                // Whatever happened while not listening is unknown: start afresh.
                changed();
                loop {
                    listener.recv().await?;
                    changed();
                }
            };
            let ended: Result<(), sea_orm::sqlx::Error> = listening.await;
            if let Err(e) = ended {
                tracing::warn!(error = %e, "cache invalidation listener lost its connection; reconnecting");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }))
}
