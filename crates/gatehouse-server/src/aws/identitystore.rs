//! `AWSIdentityStore.*` operations, mapped onto the identity services. Only protocol work here:
//! member decoding, wire shapes, pagination tokens. Every rule lives in the services.

use chrono::{DateTime, Utc};
use gatehouse_core::Ctx;
use gatehouse_core::ids;
use gatehouse_core::model::{Page, User, UserProfile, UserQuery};
use serde_json::{Value, json};

use super::ApiError;
use crate::AppState;

fn epoch(t: &DateTime<Utc>) -> f64 {
    t.timestamp_micros() as f64 / 1e6
}

fn string_member(input: &Value, name: &str) -> Result<String, ApiError> {
    match input.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(ApiError::validation(format!("{name}: must be a string"))),
        None => Err(ApiError::validation(format!("{name}: is required"))),
    }
}

/// The user as DescribeUser and ListUsers return it.
pub fn user_json(u: &User) -> Value {
    let mut v = serde_json::to_value(&u.profile).unwrap_or_else(|_| json!({}));
    if let Some(map) = v.as_object_mut() {
        // The enterprise extension is Gatehouse's own field name; the API carries it as Extensions.
        map.remove("Enterprise");
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

pub async fn dispatch(state: &AppState, ctx: &Ctx, operation: &str, input: Value) -> Result<Value, ApiError> {
    let svc = &state.services;
    let store_id = string_member(&input, "IdentityStoreId")?;
    svc.require_identity_store(&store_id)?;
    match operation {
        "CreateUser" => {
            if input.get("UserName").is_none() {
                return Err(ApiError::validation("UserName: is required"));
            }
            let profile: UserProfile = serde_json::from_value(input).map_err(|e| ApiError::validation(format!("invalid request: {e}")))?;
            let user = svc.create_user(ctx, profile).await?;
            Ok(json!({
                "IdentityStoreId": user.identity_store_id,
                "UserId": user.user_id,
                "UserArn": ids::user_arn(&user.user_id),
                "Revision": user.meta.revision,
            }))
        }
        "DescribeUser" => {
            let user_id = string_member(&input, "UserId")?;
            Ok(user_json(&svc.describe_user(ctx, &user_id).await?))
        }
        "DeleteUser" => {
            let user_id = string_member(&input, "UserId")?;
            svc.delete_user(ctx, &user_id).await?;
            Ok(json!({}))
        }
        "ListUsers" => {
            let limit = match input.get("MaxResults") {
                None => 100,
                Some(v) => match v.as_u64() {
                    Some(n @ 1..=100) => n,
                    _ => return Err(ApiError::validation("MaxResults: must be between 1 and 100")),
                },
            };
            let after = match input.get("NextToken").and_then(Value::as_str) {
                Some(token) => Some(svc.open_page_token("ListUsers", token)?),
                None => None,
            };
            let mut query = UserQuery::default();
            for f in input.get("Filters").and_then(Value::as_array).into_iter().flatten() {
                let path = f.get("AttributePath").and_then(Value::as_str).unwrap_or("");
                let value = f.get("AttributeValue").and_then(Value::as_str).map(str::to_string);
                match path {
                    "UserName" => query.user_name = value,
                    "DisplayName" => query.display_name = value,
                    other => {
                        return Err(ApiError::validation(format!(
                            "Filters.AttributePath: '{other}' is not supported (UserName, DisplayName)"
                        )));
                    }
                }
            }
            let page = svc.list_users(ctx, query, Page { after, limit }).await?;
            let mut out = json!({"Users": page.items.iter().map(user_json).collect::<Vec<_>>()});
            if let Some(next) = page.next {
                out["NextToken"] = json!(svc.seal_page_token("ListUsers", &next));
            }
            Ok(out)
        }
        other => Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            format!("AWSIdentityStore.{other} is not supported yet"),
        )),
    }
}
