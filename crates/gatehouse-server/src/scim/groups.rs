//! `/scim/v2/Groups`. Members are group memberships of the identity store: a PATCH that adds or
//! removes members becomes membership operations, each with its own rules and audit record.

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use gatehouse_core::model::{Group, GroupQuery, Membership, Page};
use gatehouse_core::{Ctx, Error};
use gatehouse_scim::{apply_patch, parse_filter};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;

use super::filters::{Resource, condition};
use super::resources::{GroupInput, group_from_resource, group_resource, version};
use super::{Scim, ScimFailure, ScimResult, Window, authenticate, base_url, body_json, check_if_match, offset_window, param, projected};
use crate::AppState;

/// Whether the response needs `members` (IdPs usually exclude them; loading is not free).
fn wants_members(params: &HashMap<String, String>) -> bool {
    let lists = |name: &str| param(params, name).is_some_and(|v| v.split(',').any(|a| a.trim().eq_ignore_ascii_case("members")));
    if param(params, "attributes").is_some() {
        return lists("attributes");
    }
    !lists("excludedAttributes")
}

/// The user ids of every member of a group.
async fn all_members(state: &AppState, ctx: &Ctx, group_id: &str) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = state.services.list_group_memberships(ctx, group_id, Page { after, limit: 1000 }).await?;
        out.extend(page.items.into_iter().map(|m: Membership| m.user_id));
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(out),
        }
    }
}

async fn render(state: &AppState, ctx: &Ctx, g: &Group, params: &HashMap<String, String>) -> Result<Value, ScimFailure> {
    let members = if wants_members(params) { Some(all_members(state, ctx, &g.group_id).await?) } else { None };
    let doc = group_resource(g, members.as_deref(), &base_url(state));
    projected(&doc, params)
}

/// The groups a list or search returns in `win`, rendered and projected, and how many match.
pub async fn matching(
    state: &AppState,
    ctx: &Ctx,
    params: &HashMap<String, String>,
    win: &Window,
) -> Result<(Vec<Value>, usize), ScimFailure> {
    let mut query = GroupQuery::default();
    if let Some(f) = param(params, "filter") {
        query.condition = Some(condition(&parse_filter(f)?, Resource::Group)?);
    }
    let svc = &state.services;
    let (groups, total) = offset_window(win, |page| svc.list_groups(ctx, query.clone(), page)).await?;
    let mut resources = Vec::with_capacity(groups.len());
    for g in &groups {
        resources.push(render(state, ctx, g, params).await?);
    }
    Ok((resources, total))
}

pub async fn get(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> ScimResult {
    let ctx = authenticate(&state, &headers, peer, "DescribeGroup").await?;
    let group = state.services.describe_group(&ctx, &id).await?;
    Ok(Scim::ok(render(&state, &ctx, &group, &params).await?).with_etag())
}

/// Add and remove members by user id, in one transaction; adding a member already there and
/// removing one that is not are no-ops.
async fn change_members(state: &AppState, ctx: &Ctx, group_id: &str, added: &[String], removed: &[String]) -> Result<(), Error> {
    if added.is_empty() && removed.is_empty() {
        return Ok(());
    }
    state.services.update_group_members(ctx, group_id, added, removed).await
}

pub async fn create(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> ScimResult {
    let ctx = authenticate(&state, &headers, peer, "CreateGroup").await?;
    let input = group_from_resource(&body_json(&body)?)?;
    let group = state.services.create_group(&ctx, input.profile(&[])).await?;
    let members = input.members.unwrap_or_default();
    // A new group's members are exactly those just added: list them only if there are any.
    let listed: Vec<String> = if members.is_empty() {
        Vec::new()
    } else {
        change_members(&state, &ctx, &group.group_id, &members, &[]).await?;
        all_members(&state, &ctx, &group.group_id).await?
    };
    Ok(Scim::created(group_resource(&group, Some(&listed), &base_url(&state))).with_etag())
}

/// Apply a new profile and member changes to a group, writing only what changed; returns the
/// group and its members afterwards (`members`: before). Membership changes leave the group's
/// version as it is, so nothing needs reading back.
async fn apply(
    state: &AppState,
    ctx: &Ctx,
    current: &Group,
    members: Vec<String>,
    input: GroupInput,
    added: &[String],
    removed: &[String],
) -> Result<(Group, Vec<String>), ScimFailure> {
    let profile = input.profile(&current.profile.external_ids);
    let svc = &state.services;
    let group = if profile != current.profile { svc.update_group(ctx, &current.group_id, profile).await? } else { current.clone() };
    change_members(state, ctx, &group.group_id, added, removed).await?;
    let removed: HashSet<&String> = removed.iter().collect();
    let mut after: Vec<String> = members.into_iter().filter(|u| !removed.contains(u)).collect();
    let present: HashSet<String> = after.iter().cloned().collect();
    after.extend(added.iter().filter(|u| !present.contains(*u)).cloned());
    Ok((group, after))
}

pub async fn replace(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ScimResult {
    let ctx = authenticate(&state, &headers, peer, "UpdateGroup").await?;
    let input = group_from_resource(&body_json(&body)?)?;
    let current = state.services.describe_group(&ctx, &id).await?;
    check_if_match(&headers, &version(current.meta.revision))?;
    let members = all_members(&state, &ctx, &id).await?;
    let (added, removed) = match &input.members {
        Some(wanted) => {
            let have: HashSet<&String> = members.iter().collect();
            let want: HashSet<&String> = wanted.iter().collect();
            (
                wanted.iter().filter(|u| !have.contains(u)).cloned().collect(),
                members.iter().filter(|u| !want.contains(u)).cloned().collect(),
            )
        }
        None => (vec![], vec![]),
    };
    let (group, members) = apply(&state, &ctx, &current, members, input, &added, &removed).await?;
    Ok(Scim::ok(group_resource(&group, Some(&members), &base_url(&state))).with_etag())
}

pub async fn patch(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ScimResult {
    let ctx = authenticate(&state, &headers, peer, "UpdateGroup").await?;
    let body = body_json(&body)?;
    let current = state.services.describe_group(&ctx, &id).await?;
    check_if_match(&headers, &version(current.meta.revision))?;
    let members = all_members(&state, &ctx, &id).await?;
    let doc = group_resource(&current, Some(&members), &base_url(&state));
    let outcome = apply_patch(doc, body)?;
    let input = group_from_resource(&outcome.resource)?;
    let (group, members) = apply(&state, &ctx, &current, members, input, &outcome.members_added, &outcome.members_removed).await?;
    // Entra ID and Okta accept 204 or the resource; the resource is the richer answer.
    Ok(Scim::ok(group_resource(&group, Some(&members), &base_url(&state))).with_etag())
}

pub async fn delete(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ScimResult {
    let ctx = authenticate(&state, &headers, peer, "DeleteGroup").await?;
    if headers.contains_key("if-match") {
        let current = state.services.describe_group(&ctx, &id).await?;
        check_if_match(&headers, &version(current.meta.revision))?;
    }
    state.services.delete_group(&ctx, &id).await?;
    Ok(Scim(StatusCode::NO_CONTENT, json!(null), None))
}
