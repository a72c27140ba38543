//! Applications → Add a new application: the catalog of application providers (the cloud
//! applications and "Custom SAML 2.0 application"). Adding one creates it straight away, so that
//! the Configure page that follows can already offer Gatehouse's metadata and certificate for
//! download (they name the application); that page's Cancel removes it again.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::services::applications::NewApplication;
use gatehouse_saml::catalog::Template as CatalogEntry;

use super::session::{Admin, Posted};
use crate::AppState;
use crate::portal::web::*;

#[derive(Template)]
#[template(path = "console/application_catalog.html")]
struct CatalogPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    providers: Result<Vec<&'static CatalogEntry>, String>,
    chosen: String,
}

async fn render(state: &AppState, admin: &Admin, headers: &HeaderMap, chosen: &str, error: Option<String>) -> Response {
    let providers = state.services.list_application_providers(&admin.ctx).await.map_err(|e| e.to_string());
    let (csrf, set) = csrf_token(headers);
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let html = CatalogPage { error, notice: None, csrf: &csrf, admin, providers, chosen: chosen.to_string() }.render();
    page(status, html, set.into_iter().collect())
}

pub async fn catalog(State(state): State<AppState>, admin: Admin, headers: HeaderMap) -> Response {
    render(&state, &admin, &headers, "", None).await
}

/// Add application: CreateApplication from the chosen provider, named after it until the
/// Configure page says otherwise.
pub async fn add(State(state): State<AppState>, Posted { admin, form, headers }: Posted) -> Response {
    let provider = form.one("provider");
    let Some(template) = gatehouse_saml::catalog::find(provider) else {
        return render(&state, &admin, &headers, provider, Some("Select an application from the list.".into())).await;
    };
    let new = NewApplication {
        provider_arn: gatehouse_core::ids::application_provider_arn(template.id),
        name: template.name.to_string(),
        ..Default::default()
    };
    match state.services.create_application(&admin.ctx, new).await {
        Ok(app) => see_other(&format!("{}/configure?new=1", super::applications::here(&app.application_id)), vec![]),
        Err(e) => render(&state, &admin, &headers, provider, Some(e.to_string())).await,
    }
}
