//! SCIM 2.0 (`/scim/v2`, RFC 7643/7644) for identity providers that push users and groups:
//! bearer-token authentication, the RFC's error shape, and the mapping between SCIM resources
//! and the identity services. Parsing, PATCH and discovery documents are the pure
//! `gatehouse-scim` crate; every rule lives in the services.

mod filters;
mod groups;
mod resources;
mod users;

use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use gatehouse_core::model::{Page, Paged};
use gatehouse_core::services::{Door, ScimAuthError};
use gatehouse_core::{Ctx, Error};
use gatehouse_scim::{ScimError, ScimType, schema};
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;

use crate::AppState;

/// The most resources one list response carries (advertised in ServiceProviderConfig).
pub const MAX_RESULTS: usize = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/scim/v2/Users", get(list::<false>).post(users::create))
        .route("/scim/v2/Users/.search", axum::routing::post(search::<false>))
        .route("/scim/v2/Groups/.search", axum::routing::post(search::<true>))
        .route("/scim/v2/Users/{id}", get(users::get).put(users::replace).patch(users::patch).delete(users::delete))
        .route("/scim/v2/Groups", get(list::<true>).post(groups::create))
        .route("/scim/v2/Groups/{id}", get(groups::get).put(groups::replace).patch(groups::patch).delete(groups::delete))
        .route("/scim/v2/.search", axum::routing::post(search_all))
        .route("/scim/v2/ServiceProviderConfig", get(service_provider_config))
        .route("/scim/v2/ResourceTypes", get(resource_types))
        .route("/scim/v2/ResourceTypes/{id}", get(resource_type))
        .route("/scim/v2/Schemas", get(schemas))
        .route("/scim/v2/Schemas/{id}", get(schema_by_id))
        .route("/scim/v2", axum::routing::any(unknown_endpoint))
        .route("/scim/v2/{*rest}", axum::routing::any(unknown_endpoint))
}

async fn unknown_endpoint() -> ScimFailure {
    ScimFailure(ScimError::not_found("No such SCIM endpoint"))
}

/// A SCIM response or error, always `application/scim+json`.
pub struct Scim(StatusCode, Value, Option<String>);

impl Scim {
    pub fn ok(body: Value) -> Self {
        Scim(StatusCode::OK, body, None)
    }
    pub fn created(body: Value) -> Self {
        Scim(StatusCode::CREATED, body, None)
    }
    /// Carry the resource's version as the ETag header.
    pub fn with_etag(mut self) -> Self {
        self.2 = self.1.pointer("/meta/version").and_then(Value::as_str).map(str::to_string);
        self
    }
}

impl IntoResponse for Scim {
    fn into_response(self) -> Response {
        let mut response = if self.0 == StatusCode::NO_CONTENT {
            StatusCode::NO_CONTENT.into_response()
        } else {
            (self.0, self.1.to_string()).into_response()
        };
        let headers = response.headers_mut();
        headers.insert("content-type", HeaderValue::from_static("application/scim+json"));
        if let Some(etag) = self.2.and_then(|e| HeaderValue::from_str(&e).ok()) {
            headers.insert("etag", etag);
        }
        response
    }
}

pub struct ScimFailure(pub ScimError);

impl IntoResponse for ScimFailure {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::BAD_REQUEST);
        let mut response = (status, self.0.to_json().to_string()).into_response();
        response.headers_mut().insert("content-type", HeaderValue::from_static("application/scim+json"));
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert("www-authenticate", HeaderValue::from_static("Bearer realm=\"scim\""));
        }
        response
    }
}

impl From<ScimError> for ScimFailure {
    fn from(e: ScimError) -> Self {
        ScimFailure(e)
    }
}

/// A service error in RFC 7644 §3.12 terms.
impl From<Error> for ScimFailure {
    fn from(e: Error) -> Self {
        let detail = e.to_string();
        ScimFailure(match &e {
            Error::Validation { field, .. } if field == "Filter" => ScimError::invalid_filter(detail),
            Error::Validation { .. } => ScimError::invalid_value(detail),
            Error::Conflict { reason: Some(r), .. } if r.contains("UNIQUENESS") => ScimError::uniqueness(detail),
            Error::Conflict { .. } => ScimError::status(409, detail),
            Error::NotFound { .. } => ScimError::not_found(detail),
            Error::AccessDenied { .. } => ScimError::status(403, detail),
            Error::QuotaExceeded { .. } => ScimError::status(400, detail),
            Error::Throttled { .. } => ScimError::status(429, detail),
            Error::Unavailable { .. } => ScimError::status(503, "The service is unavailable; retry later."),
            Error::Internal { message } => {
                tracing::error!(error = %message, "internal error");
                ScimError::status(500, "An internal error occurred.")
            }
        })
    }
}

pub type ScimResult = Result<Scim, ScimFailure>;

/// The caller's context from its bearer token, admitted by the network configuration.
pub async fn authenticate(state: &AppState, headers: &HeaderMap, peer: SocketAddr, operation: &str) -> Result<Ctx, ScimFailure> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ScimError::status(401, "A bearer access token is required"))?;
    let principal = match state.services.authenticate_scim(token).await? {
        Ok(p) => p,
        Err(ScimAuthError::Invalid) => return Err(ScimError::status(401, "The access token is not valid").into()),
        Err(ScimAuthError::Expired) => return Err(ScimError::status(401, "The access token has expired").into()),
    };
    let user_agent = headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let ctx = Ctx::new(principal, peer.ip().to_string(), user_agent);
    state.services.admit_network(&ctx, Door::Scim, operation).await?;
    Ok(ctx)
}

/// The request body as JSON (SCIM clients send `application/scim+json`, which generic JSON
/// extractors refuse).
pub fn body_json(body: &[u8]) -> Result<Value, ScimFailure> {
    match serde_json::from_slice(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(ScimError::invalid_syntax("The request body is not a JSON object").into()),
    }
}

/// `If-Match`: the write goes ahead only when the resource's current version is listed.
pub fn check_if_match(headers: &HeaderMap, current_version: &str) -> Result<(), ScimFailure> {
    let Some(wanted) = headers.get("if-match").and_then(|v| v.to_str().ok()) else { return Ok(()) };
    let matches = wanted.split(',').map(str::trim).any(|w| w == "*" || w == current_version);
    if matches {
        Ok(())
    } else {
        Err(ScimError::new(ScimType::InvalidVers, "The resource was modified: its version does not match If-Match").into())
    }
}

pub fn base_url(state: &AppState) -> String {
    format!("{}/scim/v2", state.public_url.trim_end_matches('/'))
}

/// `startIndex` (1-based) and `count` of a list request.
pub struct Window {
    pub start_index: usize,
    pub count: usize,
}

pub fn window(params: &HashMap<String, String>) -> Result<Window, ScimFailure> {
    let number = |name: &str, default: usize| -> Result<usize, ScimFailure> {
        match params.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
            None => Ok(default),
            Some((_, v)) => v
                .trim()
                .parse::<i64>()
                .map(|n| n.max(0) as usize)
                .map_err(|_| ScimFailure(ScimError::invalid_value(format!("{name} must be an integer")))),
        }
    };
    Ok(Window { start_index: number("startIndex", 1)?.max(1), count: number("count", MAX_RESULTS)?.min(MAX_RESULTS) })
}

/// A resource with the request's `attributes` / `excludedAttributes` applied.
pub fn projected(doc: &Value, params: &HashMap<String, String>) -> Result<Value, ScimFailure> {
    Ok(gatehouse_scim::project(doc, param(params, "attributes"), param(params, "excludedAttributes"))?)
}

/// A SearchRequest body as the query parameters of a list (lists joined with commas).
pub fn search_params(body: &Value) -> HashMap<String, String> {
    let mut params = HashMap::new();
    for (k, v) in body.as_object().into_iter().flatten() {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","),
            _ => continue,
        };
        params.insert(k.clone(), text);
    }
    params
}

pub fn param<'a>(params: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// Walk keyset pages to serve an offset window: skip `start_index - 1` items, return up to
/// `count`, and count the rest for `totalResults`.
pub async fn offset_window<T, F, Fut>(win: &Window, mut fetch: F) -> Result<(Vec<T>, usize), ScimFailure>
where
    F: FnMut(Page) -> Fut,
    Fut: std::future::Future<Output = gatehouse_core::Result<Paged<T>>>,
{
    let mut skip = win.start_index - 1;
    let mut items = Vec::new();
    let mut total = 0usize;
    let mut after = None;
    loop {
        let page = fetch(Page { after: after.clone(), limit: 1000 }).await?;
        let n = page.items.len();
        total += n;
        for item in page.items {
            if skip > 0 {
                skip -= 1;
            } else if items.len() < win.count {
                items.push(item);
            }
        }
        match page.next {
            Some(next) if n > 0 => after = Some(next),
            _ => break,
        }
    }
    Ok((items, total))
}

/// The users (or groups) a list or search returns in `win`, and how many match.
async fn matching(
    groups: bool,
    state: &AppState,
    ctx: &Ctx,
    params: &HashMap<String, String>,
    win: &Window,
) -> Result<(Vec<Value>, usize), ScimFailure> {
    if groups { groups::matching(state, ctx, params, win).await } else { users::matching(state, ctx, params, win).await }
}

async fn list_with(groups: bool, state: AppState, peer: SocketAddr, headers: HeaderMap, params: HashMap<String, String>) -> ScimResult {
    let ctx = authenticate(&state, &headers, peer, if groups { "ListGroups" } else { "ListUsers" }).await?;
    let win = window(&params)?;
    let (resources, total) = matching(groups, &state, &ctx, &params, &win).await?;
    Ok(Scim::ok(gatehouse_scim::ListResponse::new(resources, total, win.start_index).to_json()))
}

/// `GET /Users` or `/Groups`: filter, startIndex, count, attributes, excludedAttributes.
async fn list<const GROUPS: bool>(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::extract::Query(params): axum::extract::Query<HashMap<String, String>>,
) -> ScimResult {
    list_with(GROUPS, state, peer, headers, params).await
}

/// `POST /Users/.search` or `/Groups/.search` (RFC 7644 §3.4.3): the list, parameters in the body.
async fn search<const GROUPS: bool>(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ScimResult {
    let params = search_params(&body_json(&body)?);
    list_with(GROUPS, state, peer, headers, params).await
}

/// `POST /.search` (RFC 7644 §3.4.3): users, then groups. A filter naming attributes only one
/// resource type has matches none of the other.
async fn search_all(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ScimResult {
    let ctx = authenticate(&state, &headers, peer, "Search").await?;
    let params = search_params(&body_json(&body)?);
    let win = window(&params)?;
    // Both lists from the start, up to the end of the requested window, then one slice.
    let upto = Window { start_index: 1, count: win.start_index - 1 + win.count };
    if let Some(f) = param(&params, "filter") {
        gatehouse_scim::parse_filter(f)?;
    }
    let not_applicable = |e: &ScimFailure| e.0.scim_type == Some(ScimType::InvalidFilter);
    let users = matching(false, &state, &ctx, &params, &upto).await;
    let groups = matching(true, &state, &ctx, &params, &upto).await;
    let (mut resources, mut total, mut applied) = (Vec::new(), 0, false);
    let mut refusal = None;
    for found in [users, groups] {
        match found {
            Ok((list, n)) => {
                resources.extend(list);
                total += n;
                applied = true;
            }
            Err(e) if not_applicable(&e) => refusal = Some(e),
            Err(e) => return Err(e),
        }
    }
    if let (Some(e), false) = (refusal, applied) {
        // The filter fits neither resource type.
        return Err(e);
    }
    let page: Vec<Value> = resources.into_iter().skip(win.start_index - 1).take(win.count).collect();
    Ok(Scim::ok(gatehouse_scim::ListResponse::new(page, total, win.start_index).to_json()))
}

async fn service_provider_config(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ScimResult {
    authenticate(&state, &headers, peer, "GetServiceProviderConfig").await?;
    Ok(Scim::ok(schema::service_provider_config(&base_url(&state), MAX_RESULTS)))
}

async fn resource_types(State(state): State<AppState>, ConnectInfo(peer): ConnectInfo<SocketAddr>, headers: HeaderMap) -> ScimResult {
    authenticate(&state, &headers, peer, "ListResourceTypes").await?;
    Ok(Scim::ok(schema::resource_types(&base_url(&state))))
}

async fn resource_type(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ScimResult {
    authenticate(&state, &headers, peer, "GetResourceType").await?;
    schema::resource_type(&base_url(&state), &id)
        .map(Scim::ok)
        .ok_or_else(|| ScimError::not_found(format!("Resource type {id} not found")).into())
}

async fn schemas(State(state): State<AppState>, ConnectInfo(peer): ConnectInfo<SocketAddr>, headers: HeaderMap) -> ScimResult {
    authenticate(&state, &headers, peer, "ListSchemas").await?;
    Ok(Scim::ok(schema::schemas(&base_url(&state))))
}

async fn schema_by_id(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ScimResult {
    authenticate(&state, &headers, peer, "GetSchema").await?;
    schema::schema(&base_url(&state), &id).map(Scim::ok).ok_or_else(|| ScimError::not_found(format!("Schema {id} not found")).into())
}
