//! Settings → Attributes for access control: the guide's "To enable Attributes for access
//! control", "To select your attributes" (key and `${path:…}` value rows, Save changes) and "To
//! disable Attributes for access control" (which deletes every mapping).

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::model::AccessControlAttribute;
use gatehouse_core::services::permission_sets::SUPPORTED_ATTRIBUTE_SOURCES;

use super::Pairs;
use super::session::{Admin, Posted};
use crate::AppState;
use crate::portal::web::*;

/// Empty rows offered for new keys.
const NEW_ROWS: usize = 3;

#[derive(Template)]
#[template(path = "console/abac.html")]
struct AbacPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    /// Some(rows) when enabled, None when disabled; or why this role cannot see it.
    attributes: Result<Option<Vec<(String, String)>>, String>,
}

impl AbacPage<'_> {
    fn sources(&self) -> &'static [&'static str] {
        SUPPORTED_ATTRIBUTE_SOURCES
    }

    fn new_rows(&self) -> std::ops::Range<usize> {
        0..NEW_ROWS
    }
}

async fn render(state: &AppState, admin: &Admin, headers: &HeaderMap, error: Option<String>, notice: Option<String>) -> Response {
    let attributes = match state.services.describe_access_control_attributes(&admin.ctx).await {
        Ok(list) => Ok(Some(list.into_iter().map(|a| (a.key, a.sources.into_iter().next().unwrap_or_default())).collect())),
        Err(gatehouse_core::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.to_string()),
    };
    let (csrf, set) = csrf_token(headers);
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let html = AbacPage { error, notice, csrf: &csrf, admin, attributes }.render();
    page(status, html, set.into_iter().collect())
}

pub async fn show(State(state): State<AppState>, admin: Admin, headers: HeaderMap) -> Response {
    render(&state, &admin, &headers, None, None).await
}

/// The rows as typed: key and value in order, less the empty ones and those marked Remove.
fn rows(form: &Pairs) -> Vec<AccessControlAttribute> {
    let removed = form.all("remove");
    let keys = form.0.iter().filter(|(k, _)| k == "key").map(|(_, v)| v.trim().to_string());
    let values = form.0.iter().filter(|(k, _)| k == "value").map(|(_, v)| v.trim().to_string());
    keys.zip(values)
        .enumerate()
        .filter(|(i, (key, _))| !key.is_empty() && !removed.contains(&i.to_string()))
        .map(|(_, (key, value))| AccessControlAttribute { key, sources: vec![value] })
        .collect()
}

/// `action` = enable | save | disable.
pub async fn act(State(state): State<AppState>, Posted { admin, form, headers }: Posted) -> Response {
    let svc = &state.services;
    let done = match form.one("action") {
        "enable" => svc.create_access_control_attributes(&admin.ctx, vec![]).await.map(|_| "Attributes for access control are enabled."),
        "save" => svc.update_access_control_attributes(&admin.ctx, rows(&form)).await.map(|_| "Your changes were saved."),
        "disable" => svc
            .delete_access_control_attributes(&admin.ctx)
            .await
            .map(|_| "Attributes for access control are disabled; every attribute was deleted."),
        other => Err(gatehouse_core::Error::validation("action", format!("unknown action '{other}'"))),
    };
    match done {
        Ok(notice) => render(&state, &admin, &headers, None, Some(notice.to_string())).await,
        Err(e) => render(&state, &admin, &headers, Some(e.to_string()), None).await,
    }
}
