//! `/start/authorize` (and `/authorize` on the OIDC endpoint): the authorization-code grant
//! with PKCE that the AWS CLI v2 uses by default. The person signs in, allows the client, and
//! the browser goes back to the client's loopback listener with the code. An unknown client or
//! redirect URI is shown here and never redirected to.

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::services::oidc::{AuthorizeQuery, AuthorizeRequest, OidcError};
use serde::Deserialize;
use std::net::SocketAddr;

use super::pages::{FORM_EXPIRED, cookies, signed_in, to_signin, user_ctx};
use super::web::*;
use crate::AppState;

#[derive(Template)]
#[template(path = "portal/authorize.html")]
struct AuthorizePage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    user_name: &'a str,
    client_name: &'a str,
    client_id: &'a str,
    redirect_uri: &'a str,
    state: &'a str,
    code_challenge: &'a str,
    scopes: &'a str,
}

#[derive(Deserialize, Default)]
pub struct AuthorizeParams {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    response_type: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    redirect_uri: String,
    state: Option<String>,
    #[serde(default)]
    code_challenge: String,
    #[serde(default)]
    code_challenge_method: String,
    #[serde(default)]
    scopes: String,
}

/// Back to the client's redirect URI with these query members.
fn back_to(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", percent_encode(v))).collect();
    see_other(&format!("{redirect_uri}{sep}{}", query.join("&")), vec![])
}

/// The page that refuses a request, with the reason (never a redirect).
fn refused_page(message: &str) -> Response {
    super::apps::error_page_for(gatehouse_core::Error::validation("request", message), message)
}

async fn checked(state: &AppState, p: &AuthorizeParams) -> Result<AuthorizeRequest, Response> {
    let scopes: Vec<String> = p.scopes.split([' ', ',']).filter(|s| !s.is_empty()).map(str::to_string).collect();
    let query = AuthorizeQuery {
        client_id: p.client_id.clone(),
        redirect_uri: p.redirect_uri.clone(),
        response_type: p.response_type.clone(),
        code_challenge: p.code_challenge.clone(),
        code_challenge_method: p.code_challenge_method.clone(),
        state: p.state.clone(),
        scopes,
    };
    match state.services.check_authorize(query).await {
        Ok(r) => Ok(r),
        Err((e, true)) => {
            let (_, error) = e.codes();
            let description = e.description();
            let mut pairs = vec![("error", error), ("error_description", description.as_str())];
            if let Some(s) = &p.state {
                pairs.push(("state", s));
            }
            Err(back_to(&p.redirect_uri, &pairs))
        }
        Err((OidcError::Internal(m), false)) => Err(super::apps::error_page_for(gatehouse_core::Error::internal(m), "")),
        Err((e, false)) => Err(refused_page(&e.description())),
    }
}

/// `/authorize` on the OIDC endpoint: the same request, on the portal.
pub async fn oidc_authorize(RawQuery(query): RawQuery) -> Response {
    see_other(&format!("/start/authorize?{}", query.unwrap_or_default()), vec![])
}

pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    p: Result<Query<AuthorizeParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let raw = query.unwrap_or_default();
    let p = p.map(|Query(p)| p).unwrap_or_default();
    let req = match checked(&state, &p).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let Some((_, info)) = signed_in(&state, &headers).await else { return to_signin(&format!("/start/authorize?{raw}")) };
    let (csrf, set) = csrf_token(&headers);
    let html = AuthorizePage {
        error: None,
        notice: None,
        csrf: &csrf,
        user_name: &info.user.profile.user_name,
        client_name: &req.client_name,
        client_id: &req.client_id,
        redirect_uri: &req.redirect_uri,
        state: req.state.as_deref().unwrap_or_default(),
        code_challenge: &req.code_challenge,
        scopes: &req.scopes.join(" "),
    }
    .render();
    let mut r = page(StatusCode::OK, html, cookies(set));
    // The form's answer redirects to the client's listener: browsers hold redirects after a
    // form post to form-action too.
    let target = super::apps::origin_of(&req.redirect_uri).unwrap_or_default();
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self' {target}; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(&csp) {
        r.headers_mut().insert(axum::http::header::CONTENT_SECURITY_POLICY, v);
    }
    r
}

pub async fn decide(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(p): Form<AuthorizeParams>,
) -> Response {
    let req = match checked(&state, &p).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let Some((_, info)) = signed_in(&state, &headers).await else { return to_signin("/start/") };
    if !check_csrf(&headers, &p.csrf) {
        return refused_page(FORM_EXPIRED);
    }
    let state_pair = req.state.clone().unwrap_or_default();
    if p.decision != "approve" {
        return back_to(&req.redirect_uri, &[("error", "access_denied"), ("state", &state_pair)]);
    }
    let Some(ctx) = user_ctx(&state, &info, &headers, peer) else { return to_signin("/start/") };
    match state.services.issue_authorization_code(&ctx, &info, &req).await {
        Ok(code) => back_to(&req.redirect_uri, &[("code", &code), ("state", &state_pair)]),
        Err(e) => super::apps::error_page_for(e, ""),
    }
}
