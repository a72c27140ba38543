//! Sign-in against the directory: find the person by the name they typed (plain, `DOMAIN\user`
//! or UPN), check the password by binding as them, then create the Gatehouse user just in time
//! or bring it up to date (the guide: "user attributes are updated with each user authentication
//! event"). No password is stored.

use serde_json::json;

use super::{Services, directory_guid, profile_from};
use crate::error::{Error, Result};
use crate::ids;
use crate::model::directory::{self as dir, LdapDirectory, LoginName};
use crate::model::{ExternalId, User, UserQuery};
use crate::services::op::Source;

impl Services {
    /// The Gatehouse user whose directory password this is, or None (unknown name, wrong
    /// password, account disabled in the directory). An unreachable directory is an error.
    pub(crate) async fn directory_password(&self, d: &LdapDirectory, typed: &str, password: &str) -> Result<Option<User>> {
        let Some(login) = LoginName::parse(typed, &d.domain) else { return Ok(None) };
        let found = self.directory_search(d, &d.user_base_dn, &login.filter(&d.user_filter), &dir::USER_LDAP_ATTRIBUTES).await?;
        // Exactly one: a name that matches several entries is refused rather than guessed.
        let [entry] = found.as_slice() else { return Ok(None) };
        if dir::account_disabled(entry) {
            return Ok(None);
        }
        let conn = self.directory_connection(d)?;
        let accepted = self.directory_gateway()?.check_password(&conn, &entry.dn, password).await.map_err(super::directory_error)?;
        if !accepted {
            return Ok(None);
        }
        let profile = profile_from(&d.mappings, entry).map_err(|m| Error::Unavailable {
            message: format!("Your directory account cannot be used here: {m}. Contact your administrator."),
        })?;
        self.upsert_directory_user(profile).await.map(Some)
    }

    /// Create the user on first sign-in (JIT), or refresh its mapped attributes.
    pub(super) async fn upsert_directory_user(&self, profile: crate::model::UserProfile) -> Result<User> {
        let store_id = self.store_id()?;
        let guid = directory_guid(&profile.external_ids).unwrap_or_default().to_string();
        let query = UserQuery { external_id: Some(ExternalId { issuer: dir::AD_ISSUER.into(), id: guid.clone() }), ..Default::default() };
        let mut tx = self.store.begin_read().await?;
        let existing = tx.list_users(&store_id, &query, &Default::default()).await;
        tx.rollback().await?;
        let existing = existing?.items.into_iter().next();
        if let Some(user) = &existing
            && user.profile == profile
        {
            return Ok(user.clone());
        }
        let ctx = self.system_ctx("gatehouse-directory-sign-in")?;
        let name = if existing.is_some() { "UpdateUser" } else { "CreateUser" };
        let request = json!({"identityStoreId": store_id, "userName": profile.user_name, "directoryObjectGuid": guid});
        let mut op = self.begin(&ctx, Source::IdentityStore, name, false, request).await?;
        let result = async {
            let user = match existing {
                Some(mut user) => {
                    user.profile = profile;
                    self.touch(&mut user.meta, &ctx);
                    op.tx.update_user(&user).await?;
                    user
                }
                None => {
                    let user = User {
                        identity_store_id: store_id.clone(),
                        user_id: ids::new_uuid(),
                        profile,
                        active: true,
                        meta: self.new_meta(&ctx),
                    };
                    op.tx.insert_user(&user).await.map_err(|e| match e {
                        crate::error::StoreError::Unique(_) => Error::conflict(format!(
                            "The user name {} is taken by another user: the directory's user cannot be created",
                            user.profile.user_name
                        )),
                        other => other.into(),
                    })?;
                    user
                }
            };
            op.additional("reason", json!("directory sign-in"));
            op.respond(json!({"userId": user.user_id}));
            op.resource("AWS::IdentityStore::User", ids::user_arn(&user.user_id));
            Ok(user)
        }
        .await;
        op.finish(result).await
    }
}
