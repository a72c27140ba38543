//! The guide's "To set the session duration" and "To set the relay state": the permission set's
//! General section → Edit → Continue, then select the AWS accounts to apply it to → Reprovision.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::model::PermissionSet;
use gatehouse_core::services::permission_sets::PermissionSetChange;

use super::permission_set_new::DURATIONS;
use super::permission_sets::{details, here, provisioned_accounts, reprovision};
use super::session::{Admin, Posted};
use crate::AppState;
use crate::portal::web::*;

#[derive(Template)]
#[template(path = "console/permission_set_edit.html")]
struct EditPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    ps: PermissionSet,
    /// After Continue: the accounts to reprovision (each with whether it has the latest).
    accounts: Option<Vec<(String, bool)>>,
}

impl EditPage<'_> {
    fn durations(&self) -> &'static [(&'static str, &'static str)] {
        DURATIONS
    }

    fn duration_selected(&self, value: &str) -> bool {
        format!("PT{}H", self.ps.session_minutes / 60) == value
    }
}

fn render(headers: &HeaderMap, admin: &Admin, ps: PermissionSet, accounts: Option<Vec<(String, bool)>>, error: Option<String>) -> Response {
    let (csrf, set) = csrf_token(headers);
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let html = EditPage { error, notice: None, csrf: &csrf, admin, ps, accounts }.render();
    page(status, html, set.into_iter().collect())
}

pub async fn edit_form(State(state): State<AppState>, admin: Admin, headers: HeaderMap, Path(id): Path<String>) -> Response {
    match state.services.describe_permission_set(&admin.ctx, &id).await {
        Ok(ps) => render(&headers, &admin, ps, None, None),
        Err(e) => super::message(StatusCode::NOT_FOUND, "No such permission set", &e.to_string()),
    }
}

/// `step` = continue (save the General settings) or reprovision (to the ticked accounts).
pub async fn save(State(state): State<AppState>, Path(id): Path<String>, Posted { admin, form, headers }: Posted) -> Response {
    let svc = &state.services;
    if form.one("step") == "reprovision" {
        return match reprovision(&state, &admin, &id, &form.all("account")).await {
            Ok(notice) => details(&state, &admin, &headers, &id, None, Some(notice)).await,
            Err(e) => match svc.describe_permission_set(&admin.ctx, &id).await {
                Ok(ps) => render(&headers, &admin, ps, provisioned_accounts(&state, &admin, &id).await.ok(), Some(e.to_string())),
                Err(e) => super::message(StatusCode::NOT_FOUND, "No such permission set", &e.to_string()),
            },
        };
    }
    let optional = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    let change = PermissionSetChange {
        description: optional(form.one("description")),
        session_duration: optional(form.one("session_duration")),
        relay_state: optional(form.one("relay_state")),
    };
    match svc.update_permission_set(&admin.ctx, &id, change).await {
        Ok(ps) => match provisioned_accounts(&state, &admin, &id).await {
            Ok(accounts) if !accounts.is_empty() => render(&headers, &admin, ps, Some(accounts), None),
            _ => see_other(&format!("{}?saved=1", here(&id)), vec![]),
        },
        Err(e) => match svc.describe_permission_set(&admin.ctx, &id).await {
            Ok(ps) => render(&headers, &admin, ps, None, Some(e.to_string())),
            Err(_) => super::message(StatusCode::FORBIDDEN, "Unavailable to this role", &e.to_string()),
        },
    }
}
