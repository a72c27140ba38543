//! `AWSIdentityStore.*` operations, mapped onto the identity services. Only protocol work here:
//! member decoding, wire shapes, pagination tokens. Every rule lives in the services.

use chrono::{DateTime, Utc};
use gatehouse_core::Ctx;
use gatehouse_core::ids;
use gatehouse_core::model::{EnterpriseUser, ExternalId, Group, GroupProfile, GroupQuery, Membership, Page, User, UserProfile, UserQuery};
use gatehouse_core::services::{AlternateId, IdentityStoreInfo, UserChange};
use serde_json::{Value, json};

use super::attributes::{self, ENTERPRISE};
use super::{ApiError, page_args, paged};
use crate::AppState;

fn epoch(t: &DateTime<Utc>) -> f64 {
    t.timestamp_micros() as f64 / 1e6
}

/// An identifier member. The API takes identity stores, users, groups and memberships by id or by
/// ARN (`arn:aws:identitystore:::user/<id>`); the services work with ids.
fn id_of(value: &str) -> String {
    match value.strip_prefix("arn:") {
        Some(rest) => rest.rsplit('/').next().unwrap_or(rest).to_string(),
        None => value.to_string(),
    }
}

pub(super) fn string_member(input: &Value, name: &str) -> Result<String, ApiError> {
    match input.get(name) {
        Some(Value::String(s)) => Ok(id_of(s)),
        Some(_) => Err(ApiError::validation(format!("{name}: must be a string"))),
        None => Err(ApiError::validation(format!("{name}: is required"))),
    }
}

/// The enterprise extension as the API carries it: SCIM's attribute names, the manager as a
/// `{"value": id}` reference.
fn enterprise_json(e: &EnterpriseUser) -> Value {
    let mut doc = serde_json::Map::new();
    let fields = [
        ("employeeNumber", &e.employee_number),
        ("costCenter", &e.cost_center),
        ("organization", &e.organization),
        ("division", &e.division),
        ("department", &e.department),
    ];
    for (name, value) in fields {
        if let Some(v) = value {
            doc.insert(name.into(), json!(v));
        }
    }
    if let Some(id) = &e.manager {
        doc.insert("manager".into(), json!({"value": id}));
    }
    Value::Object(doc)
}

fn unsupported_extension(name: &str) -> ApiError {
    ApiError::validation(format!("Extensions: '{name}' is not supported; {ENTERPRISE} is the only supported extension name"))
}

/// The `Extensions` map of CreateUser, taken out of the request and read as the enterprise user.
fn take_extensions(input: &mut Value) -> Result<EnterpriseUser, ApiError> {
    let Some(Value::Object(extensions)) = input.as_object_mut().and_then(|m| m.remove("Extensions")) else {
        return Ok(EnterpriseUser::default());
    };
    let mut doc = serde_json::Map::new();
    for (name, value) in extensions {
        if name != ENTERPRISE {
            return Err(unsupported_extension(&name));
        }
        for (key, v) in value.as_object().into_iter().flatten() {
            let field = crate::case::pascal(key);
            if !["EmployeeNumber", "CostCenter", "Organization", "Division", "Department", "Manager"].contains(&field.as_str()) {
                return Err(ApiError::validation(format!("Extensions[{ENTERPRISE}].{key}: is not an enterprise attribute")));
            }
            doc.insert(field, v.clone());
        }
    }
    serde_json::from_value(Value::Object(doc)).map_err(|e| ApiError::validation(format!("Extensions[{ENTERPRISE}]: {e}")))
}

/// Whether DescribeUser/ListUsers asked for the enterprise extension.
fn wants_enterprise(input: &Value) -> Result<bool, ApiError> {
    let mut wanted = false;
    for name in input.get("Extensions").and_then(Value::as_array).into_iter().flatten() {
        match name.as_str() {
            Some(ENTERPRISE) => wanted = true,
            other => return Err(unsupported_extension(other.unwrap_or_default())),
        }
    }
    Ok(wanted)
}

/// The user as DescribeUser and ListUsers return it; `Extensions` only when asked for and present.
pub fn user_json(u: &User, with_enterprise: bool) -> Value {
    let mut v = serde_json::to_value(&u.profile).unwrap_or_else(|_| json!({}));
    if let Some(map) = v.as_object_mut() {
        // Gatehouse keeps the enterprise extension as a profile field; the API carries it in Extensions.
        map.remove("Enterprise");
        if with_enterprise && !u.profile.enterprise.is_empty() {
            map.insert("Extensions".into(), json!({ ENTERPRISE: enterprise_json(&u.profile.enterprise) }));
        }
        map.insert("IdentityStoreId".into(), json!(u.identity_store_id));
        map.insert("UserId".into(), json!(u.user_id));
        map.insert("UserArn".into(), json!(ids::user_arn(&u.user_id)));
        map.insert("Revision".into(), json!(u.meta.revision));
        map.insert("UserStatus".into(), json!(u.status()));
        map.insert("CreatedAt".into(), json!(epoch(&u.meta.created_at)));
        map.insert("CreatedBy".into(), json!(u.meta.created_by));
        map.insert("UpdatedAt".into(), json!(epoch(&u.meta.updated_at)));
        map.insert("UpdatedBy".into(), json!(u.meta.updated_by));
    }
    v
}

fn group_json(g: &Group) -> Value {
    let mut v = serde_json::to_value(&g.profile).unwrap_or_else(|_| json!({}));
    if let Some(map) = v.as_object_mut() {
        map.insert("IdentityStoreId".into(), json!(g.identity_store_id));
        map.insert("GroupId".into(), json!(g.group_id));
        map.insert("GroupArn".into(), json!(ids::group_arn(&g.group_id)));
        map.insert("Revision".into(), json!(g.meta.revision));
        map.insert("CreatedAt".into(), json!(epoch(&g.meta.created_at)));
        map.insert("CreatedBy".into(), json!(g.meta.created_by));
        map.insert("UpdatedAt".into(), json!(epoch(&g.meta.updated_at)));
        map.insert("UpdatedBy".into(), json!(g.meta.updated_by));
    }
    v
}

fn identity_store_json(info: IdentityStoreInfo) -> Value {
    let mut out = json!({"IdentityStoreId": info.identity_store_id, "IdentityStoreArn": info.identity_store_arn});
    if let Some(n) = info.network {
        out["NetworkConfiguration"] = json!(n);
    }
    out
}

fn membership_json(m: &Membership) -> Value {
    json!({
        "IdentityStoreId": m.identity_store_id,
        "MembershipId": m.membership_id,
        "MembershipArn": ids::membership_arn(&m.membership_id),
        "GroupId": m.group_id,
        "MemberId": {"UserId": m.user_id},
        "CreatedAt": epoch(&m.created_at),
        "CreatedBy": m.created_by,
    })
}

fn member_id(input: &Value) -> Result<String, ApiError> {
    input
        .get("MemberId")
        .and_then(|m| m.get("UserId"))
        .and_then(Value::as_str)
        .map(id_of)
        .ok_or_else(|| ApiError::validation("MemberId.UserId: is required"))
}

fn operations(input: &Value) -> Result<Vec<(String, Option<Value>)>, ApiError> {
    let list = input.get("Operations").and_then(Value::as_array).ok_or_else(|| ApiError::validation("Operations: is required"))?;
    if list.is_empty() || list.len() > 100 {
        return Err(ApiError::validation("Operations: give between 1 and 100 operations"));
    }
    list.iter()
        .map(|op| {
            let path = op
                .get("AttributePath")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::validation("Operations.AttributePath: is required"))?;
            Ok((path.to_string(), op.get("AttributeValue").cloned()))
        })
        .collect()
}

fn alternate_id(input: &Value) -> Result<AlternateId, ApiError> {
    let alt = input.get("AlternateIdentifier").ok_or_else(|| ApiError::validation("AlternateIdentifier: is required"))?;
    if let Some(x) = alt.get("ExternalId") {
        let issuer = x
            .get("Issuer")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::validation("AlternateIdentifier.ExternalId.Issuer: is required"))?;
        let id =
            x.get("Id").and_then(Value::as_str).ok_or_else(|| ApiError::validation("AlternateIdentifier.ExternalId.Id: is required"))?;
        return Ok(AlternateId::External(ExternalId { issuer: issuer.into(), id: id.into() }));
    }
    if let Some(u) = alt.get("UniqueAttribute") {
        let path = u
            .get("AttributePath")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::validation("AlternateIdentifier.UniqueAttribute.AttributePath: is required"))?;
        let value = match u.get("AttributeValue") {
            Some(Value::String(s)) => s.clone(),
            _ => return Err(ApiError::validation("AlternateIdentifier.UniqueAttribute.AttributeValue: must be a string")),
        };
        return Ok(AlternateId::Attribute { path: path.into(), value });
    }
    Err(ApiError::validation("AlternateIdentifier: give ExternalId or UniqueAttribute"))
}

fn page(state: &AppState, input: &Value, operation: &str) -> Result<Page, ApiError> {
    page_args(state, input, operation, 100, ApiError::from)
}

pub async fn dispatch(state: &AppState, ctx: &Ctx, operation: &str, input: Value) -> Result<Value, ApiError> {
    let svc = &state.services;
    if operation == "ListIdentityStores" {
        let stores = svc.list_identity_stores(ctx).await?;
        let list: Vec<Value> = stores.iter().map(|(id, arn)| json!({"IdentityStoreId": id, "IdentityStoreArn": arn})).collect();
        return Ok(json!({"IdentityStores": list}));
    }
    let store_id = string_member(&input, "IdentityStoreId")?;
    svc.require_identity_store(&store_id)?;
    match operation {
        "DescribeIdentityStore" => Ok(identity_store_json(svc.describe_identity_store(ctx).await?)),
        "UpdateIdentityStore" => {
            let network = match input.get("NetworkConfiguration") {
                Some(v) => Some(serde_json::from_value(v.clone()).map_err(|e| ApiError::validation(format!("NetworkConfiguration: {e}")))?),
                None => None,
            };
            let info = svc.update_identity_store(ctx, network).await?;
            Ok(json!({"IdentityStoreId": info.identity_store_id, "IdentityStoreArn": info.identity_store_arn}))
        }
        "CreateUser" => {
            if input.get("UserName").is_none() {
                return Err(ApiError::validation("UserName: is required"));
            }
            let mut input = input;
            let enterprise = take_extensions(&mut input)?;
            let mut profile: UserProfile =
                serde_json::from_value(input).map_err(|e| ApiError::validation(format!("invalid request: {e}")))?;
            profile.enterprise = enterprise;
            let user = svc.create_user(ctx, profile).await?;
            Ok(
                json!({"IdentityStoreId": user.identity_store_id, "UserId": user.user_id, "UserArn": ids::user_arn(&user.user_id), "Revision": user.meta.revision}),
            )
        }
        "DescribeUser" => {
            let with_enterprise = wants_enterprise(&input)?;
            Ok(user_json(&svc.describe_user(ctx, &string_member(&input, "UserId")?).await?, with_enterprise))
        }
        "UpdateUser" => {
            let user_id = string_member(&input, "UserId")?;
            let ops = operations(&input)?;
            let paths: Vec<&str> = ops.iter().map(|(p, _)| p.as_str()).collect();
            let change = UserChange::new(json!(paths), move |profile, _active| attributes::apply(profile, &ops));
            let user = svc.update_user(ctx, &user_id, change).await?;
            Ok(
                json!({"IdentityStoreId": user.identity_store_id, "UserId": user.user_id, "UserArn": ids::user_arn(&user.user_id), "Revision": user.meta.revision}),
            )
        }
        "DeleteUser" => {
            svc.delete_user(ctx, &string_member(&input, "UserId")?).await?;
            Ok(json!({}))
        }
        "ListUsers" => {
            let page = page(state, &input, "ListUsers")?;
            let mut query = UserQuery::default();
            for f in input.get("Filters").and_then(Value::as_array).into_iter().flatten() {
                let path = f.get("AttributePath").and_then(Value::as_str).unwrap_or("");
                let value = f.get("AttributeValue").and_then(Value::as_str).map(str::to_string);
                match path {
                    "UserName" | "userName" => query.user_name = value,
                    "DisplayName" | "displayName" => query.display_name = value,
                    other => {
                        return Err(ApiError::validation(format!(
                            "Filters.AttributePath: '{other}' is not supported (UserName, DisplayName)"
                        )));
                    }
                }
            }
            let with_enterprise = wants_enterprise(&input)?;
            Ok(paged(state, "ListUsers", "Users", svc.list_users(ctx, query, page).await?, |u| user_json(u, with_enterprise)))
        }
        "GetUserId" => {
            let user = svc.get_user_id(ctx, alternate_id(&input)?).await?;
            Ok(json!({"IdentityStoreId": user.identity_store_id, "UserId": user.user_id, "UserArn": ids::user_arn(&user.user_id)}))
        }
        "CreateGroup" => {
            let display_name = string_member(&input, "DisplayName")?;
            let description = input.get("Description").and_then(Value::as_str).map(str::to_string);
            let group = svc.create_group(ctx, GroupProfile { display_name, description, external_ids: vec![] }).await?;
            Ok(
                json!({"IdentityStoreId": group.identity_store_id, "GroupId": group.group_id, "GroupArn": ids::group_arn(&group.group_id), "Revision": group.meta.revision}),
            )
        }
        "DescribeGroup" => Ok(group_json(&svc.describe_group(ctx, &string_member(&input, "GroupId")?).await?)),
        "UpdateGroup" => {
            let group_id = string_member(&input, "GroupId")?;
            let ops = operations(&input)?;
            let paths: Vec<&str> = ops.iter().map(|(p, _)| p.as_str()).collect();
            let group = svc.change_group(ctx, &group_id, json!(paths), move |profile| attributes::apply(profile, &ops)).await?;
            Ok(
                json!({"IdentityStoreId": group.identity_store_id, "GroupId": group.group_id, "GroupArn": ids::group_arn(&group.group_id), "Revision": group.meta.revision}),
            )
        }
        "DeleteGroup" => {
            svc.delete_group(ctx, &string_member(&input, "GroupId")?).await?;
            Ok(json!({}))
        }
        "ListGroups" => {
            let page = page(state, &input, "ListGroups")?;
            let mut query = GroupQuery::default();
            for f in input.get("Filters").and_then(Value::as_array).into_iter().flatten() {
                let path = f.get("AttributePath").and_then(Value::as_str).unwrap_or("");
                match path {
                    "DisplayName" | "displayName" => {
                        query.display_name = f.get("AttributeValue").and_then(Value::as_str).map(str::to_string)
                    }
                    other => return Err(ApiError::validation(format!("Filters.AttributePath: '{other}' is not supported (DisplayName)"))),
                }
            }
            Ok(paged(state, "ListGroups", "Groups", svc.list_groups(ctx, query, page).await?, group_json))
        }
        "GetGroupId" => {
            let group = svc.get_group_id(ctx, alternate_id(&input)?).await?;
            Ok(json!({"IdentityStoreId": group.identity_store_id, "GroupId": group.group_id, "GroupArn": ids::group_arn(&group.group_id)}))
        }
        "CreateGroupMembership" => {
            let m = svc.create_group_membership(ctx, &string_member(&input, "GroupId")?, &member_id(&input)?).await?;
            Ok(
                json!({"IdentityStoreId": m.identity_store_id, "MembershipId": m.membership_id, "MembershipArn": ids::membership_arn(&m.membership_id)}),
            )
        }
        "DescribeGroupMembership" => {
            Ok(membership_json(&svc.describe_group_membership(ctx, &string_member(&input, "MembershipId")?).await?))
        }
        "DeleteGroupMembership" => {
            svc.delete_group_membership(ctx, &string_member(&input, "MembershipId")?).await?;
            Ok(json!({}))
        }
        "GetGroupMembershipId" => {
            let m = svc.get_group_membership_id(ctx, &string_member(&input, "GroupId")?, &member_id(&input)?).await?;
            Ok(
                json!({"IdentityStoreId": m.identity_store_id, "MembershipId": m.membership_id, "MembershipArn": ids::membership_arn(&m.membership_id)}),
            )
        }
        "ListGroupMemberships" => {
            let page = page(state, &input, "ListGroupMemberships")?;
            let list = svc.list_group_memberships(ctx, &string_member(&input, "GroupId")?, page).await?;
            Ok(paged(state, "ListGroupMemberships", "GroupMemberships", list, membership_json))
        }
        "ListGroupMembershipsForMember" => {
            let page = page(state, &input, "ListGroupMembershipsForMember")?;
            let list = svc.list_group_memberships_for_member(ctx, &member_id(&input)?, page).await?;
            Ok(paged(state, "ListGroupMembershipsForMember", "GroupMemberships", list, membership_json))
        }
        "IsMemberInGroups" => {
            let user_id = member_id(&input)?;
            let groups: Vec<String> = input
                .get("GroupIds")
                .and_then(Value::as_array)
                .ok_or_else(|| ApiError::validation("GroupIds: is required"))?
                .iter()
                .filter_map(|g| g.as_str().map(id_of))
                .collect();
            let results = svc.is_member_in_groups(ctx, &user_id, &groups).await?;
            let list: Vec<Value> = results
                .iter()
                .map(|(g, exists)| json!({"GroupId": g, "MemberId": {"UserId": user_id}, "MembershipExists": exists}))
                .collect();
            Ok(json!({"Results": list}))
        }
        other => Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            format!("AWSIdentityStore.{other} is not supported"),
        )),
    }
}
