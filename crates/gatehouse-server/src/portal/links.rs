//! Pages reached from emails: "Forgot password?", the reset link and the invitation link.

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::model::EmailPurpose;
use serde::Deserialize;
use std::net::SocketAddr;

use super::pages::{after_step, signin_page};
use super::web::*;
use crate::AppState;

#[derive(Template)]
#[template(path = "portal/forgot.html")]
struct ForgotPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
}

#[derive(Template)]
#[template(path = "portal/set_password.html")]
struct SetPasswordPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    heading: &'a str,
    action: &'a str,
    again: &'a str,
    token: &'a str,
    valid: bool,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
}

#[derive(Deserialize)]
pub struct SetPasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

/// The two kinds of link, and where each page lives.
#[derive(Clone, Copy)]
enum Link {
    Reset,
    Invitation,
}

impl Link {
    fn purpose(self) -> EmailPurpose {
        match self {
            Link::Reset => EmailPurpose::PasswordReset,
            Link::Invitation => EmailPurpose::Invitation,
        }
    }
    fn heading(self) -> &'static str {
        match self {
            Link::Reset => "Choose a new password",
            Link::Invitation => "Accept your invitation",
        }
    }
    fn action(self) -> &'static str {
        match self {
            Link::Reset => "/start/reset",
            Link::Invitation => "/start/invitation",
        }
    }
    fn again(self) -> &'static str {
        match self {
            Link::Reset => "/start/forgot",
            Link::Invitation => "/start/signin",
        }
    }
}

fn forgot_page(headers: &HeaderMap, status: StatusCode, error: Option<String>, notice: Option<String>) -> Response {
    let (csrf, set) = csrf_token(headers);
    page(status, ForgotPage { error, notice, csrf: &csrf }.render(), set.into_iter().collect())
}

fn set_password_page(headers: &HeaderMap, link: Link, status: StatusCode, token: &str, valid: bool, error: Option<String>) -> Response {
    let (csrf, set) = csrf_token(headers);
    let html = SetPasswordPage {
        error,
        notice: None,
        csrf: &csrf,
        heading: link.heading(),
        action: link.action(),
        again: link.again(),
        token,
        valid,
    }
    .render();
    page(status, html, set.into_iter().collect())
}

pub async fn forgot_form(headers: HeaderMap) -> Response {
    forgot_page(&headers, StatusCode::OK, None, None)
}

pub async fn forgot(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<ForgotForm>,
) -> Response {
    if !check_csrf(&headers, &f.csrf) {
        return forgot_page(&headers, StatusCode::FORBIDDEN, Some("Your form expired. Try again.".into()), None);
    }
    if let Err(e) = state.services.request_password_reset(&client(&headers, peer), &f.username).await {
        tracing::error!(error = %e, "a password reset email failed");
    }
    // The same answer whether or not the user exists.
    forgot_page(
        &headers,
        StatusCode::OK,
        None,
        Some("If that user exists and has an email address, a reset link is on its way. It works once, for one hour.".into()),
    )
}

async fn link_form(state: &AppState, headers: &HeaderMap, link: Link, token: &str) -> Response {
    let valid = state.services.email_link_valid(token, link.purpose()).await.unwrap_or(false);
    let status = if valid { StatusCode::OK } else { StatusCode::GONE };
    set_password_page(headers, link, status, token, valid, None)
}

async fn link_post(state: &AppState, headers: &HeaderMap, peer: SocketAddr, link: Link, f: SetPasswordForm) -> Response {
    let retry = |error: String| set_password_page(headers, link, StatusCode::BAD_REQUEST, &f.token, true, Some(error));
    if !check_csrf(headers, &f.csrf) {
        return retry("Your form expired. Try again.".into());
    }
    if f.new_password != f.confirm_password {
        return retry("The passwords do not match.".into());
    }
    let result = state.services.redeem_email_link(&client(headers, peer), &f.token, link.purpose(), &f.new_password, "/start/").await;
    match result {
        Ok(Some(step)) => after_step(state, step, "/start/"),
        Ok(None) => signin_page(headers, StatusCode::OK, "/start/", "", None, Some("Your password is changed. Sign in with it.".into())),
        Err(gatehouse_core::services::SignInError::Invalid(e)) if matches!(&e, gatehouse_core::Error::Validation { field, .. } if field == "Link") => {
            set_password_page(headers, link, StatusCode::GONE, &f.token, false, None)
        }
        Err(e) => retry(e.to_string()),
    }
}

pub async fn reset_form(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<TokenQuery>) -> Response {
    link_form(&state, &headers, Link::Reset, &q.token).await
}

pub async fn reset(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<SetPasswordForm>,
) -> Response {
    link_post(&state, &headers, peer, Link::Reset, f).await
}

pub async fn invitation_form(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<TokenQuery>) -> Response {
    link_form(&state, &headers, Link::Invitation, &q.token).await
}

pub async fn invitation(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<SetPasswordForm>,
) -> Response {
    link_post(&state, &headers, peer, Link::Invitation, f).await
}
