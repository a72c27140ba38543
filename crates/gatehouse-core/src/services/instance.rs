//! sso-admin's view of the one Identity Center instance.

use serde_json::json;

use super::Services;
use super::op::Source;
use super::principal::Ctx;
use crate::error::Result;
use crate::model::Instance;

impl Services {
    /// ListInstances and DescribeInstance: the instance, if the caller may see it.
    pub async fn read_instance(&self, ctx: &Ctx, operation: &'static str) -> Result<Instance> {
        let op = self.begin(ctx, Source::Sso, operation, true, json!({})).await?;
        let result = self.instance().cloned().and_then(|i| op.authorize(&i.instance_arn).map(|_| i));
        op.finish(result).await
    }
}
