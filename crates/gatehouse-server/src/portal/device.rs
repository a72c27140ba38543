//! `/start/device`: a person approves (or denies) the AWS CLI's device authorization after
//! signing in. Plain forms; the code is checked against the signed-in person's session.

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use std::net::SocketAddr;

use super::pages::{FORM_EXPIRED, cookies, signed_in, to_signin, user_ctx};
use super::web::*;
use crate::AppState;

#[derive(Template)]
#[template(path = "portal/device.html")]
struct DevicePage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    user_name: &'a str,
    user_code: &'a str,
    client_name: Option<String>,
    done: bool,
    heading: &'a str,
    outcome: &'a str,
}

impl<'a> DevicePage<'a> {
    /// The page for this person and code, asking for a decision.
    fn new(csrf: &'a str, user_name: &'a str, user_code: &'a str) -> Self {
        DevicePage { error: None, notice: None, csrf, user_name, user_code, client_name: None, done: false, heading: "", outcome: "" }
    }
}

const INVALID_CODE: &str = "This code is not valid, or it has expired. Start again from your terminal.";

#[derive(Deserialize, Default)]
pub struct CodeQuery {
    #[serde(default)]
    user_code: String,
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    user_code: String,
    #[serde(default)]
    decision: String,
}

fn here(user_code: &str) -> String {
    if user_code.is_empty() { "/start/device".into() } else { format!("/start/device?user_code={}", percent_encode(user_code)) }
}

pub async fn form(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<CodeQuery>) -> Response {
    let code = gatehouse_core::services::oidc::normalize_user_code(&q.user_code);
    let Some((_, info)) = signed_in(&state, &headers).await else { return to_signin(&here(&code)) };
    let (csrf, set) = csrf_token(&headers);
    let (client_name, error, status) = if code.is_empty() {
        (None, None, StatusCode::OK)
    } else {
        match state.services.pending_device(&code).await {
            Ok(Some((_, name))) => (Some(name), None, StatusCode::OK),
            Ok(None) => (None, Some(INVALID_CODE.into()), StatusCode::NOT_FOUND),
            Err(e) => {
                tracing::error!(error = %e, "looking up a device authorization failed");
                (None, Some("Something went wrong. Try again.".into()), StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    };
    let html = DevicePage { error, client_name, ..DevicePage::new(&csrf, &info.user.profile.user_name, &code) }.render();
    page(status, html, cookies(set))
}

pub async fn decide(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<DecisionForm>,
) -> Response {
    let code = gatehouse_core::services::oidc::normalize_user_code(&f.user_code);
    let Some((_, info)) = signed_in(&state, &headers).await else { return to_signin(&here(&code)) };
    let (csrf, set) = csrf_token(&headers);
    let render = |status, error: Option<String>, heading: &str, outcome: &str, done| {
        let html = DevicePage { error, done, heading, outcome, ..DevicePage::new(&csrf, &info.user.profile.user_name, &code) }.render();
        page(status, html, cookies(set.clone()))
    };
    if !check_csrf(&headers, &f.csrf) {
        return render(StatusCode::FORBIDDEN, Some(FORM_EXPIRED.into()), "", "", false);
    }
    let Some(ctx) = user_ctx(&state, &info, &headers, peer) else { return to_signin(&here(&code)) };
    let approve = f.decision == "approve";
    match state.services.decide_device(&ctx, &info, &code, approve).await {
        Ok(true) if approve => {
            render(StatusCode::OK, None, "Request approved", "You can close this window and return to your terminal.", true)
        }
        Ok(true) => render(StatusCode::OK, None, "Request denied", "The application was not given access.", true),
        Ok(false) => render(StatusCode::NOT_FOUND, Some(INVALID_CODE.into()), "", "", false),
        Err(e) => {
            tracing::error!(error = %e, "deciding a device authorization failed");
            render(StatusCode::INTERNAL_SERVER_ERROR, Some("Something went wrong. Try again.".into()), "", "", false)
        }
    }
}
