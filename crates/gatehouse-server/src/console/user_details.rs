//! A user's details: profile, groups and MFA devices, each section as the role session may see
//! it (a section the policy denies shows why).

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::model::{MfaDevice, Page, PortalSession, User};
use serde::Deserialize;
use std::net::SocketAddr;

use super::confirm::{Dialog, unless_typed};
use super::session::{Admin, form_admin};
use crate::AppState;
use crate::portal::web::*;

#[derive(Template)]
#[template(path = "console/user_details.html")]
struct UserPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    user: User,
    /// Group names, or why not.
    groups: Result<Vec<String>, String>,
    devices: Result<Vec<MfaDevice>, String>,
    sessions: Result<Vec<PortalSession>, String>,
}

/// The names of the user's groups (the memberships name group ids).
async fn group_names(state: &AppState, admin: &Admin, user_id: &str) -> gatehouse_core::Result<Vec<String>> {
    let svc = &state.services;
    let mut names = Vec::new();
    let mut page = Page { after: None, limit: 100 };
    loop {
        let memberships = svc.list_group_memberships_for_member(&admin.ctx, user_id, page.clone()).await?;
        for m in &memberships.items {
            names.push(svc.describe_group(&admin.ctx, &m.group_id).await?.profile.display_name);
        }
        match memberships.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    names.sort_by_key(|n| n.to_lowercase());
    Ok(names)
}

/// `?saved=1` after an edit.
#[derive(serde::Deserialize, Default)]
pub struct Saved {
    #[serde(default)]
    saved: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    Query(q): Query<Saved>,
) -> Response {
    let notice = q.saved.is_some().then(|| "Your changes were saved.".to_string());
    details(&state, &admin, &headers, &user_id, None, notice).await
}

fn here(user_id: &str) -> String {
    format!("/console/users/{}", percent_encode(user_id))
}

/// The details page, with what the last action said.
async fn details(
    state: &AppState,
    admin: &Admin,
    headers: &HeaderMap,
    user_id: &str,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let svc = &state.services;
    let user = match svc.describe_user(&admin.ctx, user_id).await {
        Ok(u) => u,
        Err(gatehouse_core::Error::NotFound { .. }) => {
            return super::message(StatusCode::NOT_FOUND, "No such user", "The user does not exist (or was deleted).");
        }
        Err(e) => return super::message(StatusCode::FORBIDDEN, "User details are unavailable", &e.to_string()),
    };
    let (csrf, set) = csrf_token(headers);
    let groups = group_names(state, admin, user_id).await.map_err(|e| e.to_string());
    let devices = svc.list_mfa_devices(&admin.ctx, user_id).await.map_err(|e| e.to_string());
    let sessions = svc.list_user_sessions(&admin.ctx, user_id).await.map_err(|e| e.to_string());
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let html = UserPage { error, notice, csrf: &csrf, admin, user, groups, devices, sessions }.render();
    page(status, html, set.into_iter().collect())
}

#[derive(Deserialize)]
pub struct DeviceForm {
    #[serde(default)]
    csrf: String,
    /// "rename", "delete", "register-app" (a new secret to show) or "confirm-app" (its code).
    action: String,
    #[serde(default)]
    device_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    confirmation: Option<String>,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    code: String,
    /// A security key's registration: "security_key" or "built_in", and the browser's answer.
    #[serde(default)]
    attachment: String,
    #[serde(default)]
    credential: String,
}

#[derive(Template)]
#[template(path = "console/user_register_key.html")]
struct RegisterKeyPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    user: User,
    options: &'a str,
    attachment: &'static str,
    kind_label: &'static str,
}

/// "Register MFA device" with a security key or built-in authenticator: the browser's ceremony
/// (static/webauthn.js), held by the administrator's portal session.
async fn register_key(state: &AppState, admin: &Admin, headers: &HeaderMap, user_id: &str, attachment: &str) -> Response {
    let svc = &state.services;
    let Some(attachment) = gatehouse_core::services::KeyAttachment::parse(attachment) else {
        return details(state, admin, headers, user_id, Some("Choose a security key or a built-in authenticator.".into()), None).await;
    };
    let (user, ceremony) = match svc.describe_user(&admin.ctx, user_id).await {
        Ok(user) => match svc.start_key_registration_for_user(&admin.ctx, &admin.portal_token, user_id, attachment).await {
            Ok(c) => (user, c),
            Err(e) => return details(state, admin, headers, user_id, Some(e.to_string()), None).await,
        },
        Err(e) => return super::message(StatusCode::NOT_FOUND, "No such user", &e.to_string()),
    };
    let (csrf, set) = csrf_token(headers);
    let html = RegisterKeyPage {
        error: None,
        notice: None,
        csrf: &csrf,
        admin,
        user,
        options: &ceremony.options,
        attachment: attachment.as_str(),
        kind_label: attachment.label(),
    }
    .render();
    page(StatusCode::OK, html, set.into_iter().collect())
}

#[derive(Template)]
#[template(path = "console/user_register_app.html")]
struct RegisterAppPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    user: User,
    secret: &'a str,
    qr_data_uri: String,
    name: &'a str,
}

/// "To register an MFA device" (authenticator app) for a user: the secret and its QR code, then
/// the code their app shows. The secret travels in the form: it is on the page anyway.
async fn register_app_page(
    state: &AppState,
    admin: &Admin,
    headers: &HeaderMap,
    user_id: &str,
    secret: &str,
    name: &str,
    error: Option<String>,
) -> Response {
    let user = match state.services.describe_user(&admin.ctx, user_id).await {
        Ok(u) => u,
        Err(e) => return super::message(StatusCode::NOT_FOUND, "No such user", &e.to_string()),
    };
    let qr = gatehouse_core::services::totp_enrollment(secret, &user.profile.user_name).map(|e| e.qr_svg).unwrap_or_default();
    let (csrf, set) = csrf_token(headers);
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let qr_data_uri = crate::portal::pages::svg_data_uri(&qr);
    let html = RegisterAppPage { error, notice: None, csrf: &csrf, admin, user, secret, qr_data_uri, name }.render();
    page(status, html, set.into_iter().collect())
}

/// The MFA devices tab: rename or delete one of the user's devices.
pub async fn change_device(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    Form(form): Form<DeviceForm>,
) -> Response {
    let admin = match form_admin(&state, &headers, peer, &form.csrf, &here(&user_id)).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let svc = &state.services;
    if form.action == "delete" {
        let here = here(&user_id);
        let devices = format!("{here}/devices");
        let dialog = Dialog {
            title: "Delete MFA device",
            text: format!("The user can no longer sign in with device {} ({}).", form.name, form.device_id),
            word: "DELETE",
            button: "Delete",
            action: &devices,
            fields: vec![("action", form.action.clone()), ("device_id", form.device_id.clone()), ("name", form.name.clone())],
            cancel: &here,
        };
        if let Some(ask) = unless_typed(&headers, &admin, form.confirmation.as_deref(), dialog) {
            return ask;
        }
    }
    match form.action.as_str() {
        "register-app" => {
            return match svc.start_totp_registration(&admin.ctx, &user_id).await {
                Ok(e) => register_app_page(&state, &admin, &headers, &user_id, &e.secret, "Authenticator app", None).await,
                Err(e) => details(&state, &admin, &headers, &user_id, Some(e.to_string()), None).await,
            };
        }
        "register-key" => return register_key(&state, &admin, &headers, &user_id, &form.attachment).await,
        "confirm-key" => {
            let registered =
                svc.complete_key_registration_for_user(&admin.ctx, &admin.portal_token, &user_id, &form.credential, form.name.trim()).await;
            return match registered {
                Ok(d) => details(&state, &admin, &headers, &user_id, None, Some(format!("Registered {}.", d.name))).await,
                Err(e) => details(&state, &admin, &headers, &user_id, Some(e.to_string()), None).await,
            };
        }
        "confirm-app" => {
            let name = form.name.trim();
            return match svc.complete_totp_registration(&admin.ctx, &user_id, &form.secret, form.code.trim(), name).await {
                Ok(d) => details(&state, &admin, &headers, &user_id, None, Some(format!("Registered {}.", d.name))).await,
                Err(e) => register_app_page(&state, &admin, &headers, &user_id, &form.secret, name, Some(e.to_string())).await,
            };
        }
        _ => {}
    }
    let outcome = match form.action.as_str() {
        "rename" => {
            svc.rename_mfa_device(&admin.ctx, &user_id, &form.device_id, form.name.trim()).await.map(|d| format!("Renamed to {}.", d.name))
        }
        "delete" => svc.delete_mfa_device(&admin.ctx, &user_id, &form.device_id).await.map(|_| "The MFA device was deleted.".to_string()),
        _ => return super::message(StatusCode::BAD_REQUEST, "Unknown action", "Go back and choose one of the page's buttons."),
    };
    match outcome {
        Ok(n) => details(&state, &admin, &headers, &user_id, None, Some(n)).await,
        Err(e) => details(&state, &admin, &headers, &user_id, Some(e.to_string()), None).await,
    }
}

/// Revoke every session of the user (they sign in again; their AWS CLI tokens go too).
pub async fn revoke_sessions(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    Form(form): Form<super::session::CsrfForm>,
) -> Response {
    let admin = match form_admin(&state, &headers, peer, form.csrf(), &here(&user_id)).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match state.services.revoke_user_sessions(&admin.ctx, &user_id).await {
        Ok(n) => details(&state, &admin, &headers, &user_id, None, Some(format!("Revoked {n} session(s)."))).await,
        Err(e) => details(&state, &admin, &headers, &user_id, Some(e.to_string()), None).await,
    }
}
