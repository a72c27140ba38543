//! Settings: multi-factor authentication (the guide's "Configure MFA" choices) and automatic
//! provisioning (the SCIM endpoint and its access tokens: enable, generate, delete, disable).

use std::net::SocketAddr;

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::model::{MfaMode, MfaSettings, NoDevice, ScimToken};
use serde::Deserialize;

use super::confirm::{Dialog, unless_typed};
use super::session::{Admin, form_admin};
use crate::AppState;
use crate::portal::web::*;

const HERE: &str = "/console/settings";

#[derive(Template)]
#[template(path = "console/settings.html")]
struct SettingsPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    mfa: Result<MfaSettings, String>,
    /// Provisioning on?, its tokens; or why not.
    scim: Result<(bool, Vec<ScimToken>), String>,
    scim_endpoint: String,
    /// A token just generated: shown once.
    new_token: Option<String>,
}

impl SettingsPage<'_> {
    fn mode_is(&self, value: &str) -> bool {
        self.mfa.as_ref().is_ok_and(|m| m.mode.as_str() == value)
    }
    fn no_device_is(&self, value: &str) -> bool {
        self.mfa.as_ref().is_ok_and(|m| m.no_device.as_str() == value)
    }
}

async fn render(
    state: &AppState,
    admin: &Admin,
    headers: &HeaderMap,
    error: Option<String>,
    notice: Option<String>,
    new_token: Option<String>,
) -> Response {
    let svc = &state.services;
    let (csrf, set) = csrf_token(headers);
    let mfa = svc.describe_mfa_settings(&admin.ctx).await.map_err(|e| e.to_string());
    let scim = svc.list_scim_tokens(&admin.ctx).await.map_err(|e| e.to_string());
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let html = SettingsPage {
        error,
        notice,
        csrf: &csrf,
        admin,
        mfa,
        scim,
        scim_endpoint: format!("{}/scim/v2", state.public_url.trim_end_matches('/')),
        new_token,
    }
    .render();
    page(status, html, set.into_iter().collect())
}

pub async fn show(State(state): State<AppState>, admin: Admin, headers: HeaderMap) -> Response {
    render(&state, &admin, &headers, None, None, None).await
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    csrf: String,
    action: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    authenticator_apps: Option<String>,
    #[serde(default)]
    security_keys: Option<String>,
    #[serde(default)]
    no_device: String,
    #[serde(default)]
    users_manage_devices: Option<String>,
    #[serde(default)]
    token_id: String,
    /// The typed word of a confirmation dialog.
    #[serde(default)]
    confirmation: Option<String>,
}

pub async fn act(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SettingsForm>,
) -> Response {
    let admin = match form_admin(&state, &headers, peer, &form.csrf, HERE).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let svc = &state.services;
    let typed = form.confirmation.as_deref();
    let dialog = match form.action.as_str() {
        "disable-provisioning" => Some(Dialog {
            title: "Disable automatic provisioning",
            text: "Your identity provider will no longer create, update or delete users and groups here; the ones it made stay.".into(),
            word: "DISABLE",
            button: "Disable automatic provisioning",
            action: HERE,
            fields: vec![("action", form.action.clone())],
            cancel: HERE,
        }),
        "delete-token" => Some(Dialog {
            title: "Delete access token",
            text: format!(
                "Access token {} stops working at once: an identity provider that still uses it can no longer provision.",
                form.token_id
            ),
            word: "DELETE",
            button: "Delete access token",
            action: HERE,
            fields: vec![("action", form.action.clone()), ("token_id", form.token_id.clone())],
            cancel: HERE,
        }),
        _ => None,
    };
    if let Some(dialog) = dialog
        && let Some(ask) = unless_typed(&headers, &admin, typed, dialog)
    {
        return ask;
    }
    let mut new_token = None;
    let outcome = match form.action.as_str() {
        "mfa" => match (MfaMode::parse(&form.mode), NoDevice::parse(&form.no_device)) {
            (Some(mode), Some(no_device)) => {
                let settings = MfaSettings {
                    mode,
                    authenticator_apps: form.authenticator_apps.is_some(),
                    security_keys: form.security_keys.is_some(),
                    no_device,
                    users_manage_devices: form.users_manage_devices.is_some(),
                };
                svc.put_mfa_settings(&admin.ctx, &settings).await.map(|_| "MFA settings saved.".to_string())
            }
            _ => Err(gatehouse_core::Error::validation("Mfa", "choose when to prompt and what to do without a device")),
        },
        "enable-provisioning" => svc.enable_provisioning(&admin.ctx).await.map(|t| {
            new_token = t.map(|t| t.token.to_string());
            "Automatic provisioning is enabled.".to_string()
        }),
        "disable-provisioning" => svc.disable_provisioning(&admin.ctx).await.map(|_| "Automatic provisioning is disabled.".to_string()),
        "generate-token" => svc.create_scim_token(&admin.ctx).await.map(|t| {
            new_token = Some(t.token.to_string());
            "A new access token was generated.".to_string()
        }),
        "delete-token" => svc.delete_scim_token(&admin.ctx, &form.token_id).await.map(|_| "The access token was deleted.".to_string()),
        _ => return super::message(StatusCode::BAD_REQUEST, "Unknown action", "Go back and choose one of the page's buttons."),
    };
    match outcome {
        Ok(n) => render(&state, &admin, &headers, None, Some(n), new_token).await,
        Err(e) => render(&state, &admin, &headers, Some(e.to_string()), None, None).await,
    }
}
