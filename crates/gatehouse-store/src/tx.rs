//! One transaction implementing every repository.

mod applications;
mod oidc;
mod permission_sets;
mod saml_sp;
mod signin;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, LockBehavior, LockType, Query, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, EntityTrait,
    ExecResult, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QueryResult, QuerySelect, Set, Statement,
};

use gatehouse_core::model::*;
use gatehouse_core::store::*;

use crate::condition_sql::{Resource, condition_expr};
use crate::convert::*;
use crate::entity::{
    access_key, account, audit_event, external_id, group, instance, job, membership, org_unit, scim_token as scim_row, setting, user,
    user_password,
};
use crate::group_commit::Slot;
use crate::sqlite_writer::LiteConn;

/// Where a unit of work runs: a transaction (writes), or the pool directly (reads: each
/// statement on its own, without the BEGIN and ROLLBACK round trips around it).
pub enum Db {
    Txn(DatabaseTransaction),
    Pool(DatabaseConnection),
    /// SQLite: a savepoint on the writer connection (group_commit.rs), or a read connection.
    Writer(LiteConn),
}

#[async_trait]
impl ConnectionTrait for Db {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            Db::Txn(t) => t.get_database_backend(),
            Db::Pool(c) => c.get_database_backend(),
            Db::Writer(_) => DbBackend::Sqlite,
        }
    }
    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self {
            Db::Txn(t) => t.execute_raw(stmt).await,
            Db::Pool(c) => c.execute_raw(stmt).await,
            Db::Writer(w) => w.execute(stmt).await,
        }
    }
    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            Db::Txn(t) => t.execute_unprepared(sql).await,
            Db::Pool(c) => c.execute_unprepared(sql).await,
            Db::Writer(w) => w.execute(Statement::from_string(DbBackend::Sqlite, sql)).await,
        }
    }
    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            Db::Txn(t) => t.query_one_raw(stmt).await,
            Db::Pool(c) => c.query_one_raw(stmt).await,
            Db::Writer(w) => Ok(w.query(stmt, Some(1)).await?.pop()),
        }
    }
    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            Db::Txn(t) => t.query_all_raw(stmt).await,
            Db::Pool(c) => c.query_all_raw(stmt).await,
            Db::Writer(w) => w.query(stmt, None).await,
        }
    }
}

pub struct SeaTx {
    /// Present until commit or rollback (which consume the transaction) or drop.
    txn: Option<Db>,
    /// SQLite writes: the hold on the writer within the commit group (group_commit.rs).
    slot: Option<Slot>,
}

impl SeaTx {
    /// PostgreSQL writes: a transaction of their own.
    pub fn new(txn: DatabaseTransaction) -> Self {
        SeaTx { txn: Some(Db::Txn(txn)), slot: None }
    }

    /// SQLite writes: a savepoint on the writer connection, within the commit group.
    pub fn on_writer(writer: LiteConn, slot: Slot) -> Self {
        SeaTx { txn: Some(Db::Writer(writer)), slot: Some(slot) }
    }

    /// Reads straight from the pool: read operations that run one statement need no transaction.
    pub fn reads(pool: DatabaseConnection) -> Self {
        SeaTx { txn: Some(Db::Pool(pool)), slot: None }
    }

    /// SQLite reads on a connection of the read pool, statement by statement.
    pub fn reads_in_place(conn: LiteConn) -> Self {
        SeaTx { txn: Some(Db::Writer(conn)), slot: None }
    }

    fn db(&self) -> &Db {
        self.txn.as_ref().expect("transaction used after commit or rollback")
    }

    /// End the transaction one way or the other, then its place in the commit group.
    async fn end(mut self: Box<Self>, commit: bool) -> StoreResult<()> {
        let slot = self.slot.take();
        let result = match (self.txn.take(), &slot) {
            // Other nodes drop their read caches when this commits (a rolled-back write tells
            // nobody: PostgreSQL delivers a notification with its transaction's commit only).
            (Some(Db::Txn(t)), _) if commit => match t.execute_unprepared(crate::invalidation::NOTIFY).await {
                Ok(_) => t.commit().await.map_err(db_err),
                Err(e) => Err(db_err(e)),
            },
            (Some(Db::Txn(t)), _) => t.rollback().await.map_err(db_err),
            (Some(Db::Writer(_)), Some(slot)) => slot.end_savepoint(commit),
            _ => Ok(()),
        };
        match (slot, result) {
            (Some(slot), Ok(())) => slot.finish(commit).await,
            (Some(slot), Err(e)) => {
                slot.abort(&e);
                Err(e)
            }
            (None, result) => result,
        }
    }
}

/// A write dropped mid-way (its request was cancelled): roll its savepoint back and give up its
/// place in the group, in that order, so no half-done operation is ever committed.
impl Drop for SeaTx {
    fn drop(&mut self) {
        let Some(slot) = self.slot.take() else { return };
        if let Err(e) = slot.end_savepoint(false) {
            slot.abort(&e);
            return;
        }
        // Finishing may commit the group, which awaits; without a runtime the writer's lock is
        // simply released and the next operation commits the group.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = slot.finish(false).await;
            });
        }
    }
}

/// Insert a row without reading it back: SeaORM's `insert` returns the stored model, which costs
/// a RETURNING clause and decoding the whole row (an audit record's JSON included).
trait InsertRow: ActiveModelTrait + Sized + Send {
    fn insert_row(self, db: &Db) -> impl std::future::Future<Output = Result<(), DbErr>> + Send;
}

impl<A> InsertRow for A
where
    A: ActiveModelTrait + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    async fn insert_row(self, db: &Db) -> Result<(), DbErr> {
        <A::Entity as EntityTrait>::insert(self).exec_without_returning(db).await.map(|_| ())
    }
}

/// Keyset pagination over rows ordered by id: fetch one more than asked to know if there is more.
fn page_of<T>(mut rows: Vec<T>, page: &Page, id: impl Fn(&T) -> String) -> Paged<T> {
    let limit = page.limit as usize;
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(id)
    } else {
        None
    };
    Paged { items: rows, next }
}

const USER: &str = "USER";
const GROUP: &str = "GROUP";

impl SeaTx {
    async fn put_external_ids(&mut self, store_id: &str, kind: &str, resource_id: &str, ids: &[ExternalId]) -> StoreResult<()> {
        external_id::Entity::delete_many()
            .filter(external_id::Column::ResourceId.eq(resource_id))
            .filter(external_id::Column::ResourceType.eq(kind))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        self.add_external_ids(store_id, kind, resource_id, ids).await
    }

    /// External ids of a resource that has none yet (just inserted).
    async fn add_external_ids(&mut self, store_id: &str, kind: &str, resource_id: &str, ids: &[ExternalId]) -> StoreResult<()> {
        for x in ids {
            external_id::ActiveModel {
                identity_store_id: Set(store_id.to_string()),
                resource_type: Set(kind.to_string()),
                resource_id: Set(resource_id.to_string()),
                issuer: Set(x.issuer.clone()),
                external_id: Set(x.id.clone()),
                ..Default::default()
            }
            .insert_row(self.db())
            .await
            .map_err(db_err)?;
        }
        Ok(())
    }

    fn condition(&self, resource: Resource, store_id: &str, c: &gatehouse_core::model::condition::Condition) -> StoreResult<SimpleExpr> {
        condition_expr(self.db().get_database_backend(), resource, store_id, c)
    }

    fn external_id_subquery(store_id: &str, kind: &str, x: &ExternalId) -> sea_orm::sea_query::SelectStatement {
        Query::select()
            .column(external_id::Column::ResourceId)
            .from(external_id::Entity)
            .and_where(external_id::Column::IdentityStoreId.eq(store_id))
            .and_where(external_id::Column::ResourceType.eq(kind))
            .and_where(external_id::Column::Issuer.eq(x.issuer.clone()))
            .and_where(external_id::Column::ExternalId.eq(x.id.clone()))
            .to_owned()
    }
}

#[async_trait]
impl Tx for SeaTx {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.end(true).await
    }
    async fn rollback(self: Box<Self>) -> StoreResult<()> {
        self.end(false).await
    }
}

#[async_trait]
impl InstanceRepo for SeaTx {
    async fn get_instance(&mut self) -> StoreResult<Option<Instance>> {
        let row = instance::Entity::find_by_id(1).one(self.db()).await.map_err(db_err)?;
        Ok(row.map(|m| Instance {
            instance_arn: m.instance_arn,
            identity_store_id: m.identity_store_id,
            organization_id: m.organization_id,
            root_id: m.root_id,
            management_account_id: m.management_account_id,
            created_at: m.created_at,
        }))
    }

    async fn insert_instance(&mut self, i: &Instance) -> StoreResult<()> {
        instance::Model {
            id: 1,
            instance_arn: i.instance_arn.clone(),
            identity_store_id: i.identity_store_id.clone(),
            organization_id: i.organization_id.clone(),
            root_id: i.root_id.clone(),
            management_account_id: i.management_account_id.clone(),
            created_at: i.created_at,
        }
        .into_active_model()
        .insert_row(self.db())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn delete_configuration(&mut self) -> StoreResult<Vec<(&'static str, u64)>> {
        use crate::entity::*;
        async fn wipe<E: EntityTrait>(table: &'static str, db: &Db) -> StoreResult<(&'static str, u64)> {
            let done = E::delete_many().exec(db).await.map_err(db_err)?;
            Ok((table, done.rows_affected))
        }
        let db = self.db();
        // Children before parents, so no foreign key (where there is one) has to cascade.
        Ok(vec![
            wipe::<user_idp_tags::Entity>("user_idp_tags", db).await?,
            wipe::<user_password::Entity>("user_passwords", db).await?,
            wipe::<membership::Entity>("group_memberships", db).await?,
            wipe::<external_id::Entity>("external_ids", db).await?,
            wipe::<portal_session::Entity>("portal_sessions", db).await?,
            wipe::<mfa_device::Entity>("mfa_devices", db).await?,
            wipe::<trusted_device::Entity>("trusted_devices", db).await?,
            wipe::<email_token::Entity>("email_tokens", db).await?,
            wipe::<signin_throttle::Entity>("signin_throttle", db).await?,
            wipe::<app_assignment::Entity>("app_assignments", db).await?,
            wipe::<app_certificate::Entity>("app_certificates", db).await?,
            wipe::<application::Entity>("applications", db).await?,
            wipe::<account_assignment::Entity>("account_assignments", db).await?,
            wipe::<ou_assignment::Entity>("ou_assignments", db).await?,
            wipe::<sso_request::Entity>("sso_requests", db).await?,
            wipe::<provisioned_role::Entity>("provisioned_roles", db).await?,
            wipe::<resource_tag::Entity>("resource_tags", db).await?,
            wipe::<permission_set::Entity>("permission_sets", db).await?,
            wipe::<job::Entity>("jobs", db).await?,
            wipe::<authorization_code::Entity>("authorization_codes", db).await?,
            wipe::<sso_token::Entity>("sso_tokens", db).await?,
            wipe::<device_authorization::Entity>("device_authorizations", db).await?,
            wipe::<oidc_client::Entity>("oidc_clients", db).await?,
            wipe::<saml_sp_id::Entity>("saml_sp_ids", db).await?,
            wipe::<scim_row::Entity>("scim_tokens", db).await?,
            // Role sessions' temporary keys: their permission sets are gone. Long-term keys stay.
            (
                "access_keys (temporary)",
                access_key::Entity::delete_many()
                    .filter(access_key::Column::SessionTokenHash.is_not_null())
                    .exec(db)
                    .await
                    .map_err(db_err)?
                    .rows_affected,
            ),
            wipe::<setting::Entity>("settings", db).await?,
            wipe::<user::Entity>("users", db).await?,
            wipe::<group::Entity>("groups", db).await?,
        ])
    }
}

#[async_trait]
impl UserRepo for SeaTx {
    async fn insert_user(&mut self, u: &User) -> StoreResult<()> {
        user::Entity::insert(user_row(u)?.into_active_model()).exec_without_returning(self.db()).await.map_err(db_err)?;
        self.add_external_ids(&u.identity_store_id, USER, &u.user_id, &u.profile.external_ids).await
    }

    async fn update_user(&mut self, u: &User) -> StoreResult<()> {
        let mut am = user_row(u)?.into_active_model().reset_all();
        am.user_id = sea_orm::ActiveValue::Unchanged(u.user_id.clone());
        am.update(self.db()).await.map_err(db_err)?;
        self.put_external_ids(&u.identity_store_id, USER, &u.user_id, &u.profile.external_ids).await
    }

    async fn get_user(&mut self, store_id: &str, user_id: &str) -> StoreResult<Option<User>> {
        let row = user::Entity::find_by_id(user_id.to_string())
            .filter(user::Column::IdentityStoreId.eq(store_id))
            .one(self.db())
            .await
            .map_err(db_err)?;
        row.map(user_from).transpose()
    }

    async fn find_user_by_name(&mut self, store_id: &str, user_name: &str) -> StoreResult<Option<User>> {
        let row = user::Entity::find()
            .filter(user::Column::IdentityStoreId.eq(store_id))
            .filter(user::Column::UserNameLower.eq(user_name.to_lowercase()))
            .one(self.db())
            .await
            .map_err(db_err)?;
        row.map(user_from).transpose()
    }

    async fn find_user_by_primary_email(&mut self, store_id: &str, email: &str) -> StoreResult<Option<User>> {
        let row = user::Entity::find()
            .filter(user::Column::IdentityStoreId.eq(store_id))
            .filter(user::Column::PrimaryEmailLower.eq(email.to_lowercase()))
            .one(self.db())
            .await
            .map_err(db_err)?;
        row.map(user_from).transpose()
    }

    async fn list_users(&mut self, store_id: &str, q: &UserQuery, page: &Page) -> StoreResult<Paged<User>> {
        let mut find = user::Entity::find().filter(user::Column::IdentityStoreId.eq(store_id));
        if let Some(n) = &q.user_name {
            find = find.filter(user::Column::UserNameLower.eq(n.to_lowercase()));
        }
        if let Some(d) = &q.display_name {
            find = find.filter(user::Column::DisplayNameLower.eq(d.to_lowercase()));
        }
        if let Some(e) = &q.email {
            find = find.filter(user::Column::PrimaryEmailLower.eq(e.to_lowercase()));
        }
        if let Some(x) = &q.external_id {
            find = find.filter(user::Column::UserId.in_subquery(Self::external_id_subquery(store_id, USER, x)));
        }
        if let Some(a) = q.active {
            find = find.filter(user::Column::Active.eq(a));
        }
        if let Some(c) = &q.condition {
            find = find.filter(self.condition(Resource::User, store_id, c)?);
        }
        if let Some(after) = &page.after {
            find = find.filter(user::Column::UserId.gt(after.clone()));
        }
        let rows = find.order_by_asc(user::Column::UserId).limit(page.limit + 1).all(self.db()).await.map_err(db_err)?;
        let users = rows.into_iter().map(user_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(page_of(users, page, |u| u.user_id.clone()))
    }

    async fn count_users(&mut self, store_id: &str) -> StoreResult<u64> {
        user::Entity::find().filter(user::Column::IdentityStoreId.eq(store_id)).count(self.db()).await.map_err(db_err)
    }

    async fn delete_user(&mut self, store_id: &str, user_id: &str) -> StoreResult<bool> {
        external_id::Entity::delete_many()
            .filter(external_id::Column::ResourceId.eq(user_id))
            .filter(external_id::Column::ResourceType.eq(USER))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        user_password::Entity::delete_by_id(user_id.to_string()).exec(self.db()).await.map_err(db_err)?;
        let r = user::Entity::delete_many()
            .filter(user::Column::UserId.eq(user_id))
            .filter(user::Column::IdentityStoreId.eq(store_id))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(r.rows_affected > 0)
    }

    async fn get_password(&mut self, user_id: &str) -> StoreResult<Option<PasswordRecord>> {
        let row = user_password::Entity::find_by_id(user_id.to_string()).one(self.db()).await.map_err(db_err)?;
        row.map(|m| {
            Ok(PasswordRecord {
                user_id: m.user_id,
                hash: m.hash,
                must_change: m.must_change,
                history: from_json(&m.history)?,
                updated_at: m.updated_at,
            })
        })
        .transpose()
    }

    async fn put_password(&mut self, r: &PasswordRecord) -> StoreResult<()> {
        user_password::Entity::delete_by_id(r.user_id.clone()).exec(self.db()).await.map_err(db_err)?;
        user_password::Model {
            user_id: r.user_id.clone(),
            hash: r.hash.clone(),
            must_change: r.must_change,
            history: to_json(&r.history)?,
            updated_at: r.updated_at,
        }
        .into_active_model()
        .insert_row(self.db())
        .await
        .map_err(db_err)?;
        Ok(())
    }
}

#[async_trait]
impl GroupRepo for SeaTx {
    async fn insert_group(&mut self, g: &Group) -> StoreResult<()> {
        group::Entity::insert(group_row(g)?.into_active_model()).exec_without_returning(self.db()).await.map_err(db_err)?;
        self.add_external_ids(&g.identity_store_id, GROUP, &g.group_id, &g.profile.external_ids).await
    }

    async fn update_group(&mut self, g: &Group) -> StoreResult<()> {
        let mut am = group_row(g)?.into_active_model().reset_all();
        am.group_id = sea_orm::ActiveValue::Unchanged(g.group_id.clone());
        am.update(self.db()).await.map_err(db_err)?;
        self.put_external_ids(&g.identity_store_id, GROUP, &g.group_id, &g.profile.external_ids).await
    }

    async fn get_group(&mut self, store_id: &str, group_id: &str) -> StoreResult<Option<Group>> {
        let row = group::Entity::find_by_id(group_id.to_string())
            .filter(group::Column::IdentityStoreId.eq(store_id))
            .one(self.db())
            .await
            .map_err(db_err)?;
        row.map(group_from).transpose()
    }

    async fn find_group_by_name(&mut self, store_id: &str, display_name: &str) -> StoreResult<Option<Group>> {
        let row = group::Entity::find()
            .filter(group::Column::IdentityStoreId.eq(store_id))
            .filter(group::Column::DisplayNameLower.eq(display_name.to_lowercase()))
            .one(self.db())
            .await
            .map_err(db_err)?;
        row.map(group_from).transpose()
    }

    async fn list_groups(&mut self, store_id: &str, q: &GroupQuery, page: &Page) -> StoreResult<Paged<Group>> {
        let mut find = group::Entity::find().filter(group::Column::IdentityStoreId.eq(store_id));
        if let Some(d) = &q.display_name {
            find = find.filter(group::Column::DisplayNameLower.eq(d.to_lowercase()));
        }
        if let Some(x) = &q.external_id {
            find = find.filter(group::Column::GroupId.in_subquery(Self::external_id_subquery(store_id, GROUP, x)));
        }
        if let Some(c) = &q.condition {
            find = find.filter(self.condition(Resource::Group, store_id, c)?);
        }
        if let Some(after) = &page.after {
            find = find.filter(group::Column::GroupId.gt(after.clone()));
        }
        let rows = find.order_by_asc(group::Column::GroupId).limit(page.limit + 1).all(self.db()).await.map_err(db_err)?;
        let groups = rows.into_iter().map(group_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(page_of(groups, page, |g| g.group_id.clone()))
    }

    async fn count_groups(&mut self, store_id: &str) -> StoreResult<u64> {
        group::Entity::find().filter(group::Column::IdentityStoreId.eq(store_id)).count(self.db()).await.map_err(db_err)
    }

    async fn delete_group(&mut self, store_id: &str, group_id: &str) -> StoreResult<bool> {
        external_id::Entity::delete_many()
            .filter(external_id::Column::ResourceId.eq(group_id))
            .filter(external_id::Column::ResourceType.eq(GROUP))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        let r = group::Entity::delete_many()
            .filter(group::Column::GroupId.eq(group_id))
            .filter(group::Column::IdentityStoreId.eq(store_id))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(r.rows_affected > 0)
    }
}

#[async_trait]
impl MembershipRepo for SeaTx {
    async fn insert_membership(&mut self, m: &Membership) -> StoreResult<()> {
        let row = membership::Model {
            membership_id: m.membership_id.clone(),
            identity_store_id: m.identity_store_id.clone(),
            group_id: m.group_id.clone(),
            user_id: m.user_id.clone(),
            created_at: m.created_at,
            created_by: m.created_by.clone(),
        };
        membership::Entity::insert(row.into_active_model()).exec_without_returning(self.db()).await.map_err(db_err)?;
        Ok(())
    }

    async fn get_membership(&mut self, store_id: &str, id: &str) -> StoreResult<Option<Membership>> {
        let row = membership::Entity::find_by_id(id.to_string())
            .filter(membership::Column::IdentityStoreId.eq(store_id))
            .one(self.db())
            .await
            .map_err(db_err)?;
        Ok(row.map(membership_from))
    }

    async fn find_membership(&mut self, store_id: &str, group_id: &str, user_id: &str) -> StoreResult<Option<Membership>> {
        let row = membership::Entity::find()
            .filter(membership::Column::IdentityStoreId.eq(store_id))
            .filter(membership::Column::GroupId.eq(group_id))
            .filter(membership::Column::UserId.eq(user_id))
            .one(self.db())
            .await
            .map_err(db_err)?;
        Ok(row.map(membership_from))
    }

    async fn list_memberships_of_group(&mut self, store_id: &str, group_id: &str, page: &Page) -> StoreResult<Paged<Membership>> {
        let mut find = membership::Entity::find()
            .filter(membership::Column::IdentityStoreId.eq(store_id))
            .filter(membership::Column::GroupId.eq(group_id));
        if let Some(after) = &page.after {
            find = find.filter(membership::Column::MembershipId.gt(after.clone()));
        }
        let rows = find.order_by_asc(membership::Column::MembershipId).limit(page.limit + 1).all(self.db()).await.map_err(db_err)?;
        Ok(page_of(rows.into_iter().map(membership_from).collect(), page, |m| m.membership_id.clone()))
    }

    async fn list_memberships_of_user(&mut self, store_id: &str, user_id: &str, page: &Page) -> StoreResult<Paged<Membership>> {
        let mut find = membership::Entity::find()
            .filter(membership::Column::IdentityStoreId.eq(store_id))
            .filter(membership::Column::UserId.eq(user_id));
        if let Some(after) = &page.after {
            find = find.filter(membership::Column::MembershipId.gt(after.clone()));
        }
        let rows = find.order_by_asc(membership::Column::MembershipId).limit(page.limit + 1).all(self.db()).await.map_err(db_err)?;
        Ok(page_of(rows.into_iter().map(membership_from).collect(), page, |m| m.membership_id.clone()))
    }

    async fn delete_membership(&mut self, store_id: &str, id: &str) -> StoreResult<bool> {
        let r = membership::Entity::delete_many()
            .filter(membership::Column::MembershipId.eq(id))
            .filter(membership::Column::IdentityStoreId.eq(store_id))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(r.rows_affected > 0)
    }

    async fn delete_memberships_of_user(&mut self, store_id: &str, user_id: &str) -> StoreResult<u64> {
        let r = membership::Entity::delete_many()
            .filter(membership::Column::IdentityStoreId.eq(store_id))
            .filter(membership::Column::UserId.eq(user_id))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(r.rows_affected)
    }

    async fn delete_memberships_of_group(&mut self, store_id: &str, group_id: &str) -> StoreResult<u64> {
        let r = membership::Entity::delete_many()
            .filter(membership::Column::IdentityStoreId.eq(store_id))
            .filter(membership::Column::GroupId.eq(group_id))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(r.rows_affected)
    }
}

#[async_trait]
impl OrgRepo for SeaTx {
    async fn insert_account(&mut self, a: &Account) -> StoreResult<()> {
        account_row(a).into_active_model().insert_row(self.db()).await.map_err(db_err)?;
        Ok(())
    }

    async fn get_account(&mut self, id: &str) -> StoreResult<Option<Account>> {
        Ok(account::Entity::find_by_id(id.to_string()).one(self.db()).await.map_err(db_err)?.map(account_from))
    }

    async fn get_accounts(&mut self, ids: &[String]) -> StoreResult<Vec<Account>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = account::Entity::find()
            .filter(account::Column::Id.is_in(ids.iter().cloned()))
            .order_by_asc(account::Column::Id)
            .all(self.db())
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().map(account_from).collect())
    }

    async fn list_accounts(&mut self, page: &Page) -> StoreResult<Paged<Account>> {
        let mut find = account::Entity::find();
        if let Some(after) = &page.after {
            find = find.filter(account::Column::Id.gt(after.clone()));
        }
        let rows = find.order_by_asc(account::Column::Id).limit(page.limit + 1).all(self.db()).await.map_err(db_err)?;
        Ok(page_of(rows.into_iter().map(account_from).collect(), page, |a| a.id.clone()))
    }

    async fn update_account(&mut self, a: &Account) -> StoreResult<()> {
        let row = account_row(a);
        let mut am = row.into_active_model().reset_all();
        am.id = sea_orm::ActiveValue::Unchanged(a.id.clone());
        am.update(self.db()).await.map_err(db_err)?;
        Ok(())
    }

    async fn delete_account(&mut self, id: &str) -> StoreResult<bool> {
        Ok(account::Entity::delete_by_id(id.to_string()).exec(self.db()).await.map_err(db_err)?.rows_affected > 0)
    }

    async fn find_account_by_email(&mut self, email: &str) -> StoreResult<Option<Account>> {
        let lower = sea_orm::sea_query::Func::lower(sea_orm::sea_query::Expr::col(account::Column::Email));
        let row = account::Entity::find()
            .filter(sea_orm::sea_query::ExprTrait::eq(sea_orm::sea_query::Expr::expr(lower), email.to_lowercase()))
            .one(self.db())
            .await
            .map_err(db_err)?;
        Ok(row.map(account_from))
    }

    async fn list_accounts_in(&mut self, parent_id: &str, page: &Page) -> StoreResult<Paged<Account>> {
        let mut find = account::Entity::find().filter(account::Column::ParentId.eq(parent_id));
        if let Some(after) = &page.after {
            find = find.filter(account::Column::Id.gt(after.clone()));
        }
        let rows = find.order_by_asc(account::Column::Id).limit(page.limit + 1).all(self.db()).await.map_err(db_err)?;
        Ok(page_of(rows.into_iter().map(account_from).collect(), page, |a| a.id.clone()))
    }

    async fn update_org_unit(&mut self, u: &OrgUnit) -> StoreResult<()> {
        let mut am =
            org_unit::Model { id: u.id.clone(), name: u.name.clone(), parent_id: u.parent_id.clone() }.into_active_model().reset_all();
        am.id = sea_orm::ActiveValue::Unchanged(u.id.clone());
        am.update(self.db()).await.map_err(db_err)?;
        Ok(())
    }

    async fn delete_org_unit(&mut self, id: &str) -> StoreResult<bool> {
        Ok(org_unit::Entity::delete_by_id(id.to_string()).exec(self.db()).await.map_err(db_err)?.rows_affected > 0)
    }

    async fn list_org_units_in(&mut self, parent_id: &str, page: &Page) -> StoreResult<Paged<OrgUnit>> {
        let mut find = org_unit::Entity::find().filter(org_unit::Column::ParentId.eq(parent_id));
        if let Some(after) = &page.after {
            find = find.filter(org_unit::Column::Id.gt(after.clone()));
        }
        let rows = find.order_by_asc(org_unit::Column::Id).limit(page.limit + 1).all(self.db()).await.map_err(db_err)?;
        let units = rows.into_iter().map(|m| OrgUnit { id: m.id, name: m.name, parent_id: m.parent_id }).collect();
        Ok(page_of(units, page, |u: &OrgUnit| u.id.clone()))
    }

    async fn insert_org_unit(&mut self, u: &OrgUnit) -> StoreResult<()> {
        org_unit::Model { id: u.id.clone(), name: u.name.clone(), parent_id: u.parent_id.clone() }
            .into_active_model()
            .insert_row(self.db())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn get_org_unit(&mut self, id: &str) -> StoreResult<Option<OrgUnit>> {
        let row = org_unit::Entity::find_by_id(id.to_string()).one(self.db()).await.map_err(db_err)?;
        Ok(row.map(|m| OrgUnit { id: m.id, name: m.name, parent_id: m.parent_id }))
    }
}

#[async_trait]
impl AccessKeyRepo for SeaTx {
    async fn insert_access_key(&mut self, k: &AccessKeyRecord) -> StoreResult<()> {
        access_key::Model {
            access_key_id: k.access_key_id.clone(),
            user_name: k.user_name.clone(),
            sealed_secret: k.sealed_secret.clone(),
            managed_policies: to_json(&k.managed_policies)?,
            inline_policies: to_json(&k.inline_policies)?,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            session_token_hash: k.session_token_hash.clone(),
            expires_at: k.expires_at,
        }
        .into_active_model()
        .insert_row(self.db())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn get_access_key(&mut self, id: &str) -> StoreResult<Option<AccessKeyRecord>> {
        access_key::Entity::find_by_id(id.to_string()).one(self.db()).await.map_err(db_err)?.map(access_key_from).transpose()
    }

    async fn list_access_keys(&mut self) -> StoreResult<Vec<AccessKeyRecord>> {
        let rows = access_key::Entity::find().order_by_asc(access_key::Column::CreatedAt).all(self.db()).await.map_err(db_err)?;
        rows.into_iter().map(access_key_from).collect()
    }

    async fn delete_access_key(&mut self, id: &str) -> StoreResult<bool> {
        let r = access_key::Entity::delete_by_id(id.to_string()).exec(self.db()).await.map_err(db_err)?;
        Ok(r.rows_affected > 0)
    }

    async fn touch_access_key(&mut self, id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        access_key::Entity::update_many()
            .col_expr(access_key::Column::LastUsedAt, Expr::value(at))
            .filter(access_key::Column::AccessKeyId.eq(id))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

fn scim_token_from(m: scim_row::Model) -> ScimToken {
    ScimToken {
        token_id: m.token_id,
        token_hash: m.token_hash,
        created_at: m.created_at,
        expires_at: m.expires_at,
        last_used_at: m.last_used_at,
    }
}

#[async_trait]
impl ScimTokenRepo for SeaTx {
    async fn insert_scim_token(&mut self, t: &ScimToken) -> StoreResult<()> {
        scim_row::Model {
            token_id: t.token_id.clone(),
            token_hash: t.token_hash.clone(),
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
        }
        .into_active_model()
        .insert_row(self.db())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn list_scim_tokens(&mut self) -> StoreResult<Vec<ScimToken>> {
        let rows = scim_row::Entity::find().order_by_asc(scim_row::Column::CreatedAt).all(self.db()).await.map_err(db_err)?;
        Ok(rows.into_iter().map(scim_token_from).collect())
    }

    async fn find_scim_token(&mut self, token_hash: &str) -> StoreResult<Option<ScimToken>> {
        let row = scim_row::Entity::find().filter(scim_row::Column::TokenHash.eq(token_hash)).one(self.db()).await.map_err(db_err)?;
        Ok(row.map(scim_token_from))
    }

    async fn delete_scim_token(&mut self, token_id: &str) -> StoreResult<bool> {
        let r = scim_row::Entity::delete_by_id(token_id.to_string()).exec(self.db()).await.map_err(db_err)?;
        Ok(r.rows_affected > 0)
    }

    async fn touch_scim_token(&mut self, token_id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        scim_row::Entity::update_many()
            .col_expr(scim_row::Column::LastUsedAt, Expr::value(at))
            .filter(scim_row::Column::TokenId.eq(token_id))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

#[async_trait]
impl SettingsRepo for SeaTx {
    async fn get_setting(&mut self, name: &str) -> StoreResult<Option<String>> {
        Ok(setting::Entity::find_by_id(name.to_string()).one(self.db()).await.map_err(db_err)?.map(|m| m.value))
    }

    async fn put_setting(&mut self, name: &str, value: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let row = setting::Model { name: name.to_string(), value: value.to_string(), updated_at: at }.into_active_model();
        setting::Entity::insert(row)
            .on_conflict(
                sea_orm::sea_query::OnConflict::column(setting::Column::Name)
                    .update_columns([setting::Column::Value, setting::Column::UpdatedAt])
                    .to_owned(),
            )
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

#[async_trait]
impl AuditRepo for SeaTx {
    async fn insert_audit(&mut self, r: &AuditRecord) -> StoreResult<()> {
        audit_event::ActiveModel {
            event_id: Set(r.event_id.clone()),
            event_time: Set(r.event_time),
            event_source: Set(r.event_source.clone()),
            event_name: Set(r.event_name.clone()),
            read_only: Set(r.read_only),
            error_code: Set(r.error_code.clone()),
            user_name: Set(r.user_name()),
            record: Set(to_json(r)?),
            ..Default::default()
        }
        .insert_row(self.db())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn list_audit(&mut self, q: &AuditQuery) -> StoreResult<Vec<StoredAudit>> {
        let mut find = audit_event::Entity::find();
        if let Some(after) = q.after_seq {
            find = find.filter(audit_event::Column::Seq.gt(after));
        }
        if let Some(since) = q.since {
            find = find.filter(audit_event::Column::EventTime.gte(since));
        }
        if let Some(until) = q.until {
            find = find.filter(audit_event::Column::EventTime.lte(until));
        }
        if let Some(name) = &q.event_name {
            find = find.filter(audit_event::Column::EventName.eq(name.clone()));
        }
        if let Some(name) = &q.user_name {
            find = find.filter(audit_event::Column::UserName.eq(name.clone()));
        }
        if let Some(id) = &q.event_id {
            find = find.filter(audit_event::Column::EventId.eq(id.clone()));
        }
        if let Some(before) = q.before_seq {
            find = find.filter(audit_event::Column::Seq.lt(before));
        }
        find = if q.newest_first { find.order_by_desc(audit_event::Column::Seq) } else { find.order_by_asc(audit_event::Column::Seq) };
        let limit = if q.limit == 0 { 1000 } else { q.limit };
        let rows = find.limit(limit).all(self.db()).await.map_err(db_err)?;
        rows.into_iter().map(|m| Ok(StoredAudit { seq: m.seq, record: from_json(&m.record)? })).collect()
    }

    async fn count_audit_by_day(&mut self, since: DateTime<Utc>) -> StoreResult<Vec<(String, AuditBucket, i64)>> {
        let backend = self.db().get_database_backend();
        let (day, param) = match backend {
            DbBackend::Postgres => ("to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD')", "$1"),
            _ => ("substr(event_time, 1, 10)", "?"),
        };
        let provisioning = PROVISIONING_EVENTS.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ");
        // A failed verification is told by its serviceEventDetails, which only the record holds
        // (serde_json writes it without spaces).
        let sql = format!(
            "SELECT day, bucket, COUNT(*) AS n FROM (
               SELECT {day} AS day, CASE
                 WHEN event_name = 'UserAuthentication' THEN 'signin'
                 WHEN event_name = 'CredentialVerification' AND record LIKE '%\"CredentialVerification\":\"Failure\"%' THEN 'failed'
                 WHEN error_code IS NULL AND (event_name IN ({provisioning}) OR (user_name = 'SCIM' AND read_only = false)) THEN 'provisioning'
               END AS bucket
               FROM audit_events
               WHERE event_time >= {param} AND (event_name IN ('UserAuthentication', 'CredentialVerification', {provisioning}) OR user_name = 'SCIM')
             ) counted WHERE bucket IS NOT NULL GROUP BY day, bucket ORDER BY day"
        );
        let rows = self.db().query_all_raw(Statement::from_sql_and_values(backend, sql, [since.into()])).await.map_err(db_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let bucket = match row.try_get::<String>("", "bucket").map_err(db_err)?.as_str() {
                "signin" => AuditBucket::SignIn,
                "failed" => AuditBucket::FailedSignIn,
                _ => AuditBucket::Provisioning,
            };
            out.push((row.try_get("", "day").map_err(db_err)?, bucket, row.try_get("", "n").map_err(db_err)?));
        }
        Ok(out)
    }
}

#[async_trait]
impl JobRepo for SeaTx {
    async fn insert_job(&mut self, j: &Job) -> StoreResult<()> {
        job::Entity::insert(job_row(j)?.into_active_model()).exec_without_returning(self.db()).await.map_err(db_err)?;
        Ok(())
    }

    async fn claim_job(
        &mut self,
        kinds: &[&str],
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<Job>> {
        let due = Condition::any()
            .add(Condition::all().add(job::Column::Status.eq("QUEUED")).add(job::Column::RunAfter.lte(now)))
            .add(Condition::all().add(job::Column::Status.eq("RUNNING")).add(job::Column::LockedUntil.lt(now)));
        // FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's single writer makes the claim exclusive.
        let row = job::Entity::find()
            .filter(job::Column::Kind.is_in(kinds.iter().map(|k| k.to_string())))
            .filter(due)
            .order_by_asc(job::Column::RunAfter)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .one(self.db())
            .await
            .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        let mut job = job_from(row)?;
        job.status = "RUNNING".into();
        job.attempts += 1;
        job.locked_by = Some(worker.to_string());
        job.locked_until = Some(lease_until);
        job.updated_at = now;
        self.update_job(&job).await?;
        Ok(Some(job))
    }

    async fn update_job(&mut self, j: &Job) -> StoreResult<()> {
        let mut am = job_row(j)?.into_active_model().reset_all();
        am.id = sea_orm::ActiveValue::Unchanged(j.id.clone());
        am.update(self.db()).await.map_err(db_err)?;
        Ok(())
    }

    async fn get_job(&mut self, id: &str) -> StoreResult<Option<Job>> {
        job::Entity::find_by_id(id.to_string()).one(self.db()).await.map_err(db_err)?.map(job_from).transpose()
    }
}
