//! A small per-node cache whose entries live a fixed time. Any write this node commits clears the
//! caches built on it (services/op.rs), so a change made here is seen here at once; a change made
//! on another node or by the command line is seen within the time-to-live.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub(crate) struct TtlCache<V> {
    ttl: Duration,
    entries: Mutex<HashMap<String, (V, Instant)>>,
}

/// Entries kept at most; past this the cache starts over (a burst of one-off keys).
const MAX_ENTRIES: usize = 10_000;

impl<V: Clone> TtlCache<V> {
    pub fn new(ttl: Duration) -> Self {
        TtlCache { ttl, entries: Mutex::new(HashMap::new()) }
    }

    pub fn get(&self, key: &str) -> Option<V> {
        let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key).filter(|(_, at)| at.elapsed() < self.ttl).map(|(v, _)| v.clone())
    }

    pub fn put(&self, key: &str, value: V) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            map.retain(|_, (_, at)| at.elapsed() < ttl);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
        }
        map.insert(key.to_string(), (value, Instant::now()));
    }

    pub fn clear(&self) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_clear() {
        let c = TtlCache::new(Duration::from_millis(50));
        c.put("a", 1);
        assert_eq!(c.get("a"), Some(1));
        c.clear();
        assert_eq!(c.get("a"), None);
        c.put("a", 2);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(c.get("a"), None, "expired");
    }
}
