//! Reading the audit log (tail, export). Reading it is itself an audited, authorized operation.

use serde_json::json;

use super::Services;
use super::op::Source;
use super::principal::Ctx;
use crate::error::Result;
use crate::model::{AuditQuery, StoredAudit};

impl Services {
    /// Records in log order after `query.after_seq`, within the time bounds.
    pub async fn lookup_events(&self, ctx: &Ctx, query: AuditQuery) -> Result<Vec<StoredAudit>> {
        let params = json!({
            "startTime": query.since,
            "endTime": query.until,
            "eventName": query.event_name,
            "username": query.user_name,
            "eventId": query.event_id,
            "maxResults": query.limit,
        });
        let mut op = self.begin(ctx, Source::CloudTrail, "LookupEvents", true, params).await?;
        let result = async {
            let trail = format!("arn:aws:cloudtrail:{}:{}:trail/gatehouse", self.config.region, self.instance()?.management_account_id);
            op.authorize(&trail)?;
            Ok(op.tx.list_audit(&query).await?)
        }
        .await;
        op.finish(result).await
    }

    /// Read records without writing one: for `audit tail` polling, which would otherwise log itself
    /// forever. Still authorized.
    pub async fn read_events_quietly(&self, ctx: &Ctx, query: AuditQuery) -> Result<Vec<StoredAudit>> {
        let trail = format!("arn:aws:cloudtrail:{}:{}:trail/gatehouse", self.config.region, self.instance()?.management_account_id);
        ctx.principal.authorize("cloudtrail:LookupEvents", &trail, &[])?;
        let mut tx = self.store.begin_read().await?;
        let rows = tx.list_audit(&query).await?;
        tx.rollback().await?;
        Ok(rows)
    }
}
