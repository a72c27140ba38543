//! The shape of every service operation: open a transaction, authorize, do the work, write the
//! CloudTrail record in the same transaction and commit. A failed operation rolls back and its
//! record (with errorCode) is written on its own, so denials and bad input are audited too.

use serde_json::{Value, json};

use super::Services;
use super::principal::Ctx;
use crate::error::{Error, Result};
use crate::model::{AuditRecord, AuditResource, EVENT_VERSION};
use crate::store::Tx;

/// Where an event comes from, as CloudTrail's eventSource names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    IdentityStore,
    SsoDirectory,
    Sso,
    Organizations,
    CloudTrail,
    /// Sign-in sessions (Identity Center's `identitystore-auth` actions).
    IdentityStoreAuth,
    /// SSO OIDC (RegisterClient, StartDeviceAuthorization, CreateToken).
    SsoOauth,
    Gatehouse,
}

impl Source {
    pub fn event_source(self) -> &'static str {
        match self {
            Source::IdentityStore => "identitystore.amazonaws.com",
            Source::SsoDirectory => "sso-directory.amazonaws.com",
            Source::Sso => "sso.amazonaws.com",
            Source::Organizations => "organizations.amazonaws.com",
            Source::CloudTrail => "cloudtrail.amazonaws.com",
            Source::IdentityStoreAuth => "identitystore-auth.amazonaws.com",
            Source::SsoOauth => "sso-oauth.amazonaws.com",
            Source::Gatehouse => "gatehouse.amazonaws.com",
        }
    }
    /// The IAM action prefix of operations from this source.
    pub fn action_prefix(self) -> &'static str {
        match self {
            Source::IdentityStore => "identitystore",
            Source::SsoDirectory => "sso-directory",
            Source::Sso => "sso",
            Source::Organizations => "organizations",
            Source::CloudTrail => "cloudtrail",
            Source::IdentityStoreAuth => "identitystore-auth",
            Source::SsoOauth => "sso-oauth",
            Source::Gatehouse => "gatehouse",
        }
    }
}

pub(crate) struct Op<'s> {
    svc: &'s Services,
    ctx: &'s Ctx,
    pub tx: Box<dyn Tx>,
    source: Source,
    name: std::borrow::Cow<'static, str>,
    read_only: bool,
    request: Value,
    response: Value,
    resources: Vec<AuditResource>,
    extra: Value,
    /// Recorded as a write although it changes nothing stored (a sign-in to an application).
    event_write: bool,
    /// It queued provisioning jobs: wake this node's workers once they are committed.
    wakes_workers: bool,
}

impl Services {
    /// Start an operation. `request` is what the audit record shows as requestParameters:
    /// build it without secrets.
    pub(crate) async fn begin<'s>(
        &'s self,
        ctx: &'s Ctx,
        source: Source,
        name: impl Into<std::borrow::Cow<'static, str>>,
        read_only: bool,
        request: Value,
    ) -> Result<Op<'s>> {
        let tx = if read_only { self.store.begin_read().await? } else { self.store.begin().await? };
        Ok(Op {
            svc: self,
            ctx,
            tx,
            source,
            name: name.into(),
            read_only,
            request,
            response: Value::Null,
            resources: Vec::new(),
            extra: Value::Null,
            event_write: false,
            wakes_workers: false,
        })
    }
}

impl Op<'_> {
    /// Check `<source>:<operation>` on `resource` against the caller's policies.
    pub fn authorize(&self, resource: &str) -> Result<()> {
        let action = format!("{}:{}", self.source.action_prefix(), self.name);
        self.ctx.principal.authorize(&action, resource, &[])
    }

    /// Check another operation of the same service that this one also performs (the console
    /// creating a permission set with its policies attached).
    pub fn authorize_also(&self, operation: &str, resource: &str) -> Result<()> {
        let action = format!("{}:{operation}", self.source.action_prefix());
        self.ctx.principal.authorize(&action, resource, &[])
    }

    /// The record says readOnly false, but like a read it goes to the batched writer: for events
    /// such as Federate that write nothing else.
    pub fn record_as_write(&mut self) {
        self.event_write = true;
    }

    pub fn wake_workers_on_commit(&mut self) {
        self.wakes_workers = true;
    }

    pub fn respond(&mut self, response: Value) {
        self.response = response;
    }

    pub fn resource(&mut self, kind: &str, arn: String) {
        let account_id = self.svc.instance.get().map(|i| i.management_account_id.clone());
        self.resources.push(AuditResource { account_id, kind: kind.to_string(), arn });
    }

    pub fn additional(&mut self, key: &str, value: Value) {
        if !self.extra.is_object() {
            self.extra = json!({});
        }
        if let Some(map) = self.extra.as_object_mut() {
            map.insert(key.to_string(), value);
        }
    }

    fn record(&self, error: Option<&Error>) -> AuditRecord {
        let svc = self.svc;
        let recipient =
            svc.instance.get().map(|i| i.management_account_id.clone()).unwrap_or_else(|| self.ctx.principal.account_id.clone());
        AuditRecord {
            event_version: EVENT_VERSION.to_string(),
            user_identity: self.ctx.principal.user_identity(),
            event_time: svc.clock.now(),
            event_source: self.source.event_source().to_string(),
            event_name: self.name.to_string(),
            aws_region: svc.config.region.clone(),
            source_ip_address: self.ctx.source_ip.clone(),
            user_agent: self.ctx.user_agent.clone(),
            request_parameters: self.request.clone(),
            response_elements: if error.is_some() { Value::Null } else { self.response.clone() },
            request_id: self.ctx.request_id.clone(),
            event_id: crate::ids::new_uuid(),
            read_only: self.read_only && !self.event_write,
            resources: self.resources.clone(),
            event_type: "AwsApiCall".to_string(),
            management_event: true,
            recipient_account_id: recipient,
            error_code: error.map(|e| e.code().to_string()),
            error_message: error.map(|e| e.to_string()),
            additional_event_data: self.extra.clone(),
            service_event_details: Value::Null,
        }
    }

    /// Commit with the success record, or roll back and record the failure.
    pub async fn finish<T>(mut self, result: Result<T>) -> Result<T> {
        match result {
            Ok(value) if self.read_only => {
                // Nothing to commit; the record goes to the batched writer (audit_sink.rs).
                let record = self.record(None);
                let _ = self.tx.rollback().await;
                self.svc.audit_sink.submit(record);
                Ok(value)
            }
            Ok(value) => {
                let record = self.record(None);
                self.tx.insert_audit(&record).await?;
                self.tx.commit().await?;
                self.svc.clear_read_caches();
                if self.wakes_workers {
                    self.svc.provisioning_wake.notify_waiters();
                }
                metrics::counter!("gatehouse_audit_events_written_total").increment(1);
                Ok(value)
            }
            Err(error) => {
                let record = self.record(Some(&error));
                let _ = self.tx.rollback().await;
                if let Err(e) = self.svc.write_audit_alone(&record).await {
                    tracing::error!(event = %self.name, error = %e, "could not record a failed operation");
                }
                Err(error)
            }
        }
    }
}

impl Services {
    async fn write_audit_alone(&self, record: &AuditRecord) -> Result<()> {
        let mut tx = self.store.begin().await?;
        tx.insert_audit(record).await?;
        tx.commit().await?;
        metrics::counter!("gatehouse_audit_events_written_total").increment(1);
        Ok(())
    }
}
