//! Look-ups by alternate identifiers, membership checks, and the identity store itself.

use serde_json::json;

use super::Services;
use super::op::Source;
use super::principal::Ctx;
use crate::error::{Error, ResourceType, Result};

use crate::model::{ExternalId, Group, GroupQuery, Page, User, UserQuery};

/// How GetUserId / GetGroupId name a resource other than by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlternateId {
    External(ExternalId),
    /// A unique attribute: `userName` or `emails.value` for users, `displayName` for groups.
    Attribute {
        path: String,
        value: String,
    },
}

impl Services {
    /// GetUserId. With Active Directory as the source, a user not synchronized yet is looked up
    /// in the directory and written to the identity store (so that it can be assigned).
    pub async fn get_user_id(&self, ctx: &Ctx, alt: AlternateId) -> Result<User> {
        match self.get_stored_user_id(ctx, alt.clone()).await {
            Err(e @ Error::NotFound { .. }) => self.import_directory_user(&alt).await?.ok_or(e),
            other => other,
        }
    }

    /// GetGroupId, with the same look-up in Active Directory as [`Services::get_user_id`].
    pub async fn get_group_id(&self, ctx: &Ctx, alt: AlternateId) -> Result<Group> {
        match self.get_stored_group_id(ctx, alt.clone()).await {
            Err(e @ Error::NotFound { .. }) => self.import_directory_group(&alt).await?.ok_or(e),
            other => other,
        }
    }

    async fn get_stored_user_id(&self, ctx: &Ctx, alt: AlternateId) -> Result<User> {
        let store_id = self.store_id()?;
        let params = json!({"identityStoreId": store_id, "alternateIdentifier": describe(&alt)});
        let mut op = self.begin(ctx, Source::IdentityStore, "GetUserId", true, params).await?;
        let result = async {
            op.authorize(&self.identity_store_arn()?)?;
            let query = match &alt {
                AlternateId::External(x) => UserQuery { external_id: Some(x.clone()), ..Default::default() },
                AlternateId::Attribute { path, value } => match path.to_ascii_lowercase().as_str() {
                    "username" => UserQuery { user_name: Some(value.clone()), ..Default::default() },
                    "emails.value" => UserQuery { email: Some(value.clone()), ..Default::default() },
                    _ => {
                        return Err(Error::validation(
                            "AlternateIdentifier.UniqueAttribute.AttributePath",
                            "must be userName or emails.value",
                        ));
                    }
                },
            };
            let found = op.tx.list_users(&store_id, &query, &Page { after: None, limit: 1 }).await?;
            found.items.into_iter().next().ok_or_else(|| Error::not_found(ResourceType::User, describe(&alt)))
        }
        .await;
        op.finish(result).await
    }

    async fn get_stored_group_id(&self, ctx: &Ctx, alt: AlternateId) -> Result<Group> {
        let store_id = self.store_id()?;
        let params = json!({"identityStoreId": store_id, "alternateIdentifier": describe(&alt)});
        let mut op = self.begin(ctx, Source::IdentityStore, "GetGroupId", true, params).await?;
        let result = async {
            op.authorize(&self.identity_store_arn()?)?;
            let query = match &alt {
                AlternateId::External(x) => GroupQuery { external_id: Some(x.clone()), ..Default::default() },
                AlternateId::Attribute { path, value } if path.eq_ignore_ascii_case("displayName") => {
                    GroupQuery { display_name: Some(value.clone()), ..Default::default() }
                }
                AlternateId::Attribute { .. } => {
                    return Err(Error::validation("AlternateIdentifier.UniqueAttribute.AttributePath", "must be displayName"));
                }
            };
            let found = op.tx.list_groups(&store_id, &query, &Page { after: None, limit: 1 }).await?;
            found.items.into_iter().next().ok_or_else(|| Error::not_found(ResourceType::Group, describe(&alt)))
        }
        .await;
        op.finish(result).await
    }

    /// For each group: is the user a member?
    pub async fn is_member_in_groups(&self, ctx: &Ctx, user_id: &str, group_ids: &[String]) -> Result<Vec<(String, bool)>> {
        let store_id = self.store_id()?;
        let params = json!({"identityStoreId": store_id, "memberId": {"userId": user_id}, "groupIds": group_ids});
        let mut op = self.begin(ctx, Source::IdentityStore, "IsMemberInGroups", true, params).await?;
        let result = async {
            op.authorize(&self.identity_store_arn()?)?;
            if group_ids.is_empty() || group_ids.len() > 100 {
                return Err(Error::validation("GroupIds", "give between 1 and 100 group ids"));
            }
            let mut out = Vec::with_capacity(group_ids.len());
            for g in group_ids {
                let exists = op.tx.find_membership(&store_id, g, user_id).await?.is_some();
                out.push((g.clone(), exists));
            }
            Ok(out)
        }
        .await;
        op.finish(result).await
    }

    /// ListIdentityStores: there is one per instance.
    pub async fn list_identity_stores(&self, ctx: &Ctx) -> Result<Vec<(String, String)>> {
        let store_id = self.store_id()?;
        let arn = self.identity_store_arn()?;
        let op = self.begin(ctx, Source::IdentityStore, "ListIdentityStores", true, json!({})).await?;
        let result = op.authorize(&arn).map(|_| vec![(store_id, arn.clone())]);
        op.finish(result).await
    }
}

fn describe(alt: &AlternateId) -> String {
    match alt {
        AlternateId::External(x) => format!("externalId {x}"),
        AlternateId::Attribute { path, value } => format!("{path}={value}"),
    }
}
