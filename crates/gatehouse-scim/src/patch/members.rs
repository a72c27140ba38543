//! The net change to a Group's `members` over one PATCH request, kept as the
//! operations run so the server can write membership rows directly instead
//! of diffing two (possibly huge) arrays afterwards.

use std::collections::{HashMap, HashSet};

use serde_json::Value as Json;

use crate::json;

#[derive(Debug, Default)]
pub(super) struct MemberLog {
    /// `true`: not a member before the request, one now; `false`: the reverse.
    net: HashMap<String, bool>,
    /// First-touch order, for stable output; may repeat ids.
    order: Vec<String>,
    replaced: bool,
}

impl MemberLog {
    pub(super) fn added(&mut self, id: &str) {
        match self.net.get(id) {
            Some(false) => {
                self.net.remove(id);
            }
            Some(true) => {}
            None => {
                self.net.insert(id.to_string(), true);
                self.order.push(id.to_string());
            }
        }
    }

    pub(super) fn removed(&mut self, id: &str) {
        match self.net.get(id) {
            Some(true) => {
                self.net.remove(id);
            }
            Some(false) => {}
            None => {
                self.net.insert(id.to_string(), false);
                self.order.push(id.to_string());
            }
        }
    }

    /// The whole list was replaced or removed; see `PatchOutcome`.
    pub(super) fn mark_replaced(&mut self) {
        self.replaced = true;
    }

    /// Logs the difference between `old` and `new` values.
    pub(super) fn diff(&mut self, old: &[Json], new: &[Json]) {
        let old_ids: HashSet<&str> = old.iter().filter_map(member_id).collect();
        let new_ids: HashSet<&str> = new.iter().filter_map(member_id).collect();
        for id in old.iter().filter_map(member_id).filter(|id| !new_ids.contains(id)) {
            self.removed(id);
        }
        for id in new.iter().filter_map(member_id).filter(|id| !old_ids.contains(id)) {
            self.added(id);
        }
    }

    /// `(added, removed, replaced)`.
    pub(super) fn finish(self) -> (Vec<String>, Vec<String>, bool) {
        let (mut added, mut removed) = (Vec::new(), Vec::new());
        let mut seen = HashSet::new();
        for id in self.order {
            match self.net.get(&id) {
                Some(true) if seen.insert(id.clone()) => added.push(id),
                Some(false) if seen.insert(id.clone()) => removed.push(id),
                _ => {}
            }
        }
        (added, removed, self.replaced)
    }
}

/// A member element's id: its `value`.
pub(super) fn member_id(element: &Json) -> Option<&str> {
    json::get(element.as_object()?, "value")?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn net_changes_cancel_out() {
        let mut log = MemberLog::default();
        log.added("a");
        log.added("b");
        log.removed("a");
        log.removed("c");
        log.added("c");
        log.removed("d");
        log.added("a");
        assert_eq!(log.finish(), (vec!["a".into(), "b".into()], vec!["d".into()], false));
    }

    #[test]
    fn replacement_logs_the_difference() {
        let mut log = MemberLog::default();
        let old = [json!({"value": "a"}), json!({"value": "b"})];
        let new = [json!({"value": "b"}), json!({"value": "c"})];
        log.diff(&old, &new);
        assert_eq!(log.finish(), (vec!["c".into()], vec!["a".into()], false));
    }
}
