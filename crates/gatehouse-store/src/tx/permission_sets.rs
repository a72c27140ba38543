//! Permission sets, assignments, asynchronous requests, provisioned roles, tags and leases.

use sea_orm::sea_query::OnConflict;

use super::*;
use crate::entity::{account_assignment, lease, ou_assignment, permission_set, provisioned_role, resource_tag, sso_request};
use gatehouse_core::error::StoreError;

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Other(e.to_string())
}

fn principal_key(kind: PrincipalType, id: &str) -> String {
    format!("{}/{id}", kind.as_str())
}

fn principal_of(key: &str) -> StoreResult<(PrincipalType, String)> {
    key.split_once('/')
        .and_then(|(k, id)| Some((PrincipalType::parse(k)?, id.to_string())))
        .ok_or_else(|| StoreError::Other(format!("stored principal {key:?}")))
}

fn ps_row(p: &PermissionSet) -> StoreResult<permission_set::Model> {
    Ok(permission_set::Model {
        permission_set_id: p.permission_set_id.clone(),
        name: p.name.clone(),
        name_lower: p.name.to_lowercase(),
        description: p.description.clone(),
        session_minutes: i64::from(p.session_minutes),
        relay_state: p.relay_state.clone(),
        policies: serde_json::to_string(&p.policies).map_err(json_err)?,
        version: p.version,
        created_at: p.created_at,
        updated_at: p.updated_at,
    })
}

fn ps_from(m: permission_set::Model) -> StoreResult<PermissionSet> {
    Ok(PermissionSet {
        policies: serde_json::from_str(&m.policies).map_err(json_err)?,
        permission_set_id: m.permission_set_id,
        name: m.name,
        description: m.description,
        session_minutes: m.session_minutes as u32,
        relay_state: m.relay_state,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn assignment_from(m: account_assignment::Model) -> StoreResult<AccountAssignment> {
    let (principal_type, principal_id) = principal_of(&m.principal)?;
    Ok(AccountAssignment {
        account_id: m.account_id,
        permission_set_id: m.permission_set_id,
        principal_type,
        principal_id,
        direct: m.direct,
        via_ous: serde_json::from_str(&m.via_ous).map_err(json_err)?,
        created_at: m.created_at,
    })
}

fn ou_assignment_from(m: ou_assignment::Model) -> StoreResult<OuAssignment> {
    let (principal_type, principal_id) = principal_of(&m.principal)?;
    Ok(OuAssignment { ou_id: m.ou_id, permission_set_id: m.permission_set_id, principal_type, principal_id, created_at: m.created_at })
}

fn request_row(r: &SsoRequest) -> sso_request::Model {
    sso_request::Model {
        request_id: r.request_id.clone(),
        kind: r.kind.as_str().to_string(),
        status: r.status.as_str().to_string(),
        failure_reason: r.failure_reason.clone(),
        account_id: r.account_id.clone(),
        permission_set_id: r.permission_set_id.clone(),
        principal: r.principal.as_ref().map(|(k, id)| principal_key(*k, id)),
        via_ou: r.via_ou.clone(),
        internal: r.internal,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

fn request_from(m: sso_request::Model) -> StoreResult<SsoRequest> {
    Ok(SsoRequest {
        kind: RequestKind::parse(&m.kind).ok_or_else(|| StoreError::Other(format!("stored request kind {:?}", m.kind)))?,
        status: RequestStatus::parse(&m.status).ok_or_else(|| StoreError::Other(format!("stored request status {:?}", m.status)))?,
        principal: m.principal.as_deref().map(principal_of).transpose()?,
        request_id: m.request_id,
        failure_reason: m.failure_reason,
        account_id: m.account_id,
        permission_set_id: m.permission_set_id,
        via_ou: m.via_ou,
        internal: m.internal,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn provisioned_from(m: provisioned_role::Model) -> ProvisionedRole {
    ProvisionedRole {
        account_id: m.account_id,
        permission_set_id: m.permission_set_id,
        role_name: m.role_name,
        version: m.version,
        updated_at: m.updated_at,
    }
}

fn assignment_key(account_id: &str, permission_set_id: &str, kind: PrincipalType, principal_id: &str) -> (String, String, String) {
    (account_id.to_string(), permission_set_id.to_string(), principal_key(kind, principal_id))
}

#[async_trait]
impl PermissionSetRepo for SeaTx {
    async fn insert_permission_set(&mut self, p: &PermissionSet) -> StoreResult<()> {
        ps_row(p)?.into_active_model().insert_row(self.db()).await.map_err(db_err)
    }

    async fn update_permission_set(&mut self, p: &PermissionSet) -> StoreResult<()> {
        let mut am = ps_row(p)?.into_active_model().reset_all();
        am.permission_set_id = sea_orm::ActiveValue::Unchanged(p.permission_set_id.clone());
        super::signin::replace(self.db(), am).await
    }

    async fn get_permission_set(&mut self, id: &str) -> StoreResult<Option<PermissionSet>> {
        permission_set::Entity::find_by_id(id.to_string()).one(self.db()).await.map_err(db_err)?.map(ps_from).transpose()
    }

    async fn get_permission_sets(&mut self, ids: &[String]) -> StoreResult<Vec<PermissionSet>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = permission_set::Entity::find()
            .filter(permission_set::Column::PermissionSetId.is_in(ids.iter().cloned()))
            .all(self.db())
            .await
            .map_err(db_err)?;
        rows.into_iter().map(ps_from).collect()
    }

    async fn find_permission_set_by_name(&mut self, name: &str) -> StoreResult<Option<PermissionSet>> {
        permission_set::Entity::find()
            .filter(permission_set::Column::NameLower.eq(name.to_lowercase()))
            .one(self.db())
            .await
            .map_err(db_err)?
            .map(ps_from)
            .transpose()
    }

    async fn list_permission_sets(&mut self, page: &Page) -> StoreResult<Paged<PermissionSet>> {
        let mut find = permission_set::Entity::find();
        if let Some(after) = &page.after {
            find = find.filter(permission_set::Column::PermissionSetId.gt(after.clone()));
        }
        let rows = find.order_by_asc(permission_set::Column::PermissionSetId).limit(page.limit + 1).all(self.db()).await.map_err(db_err)?;
        let items = rows.into_iter().map(ps_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(page_of(items, page, |p| p.permission_set_id.clone()))
    }

    async fn count_permission_sets(&mut self) -> StoreResult<u64> {
        permission_set::Entity::find().count(self.db()).await.map_err(db_err)
    }

    async fn delete_permission_set(&mut self, id: &str) -> StoreResult<bool> {
        ou_assignment::Entity::delete_many().filter(ou_assignment::Column::PermissionSetId.eq(id)).exec(self.db()).await.map_err(db_err)?;
        Ok(permission_set::Entity::delete_by_id(id.to_string()).exec(self.db()).await.map_err(db_err)?.rows_affected > 0)
    }

    async fn get_account_assignment(
        &mut self,
        account_id: &str,
        permission_set_id: &str,
        kind: PrincipalType,
        principal_id: &str,
    ) -> StoreResult<Option<AccountAssignment>> {
        account_assignment::Entity::find_by_id(assignment_key(account_id, permission_set_id, kind, principal_id))
            .one(self.db())
            .await
            .map_err(db_err)?
            .map(assignment_from)
            .transpose()
    }

    async fn put_account_assignment(&mut self, a: &AccountAssignment) -> StoreResult<()> {
        let row = account_assignment::Model {
            account_id: a.account_id.clone(),
            permission_set_id: a.permission_set_id.clone(),
            principal: principal_key(a.principal_type, &a.principal_id),
            direct: a.direct,
            via_ous: serde_json::to_string(&a.via_ous).map_err(json_err)?,
            created_at: a.created_at,
        };
        account_assignment::Entity::insert(row.into_active_model())
            .on_conflict(
                OnConflict::columns([
                    account_assignment::Column::AccountId,
                    account_assignment::Column::PermissionSetId,
                    account_assignment::Column::Principal,
                ])
                .update_columns([account_assignment::Column::Direct, account_assignment::Column::ViaOus])
                .to_owned(),
            )
            .exec_without_returning(self.db())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn delete_account_assignment(
        &mut self,
        account_id: &str,
        permission_set_id: &str,
        kind: PrincipalType,
        principal_id: &str,
    ) -> StoreResult<bool> {
        let r = account_assignment::Entity::delete_by_id(assignment_key(account_id, permission_set_id, kind, principal_id))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(r.rows_affected > 0)
    }

    async fn list_account_assignments(
        &mut self,
        account_id: &str,
        permission_set_id: &str,
        page: &Page,
    ) -> StoreResult<Paged<AccountAssignment>> {
        let mut find = account_assignment::Entity::find()
            .filter(account_assignment::Column::AccountId.eq(account_id))
            .filter(account_assignment::Column::PermissionSetId.eq(permission_set_id));
        if let Some(after) = &page.after {
            find = find.filter(account_assignment::Column::Principal.gt(after.clone()));
        }
        let rows = find.order_by_asc(account_assignment::Column::Principal).limit(page.limit + 1).all(self.db()).await.map_err(db_err)?;
        let items = rows.into_iter().map(assignment_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(page_of(items, page, |a| principal_key(a.principal_type, &a.principal_id)))
    }

    async fn list_assignments_of_principal(
        &mut self,
        kind: PrincipalType,
        principal_id: &str,
        account_id: Option<&str>,
        page: &Page,
    ) -> StoreResult<Paged<AccountAssignment>> {
        let mut find =
            account_assignment::Entity::find().filter(account_assignment::Column::Principal.eq(principal_key(kind, principal_id)));
        if let Some(account) = account_id {
            find = find.filter(account_assignment::Column::AccountId.eq(account));
        }
        // Cursor `<account>/<permission set>`: keyset over the two columns.
        if let Some((account, ps)) = page.after.as_deref().and_then(|a| a.split_once('/')) {
            find = find.filter(
                Condition::any().add(account_assignment::Column::AccountId.gt(account)).add(
                    Condition::all()
                        .add(account_assignment::Column::AccountId.eq(account))
                        .add(account_assignment::Column::PermissionSetId.gt(ps)),
                ),
            );
        }
        let rows = find
            .order_by_asc(account_assignment::Column::AccountId)
            .order_by_asc(account_assignment::Column::PermissionSetId)
            .limit(page.limit + 1)
            .all(self.db())
            .await
            .map_err(db_err)?;
        let items = rows.into_iter().map(assignment_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(page_of(items, page, |a| format!("{}/{}", a.account_id, a.permission_set_id)))
    }

    async fn assignments_of_principals(
        &mut self,
        principals: &[(PrincipalType, String)],
        account_id: Option<&str>,
    ) -> StoreResult<Vec<AccountAssignment>> {
        if principals.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = principals.iter().map(|(k, id)| principal_key(*k, id)).collect();
        let mut find = account_assignment::Entity::find().filter(account_assignment::Column::Principal.is_in(keys));
        if let Some(account) = account_id {
            find = find.filter(account_assignment::Column::AccountId.eq(account));
        }
        let rows = find
            .order_by_asc(account_assignment::Column::AccountId)
            .order_by_asc(account_assignment::Column::PermissionSetId)
            .all(self.db())
            .await
            .map_err(db_err)?;
        rows.into_iter().map(assignment_from).collect()
    }

    async fn count_assignments(&mut self, account_id: &str, permission_set_id: &str) -> StoreResult<u64> {
        account_assignment::Entity::find()
            .filter(account_assignment::Column::AccountId.eq(account_id))
            .filter(account_assignment::Column::PermissionSetId.eq(permission_set_id))
            .count(self.db())
            .await
            .map_err(db_err)
    }

    async fn count_assignments_of_permission_set(&mut self, permission_set_id: &str) -> StoreResult<u64> {
        account_assignment::Entity::find()
            .filter(account_assignment::Column::PermissionSetId.eq(permission_set_id))
            .count(self.db())
            .await
            .map_err(db_err)
    }

    async fn permission_sets_assigned_in(&mut self, account_id: &str) -> StoreResult<Vec<String>> {
        let rows: Vec<String> = account_assignment::Entity::find()
            .select_only()
            .column(account_assignment::Column::PermissionSetId)
            .distinct()
            .filter(account_assignment::Column::AccountId.eq(account_id))
            .into_tuple()
            .all(self.db())
            .await
            .map_err(db_err)?;
        let pending: Vec<String> = sso_request::Entity::find()
            .select_only()
            .column(sso_request::Column::PermissionSetId)
            .distinct()
            .filter(sso_request::Column::Kind.eq(RequestKind::Create.as_str()))
            .filter(sso_request::Column::Status.eq(RequestStatus::InProgress.as_str()))
            .filter(sso_request::Column::AccountId.eq(account_id))
            .into_tuple()
            .all(self.db())
            .await
            .map_err(db_err)?;
        let mut all = rows;
        for p in pending {
            if !all.contains(&p) {
                all.push(p);
            }
        }
        Ok(all)
    }

    async fn insert_ou_assignment(&mut self, a: &OuAssignment) -> StoreResult<()> {
        ou_assignment::Model {
            ou_id: a.ou_id.clone(),
            permission_set_id: a.permission_set_id.clone(),
            principal: principal_key(a.principal_type, &a.principal_id),
            created_at: a.created_at,
        }
        .into_active_model()
        .insert_row(self.db())
        .await
        .map_err(db_err)
    }

    async fn delete_ou_assignment(
        &mut self,
        ou_id: &str,
        permission_set_id: &str,
        kind: PrincipalType,
        principal_id: &str,
    ) -> StoreResult<bool> {
        let r = ou_assignment::Entity::delete_by_id((ou_id.to_string(), permission_set_id.to_string(), principal_key(kind, principal_id)))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(r.rows_affected > 0)
    }

    async fn list_ou_assignments(&mut self, ou_ids: &[String]) -> StoreResult<Vec<OuAssignment>> {
        let mut find = ou_assignment::Entity::find();
        if !ou_ids.is_empty() {
            find = find.filter(ou_assignment::Column::OuId.is_in(ou_ids.iter().cloned()));
        }
        let rows = find
            .order_by_asc(ou_assignment::Column::OuId)
            .order_by_asc(ou_assignment::Column::PermissionSetId)
            .order_by_asc(ou_assignment::Column::Principal)
            .all(self.db())
            .await
            .map_err(db_err)?;
        rows.into_iter().map(ou_assignment_from).collect()
    }

    async fn delete_ou_assignments_of_principal(&mut self, kind: PrincipalType, principal_id: &str) -> StoreResult<u64> {
        let r = ou_assignment::Entity::delete_many()
            .filter(ou_assignment::Column::Principal.eq(principal_key(kind, principal_id)))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(r.rows_affected)
    }

    async fn insert_sso_request(&mut self, r: &SsoRequest) -> StoreResult<()> {
        request_row(r).into_active_model().insert_row(self.db()).await.map_err(db_err)
    }

    async fn update_sso_request(&mut self, r: &SsoRequest) -> StoreResult<()> {
        let mut am = request_row(r).into_active_model().reset_all();
        am.request_id = sea_orm::ActiveValue::Unchanged(r.request_id.clone());
        super::signin::replace(self.db(), am).await
    }

    async fn get_sso_request(&mut self, request_id: &str) -> StoreResult<Option<SsoRequest>> {
        sso_request::Entity::find_by_id(request_id.to_string()).one(self.db()).await.map_err(db_err)?.map(request_from).transpose()
    }

    async fn list_sso_requests(&mut self, kind: RequestKind, status: Option<RequestStatus>, page: &Page) -> StoreResult<Paged<SsoRequest>> {
        let mut find =
            sso_request::Entity::find().filter(sso_request::Column::Kind.eq(kind.as_str())).filter(sso_request::Column::Internal.eq(false));
        if let Some(s) = status {
            find = find.filter(sso_request::Column::Status.eq(s.as_str()));
        }
        if let Some(after) = &page.after {
            find = find.filter(sso_request::Column::RequestId.gt(after.clone()));
        }
        let rows = find.order_by_asc(sso_request::Column::RequestId).limit(page.limit + 1).all(self.db()).await.map_err(db_err)?;
        let items = rows.into_iter().map(request_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(page_of(items, page, |r| r.request_id.clone()))
    }

    async fn count_sso_requests(&mut self, kind: RequestKind, status: RequestStatus) -> StoreResult<u64> {
        sso_request::Entity::find()
            .filter(sso_request::Column::Kind.eq(kind.as_str()))
            .filter(sso_request::Column::Status.eq(status.as_str()))
            .filter(sso_request::Column::Internal.eq(false))
            .count(self.db())
            .await
            .map_err(db_err)
    }

    async fn put_provisioned_role(&mut self, p: &ProvisionedRole) -> StoreResult<()> {
        let row = provisioned_role::Model {
            account_id: p.account_id.clone(),
            permission_set_id: p.permission_set_id.clone(),
            role_name: p.role_name.clone(),
            version: p.version,
            updated_at: p.updated_at,
        };
        provisioned_role::Entity::insert(row.into_active_model())
            .on_conflict(
                OnConflict::columns([provisioned_role::Column::AccountId, provisioned_role::Column::PermissionSetId])
                    .update_columns([
                        provisioned_role::Column::RoleName,
                        provisioned_role::Column::Version,
                        provisioned_role::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(self.db())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn get_provisioned_role(&mut self, account_id: &str, permission_set_id: &str) -> StoreResult<Option<ProvisionedRole>> {
        Ok(provisioned_role::Entity::find_by_id((account_id.to_string(), permission_set_id.to_string()))
            .one(self.db())
            .await
            .map_err(db_err)?
            .map(provisioned_from))
    }

    async fn delete_provisioned_role(&mut self, account_id: &str, permission_set_id: &str) -> StoreResult<bool> {
        let r = provisioned_role::Entity::delete_by_id((account_id.to_string(), permission_set_id.to_string()))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(r.rows_affected > 0)
    }

    async fn list_provisioned_of_permission_set(&mut self, permission_set_id: &str, page: &Page) -> StoreResult<Paged<ProvisionedRole>> {
        let mut find = provisioned_role::Entity::find().filter(provisioned_role::Column::PermissionSetId.eq(permission_set_id));
        if let Some(after) = &page.after {
            find = find.filter(provisioned_role::Column::AccountId.gt(after.clone()));
        }
        let rows = find.order_by_asc(provisioned_role::Column::AccountId).limit(page.limit + 1).all(self.db()).await.map_err(db_err)?;
        Ok(page_of(rows.into_iter().map(provisioned_from).collect(), page, |p| p.account_id.clone()))
    }

    async fn list_provisioned_in_account(&mut self, account_id: &str, page: &Page) -> StoreResult<Paged<ProvisionedRole>> {
        let mut find = provisioned_role::Entity::find().filter(provisioned_role::Column::AccountId.eq(account_id));
        if let Some(after) = &page.after {
            find = find.filter(provisioned_role::Column::PermissionSetId.gt(after.clone()));
        }
        let rows =
            find.order_by_asc(provisioned_role::Column::PermissionSetId).limit(page.limit + 1).all(self.db()).await.map_err(db_err)?;
        Ok(page_of(rows.into_iter().map(provisioned_from).collect(), page, |p| p.permission_set_id.clone()))
    }

    async fn provisioned_role_outside(&mut self, account_id: &str) -> StoreResult<Option<ProvisionedRole>> {
        let row = provisioned_role::Entity::find()
            .filter(provisioned_role::Column::AccountId.ne(account_id))
            .order_by_asc(provisioned_role::Column::AccountId)
            .one(self.db())
            .await
            .map_err(db_err)?;
        Ok(row.map(provisioned_from))
    }

    async fn list_tags(&mut self, resource_arn: &str) -> StoreResult<Vec<Tag>> {
        let rows = resource_tag::Entity::find()
            .filter(resource_tag::Column::ResourceArn.eq(resource_arn))
            .order_by_asc(resource_tag::Column::TagKey)
            .all(self.db())
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().map(|r| Tag { key: r.tag_key, value: r.tag_value }).collect())
    }

    async fn put_tags(&mut self, resource_arn: &str, tags: &[Tag]) -> StoreResult<()> {
        for t in tags {
            let row = resource_tag::Model { resource_arn: resource_arn.to_string(), tag_key: t.key.clone(), tag_value: t.value.clone() };
            resource_tag::Entity::insert(row.into_active_model())
                .on_conflict(
                    OnConflict::columns([resource_tag::Column::ResourceArn, resource_tag::Column::TagKey])
                        .update_column(resource_tag::Column::TagValue)
                        .to_owned(),
                )
                .exec_without_returning(self.db())
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }

    async fn delete_tags(&mut self, resource_arn: &str, keys: &[String]) -> StoreResult<()> {
        let mut delete = resource_tag::Entity::delete_many().filter(resource_tag::Column::ResourceArn.eq(resource_arn));
        if !keys.is_empty() {
            delete = delete.filter(resource_tag::Column::TagKey.is_in(keys.iter().cloned()));
        }
        delete.exec(self.db()).await.map_err(db_err)?;
        Ok(())
    }

    async fn try_lease(&mut self, key: &str, holder: &str, now: DateTime<Utc>, until: DateTime<Utc>) -> StoreResult<bool> {
        let found =
            lease::Entity::find_by_id(key.to_string()).lock_with_behavior(LockType::Update, LockBehavior::Nowait).one(self.db()).await;
        let found = match found {
            Ok(f) => f,
            // PostgreSQL: another node holds the row lock right now.
            Err(_) if self.db().get_database_backend() == DbBackend::Postgres => return Ok(false),
            Err(e) => return Err(db_err(e)),
        };
        match found {
            Some(l) if l.holder != holder && l.until > now => Ok(false),
            Some(_) => {
                lease::Entity::update_many()
                    .col_expr(lease::Column::Holder, Expr::value(holder))
                    .col_expr(lease::Column::Until, Expr::value(until))
                    .filter(lease::Column::LeaseKey.eq(key))
                    .exec(self.db())
                    .await
                    .map_err(db_err)?;
                Ok(true)
            }
            None => {
                let row = lease::Model { lease_key: key.to_string(), holder: holder.to_string(), until };
                let inserted = lease::Entity::insert(row.into_active_model())
                    .on_conflict(OnConflict::column(lease::Column::LeaseKey).do_nothing().to_owned())
                    .exec_without_returning(self.db())
                    .await
                    .map_err(db_err)?;
                Ok(inserted > 0)
            }
        }
    }

    async fn release_lease(&mut self, key: &str, holder: &str) -> StoreResult<()> {
        lease::Entity::delete_many()
            .filter(lease::Column::LeaseKey.eq(key))
            .filter(lease::Column::Holder.eq(holder))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
