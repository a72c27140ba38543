//! Quota checks without counting every row on every create (which makes bulk loads quadratic):
//! the last exact count plus the creates since is an upper bound (deletes only lower the truth),
//! and an exact count is taken whenever that bound nears the limit or every `RECOUNT` creates.
//! Across nodes the bound misses other nodes' creates since the last recount, so the quota is
//! exact on one node and may be overshot by at most what other nodes create in that window.
//!
//! "Nears" depends on the backend: PostgreSQL may serve several nodes, so an exact count is taken
//! within `RECOUNT` of the limit; SQLite serves one, where the bound is exact short of another
//! process (the CLI) creating meanwhile, so counting starts only when the bound reaches the limit
//! (counting 50,000 rows costs milliseconds, which near the limit was paid on every create).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Result;
use crate::store::StoreResult;

const RECOUNT: u64 = 1024;
const UNKNOWN: u64 = u64::MAX;

pub(crate) struct CountCache {
    known: AtomicU64,
    since: AtomicU64,
    /// How far below the limit the bound must stay to be trusted.
    margin: u64,
}

impl CountCache {
    /// `shared`: other nodes may create too (PostgreSQL).
    pub fn new(shared: bool) -> Self {
        CountCache { known: AtomicU64::new(UNKNOWN), since: AtomicU64::new(0), margin: if shared { RECOUNT } else { 0 } }
    }

    /// An upper bound on the count that is safe to compare with `max`, or None: count exactly.
    pub fn bound(&self, max: u64) -> Option<u64> {
        let known = self.known.load(Ordering::Acquire);
        let since = self.since.load(Ordering::Acquire);
        if known == UNKNOWN || since >= RECOUNT {
            return None;
        }
        let bound = known + since;
        (bound + self.margin < max).then_some(bound)
    }

    pub fn set_exact(&self, count: u64) {
        self.since.store(0, Ordering::Release);
        self.known.store(count, Ordering::Release);
    }

    /// The count to compare with `max`: the cached bound when it is safely below, else `exact`
    /// (only awaited then), which also refreshes the cache.
    pub async fn current(&self, max: u64, exact: impl Future<Output = StoreResult<u64>>) -> Result<u64> {
        match self.bound(max) {
            Some(bound) => Ok(bound),
            None => {
                let n = exact.await?;
                self.set_exact(n);
                Ok(n)
            }
        }
    }

    pub fn created(&self) {
        self.since.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_near_the_limit_and_periodically() {
        let c = CountCache::new(true);
        assert_eq!(c.bound(50_000), None, "unknown at first");
        c.set_exact(10);
        assert_eq!(c.bound(50_000), Some(10));
        c.created();
        assert_eq!(c.bound(50_000), Some(11));
        assert_eq!(c.bound(1_000), None, "near the limit: count exactly");
        for _ in 0..RECOUNT {
            c.created();
        }
        assert_eq!(c.bound(50_000), None, "recount every RECOUNT creates");
    }

    #[test]
    fn one_node_counts_only_at_the_limit() {
        let c = CountCache::new(false);
        c.set_exact(998);
        assert_eq!(c.bound(1_000), Some(998), "below the limit: the bound is exact on one node");
        c.created();
        c.created();
        assert_eq!(c.bound(1_000), None, "at the limit: count exactly (deletes may have made room)");
    }
}
