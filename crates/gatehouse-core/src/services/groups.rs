//! Group operations of the identity store.

use serde_json::json;

use super::Services;
use super::op::{Op, Source};
use super::principal::Ctx;
use super::users::validate_external_ids;
use crate::error::{Error, ResourceType, Result, StoreError};
use crate::ids;
use crate::model::{Group, GroupProfile, GroupQuery, Page, Paged};
use crate::validate;

fn validate_group(p: &GroupProfile) -> Result<()> {
    validate::text("DisplayName", &p.display_name, 1024)?;
    validate::opt_text("Description", &p.description, 1024)?;
    validate_external_ids(&p.external_ids)
}

/// Display names are unique case-insensitively.
async fn check_unique(op: &mut Op<'_>, store_id: &str, p: &GroupProfile, except: Option<&str>) -> Result<()> {
    if let Some(g) = op.tx.find_group_by_name(store_id, &p.display_name).await?
        && Some(g.group_id.as_str()) != except
    {
        return Err(Error::conflict_reason(
            format!("A group with display name '{}' already exists", p.display_name),
            "UNIQUENESS_CONSTRAINT_VIOLATION",
        ));
    }
    for x in &p.external_ids {
        let q = GroupQuery { external_id: Some(x.clone()), ..Default::default() };
        let found = op.tx.list_groups(store_id, &q, &Page { after: None, limit: 2 }).await?;
        if found.items.iter().any(|g| Some(g.group_id.as_str()) != except) {
            return Err(Error::conflict_reason(format!("A group with external id {x} already exists"), "UNIQUENESS_CONSTRAINT_VIOLATION"));
        }
    }
    Ok(())
}

fn unique_violation(e: StoreError, p: &GroupProfile) -> Error {
    let StoreError::Unique(detail) = &e else { return e.into() };
    let message = if detail.contains("display_name_lower") || detail.contains("ux_groups_name") {
        format!("A group with display name '{}' already exists", p.display_name)
    } else if detail.contains("external_id") {
        format!("A group with external id {} already exists", crate::model::external_ids_text(&p.external_ids))
    } else {
        return e.into();
    };
    Error::conflict_reason(message, "UNIQUENESS_CONSTRAINT_VIOLATION")
}

pub(crate) async fn load_group(op: &mut Op<'_>, store_id: &str, group_id: &str) -> Result<Group> {
    op.tx.get_group(store_id, group_id).await?.ok_or_else(|| Error::not_found(ResourceType::Group, group_id))
}

impl Services {
    pub async fn create_group(&self, ctx: &Ctx, profile: GroupProfile) -> Result<Group> {
        let store_id = self.store_id()?;
        let params = json!({"identityStoreId": store_id, "displayName": profile.display_name});
        let mut op = self.begin(ctx, Source::IdentityStore, "CreateGroup", false, params).await?;
        let result = async {
            op.authorize(&self.identity_store_arn()?)?;
            self.ensure_not_directory(&mut op, "Groups").await?;
            validate_group(&profile)?;
            let max = self.config.max_groups;
            let count = self.group_count.current(max, op.tx.count_groups(&store_id)).await?;
            if count >= max {
                return Err(Error::QuotaExceeded { message: format!("the identity store already holds the maximum of {max} groups") });
            }
            let group = Group { identity_store_id: store_id.clone(), group_id: ids::new_uuid(), profile, meta: self.new_meta(ctx) };
            // The unique indexes decide, as for users (users.rs, `unique_violation`).
            op.tx.insert_group(&group).await.map_err(|e| unique_violation(e, &group.profile))?;
            self.group_count.created();
            op.respond(json!({"identityStoreId": store_id, "groupId": group.group_id}));
            op.resource("AWS::IdentityStore::Group", ids::group_arn(&group.group_id));
            Ok(group)
        }
        .await;
        op.finish(result).await
    }

    pub async fn describe_group(&self, ctx: &Ctx, group_id: &str) -> Result<Group> {
        let store_id = self.store_id()?;
        let params = json!({"identityStoreId": store_id, "groupId": group_id});
        let mut op = self.begin(ctx, Source::IdentityStore, "DescribeGroup", true, params).await?;
        let result = async {
            op.authorize(&self.identity_store_arn()?)?;
            op.authorize(&ids::group_arn(group_id))?;
            load_group(&mut op, &store_id, group_id).await
        }
        .await;
        op.finish(result).await
    }

    /// Find a group by display name (case-insensitive).
    pub async fn find_group_by_name(&self, ctx: &Ctx, display_name: &str) -> Result<Group> {
        let query = GroupQuery { display_name: Some(display_name.to_string()), ..Default::default() };
        let page = self.list_groups(ctx, query, Page { after: None, limit: 1 }).await?;
        page.items.into_iter().next().ok_or_else(|| Error::not_found(ResourceType::Group, display_name))
    }

    pub async fn list_groups(&self, ctx: &Ctx, query: GroupQuery, page: Page) -> Result<Paged<Group>> {
        let store_id = self.store_id()?;
        let mut params = json!({"identityStoreId": store_id, "maxResults": page.limit});
        if let Some(d) = &query.display_name {
            params["filters"] = json!([{"attributePath": "DisplayName", "attributeValue": d}]);
        }
        let mut op = self.begin(ctx, Source::IdentityStore, "ListGroups", true, params).await?;
        let result = async {
            op.authorize(&self.identity_store_arn()?)?;
            Ok(op.tx.list_groups(&store_id, &query, &page).await?)
        }
        .await;
        op.finish(result).await
    }

    /// Replace a group's display name, description or external ids.
    pub async fn update_group(&self, ctx: &Ctx, group_id: &str, profile: GroupProfile) -> Result<Group> {
        let params = json!({"displayName": profile.display_name});
        self.change_group(ctx, group_id, params, move |p| {
            *p = profile;
            Ok(())
        })
        .await
    }

    /// Apply `apply` to the group's current attributes inside the transaction, then validate.
    pub async fn change_group(
        &self,
        ctx: &Ctx,
        group_id: &str,
        operations: serde_json::Value,
        apply: impl FnOnce(&mut GroupProfile) -> Result<()> + Send,
    ) -> Result<Group> {
        let store_id = self.store_id()?;
        let params = json!({"identityStoreId": store_id, "groupId": group_id, "operations": operations});
        let mut op = self.begin(ctx, Source::IdentityStore, "UpdateGroup", false, params).await?;
        let result = async {
            op.authorize(&self.identity_store_arn()?)?;
            self.ensure_not_directory(&mut op, "Groups").await?;
            op.authorize(&ids::group_arn(group_id))?;
            let mut group = load_group(&mut op, &store_id, group_id).await?;
            let mut profile = group.profile.clone();
            apply(&mut profile)?;
            validate_group(&profile)?;
            check_unique(&mut op, &store_id, &profile, Some(group_id)).await?;
            group.profile = profile;
            self.touch(&mut group.meta, ctx);
            op.tx.update_group(&group).await?;
            op.resource("AWS::IdentityStore::Group", ids::group_arn(group_id));
            Ok(group)
        }
        .await;
        op.finish(result).await
    }

    /// Delete a group with its memberships and application assignments.
    pub async fn delete_group(&self, ctx: &Ctx, group_id: &str) -> Result<()> {
        let store_id = self.store_id()?;
        let params = json!({"identityStoreId": store_id, "groupId": group_id});
        let mut op = self.begin(ctx, Source::IdentityStore, "DeleteGroup", false, params).await?;
        let result = async {
            op.authorize(&self.identity_store_arn()?)?;
            self.ensure_not_directory(&mut op, "Groups").await?;
            op.authorize(&ids::group_arn(group_id))?;
            load_group(&mut op, &store_id, group_id).await?;
            let gone = self.purge_group_in(&mut op, &store_id, group_id, true).await?;
            op.additional("membershipsRemoved", json!(gone.memberships));
            op.additional("applicationAssignmentsRemoved", json!(gone.application_assignments));
            op.additional("accountAssignmentsRemoved", json!(gone.account_assignments));
            op.resource("AWS::IdentityStore::Group", ids::group_arn(group_id));
            Ok(())
        }
        .await;
        op.finish(result).await
    }

    /// Delete a group with its memberships and, with `assignments`, its application and account
    /// assignments.
    pub(crate) async fn purge_group_in(
        &self,
        op: &mut Op<'_>,
        store_id: &str,
        group_id: &str,
        assignments: bool,
    ) -> Result<super::users::Removed> {
        let mut gone =
            super::users::Removed { memberships: op.tx.delete_memberships_of_group(store_id, group_id).await?, ..Default::default() };
        if assignments {
            gone.application_assignments = op.tx.delete_app_assignments_of(crate::model::PrincipalType::Group, group_id).await?;
            gone.account_assignments = self.remove_assignments_of_principal(op, crate::model::PrincipalType::Group, group_id).await?;
        }
        op.tx.delete_group(store_id, group_id).await?;
        Ok(gone)
    }
}
