//! How Gatehouse reaches each AWS account: a default connection (endpoints and the credentials
//! of the organization's management account, which assume `OrganizationAccountAccessRole` in
//! each member) and per-account overrides (their own credentials, another role, another
//! partition or endpoint). Also the account's SAML identity provider: repair and remove.

use base64::Engine;
use serde_json::json;

use super::super::Services;
use super::super::op::{Op, Source};
use super::super::principal::Ctx;
use crate::error::{Error, ResourceType, Result};
use crate::iam::{AccountTarget, Credentials};
use crate::model::{AccountConnection, AppCertificate};
use crate::store::Tx;

/// The scope of the certificates that sign for AWS accounts (beside applications' own).
pub(crate) const AWS_SIGNING_SCOPE: &str = "aws-accounts";
const DEFAULT_KEY: &str = "default";

fn setting_name(account: &str) -> String {
    format!("aws-connection/{account}")
}

/// A whole connection as an administrator sets it; the secret is sealed before it is stored.
#[derive(Debug, Clone, Default)]
pub struct ConnectionChange {
    pub iam_endpoint: Option<String>,
    pub sts_endpoint: Option<String>,
    pub region: Option<String>,
    pub partition: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub role_arn: Option<String>,
    pub saml_endpoint: Option<String>,
}

fn default_region(partition: &str) -> &'static str {
    match partition {
        "aws-cn" => "cn-north-1",
        "aws-us-gov" => "us-gov-west-1",
        _ => "us-east-1",
    }
}

/// An account's own settings over the default connection's.
fn merged(own: &AccountConnection, default: &AccountConnection) -> AccountConnection {
    AccountConnection {
        iam_endpoint: own.iam_endpoint.clone().or_else(|| default.iam_endpoint.clone()),
        sts_endpoint: own.sts_endpoint.clone().or_else(|| default.sts_endpoint.clone()),
        region: own.region.clone().or_else(|| default.region.clone()),
        partition: own.partition.clone().or_else(|| default.partition.clone()),
        access_key_id: own.access_key_id.clone(),
        sealed_secret: own.sealed_secret.clone(),
        role_arn: own.role_arn.clone(),
        saml_endpoint: own.saml_endpoint.clone().or_else(|| default.saml_endpoint.clone()),
    }
}

impl Services {
    /// Use this gateway for IAM and STS calls (the binary passes the AWS SDK's).
    pub fn set_iam_gateway(&self, gateway: std::sync::Arc<dyn crate::iam::IamGateway>) {
        let _ = self.iam.set(gateway);
    }

    pub(crate) fn iam_gateway(&self) -> Result<&std::sync::Arc<dyn crate::iam::IamGateway>> {
        self.iam.get().ok_or_else(|| Error::internal("this node has no IAM gateway"))
    }

    async fn stored_connection(&self, tx: &mut Box<dyn Tx>, key: &str) -> Result<AccountConnection> {
        match tx.get_setting(&setting_name(key)).await?.filter(|t| !t.is_empty()) {
            Some(text) => serde_json::from_str(&text).map_err(|e| Error::internal(format!("stored connection of {key}: {e}"))),
            None => Ok(AccountConnection::default()),
        }
    }

    /// The account's effective connection (its own over the default).
    pub(crate) async fn connection_of(&self, tx: &mut Box<dyn Tx>, account_id: &str) -> Result<AccountConnection> {
        let own = self.stored_connection(tx, account_id).await?;
        let default = self.stored_connection(tx, DEFAULT_KEY).await?;
        Ok(merged(&own, &default))
    }

    /// Where and as whom to call the account, or a message saying what is missing.
    pub(crate) async fn target_of(
        &self,
        tx: &mut Box<dyn Tx>,
        account_id: &str,
    ) -> std::result::Result<(AccountTarget, AccountConnection), String> {
        let own = self.stored_connection(tx, account_id).await.map_err(|e| e.to_string())?;
        let default = self.stored_connection(tx, DEFAULT_KEY).await.map_err(|e| e.to_string())?;
        let conn = merged(&own, &default);
        let unseal = |sealed: &Option<String>| -> std::result::Result<String, String> {
            let sealed = sealed.as_ref().ok_or("the connection has an access key id but no secret")?;
            self.key
                .decrypt_string(sealed)
                .map(|s| s.to_string())
                .map_err(|_| "the connection's secret cannot be unsealed with this master key".to_string())
        };
        let partition = conn.partition().to_string();
        let region = conn.region.clone().unwrap_or_else(|| default_region(&partition).to_string());
        let (credentials, assume_role_arn) = if let Some(id) = &own.access_key_id {
            let c = Credentials { access_key_id: id.clone(), secret_access_key: unseal(&own.sealed_secret)?, session_token: None };
            (c, own.role_arn.clone())
        } else if let Some(id) = &default.access_key_id {
            let c = Credentials { access_key_id: id.clone(), secret_access_key: unseal(&default.sealed_secret)?, session_token: None };
            let role =
                own.role_arn.clone().unwrap_or_else(|| format!("arn:{partition}:iam::{account_id}:role/OrganizationAccountAccessRole"));
            (c, Some(role))
        } else {
            return Err(format!(
                "account {account_id} has no connection: give it credentials, or give the default connection the management \
                 account's credentials (`gatehouse account connect`)"
            ));
        };
        let target = AccountTarget {
            account_id: account_id.to_string(),
            partition,
            region,
            iam_endpoint: conn.iam_endpoint.clone(),
            sts_endpoint: conn.sts_endpoint.clone(),
            credentials,
            assume_role_arn,
        };
        Ok((target, conn))
    }

    /// Authorize on the account (the instance for the default connection) and check it exists.
    async fn check_connection_target(&self, op: &mut Op<'_>, account_id: Option<&str>) -> Result<()> {
        let resource = match account_id {
            Some(id) => crate::ids::account_arn(id),
            None => self.instance()?.instance_arn.clone(),
        };
        op.authorize(&resource)?;
        if let Some(id) = account_id
            && op.tx.get_account(id).await?.is_none()
        {
            return Err(Error::not_found(ResourceType::Account, id));
        }
        Ok(())
    }

    /// Set an account's connection (or, with None, the default one), replacing what was there.
    pub async fn put_account_connection(&self, ctx: &Ctx, account_id: Option<&str>, change: ConnectionChange) -> Result<()> {
        let key = account_id.unwrap_or(DEFAULT_KEY).to_string();
        let request = json!({"accountId": account_id, "iamEndpoint": change.iam_endpoint, "stsEndpoint": change.sts_endpoint,
                             "region": change.region, "partition": change.partition, "accessKeyId": change.access_key_id,
                             "roleArn": change.role_arn, "samlEndpoint": change.saml_endpoint});
        let mut op = self.begin(ctx, Source::Sso, "PutAccountConnection", false, request).await?;
        let result = async {
            self.check_connection_target(&mut op, account_id).await?;
            for (field, url) in
                [("IamEndpoint", &change.iam_endpoint), ("StsEndpoint", &change.sts_endpoint), ("SamlEndpoint", &change.saml_endpoint)]
            {
                if let Some(u) = url {
                    super::super::applications::check_url(field, u)?;
                }
            }
            if let Some(p) = &change.partition
                && !(p == "aws" || p.starts_with("aws-") && p.len() <= 12 && p[4..].chars().all(|c| c.is_ascii_lowercase()))
            {
                return Err(Error::validation("Partition", format!("'{p}' is not an AWS partition (aws, aws-cn, aws-us-gov, …)")));
            }
            if change.access_key_id.is_some() != change.secret_access_key.is_some() {
                return Err(Error::validation("SecretAccessKey", "give the access key id and its secret together"));
            }
            if let Some(r) = &change.role_arn
                && !(r.starts_with("arn:") && r.contains(":role/"))
            {
                return Err(Error::validation("RoleArn", format!("'{r}' is not an IAM role ARN")));
            }
            let conn = AccountConnection {
                iam_endpoint: change.iam_endpoint,
                sts_endpoint: change.sts_endpoint,
                region: change.region,
                partition: change.partition,
                access_key_id: change.access_key_id,
                sealed_secret: change.secret_access_key.map(|s| self.key.encrypt_str(&s)),
                role_arn: change.role_arn,
                saml_endpoint: change.saml_endpoint,
            };
            let text = serde_json::to_string(&conn).map_err(|e| Error::internal(e.to_string()))?;
            op.tx.put_setting(&setting_name(&key), &text, self.clock.now()).await?;
            Ok(())
        }
        .await;
        op.finish(result).await
    }

    /// The connection as stored (None: the default one); the secret is never returned.
    pub async fn describe_account_connection(&self, ctx: &Ctx, account_id: Option<&str>) -> Result<AccountConnection> {
        let mut op = self.begin(ctx, Source::Sso, "DescribeAccountConnection", true, json!({"accountId": account_id})).await?;
        let result = async {
            self.check_connection_target(&mut op, account_id).await?;
            let mut conn = self.stored_connection(&mut op.tx, account_id.unwrap_or(DEFAULT_KEY)).await?;
            conn.sealed_secret = None;
            Ok(conn)
        }
        .await;
        op.finish(result).await
    }

    /// This IdP as AWS accounts know it.
    pub fn aws_idp_entity_id(&self) -> String {
        format!("{}/saml/aws", self.config.public_url.trim_end_matches('/'))
    }

    /// The SAML provider's name in every account: `AWSSSO_<instance>_DO_NOT_DELETE`.
    pub fn aws_saml_provider_name(&self) -> Result<String> {
        let instance = self.instance()?.instance_id();
        Ok(format!("AWSSSO_{}_DO_NOT_DELETE", instance.trim_start_matches("ssoins-")))
    }

    /// The certificates that sign for AWS accounts, made on first use (5 years, RSA-2048).
    pub(crate) async fn aws_signing_certificates(&self) -> Result<Vec<AppCertificate>> {
        let mut tx = self.store.begin_read().await?;
        let certs = tx.list_app_certificates(AWS_SIGNING_SCOPE).await?;
        tx.rollback().await?;
        if !certs.is_empty() {
            return Ok(certs);
        }
        let cert = self
            .new_certificate(
                AWS_SIGNING_SCOPE,
                "AWS accounts",
                60,
                gatehouse_saml::KeySize::Rsa2048,
                gatehouse_saml::SignatureAlgorithm::Sha256,
                true,
            )
            .await?;
        let mut tx = self.store.begin().await?;
        // Another node may have made one meanwhile: keep the first.
        if tx.list_app_certificates(AWS_SIGNING_SCOPE).await?.is_empty() {
            tx.insert_app_certificate(&cert).await?;
        }
        let certs = tx.list_app_certificates(AWS_SIGNING_SCOPE).await?;
        tx.commit().await?;
        Ok(certs)
    }

    /// The IdP metadata each account's SAML provider carries.
    pub async fn aws_idp_metadata(&self) -> Result<String> {
        if let Some(m) = self.aws_metadata_cache.get("aws") {
            return Ok(m);
        }
        let certs = self.aws_signing_certificates().await?;
        let b64 = certs
            .iter()
            .map(|c| gatehouse_saml::cert::pem_to_der(&c.certificate_pem).map(|d| base64::engine::general_purpose::STANDARD.encode(d)))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::internal(e.to_string()))?;
        let entity = self.aws_idp_entity_id();
        let metadata = gatehouse_saml::metadata::idp_metadata(&entity, &format!("{entity}/sso"), &b64, false);
        self.aws_metadata_cache.put("aws", metadata.clone());
        Ok(metadata)
    }

    /// Re-create or refresh the account's SAML identity provider ("repair"), or delete it
    /// ("remove"): synchronous, one account at a time as the guide's quota says.
    pub async fn repair_identity_provider(&self, ctx: &Ctx, account_id: &str) -> Result<String> {
        self.identity_provider_action(ctx, account_id, true).await
    }

    pub async fn remove_identity_provider(&self, ctx: &Ctx, account_id: &str) -> Result<String> {
        self.identity_provider_action(ctx, account_id, false).await
    }

    async fn identity_provider_action(&self, ctx: &Ctx, account_id: &str, repair: bool) -> Result<String> {
        let name = if repair { "RepairIdentityProvider" } else { "RemoveIdentityProvider" };
        // A read transaction: nothing is stored, and IAM calls must not hold the write lock.
        let mut op = self.begin(ctx, Source::Sso, name, true, json!({"accountId": account_id})).await?;
        op.record_as_write();
        let result = async {
            op.authorize(&crate::ids::account_arn(account_id))?;
            if op.tx.get_account(account_id).await?.is_none() {
                return Err(Error::not_found(ResourceType::Account, account_id));
            }
            if account_id == self.instance()?.management_account_id {
                return Err(Error::conflict("The management account is Gatehouse's own: it has no IAM identity provider"));
            }
            let (target, conn) = self.target_of(&mut op.tx, account_id).await.map_err(|m| Error::validation("AccountId", m))?;
            let provider = self.aws_saml_provider_name()?;
            let metadata = if repair { Some(self.aws_idp_metadata().await?) } else { None };
            let iam = self.iam_gateway()?.open(&target).await.map_err(|e| Error::conflict(e.0))?;
            let arn = match metadata {
                Some(xml) => iam.ensure_saml_provider(&provider, &xml).await,
                None => {
                    let arn = format!("arn:{}:iam::{account_id}:saml-provider/{provider}", conn.partition());
                    iam.delete_saml_provider(&arn).await.map(|_| arn)
                }
            }
            .map_err(|e| Error::conflict(e.0))?;
            // Provisioning must look again at what is in the account.
            self.aws_provider_cache.clear();
            op.respond(json!({"samlProviderArn": arn}));
            Ok(arn)
        }
        .await;
        op.finish(result).await
    }
}
