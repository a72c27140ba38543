//! Group memberships. Only users can be members: groups do not nest.

use serde_json::json;

use super::Services;
use super::groups::load_group;
use super::op::{Op, Source};
use super::principal::Ctx;
use super::users::disabled;
use crate::error::{Error, ResourceType, Result};
use crate::ids;
use crate::model::{Membership, Page, Paged};

impl Services {
    pub async fn create_group_membership(&self, ctx: &Ctx, group_id: &str, member_user_id: &str) -> Result<Membership> {
        let store_id = self.store_id()?;
        let params = json!({"identityStoreId": store_id, "groupId": group_id, "memberId": {"userId": member_user_id}});
        let mut op = self.begin(ctx, Source::IdentityStore, "CreateGroupMembership", false, params).await?;
        let result = async {
            op.authorize(&self.identity_store_arn()?)?;
            self.ensure_not_directory(&mut op, "Group memberships").await?;
            op.authorize(&ids::group_arn(group_id))?;
            load_group(&mut op, &store_id, group_id).await?;
            if op.tx.find_membership(&store_id, group_id, member_user_id).await?.is_some() {
                return Err(Error::conflict_reason(
                    format!("User {member_user_id} is already a member of group {group_id}"),
                    "UNIQUENESS_CONSTRAINT_VIOLATION",
                ));
            }
            let membership = self.new_membership(&mut op, ctx, &store_id, group_id, member_user_id).await?;
            op.tx.insert_membership(&membership).await?;
            op.respond(json!({"identityStoreId": store_id, "membershipId": membership.membership_id}));
            op.resource("AWS::IdentityStore::GroupMembership", ids::membership_arn(&membership.membership_id));
            Ok(membership)
        }
        .await;
        op.finish(result).await
    }

    /// A membership of `user_id` in `group_id`, checked against the rules (the member is an
    /// existing, enabled user; groups do not nest) but not yet written.
    async fn new_membership(&self, op: &mut Op<'_>, ctx: &Ctx, store_id: &str, group_id: &str, user_id: &str) -> Result<Membership> {
        let Some(user) = op.tx.get_user(store_id, user_id).await? else {
            if op.tx.get_group(store_id, user_id).await?.is_some() {
                return Err(Error::validation("MemberId", "a group cannot be a member of a group"));
            }
            return Err(Error::not_found(ResourceType::User, user_id));
        };
        if !user.active {
            return Err(disabled(user_id, "added to a group"));
        }
        Ok(Membership {
            identity_store_id: store_id.to_string(),
            membership_id: ids::new_uuid(),
            group_id: group_id.to_string(),
            user_id: user_id.to_string(),
            created_at: self.clock.now(),
            created_by: ctx.principal.arn.clone(),
        })
    }

    /// Add and remove several members of one group in one transaction (SCIM group PATCH and PUT):
    /// adding a member already there and removing one that is not are no-ops. One audit record
    /// lists the changes; the caller needs CreateGroupMembership / DeleteGroupMembership.
    pub async fn update_group_members(&self, ctx: &Ctx, group_id: &str, add: &[String], remove: &[String]) -> Result<()> {
        let store_id = self.store_id()?;
        let params = json!({"identityStoreId": store_id, "groupId": group_id, "membersAdded": add, "membersRemoved": remove});
        let mut op = self.begin(ctx, Source::IdentityStore, "UpdateGroupMembers", false, params).await?;
        let result = async {
            let group_arn = ids::group_arn(group_id);
            for (needed, action) in [(!add.is_empty(), "CreateGroupMembership"), (!remove.is_empty(), "DeleteGroupMembership")] {
                if needed {
                    ctx.principal.authorize(&format!("identitystore:{action}"), &self.identity_store_arn()?, &[])?;
                    ctx.principal.authorize(&format!("identitystore:{action}"), &group_arn, &[])?;
                }
            }
            self.ensure_not_directory(&mut op, "Group memberships").await?;
            load_group(&mut op, &store_id, group_id).await?;
            for user_id in remove {
                if let Some(m) = op.tx.find_membership(&store_id, group_id, user_id).await? {
                    op.tx.delete_membership(&store_id, &m.membership_id).await?;
                }
            }
            for user_id in add {
                if op.tx.find_membership(&store_id, group_id, user_id).await?.is_none() {
                    let m = self.new_membership(&mut op, ctx, &store_id, group_id, user_id).await?;
                    op.tx.insert_membership(&m).await?;
                }
            }
            op.resource("AWS::IdentityStore::Group", group_arn.clone());
            Ok(())
        }
        .await;
        op.finish(result).await
    }

    pub async fn describe_group_membership(&self, ctx: &Ctx, membership_id: &str) -> Result<Membership> {
        let store_id = self.store_id()?;
        let params = json!({"identityStoreId": store_id, "membershipId": membership_id});
        let mut op = self.begin(ctx, Source::IdentityStore, "DescribeGroupMembership", true, params).await?;
        let result = async {
            op.authorize(&self.identity_store_arn()?)?;
            op.tx
                .get_membership(&store_id, membership_id)
                .await?
                .ok_or_else(|| Error::not_found(ResourceType::GroupMembership, membership_id))
        }
        .await;
        op.finish(result).await
    }

    /// The membership of `user_id` in `group_id`, if any (GetGroupMembershipId).
    pub async fn get_group_membership_id(&self, ctx: &Ctx, group_id: &str, user_id: &str) -> Result<Membership> {
        let store_id = self.store_id()?;
        let params = json!({"identityStoreId": store_id, "groupId": group_id, "memberId": {"userId": user_id}});
        let mut op = self.begin(ctx, Source::IdentityStore, "GetGroupMembershipId", true, params).await?;
        let result = async {
            op.authorize(&self.identity_store_arn()?)?;
            op.tx
                .find_membership(&store_id, group_id, user_id)
                .await?
                .ok_or_else(|| Error::not_found(ResourceType::GroupMembership, format!("{group_id}/{user_id}")))
        }
        .await;
        op.finish(result).await
    }

    pub async fn list_group_memberships(&self, ctx: &Ctx, group_id: &str, page: Page) -> Result<Paged<Membership>> {
        let store_id = self.store_id()?;
        let params = json!({"identityStoreId": store_id, "groupId": group_id, "maxResults": page.limit});
        let mut op = self.begin(ctx, Source::IdentityStore, "ListGroupMemberships", true, params).await?;
        let result = async {
            op.authorize(&self.identity_store_arn()?)?;
            load_group(&mut op, &store_id, group_id).await?;
            Ok(op.tx.list_memberships_of_group(&store_id, group_id, &page).await?)
        }
        .await;
        op.finish(result).await
    }

    /// The groups a user belongs to. A disabled user's memberships are not shown (guide: "Disable a user").
    pub async fn list_group_memberships_for_member(&self, ctx: &Ctx, user_id: &str, page: Page) -> Result<Paged<Membership>> {
        let store_id = self.store_id()?;
        let params = json!({"identityStoreId": store_id, "memberId": {"userId": user_id}, "maxResults": page.limit});
        let mut op = self.begin(ctx, Source::IdentityStore, "ListGroupMembershipsForMember", true, params).await?;
        let result = async {
            op.authorize(&self.identity_store_arn()?)?;
            let user = op.tx.get_user(&store_id, user_id).await?.ok_or_else(|| Error::not_found(ResourceType::User, user_id))?;
            if !user.active {
                return Err(disabled(user_id, "viewed for group membership"));
            }
            Ok(op.tx.list_memberships_of_user(&store_id, user_id, &page).await?)
        }
        .await;
        op.finish(result).await
    }

    pub async fn delete_group_membership(&self, ctx: &Ctx, membership_id: &str) -> Result<()> {
        let store_id = self.store_id()?;
        let params = json!({"identityStoreId": store_id, "membershipId": membership_id});
        let mut op = self.begin(ctx, Source::IdentityStore, "DeleteGroupMembership", false, params).await?;
        let result = async {
            op.authorize(&self.identity_store_arn()?)?;
            self.ensure_not_directory(&mut op, "Group memberships").await?;
            if !op.tx.delete_membership(&store_id, membership_id).await? {
                return Err(Error::not_found(ResourceType::GroupMembership, membership_id));
            }
            op.resource("AWS::IdentityStore::GroupMembership", ids::membership_arn(membership_id));
            Ok(())
        }
        .await;
        op.finish(result).await
    }
}
