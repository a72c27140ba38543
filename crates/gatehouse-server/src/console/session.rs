//! Who is at the console: the portal sign-in plus the role session the portal opened for it.

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use gatehouse_core::Ctx;
use gatehouse_core::model::User;
use gatehouse_core::services::{PrincipalKind, SessionInfo};
use serde::Deserialize;
use std::net::SocketAddr;

use crate::AppState;
use crate::portal::web::*;
use crate::portal::{signed_in, to_signin, user_ctx};

/// The console's role session: `<access key id>.<session token>`. SameSite=Strict: no other
/// site can make the browser act in the console.
const CONSOLE_COOKIE: &str = "gh_console";

pub fn console_cookie(access_key_id: &str, session_token: &str, max_age: i64, secure: bool) -> HeaderValue {
    let mut c = format!("{CONSOLE_COOKIE}={access_key_id}.{session_token}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age}");
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("gh_invalid=; Max-Age=0"))
}

pub(super) fn clear_console_cookie() -> HeaderValue {
    HeaderValue::from_static("gh_console=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// A console request's caller: the person, and the context acting as their role session.
pub struct Admin {
    pub user: User,
    pub ctx: Ctx,
    /// The person's portal sign-in, which holds ceremonies they start here (a security key
    /// registered for a user).
    pub portal_token: String,
}

impl Admin {
    /// The permission set the session holds, for the header: its role is
    /// `AWSReservedSSO_<name>_<16 hex>/<user>`.
    pub fn role(&self) -> &str {
        let PrincipalKind::AccessKey { user_name, .. } = &self.ctx.principal.kind else { return "" };
        let role = user_name.split('/').next().unwrap_or_default();
        gatehouse_core::services::permission_sets::permission_set_name_of(role).unwrap_or(role)
    }
}

#[derive(Template)]
#[template(path = "console/no_session.html")]
struct NoSessionPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    user_name: &'a str,
    management_account: &'a str,
    roles: Vec<String>,
}

/// The console's caller, or the response that sends them where they can become one: to the
/// portal's sign-in, or to choose a role in the management account.
pub async fn admin(state: &AppState, headers: &HeaderMap, peer: SocketAddr, here: &str) -> Result<Admin, Response> {
    let Some((portal_token, info)) = signed_in(state, headers).await else { return Err(to_signin(here)) };
    let svc = &state.services;
    let found = match cookie(headers, CONSOLE_COOKIE).as_deref().and_then(|v| v.split_once('.')) {
        Some((key, token)) => svc.console_principal(&info.user, key, token).await.ok().flatten(),
        None => None,
    };
    let c = client(headers, peer);
    match found {
        Some(principal) => Ok(Admin { user: info.user, ctx: Ctx::new(principal, c.source_ip, c.user_agent), portal_token }),
        None => Err(no_session(state, &info, headers, peer).await),
    }
}

/// The client's address as the server saw it (forwarded.rs sets it from trusted proxies).
fn peer_of(extensions: &axum::http::Extensions) -> SocketAddr {
    extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)))
}

/// A console page's caller as a handler argument: signed in, with a console session, or the
/// response that sends them to get one (back to this very page afterwards).
impl axum::extract::FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, Response> {
        let peer = peer_of(&parts.extensions);
        let here = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/console");
        admin(state, &parts.headers, peer, here).await
    }
}

/// A posted console form with its caller, as the last handler argument: the fields in order,
/// the CSRF token checked, then [`admin`] (back to this URL after signing in).
pub struct Posted {
    pub admin: Admin,
    pub form: super::Pairs,
    pub headers: HeaderMap,
}

impl axum::extract::FromRequest<AppState> for Posted {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, Response> {
        use axum::response::IntoResponse;
        let peer = peer_of(req.extensions());
        let here = req.uri().path().to_string();
        let headers = req.headers().clone();
        let body = axum::body::Bytes::from_request(req, state).await.map_err(IntoResponse::into_response)?;
        let form = super::Pairs::parse(&body);
        let admin = form_admin(state, &headers, peer, form.one("csrf"), &here).await?;
        Ok(Posted { admin, form, headers })
    }
}

/// A form's caller: its CSRF token checked first, then [`admin`].
pub async fn form_admin(state: &AppState, headers: &HeaderMap, peer: SocketAddr, csrf: &str, here: &str) -> Result<Admin, Response> {
    if !check_csrf(headers, csrf) {
        return Err(super::message(StatusCode::FORBIDDEN, "This form has expired", "Go back, reload the page and try again."));
    }
    admin(state, headers, peer, here).await
}

/// Signed in to the portal but not to the console: the roles of the management account that
/// would open it.
async fn no_session(state: &AppState, info: &SessionInfo, headers: &HeaderMap, peer: SocketAddr) -> Response {
    let svc = &state.services;
    let (Ok(management), Some(ctx)) = (svc.instance().map(|i| i.management_account_id.clone()), user_ctx(state, info, headers, peer))
    else {
        return page(StatusCode::SERVICE_UNAVAILABLE, Ok("Gatehouse is not initialized".into()), vec![]);
    };
    let user = &info.user;
    let page_of_roles = gatehouse_core::model::Page { after: None, limit: 100 };
    let roles = svc.list_my_account_roles(&ctx, user, &management, &page_of_roles).await.map(|p| p.items).unwrap_or_default();
    let html =
        NoSessionPage { error: None, notice: None, user_name: &user.profile.user_name, management_account: &management, roles }.render();
    page(StatusCode::FORBIDDEN, html, vec![clear_console_cookie()])
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

impl CsrfForm {
    pub fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// Sign out of the console (the portal sign-in stays).
pub async fn sign_out(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !check_csrf(&headers, &form.csrf) {
        return super::message(StatusCode::FORBIDDEN, "This form has expired", "Go back, reload the page and try again.");
    }
    if let Ok(admin) = admin(&state, &headers, peer, "/console").await
        && let Err(e) = state.services.end_console_session(&admin.ctx).await
    {
        tracing::warn!(error = %e, "could not end a console session");
    }
    see_other("/start/", vec![clear_console_cookie()])
}
