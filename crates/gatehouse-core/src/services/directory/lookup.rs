//! Users and groups of Active Directory that are not in the identity store yet, found by the
//! name an administrator looks up (GetUserId / GetGroupId) and written to the store, so that they
//! can be assigned; synchronization keeps them up to date from then on.

use serde_json::json;

use super::{Services, profile_from};
use crate::error::{Error, Result};
use crate::ids;
use crate::model::directory::{self as dir, escape_filter_value};
use crate::model::{ExternalId, Group, GroupProfile, User};
use crate::services::AlternateId;
use crate::services::op::Source;

impl Services {
    /// The directory user whose user name (`subject`), sAMAccountName or UPN is `alt`'s value.
    pub(crate) async fn import_directory_user(&self, alt: &AlternateId) -> Result<Option<User>> {
        let AlternateId::Attribute { path, value } = alt else { return Ok(None) };
        if !path.eq_ignore_ascii_case("userName") {
            return Ok(None);
        }
        let Some(d) = self.active_directory().await? else { return Ok(None) };
        let v = escape_filter_value(value);
        let filter = format!("(&{}(|(userPrincipalName={v})(sAMAccountName={v})(mail={v})))", d.user_filter);
        let found = self.directory_search(&d, &d.user_base_dn, &filter, &dir::USER_LDAP_ATTRIBUTES).await?;
        let profiles: Vec<_> = found.iter().filter_map(|e| profile_from(&d.mappings, e).ok()).collect();
        // The user name is what the mappings make of the entry: it must be the one asked for.
        let matching: Vec<_> = profiles.into_iter().filter(|p| p.user_name.eq_ignore_ascii_case(value)).collect();
        let [profile] = matching.as_slice() else { return Ok(None) };
        self.upsert_directory_user(profile.clone()).await.map(Some)
    }

    /// The directory group whose cn or sAMAccountName is `alt`'s display name.
    pub(crate) async fn import_directory_group(&self, alt: &AlternateId) -> Result<Option<Group>> {
        let AlternateId::Attribute { path, value } = alt else { return Ok(None) };
        if !path.eq_ignore_ascii_case("displayName") {
            return Ok(None);
        }
        let Some(d) = self.active_directory().await? else { return Ok(None) };
        let v = escape_filter_value(value);
        let filter = format!("(&{}(|(cn={v})(sAMAccountName={v})))", d.group_filter);
        let found = self.directory_search(&d, &d.group_base_dn, &filter, &dir::GROUP_LDAP_ATTRIBUTES).await?;
        let [entry] = found.as_slice() else { return Ok(None) };
        if entry.guid.is_empty() {
            return Ok(None);
        }
        let ctx = self.system_ctx("gatehouse-directory-lookup")?;
        let store_id = self.store_id()?;
        let profile = GroupProfile {
            display_name: entry.first("cn").unwrap_or(value).to_string(),
            description: entry.first("description").map(str::to_string),
            external_ids: vec![ExternalId { issuer: dir::AD_ISSUER.into(), id: entry.guid.clone() }],
        };
        let request = json!({"identityStoreId": store_id, "displayName": profile.display_name, "directoryObjectGuid": entry.guid});
        let mut op = self.begin(&ctx, Source::IdentityStore, "CreateGroup", false, request).await?;
        let result = async {
            let group = Group { identity_store_id: store_id.clone(), group_id: ids::new_uuid(), profile, meta: self.new_meta(&ctx) };
            op.tx.insert_group(&group).await.map_err(|e| match e {
                crate::error::StoreError::Unique(_) => {
                    Error::conflict(format!("A group named {} exists already and is not the directory's", group.profile.display_name))
                }
                other => other.into(),
            })?;
            op.additional("reason", json!("directory lookup"));
            op.respond(json!({"groupId": group.group_id}));
            op.resource("AWS::IdentityStore::Group", ids::group_arn(&group.group_id));
            Ok(group)
        }
        .await;
        op.finish(result).await.map(Some)
    }
}
