//! The portal's AWS accounts: each account the person reaches with its roles, a "Management
//! console" link per role (bookmarkable: it signs in to AWS each time it is opened) and
//! "Command line or programmatic access" with temporary credentials in the guide's three forms.

use askama::Template;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_core::Ctx;
use gatehouse_core::model::{Page, User};
use gatehouse_core::services::portal_accounts::ConsoleSignIn;
use std::net::SocketAddr;

use super::apps::{PostPage, csp_posting_to, error_page_for};
use super::pages::{signed_in, to_signin, user_ctx};
use super::web::*;
use crate::AppState;

/// An account on the portal home, with the roles the person has there.
pub(super) struct AccountTile {
    pub id: String,
    pub name: String,
    pub email: String,
    pub roles: Vec<String>,
}

#[derive(Template)]
#[template(path = "portal/aws_credentials.html")]
struct CredentialsPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    role: &'a str,
    account_id: &'a str,
    account_name: &'a str,
    expiration: String,
    start_url: String,
    access_key_id: &'a str,
    secret_access_key: &'a str,
    session_token: &'a str,
}

/// Every account the person reaches, with its roles.
pub(super) async fn my_accounts(state: &AppState, ctx: &Ctx, user: &User) -> gatehouse_core::Result<Vec<AccountTile>> {
    let svc = &state.services;
    let mut tiles = Vec::new();
    let mut page = Page { after: None, limit: 100 };
    loop {
        let accounts = svc.list_my_accounts(ctx, user, &page).await?;
        for a in accounts.items {
            let roles = svc.list_my_account_roles(ctx, user, &a.id, &Page { after: None, limit: 100 }).await?.items;
            tiles.push(AccountTile { id: a.id, name: a.name, email: a.email, roles });
        }
        match accounts.next {
            Some(n) => page.after = Some(n),
            None => return Ok(tiles),
        }
    }
}

const NOT_FOUND: &str = "There is no such AWS account.";

pub async fn console(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((account, role)): Path<(String, String)>,
) -> Response {
    let here = format!("/start/aws/{account}/{role}/console");
    let Some((_, info)) = signed_in(&state, &headers).await else { return to_signin(&here) };
    let Some(ctx) = user_ctx(&state, &info, &headers, peer) else { return to_signin(&here) };
    match state.services.console_sign_in(&ctx, &info.user, &account, &role).await {
        Ok(ConsoleSignIn::Aws { destination, saml_response, relay_state }) => {
            let name = format!("the AWS console of {account} as {role}");
            let html = PostPage {
                error: None,
                notice: None,
                app_name: &name,
                acs_url: &destination,
                saml_response: &saml_response,
                relay_state: relay_state.as_deref(),
            }
            .render();
            let mut r = page(StatusCode::OK, html, vec![]);
            r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, csp_posting_to(&destination));
            r.headers_mut().insert(header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
            r
        }
        Ok(ConsoleSignIn::Gatehouse { access_key_id, session_token, expiration, relay_state }) => {
            // The management account's console is Gatehouse's: a relay state inside it is
            // where the role starts; anything else starts at the dashboard.
            let to = relay_state.filter(|r| r.starts_with("/console") && safe_next(r) == *r).unwrap_or_else(|| "/console".into());
            let age = (expiration - chrono::Utc::now()).num_seconds().max(0);
            let secure = state.public_url.starts_with("https://");
            see_other(&to, vec![crate::console::console_cookie(&access_key_id, &session_token, age, secure)])
        }
        Err(e) => error_page_for(e, NOT_FOUND),
    }
}

pub async fn credentials(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((account, role)): Path<(String, String)>,
) -> Response {
    let here = format!("/start/aws/{account}/{role}/credentials");
    let Some((_, info)) = signed_in(&state, &headers).await else { return to_signin(&here) };
    let Some(ctx) = user_ctx(&state, &info, &headers, peer) else { return to_signin(&here) };
    let svc = &state.services;
    let result = async {
        let creds = svc.get_role_credentials(&ctx, &info.user, &account, &role).await?;
        let name = svc.describe_my_account(&ctx, &info.user, &account).await?.name;
        Ok::<_, gatehouse_core::Error>((creds, name))
    }
    .await;
    match result {
        Ok((c, name)) => {
            let html = CredentialsPage {
                error: None,
                notice: None,
                role: &role,
                account_id: &account,
                account_name: &name,
                expiration: c.expiration.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                start_url: state.services.portal_url().await,
                access_key_id: &c.access_key_id,
                secret_access_key: &c.secret_access_key,
                session_token: &c.session_token,
            }
            .render();
            let mut r = page(StatusCode::OK, html, vec![]);
            r.headers_mut().insert(header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => error_page_for(e, NOT_FOUND),
    }
}

/// The IdP metadata every account's SAML provider holds (for administrators and SPs).
pub async fn metadata(State(state): State<AppState>) -> Response {
    match state.services.aws_idp_metadata().await {
        Ok(xml) => ([(header::CONTENT_TYPE, "application/samlmetadata+xml")], xml).into_response(),
        Err(e) => error_page_for(e, NOT_FOUND),
    }
}
