//! Account assignments (asynchronous, as sso-admin's CreateAccountAssignment and
//! DeleteAccountAssignment are), their status, and what Gatehouse adds: assignments to an
//! organizational unit reach every account under it, now and later.

use serde_json::json;

use super::super::Services;
use super::super::op::{Op, Source};
use super::super::principal::Ctx;
use crate::error::{Error, ResourceType, Result};
use crate::model::{Account, OuAssignment, Page, Paged, PrincipalType, RequestKind, RequestStatus, SsoRequest};
use crate::store::Tx;

/// The guide: "CreateAccountAssignment has a maximum rate of 10 outstanding async calls".
pub const MAX_OUTSTANDING_CREATES: u64 = 10;

/// Where an assignment points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssignmentTarget {
    Account(String),
    /// An OU or the root: every account under it.
    OrganizationalUnit(String),
}

const ALL: Page = Page { after: None, limit: 1000 };

/// What the audit record shows of an OU assignment call.
fn ou_request(ou_id: &str, ps_id: &str, kind: PrincipalType, principal_id: &str) -> serde_json::Value {
    json!({"targetId": ou_id, "permissionSetId": ps_id, "principalType": kind.as_str(), "principalId": principal_id})
}

/// What the audit record shows of an assignment call.
fn assignment_request(account_id: &str, ps_id: &str, kind: PrincipalType, principal_id: &str) -> serde_json::Value {
    json!({"targetId": account_id, "targetType": "AWS_ACCOUNT", "permissionSetId": ps_id,
           "principalType": kind.as_str(), "principalId": principal_id})
}

impl Services {
    /// Every account under `node` (a root or OU), however deep.
    pub(crate) async fn accounts_under(&self, tx: &mut Box<dyn Tx>, node: &str) -> Result<Vec<String>> {
        let mut accounts = Vec::new();
        let mut pending = vec![node.to_string()];
        while let Some(parent) = pending.pop() {
            let mut page = ALL;
            loop {
                let found = tx.list_accounts_in(&parent, &page).await?;
                accounts.extend(found.items.into_iter().map(|a| a.id));
                match found.next {
                    Some(n) => page.after = Some(n),
                    None => break,
                }
            }
            let mut page = ALL;
            loop {
                let found = tx.list_org_units_in(&parent, &page).await?;
                pending.extend(found.items.into_iter().map(|u| u.id));
                match found.next {
                    Some(n) => page.after = Some(n),
                    None => break,
                }
            }
        }
        Ok(accounts)
    }

    /// The OUs and root above an account, nearest first.
    async fn ancestors_of(&self, tx: &mut Box<dyn Tx>, account: &Account) -> Result<Vec<String>> {
        let mut chain = Vec::new();
        let mut next = Some(account.parent_id.clone());
        while let Some(id) = next {
            if chain.contains(&id) || chain.len() > 16 {
                break;
            }
            next = tx.get_org_unit(&id).await?.and_then(|u| u.parent_id);
            chain.push(id);
        }
        Ok(chain)
    }

    /// After an account joins or moves: queue what OU assignments above it now give, and take
    /// away what the OUs it left gave.
    pub(crate) async fn follow_ou_assignments(&self, op: &mut Op<'_>, account: &Account) -> Result<usize> {
        let ancestors = self.ancestors_of(&mut op.tx, account).await?;
        let rules = op.tx.list_ou_assignments(&ancestors).await?;
        let mut queued = 0;
        for r in &rules {
            let existing = op.tx.get_account_assignment(&account.id, &r.permission_set_id, r.principal_type, &r.principal_id).await?;
            if existing.is_none_or(|a| !a.via_ous.contains(&r.ou_id)) {
                let principal = Some((r.principal_type, r.principal_id.clone()));
                self.queue_request(op, RequestKind::Create, Some(&account.id), &r.permission_set_id, principal, Some(&r.ou_id), false)
                    .await?;
                queued += 1;
            }
        }
        let mut page = ALL;
        loop {
            let mine = op.tx.list_provisioned_in_account(&account.id, &page).await?;
            for p in &mine.items {
                let mut rows = op.tx.list_account_assignments(&account.id, &p.permission_set_id, &ALL).await?.items;
                rows.retain(|a| a.via_ous.iter().any(|ou| !ancestors.contains(ou)));
                for a in rows {
                    for ou in a.via_ous.iter().filter(|ou| !ancestors.contains(ou)) {
                        let principal = Some((a.principal_type, a.principal_id.clone()));
                        self.queue_request(op, RequestKind::Delete, Some(&account.id), &a.permission_set_id, principal, Some(ou), false)
                            .await?;
                        queued += 1;
                    }
                }
            }
            match mine.next {
                Some(n) => page.after = Some(n),
                None => break,
            }
        }
        Ok(queued)
    }

    /// A deleted user or group loses every assignment at once; roles nothing else uses are
    /// removed by queued clean-ups. Returns how many assignments went.
    pub(crate) async fn remove_assignments_of_principal(&self, op: &mut Op<'_>, kind: PrincipalType, id: &str) -> Result<u64> {
        op.tx.delete_ou_assignments_of_principal(kind, id).await?;
        let mut removed = 0;
        loop {
            let rows = op.tx.list_assignments_of_principal(kind, id, None, &ALL).await?.items;
            if rows.is_empty() {
                break;
            }
            for a in rows {
                op.tx.delete_account_assignment(&a.account_id, &a.permission_set_id, kind, id).await?;
                removed += 1;
                if op.tx.count_assignments(&a.account_id, &a.permission_set_id).await? == 0 {
                    self.queue_request(op, RequestKind::Delete, Some(&a.account_id), &a.permission_set_id, None, None, true).await?;
                }
            }
        }
        Ok(removed)
    }

    async fn require_account(&self, tx: &mut Box<dyn Tx>, account_id: &str) -> Result<Account> {
        tx.get_account(account_id).await?.ok_or_else(|| Error::not_found(ResourceType::Account, account_id))
    }

    /// Authorize on the permission set and the OU (or root); the permission set's ARN.
    fn authorize_ou_target(&self, op: &Op<'_>, ou_id: &str, ps_id: &str) -> Result<String> {
        let arn = self.permission_set_arn(ps_id)?;
        op.authorize(&arn)?;
        op.authorize(&self.org_node_arn(ou_id)?)?;
        Ok(arn)
    }

    /// Authorize on the permission set and the account, and check both exist; the permission
    /// set's ARN.
    async fn check_assignment_target(&self, op: &mut Op<'_>, account_id: &str, ps_id: &str) -> Result<String> {
        let arn = self.permission_set_arn(ps_id)?;
        op.authorize(&arn)?;
        op.authorize(&crate::ids::account_arn(account_id))?;
        self.require_account(&mut op.tx, account_id).await?;
        self.load_permission_set(&mut op.tx, ps_id).await?;
        Ok(arn)
    }

    pub async fn create_account_assignment(
        &self,
        ctx: &Ctx,
        account_id: &str,
        ps_id: &str,
        kind: PrincipalType,
        principal_id: &str,
    ) -> Result<SsoRequest> {
        let request = assignment_request(account_id, ps_id, kind, principal_id);
        let mut op = self.begin(ctx, Source::Sso, "CreateAccountAssignment", false, request).await?;
        let result = async {
            let arn = self.check_assignment_target(&mut op, account_id, ps_id).await?;
            self.require_principal(&mut op.tx, kind, principal_id).await?;
            if op.tx.count_sso_requests(RequestKind::Create, RequestStatus::InProgress).await? >= MAX_OUTSTANDING_CREATES {
                return Err(Error::Throttled {
                    message: format!(
                        "{MAX_OUTSTANDING_CREATES} CreateAccountAssignment requests are still in progress, the most allowed: wait for one to finish"
                    ),
                });
            }
            let assigned = op.tx.permission_sets_assigned_in(account_id).await?;
            if !assigned.iter().any(|p| p == ps_id) && assigned.len() as u64 >= self.config.max_permission_sets_per_account {
                return Err(Error::QuotaExceeded {
                    message: format!(
                        "Account {account_id} already has {} permission sets, the most allowed",
                        self.config.max_permission_sets_per_account
                    ),
                });
            }
            let req = self
                .queue_request(&mut op, RequestKind::Create, Some(account_id), ps_id, Some((kind, principal_id.to_string())), None, false)
                .await?;
            op.respond(json!({"accountAssignmentCreationStatus": {"requestId": req.request_id, "status": req.status.as_str()}}));
            op.resource("AWS::SSO::PermissionSet", arn);
            Ok(req)
        }
        .await;
        op.finish(result).await
    }

    pub async fn delete_account_assignment(
        &self,
        ctx: &Ctx,
        account_id: &str,
        ps_id: &str,
        kind: PrincipalType,
        principal_id: &str,
    ) -> Result<SsoRequest> {
        let request = assignment_request(account_id, ps_id, kind, principal_id);
        let mut op = self.begin(ctx, Source::Sso, "DeleteAccountAssignment", false, request).await?;
        let result = async {
            let arn = self.check_assignment_target(&mut op, account_id, ps_id).await?;
            match op.tx.get_account_assignment(account_id, ps_id, kind, principal_id).await? {
                Some(a) if a.direct => {}
                Some(a) => {
                    return Err(Error::conflict(format!(
                        "This assignment comes from the assignment to {}: delete that one instead",
                        a.via_ous.join(", ")
                    )));
                }
                None => {
                    return Err(Error::not_found(
                        ResourceType::AccountAssignment,
                        format!("{}/{principal_id} in account {account_id} with {arn}", kind.as_str()),
                    ));
                }
            }
            let req = self
                .queue_request(&mut op, RequestKind::Delete, Some(account_id), ps_id, Some((kind, principal_id.to_string())), None, false)
                .await?;
            op.respond(json!({"accountAssignmentDeletionStatus": {"requestId": req.request_id, "status": req.status.as_str()}}));
            op.resource("AWS::SSO::PermissionSet", arn);
            Ok(req)
        }
        .await;
        op.finish(result).await
    }

    /// Describe…Status of one request of `kind`.
    pub async fn describe_request(&self, ctx: &Ctx, kind: RequestKind, request_id: &str) -> Result<SsoRequest> {
        let name = match kind {
            RequestKind::Create => "DescribeAccountAssignmentCreationStatus",
            RequestKind::Delete => "DescribeAccountAssignmentDeletionStatus",
            RequestKind::Provision => "DescribePermissionSetProvisioningStatus",
        };
        let mut op = self.begin(ctx, Source::Sso, name, true, json!({"requestId": request_id})).await?;
        let result = async {
            op.authorize(&self.instance()?.instance_arn)?;
            match op.tx.get_sso_request(request_id).await? {
                Some(r) if r.kind == kind && !r.internal => Ok(r),
                _ => Err(Error::not_found(ResourceType::Request, request_id)),
            }
        }
        .await;
        op.finish(result).await
    }

    /// List…Status: requests of `kind`, oldest first, optionally of one status.
    pub async fn list_requests(
        &self,
        ctx: &Ctx,
        kind: RequestKind,
        status: Option<RequestStatus>,
        page: &Page,
    ) -> Result<Paged<SsoRequest>> {
        let name = match kind {
            RequestKind::Create => "ListAccountAssignmentCreationStatus",
            RequestKind::Delete => "ListAccountAssignmentDeletionStatus",
            RequestKind::Provision => "ListPermissionSetProvisioningStatus",
        };
        let mut op = self.begin(ctx, Source::Sso, name, true, json!({"status": status.map(|s| s.as_str())})).await?;
        let result = async {
            op.authorize(&self.instance()?.instance_arn)?;
            Ok(op.tx.list_sso_requests(kind, status, page).await?)
        }
        .await;
        op.finish(result).await
    }

    pub async fn list_account_assignments(
        &self,
        ctx: &Ctx,
        account_id: &str,
        ps_id: &str,
        page: &Page,
    ) -> Result<Paged<crate::model::AccountAssignment>> {
        let request = json!({"accountId": account_id, "permissionSetId": ps_id});
        let mut op = self.begin(ctx, Source::Sso, "ListAccountAssignments", true, request).await?;
        let result = async {
            op.authorize(&self.permission_set_arn(ps_id)?)?;
            self.require_account(&mut op.tx, account_id).await?;
            self.load_permission_set(&mut op.tx, ps_id).await?;
            Ok(op.tx.list_account_assignments(account_id, ps_id, page).await?)
        }
        .await;
        op.finish(result).await
    }

    pub async fn list_account_assignments_for_principal(
        &self,
        ctx: &Ctx,
        kind: PrincipalType,
        principal_id: &str,
        account_id: Option<&str>,
        page: &Page,
    ) -> Result<Paged<crate::model::AccountAssignment>> {
        let request = json!({"principalType": kind.as_str(), "principalId": principal_id, "filter": {"accountId": account_id}});
        let mut op = self.begin(ctx, Source::Sso, "ListAccountAssignmentsForPrincipal", true, request).await?;
        let result = async {
            op.authorize(&self.instance()?.instance_arn)?;
            self.require_principal(&mut op.tx, kind, principal_id).await?;
            Ok(op.tx.list_assignments_of_principal(kind, principal_id, account_id, page).await?)
        }
        .await;
        op.finish(result).await
    }

    /// Assign a permission set to a principal in every account under an OU (or the root), now and
    /// later: one creation request per account today, and one for each account that joins.
    pub async fn create_ou_assignment(
        &self,
        ctx: &Ctx,
        ou_id: &str,
        ps_id: &str,
        kind: PrincipalType,
        principal_id: &str,
    ) -> Result<Vec<SsoRequest>> {
        let request = ou_request(ou_id, ps_id, kind, principal_id);
        let mut op = self.begin(ctx, Source::Sso, "CreateOrganizationalUnitAssignment", false, request).await?;
        let result = async {
            let arn = self.authorize_ou_target(&op, ou_id, ps_id)?;
            if op.tx.get_org_unit(ou_id).await?.is_none() {
                return Err(Error::not_found(ResourceType::OrganizationalUnit, ou_id));
            }
            self.load_permission_set(&mut op.tx, ps_id).await?;
            self.require_principal(&mut op.tx, kind, principal_id).await?;
            let rule = OuAssignment {
                ou_id: ou_id.to_string(),
                permission_set_id: ps_id.to_string(),
                principal_type: kind,
                principal_id: principal_id.to_string(),
                created_at: self.clock.now(),
            };
            match op.tx.insert_ou_assignment(&rule).await {
                Err(crate::error::StoreError::Unique(_)) => {
                    return Err(Error::conflict(format!("{} {principal_id} already has this permission set in {ou_id}", kind.as_str())));
                }
                other => other?,
            }
            let mut requests = Vec::new();
            for account in self.accounts_under(&mut op.tx, ou_id).await? {
                let principal = Some((kind, principal_id.to_string()));
                requests
                    .push(self.queue_request(&mut op, RequestKind::Create, Some(&account), ps_id, principal, Some(ou_id), false).await?);
            }
            op.respond(json!({"requestIds": requests.iter().map(|r| r.request_id.clone()).collect::<Vec<_>>()}));
            op.resource("AWS::SSO::PermissionSet", arn);
            Ok(requests)
        }
        .await;
        op.finish(result).await
    }

    /// Undo an OU assignment: its accounts lose what only it gave.
    pub async fn delete_ou_assignment(
        &self,
        ctx: &Ctx,
        ou_id: &str,
        ps_id: &str,
        kind: PrincipalType,
        principal_id: &str,
    ) -> Result<Vec<SsoRequest>> {
        let request = ou_request(ou_id, ps_id, kind, principal_id);
        let mut op = self.begin(ctx, Source::Sso, "DeleteOrganizationalUnitAssignment", false, request).await?;
        let result = async {
            let arn = self.authorize_ou_target(&op, ou_id, ps_id)?;
            if !op.tx.delete_ou_assignment(ou_id, ps_id, kind, principal_id).await? {
                return Err(Error::not_found(
                    ResourceType::AccountAssignment,
                    format!("{}/{principal_id} in {ou_id} with {arn}", kind.as_str()),
                ));
            }
            let mut requests = Vec::new();
            let mut page = ALL;
            loop {
                let rows = op.tx.list_assignments_of_principal(kind, principal_id, None, &page).await?;
                for a in rows.items.iter().filter(|a| a.permission_set_id == ps_id && a.via_ous.iter().any(|o| o == ou_id)) {
                    let principal = Some((kind, principal_id.to_string()));
                    requests.push(
                        self.queue_request(&mut op, RequestKind::Delete, Some(&a.account_id), ps_id, principal, Some(ou_id), false).await?,
                    );
                }
                match rows.next {
                    Some(n) => page.after = Some(n),
                    None => break,
                }
            }
            op.respond(json!({"requestIds": requests.iter().map(|r| r.request_id.clone()).collect::<Vec<_>>()}));
            Ok(requests)
        }
        .await;
        op.finish(result).await
    }

    pub async fn list_ou_assignments(&self, ctx: &Ctx, ou_id: Option<&str>) -> Result<Vec<OuAssignment>> {
        let mut op = self.begin(ctx, Source::Sso, "ListOrganizationalUnitAssignments", true, json!({"targetId": ou_id})).await?;
        let result = async {
            op.authorize(&self.instance()?.instance_arn)?;
            let filter: Vec<String> = ou_id.map(|o| vec![o.to_string()]).unwrap_or_default();
            Ok(op.tx.list_ou_assignments(&filter).await?)
        }
        .await;
        op.finish(result).await
    }
}
