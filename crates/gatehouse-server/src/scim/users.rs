//! `/scim/v2/Users`.

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use gatehouse_core::model::UserQuery;
use gatehouse_core::services::UserChange;
use gatehouse_scim::{ScimError, apply_patch, parse_filter};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use super::filters::{Resource, condition};
use super::resources::{set_scim_external_id, user_from_resource, user_resource, version};
use super::{Scim, ScimFailure, ScimResult, Window, authenticate, base_url, body_json, check_if_match, offset_window, param, projected};
use crate::AppState;

/// The users a list or search returns in `win`, rendered and projected, and how many match.
pub async fn matching(
    state: &AppState,
    ctx: &gatehouse_core::Ctx,
    params: &HashMap<String, String>,
    win: &Window,
) -> Result<(Vec<Value>, usize), ScimFailure> {
    let mut query = UserQuery::default();
    if let Some(f) = param(params, "filter") {
        query.condition = Some(condition(&parse_filter(f)?, Resource::User)?);
    }
    let svc = &state.services;
    let (users, total) = offset_window(win, |page| svc.list_users(ctx, query.clone(), page)).await?;
    let base = base_url(state);
    let resources = users.iter().map(|u| projected(&user_resource(u, &base), params)).collect::<Result<Vec<_>, _>>()?;
    Ok((resources, total))
}

pub async fn get(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> ScimResult {
    let ctx = authenticate(&state, &headers, peer, "DescribeUser").await?;
    let user = state.services.describe_user(&ctx, &id).await?;
    let doc = user_resource(&user, &base_url(&state));
    Ok(Scim::ok(projected(&doc, &params)?).with_etag())
}

pub async fn create(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> ScimResult {
    let ctx = authenticate(&state, &headers, peer, "CreateUser").await?;
    let (mut profile, active, external_id) = user_from_resource(&body_json(&body)?)?;
    set_scim_external_id(&mut profile.external_ids, external_id);
    let svc = &state.services;
    let user = svc.create_user_with_status(&ctx, profile, active.unwrap_or(true)).await?;
    Ok(Scim::created(user_resource(&user, &base_url(&state))).with_etag())
}

/// Run `edit` on the user's SCIM document inside the update's transaction and store the result.
async fn update(
    state: &AppState,
    ctx: &gatehouse_core::Ctx,
    id: &str,
    headers: &HeaderMap,
    params: Value,
    edit: impl FnOnce(Value) -> Result<Value, ScimError> + Send + 'static,
) -> ScimResult {
    let svc = &state.services;
    let current = svc.describe_user(ctx, id).await?;
    check_if_match(headers, &version(current.meta.revision))?;
    let base = base_url(state);
    let user_id = current.user_id.clone();
    // The SCIM error (with its scimType) if the edit fails; the service sees a validation error.
    let failure: Arc<Mutex<Option<ScimError>>> = Arc::default();
    let failed = failure.clone();
    let change = UserChange::new(params, move |profile, active| {
        let mut doc = user_resource(
            &gatehouse_core::model::User { profile: profile.clone(), active: *active, user_id: user_id.clone(), ..current.clone() },
            &base,
        );
        if let Some(map) = doc.as_object_mut() {
            map.remove("meta");
        }
        let result = edit(doc).and_then(|doc| user_from_resource(&doc));
        match result {
            Ok((mut new_profile, new_active, external_id)) => {
                new_profile.external_ids = profile.external_ids.clone();
                set_scim_external_id(&mut new_profile.external_ids, external_id);
                *profile = new_profile;
                if let Some(a) = new_active {
                    *active = a;
                }
                Ok(())
            }
            Err(e) => {
                let message = e.detail.clone();
                *failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                Err(gatehouse_core::Error::validation("request", message))
            }
        }
    });
    match svc.update_user(ctx, id, change).await {
        Ok(user) => Ok(Scim::ok(user_resource(&user, &base_url(state))).with_etag()),
        Err(e) => match failure.lock().unwrap_or_else(|p| p.into_inner()).take() {
            Some(scim) => Err(scim.into()),
            None => Err(e.into()),
        },
    }
}

pub async fn replace(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ScimResult {
    let ctx = authenticate(&state, &headers, peer, "UpdateUser").await?;
    let doc = body_json(&body)?;
    if let Some(given) = doc.get("id").and_then(Value::as_str)
        && given != id
    {
        return Err(ScimError::mutability("id cannot be changed").into());
    }
    update(&state, &ctx, &id, &headers, json!({"scim": "PUT"}), move |_| {
        // PUT replaces every attribute; `active` stays as it is when omitted.
        Ok(doc)
    })
    .await
}

pub async fn patch(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ScimResult {
    let ctx = authenticate(&state, &headers, peer, "UpdateUser").await?;
    let body = body_json(&body)?;
    let paths: Vec<Value> = body
        .get("Operations")
        .and_then(Value::as_array)
        .map(|ops| ops.iter().map(|o| json!({"op": o.get("op"), "path": o.get("path")})).collect())
        .unwrap_or_default();
    update(&state, &ctx, &id, &headers, json!({"scim": "PATCH", "operations": paths}), move |doc| Ok(apply_patch(doc, body)?.resource))
        .await
}

pub async fn delete(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ScimResult {
    let ctx = authenticate(&state, &headers, peer, "DeleteUser").await?;
    if headers.contains_key("if-match") {
        let current = state.services.describe_user(&ctx, &id).await?;
        check_if_match(&headers, &version(current.meta.revision))?;
    }
    state.services.delete_user(&ctx, &id).await?;
    Ok(Scim(StatusCode::NO_CONTENT, Value::Null, None))
}
