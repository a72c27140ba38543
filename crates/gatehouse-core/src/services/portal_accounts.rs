//! What a signed-in person reaches in AWS accounts (the portal API the AWS CLI calls with its
//! bearer token): their accounts, the roles (permission sets) in each, and role credentials —
//! from the account's STS with an assertion Gatehouse signs, or, in the management account,
//! Gatehouse's own keys holding the permission set's policies.

use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::Arc;
use zeroize::Zeroizing;

use super::Services;
use super::access_keys::NewAccessKey;
use super::op::Source;
use super::principal::Ctx;
use crate::error::{Error, ResourceType, Result};
use crate::model::{Account, AccountAssignment, Page, Paged, PermissionSet, PrincipalType, User};
use crate::store::Tx;

/// Where "Management console" leads.
pub enum ConsoleSignIn {
    /// An AWS account: the signed Response (base64) the browser posts to AWS sign-in.
    Aws { destination: String, saml_response: String, relay_state: Option<String> },
    /// The management account, which is Gatehouse itself: a Gatehouse console session as the
    /// role (a role session key whose secret is never shown; the browser holds its token).
    Gatehouse { access_key_id: String, session_token: Zeroizing<String>, expiration: DateTime<Utc>, relay_state: Option<String> },
}

/// Credentials for one role, as GetRoleCredentials returns them.
pub struct RoleCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expiration: chrono::DateTime<chrono::Utc>,
}

/// One person's reach: the accounts they have a role in, by id, and the roles (permission-set
/// names) in each.
pub(crate) struct Reach {
    accounts: BTreeMap<String, Account>,
    roles: HashMap<String, BTreeSet<String>>,
}

/// The first `limit` of `items` (in order), with the key to continue after when more remain.
fn page_of<T>(items: impl Iterator<Item = T>, limit: u64, key: impl Fn(&T) -> String) -> Paged<T> {
    let mut items: Vec<T> = items.take(limit as usize + 1).collect();
    let next = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(&key)
    } else {
        None
    };
    Paged { items, next }
}

fn forbidden(account: &str, role: &str) -> Error {
    Error::AccessDenied { message: format!("You have no access to role {role} in account {account}") }
}

/// The audience AWS expects in assertions for its sign-in, by partition.
fn aws_audience(partition: &str) -> &'static str {
    match partition {
        "aws-us-gov" => "urn:amazon:webservices:govcloud",
        "aws-cn" => "urn:amazon:webservices:cn-north-1",
        _ => "urn:amazon:webservices",
    }
}

impl Services {
    /// The user and their groups, as assignments name principals.
    async fn my_principals(&self, tx: &mut Box<dyn Tx>, user: &User) -> Result<Vec<(PrincipalType, String)>> {
        let groups = self.groups_of(tx, &user.user_id, false).await?;
        let mut principals = vec![(PrincipalType::User, user.user_id.clone())];
        principals.extend(groups.into_iter().map(|(id, _)| (PrincipalType::Group, id)));
        Ok(principals)
    }

    /// The user's assignments, directly and through their groups (optionally in one account).
    async fn my_assignments(&self, tx: &mut Box<dyn Tx>, user: &User, account: Option<&str>) -> Result<Vec<AccountAssignment>> {
        let principals = self.my_principals(tx, user).await?;
        Ok(tx.assignments_of_principals(&principals, account).await?)
    }

    /// What the user reaches, from this node's cache when read within READ_CACHE_TTL: the AWS
    /// CLI lists accounts and then each account's roles, so one read serves the whole listing.
    async fn my_reach(&self, tx: &mut Box<dyn Tx>, user: &User) -> Result<Arc<Reach>> {
        if let Some(hit) = self.reach_cache.get(&user.user_id) {
            return Ok(hit);
        }
        let assignments = self.my_assignments(tx, user, None).await?;
        let mut set_ids: Vec<String> = assignments.iter().map(|a| a.permission_set_id.clone()).collect();
        set_ids.sort();
        set_ids.dedup();
        let names: HashMap<String, String> =
            tx.get_permission_sets(&set_ids).await?.into_iter().map(|ps| (ps.permission_set_id, ps.name)).collect();
        let mut roles: HashMap<String, BTreeSet<String>> = HashMap::new();
        for a in assignments {
            if let Some(name) = names.get(&a.permission_set_id) {
                roles.entry(a.account_id).or_default().insert(name.clone());
            }
        }
        let ids: Vec<String> = roles.keys().cloned().collect();
        let accounts = tx.get_accounts(&ids).await?.into_iter().map(|a| (a.id.clone(), a)).collect();
        let reach = Arc::new(Reach { accounts, roles });
        self.reach_cache.put(&user.user_id, reach.clone());
        Ok(reach)
    }

    /// ListAccounts: the accounts the user can reach, by id.
    pub async fn list_my_accounts(&self, ctx: &Ctx, user: &User, page: &Page) -> Result<Paged<Account>> {
        let mut op = self.begin(ctx, Source::Sso, "ListAccounts", true, json!({})).await?;
        let result = async {
            let reach = self.my_reach(&mut op.tx, user).await?;
            let after = page.after.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
            let items = reach.accounts.range::<str, _>((after, Bound::Unbounded)).map(|(_, a)| a.clone());
            Ok(page_of(items, page.limit, |a| a.id.clone()))
        }
        .await;
        op.finish(result).await
    }

    /// One account the user reaches (its name for the credentials page); NotFound otherwise.
    pub async fn describe_my_account(&self, ctx: &Ctx, user: &User, account_id: &str) -> Result<Account> {
        let mut op = self.begin(ctx, Source::Sso, "GetAccount", true, json!({"accountId": account_id})).await?;
        let result = async {
            let reach = self.my_reach(&mut op.tx, user).await?;
            reach.accounts.get(account_id).cloned().ok_or_else(|| Error::not_found(ResourceType::Account, account_id))
        }
        .await;
        op.finish(result).await
    }

    /// ListAccountRoles: the permission sets the user has in the account, by name.
    pub async fn list_my_account_roles(&self, ctx: &Ctx, user: &User, account_id: &str, page: &Page) -> Result<Paged<String>> {
        let mut op = self.begin(ctx, Source::Sso, "ListAccountRoles", true, json!({"accountId": account_id})).await?;
        let result = async {
            let reach = self.my_reach(&mut op.tx, user).await?;
            let Some(roles) = reach.roles.get(account_id) else { return Ok(Paged { items: vec![], next: None }) };
            let after = page.after.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
            Ok(page_of(roles.range::<str, _>((after, Bound::Unbounded)).cloned(), page.limit, |n| n.clone()))
        }
        .await;
        op.finish(result).await
    }

    /// A session of the permission set's role in the management account: a temporary Gatehouse
    /// key holding the set's policies that Gatehouse knows (AWS managed ones it has built in, and
    /// the inline policy), for the set's session duration.
    async fn management_role_session(&self, tx: &mut Box<dyn Tx>, user: &User, ps: &PermissionSet) -> Result<NewAccessKey> {
        let managed: Vec<String> = ps
            .policies
            .managed
            .iter()
            .map(|arn| super::permission_sets::managed_policy_name(arn).to_string())
            .filter(|name| gatehouse_policy::managed::policy(name).is_some())
            .collect();
        let inline: Vec<String> = ps.policies.inline.iter().cloned().collect();
        let session = format!("{}/{}", super::permission_sets::role_name(ps), user.profile.user_name);
        super::access_keys::insert_role_session(self, tx, &session, managed, inline, i64::from(ps.session_minutes) * 60).await
    }

    /// The permission set named `role` that the user holds in the account, or ForbiddenException.
    async fn find_my_role(&self, tx: &mut Box<dyn Tx>, user: &User, account_id: &str, role: &str) -> Result<PermissionSet> {
        if tx.get_account(account_id).await?.is_none() {
            return Err(Error::not_found(ResourceType::Account, account_id));
        }
        for a in self.my_assignments(tx, user, Some(account_id)).await? {
            if let Some(ps) = tx.get_permission_set(&a.permission_set_id).await?
                && ps.name == role
            {
                return Ok(ps);
            }
        }
        Err(forbidden(account_id, role))
    }

    /// The AWS Management Console of an account as `role`: an IdP-initiated Response for the
    /// account's AWS sign-in SAML endpoint, with the permission set's relay state.
    pub async fn console_sign_in(&self, ctx: &Ctx, user: &User, account_id: &str, role: &str) -> Result<ConsoleSignIn> {
        let request = json!({"accountId": account_id, "roleName": role});
        let mut op = self.begin(ctx, Source::Sso, "Federate", true, request).await?;
        op.record_as_write();
        let result = async {
            let ps = self.find_my_role(&mut op.tx, user, account_id, role).await?;
            if account_id == self.instance()?.management_account_id {
                let key = self.management_role_session(&mut op.tx, user, &ps).await?;
                op.respond(json!({"console": "gatehouse", "accessKeyId": key.info.access_key_id}));
                return Ok(ConsoleSignIn::Gatehouse {
                    access_key_id: key.info.access_key_id.clone(),
                    session_token: key.session_token.unwrap_or_default(),
                    expiration: key.info.expires_at.unwrap_or_else(|| self.clock.now()),
                    relay_state: ps.relay_state.clone(),
                });
            }
            let conn = self.connection_of(&mut op.tx, account_id).await?;
            let partition = conn.partition().to_string();
            let provider_arn = format!("arn:{partition}:iam::{account_id}:saml-provider/{}", self.aws_saml_provider_name()?);
            let role_arn = format!(
                "arn:{partition}:iam::{account_id}:role{}{}",
                super::permission_sets::ROLE_PATH,
                super::permission_sets::role_name(&ps)
            );
            let tags = self.principal_tags(&mut op.tx, user).await?;
            let saml_response =
                self.aws_assertion(user, &role_arn, &provider_arn, conn.saml_endpoint(), &partition, ps.session_minutes, &tags).await?;
            op.respond(json!({"roleArn": role_arn, "destination": conn.saml_endpoint()}));
            Ok(ConsoleSignIn::Aws { destination: conn.saml_endpoint().to_string(), saml_response, relay_state: ps.relay_state.clone() })
        }
        .await;
        op.finish(result).await
    }

    /// GetRoleCredentials for `role` (a permission set's name) in the account.
    pub async fn get_role_credentials(&self, ctx: &Ctx, user: &User, account_id: &str, role: &str) -> Result<RoleCredentials> {
        let request = json!({"accountId": account_id, "roleName": role});
        let mut op = self.begin(ctx, Source::Sso, "GetRoleCredentials", false, request).await?;
        let result = async {
            let ps = self.find_my_role(&mut op.tx, user, account_id, role).await?;
            if account_id == self.instance()?.management_account_id {
                let key = self.management_role_session(&mut op.tx, user, &ps).await?;
                op.respond(json!({"roleCredentials": {"accessKeyId": key.info.access_key_id}}));
                return Ok(RoleCredentials {
                    access_key_id: key.info.access_key_id.clone(),
                    secret_access_key: key.secret_access_key.to_string(),
                    session_token: key.session_token.as_deref().map(|t| t.to_string()).unwrap_or_default(),
                    expiration: key.info.expires_at.unwrap_or_else(|| self.clock.now()),
                });
            }
            let role_name = super::permission_sets::role_name(&ps);
            let (target, conn) = self.target_of(&mut op.tx, account_id).await.map_err(Error::conflict)?;
            let partition = conn.partition().to_string();
            let provider_arn = format!("arn:{partition}:iam::{account_id}:saml-provider/{}", self.aws_saml_provider_name()?);
            let role_arn = format!("arn:{partition}:iam::{account_id}:role{}{role_name}", super::permission_sets::ROLE_PATH);
            let tags = self.principal_tags(&mut op.tx, user).await?;
            let assertion =
                self.aws_assertion(user, &role_arn, &provider_arn, conn.saml_endpoint(), &partition, ps.session_minutes, &tags).await?;
            let creds = self
                .iam_gateway()?
                .assume_role_with_saml(&target, &role_arn, &provider_arn, &assertion, (ps.session_minutes * 60) as i32)
                .await
                .map_err(|e| Error::conflict(e.0))?;
            op.respond(json!({"roleCredentials": {"accessKeyId": creds.credentials.access_key_id}}));
            Ok(RoleCredentials {
                access_key_id: creds.credentials.access_key_id,
                secret_access_key: creds.credentials.secret_access_key,
                session_token: creds.credentials.session_token.unwrap_or_default(),
                expiration: creds.expiration,
            })
        }
        .await;
        op.finish(result).await
    }

    /// A SAML Response for AWS (base64): Role, RoleSessionName, SessionDuration and a
    /// PrincipalTag per attribute for access control, signed with the AWS accounts' certificate.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn aws_assertion(
        &self,
        user: &User,
        role_arn: &str,
        provider_arn: &str,
        saml_endpoint: &str,
        partition: &str,
        session_minutes: u32,
        tags: &[(String, String)],
    ) -> Result<String> {
        use gatehouse_saml::response::{Attribute, NameId, ResponseSpec, SignWhat};
        let certs = self.aws_signing_certificates().await?;
        let cert = certs.iter().find(|c| c.active).or(certs.first()).ok_or_else(|| Error::internal("no AWS signing certificate"))?;
        let signer = self.signer_of(cert)?;
        let now = self.clock.now();
        let attr = |name: &str, value: String| Attribute {
            name: format!("https://aws.amazon.com/SAML/Attributes/{name}"),
            name_format: "urn:oasis:names:tc:SAML:2.0:attrname-format:uri".into(),
            values: vec![value],
        };
        let spec = ResponseSpec {
            issuer: self.aws_idp_entity_id(),
            acs_url: saml_endpoint.to_string(),
            audience: aws_audience(partition).to_string(),
            in_response_to: None,
            name_id: NameId { value: user.user_id.clone(), format: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".into() },
            attributes: [
                attr("Role", format!("{role_arn},{provider_arn}")),
                attr("RoleSessionName", user.profile.user_name.clone()),
                attr("SessionDuration", (session_minutes * 60).to_string()),
            ]
            .into_iter()
            .chain(tags.iter().map(|(k, v)| attr(&format!("PrincipalTag:{k}"), v.clone())))
            .collect(),
            now,
            not_before: now - chrono::Duration::minutes(1),
            not_on_or_after: now + chrono::Duration::minutes(5),
            authn_instant: now,
            session_index: crate::ids::new_uuid(),
            sign: SignWhat::Response,
        };
        let built = spec.build(&signer).map_err(|e| Error::internal(format!("signing the assertion for AWS: {e}")))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(built.xml))
    }
}
