//! Identifier and ARN formats, matching what AWS clients expect to see.

use rand::Rng;
use rand::distributions::{Alphanumeric, DistString};

fn hex(n: usize) -> String {
    let mut bytes = vec![0u8; n.div_ceil(2)];
    rand::thread_rng().fill(&mut bytes[..]);
    let mut s = hex::encode(bytes);
    s.truncate(n);
    s
}

fn lower_alnum(n: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..n).map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char).collect()
}

/// `ssoins-` + 16 hex, as sso-admin's InstanceArn.
pub fn new_instance_id() -> String {
    format!("ssoins-{}", hex(16))
}
/// `apl-` + 16 hex, as sso-admin's application ids.
pub fn new_application_id() -> String {
    format!("apl-{}", hex(16))
}
/// `ps-` + 16 hex, as sso-admin's permission set ids.
pub fn new_permission_set_id() -> String {
    format!("ps-{}", hex(16))
}
pub fn permission_set_arn(instance_id: &str, permission_set_id: &str) -> String {
    format!("arn:aws:sso:::permissionSet/{instance_id}/{permission_set_id}")
}
pub fn application_arn(account_id: &str, instance_id: &str, application_id: &str) -> String {
    format!("arn:aws:sso::{account_id}:application/{instance_id}/{application_id}")
}
/// Catalog templates are `catalog/<id>`, the custom application is `custom-saml`.
pub fn application_provider_arn(template_id: &str) -> String {
    if template_id == "custom-saml" {
        "arn:aws:sso::aws:applicationProvider/custom-saml".to_string()
    } else {
        format!("arn:aws:sso::aws:applicationProvider/catalog/{template_id}")
    }
}
/// `d-` + 10 hex, as identitystore's IdentityStoreId.
pub fn new_identity_store_id() -> String {
    format!("d-{}", hex(10))
}
pub fn new_organization_id() -> String {
    format!("o-{}", lower_alnum(10))
}
pub fn new_root_id() -> String {
    format!("r-{}", lower_alnum(4))
}
/// `ou-<root suffix>-<8>`, as Organizations forms OU ids.
pub fn new_ou_id(root_id: &str) -> String {
    let suffix = root_id.strip_prefix("r-").unwrap_or(root_id);
    format!("ou-{suffix}-{}", lower_alnum(8))
}
/// Twelve digits, never starting with 0 (some tools strip leading zeros).
pub fn new_account_id() -> String {
    let mut rng = rand::thread_rng();
    let first: u8 = rng.gen_range(1..=9);
    let rest: String = (0..11).map(|_| char::from(b'0' + rng.gen_range(0..10u8))).collect();
    format!("{first}{rest}")
}
/// Resource ids (users, groups, memberships, audit events): UUID version 7, which starts with the
/// creation time in milliseconds. Ids made in order sort in order, so each new row lands at the
/// end of its primary-key and keyset indexes instead of on a random page: on SQLite that halves
/// the pages a create dirties (docs/design/0011). Creation times are public in `meta` anyway.
pub fn new_uuid() -> String {
    uuid::Uuid::now_v7().to_string()
}
/// `AKIA` + 16 characters of the base32 alphabet, like IAM access key ids.
/// `AKIA…` for long-term keys, `ASIA…` for temporary ones, as IAM and STS spell them.
pub fn new_access_key_id(prefix: &str) -> String {
    const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut rng = rand::thread_rng();
    let tail: String = (0..16).map(|_| B32[rng.gen_range(0..32)] as char).collect();
    format!("{prefix}{tail}")
}
/// A session token for temporary credentials: 128 random alphanumerics (~760 bits).
pub fn new_session_token() -> String {
    Alphanumeric.sample_string(&mut rand::thread_rng(), 128)
}
/// 40 characters, like an IAM secret access key.
pub fn new_secret_access_key() -> String {
    Alphanumeric.sample_string(&mut rand::thread_rng(), 40)
}

pub fn instance_arn(instance_id: &str) -> String {
    format!("arn:aws:sso:::instance/{instance_id}")
}
pub fn identity_store_arn(account_id: &str, identity_store_id: &str) -> String {
    format!("arn:aws:identitystore::{account_id}:identitystore/{identity_store_id}")
}
pub fn user_arn(user_id: &str) -> String {
    format!("arn:aws:identitystore:::user/{user_id}")
}
pub fn group_arn(group_id: &str) -> String {
    format!("arn:aws:identitystore:::group/{group_id}")
}
pub fn membership_arn(membership_id: &str) -> String {
    format!("arn:aws:identitystore:::membership/{membership_id}")
}
pub fn account_arn(account_id: &str) -> String {
    format!("arn:aws:sso:::account/{account_id}")
}
pub fn organizations_account_arn(mgmt_account: &str, org_id: &str, account_id: &str) -> String {
    format!("arn:aws:organizations::{mgmt_account}:account/{org_id}/{account_id}")
}
pub fn organization_arn(mgmt_account: &str, org_id: &str) -> String {
    format!("arn:aws:organizations::{mgmt_account}:organization/{org_id}")
}
pub fn root_arn(mgmt_account: &str, org_id: &str, root_id: &str) -> String {
    format!("arn:aws:organizations::{mgmt_account}:root/{org_id}/{root_id}")
}
pub fn ou_arn(mgmt_account: &str, org_id: &str, ou_id: &str) -> String {
    format!("arn:aws:organizations::{mgmt_account}:ou/{org_id}/{ou_id}")
}
pub fn iam_user_arn(account_id: &str, name: &str) -> String {
    format!("arn:aws:iam::{account_id}:user/{name}")
}

pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert!(new_instance_id().starts_with("ssoins-") && new_instance_id().len() == 23);
        assert_eq!(new_identity_store_id().len(), 12);
        assert!(is_account_id(&new_account_id()));
        assert_eq!(new_access_key_id("AKIA").len(), 20);
        assert_eq!(new_secret_access_key().len(), 40);
        assert!(new_ou_id("r-ab12").starts_with("ou-ab12-"));
    }
}
