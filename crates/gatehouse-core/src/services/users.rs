//! User operations of the identity store.

use serde_json::{Value, json};

use super::Services;
use super::op::{Op, Source};
use super::principal::{Ctx, PrincipalKind};
use crate::error::{Error, ResourceType, Result, StoreError};
use crate::ids;
use crate::model::{ExternalId, Meta, Page, Paged, User, UserProfile, UserQuery};
use crate::validate;

const MAX_TEXT: usize = 1024;

/// A change to a user, applied inside the operation's transaction to the current state, so that
/// read-modify-write front doors (SCIM PATCH, identitystore attribute operations, the CLI) are atomic.
pub struct UserChange {
    /// What the audit record shows as requestParameters (no secrets).
    pub params: Value,
    #[allow(clippy::type_complexity)]
    pub apply: Box<dyn FnOnce(&mut UserProfile, &mut bool) -> Result<()> + Send>,
}

impl UserChange {
    pub fn new(params: Value, apply: impl FnOnce(&mut UserProfile, &mut bool) -> Result<()> + Send + 'static) -> Self {
        UserChange { params, apply: Box::new(apply) }
    }
}

/// The guide: "The following special characters are invalid when used in attributes that are
/// synchronized with SCIM: < > ; : %". Applied to the name attributes IdPs synchronize; emails and
/// URLs are checked by their own formats.
const SCIM_INVALID: &[char] = &['<', '>', ';', ':', '%'];

fn validate_scim_characters(p: &UserProfile) -> Result<()> {
    let fields = [
        ("userName", Some(&p.user_name)),
        ("name.givenName", p.name.given_name.as_ref()),
        ("name.familyName", p.name.family_name.as_ref()),
        ("name.middleName", p.name.middle_name.as_ref()),
        ("name.formatted", p.name.formatted.as_ref()),
        ("displayName", p.display_name.as_ref()),
        ("nickName", p.nick_name.as_ref()),
        ("title", p.title.as_ref()),
    ];
    for (field, value) in fields {
        if let Some(v) = value
            && let Some(c) = v.chars().find(|c| SCIM_INVALID.contains(c))
        {
            return Err(Error::validation(field, format!("the character '{c}' is not allowed in attributes synchronized with SCIM")));
        }
    }
    Ok(())
}

/// The identity store's rules for a user's attributes, each error naming its field. `ctx` adds
/// the rules of the caller's channel (SCIM's invalid characters).
fn validate_user(ctx: &Ctx, p: &UserProfile) -> Result<()> {
    if matches!(ctx.principal.kind, PrincipalKind::ScimToken { .. }) {
        validate_scim_characters(p)?;
    }
    validate_profile(p)
}

fn validate_profile(p: &UserProfile) -> Result<()> {
    validate::user_name("UserName", &p.user_name)?;
    let name = &p.name;
    for (field, value) in [
        ("Name.Formatted", &name.formatted),
        ("Name.MiddleName", &name.middle_name),
        ("Name.HonorificPrefix", &name.honorific_prefix),
        ("Name.HonorificSuffix", &name.honorific_suffix),
        ("NickName", &p.nick_name),
        ("ProfileUrl", &p.profile_url),
        ("UserType", &p.user_type),
        ("Title", &p.title),
        ("PreferredLanguage", &p.preferred_language),
        ("Locale", &p.locale),
        ("Timezone", &p.timezone),
        ("Website", &p.website),
        ("Birthdate", &p.birthdate),
        ("Extensions.EmployeeNumber", &p.enterprise.employee_number),
        ("Extensions.CostCenter", &p.enterprise.cost_center),
        ("Extensions.Organization", &p.enterprise.organization),
        ("Extensions.Division", &p.enterprise.division),
        ("Extensions.Department", &p.enterprise.department),
        ("Extensions.Manager", &p.enterprise.manager),
    ] {
        validate::opt_text(field, value, MAX_TEXT)?;
    }
    required_text("Name.GivenName", &name.given_name)?;
    required_text("Name.FamilyName", &name.family_name)?;
    required_text("DisplayName", &p.display_name)?;

    for (i, e) in p.emails.iter().enumerate() {
        let value = e.value.as_deref().ok_or_else(|| Error::validation(format!("Emails[{i}].Value"), "is required"))?;
        validate::email(&format!("Emails[{i}].Value"), value)?;
        validate::opt_text(&format!("Emails[{i}].Type"), &e.kind, MAX_TEXT)?;
    }
    if p.emails.iter().filter(|e| e.primary).count() > 1 {
        return Err(Error::validation("Emails", "only one email can be primary"));
    }
    // No email at all is allowed, as the identitystore API and SCIM allow it ("if you are
    // provisioning a primary email address"); applications that map ${user:email} then refuse
    // such a user clearly. Emails given must name their primary one.
    if !p.emails.is_empty() && p.primary_email().is_none() {
        return Err(Error::validation("Emails", "one email address must be primary"));
    }
    for (list, field) in [(&p.phone_numbers, "PhoneNumbers"), (&p.photos, "Photos"), (&p.roles, "Roles")] {
        for (i, v) in list.iter().enumerate() {
            validate::opt_text(&format!("{field}[{i}].Value"), &v.value, MAX_TEXT)?;
            validate::opt_text(&format!("{field}[{i}].Type"), &v.kind, MAX_TEXT)?;
            validate::opt_text(&format!("{field}[{i}].Display"), &v.display, MAX_TEXT)?;
        }
        if list.iter().filter(|v| v.primary).count() > 1 {
            return Err(Error::validation(field, "only one value can be primary"));
        }
    }
    for (i, a) in p.addresses.iter().enumerate() {
        for (sub, value) in [
            ("StreetAddress", &a.street_address),
            ("Locality", &a.locality),
            ("Region", &a.region),
            ("PostalCode", &a.postal_code),
            ("Country", &a.country),
            ("Formatted", &a.formatted),
            ("Type", &a.kind),
        ] {
            validate::opt_text(&format!("Addresses[{i}].{sub}"), value, MAX_TEXT)?;
        }
    }
    validate_external_ids(&p.external_ids)
}

pub(crate) fn validate_external_ids(ids: &[ExternalId]) -> Result<()> {
    for (i, x) in ids.iter().enumerate() {
        validate::token(&format!("ExternalIds[{i}].Issuer"), &x.issuer, 256)?;
        validate::token(&format!("ExternalIds[{i}].Id"), &x.id, 256)?;
        if ids[..i].contains(x) {
            return Err(Error::validation(format!("ExternalIds[{i}]"), "duplicate external id"));
        }
    }
    Ok(())
}

fn required_text(field: &str, value: &Option<String>) -> Result<()> {
    match value {
        Some(v) => validate::text(field, v, MAX_TEXT),
        None => Err(Error::validation(field, "is required")),
    }
}

/// Attribute names present in a profile: enough for an audit trail without copying personal data.
fn attribute_names(p: &UserProfile) -> Value {
    match serde_json::to_value(p) {
        Ok(Value::Object(m)) => Value::Array(m.keys().map(|k| Value::String(k.clone())).collect()),
        _ => Value::Null,
    }
}

impl Services {
    pub async fn create_user(&self, ctx: &Ctx, profile: UserProfile) -> Result<User> {
        self.create_user_with_status(ctx, profile, true).await
    }

    /// Create a user enabled or already disabled (SCIM creates users with `active: false`), in
    /// one transaction; a disabled one also needs `sso-directory:DisableUser`.
    pub async fn create_user_with_status(&self, ctx: &Ctx, profile: UserProfile, active: bool) -> Result<User> {
        let mut params = json!({
            "identityStoreId": self.store_id()?,
            "userName": profile.user_name,
            "attributes": attribute_names(&profile),
        });
        if !active {
            params["userStatus"] = json!("DISABLED");
        }
        let mut op = self.begin(ctx, Source::IdentityStore, "CreateUser", false, params).await?;
        let result = self.create_user_in(&mut op, ctx, profile, active).await;
        op.finish(result).await
    }

    async fn create_user_in(&self, op: &mut Op<'_>, ctx: &Ctx, profile: UserProfile, active: bool) -> Result<User> {
        op.authorize(&self.identity_store_arn()?)?;
        self.ensure_not_directory(op, "Users").await?;
        validate_user(ctx, &profile)?;
        let store_id = self.store_id()?;
        let max = self.config.max_users;
        let count = self.user_count.current(max, op.tx.count_users(&store_id)).await?;
        if count >= max {
            return Err(Error::QuotaExceeded { message: format!("the identity store already holds the maximum of {max} users") });
        }
        let user = User { identity_store_id: store_id, user_id: ids::new_uuid(), profile, active, meta: self.new_meta(ctx) };
        if !active {
            ctx.principal.authorize("sso-directory:DisableUser", &ids::user_arn(&user.user_id), &[])?;
        }
        // The unique indexes decide (one statement instead of a lookup per unique attribute);
        // a violation is named after the attribute it concerns.
        op.tx.insert_user(&user).await.map_err(|e| unique_violation(e, &user.profile))?;
        self.user_count.created();
        op.respond(json!({"identityStoreId": user.identity_store_id, "userId": user.user_id}));
        op.resource("AWS::IdentityStore::User", ids::user_arn(&user.user_id));
        Ok(user)
    }

    pub async fn describe_user(&self, ctx: &Ctx, user_id: &str) -> Result<User> {
        let store_id = self.store_id()?;
        let params = json!({"identityStoreId": store_id, "userId": user_id});
        let mut op = self.begin(ctx, Source::IdentityStore, "DescribeUser", true, params).await?;
        let result = async {
            op.authorize(&self.identity_store_arn()?)?;
            op.authorize(&ids::user_arn(user_id))?;
            load_user(&mut op, &store_id, user_id).await
        }
        .await;
        op.finish(result).await
    }

    /// Find a user by user name (case-insensitive); NotFound when there is none.
    pub async fn find_user_by_name(&self, ctx: &Ctx, user_name: &str) -> Result<User> {
        let query = UserQuery { user_name: Some(user_name.to_string()), ..Default::default() };
        let page = self.list_users(ctx, query, Page { after: None, limit: 1 }).await?;
        page.items.into_iter().next().ok_or_else(|| Error::not_found(ResourceType::User, user_name))
    }

    pub async fn list_users(&self, ctx: &Ctx, query: UserQuery, page: Page) -> Result<Paged<User>> {
        let store_id = self.store_id()?;
        let mut params = json!({"identityStoreId": store_id, "maxResults": page.limit});
        if let Some(u) = &query.user_name {
            params["filters"] = json!([{"attributePath": "UserName", "attributeValue": u}]);
        }
        let mut op = self.begin(ctx, Source::IdentityStore, "ListUsers", true, params).await?;
        let result = async {
            op.authorize(&self.identity_store_arn()?)?;
            Ok(op.tx.list_users(&store_id, &query, &page).await?)
        }
        .await;
        op.finish(result).await
    }

    /// Apply `change` to the user's current state. The user name cannot change, and a disabled
    /// user cannot be edited (only re-enabled) except by the identity provider over SCIM.
    pub async fn update_user(&self, ctx: &Ctx, user_id: &str, change: UserChange) -> Result<User> {
        let store_id = self.store_id()?;
        let params = json!({"identityStoreId": store_id, "userId": user_id, "operations": change.params});
        let mut op = self.begin(ctx, Source::IdentityStore, "UpdateUser", false, params).await?;
        let result = async {
            op.authorize(&self.identity_store_arn()?)?;
            self.ensure_not_directory(&mut op, "Users").await?;
            op.authorize(&ids::user_arn(user_id))?;
            let mut user = load_user(&mut op, &store_id, user_id).await?;
            let mut profile = user.profile.clone();
            let mut active = user.active;
            (change.apply)(&mut profile, &mut active)?;
            if profile.user_name != user.profile.user_name {
                return Err(Error::validation("UserName", "the user name cannot be changed"));
            }
            // The identity provider is the source of truth for the users it provisions: SCIM
            // keeps a deactivated user's attributes in step (Entra ID and Okta do so).
            let from_idp = matches!(ctx.principal.kind, PrincipalKind::ScimToken { .. });
            if !user.active && !active && profile != user.profile && !from_idp {
                return Err(disabled(user_id, "edited"));
            }
            validate_user(ctx, &profile)?;
            check_unique(&mut op, &store_id, &profile, Some(user_id)).await?;
            let status_changed = active != user.active;
            user.profile = profile;
            user.active = active;
            self.touch(&mut user.meta, ctx);
            op.tx.update_user(&user).await?;
            if status_changed {
                op.additional("userStatus", json!(user.status()));
            }
            if !user.active {
                super::signin::end_sessions(&mut op.tx, user_id).await?;
            }
            op.resource("AWS::IdentityStore::User", ids::user_arn(user_id));
            Ok(user)
        }
        .await;
        op.finish(result).await
    }

    /// Disable (or enable) a user: a disabled user cannot sign in, be edited, get a password reset
    /// or join a group.
    pub async fn set_user_active(&self, ctx: &Ctx, user_id: &str, active: bool) -> Result<User> {
        let store_id = self.store_id()?;
        let name = if active { "EnableUser" } else { "DisableUser" };
        let params = json!({"identityStoreId": store_id, "userId": user_id});
        let mut op = self.begin(ctx, Source::SsoDirectory, name, false, params).await?;
        let result = async {
            op.authorize(&ids::user_arn(user_id))?;
            self.ensure_not_directory(&mut op, "Users").await?;
            let mut user = load_user(&mut op, &store_id, user_id).await?;
            if user.active != active {
                user.active = active;
                self.touch(&mut user.meta, ctx);
                op.tx.update_user(&user).await?;
            }
            if !active {
                // A disabled user's open sessions end now, not at their expiry.
                super::signin::end_sessions(&mut op.tx, user_id).await?;
            }
            op.resource("AWS::IdentityStore::User", ids::user_arn(user_id));
            Ok(user)
        }
        .await;
        op.finish(result).await
    }

    /// Delete a user with its memberships, password, MFA devices and application assignments.
    pub async fn delete_user(&self, ctx: &Ctx, user_id: &str) -> Result<()> {
        let store_id = self.store_id()?;
        let params = json!({"identityStoreId": store_id, "userId": user_id});
        let mut op = self.begin(ctx, Source::IdentityStore, "DeleteUser", false, params).await?;
        let result = async {
            op.authorize(&self.identity_store_arn()?)?;
            self.ensure_not_directory(&mut op, "Users").await?;
            op.authorize(&ids::user_arn(user_id))?;
            load_user(&mut op, &store_id, user_id).await?;
            let gone = self.purge_user_in(&mut op, &store_id, user_id, true).await?;
            op.additional("membershipsRemoved", json!(gone.memberships));
            op.additional("applicationAssignmentsRemoved", json!(gone.application_assignments));
            op.additional("accountAssignmentsRemoved", json!(gone.account_assignments));
            op.resource("AWS::IdentityStore::User", ids::user_arn(user_id));
            Ok(())
        }
        .await;
        op.finish(result).await
    }

    /// Delete a user with everything that hangs on it: memberships, sessions, MFA devices and,
    /// with `assignments`, its application and account assignments (a user deleted in Active
    /// Directory keeps them, as the guide says).
    pub(crate) async fn purge_user_in(&self, op: &mut Op<'_>, store_id: &str, user_id: &str, assignments: bool) -> Result<Removed> {
        let mut gone = Removed { memberships: op.tx.delete_memberships_of_user(store_id, user_id).await?, ..Default::default() };
        super::signin::end_sessions(&mut op.tx, user_id).await?;
        op.tx.delete_mfa_devices_of_user(user_id).await?;
        if assignments {
            gone.application_assignments = op.tx.delete_app_assignments_of(crate::model::PrincipalType::User, user_id).await?;
            gone.account_assignments = self.remove_assignments_of_principal(op, crate::model::PrincipalType::User, user_id).await?;
        }
        op.tx.delete_user(store_id, user_id).await?;
        Ok(gone)
    }

    /// Who created a new resource and when (revision 1).
    pub(crate) fn new_meta(&self, ctx: &Ctx) -> Meta {
        let now = self.clock.now();
        let by = ctx.principal.arn.clone();
        Meta { created_at: now, created_by: by.clone(), updated_at: now, updated_by: by, revision: 1 }
    }

    pub(crate) fn touch(&self, meta: &mut Meta, ctx: &Ctx) {
        meta.updated_at = self.clock.now();
        meta.updated_by = ctx.principal.arn.clone();
        meta.revision += 1;
    }
}

/// What went with a deleted user or group.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Removed {
    pub memberships: u64,
    pub application_assignments: u64,
    pub account_assignments: u64,
}

pub(crate) fn disabled(user_id: &str, what: &str) -> Error {
    Error::conflict_reason(format!("User {user_id} is disabled and cannot be {what}"), "USER_DISABLED")
}

pub(crate) async fn load_user(op: &mut Op<'_>, store_id: &str, user_id: &str) -> Result<User> {
    op.tx.get_user(store_id, user_id).await?.ok_or_else(|| Error::not_found(ResourceType::User, user_id))
}

/// User names and primary emails are unique case-insensitively; external ids are unique.
/// A unique-index violation on insert, as the conflict on the attribute it concerns. The index
/// names (PostgreSQL) and column names (SQLite) come from migration m0001.
fn unique_violation(e: StoreError, p: &UserProfile) -> Error {
    let StoreError::Unique(detail) = &e else { return e.into() };
    let conflict = |message: String| Error::conflict_reason(message, "UNIQUENESS_CONSTRAINT_VIOLATION");
    if detail.contains("user_name_lower") || detail.contains("ux_users_name") {
        conflict(format!("A user with user name '{}' already exists", p.user_name))
    } else if detail.contains("primary_email_lower") || detail.contains("ux_users_email") {
        conflict(format!("A user with email '{}' already exists", p.primary_email().unwrap_or_default()))
    } else if detail.contains("external_id") {
        conflict(format!("A user with external id {} already exists", crate::model::external_ids_text(&p.external_ids)))
    } else {
        e.into()
    }
}

async fn check_unique(op: &mut Op<'_>, store_id: &str, p: &UserProfile, except: Option<&str>) -> Result<()> {
    let other = |u: &Option<User>| u.as_ref().is_some_and(|u| Some(u.user_id.as_str()) != except);
    let by_name = op.tx.find_user_by_name(store_id, &p.user_name).await?;
    if other(&by_name) {
        return Err(Error::conflict_reason(
            format!("A user with user name '{}' already exists", p.user_name),
            "UNIQUENESS_CONSTRAINT_VIOLATION",
        ));
    }
    if let Some(email) = p.primary_email() {
        let by_email = op.tx.find_user_by_primary_email(store_id, email).await?;
        if other(&by_email) {
            return Err(Error::conflict_reason(format!("A user with email '{email}' already exists"), "UNIQUENESS_CONSTRAINT_VIOLATION"));
        }
    }
    for x in &p.external_ids {
        let q = UserQuery { external_id: Some(x.clone()), ..Default::default() };
        let found = op.tx.list_users(store_id, &q, &Page { after: None, limit: 2 }).await?;
        if found.items.iter().any(|u| Some(u.user_id.as_str()) != except) {
            return Err(Error::conflict_reason(format!("A user with external id {x} already exists"), "UNIQUENESS_CONSTRAINT_VIOLATION"));
        }
    }
    Ok(())
}
