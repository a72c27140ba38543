//! Access keys for automation: each names its owner and the policies it holds. The secret is
//! shown once and stored sealed with the master key.

use chrono::{DateTime, Utc};
use serde_json::json;
use std::sync::Arc;
use zeroize::Zeroizing;

use super::Services;
use super::op::Source;
use super::principal::{Ctx, HeldPolicy, Principal, PrincipalKind, managed_policy};
use crate::crypto::MasterKey;
use crate::error::{Error, ResourceType, Result};
use crate::ids;
use crate::model::{AccessKeyInfo, AccessKeyRecord};
use crate::validate;

/// Recently used keys with their decrypted secret and parsed policies, so a signed request does
/// not read, decrypt and parse its key every time. Entries live `KEY_TTL`: a key deleted on
/// another node stops working within that time (at once on this node).
#[derive(Default)]
pub(crate) struct KeyCache(std::sync::Mutex<std::collections::HashMap<String, CachedKey>>);

type CachedKey = (Principal, Zeroizing<String>, std::time::Instant);

const KEY_TTL: std::time::Duration = std::time::Duration::from_secs(10);

impl KeyCache {
    fn get(&self, id: &str) -> Option<(Principal, Zeroizing<String>)> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(id).filter(|(_, _, at)| at.elapsed() < KEY_TTL).map(|(p, s, _)| (p.clone(), s.clone()))
    }
    fn put(&self, id: &str, principal: &Principal, secret: &Zeroizing<String>) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (_, _, at)| at.elapsed() < KEY_TTL);
        }
        map.insert(id.to_string(), (principal.clone(), secret.clone(), std::time::Instant::now()));
    }
    fn evict(&self, id: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }
}

/// A key just created: the only time its secret is visible.
#[derive(Debug)]
pub struct NewAccessKey {
    pub info: AccessKeyInfo,
    pub secret_access_key: Zeroizing<String>,
}

pub(crate) fn seal_new_key(
    key: &MasterKey,
    user_name: &str,
    managed: Vec<String>,
    inline: Vec<String>,
    now: DateTime<Utc>,
) -> (AccessKeyRecord, Zeroizing<String>) {
    let secret = Zeroizing::new(ids::new_secret_access_key());
    let record = AccessKeyRecord {
        access_key_id: ids::new_access_key_id(),
        user_name: user_name.to_string(),
        sealed_secret: key.encrypt_str(&secret),
        managed_policies: managed,
        inline_policies: inline,
        created_at: now,
        last_used_at: None,
    };
    (record, secret)
}

fn key_user_arn(svc: &Services, user_name: &str) -> Result<String> {
    Ok(ids::iam_user_arn(&svc.instance()?.management_account_id, user_name))
}

impl Services {
    /// Create a key for `user_name` holding the named managed policies and inline documents.
    pub async fn create_access_key(&self, ctx: &Ctx, user_name: &str, managed: Vec<String>, inline: Vec<String>) -> Result<NewAccessKey> {
        let params = json!({"userName": user_name, "managedPolicies": managed, "inlinePolicyCount": inline.len()});
        let mut op = self.begin(ctx, Source::Gatehouse, "CreateAccessKey", false, params).await?;
        let result = async {
            op.authorize(&key_user_arn(self, user_name)?)?;
            validate::length("UserName", user_name, 1, 64)?;
            if !user_name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)) {
                return Err(Error::validation("UserName", "may contain only letters, digits and +=,.@_-"));
            }
            if managed.is_empty() && inline.is_empty() {
                return Err(Error::validation("Policies", "give at least one managed policy name or policy document"));
            }
            for name in &managed {
                managed_policy(name)?;
            }
            for (i, doc) in inline.iter().enumerate() {
                gatehouse_policy::Policy::parse(doc).map_err(|e| Error::validation(format!("PolicyDocument[{i}]"), e.to_string()))?;
            }
            let (record, secret) = seal_new_key(&self.key, user_name, managed.clone(), inline.clone(), self.clock.now());
            op.tx.insert_access_key(&record).await?;
            op.respond(json!({"accessKey": {"accessKeyId": record.access_key_id, "userName": user_name}}));
            op.resource("AWS::IAM::AccessKey", key_user_arn(self, user_name)?);
            Ok(NewAccessKey { info: AccessKeyInfo::from(&record), secret_access_key: secret })
        }
        .await;
        op.finish(result).await
    }

    pub async fn list_access_keys(&self, ctx: &Ctx) -> Result<Vec<AccessKeyInfo>> {
        let mut op = self.begin(ctx, Source::Gatehouse, "ListAccessKeys", true, json!({})).await?;
        let result = async {
            op.authorize(&key_user_arn(self, "*")?)?;
            Ok(op.tx.list_access_keys().await?.iter().map(AccessKeyInfo::from).collect())
        }
        .await;
        op.finish(result).await
    }

    pub async fn delete_access_key(&self, ctx: &Ctx, access_key_id: &str) -> Result<()> {
        let mut op = self.begin(ctx, Source::Gatehouse, "DeleteAccessKey", false, json!({"accessKeyId": access_key_id})).await?;
        let result = async {
            let record =
                op.tx.get_access_key(access_key_id).await?.ok_or_else(|| Error::not_found(ResourceType::AccessKey, access_key_id))?;
            op.authorize(&key_user_arn(self, &record.user_name)?)?;
            op.tx.delete_access_key(access_key_id).await?;
            self.key_cache.evict(access_key_id);
            Ok(())
        }
        .await;
        op.finish(result).await
    }

    /// Look up a key for request signing: its principal and clear secret. None when unknown.
    pub async fn access_key_principal(&self, access_key_id: &str) -> Result<Option<(Principal, Zeroizing<String>)>> {
        if let Some(hit) = self.key_cache.get(access_key_id) {
            return Ok(Some(hit));
        }
        let mut tx = self.store.begin_read().await?;
        let record = tx.get_access_key(access_key_id).await?;
        tx.rollback().await?;
        let Some(record) = record else { return Ok(None) };
        let secret = self.key.decrypt_string(&record.sealed_secret)?;
        let mut policies = Vec::new();
        for name in &record.managed_policies {
            policies.push(managed_policy(name)?);
        }
        for doc in &record.inline_policies {
            let p = gatehouse_policy::Policy::parse(doc).map_err(|e| Error::internal(format!("stored policy does not parse: {e}")))?;
            policies.push(HeldPolicy::Inline(Arc::new(p)));
        }
        let principal = Principal {
            kind: PrincipalKind::AccessKey { access_key_id: record.access_key_id.clone(), user_name: record.user_name.clone() },
            arn: key_user_arn(self, &record.user_name)?,
            account_id: self.instance()?.management_account_id.clone(),
            policies,
        };
        self.key_cache.put(access_key_id, &principal, &secret);
        Ok(Some((principal, secret)))
    }
}
