//! Settings → Delete Gatehouse configuration (the guide's "To delete your AWS SSO
//! configuration"): what will be deleted for the current identity source, one acknowledgement
//! check box per kind of data, DELETE typed; then one service operation, and the new
//! Administrator's one-time password, shown once.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::model::IdentitySourceKind;

use super::confirm::mistyped;
use super::session::{Admin, Posted, clear_console_cookie};
use crate::AppState;
use crate::portal::web::*;

/// A row of the guide's table: what is deleted, and its check box (none where the data is not
/// ours to delete: users and groups of a connected directory).
pub struct Deleted {
    pub what: &'static str,
    pub field: Option<&'static str>,
}

/// The rows for this identity source.
fn rows(source: Option<IdentitySourceKind>) -> Vec<Deleted> {
    let users = match source {
        Some(IdentitySourceKind::ActiveDirectory) => None,
        _ => Some("ack_users"),
    };
    vec![
        Deleted { what: "All permission sets you have configured for AWS accounts", field: Some("ack_permission_sets") },
        Deleted { what: "All applications you have configured in Gatehouse", field: Some("ack_applications") },
        Deleted { what: "All user assignments you have configured for AWS accounts and applications", field: Some("ack_assignments") },
        Deleted { what: "All users and groups in the directory or store", field: users },
    ]
}

#[derive(Template)]
#[template(path = "console/delete_configuration.html")]
struct DeletePage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    rows: Vec<Deleted>,
    /// Users and groups live in a connected directory (the guide's "N/A").
    connected_directory: bool,
}

#[derive(Template)]
#[template(path = "console/configuration_deleted.html")]
struct DonePage<'a> {
    error: Option<String>,
    notice: Option<String>,
    user_name: &'a str,
    one_time_password: &'a str,
    sign_in_url: String,
    deleted: Vec<(&'static str, u64)>,
}

async fn render(state: &AppState, admin: &Admin, headers: &HeaderMap, error: Option<String>) -> Response {
    let source = state.services.describe_identity_source(&admin.ctx).await.ok().map(|s| s.kind);
    let (csrf, set) = csrf_token(headers);
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let connected_directory = source == Some(IdentitySourceKind::ActiveDirectory);
    let html = DeletePage { error, notice: None, csrf: &csrf, admin, rows: rows(source), connected_directory }.render();
    page(status, html, set.into_iter().collect())
}

pub async fn form(State(state): State<AppState>, admin: Admin, headers: HeaderMap) -> Response {
    render(&state, &admin, &headers, None).await
}

pub async fn delete(State(state): State<AppState>, Posted { admin, form, headers }: Posted) -> Response {
    let svc = &state.services;
    let source = svc.describe_identity_source(&admin.ctx).await.ok().map(|s| s.kind);
    let unticked = rows(source).into_iter().filter(|r| r.field.is_some_and(|f| form.one(f) != "on")).count();
    if unticked > 0 {
        let error = format!("Select each check box to acknowledge what will be deleted ({unticked} not selected).");
        return render(&state, &admin, &headers, Some(error)).await;
    }
    if let Some(error) = mistyped("DELETE", form.one("confirmation")) {
        return render(&state, &admin, &headers, Some(error)).await;
    }
    match svc.delete_configuration(&admin.ctx).await {
        Ok(done) => {
            let html = DonePage {
                error: None,
                notice: None,
                user_name: &done.admin_user_name,
                one_time_password: &done.admin_one_time_password,
                sign_in_url: format!("{}/start/", state.public_url.trim_end_matches('/')),
                deleted: done.deleted.clone(),
            }
            .render();
            // Every session is gone with the configuration, this one too. (The page is not
            // cached: the security headers say no-store.)
            page(StatusCode::OK, html, vec![clear_console_cookie(), clear_cookie(SESSION_COOKIE)])
        }
        Err(e) => render(&state, &admin, &headers, Some(e.to_string())).await,
    }
}
