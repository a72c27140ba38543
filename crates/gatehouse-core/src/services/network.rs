//! The identity store's network configuration: UpdateIdentityStore writes it, DescribeIdentityStore
//! shows it, and every identity store API or SCIM request is admitted by it (model/network.rs).

use serde_json::json;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Services;
use super::op::Source;
use super::principal::{Ctx, PrincipalKind};
use crate::error::{Error, Result};
use crate::model::{NetworkConfiguration, parse_cidr};

const SETTING: &str = "identitystore.network";

/// How long a node trusts its copy: a change made on another node applies within this time.
const TTL: Duration = Duration::from_secs(5);

#[derive(Default)]
pub(crate) struct NetworkCache(Mutex<Option<(Option<NetworkConfiguration>, Instant)>>);

impl NetworkCache {
    pub(crate) fn clear(&self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// The ways into the identity store that the network configuration governs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    Api,
    Scim,
}

/// DescribeIdentityStore's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityStoreInfo {
    pub identity_store_id: String,
    pub identity_store_arn: String,
    pub network: Option<NetworkConfiguration>,
}

fn check_cidrs(field: &str, list: &[String]) -> Result<()> {
    for (i, c) in list.iter().enumerate() {
        if parse_cidr(c).is_none() {
            return Err(Error::validation(format!("NetworkConfiguration.{field}[{i}]"), "is not an IP address or CIDR range"));
        }
    }
    Ok(())
}

impl Services {
    pub async fn describe_identity_store(&self, ctx: &Ctx) -> Result<IdentityStoreInfo> {
        let identity_store_id = self.store_id()?;
        let identity_store_arn = self.identity_store_arn()?;
        let params = json!({"identityStoreId": identity_store_id});
        let mut op = self.begin(ctx, Source::IdentityStore, "DescribeIdentityStore", true, params).await?;
        let result = async {
            op.authorize(&identity_store_arn)?;
            let network = match op.tx.get_setting(SETTING).await? {
                Some(text) => Some(serde_json::from_str(&text).map_err(|e| Error::internal(e.to_string()))?),
                None => None,
            };
            Ok(IdentityStoreInfo { identity_store_id, identity_store_arn: identity_store_arn.clone(), network })
        }
        .await;
        op.finish(result).await
    }

    /// UpdateIdentityStore: replace the network configuration (absent: nothing changes).
    pub async fn update_identity_store(&self, ctx: &Ctx, network: Option<NetworkConfiguration>) -> Result<IdentityStoreInfo> {
        let identity_store_id = self.store_id()?;
        let identity_store_arn = self.identity_store_arn()?;
        let params = json!({"identityStoreId": identity_store_id, "networkConfiguration": network});
        let mut op = self.begin(ctx, Source::IdentityStore, "UpdateIdentityStore", false, params).await?;
        let result = async {
            op.authorize(&identity_store_arn)?;
            if let Some(n) = &network {
                check_cidrs("ApiAllowSourceIps", &n.api_allow_source_ips)?;
                check_cidrs("ScimAllowSourceIps", &n.scim_allow_source_ips)?;
                let text = serde_json::to_string(n).map_err(|e| Error::internal(e.to_string()))?;
                op.tx.put_setting(SETTING, &text, self.clock.now()).await?;
            }
            op.resource("AWS::IdentityStore::IdentityStore", identity_store_arn.clone());
            Ok(IdentityStoreInfo { identity_store_id, identity_store_arn: identity_store_arn.clone(), network: network.clone() })
        }
        .await;
        let result = op.finish(result).await;
        if result.is_ok() {
            *self.network_cache.0.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
        result
    }

    async fn network_configuration(&self) -> Result<Option<NetworkConfiguration>> {
        if let Some((n, at)) = self.network_cache.0.lock().unwrap_or_else(|p| p.into_inner()).as_ref()
            && at.elapsed() < TTL
        {
            return Ok(n.clone());
        }
        let mut tx = self.store.begin_read().await?;
        let text = tx.get_setting(SETTING).await?;
        tx.rollback().await?;
        let n: Option<NetworkConfiguration> = match text {
            Some(t) => Some(serde_json::from_str(&t).map_err(|e| Error::internal(e.to_string()))?),
            None => None,
        };
        *self.network_cache.0.lock().unwrap_or_else(|p| p.into_inner()) = Some((n.clone(), Instant::now()));
        Ok(n)
    }

    /// Admit a request to `operation` through `door` from the caller's address, or refuse it with
    /// an audited AccessDeniedException. Operators (the local CLI) are never refused: it is the way
    /// back in after a configuration that shuts everyone out.
    pub async fn admit_network(&self, ctx: &Ctx, door: Door, operation: &str) -> Result<()> {
        if matches!(ctx.principal.kind, PrincipalKind::Operator { .. }) {
            return Ok(());
        }
        let Some(network) = self.network_configuration().await? else { return Ok(()) };
        let ip: Option<IpAddr> = ctx.source_ip.parse().ok();
        let allowed = ip.is_some_and(|ip| match door {
            Door::Api => network.allows_api(ip),
            Door::Scim => network.allows_scim(ip),
        });
        if allowed {
            return Ok(());
        }
        let denied = Error::AccessDenied {
            message: format!(
                "User: {} is not authorized to perform: identitystore:{operation} from {} because of the identity store's network configuration",
                ctx.principal.arn, ctx.source_ip
            ),
        };
        let op = self.begin(ctx, Source::IdentityStore, operation.to_string(), true, json!({})).await?;
        op.finish(Err(denied)).await
    }
}
