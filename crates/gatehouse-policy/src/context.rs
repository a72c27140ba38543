//! The request context: condition keys and their values.

use std::collections::BTreeMap;

/// Request context: condition keys (case-insensitive key names, e.g.
/// `aws:ResourceTag/Team`, `aws:PrincipalTag/dept`, `aws:username`,
/// `sso:InstanceArn`) to one or more string values.
#[derive(Default, Clone, Debug)]
pub struct Context {
    /// Keys are stored lowercased so lookups need not care about case.
    values: BTreeMap<String, Vec<String>>,
}

impl Context {
    pub fn new() -> Self {
        Self::default()
    }

    /// Set a single-valued key, replacing any previous value(s).
    pub fn insert(&mut self, key: &str, value: impl Into<String>) {
        self.values.insert(key.to_lowercase(), vec![value.into()]);
    }

    /// Set a multi-valued key (e.g. `aws:TagKeys`), replacing any previous value(s).
    /// An empty list counts as absent for conditions.
    pub fn insert_multi(&mut self, key: &str, values: Vec<String>) {
        self.values.insert(key.to_lowercase(), values);
    }

    /// The value(s) of `key`, looked up case-insensitively.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        // Avoid allocating when the key is already lowercase (the evaluator
        // always passes lowercased keys).
        let already_lower = key.chars().all(|c| {
            let mut lower = c.to_lowercase();
            lower.next() == Some(c) && lower.next().is_none()
        });
        if already_lower { self.values.get(key).map(Vec::as_slice) } else { self.values.get(&key.to_lowercase()).map(Vec::as_slice) }
    }

    /// Builder form of [`Context::insert`].
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.insert(key, value);
        self
    }
}
