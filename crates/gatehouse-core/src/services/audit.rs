//! Reading the audit log (tail, export). Reading it is itself an audited, authorized operation.

use serde_json::json;

use super::Services;
use super::op::Source;
use super::principal::Ctx;
use crate::error::Result;
use crate::model::{AuditBucket, AuditQuery, DayActivity, StoredAudit};

impl Services {
    /// The audit log as a resource for policies: reading it is `cloudtrail:LookupEvents` on it.
    fn trail_arn(&self) -> Result<String> {
        Ok(format!("arn:aws:cloudtrail:{}:{}:trail/gatehouse", self.config.region, self.instance()?.management_account_id))
    }

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
            let trail = self.trail_arn()?;
            op.authorize(&trail)?;
            Ok(op.tx.list_audit(&query).await?)
        }
        .await;
        op.finish(result).await
    }

    /// The last `days` days (today included, oldest first, every day present) counted for the
    /// console's charts: sign-ins, failed sign-ins and provisioning activity.
    pub async fn activity_by_day(&self, ctx: &Ctx, days: u32) -> Result<Vec<DayActivity>> {
        let mut op = self.begin(ctx, Source::CloudTrail, "LookupEvents", true, json!({"summary": "activityByDay", "days": days})).await?;
        let result = async {
            let trail = self.trail_arn()?;
            op.authorize(&trail)?;
            let today = self.clock.now().date_naive();
            let first = today - chrono::Days::new(u64::from(days.max(1) - 1));
            let since = first.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
            let counts = op.tx.count_audit_by_day(since).await?;
            let mut out: Vec<DayActivity> = first
                .iter_days()
                .take_while(|d| *d <= today)
                .map(|d| DayActivity { day: d.format("%Y-%m-%d").to_string(), ..Default::default() })
                .collect();
            for (day, bucket, n) in counts {
                let Some(slot) = out.iter_mut().find(|d| d.day == day) else { continue };
                match bucket {
                    AuditBucket::SignIn => slot.sign_ins += n,
                    AuditBucket::FailedSignIn => slot.failed_sign_ins += n,
                    AuditBucket::Provisioning => slot.provisioning += n,
                }
            }
            Ok(out)
        }
        .await;
        op.finish(result).await
    }

    /// Read records without writing one: for `audit tail` polling, which would otherwise log itself
    /// forever. Still authorized.
    pub async fn read_events_quietly(&self, ctx: &Ctx, query: AuditQuery) -> Result<Vec<StoredAudit>> {
        let trail = self.trail_arn()?;
        ctx.principal.authorize("cloudtrail:LookupEvents", &trail, &[])?;
        let mut tx = self.store.begin_read().await?;
        let rows = tx.list_audit(&query).await?;
        tx.rollback().await?;
        Ok(rows)
    }
}
