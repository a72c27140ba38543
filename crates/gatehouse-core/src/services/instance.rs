//! sso-admin's view of the one Identity Center instance.

use serde_json::json;

use super::Services;
use super::op::Source;
use super::principal::Ctx;
use crate::error::{Error, Result};
use crate::model::Instance;

const NAME_SETTING: &str = "instance-name";
const DEFAULT_NAME: &str = "Gatehouse";

impl Services {
    /// ListInstances and DescribeInstance: the instance, if the caller may see it (its name is
    /// read too: see [`Services::instance_name`]).
    pub async fn read_instance(&self, ctx: &Ctx, operation: &'static str) -> Result<Instance> {
        let mut op = self.begin(ctx, Source::Sso, operation, true, json!({})).await?;
        let result = async {
            let i = self.instance().cloned()?;
            op.authorize(&i.instance_arn)?;
            let name = op.tx.get_setting(NAME_SETTING).await?.filter(|n| !n.is_empty());
            *self.instance_name.lock().unwrap_or_else(|p| p.into_inner()) = name.unwrap_or_else(|| DEFAULT_NAME.to_string());
            Ok(i)
        }
        .await;
        op.finish(result).await
    }

    /// The instance's name as last read or set on this node.
    pub fn instance_name(&self) -> String {
        let name = self.instance_name.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if name.is_empty() { DEFAULT_NAME.to_string() } else { name }
    }

    /// UpdateInstance: its name (0–255 characters of `[\w+=,.@-]`; empty restores the default).
    pub async fn update_instance_name(&self, ctx: &Ctx, name: Option<String>) -> Result<()> {
        let mut op = self.begin(ctx, Source::Sso, "UpdateInstance", false, json!({"name": name})).await?;
        let result = async {
            op.authorize(&self.instance()?.instance_arn)?;
            if let Some(n) = &name {
                if n.chars().count() > 255 || !n.chars().all(|c| c.is_alphanumeric() || c == '_' || "+=,.@-".contains(c)) {
                    return Err(Error::validation("Name", "must be at most 255 characters of letters, digits and _+=,.@-"));
                }
                op.tx.put_setting(NAME_SETTING, n, self.clock.now()).await?;
                *self.instance_name.lock().unwrap_or_else(|p| p.into_inner()) = n.clone();
            }
            Ok(())
        }
        .await;
        op.finish(result).await
    }
}
