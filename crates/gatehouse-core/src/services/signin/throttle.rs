//! Brute-force protection: failed sign-ins are counted per user name and per source address; past
//! a threshold the name (or address) is locked for a while, and every failure is answered a little
//! later than the one before. Unknown user names are counted like real ones, so a lockout says
//! nothing about whether a user exists.

use chrono::{DateTime, Duration, Utc};

use super::SignInResult;
use crate::error::Result;
use crate::model::{AuditRecord, Throttle};
use crate::services::Services;
use crate::store::Tx;

fn user_key(user_name: &str) -> String {
    format!("user:{}", user_name.to_lowercase())
}

fn ip_key(ip: &str) -> String {
    format!("ip:{ip}")
}

/// Failures older than the lockout window no longer count.
fn live(t: &Throttle, now: DateTime<Utc>, window: Duration) -> i64 {
    if now - t.last_failure_at > window { 0 } else { t.failures }
}

impl Services {
    /// Is this user name or address locked now?
    pub(super) async fn throttled(&self, tx: &mut Box<dyn Tx>, user_name: &str, ip: &str, now: DateTime<Utc>) -> Result<bool> {
        for key in [user_key(user_name), ip_key(ip)] {
            if let Some(t) = tx.get_throttle(&key).await?
                && t.locked_until.is_some_and(|until| until > now)
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Count a failure for the name and the address, with the step's events, in one transaction.
    /// Returns the user name's recent failures (for the delay).
    pub(super) async fn record_failure(&self, user_name: &str, ip: &str, events: Vec<AuditRecord>) -> SignInResult<i64> {
        let cfg = self.signin_config().clone();
        let now = self.clock.now();
        let window = Duration::seconds(cfg.lockout_seconds);
        let mut tx = self.store.begin().await?;
        let mut user_failures = 0;
        for (key, threshold) in [(user_key(user_name), cfg.lockout_threshold), (ip_key(ip), cfg.ip_lockout_threshold)] {
            let previous = tx.get_throttle(&key).await?;
            let failures = previous.as_ref().map_or(0, |t| live(t, now, window)) + 1;
            let locked_until = if threshold > 0 && failures >= threshold { Some(now + window) } else { None };
            // A lock that ran out starts the count again.
            let failures = if previous.as_ref().and_then(|t| t.locked_until).is_some_and(|u| u <= now) { 1 } else { failures };
            tx.put_throttle(&Throttle { key: key.clone(), failures, last_failure_at: now, locked_until }).await?;
            if key.starts_with("user:") {
                user_failures = failures;
            }
        }
        for e in &events {
            tx.insert_audit(e).await?;
        }
        tx.commit().await?;
        Ok(user_failures)
    }

    /// A successful sign-in clears its user name's count (the address's decays on its own).
    pub(super) async fn clear_failures(&self, user_name: &str) -> Result<()> {
        let mut tx = self.store.begin().await?;
        tx.delete_throttle(&user_key(user_name)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Answer a failure later the more failures there were: guessing gets slower, a typo does not.
    pub(super) async fn failure_delay(&self, failures: i64) {
        let step = self.signin_config().failure_delay_ms;
        let ms = (step.saturating_mul(failures.saturating_sub(1).max(0) as u64)).min(5_000);
        if ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
    }
}
