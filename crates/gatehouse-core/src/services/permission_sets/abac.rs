//! Attributes for access control: keys passed as session tags, each from one identity-store
//! attribute (the guide's `${path:…}` list). Stored as one setting; a configuration exists or not.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::super::Services;
use super::super::op::Source;
use super::super::principal::Ctx;
use crate::error::{Error, ResourceType, Result};
use crate::model::AccessControlAttribute;

const SETTING: &str = "access-control-attributes";
/// Session tags per role session (STS's limit).
pub const MAX_ATTRIBUTES: usize = 50;

/// The guide's "Supported external identity provider attributes", usable as sources.
pub const SUPPORTED_ATTRIBUTE_SOURCES: &[&str] = &[
    "${path:userName}",
    "${path:name.familyName}",
    "${path:name.givenName}",
    "${path:displayName}",
    "${path:nickName}",
    "${path:emails[primary eq true].value}",
    "${path:addresses[type eq \"work\"].streetAddress}",
    "${path:addresses[type eq \"work\"].locality}",
    "${path:addresses[type eq \"work\"].region}",
    "${path:addresses[type eq \"work\"].postalCode}",
    "${path:addresses[type eq \"work\"].country}",
    "${path:addresses[type eq \"work\"].formatted}",
    "${path:phoneNumbers[type eq \"work\"].value}",
    "${path:userType}",
    "${path:title}",
    "${path:locale}",
    "${path:timezone}",
    "${path:enterprise.employeeNumber}",
    "${path:enterprise.costCenter}",
    "${path:enterprise.organization}",
    "${path:enterprise.division}",
    "${path:enterprise.department}",
    "${path:enterprise.manager.value}",
];

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    attributes: Vec<AccessControlAttribute>,
}

fn check(attributes: &[AccessControlAttribute]) -> Result<()> {
    if attributes.len() > MAX_ATTRIBUTES {
        return Err(Error::validation("AccessControlAttributes", format!("at most {MAX_ATTRIBUTES} attributes")));
    }
    for (i, a) in attributes.iter().enumerate() {
        let field = format!("AccessControlAttributes[{i}]");
        if a.key.is_empty() || a.key.chars().count() > 128 {
            return Err(Error::validation(format!("{field}.Key"), "must be 1 to 128 characters"));
        }
        if attributes[..i].iter().any(|o| o.key.eq_ignore_ascii_case(&a.key)) {
            return Err(Error::validation(format!("{field}.Key"), format!("'{}' appears twice", a.key)));
        }
        match a.sources.as_slice() {
            [source] if SUPPORTED_ATTRIBUTE_SOURCES.contains(&source.as_str()) => {}
            [source] => {
                return Err(Error::validation(
                    format!("{field}.Value.Source"),
                    format!("'{source}' is not a supported attribute; use one of {}", SUPPORTED_ATTRIBUTE_SOURCES.join(", ")),
                ));
            }
            _ => return Err(Error::validation(format!("{field}.Value.Source"), "exactly one source per key")),
        }
    }
    Ok(())
}

/// The value of a supported `${path:…}` source for a user; None when the user has none.
pub fn attribute_value(user: &crate::model::User, source: &str) -> Option<String> {
    let p = &user.profile;
    let work = |kind: &str| p.addresses.iter().find(|a| a.kind.as_deref() == Some(kind));
    let v = match source {
        "${path:userName}" => Some(p.user_name.clone()),
        "${path:name.familyName}" => p.name.family_name.clone(),
        "${path:name.givenName}" => p.name.given_name.clone(),
        "${path:displayName}" => p.display_name.clone(),
        "${path:nickName}" => p.nick_name.clone(),
        "${path:emails[primary eq true].value}" => p.primary_email().map(str::to_string),
        "${path:addresses[type eq \"work\"].streetAddress}" => work("work").and_then(|a| a.street_address.clone()),
        "${path:addresses[type eq \"work\"].locality}" => work("work").and_then(|a| a.locality.clone()),
        "${path:addresses[type eq \"work\"].region}" => work("work").and_then(|a| a.region.clone()),
        "${path:addresses[type eq \"work\"].postalCode}" => work("work").and_then(|a| a.postal_code.clone()),
        "${path:addresses[type eq \"work\"].country}" => work("work").and_then(|a| a.country.clone()),
        "${path:addresses[type eq \"work\"].formatted}" => work("work").and_then(|a| a.formatted.clone()),
        "${path:phoneNumbers[type eq \"work\"].value}" => {
            p.phone_numbers.iter().find(|n| n.kind.as_deref() == Some("work")).and_then(|n| n.value.clone())
        }
        "${path:userType}" => p.user_type.clone(),
        "${path:title}" => p.title.clone(),
        "${path:locale}" => p.locale.clone(),
        "${path:timezone}" => p.timezone.clone(),
        "${path:enterprise.employeeNumber}" => p.enterprise.employee_number.clone(),
        "${path:enterprise.costCenter}" => p.enterprise.cost_center.clone(),
        "${path:enterprise.organization}" => p.enterprise.organization.clone(),
        "${path:enterprise.division}" => p.enterprise.division.clone(),
        "${path:enterprise.department}" => p.enterprise.department.clone(),
        "${path:enterprise.manager.value}" => p.enterprise.manager.clone(),
        _ => None,
    };
    v.filter(|v| !v.is_empty())
}

impl Services {
    /// The session tags a user carries into AWS accounts: (key, value) for each configured
    /// attribute the user has a value for, and those the external IdP sent at sign-in.
    pub(crate) async fn principal_tags(
        &self,
        tx: &mut Box<dyn crate::store::Tx>,
        user: &crate::model::User,
    ) -> Result<Vec<(String, String)>> {
        let mut tags = match tx.get_setting(SETTING).await?.filter(|v| !v.is_empty()) {
            Some(text) => {
                let stored: Stored = serde_json::from_str(&text).map_err(|e| Error::internal(format!("stored ABAC configuration: {e}")))?;
                stored
                    .attributes
                    .iter()
                    .filter_map(|a| a.sources.first().and_then(|s| attribute_value(user, s)).map(|v| (a.key.clone(), v)))
                    .collect()
            }
            None => Vec::new(),
        };
        // The guide: attributes the external IdP sends are always passed, and win over the same
        // key configured here — while that IdP is the identity source.
        if self.identity_source_in(tx).await?.kind == crate::model::IdentitySourceKind::ExternalIdp {
            for (key, value) in tx.get_idp_tags(&user.user_id).await? {
                match tags.iter_mut().find(|(k, _)| *k == key) {
                    Some(tag) => tag.1 = value,
                    None => tags.push((key, value)),
                }
            }
        }
        Ok(tags)
    }

    async fn write_abac(&self, ctx: &Ctx, name: &'static str, attributes: Vec<AccessControlAttribute>, exists: bool) -> Result<()> {
        let request =
            json!({"accessControlAttributes": attributes.iter().map(|a| json!({"key": a.key, "source": a.sources})).collect::<Vec<_>>()});
        let mut op = self.begin(ctx, Source::Sso, name, false, request).await?;
        let result = async {
            op.authorize(&self.instance()?.instance_arn)?;
            check(&attributes)?;
            let current = op.tx.get_setting(SETTING).await?.filter(|v| !v.is_empty());
            match (current.is_some(), exists) {
                (true, false) => return Err(Error::conflict("Attributes for access control are already enabled: update them instead")),
                (false, true) => {
                    return Err(Error::not_found(ResourceType::AccessControlConfiguration, self.instance()?.instance_arn.clone()));
                }
                _ => {}
            }
            let text = serde_json::to_string(&Stored { attributes }).map_err(|e| Error::internal(e.to_string()))?;
            op.tx.put_setting(SETTING, &text, self.clock.now()).await?;
            Ok(())
        }
        .await;
        op.finish(result).await
    }

    pub async fn create_access_control_attributes(&self, ctx: &Ctx, attributes: Vec<AccessControlAttribute>) -> Result<()> {
        self.write_abac(ctx, "CreateInstanceAccessControlAttributeConfiguration", attributes, false).await
    }

    pub async fn update_access_control_attributes(&self, ctx: &Ctx, attributes: Vec<AccessControlAttribute>) -> Result<()> {
        self.write_abac(ctx, "UpdateInstanceAccessControlAttributeConfiguration", attributes, true).await
    }

    /// The configuration; ResourceNotFound when attributes for access control are disabled.
    pub async fn describe_access_control_attributes(&self, ctx: &Ctx) -> Result<Vec<AccessControlAttribute>> {
        let mut op = self.begin(ctx, Source::Sso, "DescribeInstanceAccessControlAttributeConfiguration", true, json!({})).await?;
        let result = async {
            op.authorize(&self.instance()?.instance_arn)?;
            match op.tx.get_setting(SETTING).await?.filter(|v| !v.is_empty()) {
                Some(text) => {
                    let stored: Stored =
                        serde_json::from_str(&text).map_err(|e| Error::internal(format!("stored ABAC configuration: {e}")))?;
                    Ok(stored.attributes)
                }
                None => Err(Error::not_found(ResourceType::AccessControlConfiguration, self.instance()?.instance_arn.clone())),
            }
        }
        .await;
        op.finish(result).await
    }

    /// Disable: the guide — every configured attribute is deleted.
    pub async fn delete_access_control_attributes(&self, ctx: &Ctx) -> Result<()> {
        let mut op = self.begin(ctx, Source::Sso, "DeleteInstanceAccessControlAttributeConfiguration", false, json!({})).await?;
        let result = async {
            op.authorize(&self.instance()?.instance_arn)?;
            if op.tx.get_setting(SETTING).await?.filter(|v| !v.is_empty()).is_none() {
                return Err(Error::not_found(ResourceType::AccessControlConfiguration, self.instance()?.instance_arn.clone()));
            }
            op.tx.put_setting(SETTING, "", self.clock.now()).await?;
            Ok(())
        }
        .await;
        op.finish(result).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(key: &str, source: &str) -> AccessControlAttribute {
        AccessControlAttribute { key: key.into(), sources: vec![source.into()] }
    }

    #[test]
    fn sources_come_from_the_guides_list() {
        assert!(check(&[attr("Department", "${path:enterprise.department}"), attr("CostCenter", "${path:enterprise.costCenter}")]).is_ok());
        assert!(check(&[attr("Bad", "${path:password}")]).is_err());
        assert!(check(&[attr("Dup", "${path:title}"), attr("dup", "${path:locale}")]).is_err());
        let many: Vec<_> = (0..51).map(|i| attr(&format!("k{i}"), "${path:title}")).collect();
        assert!(check(&many).is_err());
    }
}
