//! Permission sets: what a role in an AWS account carries (policies, boundary, session
//! duration, relay state), the guide's limits, and every change counted in `version` so that the
//! provisioning status can say whether an account has the latest.

mod abac;
mod assignments;
mod connections;
mod provisioning;
mod tags;

use serde_json::json;

pub use abac::SUPPORTED_ATTRIBUTE_SOURCES;
pub use assignments::AssignmentTarget;
pub use connections::ConnectionChange;
pub use provisioning::{ProvisioningConfig, ROLE_PATH, permission_set_name_of, role_name};

use super::Services;
use super::op::{Op, Source};
use super::principal::Ctx;
use crate::error::{Error, ResourceType, Result};
use crate::model::{Boundary, CustomerPolicyRef, Page, Paged, PermissionSet, RequestKind, RolePolicies, Tag};
use crate::store::Tx;

/// The guide: one inline policy per permission set, of at most 10,240 bytes (whitespace not
/// counted).
pub const MAX_INLINE_POLICY_BYTES: usize = 10_240;
/// Managed and customer managed policies attached to one permission set (IAM's default for a role).
pub const MAX_ATTACHED_POLICIES: usize = 10;

/// A permission set to create: CreatePermissionSet's fields, and the managed and inline
/// policies the console's create page attaches at once.
#[derive(Debug, Clone, Default)]
pub struct NewPermissionSet {
    pub name: String,
    pub description: Option<String>,
    pub session_duration: Option<String>,
    pub relay_state: Option<String>,
    pub tags: Vec<Tag>,
    /// Only `managed` and `inline` are used.
    pub policies: RolePolicies,
}

/// A change to a permission set's own fields (UpdatePermissionSet); None leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct PermissionSetChange {
    pub description: Option<String>,
    pub session_duration: Option<String>,
    pub relay_state: Option<String>,
}

/// A change to what the role carries.
#[derive(Debug, Clone)]
pub enum PolicyChange {
    AttachManaged(String),
    DetachManaged(String),
    PutInline(String),
    DeleteInline,
    AttachCustomer(CustomerPolicyRef),
    DetachCustomer(CustomerPolicyRef),
    PutBoundary(Boundary),
    DeleteBoundary,
}

impl PolicyChange {
    fn operation(&self) -> &'static str {
        match self {
            PolicyChange::AttachManaged(_) => "AttachManagedPolicyToPermissionSet",
            PolicyChange::DetachManaged(_) => "DetachManagedPolicyFromPermissionSet",
            PolicyChange::PutInline(_) => "PutInlinePolicyToPermissionSet",
            PolicyChange::DeleteInline => "DeleteInlinePolicyFromPermissionSet",
            PolicyChange::AttachCustomer(_) => "AttachCustomerManagedPolicyReferenceToPermissionSet",
            PolicyChange::DetachCustomer(_) => "DetachCustomerManagedPolicyReferenceFromPermissionSet",
            PolicyChange::PutBoundary(_) => "PutPermissionsBoundaryToPermissionSet",
            PolicyChange::DeleteBoundary => "DeletePermissionsBoundaryFromPermissionSet",
        }
    }

    fn request(&self) -> serde_json::Value {
        match self {
            PolicyChange::AttachManaged(arn) | PolicyChange::DetachManaged(arn) => json!({"managedPolicyArn": arn}),
            PolicyChange::PutInline(doc) => json!({"inlinePolicyBytes": doc.len()}),
            PolicyChange::AttachCustomer(r) | PolicyChange::DetachCustomer(r) => {
                json!({"customerManagedPolicyReference": {"name": r.name, "path": r.path}})
            }
            PolicyChange::PutBoundary(b) => json!({"permissionsBoundary": boundary_json(b)}),
            PolicyChange::DeleteInline | PolicyChange::DeleteBoundary => json!({}),
        }
    }
}

fn boundary_json(b: &Boundary) -> serde_json::Value {
    match b {
        Boundary::Managed(arn) => json!({"managedPolicyArn": arn}),
        Boundary::Customer(r) => json!({"customerManagedPolicyReference": {"name": r.name, "path": r.path}}),
    }
}

/// The last part of an AWS managed policy ARN (`…:policy/job-function/ViewOnlyAccess` →
/// `ViewOnlyAccess`).
pub fn managed_policy_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

fn check_managed_arn(arn: &str) -> Result<()> {
    let ok = arn
        .split_once(":iam::aws:policy/")
        .is_some_and(|(head, tail)| (head == "arn:aws" || head.starts_with("arn:aws-")) && !tail.is_empty() && !tail.ends_with('/'));
    if ok { Ok(()) } else { Err(Error::validation("ManagedPolicyArn", format!("'{arn}' is not an AWS managed policy ARN"))) }
}

fn check_customer_ref(r: &CustomerPolicyRef) -> Result<()> {
    if !r.path.starts_with('/') || !r.path.ends_with('/') {
        return Err(Error::validation("CustomerManagedPolicyReference.Path", "must start and end with '/'"));
    }
    if r.name.is_empty() || r.name.len() > 128 {
        return Err(Error::validation("CustomerManagedPolicyReference.Name", "must be 1 to 128 characters"));
    }
    Ok(())
}

/// The guide's rule for the inline policy: valid policy JSON of at most 10,240 bytes not counting
/// whitespace.
pub fn check_inline_policy(doc: &str) -> Result<()> {
    let counted = doc.chars().filter(|c| !c.is_whitespace()).map(char::len_utf8).sum::<usize>();
    if counted > MAX_INLINE_POLICY_BYTES {
        return Err(Error::validation(
            "InlinePolicy",
            format!("the inline policy is {counted} bytes without whitespace; the limit is {MAX_INLINE_POLICY_BYTES}"),
        ));
    }
    gatehouse_policy::Policy::parse(doc).map_err(|e| Error::validation("InlinePolicy", format!("not a valid policy document: {e}")))?;
    Ok(())
}

fn check_description(d: &Option<String>) -> Result<()> {
    match d {
        Some(d) if d.is_empty() || d.chars().count() > 700 => Err(Error::validation("Description", "must be 1 to 700 characters")),
        _ => Ok(()),
    }
}

fn check_name(name: &str) -> Result<()> {
    let ok =
        !name.is_empty() && name.chars().count() <= 32 && name.chars().all(|c| c.is_alphanumeric() || c == '_' || "+=,.@-".contains(c));
    if ok { Ok(()) } else { Err(Error::validation("Name", format!("'{name}' must be 1 to 32 characters of letters, digits and _+=,.@-"))) }
}

impl Services {
    pub fn permission_set_arn(&self, permission_set_id: &str) -> Result<String> {
        Ok(crate::ids::permission_set_arn(self.instance()?.instance_id(), permission_set_id))
    }

    /// The id inside a PermissionSetArn of this instance.
    pub fn permission_set_id_of(&self, arn: &str) -> Result<String> {
        let prefix = format!("arn:aws:sso:::permissionSet/{}/", self.instance()?.instance_id());
        arn.strip_prefix(&prefix)
            .filter(|id| id.starts_with("ps-") && !id.contains('/'))
            .map(str::to_string)
            .ok_or_else(|| Error::not_found(ResourceType::PermissionSet, arn))
    }

    pub(crate) async fn load_permission_set(&self, tx: &mut Box<dyn Tx>, id: &str) -> Result<PermissionSet> {
        match tx.get_permission_set(id).await? {
            Some(ps) => Ok(ps),
            None => Err(Error::not_found(ResourceType::PermissionSet, self.permission_set_arn(id)?)),
        }
    }

    /// CreatePermissionSet; the console's create page also attaches its policies in the same
    /// operation, so a refused policy leaves no half-made permission set behind.
    pub async fn create_permission_set(&self, ctx: &Ctx, new: NewPermissionSet) -> Result<PermissionSet> {
        let mut request = json!({"name": new.name, "description": new.description, "sessionDuration": new.session_duration,
                                 "relayState": new.relay_state, "tags": new.tags.iter().map(|t| json!({"key": t.key, "value": t.value})).collect::<Vec<_>>()});
        if !new.policies.managed.is_empty() {
            request["managedPolicyArns"] = json!(new.policies.managed);
        }
        if let Some(doc) = &new.policies.inline {
            request["inlinePolicyBytes"] = json!(doc.len());
        }
        let mut op = self.begin(ctx, Source::Sso, "CreatePermissionSet", false, request).await?;
        let result = async {
            let id = crate::ids::new_permission_set_id();
            let arn = self.permission_set_arn(&id)?;
            op.authorize(&arn)?;
            if !new.policies.managed.is_empty() {
                op.authorize_also("AttachManagedPolicyToPermissionSet", &arn)?;
            }
            if new.policies.inline.is_some() {
                op.authorize_also("PutInlinePolicyToPermissionSet", &arn)?;
            }
            let (session_minutes, role) = check_new_permission_set(&new)?;
            let NewPermissionSet { name, description, relay_state, tags, .. } = new;
            if op.tx.count_permission_sets().await? >= self.config.max_permission_sets {
                return Err(Error::QuotaExceeded {
                    message: format!("This instance already has {} permission sets, the most allowed", self.config.max_permission_sets),
                });
            }
            if op.tx.find_permission_set_by_name(&name).await?.is_some() {
                return Err(Error::conflict(format!("A permission set named {name} already exists")));
            }
            let now = self.clock.now();
            let ps = PermissionSet {
                permission_set_id: id,
                name,
                description,
                session_minutes,
                relay_state,
                policies: role,
                version: 1,
                created_at: now,
                updated_at: now,
            };
            op.tx.insert_permission_set(&ps).await?;
            op.tx.put_tags(&arn, &tags).await?;
            op.respond(json!({"permissionSet": {"permissionSetArn": arn, "name": ps.name}}));
            op.resource("AWS::SSO::PermissionSet", arn);
            Ok(ps)
        }
        .await;
        op.finish(result).await
    }

    pub async fn describe_permission_set(&self, ctx: &Ctx, id: &str) -> Result<PermissionSet> {
        self.read_permission_set(ctx, "DescribePermissionSet", id).await
    }

    async fn read_permission_set(&self, ctx: &Ctx, operation: &'static str, id: &str) -> Result<PermissionSet> {
        let mut op = self.begin(ctx, Source::Sso, operation, true, json!({"permissionSetId": id})).await?;
        let result = async {
            op.authorize(&self.permission_set_arn(id)?)?;
            self.load_permission_set(&mut op.tx, id).await
        }
        .await;
        op.finish(result).await
    }

    /// What a permission set's role carries (the List/Get…PermissionSet operations).
    pub async fn permission_set_policies(&self, ctx: &Ctx, operation: &'static str, id: &str) -> Result<RolePolicies> {
        Ok(self.read_permission_set(ctx, operation, id).await?.policies)
    }

    pub async fn list_permission_sets(&self, ctx: &Ctx, page: &Page) -> Result<Paged<PermissionSet>> {
        let mut op = self.begin(ctx, Source::Sso, "ListPermissionSets", true, json!({})).await?;
        let result = async {
            op.authorize(&self.instance()?.instance_arn)?;
            Ok(op.tx.list_permission_sets(page).await?)
        }
        .await;
        op.finish(result).await
    }

    pub async fn update_permission_set(&self, ctx: &Ctx, id: &str, change: PermissionSetChange) -> Result<PermissionSet> {
        let request = json!({"permissionSetId": id, "description": change.description, "sessionDuration": change.session_duration,
                             "relayState": change.relay_state});
        let mut op = self.begin(ctx, Source::Sso, "UpdatePermissionSet", false, request).await?;
        let result = async {
            let arn = self.permission_set_arn(id)?;
            op.authorize(&arn)?;
            let mut ps = self.load_permission_set(&mut op.tx, id).await?;
            if change.description.is_some() {
                check_description(&change.description)?;
                ps.description = change.description;
            }
            if let Some(d) = &change.session_duration {
                ps.session_minutes = super::applications::parse_session_duration(d)?;
            }
            if let Some(url) = change.relay_state {
                super::applications::check_url("RelayState", &url)?;
                ps.relay_state = Some(url);
            }
            self.save_changed(&mut op, &mut ps).await?;
            op.resource("AWS::SSO::PermissionSet", arn);
            Ok(ps)
        }
        .await;
        op.finish(result).await
    }

    /// Store a changed permission set under a new version and, with auto-reprovisioning on,
    /// queue its provisioning to every account that has it.
    async fn save_changed(&self, op: &mut Op<'_>, ps: &mut PermissionSet) -> Result<()> {
        ps.version += 1;
        ps.updated_at = self.clock.now();
        op.tx.update_permission_set(ps).await?;
        let provisioned = op.tx.list_provisioned_of_permission_set(&ps.permission_set_id, &Page { after: None, limit: 1 }).await?;
        if !provisioned.items.is_empty() && self.auto_reprovision(&mut op.tx).await? {
            self.queue_request(op, RequestKind::Provision, None, &ps.permission_set_id, None, None, false).await?;
        }
        Ok(())
    }

    pub async fn change_permission_set_policies(&self, ctx: &Ctx, id: &str, change: PolicyChange) -> Result<()> {
        let mut request = change.request();
        request["permissionSetId"] = json!(id);
        let mut op = self.begin(ctx, Source::Sso, change.operation(), false, request).await?;
        let result = async {
            let arn = self.permission_set_arn(id)?;
            op.authorize(&arn)?;
            let mut ps = self.load_permission_set(&mut op.tx, id).await?;
            apply_policy_change(&mut ps.policies, change)?;
            self.save_changed(&mut op, &mut ps).await?;
            op.resource("AWS::SSO::PermissionSet", arn);
            Ok(())
        }
        .await;
        op.finish(result).await
    }

    /// Refused while the permission set is still assigned or provisioned (the guide: remove it
    /// from its accounts first).
    pub async fn delete_permission_set(&self, ctx: &Ctx, id: &str) -> Result<()> {
        let mut op = self.begin(ctx, Source::Sso, "DeletePermissionSet", false, json!({"permissionSetId": id})).await?;
        let result = async {
            let arn = self.permission_set_arn(id)?;
            op.authorize(&arn)?;
            let ps = self.load_permission_set(&mut op.tx, id).await?;
            let provisioned = op.tx.list_provisioned_of_permission_set(id, &Page { after: None, limit: 1 }).await?;
            if let Some(p) = provisioned.items.first() {
                return Err(Error::conflict(format!(
                    "Permission set {} is still provisioned to account {} (and perhaps others): remove its assignments from those accounts first",
                    ps.name, p.account_id
                )));
            }
            if op.tx.count_assignments_of_permission_set(id).await? > 0 {
                return Err(Error::conflict(format!("Permission set {} still has account assignments: remove them first", ps.name)));
            }
            op.tx.delete_permission_set(id).await?;
            op.tx.delete_tags(&arn, &[]).await?;
            op.resource("AWS::SSO::PermissionSet", arn);
            Ok(())
        }
        .await;
        op.finish(result).await
    }
}

/// The rules a new permission set must meet before anything is stored (the console checks a
/// draft with them before its last step): its session in minutes and what its role carries.
pub fn check_new_permission_set(new: &NewPermissionSet) -> Result<(u32, RolePolicies)> {
    check_name(&new.name)?;
    check_description(&new.description)?;
    let session_minutes = match &new.session_duration {
        Some(d) => super::applications::parse_session_duration(d)?,
        None => 60,
    };
    if let Some(url) = &new.relay_state {
        super::applications::check_url("RelayState", url)?;
    }
    tags::check_tags(&new.tags)?;
    let mut role = RolePolicies::default();
    for arn in &new.policies.managed {
        apply_policy_change(&mut role, PolicyChange::AttachManaged(arn.clone()))?;
    }
    if let Some(doc) = &new.policies.inline {
        apply_policy_change(&mut role, PolicyChange::PutInline(doc.clone()))?;
    }
    Ok((session_minutes, role))
}

fn apply_policy_change(p: &mut RolePolicies, change: PolicyChange) -> Result<()> {
    let attached = p.managed.len() + p.customer_managed.len();
    let full = || Error::QuotaExceeded {
        message: format!("A permission set can have at most {MAX_ATTACHED_POLICIES} managed and customer managed policies"),
    };
    match change {
        PolicyChange::AttachManaged(arn) => {
            check_managed_arn(&arn)?;
            if p.managed.contains(&arn) {
                return Err(Error::conflict(format!("Managed policy {arn} is already attached to this permission set")));
            }
            if attached >= MAX_ATTACHED_POLICIES {
                return Err(full());
            }
            p.managed.push(arn);
        }
        PolicyChange::DetachManaged(arn) => {
            let before = p.managed.len();
            p.managed.retain(|a| *a != arn);
            if p.managed.len() == before {
                return Err(Error::not_found(ResourceType::PermissionSet, format!("managed policy {arn} is not attached")));
            }
        }
        PolicyChange::PutInline(doc) => {
            check_inline_policy(&doc)?;
            p.inline = Some(doc);
        }
        PolicyChange::DeleteInline => p.inline = None,
        PolicyChange::AttachCustomer(r) => {
            check_customer_ref(&r)?;
            if p.customer_managed.contains(&r) {
                return Err(Error::conflict(format!("Customer managed policy {}{} is already attached", r.path, r.name)));
            }
            if attached >= MAX_ATTACHED_POLICIES {
                return Err(full());
            }
            p.customer_managed.push(r);
        }
        PolicyChange::DetachCustomer(r) => {
            let before = p.customer_managed.len();
            p.customer_managed.retain(|c| *c != r);
            if p.customer_managed.len() == before {
                return Err(Error::not_found(
                    ResourceType::PermissionSet,
                    format!("customer managed policy {}{} is not attached", r.path, r.name),
                ));
            }
        }
        PolicyChange::PutBoundary(b) => {
            match &b {
                Boundary::Managed(arn) => check_managed_arn(arn)?,
                Boundary::Customer(r) => check_customer_ref(r)?,
            }
            p.boundary = Some(b);
        }
        PolicyChange::DeleteBoundary => p.boundary = None,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_policy_counts_bytes_without_whitespace() {
        let doc = |padding: usize| {
            format!(
                "{{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"arn:aws:s3:::b/{}\"}}]\n}}",
                "x".repeat(padding)
            )
        };
        let counted = |d: &str| d.chars().filter(|c| !c.is_whitespace()).count();
        let base = counted(&doc(0));
        let at_limit = doc(MAX_INLINE_POLICY_BYTES - base);
        assert_eq!(counted(&at_limit), MAX_INLINE_POLICY_BYTES);
        assert!(at_limit.len() > MAX_INLINE_POLICY_BYTES, "whitespace makes the text longer than the limit");
        check_inline_policy(&at_limit).expect("10,240 bytes without whitespace are allowed");
        let over = doc(MAX_INLINE_POLICY_BYTES - base + 1);
        match check_inline_policy(&over) {
            Err(Error::Validation { field, message }) => {
                assert_eq!(field, "InlinePolicy");
                assert!(message.contains("10241"), "{message}");
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
        assert!(matches!(check_inline_policy("{not json"), Err(Error::Validation { .. })));
    }

    #[test]
    fn names_follow_the_guide() {
        assert!(check_name("AdministratorAccess").is_ok());
        assert!(check_name("a+b=c,d.e@f-g_h").is_ok());
        assert!(check_name(&"x".repeat(32)).is_ok());
        assert!(check_name(&"x".repeat(33)).is_err());
        assert!(check_name("has space").is_err());
        assert!(check_name("").is_err());
    }

    #[test]
    fn managed_policy_arns() {
        assert!(check_managed_arn("arn:aws:iam::aws:policy/ReadOnlyAccess").is_ok());
        assert!(check_managed_arn("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess").is_ok());
        assert!(check_managed_arn("arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess").is_ok());
        assert!(check_managed_arn("arn:aws:iam::123456789012:policy/Mine").is_err());
        assert_eq!(managed_policy_name("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"), "ViewOnlyAccess");
    }
}
