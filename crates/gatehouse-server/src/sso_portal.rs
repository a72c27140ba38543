//! The REST-JSON doors the AWS CLI and SDKs sign people in through: SSO OIDC
//! (`/client/register`, `/device_authorization`, `/token`) and the portal API
//! (`/assignment/accounts`, `/assignment/roles`, `/federation/credentials`, `/logout`, with the
//! `x-amz-sso_bearer_token` header). Errors carry `x-amzn-ErrorType` as botocore reads them.

use axum::Json;
use axum::Router;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use gatehouse_core::model::Page;
use gatehouse_core::services::oidc::{CodeExchange, OidcError, TokenRequest};
use gatehouse_core::{Ctx, Error};
use serde::Deserialize;
use serde_json::{Value, json};
use std::net::SocketAddr;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/client/register", post(oidc))
        .route("/device_authorization", post(oidc))
        .route("/token", post(oidc))
        .route("/assignment/accounts", get(portal_api))
        .route("/assignment/roles", get(portal_api))
        .route("/federation/credentials", get(portal_api))
        .route("/logout", post(portal_api))
}

fn error_response(status: StatusCode, code: &str, body: Value) -> Response {
    let mut r = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(code) {
        r.headers_mut().insert("x-amzn-errortype", v);
    }
    r
}

fn oidc_error(e: OidcError) -> Response {
    let (code, error) = e.codes();
    let status = match e {
        OidcError::InvalidClient(_) => StatusCode::UNAUTHORIZED,
        OidcError::Internal(ref m) => {
            tracing::error!(error = %m, "SSO OIDC");
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::BAD_REQUEST,
    };
    error_response(status, code, json!({"error": error, "error_description": e.description()}))
}

fn ctx_of(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> Result<Ctx, OidcError> {
    let account = state.services.instance().map(|i| i.management_account_id.clone())?;
    let ua = headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    Ok(Ctx::new(gatehouse_core::services::Principal::anonymous(&account), peer.ip().to_string(), ua))
}

/// An OIDC call's context and JSON body.
fn prelude(state: &AppState, headers: &HeaderMap, peer: SocketAddr, body: &[u8]) -> Result<(Ctx, Value), OidcError> {
    Ok((ctx_of(state, headers, peer)?, parse_body(body)?))
}

/// The request's JSON object; anything else is InvalidRequestException.
fn parse_body(bytes: &[u8]) -> Result<Value, OidcError> {
    match serde_json::from_slice(bytes) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(OidcError::InvalidRequest("the request body is not a JSON object".into())),
    }
}

fn body_text<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.get(name).and_then(Value::as_str)
}

fn required<'a>(body: &'a Value, name: &str) -> Result<&'a str, OidcError> {
    body_text(body, name).filter(|v| !v.is_empty()).ok_or_else(|| OidcError::InvalidRequest(format!("{name} is required")))
}

/// One OIDC call: its context and JSON body in, the service's answer as JSON out.
async fn oidc(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let result = async {
        let (ctx, body) = prelude(&state, &headers, peer, &body)?;
        let svc = &state.services;
        match uri.path() {
            "/client/register" => {
                let list = |name: &str| -> Vec<String> {
                    body.get(name)
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                        .unwrap_or_default()
                };
                let (name, kind) = (required(&body, "clientName")?, required(&body, "clientType")?);
                let r = svc.register_client(&ctx, name, kind, list("scopes"), list("grantTypes"), list("redirectUris")).await?;
                let base = state.public_url.trim_end_matches('/');
                Ok(json!({
                    "clientId": r.client.client_id,
                    "clientSecret": r.secret,
                    "clientIdIssuedAt": r.client.created_at.timestamp(),
                    "clientSecretExpiresAt": r.client.expires_at.timestamp(),
                    "authorizationEndpoint": format!("{base}/authorize"),
                    "tokenEndpoint": format!("{base}/token"),
                }))
            }
            "/device_authorization" => {
                let (id, secret, url) = (required(&body, "clientId")?, required(&body, "clientSecret")?, required(&body, "startUrl")?);
                let d = svc.start_device_authorization(&ctx, id, secret, url).await?;
                Ok(json!({
                    "deviceCode": d.device_code,
                    "userCode": d.user_code,
                    "verificationUri": d.verification_uri,
                    "verificationUriComplete": d.verification_uri_complete,
                    "expiresIn": d.expires_in,
                    "interval": d.interval,
                }))
            }
            _ => {
                let request = TokenRequest {
                    client_id: required(&body, "clientId")?,
                    client_secret: required(&body, "clientSecret")?,
                    grant_type: required(&body, "grantType")?,
                    device_code: body_text(&body, "deviceCode"),
                    refresh_token: body_text(&body, "refreshToken"),
                    authorization: CodeExchange {
                        code: body_text(&body, "code"),
                        redirect_uri: body_text(&body, "redirectUri"),
                        code_verifier: body_text(&body, "codeVerifier"),
                    },
                };
                let t = svc.create_token(&ctx, request).await?;
                Ok(json!({"accessToken": t.access_token, "tokenType": "Bearer", "expiresIn": t.expires_in, "refreshToken": t.refresh_token}))
            }
        }
    }
    .await;
    result.map(|v: Value| Json(v).into_response()).unwrap_or_else(oidc_error)
}

/// A portal-API error: `{"message": …}` under its exception name.
struct PortalError(StatusCode, &'static str, String);

impl From<Error> for PortalError {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound { .. } => PortalError(StatusCode::NOT_FOUND, "ResourceNotFoundException", e.to_string()),
            Error::AccessDenied { message } => PortalError(StatusCode::FORBIDDEN, "ForbiddenException", message),
            Error::Validation { .. } => PortalError(StatusCode::BAD_REQUEST, "InvalidRequestException", e.to_string()),
            Error::Throttled { message } => PortalError(StatusCode::TOO_MANY_REQUESTS, "TooManyRequestsException", message),
            Error::Conflict { message, .. } => PortalError(StatusCode::BAD_REQUEST, "InvalidRequestException", message),
            other => {
                tracing::error!(error = %other, "portal API");
                PortalError(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerException", "An internal error occurred".into())
            }
        }
    }
}

fn portal_error(e: PortalError) -> Response {
    error_response(e.0, e.1, json!({"message": e.2}))
}

fn unauthorized() -> PortalError {
    PortalError(StatusCode::UNAUTHORIZED, "UnauthorizedException", "Session token not found or invalid".into())
}

/// The caller of a portal-API request, from its bearer token.
async fn bearer(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Result<(Ctx, gatehouse_core::model::SsoToken, gatehouse_core::model::User), PortalError> {
    let token = headers.get("x-amz-sso_bearer_token").and_then(|v| v.to_str().ok()).ok_or_else(unauthorized)?;
    let (t, user) = state.services.bearer_principal(token).await?.ok_or_else(unauthorized)?;
    let ua = headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let ctx = state.services.bearer_ctx(&user, peer.ip().to_string(), ua)?;
    Ok((ctx, t, user))
}

#[derive(Deserialize)]
struct PageQuery {
    next_token: Option<String>,
    max_result: Option<u64>,
    account_id: Option<String>,
    role_name: Option<String>,
}

fn page_of(state: &AppState, operation: &str, q: &PageQuery) -> Result<Page, PortalError> {
    let limit = q.max_result.unwrap_or(100).clamp(1, 100);
    let after = match &q.next_token {
        Some(t) => Some(state.services.open_page_token(operation, t)?),
        None => None,
    };
    Ok(Page { after, limit })
}

fn next_token(state: &AppState, operation: &str, next: Option<String>) -> Value {
    next.map(|n| json!(state.services.seal_page_token(operation, &n))).unwrap_or(Value::Null)
}

fn required_query(value: &Option<String>, name: &str) -> Result<String, PortalError> {
    value.clone().ok_or_else(|| PortalError(StatusCode::BAD_REQUEST, "InvalidRequestException", format!("{name} is required")))
}

/// One portal-API call, as its bearer token's user.
async fn portal_api(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let result = async {
        let (ctx, token, user) = bearer(&state, &headers, peer).await?;
        let svc = &state.services;
        // Logout answers with an empty body.
        Ok::<Option<Value>, PortalError>(match uri.path() {
            "/assignment/accounts" => {
                let accounts = svc.list_my_accounts(&ctx, &user, &page_of(&state, "ListAccounts", &q)?).await?;
                let list: Vec<Value> =
                    accounts.items.iter().map(|a| json!({"accountId": a.id, "accountName": a.name, "emailAddress": a.email})).collect();
                Some(json!({"accountList": list, "nextToken": next_token(&state, "ListAccounts", accounts.next)}))
            }
            "/assignment/roles" => {
                let account = required_query(&q.account_id, "account_id")?;
                let roles = svc.list_my_account_roles(&ctx, &user, &account, &page_of(&state, "ListAccountRoles", &q)?).await?;
                let list: Vec<Value> = roles.items.iter().map(|r| json!({"roleName": r, "accountId": account})).collect();
                Some(json!({"roleList": list, "nextToken": next_token(&state, "ListAccountRoles", roles.next)}))
            }
            "/federation/credentials" => {
                let (account, role) = (required_query(&q.account_id, "account_id")?, required_query(&q.role_name, "role_name")?);
                let c = svc.get_role_credentials(&ctx, &user, &account, &role).await?;
                Some(json!({"roleCredentials": {
                    "accessKeyId": c.access_key_id,
                    "secretAccessKey": c.secret_access_key,
                    "sessionToken": c.session_token,
                    "expiration": c.expiration.timestamp_millis(),
                }}))
            }
            _ => {
                svc.logout_token(&ctx, &token).await?;
                None
            }
        })
    }
    .await;
    match result {
        Ok(None) => StatusCode::OK.into_response(),
        Ok(Some(v)) => Json(v).into_response(),
        Err(e) => portal_error(e),
    }
}
