//! Tags on the instance and on permission sets (sso-admin TagResource, UntagResource,
//! ListTagsForResource): at most 50 per resource, keys unique and not starting with `aws:`.

use serde_json::json;

use super::super::Services;
use super::super::op::Source;
use super::super::principal::Ctx;
use crate::error::{Error, ResourceType, Result};
use crate::model::Tag;
use crate::store::Tx;

pub const MAX_TAGS: usize = 50;

pub(super) fn check_tags(tags: &[Tag]) -> Result<()> {
    for (i, t) in tags.iter().enumerate() {
        if t.key.is_empty() || t.key.chars().count() > 128 {
            return Err(Error::validation(format!("Tags[{i}].Key"), "must be 1 to 128 characters"));
        }
        if t.key.to_lowercase().starts_with("aws:") {
            return Err(Error::validation(format!("Tags[{i}].Key"), format!("'{}': the aws: prefix is reserved", t.key)));
        }
        if t.value.chars().count() > 256 {
            return Err(Error::validation(format!("Tags[{i}].Value"), "must be at most 256 characters"));
        }
        if tags[..i].iter().any(|o| o.key == t.key) {
            return Err(Error::validation(format!("Tags[{i}].Key"), format!("'{}' appears twice", t.key)));
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(Error::QuotaExceeded { message: format!("A resource can have at most {MAX_TAGS} tags") });
    }
    Ok(())
}

fn tag_list(tags: &[Tag]) -> serde_json::Value {
    json!(tags.iter().map(|t| json!({"key": t.key, "value": t.value})).collect::<Vec<_>>())
}

impl Services {
    /// The instance or a permission set of it.
    async fn require_taggable(&self, tx: &mut Box<dyn Tx>, arn: &str) -> Result<()> {
        if arn == self.instance()?.instance_arn {
            return Ok(());
        }
        match self.permission_set_id_of(arn) {
            Ok(id) => self.load_permission_set(tx, &id).await.map(|_| ()),
            Err(_) => Err(Error::not_found(ResourceType::PermissionSet, arn)),
        }
    }

    pub async fn tag_resource(&self, ctx: &Ctx, arn: &str, tags: Vec<Tag>) -> Result<()> {
        let mut op = self.begin(ctx, Source::Sso, "TagResource", false, json!({"resourceArn": arn, "tags": tag_list(&tags)})).await?;
        let result = async {
            op.authorize(arn)?;
            self.require_taggable(&mut op.tx, arn).await?;
            let mut merged = op.tx.list_tags(arn).await?;
            for t in &tags {
                merged.retain(|o| o.key != t.key);
            }
            check_tags(&tags)?;
            if merged.len() + tags.len() > MAX_TAGS {
                return Err(Error::QuotaExceeded { message: format!("A resource can have at most {MAX_TAGS} tags") });
            }
            op.tx.put_tags(arn, &tags).await?;
            Ok(())
        }
        .await;
        op.finish(result).await
    }

    pub async fn untag_resource(&self, ctx: &Ctx, arn: &str, keys: Vec<String>) -> Result<()> {
        let mut op = self.begin(ctx, Source::Sso, "UntagResource", false, json!({"resourceArn": arn, "tagKeys": keys})).await?;
        let result = async {
            op.authorize(arn)?;
            self.require_taggable(&mut op.tx, arn).await?;
            if !keys.is_empty() {
                op.tx.delete_tags(arn, &keys).await?;
            }
            Ok(())
        }
        .await;
        op.finish(result).await
    }

    /// The console's "Edit tags → Save changes": the resource's tags become exactly `tags`
    /// (removed keys untagged, the rest put), in one operation.
    pub async fn replace_tags(&self, ctx: &Ctx, arn: &str, tags: Vec<Tag>) -> Result<()> {
        let mut op = self.begin(ctx, Source::Sso, "TagResource", false, json!({"resourceArn": arn, "tags": tag_list(&tags)})).await?;
        let result = async {
            op.authorize(arn)?;
            self.require_taggable(&mut op.tx, arn).await?;
            check_tags(&tags)?;
            let removed: Vec<String> =
                op.tx.list_tags(arn).await?.into_iter().map(|t| t.key).filter(|k| !tags.iter().any(|t| t.key == *k)).collect();
            if !removed.is_empty() {
                op.authorize_also("UntagResource", arn)?;
                op.tx.delete_tags(arn, &removed).await?;
                op.additional("untaggedKeys", json!(removed));
            }
            op.tx.put_tags(arn, &tags).await?;
            Ok(())
        }
        .await;
        op.finish(result).await
    }

    pub async fn list_tags_for_resource(&self, ctx: &Ctx, arn: &str) -> Result<Vec<Tag>> {
        let mut op = self.begin(ctx, Source::Sso, "ListTagsForResource", true, json!({"resourceArn": arn})).await?;
        let result = async {
            op.authorize(arn)?;
            self.require_taggable(&mut op.tx, arn).await?;
            Ok(op.tx.list_tags(arn).await?)
        }
        .await;
        op.finish(result).await
    }
}
