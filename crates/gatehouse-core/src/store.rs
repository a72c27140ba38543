//! Storage interface. Services open one transaction per operation and do all reads and writes of
//! that operation through it, the audit record included, so an operation is all or nothing.
//! One implementation (gatehouse-store) serves SQLite and PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::model::*;

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait]
pub trait Store: Send + Sync + 'static {
    async fn begin(&self) -> StoreResult<Box<dyn Tx>>;
    /// A transaction for reading only: on SQLite it does not queue for the single writer (WAL
    /// readers run alongside it). Writing through it is a bug.
    async fn begin_read(&self) -> StoreResult<Box<dyn Tx>>;
    /// Is the database reachable? (for /readyz)
    async fn ping(&self) -> StoreResult<()>;
    /// "sqlite" or "postgres", for logs and metrics.
    fn backend(&self) -> &'static str;
    /// Connections open and idle in the pool, for metrics.
    fn pool_stats(&self) -> PoolStats;
    /// Take one token from the bucket `key` (refilled at `rate` per second up to `burst`).
    /// False: the caller is over the limit. Shared by every node on PostgreSQL.
    async fn take_token(&self, key: &str, rate: f64, burst: f64, now: DateTime<Utc>) -> StoreResult<bool>;
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
}

/// A transaction: every repository, then commit. Dropping it without commit rolls back.
#[async_trait]
pub trait Tx:
    InstanceRepo
    + UserRepo
    + GroupRepo
    + MembershipRepo
    + OrgRepo
    + AccessKeyRepo
    + ScimTokenRepo
    + SettingsRepo
    + AuditRepo
    + JobRepo
    + SignInRepo
    + ApplicationRepo
    + PermissionSetRepo
    + OidcRepo
    + SamlSpRepo
    + Send
{
    async fn commit(self: Box<Self>) -> StoreResult<()>;
    async fn rollback(self: Box<Self>) -> StoreResult<()>;
}

#[async_trait]
pub trait InstanceRepo {
    async fn get_instance(&mut self) -> StoreResult<Option<Instance>>;
    /// Fails with `StoreError::Unique` when an instance already exists.
    async fn insert_instance(&mut self, instance: &Instance) -> StoreResult<()>;
    /// The guide's "Delete your AWS SSO configuration": delete every row of the SSO
    /// configuration (users, groups and their credentials, sessions and devices; settings;
    /// applications; permission sets, assignments, requests and what they provisioned; SSO OIDC
    /// clients and tokens; role sessions' temporary keys). The instance, the organization, long-term
    /// access keys and the audit trail stay.
    /// Returns the rows deleted per table.
    async fn delete_configuration(&mut self) -> StoreResult<Vec<(&'static str, u64)>>;
}

#[async_trait]
pub trait UserRepo {
    async fn insert_user(&mut self, user: &User) -> StoreResult<()>;
    /// Replace the stored user with this one (same id).
    async fn update_user(&mut self, user: &User) -> StoreResult<()>;
    async fn get_user(&mut self, store_id: &str, user_id: &str) -> StoreResult<Option<User>>;
    /// Case-insensitive.
    async fn find_user_by_name(&mut self, store_id: &str, user_name: &str) -> StoreResult<Option<User>>;
    /// Case-insensitive, over primary emails.
    async fn find_user_by_primary_email(&mut self, store_id: &str, email: &str) -> StoreResult<Option<User>>;
    async fn list_users(&mut self, store_id: &str, query: &UserQuery, page: &Page) -> StoreResult<Paged<User>>;
    async fn count_users(&mut self, store_id: &str) -> StoreResult<u64>;
    async fn delete_user(&mut self, store_id: &str, user_id: &str) -> StoreResult<bool>;
    async fn get_password(&mut self, user_id: &str) -> StoreResult<Option<PasswordRecord>>;
    async fn put_password(&mut self, record: &PasswordRecord) -> StoreResult<()>;
}

#[async_trait]
pub trait GroupRepo {
    async fn insert_group(&mut self, group: &Group) -> StoreResult<()>;
    async fn update_group(&mut self, group: &Group) -> StoreResult<()>;
    async fn get_group(&mut self, store_id: &str, group_id: &str) -> StoreResult<Option<Group>>;
    /// Case-insensitive.
    async fn find_group_by_name(&mut self, store_id: &str, display_name: &str) -> StoreResult<Option<Group>>;
    async fn list_groups(&mut self, store_id: &str, query: &GroupQuery, page: &Page) -> StoreResult<Paged<Group>>;
    async fn count_groups(&mut self, store_id: &str) -> StoreResult<u64>;
    async fn delete_group(&mut self, store_id: &str, group_id: &str) -> StoreResult<bool>;
}

#[async_trait]
pub trait MembershipRepo {
    async fn insert_membership(&mut self, membership: &Membership) -> StoreResult<()>;
    async fn get_membership(&mut self, store_id: &str, membership_id: &str) -> StoreResult<Option<Membership>>;
    async fn find_membership(&mut self, store_id: &str, group_id: &str, user_id: &str) -> StoreResult<Option<Membership>>;
    async fn list_memberships_of_group(&mut self, store_id: &str, group_id: &str, page: &Page) -> StoreResult<Paged<Membership>>;
    async fn list_memberships_of_user(&mut self, store_id: &str, user_id: &str, page: &Page) -> StoreResult<Paged<Membership>>;
    async fn delete_membership(&mut self, store_id: &str, membership_id: &str) -> StoreResult<bool>;
    /// Remove every membership of a user or of a group; returns how many went.
    async fn delete_memberships_of_user(&mut self, store_id: &str, user_id: &str) -> StoreResult<u64>;
    async fn delete_memberships_of_group(&mut self, store_id: &str, group_id: &str) -> StoreResult<u64>;
}

#[async_trait]
pub trait OrgRepo {
    async fn insert_account(&mut self, account: &Account) -> StoreResult<()>;
    async fn get_account(&mut self, account_id: &str) -> StoreResult<Option<Account>>;
    /// Those of these accounts that exist, by id.
    async fn get_accounts(&mut self, account_ids: &[String]) -> StoreResult<Vec<Account>>;
    async fn list_accounts(&mut self, page: &Page) -> StoreResult<Paged<Account>>;
    async fn update_account(&mut self, account: &Account) -> StoreResult<()>;
    async fn delete_account(&mut self, account_id: &str) -> StoreResult<bool>;
    /// Case-insensitive.
    async fn find_account_by_email(&mut self, email: &str) -> StoreResult<Option<Account>>;
    async fn list_accounts_in(&mut self, parent_id: &str, page: &Page) -> StoreResult<Paged<Account>>;
    async fn insert_org_unit(&mut self, unit: &OrgUnit) -> StoreResult<()>;
    async fn get_org_unit(&mut self, id: &str) -> StoreResult<Option<OrgUnit>>;
    async fn update_org_unit(&mut self, unit: &OrgUnit) -> StoreResult<()>;
    async fn delete_org_unit(&mut self, id: &str) -> StoreResult<bool>;
    /// Organizational units whose parent is `parent_id` (the root is nobody's child).
    async fn list_org_units_in(&mut self, parent_id: &str, page: &Page) -> StoreResult<Paged<OrgUnit>>;
}

#[async_trait]
pub trait AccessKeyRepo {
    async fn insert_access_key(&mut self, key: &AccessKeyRecord) -> StoreResult<()>;
    async fn get_access_key(&mut self, access_key_id: &str) -> StoreResult<Option<AccessKeyRecord>>;
    async fn list_access_keys(&mut self) -> StoreResult<Vec<AccessKeyRecord>>;
    async fn delete_access_key(&mut self, access_key_id: &str) -> StoreResult<bool>;
    async fn touch_access_key(&mut self, access_key_id: &str, at: DateTime<Utc>) -> StoreResult<()>;
}

#[async_trait]
pub trait ScimTokenRepo {
    async fn insert_scim_token(&mut self, token: &ScimToken) -> StoreResult<()>;
    async fn list_scim_tokens(&mut self) -> StoreResult<Vec<ScimToken>>;
    async fn find_scim_token(&mut self, token_hash: &str) -> StoreResult<Option<ScimToken>>;
    async fn delete_scim_token(&mut self, token_id: &str) -> StoreResult<bool>;
    async fn touch_scim_token(&mut self, token_id: &str, at: DateTime<Utc>) -> StoreResult<()>;
}

/// Instance-wide settings that change at run time, one JSON value per name.
#[async_trait]
pub trait SettingsRepo {
    async fn get_setting(&mut self, name: &str) -> StoreResult<Option<String>>;
    async fn put_setting(&mut self, name: &str, value: &str, at: DateTime<Utc>) -> StoreResult<()>;
}

#[async_trait]
pub trait AuditRepo {
    async fn insert_audit(&mut self, record: &AuditRecord) -> StoreResult<()>;
    async fn list_audit(&mut self, query: &AuditQuery) -> StoreResult<Vec<StoredAudit>>;
    /// Records since `since` counted per UTC day ("YYYY-MM-DD") and [`AuditBucket`].
    async fn count_audit_by_day(&mut self, since: DateTime<Utc>) -> StoreResult<Vec<(String, AuditBucket, i64)>>;
}

#[async_trait]
pub trait JobRepo {
    async fn insert_job(&mut self, job: &Job) -> StoreResult<()>;
    /// Claim the oldest runnable job of these kinds (queued and due, or running with an expired
    /// lease) for `worker` until `lease_until`, skipping rows other nodes hold locked.
    async fn claim_job(&mut self, kinds: &[&str], worker: &str, now: DateTime<Utc>, lease_until: DateTime<Utc>)
    -> StoreResult<Option<Job>>;
    async fn update_job(&mut self, job: &Job) -> StoreResult<()>;
    async fn get_job(&mut self, id: &str) -> StoreResult<Option<Job>>;
}

/// Portal sign-in state: sessions, MFA devices, trusted devices, emailed tokens, the throttle.
#[async_trait]
pub trait SignInRepo {
    async fn insert_session(&mut self, session: &PortalSession) -> StoreResult<()>;
    async fn find_session(&mut self, token_hash: &str) -> StoreResult<Option<PortalSession>>;
    /// Replace the stored session (same id); a new token hash rotates the cookie.
    async fn update_session(&mut self, session: &PortalSession) -> StoreResult<()>;
    async fn delete_session(&mut self, session_id: &str) -> StoreResult<bool>;
    async fn list_sessions_of_user(&mut self, user_id: &str) -> StoreResult<Vec<PortalSession>>;
    /// End every session of a user; returns how many there were.
    async fn delete_sessions_of_user(&mut self, user_id: &str) -> StoreResult<u64>;

    async fn insert_mfa_device(&mut self, device: &MfaDevice) -> StoreResult<()>;
    async fn update_mfa_device(&mut self, device: &MfaDevice) -> StoreResult<()>;
    async fn list_mfa_devices(&mut self, user_id: &str) -> StoreResult<Vec<MfaDevice>>;
    async fn delete_mfa_device(&mut self, user_id: &str, device_id: &str) -> StoreResult<bool>;
    async fn delete_mfa_devices_of_user(&mut self, user_id: &str) -> StoreResult<u64>;

    async fn insert_trusted_device(&mut self, device: &TrustedDevice) -> StoreResult<()>;
    async fn find_trusted_device(&mut self, token_hash: &str) -> StoreResult<Option<TrustedDevice>>;
    async fn delete_trusted_devices_of_user(&mut self, user_id: &str) -> StoreResult<u64>;

    async fn insert_email_token(&mut self, token: &EmailToken) -> StoreResult<()>;
    async fn find_email_token(&mut self, token_hash: &str) -> StoreResult<Option<EmailToken>>;
    /// Mark the token used if it was not: false when it already was (a link works once, even when
    /// two requests race).
    async fn use_email_token(&mut self, token_hash: &str, at: DateTime<Utc>) -> StoreResult<bool>;
    /// Unused tokens of a user for one purpose stop working (a new link replaces the old).
    async fn delete_email_tokens(&mut self, user_id: &str, purpose: EmailPurpose) -> StoreResult<u64>;

    async fn get_throttle(&mut self, key: &str) -> StoreResult<Option<Throttle>>;
    async fn put_throttle(&mut self, throttle: &Throttle) -> StoreResult<()>;
    async fn delete_throttle(&mut self, key: &str) -> StoreResult<bool>;
}

/// Applications, their signing certificates and assignments.
#[async_trait]
pub trait ApplicationRepo {
    async fn insert_application(&mut self, app: &Application) -> StoreResult<()>;
    async fn update_application(&mut self, app: &Application) -> StoreResult<()>;
    async fn get_application(&mut self, application_id: &str) -> StoreResult<Option<Application>>;
    /// Ordered by id; `provider` narrows to one catalog template.
    async fn list_applications(&mut self, provider: Option<&str>, page: &Page) -> StoreResult<Paged<Application>>;
    /// Deletes its certificates and assignments too.
    async fn delete_application(&mut self, application_id: &str) -> StoreResult<bool>;

    async fn insert_app_certificate(&mut self, cert: &AppCertificate) -> StoreResult<()>;
    /// Oldest first.
    async fn list_app_certificates(&mut self, application_id: &str) -> StoreResult<Vec<AppCertificate>>;
    /// Make this certificate the only active one of its application.
    async fn activate_app_certificate(&mut self, application_id: &str, certificate_id: &str) -> StoreResult<bool>;
    async fn delete_app_certificate(&mut self, application_id: &str, certificate_id: &str) -> StoreResult<bool>;

    /// Fails with `StoreError::Unique` when the principal is already assigned.
    async fn insert_app_assignment(&mut self, assignment: &AppAssignment) -> StoreResult<()>;
    async fn delete_app_assignment(&mut self, application_id: &str, principal_type: PrincipalType, principal_id: &str)
    -> StoreResult<bool>;
    /// Ordered by (type, id); the cursor is `<TYPE>/<id>`.
    async fn list_app_assignments(&mut self, application_id: &str, page: &Page) -> StoreResult<Paged<AppAssignment>>;
    /// Every assignment of these principals (a user and their groups), across applications.
    async fn find_app_assignments_of(&mut self, principals: &[(PrincipalType, String)]) -> StoreResult<Vec<AppAssignment>>;
    /// Remove a deleted user's or group's assignments; returns how many went.
    async fn delete_app_assignments_of(&mut self, principal_type: PrincipalType, principal_id: &str) -> StoreResult<u64>;
}

/// Permission sets, account and OU assignments, the asynchronous requests and what is
/// provisioned where; tags of sso resources; leases that serialize work per account.
#[async_trait]
pub trait PermissionSetRepo {
    async fn insert_permission_set(&mut self, ps: &PermissionSet) -> StoreResult<()>;
    async fn update_permission_set(&mut self, ps: &PermissionSet) -> StoreResult<()>;
    async fn get_permission_set(&mut self, id: &str) -> StoreResult<Option<PermissionSet>>;
    /// Those of these permission sets that exist.
    async fn get_permission_sets(&mut self, ids: &[String]) -> StoreResult<Vec<PermissionSet>>;
    /// Case-insensitive, as IAM role names are.
    async fn find_permission_set_by_name(&mut self, name: &str) -> StoreResult<Option<PermissionSet>>;
    async fn list_permission_sets(&mut self, page: &Page) -> StoreResult<Paged<PermissionSet>>;
    async fn count_permission_sets(&mut self) -> StoreResult<u64>;
    async fn delete_permission_set(&mut self, id: &str) -> StoreResult<bool>;

    async fn get_account_assignment(
        &mut self,
        account_id: &str,
        permission_set_id: &str,
        kind: PrincipalType,
        principal_id: &str,
    ) -> StoreResult<Option<AccountAssignment>>;
    /// Insert or replace.
    async fn put_account_assignment(&mut self, a: &AccountAssignment) -> StoreResult<()>;
    async fn delete_account_assignment(
        &mut self,
        account_id: &str,
        permission_set_id: &str,
        kind: PrincipalType,
        principal_id: &str,
    ) -> StoreResult<bool>;
    /// Of one permission set in one account, by principal.
    async fn list_account_assignments(
        &mut self,
        account_id: &str,
        permission_set_id: &str,
        page: &Page,
    ) -> StoreResult<Paged<AccountAssignment>>;
    /// Of one principal, optionally in one account, by account and permission set.
    async fn list_assignments_of_principal(
        &mut self,
        kind: PrincipalType,
        principal_id: &str,
        account_id: Option<&str>,
        page: &Page,
    ) -> StoreResult<Paged<AccountAssignment>>;
    /// Of any of these principals (a user and their groups), optionally in one account.
    async fn assignments_of_principals(
        &mut self,
        principals: &[(PrincipalType, String)],
        account_id: Option<&str>,
    ) -> StoreResult<Vec<AccountAssignment>>;
    async fn count_assignments(&mut self, account_id: &str, permission_set_id: &str) -> StoreResult<u64>;
    async fn count_assignments_of_permission_set(&mut self, permission_set_id: &str) -> StoreResult<u64>;
    /// Distinct permission sets assigned in an account, or on their way there (creation requests
    /// in progress).
    async fn permission_sets_assigned_in(&mut self, account_id: &str) -> StoreResult<Vec<String>>;

    async fn insert_ou_assignment(&mut self, a: &OuAssignment) -> StoreResult<()>;
    async fn delete_ou_assignment(
        &mut self,
        ou_id: &str,
        permission_set_id: &str,
        kind: PrincipalType,
        principal_id: &str,
    ) -> StoreResult<bool>;
    /// Of the given OUs (all when empty).
    async fn list_ou_assignments(&mut self, ou_ids: &[String]) -> StoreResult<Vec<OuAssignment>>;
    async fn delete_ou_assignments_of_principal(&mut self, kind: PrincipalType, principal_id: &str) -> StoreResult<u64>;

    async fn insert_sso_request(&mut self, r: &SsoRequest) -> StoreResult<()>;
    async fn update_sso_request(&mut self, r: &SsoRequest) -> StoreResult<()>;
    async fn get_sso_request(&mut self, request_id: &str) -> StoreResult<Option<SsoRequest>>;
    /// Not internal, of one kind, optionally one status, in request order.
    async fn list_sso_requests(&mut self, kind: RequestKind, status: Option<RequestStatus>, page: &Page) -> StoreResult<Paged<SsoRequest>>;
    async fn count_sso_requests(&mut self, kind: RequestKind, status: RequestStatus) -> StoreResult<u64>;

    async fn put_provisioned_role(&mut self, p: &ProvisionedRole) -> StoreResult<()>;
    async fn get_provisioned_role(&mut self, account_id: &str, permission_set_id: &str) -> StoreResult<Option<ProvisionedRole>>;
    async fn delete_provisioned_role(&mut self, account_id: &str, permission_set_id: &str) -> StoreResult<bool>;
    /// By account id.
    async fn list_provisioned_of_permission_set(&mut self, permission_set_id: &str, page: &Page) -> StoreResult<Paged<ProvisionedRole>>;
    /// By permission set id.
    async fn list_provisioned_in_account(&mut self, account_id: &str, page: &Page) -> StoreResult<Paged<ProvisionedRole>>;
    /// A role provisioned into an account other than this one, if there is any.
    async fn provisioned_role_outside(&mut self, account_id: &str) -> StoreResult<Option<ProvisionedRole>>;

    async fn list_tags(&mut self, resource_arn: &str) -> StoreResult<Vec<Tag>>;
    /// Insert or overwrite each.
    async fn put_tags(&mut self, resource_arn: &str, tags: &[Tag]) -> StoreResult<()>;
    async fn delete_tags(&mut self, resource_arn: &str, keys: &[String]) -> StoreResult<()>;

    /// Take (or extend) the lease `key` until `until` unless another holder has it unexpired.
    async fn try_lease(&mut self, key: &str, holder: &str, now: DateTime<Utc>, until: DateTime<Utc>) -> StoreResult<bool>;
    async fn release_lease(&mut self, key: &str, holder: &str) -> StoreResult<()>;
}

/// SSO OIDC clients, device authorizations and tokens (all secrets as hashes).
#[async_trait]
pub trait OidcRepo {
    async fn insert_oidc_client(&mut self, c: &OidcClient) -> StoreResult<()>;
    async fn get_oidc_client(&mut self, client_id: &str) -> StoreResult<Option<OidcClient>>;
    async fn insert_device_authorization(&mut self, d: &DeviceAuthorization) -> StoreResult<()>;
    async fn update_device_authorization(&mut self, d: &DeviceAuthorization) -> StoreResult<()>;
    async fn find_device_by_code_hash(&mut self, hash: &str) -> StoreResult<Option<DeviceAuthorization>>;
    /// The unexpired authorization with this user code.
    async fn find_device_by_user_code(&mut self, user_code: &str, now: DateTime<Utc>) -> StoreResult<Option<DeviceAuthorization>>;
    async fn insert_sso_token(&mut self, t: &SsoToken) -> StoreResult<()>;
    async fn update_sso_token(&mut self, t: &SsoToken) -> StoreResult<()>;
    async fn find_token_by_access_hash(&mut self, hash: &str) -> StoreResult<Option<SsoToken>>;
    async fn find_token_by_refresh_hash(&mut self, hash: &str) -> StoreResult<Option<SsoToken>>;
    async fn insert_authorization_code(&mut self, c: &AuthorizationCode) -> StoreResult<()>;
    async fn find_authorization_code(&mut self, code_hash: &str) -> StoreResult<Option<AuthorizationCode>>;
    /// Mark it used; false when it was used already (two exchanges racing).
    async fn use_authorization_code(&mut self, code_hash: &str) -> StoreResult<bool>;
    /// Revoke every grant of the user (disabled or deleted); how many.
    async fn revoke_tokens_of_user(&mut self, user_id: &str) -> StoreResult<u64>;
}

/// Gatehouse as a SAML service provider: one-time IDs shared by every node until they expire.
#[async_trait]
pub trait SamlSpRepo {
    /// Remember `id` of `kind` ("request": an AuthnRequest sent; "assertion": one accepted).
    /// False when it is already there (for an assertion: a replay).
    async fn insert_sp_id(&mut self, kind: &str, id: &str, expires_at: DateTime<Utc>) -> StoreResult<bool>;
    /// Forget `id` of `kind`: true when it was there unexpired (an answer to our request).
    async fn take_sp_id(&mut self, kind: &str, id: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Forget what has expired.
    async fn purge_sp_ids(&mut self, now: DateTime<Utc>) -> StoreResult<u64>;
    /// The access-control attributes the IdP sent at the user's last sign-in (key, value).
    async fn put_idp_tags(&mut self, user_id: &str, tags: &[(String, String)], at: DateTime<Utc>) -> StoreResult<()>;
    async fn get_idp_tags(&mut self, user_id: &str) -> StoreResult<Vec<(String, String)>>;
}
