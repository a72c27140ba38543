//! First start: the instance, its organization root and management account, the Administrator
//! user with a one-time password, and a bootstrap access key. Runs once; later calls do nothing.
//! And its mirror, deleting the configuration: back to a first start's Administrator.

use serde_json::json;
use zeroize::Zeroizing;

use super::Services;
use super::access_keys::seal_new_key;
use super::op::Source;
use super::permission_sets::NewPermissionSet;
use super::principal::{Ctx, MASTER_ADMIN_POLICY, Principal};
use crate::error::{Error, Result, StoreError};
use crate::ids;
use crate::model::*;
use crate::password;
use crate::store::Tx;

pub const ADMIN_USER_NAME: &str = "Administrator";
pub const BOOTSTRAP_KEY_USER: &str = "bootstrap-admin";
/// The permission set that takes the Administrator into the console (see `grant_console`).
pub const ADMIN_PERMISSION_SET: &str = "AdministratorAccess";

/// What deleting the configuration did, and the new Administrator's password (shown once).
#[derive(Debug)]
pub struct DeletedConfiguration {
    /// Rows deleted, per table.
    pub deleted: Vec<(&'static str, u64)>,
    pub admin_user_id: String,
    pub admin_user_name: String,
    pub admin_one_time_password: Zeroizing<String>,
}

/// The secrets of a fresh instance, shown once.
#[derive(Debug)]
pub struct Bootstrapped {
    pub instance: Instance,
    pub admin_user_name: String,
    pub admin_one_time_password: Zeroizing<String>,
    /// The management-account role that opens the console for the Administrator.
    pub admin_permission_set: String,
    pub access_key_id: String,
    pub secret_access_key: Zeroizing<String>,
}

impl Services {
    /// Create the instance if there is none. Returns the secrets only when this call created it
    /// (several nodes starting together: exactly one wins, the others return None).
    pub async fn bootstrap(&self) -> Result<Option<Bootstrapped>> {
        if self.instance.get().is_some() {
            return Ok(None);
        }
        let now = self.clock.now();
        let management = ids::new_account_id();
        let instance = Instance {
            instance_arn: ids::instance_arn(&ids::new_instance_id()),
            identity_store_id: ids::new_identity_store_id(),
            organization_id: ids::new_organization_id(),
            root_id: ids::new_root_id(),
            management_account_id: management.clone(),
            created_at: now,
        };
        let system = Principal::system(&management);
        let ctx = Ctx::new(system, "127.0.0.1", "gatehouse");
        let params = json!({"instanceArn": instance.instance_arn, "identityStoreId": instance.identity_store_id});
        let mut op = self.begin(&ctx, Source::Sso, "CreateInstance", false, params).await?;
        let mut admin_id = String::new();
        let result = async {
            op.authorize(&instance.instance_arn)?;
            if op.tx.get_instance().await?.is_some() {
                // Another node won the race; its record is the successful one.
                return Err(Error::conflict("the instance already exists"));
            }
            op.tx.insert_instance(&instance).await?;
            op.tx.insert_org_unit(&OrgUnit { id: instance.root_id.clone(), name: "Root".into(), parent_id: None }).await?;
            op.tx
                .insert_account(&Account {
                    id: management.clone(),
                    name: self.config.management_account_name.clone(),
                    email: self.config.admin_email.clone(),
                    parent_id: instance.root_id.clone(),
                    status: "ACTIVE".into(),
                    joined_method: "CREATED".into(),
                    joined_at: now,
                })
                .await?;

            let (admin_user_id, otp) = self.insert_administrator(&mut op.tx, &instance, &ctx).await?;
            admin_id = admin_user_id.clone();

            let (record, secret) = seal_new_key(&self.key, BOOTSTRAP_KEY_USER, vec![MASTER_ADMIN_POLICY.to_string()], vec![], now);
            op.tx.insert_access_key(&record).await?;
            op.respond(json!({
                "instanceArn": instance.instance_arn,
                "identityStoreId": instance.identity_store_id,
                "managementAccountId": management,
                "administratorUserId": admin_user_id,
                "accessKeyId": record.access_key_id,
            }));
            Ok(Some(Bootstrapped {
                instance: instance.clone(),
                admin_user_name: ADMIN_USER_NAME.into(),
                admin_one_time_password: otp,
                admin_permission_set: ADMIN_PERMISSION_SET.into(),
                access_key_id: record.access_key_id,
                secret_access_key: secret,
            }))
        }
        .await;
        match op.finish(result).await {
            Ok(Some(done)) => {
                let _ = self.instance.set(done.instance.clone());
                self.grant_console(&ctx, &admin_id).await?;
                Ok(Some(done))
            }
            Ok(None) | Err(Error::Conflict { .. }) => self.load_existing_instance().await,

            Err(e) => Err(e),
        }
    }

    /// The Administrator reaches the console as any administrator does: through the permission
    /// set AdministratorAccess, assigned to them in the management account (whose roles are
    /// Gatehouse's own). Made with the ordinary operations, so it is audited and can be changed
    /// or removed like any other; the assignment completes once a server runs its workers.
    async fn grant_console(&self, ctx: &Ctx, admin_id: &str) -> Result<()> {
        let description = "Full administration: the Gatehouse console in the management account, AdministratorAccess elsewhere";
        let new = NewPermissionSet {
            name: ADMIN_PERMISSION_SET.into(),
            description: Some(description.into()),
            policies: RolePolicies { managed: vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()], ..Default::default() },
            ..Default::default()
        };
        let ps = self.create_permission_set(ctx, new).await?;
        let management = self.instance()?.management_account_id.clone();
        self.create_account_assignment(ctx, &management, &ps.permission_set_id, PrincipalType::User, admin_id).await?;
        Ok(())
    }

    /// The Administrator of a fresh configuration: a user with a one-time password, to be
    /// changed at the first sign-in. Returns the user id and the password.
    async fn insert_administrator(&self, tx: &mut Box<dyn Tx>, instance: &Instance, ctx: &Ctx) -> Result<(String, Zeroizing<String>)> {
        let now = self.clock.now();
        let admin = User {
            identity_store_id: instance.identity_store_id.clone(),
            user_id: ids::new_uuid(),
            profile: UserProfile {
                user_name: ADMIN_USER_NAME.into(),
                name: Name { given_name: Some("Gatehouse".into()), family_name: Some("Administrator".into()), ..Default::default() },
                display_name: Some("Administrator".into()),
                emails: vec![TypedValue {
                    value: Some(self.config.admin_email.clone()),
                    kind: Some("work".into()),
                    primary: true,
                    display: None,
                }],
                ..Default::default()
            },
            active: true,
            meta: Meta {
                created_at: now,
                created_by: ctx.principal.arn.clone(),
                updated_at: now,
                updated_by: ctx.principal.arn.clone(),
                revision: 1,
            },
        };
        tx.insert_user(&admin).await?;
        let otp = Zeroizing::new(password::generate_one_time());
        tx.put_password(&PasswordRecord {
            user_id: admin.user_id.clone(),
            hash: password::hash(&otp)?,
            must_change: true,
            history: vec![],
            updated_at: now,
        })
        .await?;
        Ok((admin.user_id, otp))
    }

    /// The guide's "Delete your AWS SSO configuration", as one operation (DeleteInstance): every
    /// permission set, application, assignment, user and group, and every setting, go; the
    /// instance, the organization and its accounts, long-term access keys and the audit trail
    /// stay. Gatehouse is then as on its first start: a new Administrator with a one-time
    /// password (returned, to be shown once) and AdministratorAccess in the management account.
    ///
    /// Refused while a permission set is provisioned into a member account, or an account
    /// request is in progress: deleting then would leave roles behind in AWS accounts that
    /// nothing here could remove. Remove those assignments first.
    pub async fn delete_configuration(&self, ctx: &Ctx) -> Result<DeletedConfiguration> {
        let instance = self.instance()?.clone();
        // The new Administrator is Gatehouse's doing, as on a first start.
        let system = Ctx::new(Principal::system(&instance.management_account_id), "127.0.0.1", "gatehouse");
        let mut op = self.begin(ctx, Source::Sso, "DeleteInstance", false, json!({"instanceArn": instance.instance_arn})).await?;
        let result = async {
            op.authorize(&instance.instance_arn)?;
            if let Some(p) = op.tx.provisioned_role_outside(&instance.management_account_id).await? {
                let name = op.tx.get_permission_set(&p.permission_set_id).await?.map_or(p.role_name, |ps| ps.name);
                return Err(Error::conflict(format!(
                    "Permission set {} is still provisioned to AWS account {} (and perhaps others): remove the assignments from \
                     your AWS accounts first, so that no role is left behind in them",
                    name, p.account_id
                )));
            }
            for kind in [RequestKind::Create, RequestKind::Delete, RequestKind::Provision] {
                let n = op.tx.count_sso_requests(kind, RequestStatus::InProgress).await?;
                if n > 0 {
                    return Err(Error::conflict(format!("{n} account requests are still in progress: wait until they finish")));
                }
            }
            let deleted = op.tx.delete_configuration().await?;
            let (admin_id, otp) = self.insert_administrator(&mut op.tx, &instance, &system).await?;
            op.respond(json!({
                "deleted": deleted.iter().map(|(table, n)| (table.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
                "administratorUserId": admin_id,
            }));
            op.resource("AWS::SSO::Instance", instance.instance_arn.clone());
            Ok(DeletedConfiguration {
                deleted,
                admin_user_id: admin_id,
                admin_user_name: ADMIN_USER_NAME.into(),
                admin_one_time_password: otp,
            })
        }
        .await;
        let done = op.finish(result).await?;
        self.forget_cached_reads();
        *self.instance_name.lock().unwrap_or_else(|p| p.into_inner()) = String::new();
        self.grant_console(&system, &done.admin_user_id).await?;
        Ok(done)
    }

    /// Another node (or an earlier run) created the instance: load it.
    async fn load_existing_instance(&self) -> Result<Option<Bootstrapped>> {
        let mut tx = self.store.begin().await?;
        let found = tx.get_instance().await?;
        tx.rollback().await?;
        let instance = found.ok_or_else(|| Error::from(StoreError::Other("instance creation failed".into())))?;
        let _ = self.instance.set(instance);
        Ok(None)
    }
}
