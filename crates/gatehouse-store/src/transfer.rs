//! Moving a whole Gatehouse database: table by table through the entities (so each backend's
//! types are converted by the same code that reads and writes them every day), counted on both
//! sides. Used by `gatehouse migrate` (SQLite → PostgreSQL), `gatehouse check` (counts) and the
//! SQLite online backup.

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, IntoActiveModel, Iterable, PaginatorTrait,
    PrimaryKeyToColumn, QueryOrder, QuerySelect, TransactionTrait,
};

use crate::entity::*;

/// Rows copied per round trip.
const BATCH: u64 = 500;

/// One table's rows on each side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCount {
    pub table: &'static str,
    pub source: u64,
    pub target: u64,
}

/// Calls `$f::<Entity>(table name, $arg)` for every table that holds state, parents before the
/// tables whose foreign keys name them (users and groups before memberships and passwords). Rate
/// buckets and the write lock are per-node scratch and are not moved.
macro_rules! each_table {
    ($f:ident, $arg:expr) => {{
        let arg = $arg;
        vec![
            $f::<instance::Entity>("instance", arg).await?,
            $f::<user::Entity>("users", arg).await?,
            $f::<group::Entity>("groups", arg).await?,
            $f::<user_password::Entity>("user_passwords", arg).await?,
            $f::<membership::Entity>("group_memberships", arg).await?,
            $f::<external_id::Entity>("external_ids", arg).await?,
            $f::<user_idp_tags::Entity>("user_idp_tags", arg).await?,
            $f::<org_unit::Entity>("org_units", arg).await?,
            $f::<account::Entity>("accounts", arg).await?,
            $f::<access_key::Entity>("access_keys", arg).await?,
            $f::<setting::Entity>("settings", arg).await?,
            $f::<scim_token::Entity>("scim_tokens", arg).await?,
            $f::<portal_session::Entity>("portal_sessions", arg).await?,
            $f::<mfa_device::Entity>("mfa_devices", arg).await?,
            $f::<trusted_device::Entity>("trusted_devices", arg).await?,
            $f::<email_token::Entity>("email_tokens", arg).await?,
            $f::<signin_throttle::Entity>("signin_throttle", arg).await?,
            $f::<application::Entity>("applications", arg).await?,
            $f::<app_certificate::Entity>("app_certificates", arg).await?,
            $f::<app_assignment::Entity>("app_assignments", arg).await?,
            $f::<permission_set::Entity>("permission_sets", arg).await?,
            $f::<account_assignment::Entity>("account_assignments", arg).await?,
            $f::<ou_assignment::Entity>("ou_assignments", arg).await?,
            $f::<sso_request::Entity>("sso_requests", arg).await?,
            $f::<provisioned_role::Entity>("provisioned_roles", arg).await?,
            $f::<resource_tag::Entity>("resource_tags", arg).await?,
            $f::<lease::Entity>("leases", arg).await?,
            $f::<job::Entity>("jobs", arg).await?,
            $f::<oidc_client::Entity>("oidc_clients", arg).await?,
            $f::<device_authorization::Entity>("device_authorizations", arg).await?,
            $f::<sso_token::Entity>("sso_tokens", arg).await?,
            $f::<authorization_code::Entity>("authorization_codes", arg).await?,
            $f::<saml_sp_id::Entity>("saml_sp_ids", arg).await?,
            $f::<audit_event::Entity>("audit_events", arg).await?,
        ]
    }};
}

async fn count<E: EntityTrait<Model: Sync>>(table: &'static str, db: &DatabaseConnection) -> Result<(&'static str, u64), sea_orm::DbErr> {
    Ok((table, E::find().count(db).await?))
}

/// Rows per table.
pub async fn table_counts(db: &DatabaseConnection) -> Result<Vec<(&'static str, u64)>, sea_orm::DbErr> {
    Ok(each_table!(count, db))
}

/// What to report while copying: the table, and rows copied so far in it.
pub type Progress<'a> = &'a (dyn Fn(&str, u64) + Sync);

async fn copy<E>(
    table: &'static str,
    (from, to, progress): (&DatabaseConnection, &sea_orm::DatabaseTransaction, Progress<'_>),
) -> Result<TableCount, sea_orm::DbErr>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel> + Sync,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    let mut query = E::find();
    for key in E::PrimaryKey::iter() {
        query = query.order_by_asc(key.into_column());
    }
    let mut copied = 0;
    loop {
        let rows = query.clone().offset(copied).limit(BATCH).all(from).await?;
        if rows.is_empty() {
            break;
        }
        let n = rows.len() as u64;
        E::insert_many(rows.into_iter().map(IntoActiveModel::into_active_model))
            .on_conflict(OnConflict::new().do_nothing().to_owned())
            .exec_without_returning(to)
            .await?;
        copied += n;
        progress(table, copied);
        if n < BATCH {
            break;
        }
    }
    Ok(TableCount { table, source: copied, target: E::find().count(to).await? })
}

/// Copy every table of `from` into `to` (migrated, and empty of Gatehouse data) in one
/// transaction: a failure leaves `to` as it was. Returns each table's count on both sides.
pub async fn copy_all(
    from: &DatabaseConnection,
    to: &DatabaseConnection,
    progress: Progress<'_>,
) -> Result<Vec<TableCount>, sea_orm::DbErr> {
    let txn = to.begin().await?;
    let counts = each_table!(copy, (from, &txn, progress));
    // PostgreSQL hands out audit sequence numbers from a sequence: carry on after the copied ones.
    if to.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(
            "SELECT setval(pg_get_serial_sequence('audit_events', 'seq'), GREATEST((SELECT MAX(seq) FROM audit_events), 1))",
        )
        .await?;
    }
    txn.commit().await?;
    Ok(counts)
}

/// A consistent copy of a live SQLite database (`VACUUM INTO`: readers and the writer go on).
pub async fn sqlite_snapshot(db: &DatabaseConnection, destination: &std::path::Path) -> Result<(), sea_orm::DbErr> {
    let path = destination.to_string_lossy().replace('\'', "''");
    db.execute_unprepared(&format!("VACUUM INTO '{path}'")).await?;
    Ok(())
}

/// What one table's sealed values became: rows sealed again.
pub type Resealed = (&'static str, u64);

/// Seal every secret at rest again (after a master key rotation), in one transaction: the
/// columns that hold sealed values, and the settings and pending sign-in steps whose text holds
/// them. `reseal` returns the new text, or None when the text holds no sealed value.
pub async fn reseal_all(
    db: &DatabaseConnection,
    reseal: &(dyn Fn(&str) -> Result<Option<String>, String> + Sync),
) -> Result<Vec<Resealed>, String> {
    use sea_orm::Set;
    let err = |e: sea_orm::DbErr| e.to_string();
    let txn = db.begin().await.map_err(err)?;
    let mut out = Vec::new();

    let mut n = 0;
    for m in access_key::Entity::find().all(&txn).await.map_err(err)? {
        if let Some(new) = reseal(&m.sealed_secret)? {
            let mut a = m.into_active_model();
            a.sealed_secret = Set(new);
            a.update(&txn).await.map_err(err)?;
            n += 1;
        }
    }
    out.push(("access_keys", n));

    let mut n = 0;
    for m in mfa_device::Entity::find().all(&txn).await.map_err(err)? {
        if let Some(new) = reseal(&m.secret)? {
            let mut a = m.into_active_model();
            a.secret = Set(new);
            a.update(&txn).await.map_err(err)?;
            n += 1;
        }
    }
    out.push(("mfa_devices", n));

    let mut n = 0;
    for m in app_certificate::Entity::find().all(&txn).await.map_err(err)? {
        if let Some(new) = reseal(&m.sealed_key)? {
            let mut a = m.into_active_model();
            a.sealed_key = Set(new);
            a.update(&txn).await.map_err(err)?;
            n += 1;
        }
    }
    out.push(("app_certificates", n));

    let mut n = 0;
    for m in setting::Entity::find().all(&txn).await.map_err(err)? {
        if let Some(new) = reseal(&m.value)? {
            let mut a = m.into_active_model();
            a.value = Set(new);
            a.update(&txn).await.map_err(err)?;
            n += 1;
        }
    }
    out.push(("settings", n));

    let mut n = 0;
    for m in portal_session::Entity::find().all(&txn).await.map_err(err)? {
        if let Some(new) = m.pending.as_deref().map(reseal).transpose()?.flatten() {
            let mut a = m.into_active_model();
            a.pending = Set(Some(new));
            a.update(&txn).await.map_err(err)?;
            n += 1;
        }
    }
    out.push(("portal_sessions", n));

    txn.commit().await.map_err(err)?;
    Ok(out)
}
