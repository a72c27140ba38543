//! Synchronization from the directory (the guide's "How it works"): the users and groups that
//! are assigned (to accounts or applications), directly or through a group, are created or
//! updated; groups nested in an assigned group are written too, and the users of nested groups
//! are flattened into each parent; users and groups gone from the directory are deleted (their
//! assignments stay, as the guide says of Active Directory). JIT users with no assignment are
//! left as they are.
//!
//! The directory is read first, without a transaction; the changes are then written in one.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::{Services, directory_guid, profile_from};
use crate::error::{Error, Result};
use crate::ids;
use crate::model::directory::{self as dir, DirEntry, LdapDirectory, SyncSummary};
use crate::model::{ExternalId, Group, GroupProfile, GroupQuery, IdentitySourceKind, Membership, Page, PrincipalType, User, UserQuery};
use crate::services::op::{Op, Source};
use crate::services::principal::Ctx;

const LEASE_KEY: &str = "directory-sync";
/// A synchronization holds the lease this long at most (a node that dies frees it by then).
const LEASE_MINUTES: i64 = 30;
const STORE_PAGE: u64 = 1000;

/// Where a synchronization is, for a progress bar.
#[derive(Debug, Clone)]
pub struct SyncProgress {
    pub phase: &'static str,
    pub done: u64,
    pub total: u64,
}

/// The directory as read for one synchronization.
struct DirectoryState {
    users: Vec<DirEntry>,
    groups: Vec<DirEntry>,
}

/// The Gatehouse side: users and groups from the directory (by GUID), and which are assigned.
struct StoreState {
    users: BTreeMap<String, User>,
    groups: BTreeMap<String, Group>,
    assigned_users: BTreeSet<String>,
    assigned_groups: BTreeSet<String>,
}

impl Services {
    /// Synchronize now. `progress` hears each phase (the command line draws a bar with it).
    pub async fn sync_directory(&self, ctx: &Ctx, progress: &(dyn Fn(SyncProgress) + Send + Sync)) -> Result<SyncSummary> {
        let arn = self.instance()?.instance_arn.clone();
        let request = json!({});
        // Only a caller allowed to synchronize makes Gatehouse read the directory.
        if let Err(denied) = ctx.principal.authorize("sso-directory:SyncDirectory", &arn, &[]) {
            let op = self.begin(ctx, Source::SsoDirectory, "SyncDirectory", false, request).await?;
            return op.finish(Err(denied)).await;
        }
        let holder = ids::new_uuid();
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let taken = tx.try_lease(LEASE_KEY, &holder, now, now + chrono::Duration::minutes(LEASE_MINUTES)).await?;
        tx.commit().await?;
        if !taken {
            let op = self.begin(ctx, Source::SsoDirectory, "SyncDirectory", false, request).await?;
            return op.finish(Err(Error::conflict("A directory synchronization is already running"))).await;
        }
        let outcome = self.sync_holding_lease(ctx, progress).await;
        let mut tx = self.store.begin().await?;
        tx.release_lease(LEASE_KEY, &holder).await?;
        tx.commit().await?;
        outcome
    }

    async fn sync_holding_lease(&self, ctx: &Ctx, progress: &(dyn Fn(SyncProgress) + Send + Sync)) -> Result<SyncSummary> {
        let started_at = self.clock.now();
        let read = async {
            let d = self.active_directory().await?.ok_or_else(|| Error::conflict("Active Directory is not the identity source"))?;
            progress(SyncProgress { phase: "reading the directory", done: 0, total: 2 });
            let groups = self.directory_search(&d, &d.group_base_dn, &d.group_filter, &dir::GROUP_LDAP_ATTRIBUTES).await?;
            progress(SyncProgress { phase: "reading the directory", done: 1, total: 2 });
            let users = self.directory_search(&d, &d.user_base_dn, &d.user_filter, &dir::USER_LDAP_ATTRIBUTES).await?;
            progress(SyncProgress { phase: "reading the directory", done: 2, total: 2 });
            let store = self.store_state().await?;
            Ok::<_, Error>((d, DirectoryState { users, groups }, store))
        }
        .await;
        let mut op = self.begin(ctx, Source::SsoDirectory, "SyncDirectory", false, json!({})).await?;
        let result = async {
            op.authorize(&self.instance()?.instance_arn)?;
            let (d, directory, store) = read?;
            let mut summary = SyncSummary { started_at: Some(started_at), ..Default::default() };
            self.apply(&mut op, ctx, &d, directory, store, &mut summary, progress).await?;
            summary.finished_at = Some(self.clock.now());
            let mut source = self.identity_source_in(&mut op.tx).await?;
            if let Some(l) = source.ldap.as_mut() {
                l.last_sync = Some(summary.clone());
            }
            self.save_identity_source(&mut op.tx, &source).await?;
            op.respond(serde_json::to_value(&summary).unwrap_or_default());
            Ok(summary)
        }
        .await;
        let result = op.finish(result).await;
        if let Err(e) = &result {
            self.record_failed_sync(started_at, e).await;
        }
        result
    }

    /// Keep why the last synchronization failed, for the settings page and the next attempt.
    async fn record_failed_sync(&self, started_at: chrono::DateTime<chrono::Utc>, e: &Error) {
        let save = async {
            let mut tx = self.store.begin().await?;
            let mut source = self.identity_source_in(&mut tx).await?;
            if let Some(l) = source.ldap.as_mut() {
                l.last_sync = Some(SyncSummary {
                    started_at: Some(started_at),
                    finished_at: Some(self.clock.now()),
                    error: Some(e.to_string()),
                    ..Default::default()
                });
            }
            self.save_identity_source(&mut tx, &source).await?;
            tx.commit().await?;
            Ok::<_, Error>(())
        };
        if let Err(e) = save.await {
            tracing::warn!(error = %e, "could not record the failed directory synchronization");
        }
    }

    /// Every user and group that came from the directory, and which of them are assigned.
    async fn store_state(&self) -> Result<StoreState> {
        let store_id = self.store_id()?;
        let mut tx = self.store.begin_read().await?;
        let read = async {
            let mut state = StoreState {
                users: BTreeMap::new(),
                groups: BTreeMap::new(),
                assigned_users: BTreeSet::new(),
                assigned_groups: BTreeSet::new(),
            };
            let mut page = Page { after: None, limit: STORE_PAGE };
            loop {
                let got = tx.list_users(&store_id, &UserQuery::default(), &page).await?;
                for u in got.items {
                    if let Some(guid) = directory_guid(&u.profile.external_ids) {
                        state.users.insert(guid.to_string(), u);
                    }
                }
                let Some(next) = got.next else { break };
                page.after = Some(next);
            }
            let mut page = Page { after: None, limit: STORE_PAGE };
            loop {
                let got = tx.list_groups(&store_id, &GroupQuery::default(), &page).await?;
                for g in got.items {
                    if let Some(guid) = directory_guid(&g.profile.external_ids) {
                        state.groups.insert(guid.to_string(), g);
                    }
                }
                let Some(next) = got.next else { break };
                page.after = Some(next);
            }
            let principals: Vec<(PrincipalType, String)> = state
                .users
                .values()
                .map(|u| (PrincipalType::User, u.user_id.clone()))
                .chain(state.groups.values().map(|g| (PrincipalType::Group, g.group_id.clone())))
                .collect();
            let mut assigned: BTreeSet<(PrincipalType, String)> = BTreeSet::new();
            for chunk in principals.chunks(500) {
                for a in tx.assignments_of_principals(chunk, None).await? {
                    assigned.insert((a.principal_type, a.principal_id));
                }
                for a in tx.find_app_assignments_of(chunk).await? {
                    assigned.insert((a.principal_type, a.principal_id));
                }
            }
            for (guid, u) in &state.users {
                if assigned.contains(&(PrincipalType::User, u.user_id.clone())) {
                    state.assigned_users.insert(guid.clone());
                }
            }
            for (guid, g) in &state.groups {
                if assigned.contains(&(PrincipalType::Group, g.group_id.clone())) {
                    state.assigned_groups.insert(guid.clone());
                }
            }
            Ok::<_, Error>(state)
        }
        .await;
        tx.rollback().await?;
        read
    }

    #[allow(clippy::too_many_arguments)]
    async fn apply(
        &self,
        op: &mut Op<'_>,
        ctx: &Ctx,
        d: &LdapDirectory,
        directory: DirectoryState,
        mut store: StoreState,
        summary: &mut SyncSummary,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
    ) -> Result<()> {
        let store_id = self.store_id()?;
        let user_guid_by_dn: BTreeMap<String, String> = directory.users.iter().map(|u| (u.dn.clone(), u.guid.clone())).collect();
        let scope = dir::sync_scope(&directory.groups, &user_guid_by_dn, &store.assigned_groups, &store.assigned_users);

        // Users: create or update those in scope.
        let in_scope: Vec<&DirEntry> = directory.users.iter().filter(|u| scope.users.contains(&u.guid)).collect();
        let total = in_scope.len() as u64;
        let mut user_id_by_guid: BTreeMap<String, String> = BTreeMap::new();
        for (i, entry) in in_scope.into_iter().enumerate() {
            progress(SyncProgress { phase: "users", done: i as u64, total });
            let profile = match profile_from(&d.mappings, entry) {
                Ok(p) => p,
                Err(why) => {
                    summary.skipped.push(why);
                    continue;
                }
            };
            let active = !dir::account_disabled(entry);
            let user = match store.users.remove(&entry.guid) {
                Some(mut user) => {
                    if user.profile != profile || user.active != active {
                        user.profile = profile;
                        user.active = active;
                        self.touch(&mut user.meta, ctx);
                        op.tx.update_user(&user).await?;
                        summary.users_updated += 1;
                    }
                    user
                }
                None => {
                    let user =
                        User { identity_store_id: store_id.clone(), user_id: ids::new_uuid(), profile, active, meta: self.new_meta(ctx) };
                    if let Err(e) = op.tx.insert_user(&user).await {
                        match e {
                            crate::error::StoreError::Unique(_) => {
                                summary
                                    .skipped
                                    .push(format!("{}: the user name {} is taken by another user", entry.dn, user.profile.user_name));
                                continue;
                            }
                            other => return Err(other.into()),
                        }
                    }
                    summary.users_created += 1;
                    user
                }
            };
            user_id_by_guid.insert(entry.guid.clone(), user.user_id);
        }
        // Users out of scope but still in the directory stay (JIT users); those gone are deleted.
        let in_directory: BTreeSet<&str> = directory.users.iter().map(|u| u.guid.as_str()).collect();
        for (guid, user) in &store.users {
            if !in_directory.contains(guid.as_str()) {
                self.purge_user_in(op, &store_id, &user.user_id, false).await?;
                summary.users_deleted += 1;
            } else {
                user_id_by_guid.insert(guid.clone(), user.user_id.clone());
            }
        }

        // Groups in scope, with their flattened members.
        let total = scope.groups.len() as u64;
        let entries: BTreeMap<&str, &DirEntry> = directory.groups.iter().map(|g| (g.guid.as_str(), g)).collect();
        for (i, (guid, members)) in scope.groups.iter().enumerate() {
            progress(SyncProgress { phase: "groups", done: i as u64, total });
            let Some(entry) = entries.get(guid.as_str()) else { continue };
            let profile = GroupProfile {
                display_name: entry.first("cn").or_else(|| entry.first("sAMAccountName")).unwrap_or(&entry.dn).to_string(),
                description: entry.first("description").map(str::to_string),
                external_ids: vec![ExternalId { issuer: dir::AD_ISSUER.into(), id: guid.clone() }],
            };
            let group = match store.groups.remove(guid) {
                Some(mut group) => {
                    if group.profile != profile {
                        group.profile = profile;
                        self.touch(&mut group.meta, ctx);
                        op.tx.update_group(&group).await?;
                        summary.groups_updated += 1;
                    }
                    group
                }
                None => {
                    let group = Group { identity_store_id: store_id.clone(), group_id: ids::new_uuid(), profile, meta: self.new_meta(ctx) };
                    if let Err(e) = op.tx.insert_group(&group).await {
                        match e {
                            crate::error::StoreError::Unique(_) => {
                                summary.skipped.push(format!("{}: the group name {} is taken", entry.dn, group.profile.display_name));
                                continue;
                            }
                            other => return Err(other.into()),
                        }
                    }
                    summary.groups_created += 1;
                    group
                }
            };
            let wanted: BTreeSet<String> = members.iter().filter_map(|g| user_id_by_guid.get(g).cloned()).collect();
            self.set_members(op, ctx, &group.group_id, &wanted, summary).await?;
        }
        // Groups gone from the directory are deleted; the others out of scope stay as they are.
        let in_directory: BTreeSet<&str> = directory.groups.iter().map(|g| g.guid.as_str()).collect();
        for (guid, group) in &store.groups {
            if !in_directory.contains(guid.as_str()) {
                self.purge_group_in(op, &store_id, &group.group_id, false).await?;
                summary.groups_deleted += 1;
            }
        }
        Ok(())
    }

    /// Make the group's members exactly `wanted`.
    async fn set_members(
        &self,
        op: &mut Op<'_>,
        ctx: &Ctx,
        group_id: &str,
        wanted: &BTreeSet<String>,
        summary: &mut SyncSummary,
    ) -> Result<()> {
        let store_id = self.store_id()?;
        let mut current: BTreeMap<String, String> = BTreeMap::new();
        let mut page = Page { after: None, limit: STORE_PAGE };
        loop {
            let got = op.tx.list_memberships_of_group(&store_id, group_id, &page).await?;
            current.extend(got.items.into_iter().map(|m| (m.user_id, m.membership_id)));
            let Some(next) = got.next else { break };
            page.after = Some(next);
        }
        for (user_id, membership_id) in &current {
            if !wanted.contains(user_id) {
                op.tx.delete_membership(&store_id, membership_id).await?;
                summary.memberships_removed += 1;
            }
        }
        for user_id in wanted {
            if !current.contains_key(user_id) {
                let m = Membership {
                    identity_store_id: store_id.clone(),
                    membership_id: ids::new_uuid(),
                    group_id: group_id.to_string(),
                    user_id: user_id.clone(),
                    created_at: self.clock.now(),
                    created_by: ctx.principal.arn.clone(),
                };
                op.tx.insert_membership(&m).await?;
                summary.memberships_added += 1;
            }
        }
        Ok(())
    }

    /// Synchronize whenever the interval has passed since the last one (any node; the lease
    /// keeps it to one at a time). Runs until the process ends.
    pub async fn directory_sync_loop(self: std::sync::Arc<Self>, check_every: std::time::Duration) {
        loop {
            tokio::time::sleep(check_every).await;
            match self.directory_sync_due().await {
                Ok(true) => {
                    let outcome = match self.system_ctx("gatehouse-directory-sync") {
                        Ok(ctx) => self.sync_directory(&ctx, &|_| {}).await.map(|_| ()),
                        Err(e) => Err(e),
                    };
                    if let Err(e) = outcome {
                        tracing::warn!(error = %e, "directory synchronization failed");
                    }
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "could not read the identity source"),
            }
        }
    }

    async fn directory_sync_due(&self) -> Result<bool> {
        let source = self.identity_source().await?;
        let Some(d) = source.ldap.filter(|_| source.kind == IdentitySourceKind::ActiveDirectory) else { return Ok(false) };
        if d.sync_interval_minutes == 0 {
            return Ok(false);
        }
        // The first synchronization after connecting runs at the next check.
        let last = d.last_sync.and_then(|s| s.finished_at);
        Ok(last.is_none_or(|t| t + chrono::Duration::minutes(d.sync_interval_minutes as i64) <= self.clock.now()))
    }
}
