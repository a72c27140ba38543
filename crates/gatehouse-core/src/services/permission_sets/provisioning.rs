//! The provisioning engine. Each asynchronous request is a row (what the API reports) and a job
//! (claimed with a lease, so any node runs it and a job whose node died is taken over). A worker
//! holds a lease on the account while it works there, so two requests never race in one account.
//! IAM calls happen outside database transactions; their results are written in one.

use std::sync::Arc;

use chrono::Duration;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::super::Services;
use super::super::op::{Op, Source};
use super::super::principal::Ctx;
use crate::error::{Error, ResourceType, Result};
use crate::iam::{AccountIam, RoleSpec};
use crate::model::{
    AccountConnection, Boundary, Job, Page, Paged, PermissionSet, PrincipalType, ProvisionedRole, RequestKind, RequestStatus, SsoRequest,
};
use crate::store::Tx;

pub const JOB_KIND: &str = "sso-request";
const AUTO_REPROVISION: &str = "auto-reprovision";
/// Where roles live, as Identity Center puts them.
pub const ROLE_PATH: &str = "/aws-reserved/sso.amazonaws.com/";

#[derive(Debug, Clone)]
pub struct ProvisioningConfig {
    /// Jobs this node runs at once.
    pub workers: usize,
    /// How long a claimed job or an account stays with one worker without a sign of life.
    pub lease_seconds: i64,
    /// A job taken over this many times (its node kept dying) is failed.
    pub max_attempts: i32,
    /// How often idle workers look for jobs queued by other nodes.
    pub poll_millis: u64,
}

impl Default for ProvisioningConfig {
    fn default() -> Self {
        ProvisioningConfig { workers: 4, lease_seconds: 60, max_attempts: 5, poll_millis: 1000 }
    }
}

/// `AWSReservedSSO_<name>_<16 hex>`: the hex is fixed per permission set.
pub fn role_name(ps: &PermissionSet) -> String {
    let digest = Sha256::digest(ps.permission_set_id.as_bytes());
    format!("AWSReservedSSO_{}_{}", ps.name, &hex::encode(digest)[..16])
}

/// The permission set's name in a role name that [`role_name`] made.
pub fn permission_set_name_of(role: &str) -> Option<&str> {
    role.strip_prefix("AWSReservedSSO_").and_then(|r| r.rsplit_once('_')).map(|(name, _)| name)
}

fn trust_policy(provider_arn: &str, saml_endpoint: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
            "Condition": {"StringEquals": {"SAML:aud": saml_endpoint}}
        }]
    })
    .to_string()
}

fn role_spec(ps: &PermissionSet, conn: &AccountConnection, account_id: &str, provider_arn: &str) -> RoleSpec {
    let partition = conn.partition();
    let p = &ps.policies;
    RoleSpec {
        name: role_name(ps),
        path: ROLE_PATH.to_string(),
        description: format!("Gatehouse permission set {}: changes made here are undone by the next provisioning", ps.name),
        trust_policy: trust_policy(provider_arn, conn.saml_endpoint()),
        max_session_seconds: (ps.session_minutes * 60) as i32,
        managed_policy_arns: p.managed.clone(),
        inline_policy: p.inline.clone(),
        customer_policy_arns: p.customer_managed.iter().map(|r| r.arn_in(partition, account_id)).collect(),
        boundary_arn: p.boundary.as_ref().map(|b| match b {
            Boundary::Managed(arn) => arn.clone(),
            Boundary::Customer(r) => r.arn_in(partition, account_id),
        }),
    }
}

/// Why a job did not finish now.
enum Stop {
    /// Another worker holds the account: try again shortly.
    Busy,
    /// The request failed, for this reason.
    Failed(String),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Failed(e.to_string())
    }
}

impl From<crate::error::StoreError> for Stop {
    fn from(e: crate::error::StoreError) -> Self {
        Stop::Failed(Error::from(e).to_string())
    }
}

impl Services {
    pub(crate) async fn auto_reprovision(&self, tx: &mut Box<dyn Tx>) -> Result<bool> {
        Ok(tx.get_setting(AUTO_REPROVISION).await?.as_deref() == Some("true"))
    }

    /// Gatehouse's setting: re-provision a permission set to its accounts after every change.
    pub async fn put_provisioning_settings(&self, ctx: &Ctx, auto_reprovision: bool) -> Result<()> {
        let mut op = self.begin(ctx, Source::Sso, "PutProvisioningSettings", false, json!({"autoReprovision": auto_reprovision})).await?;
        let result = async {
            op.authorize(&self.instance()?.instance_arn)?;
            op.tx.put_setting(AUTO_REPROVISION, if auto_reprovision { "true" } else { "false" }, self.clock.now()).await?;
            Ok(())
        }
        .await;
        op.finish(result).await
    }

    pub async fn describe_provisioning_settings(&self, ctx: &Ctx) -> Result<bool> {
        let mut op = self.begin(ctx, Source::Sso, "DescribeProvisioningSettings", true, json!({})).await?;
        let result = async {
            op.authorize(&self.instance()?.instance_arn)?;
            self.auto_reprovision(&mut op.tx).await
        }
        .await;
        op.finish(result).await
    }

    /// Record a request and queue its job (in the caller's transaction).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn queue_request(
        &self,
        op: &mut Op<'_>,
        kind: RequestKind,
        account_id: Option<&str>,
        ps_id: &str,
        principal: Option<(PrincipalType, String)>,
        via_ou: Option<&str>,
        internal: bool,
    ) -> Result<SsoRequest> {
        let now = self.clock.now();
        let req = SsoRequest {
            request_id: crate::ids::new_uuid(),
            kind,
            status: RequestStatus::InProgress,
            failure_reason: None,
            account_id: account_id.map(str::to_string),
            permission_set_id: ps_id.to_string(),
            principal,
            via_ou: via_ou.map(str::to_string),
            internal,
            created_at: now,
            updated_at: now,
        };
        op.tx.insert_sso_request(&req).await?;
        let job = Job {
            id: crate::ids::new_uuid(),
            kind: JOB_KIND.to_string(),
            payload: json!({"requestId": req.request_id}),
            status: "QUEUED".into(),
            attempts: 0,
            run_after: now,
            locked_by: None,
            locked_until: None,
            last_error: None,
            created_at: now,
            updated_at: now,
        };
        op.tx.insert_job(&job).await?;
        op.wake_workers_on_commit();
        Ok(req)
    }

    pub async fn provision_permission_set(&self, ctx: &Ctx, ps_id: &str, account_id: Option<&str>) -> Result<SsoRequest> {
        let target_type = if account_id.is_some() { "AWS_ACCOUNT" } else { "ALL_PROVISIONED_ACCOUNTS" };
        let request = json!({"permissionSetId": ps_id, "targetId": account_id, "targetType": target_type});
        let mut op = self.begin(ctx, Source::Sso, "ProvisionPermissionSet", false, request).await?;
        let result = async {
            let arn = self.permission_set_arn(ps_id)?;
            op.authorize(&arn)?;
            self.load_permission_set(&mut op.tx, ps_id).await?;
            if let Some(a) = account_id {
                op.authorize(&crate::ids::account_arn(a))?;
                if op.tx.get_account(a).await?.is_none() {
                    return Err(Error::not_found(ResourceType::Account, a));
                }
            }
            let req = self.queue_request(&mut op, RequestKind::Provision, account_id, ps_id, None, None, false).await?;
            op.respond(json!({"permissionSetProvisioningStatus": {"requestId": req.request_id, "status": req.status.as_str()}}));
            op.resource("AWS::SSO::PermissionSet", arn);
            Ok(req)
        }
        .await;
        op.finish(result).await
    }

    /// Accounts that have the permission set; `latest` filters on whether they have its newest
    /// version (ProvisioningStatus).
    pub async fn list_accounts_for_provisioned_permission_set(
        &self,
        ctx: &Ctx,
        ps_id: &str,
        latest: Option<bool>,
        page: &Page,
    ) -> Result<Paged<String>> {
        let mut op =
            self.begin(ctx, Source::Sso, "ListAccountsForProvisionedPermissionSet", true, json!({"permissionSetId": ps_id})).await?;
        let result = async {
            op.authorize(&self.permission_set_arn(ps_id)?)?;
            let ps = self.load_permission_set(&mut op.tx, ps_id).await?;
            let rows = op.tx.list_provisioned_of_permission_set(ps_id, page).await?;
            let items =
                rows.items.into_iter().filter(|p| latest.is_none_or(|l| (p.version == ps.version) == l)).map(|p| p.account_id).collect();
            Ok(Paged { items, next: rows.next })
        }
        .await;
        op.finish(result).await
    }

    pub async fn list_permission_sets_provisioned_to_account(
        &self,
        ctx: &Ctx,
        account_id: &str,
        latest: Option<bool>,
        page: &Page,
    ) -> Result<Paged<String>> {
        let mut op = self.begin(ctx, Source::Sso, "ListPermissionSetsProvisionedToAccount", true, json!({"accountId": account_id})).await?;
        let result = async {
            op.authorize(&crate::ids::account_arn(account_id))?;
            if op.tx.get_account(account_id).await?.is_none() {
                return Err(Error::not_found(ResourceType::Account, account_id));
            }
            let rows = op.tx.list_provisioned_in_account(account_id, page).await?;
            let mut items = Vec::new();
            for p in rows.items {
                let Some(ps) = op.tx.get_permission_set(&p.permission_set_id).await? else { continue };
                if latest.is_none_or(|l| (p.version == ps.version) == l) {
                    items.push(p.permission_set_id);
                }
            }
            Ok(Paged { items, next: rows.next })
        }
        .await;
        op.finish(result).await
    }

    /// Start this node's workers (`gatehouse serve` does).
    pub fn spawn_provisioning_workers(self: &Arc<Self>) -> Vec<tokio::task::JoinHandle<()>> {
        let node = crate::ids::new_uuid();
        (0..self.config.provisioning.workers.max(1))
            .map(|i| {
                let svc = self.clone();
                let worker = format!("{node}/{i}");
                tokio::spawn(async move { svc.provisioning_worker(worker).await })
            })
            .collect()
    }

    async fn provisioning_worker(self: Arc<Self>, worker: String) {
        let poll = std::time::Duration::from_millis(self.config.provisioning.poll_millis.max(50));
        loop {
            let wake = self.provisioning_wake.notified();
            match self.run_one_job(&worker).await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::warn!(worker = %worker, error = %e, "provisioning worker"),
            }
            let _ = tokio::time::timeout(poll, wake).await;
        }
    }

    /// Claim and run one due job; false when there was none.
    pub async fn run_one_job(&self, worker: &str) -> Result<bool> {
        let lease = Duration::seconds(self.config.provisioning.lease_seconds.max(1));
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let claimed = tx.claim_job(&[JOB_KIND], worker, now, now + lease).await?;
        tx.commit().await?;
        let Some(mut job) = claimed else { return Ok(false) };
        let request_id = job.payload.get("requestId").and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let mut tx = self.store.begin_read().await?;
        let request = tx.get_sso_request(&request_id).await?;
        tx.rollback().await?;
        let outcome = match request {
            Some(r) if r.status == RequestStatus::InProgress => {
                if job.attempts > self.config.provisioning.max_attempts {
                    Err(Stop::Failed(format!(
                        "gave up after {} attempts: the node running this request stopped each time",
                        self.config.provisioning.max_attempts
                    )))
                } else {
                    self.execute(&r, worker).await
                }
            }
            _ => Ok(()),
        };
        let mut tx = self.store.begin().await?;
        match outcome {
            Err(Stop::Busy) => {
                job.status = "QUEUED".into();
                job.attempts -= 1;
                job.run_after = self.clock.now() + Duration::milliseconds(200);
                job.locked_by = None;
                job.locked_until = None;
            }
            Err(Stop::Failed(reason)) => {
                if let Some(mut r) = tx.get_sso_request(&request_id).await? {
                    r.status = RequestStatus::Failed;
                    r.failure_reason = Some(reason.clone());
                    r.updated_at = self.clock.now();
                    tx.update_sso_request(&r).await?;
                }
                tracing::warn!(request = %request_id, reason = %reason, "provisioning request failed");
                job.status = "SUCCEEDED".into();
                job.last_error = Some(reason);
            }
            Ok(()) => job.status = "SUCCEEDED".into(),
        }
        job.updated_at = self.clock.now();
        tx.update_job(&job).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn execute(&self, req: &SsoRequest, worker: &str) -> std::result::Result<(), Stop> {
        match req.kind {
            RequestKind::Provision => self.execute_provision(req, worker).await,
            RequestKind::Create | RequestKind::Delete => {
                let account = req.account_id.clone().ok_or_else(|| Stop::Failed("the request names no account".into()))?;
                let lease_key = format!("account/{account}");
                if !self.take_lease(&lease_key, worker).await? {
                    return Err(Stop::Busy);
                }
                let outcome = if req.kind == RequestKind::Create {
                    self.execute_create(req, &account).await
                } else {
                    self.execute_delete(req, &account).await
                };
                self.release_lease(&lease_key, worker).await;
                outcome
            }
        }
    }

    async fn take_lease(&self, key: &str, worker: &str) -> std::result::Result<bool, Stop> {
        let now = self.clock.now();
        let until = now + Duration::seconds(self.config.provisioning.lease_seconds.max(1));
        let mut tx = self.store.begin().await?;
        let taken = tx.try_lease(key, worker, now, until).await?;
        if taken {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(taken)
    }

    /// Take the lease, waiting up to ten lease periods for its holder.
    async fn wait_for_lease(&self, key: &str, worker: &str) -> std::result::Result<bool, Stop> {
        let deadline =
            std::time::Instant::now() + std::time::Duration::from_secs(10 * self.config.provisioning.lease_seconds.max(1) as u64);
        while !self.take_lease(key, worker).await? {
            if std::time::Instant::now() > deadline {
                return Ok(false);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Ok(true)
    }

    async fn release_lease(&self, key: &str, worker: &str) {
        let released = async {
            let mut tx = self.store.begin().await?;
            tx.release_lease(key, worker).await?;
            tx.commit().await
        };
        if let Err(e) = released.await {
            tracing::warn!(lease = key, error = %e, "could not release a lease; it expires by itself");
        }
    }

    fn is_own_account(&self, account_id: &str) -> bool {
        self.instance.get().is_some_and(|i| i.management_account_id == account_id)
    }

    /// Open the account's IAM, with its SAML identity provider in place.
    async fn open_account(&self, account_id: &str) -> std::result::Result<(Box<dyn AccountIam>, AccountConnection, String), Stop> {
        let mut tx = self.store.begin_read().await?;
        let found = self.target_of(&mut tx, account_id).await;
        tx.rollback().await?;
        let (target, conn) = found.map_err(Stop::Failed)?;
        let metadata = self.aws_idp_metadata().await?;
        let iam = self.iam_gateway()?.open(&target).await.map_err(|e| Stop::Failed(e.0))?;
        let digest = hex::encode(Sha256::digest(metadata.as_bytes()));
        let key = format!("{account_id}|{}|{digest}", target.iam_endpoint.as_deref().unwrap_or(""));
        let provider = match self.aws_provider_cache.get(&key) {
            Some(arn) => arn,
            None => {
                let arn = iam.ensure_saml_provider(&self.aws_saml_provider_name()?, &metadata).await.map_err(|e| Stop::Failed(e.0))?;
                self.aws_provider_cache.put(&key, arn.clone());
                arn
            }
        };
        Ok((iam, conn, provider))
    }

    /// Put the permission set's role in the account (nothing to do in Gatehouse's own account).
    async fn put_role_in(&self, ps: &PermissionSet, account_id: &str) -> std::result::Result<(), Stop> {
        if self.is_own_account(account_id) {
            return Ok(());
        }
        let (iam, conn, provider) = self.open_account(account_id).await?;
        iam.put_role(&role_spec(ps, &conn, account_id, &provider)).await.map_err(|e| Stop::Failed(e.0))
    }

    async fn current_permission_set(&self, id: &str) -> std::result::Result<PermissionSet, Stop> {
        let mut tx = self.store.begin_read().await?;
        let ps = tx.get_permission_set(id).await?;
        tx.rollback().await?;
        ps.ok_or_else(|| Stop::Failed(format!("permission set {id} was deleted")))
    }

    async fn finish_request(&self, tx: &mut Box<dyn Tx>, req: &SsoRequest) -> Result<()> {
        let mut done = req.clone();
        done.status = RequestStatus::Succeeded;
        done.updated_at = self.clock.now();
        tx.update_sso_request(&done).await?;
        Ok(())
    }

    async fn execute_create(&self, req: &SsoRequest, account: &str) -> std::result::Result<(), Stop> {
        let ps = self.current_permission_set(&req.permission_set_id).await?;
        let (kind, principal_id) = req.principal.clone().ok_or_else(|| Stop::Failed("the request names no principal".into()))?;
        self.put_role_in(&ps, account).await?;
        let mut tx = self.store.begin().await?;
        let now = self.clock.now();
        if let Err(e) = self.require_principal(&mut tx, kind, &principal_id).await {
            tx.rollback().await?;
            return Err(Stop::Failed(format!("the principal is gone: {e}")));
        }
        let mut a = tx.get_account_assignment(account, &ps.permission_set_id, kind, &principal_id).await?.unwrap_or(
            crate::model::AccountAssignment {
                account_id: account.to_string(),
                permission_set_id: ps.permission_set_id.clone(),
                principal_type: kind,
                principal_id: principal_id.clone(),
                direct: false,
                via_ous: Vec::new(),
                created_at: now,
            },
        );
        match &req.via_ou {
            Some(ou) if !a.via_ous.contains(ou) => a.via_ous.push(ou.clone()),
            Some(_) => {}
            None => a.direct = true,
        }
        tx.put_account_assignment(&a).await?;
        let provisioned = ProvisionedRole {
            account_id: account.to_string(),
            permission_set_id: ps.permission_set_id.clone(),
            role_name: role_name(&ps),
            version: ps.version,
            updated_at: now,
        };
        tx.put_provisioned_role(&provisioned).await?;
        self.finish_request(&mut tx, req).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn execute_delete(&self, req: &SsoRequest, account: &str) -> std::result::Result<(), Stop> {
        let ps_id = &req.permission_set_id;
        // What stays once this assignment (or this OU's part of it) is gone.
        let mut tx = self.store.begin_read().await?;
        let current = match &req.principal {
            Some((kind, id)) => tx.get_account_assignment(account, ps_id, *kind, id).await?,
            None => None,
        };
        let after = current.clone().map(|mut a| {
            match &req.via_ou {
                Some(ou) => a.via_ous.retain(|o| o != ou),
                None => a.direct = false,
            }
            a
        });
        let others = tx.count_assignments(account, ps_id).await? - u64::from(current.is_some());
        let remaining = others + u64::from(after.as_ref().is_some_and(|a| a.in_use()));
        let provisioned = tx.get_provisioned_role(account, ps_id).await?;
        tx.rollback().await?;
        if remaining == 0
            && let Some(p) = &provisioned
            && !self.is_own_account(account)
        {
            let (iam, _, _) = self.open_account(account).await?;
            iam.delete_role(&p.role_name).await.map_err(|e| Stop::Failed(e.0))?;
        }
        let mut tx = self.store.begin().await?;
        if let (Some(a), Some((kind, id))) = (&after, &req.principal) {
            if a.in_use() {
                tx.put_account_assignment(a).await?;
            } else {
                tx.delete_account_assignment(account, ps_id, *kind, id).await?;
            }
        }
        if tx.count_assignments(account, ps_id).await? == 0 {
            tx.delete_provisioned_role(account, ps_id).await?;
        }
        self.finish_request(&mut tx, req).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn execute_provision(&self, req: &SsoRequest, worker: &str) -> std::result::Result<(), Stop> {
        let ps = self.current_permission_set(&req.permission_set_id).await?;
        let accounts = match &req.account_id {
            Some(a) => vec![a.clone()],
            None => {
                let mut all = Vec::new();
                let mut page = Page { after: None, limit: 1000 };
                let mut tx = self.store.begin_read().await?;
                loop {
                    let rows = tx.list_provisioned_of_permission_set(&ps.permission_set_id, &page).await?;
                    all.extend(rows.items.into_iter().map(|p| p.account_id));
                    match rows.next {
                        Some(n) => page.after = Some(n),
                        None => break,
                    }
                }
                tx.rollback().await?;
                all
            }
        };
        let mut failures = Vec::new();
        for account in &accounts {
            let lease_key = format!("account/{account}");
            // Wait for a busy account rather than start over: earlier accounts are done.
            if !self.wait_for_lease(&lease_key, worker).await? {
                failures.push(format!("{account}: another request kept the account busy"));
                continue;
            }
            let outcome = async {
                self.put_role_in(&ps, account).await?;
                let mut tx = self.store.begin().await?;
                let p = ProvisionedRole {
                    account_id: account.clone(),
                    permission_set_id: ps.permission_set_id.clone(),
                    role_name: role_name(&ps),
                    version: ps.version,
                    updated_at: self.clock.now(),
                };
                tx.put_provisioned_role(&p).await?;
                tx.commit().await?;
                Ok::<(), Stop>(())
            }
            .await;
            self.release_lease(&lease_key, worker).await;
            match outcome {
                Ok(()) => {}
                Err(Stop::Failed(reason)) => failures.push(format!("{account}: {reason}")),
                Err(Stop::Busy) => failures.push(format!("{account}: busy")),
            }
        }
        if !failures.is_empty() {
            return Err(Stop::Failed(format!("{} of {} accounts failed: {}", failures.len(), accounts.len(), failures.join("; "))));
        }
        let mut tx = self.store.begin().await?;
        self.finish_request(&mut tx, req).await?;
        tx.commit().await?;
        Ok(())
    }
}
