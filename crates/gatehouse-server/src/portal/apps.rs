//! Applications in the portal: the tiles' sign-in (IdP-initiated, or the start URL),
//! administrator mode, and the SAML endpoints service providers call — SSO over HTTP-Redirect
//! and HTTP-POST, metadata, and the certificate download.

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Path, Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_core::services::applications::{Federation, PendingRequest, SamlBinding, SamlSignIn};
use gatehouse_core::services::{Principal, SessionInfo};
use gatehouse_core::{Ctx, Error};
use serde::Deserialize;
use std::net::SocketAddr;

use super::pages::{signed_in, to_signin, user_ctx};
use super::web::*;
use crate::AppState;

#[derive(Template)]
#[template(path = "portal/app_error.html")]
struct ErrorPage {
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/saml_post.html")]
pub(super) struct PostPage<'a> {
    pub error: Option<String>,
    pub notice: Option<String>,
    pub app_name: &'a str,
    pub acs_url: &'a str,
    pub saml_response: &'a str,
    pub relay_state: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "portal/saml_admin.html")]
struct AdminPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    app_name: &'a str,
    acs_url: &'a str,
    saml_response: &'a str,
    relay_state: Option<&'a str>,
    xml: &'a str,
}

/// A refusal people can read: the service's message on the portal's error page.
fn error_page(e: Error) -> Response {
    error_page_for(e, "There is no such application.")
}

/// The refusal page for a service error; `not_found` says what was not found.
pub(super) fn error_page_for(e: Error, not_found: &str) -> Response {
    let status = match &e {
        Error::AccessDenied { .. } => StatusCode::FORBIDDEN,
        Error::NotFound { .. } => StatusCode::NOT_FOUND,
        Error::Validation { .. } | Error::Conflict { .. } => StatusCode::BAD_REQUEST,
        Error::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let message = match &e {
        Error::Validation { message, .. } => message.clone(),
        Error::NotFound { .. } => not_found.to_string(),
        Error::Internal { .. } => {
            tracing::error!(error = %e, "application sign-in failed");
            "Something went wrong on our side. Try again later.".to_string()
        }
        other => other.to_string(),
    };
    page(status, ErrorPage { error: Some(message), notice: None }.render(), vec![])
}

/// The origin (`scheme://host[:port]`) of a URL, for the page's form-action; None if odd.
pub(super) fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    let ok = matches!(scheme, "http" | "https")
        && !host.is_empty()
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    ok.then(|| format!("{scheme}://{host}"))
}

/// The portal's policy, except that forms may post to the application's ACS.
pub(super) fn csp_posting_to(acs_url: &str) -> HeaderValue {
    let target = origin_of(acs_url).unwrap_or_else(|| "'self'".to_string());
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action {target}; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    HeaderValue::from_str(&csp).unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
}

/// The page that posts a Response. SAMLResponse is written unescaped: it is base64, whose
/// alphabet (A–Z, a–z, 0–9, +, /, =) holds nothing HTML would read in an attribute value, and
/// escaping 10 KB on every sign-in showed in profiles.
fn post_page(s: &SamlSignIn, admin: bool) -> Response {
    debug_assert!(s.saml_response.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')));
    let html = if admin {
        AdminPage {
            error: None,
            notice: None,
            app_name: &s.application_name,
            acs_url: &s.acs_url,
            saml_response: &s.saml_response,
            relay_state: s.relay_state.as_deref(),
            xml: &s.xml,
        }
        .render()
    } else {
        PostPage {
            error: None,
            notice: None,
            app_name: &s.application_name,
            acs_url: &s.acs_url,
            saml_response: &s.saml_response,
            relay_state: s.relay_state.as_deref(),
        }
        .render()
    };
    let mut r = page(StatusCode::OK, html, vec![]);
    r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, csp_posting_to(&s.acs_url));
    r
}

/// The signed-in user and their context, or the way to the sign-in page (back to `next`).
async fn user_or_signin(state: &AppState, headers: &HeaderMap, peer: SocketAddr, next: &str) -> Result<(SessionInfo, Ctx), Response> {
    let Some((_, info)) = signed_in(state, headers).await else { return Err(to_signin(next)) };
    let ctx = user_ctx(state, &info, headers, peer).ok_or_else(|| error_page(Error::internal("no instance")))?;
    Ok((info, ctx))
}

async fn answer(state: &AppState, ctx: &Ctx, info: &SessionInfo, app_id: &str, pending: Option<&PendingRequest>, admin: bool) -> Response {
    match state.services.federate(ctx, info, app_id, pending).await {
        Ok(signin) => post_page(&signin, admin),
        Err(e) => error_page(e),
    }
}

#[derive(Deserialize)]
pub struct TileQuery {
    #[serde(default)]
    admin: Option<String>,
}

/// A tile: IdP-initiated sign-in, or the application's start URL when it has one (the
/// application then sends its AuthnRequest). `?admin=1` (shift-click) shows the XML instead.
pub async fn tile(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(app_id): Path<String>,
    Query(q): Query<TileQuery>,
) -> Response {
    let (info, ctx) = match user_or_signin(&state, &headers, peer, &format!("/start/applications/{app_id}")).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let admin = q.admin.is_some_and(|a| a == "1" || a == "true");
    match state.services.open_tile(&ctx, &info, &app_id, admin).await {
        Ok(Federation::StartUrl(url)) => see_other(&url, vec![]),
        Ok(Federation::Response(signin)) => post_page(&signin, admin),
        Err(e) => error_page(e),
    }
}

fn anonymous_ctx(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> Ctx {
    let account = state.services.instance().map(|i| i.management_account_id.clone()).unwrap_or_default();
    let c = client(headers, peer);
    Ctx::new(Principal::anonymous(&account), c.source_ip, c.user_agent)
}

/// Check the request, then answer at once for a signed-in user, or after sign-in.
async fn start(state: AppState, peer: SocketAddr, headers: HeaderMap, app_id: String, binding: SamlBinding<'_>) -> Response {
    let session = signed_in(&state, &headers).await;
    let ctx = match &session {
        Some((_, info)) => user_ctx(&state, info, &headers, peer).unwrap_or_else(|| anonymous_ctx(&state, &headers, peer)),
        None => anonymous_ctx(&state, &headers, peer),
    };
    let pending = match state.services.check_authn_request(&ctx, &app_id, binding).await {
        Ok(p) => p,
        Err(e) => return error_page(e),
    };
    match &session {
        Some((_, info)) => answer(&state, &ctx, info, &app_id, Some(&pending), false).await,
        None => to_signin(&format!("/saml/{app_id}/continue?request={}", state.services.seal_pending(&pending))),
    }
}

#[derive(Deserialize)]
pub struct RedirectQuery {
    #[serde(rename = "SAMLRequest", default)]
    saml_request: String,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// SP-initiated sign-in, HTTP-Redirect binding.
pub async fn sso_redirect(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(app_id): Path<String>,
    Query(q): Query<RedirectQuery>,
    RawQuery(raw): RawQuery,
) -> Response {
    let raw = raw.unwrap_or_default();
    let binding = SamlBinding::Redirect { saml_request: &q.saml_request, relay_state: q.relay_state.as_deref(), raw_query: &raw };
    start(state, peer, headers, app_id, binding).await
}

#[derive(Deserialize)]
pub struct PostForm {
    #[serde(rename = "SAMLRequest", default)]
    saml_request: String,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// SP-initiated sign-in, HTTP-POST binding. No CSRF token: the application's page posts here,
/// and the request is checked as a SAML message instead.
pub async fn sso_post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(app_id): Path<String>,
    form: Result<Form<PostForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return error_page(Error::validation("SAMLRequest", "Post the SAMLRequest as an HTML form (HTTP-POST binding)"));
    };
    let binding = SamlBinding::Post { saml_request: &f.saml_request, relay_state: f.relay_state.as_deref() };
    start(state, peer, headers, app_id, binding).await
}

#[derive(Deserialize)]
pub struct ContinueQuery {
    #[serde(default)]
    request: String,
}

/// After sign-in: answer the request checked before it.
pub async fn sso_continue(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(app_id): Path<String>,
    Query(q): Query<ContinueQuery>,
) -> Response {
    let (info, ctx) = match user_or_signin(&state, &headers, peer, &format!("/saml/{app_id}/continue?request={}", q.request)).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    match state.services.open_pending(&app_id, &q.request) {
        Ok(pending) => answer(&state, &ctx, &info, &app_id, Some(&pending), false).await,
        Err(e) => error_page(e),
    }
}

pub async fn metadata(State(state): State<AppState>, Path(app_id): Path<String>) -> Response {
    match state.services.idp_metadata(&app_id).await {
        Ok(xml) => ([(header::CONTENT_TYPE, "application/samlmetadata+xml")], xml).into_response(),
        Err(e) => error_page(e),
    }
}

pub async fn certificate(State(state): State<AppState>, Path(app_id): Path<String>) -> Response {
    match state.services.idp_certificate(&app_id).await {
        Ok(pem) => {
            let disposition = format!("attachment; filename=\"gatehouse-{app_id}.pem\"");
            let mut r = ([(header::CONTENT_TYPE, "application/x-pem-file")], pem).into_response();
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            r
        }
        Err(e) => error_page(e),
    }
}

pub async fn script() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], include_str!("../../static/portal.js"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_for_form_action() {
        assert_eq!(origin_of("https://sp.example.com:8443/acs?x=1").as_deref(), Some("https://sp.example.com:8443"));
        assert_eq!(origin_of("http://127.0.0.1:9/saml/acs").as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(origin_of("https://a.example; script-src *"), None);
        assert_eq!(origin_of("javascript:alert(1)"), None);
    }
}
