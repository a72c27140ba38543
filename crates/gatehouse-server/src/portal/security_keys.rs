//! Security keys and built-in authenticators in the portal: registration (from the MFA devices
//! page, or forced at sign-in) and the sign-in challenge. The browser side is
//! `static/webauthn.js`; the page posts the browser's answer as the `credential` field.

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_core::model::Stage;
use gatehouse_core::services::{Client, KeyAttachment, KeyCeremony};
use serde::Deserialize;
use std::net::SocketAddr;

use super::pages::{
    DEVICES, FORM_EXPIRED, after_step, cookies, device_owner, devices_after, ends_sign_in, enroll_choices, signin_page, step_token,
};
use super::web::*;
use crate::AppState;

#[derive(Template)]
#[template(path = "portal/register_key.html")]
struct RegisterKeyPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    next: &'a str,
    forced: bool,
    action: &'a str,
    options: &'a str,
    kind_label: &'static str,
    attachment: &'static str,
    /// Other device types a forced registration may use: (type, label).
    choices: Vec<(&'static str, &'static str)>,
}

#[derive(Deserialize)]
pub struct StartForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    attachment: String,
}

#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
    /// The browser's answer (JSON), filled in by webauthn.js.
    #[serde(default)]
    credential: String,
    #[serde(default)]
    device_name: String,
    #[serde(default)]
    attachment: String,
}

pub async fn script() -> impl IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "text/javascript; charset=utf-8")], include_str!("../../static/webauthn.js"))
}

struct KeyPage<'a> {
    ceremony: &'a KeyCeremony,
    attachment: KeyAttachment,
    forced: bool,
    choices: Vec<(&'static str, &'static str)>,
    next: &'a str,
}

fn key_page(headers: &HeaderMap, status: StatusCode, p: KeyPage<'_>, error: Option<String>) -> Response {
    let (csrf, set) = csrf_token(headers);
    let action = if p.forced { "/start/signin/register/webauthn" } else { "/start/mfa-devices/webauthn" };
    let html = RegisterKeyPage {
        error,
        notice: None,
        csrf: &csrf,
        next: p.next,
        forced: p.forced,
        action,
        options: &p.ceremony.options,
        kind_label: p.attachment.label(),
        attachment: p.attachment.as_str(),
        choices: p.choices,
    }
    .render();
    page(status, html, cookies(set))
}

/// The forced registration's page for a key: a new ceremony each time it is shown.
#[allow(clippy::too_many_arguments)]
pub(super) async fn enroll_page(
    state: &AppState,
    headers: &HeaderMap,
    client: &Client,
    token: &str,
    attachment: KeyAttachment,
    choices: Vec<(&'static str, &'static str)>,
    next: &str,
    error: Option<String>,
) -> Response {
    match state.services.start_key_enrollment_at_sign_in(client, token, attachment).await {
        Ok(ceremony) => {
            let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
            key_page(headers, status, KeyPage { ceremony: &ceremony, attachment, forced: true, choices, next }, error)
        }
        Err(e) if ends_sign_in(&e) => signin_page(headers, StatusCode::UNAUTHORIZED, next, "", Some(e.to_string()), None),
        Err(e) => signin_page(headers, StatusCode::FORBIDDEN, next, "", Some(e.to_string()), None),
    }
}

/// Forced registration at sign-in: the browser's answer.
pub async fn enroll(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<AnswerForm>,
) -> Response {
    let next = safe_next(&f.next);
    let token = match step_token(&state, &headers, Stage::MfaEnroll, &next).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let c = client(&headers, peer);
    let attachment = KeyAttachment::parse(&f.attachment).unwrap_or_default();
    let error = if !check_csrf(&headers, &f.csrf) {
        FORM_EXPIRED.to_string()
    } else {
        match state.services.complete_key_enrollment_at_sign_in(&c, &token, &f.credential, &f.device_name, &next).await {
            Ok(step) => return after_step(&state, step, &next),
            Err(e) if ends_sign_in(&e) => return signin_page(&headers, StatusCode::UNAUTHORIZED, &next, "", Some(e.to_string()), None),
            Err(e) => e.to_string(),
        }
    };
    let choices = enroll_choices(&state).await.into_iter().filter(|c| c.0 != attachment.as_str()).collect();
    enroll_page(&state, &headers, &c, &token, attachment, choices, &next, Some(error)).await
}

/// A signed-in user starts registering a key from the MFA devices page.
pub async fn start(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<StartForm>,
) -> Response {
    let o = match device_owner(&state, &headers, peer, &f.csrf).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let attachment = KeyAttachment::parse(&f.attachment).unwrap_or_default();
    match state.services.start_key_registration_in_session(&o.ctx, &o.token, attachment).await {
        Ok(ceremony) => {
            let p = KeyPage { ceremony: &ceremony, attachment, forced: false, choices: Vec::new(), next: DEVICES };
            key_page(&headers, StatusCode::OK, p, None)
        }
        Err(e) => devices_after(&state, &headers, peer, &o, Err(e.to_string())).await,
    }
}

/// The browser's answer to a registration started from the MFA devices page.
pub async fn complete(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<AnswerForm>,
) -> Response {
    let o = match device_owner(&state, &headers, peer, &f.csrf).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let result = state.services.complete_key_registration_in_session(&o.ctx, &o.token, &f.credential, &f.device_name).await;
    devices_after(&state, &headers, peer, &o, result.map(|d| format!("Registered {}.", d.name)).map_err(|e| e.to_string())).await
}
