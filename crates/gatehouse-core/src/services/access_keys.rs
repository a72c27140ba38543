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
pub(crate) struct KeyCache(std::sync::Mutex<std::collections::HashMap<String, (KeyEntry, std::time::Instant)>>);

#[derive(Clone)]
struct KeyEntry {
    principal: Principal,
    secret: Zeroizing<String>,
    session_token_hash: Option<String>,
    expires_at: Option<DateTime<Utc>>,
}

const KEY_TTL: std::time::Duration = std::time::Duration::from_secs(10);

impl KeyCache {
    pub(crate) fn clear(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
    fn get(&self, id: &str) -> Option<KeyEntry> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(id).filter(|(_, at)| at.elapsed() < KEY_TTL).map(|(e, _)| e.clone())
    }
    fn put(&self, id: &str, entry: &KeyEntry) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (_, at)| at.elapsed() < KEY_TTL);
        }
        map.insert(id.to_string(), (entry.clone(), std::time::Instant::now()));
    }
    pub(crate) fn evict(&self, id: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }
}

/// How a request's access key (and session token, for temporary keys) checks out.
pub enum KeyAuth {
    /// The key's principal and the secret to verify the signature with.
    Valid(Principal, Zeroizing<String>),
    /// No such key (UnrecognizedClientException).
    Unknown,
    /// A temporary key without its session token, or with another one.
    BadToken,
    /// A temporary key past its expiry (ExpiredTokenException).
    Expired,
}

/// Temporary keys live between 15 minutes and 12 hours, as STS sessions do.
pub const SESSION_LIFETIME: (i64, i64) = (15 * 60, 12 * 3600);

/// A key just created: the only time its secret is visible.
#[derive(Debug)]
pub struct NewAccessKey {
    pub info: AccessKeyInfo,
    pub secret_access_key: Zeroizing<String>,
    /// Temporary keys only: the token requests carry as `X-Amz-Security-Token`.
    pub session_token: Option<Zeroizing<String>>,
}

/// Store a role session's temporary key (GetRoleCredentials in the management account): the
/// caller has checked the assignment. Returns the key with its secret and session token.
pub(crate) async fn insert_role_session(
    svc: &Services,
    tx: &mut Box<dyn crate::store::Tx>,
    session_name: &str,
    managed: Vec<String>,
    inline: Vec<String>,
    lifetime_seconds: i64,
) -> Result<NewAccessKey> {
    let now = svc.clock.now();
    let (mut record, secret) = seal_new_key(&svc.key, session_name, managed, inline, now);
    let token = Zeroizing::new(ids::new_session_token());
    record.access_key_id = ids::new_access_key_id("ASIA");
    record.session_token_hash = Some(crate::crypto::token_hash(&token));
    record.expires_at = Some(now + chrono::Duration::seconds(lifetime_seconds));
    tx.insert_access_key(&record).await?;
    Ok(NewAccessKey { info: AccessKeyInfo::from(&record), secret_access_key: secret, session_token: Some(token) })
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
        access_key_id: ids::new_access_key_id("AKIA"),
        user_name: user_name.to_string(),
        sealed_secret: key.encrypt_str(&secret),
        managed_policies: managed,
        inline_policies: inline,
        created_at: now,
        last_used_at: None,
        session_token_hash: None,
        expires_at: None,
    };
    (record, secret)
}

/// An IAM user's ARN, or for a role session (`<role>/<session>`: GetRoleCredentials in the
/// management account) the assumed role's.
fn key_user_arn(svc: &Services, user_name: &str) -> Result<String> {
    let account = &svc.instance()?.management_account_id;
    Ok(if user_name.contains('/') {
        format!("arn:aws:sts::{account}:assumed-role/{user_name}")
    } else {
        ids::iam_user_arn(account, user_name)
    })
}

impl Services {
    /// Create a key for `user_name` holding the named managed policies and inline documents.
    pub async fn create_access_key(&self, ctx: &Ctx, user_name: &str, managed: Vec<String>, inline: Vec<String>) -> Result<NewAccessKey> {
        self.create_key(ctx, user_name, managed, inline, None).await
    }

    /// Create temporary credentials (`ASIA…` key, secret, session token) that expire after
    /// `lifetime_seconds` (15 minutes to 12 hours).
    pub async fn create_session_key(
        &self,
        ctx: &Ctx,
        user_name: &str,
        managed: Vec<String>,
        inline: Vec<String>,
        lifetime_seconds: i64,
    ) -> Result<NewAccessKey> {
        self.create_key(ctx, user_name, managed, inline, Some(lifetime_seconds)).await
    }

    async fn create_key(
        &self,
        ctx: &Ctx,
        user_name: &str,
        managed: Vec<String>,
        inline: Vec<String>,
        lifetime_seconds: Option<i64>,
    ) -> Result<NewAccessKey> {
        let params = json!({"userName": user_name, "managedPolicies": managed, "inlinePolicyCount": inline.len(), "durationSeconds": lifetime_seconds});
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
            let now = self.clock.now();
            let (mut record, secret) = seal_new_key(&self.key, user_name, managed.clone(), inline.clone(), now);
            let mut session_token = None;
            if let Some(seconds) = lifetime_seconds {
                let (min, max) = SESSION_LIFETIME;
                if !(min..=max).contains(&seconds) {
                    return Err(Error::validation("DurationSeconds", format!("must be between {min} and {max}")));
                }
                let token = Zeroizing::new(ids::new_session_token());
                record.access_key_id = ids::new_access_key_id("ASIA");
                record.session_token_hash = Some(crate::crypto::token_hash(&token));
                record.expires_at = Some(now + chrono::Duration::seconds(seconds));
                session_token = Some(token);
            }
            op.tx.insert_access_key(&record).await?;
            op.respond(json!({"accessKey": {"accessKeyId": record.access_key_id, "userName": user_name}}));
            op.resource("AWS::IAM::AccessKey", key_user_arn(self, user_name)?);
            Ok(NewAccessKey { info: AccessKeyInfo::from(&record), secret_access_key: secret, session_token })
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

    /// Check a request's key and session token: the principal and clear secret to verify its
    /// signature with, or why not.
    pub async fn authenticate_access_key(&self, access_key_id: &str, session_token: Option<&str>) -> Result<KeyAuth> {
        let entry = match self.key_cache.get(access_key_id) {
            Some(hit) => hit,
            None => match self.load_key(access_key_id).await? {
                Some(entry) => entry,
                None => return Ok(KeyAuth::Unknown),
            },
        };
        if let Some(expected) = &entry.session_token_hash {
            let given = session_token.map(crate::crypto::token_hash).unwrap_or_default();
            if !crate::crypto::constant_time_eq(given.as_bytes(), expected.as_bytes()) {
                return Ok(KeyAuth::BadToken);
            }
        }
        if entry.expires_at.is_some_and(|t| t <= self.clock.now()) {
            return Ok(KeyAuth::Expired);
        }
        Ok(KeyAuth::Valid(entry.principal, entry.secret))
    }

    async fn load_key(&self, access_key_id: &str) -> Result<Option<KeyEntry>> {
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
        let entry = KeyEntry { principal, secret, session_token_hash: record.session_token_hash, expires_at: record.expires_at };
        self.key_cache.put(access_key_id, &entry);
        Ok(Some(entry))
    }
}
