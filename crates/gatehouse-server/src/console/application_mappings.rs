//! An application's Attribute mappings tab ("To map application attributes to attributes in AWS
//! SSO"): rows of the application's attribute, the string value or `${user:…}` attribute it maps
//! to, and its format; Add new attribute mapping, Save changes. The rows' form fields are shared
//! with the Configure page of a custom SAML 2.0 application.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::model::{Application, AttributeMapping};

use super::Pairs;
use super::applications::load;
use super::session::{Admin, Posted};
use crate::AppState;
use crate::portal::web::*;

/// The formats a row may have (the service checks which suit `Subject`).
const FORMATS: &[&str] = &["unspecified", "uri", "basic", "emailAddress", "persistent", "transient"];

/// Each format for a row's menu, with whether it is the row's.
pub fn format_options(current: &str) -> Vec<(&'static str, bool)> {
    FORMATS.iter().map(|f| (*f, *f == current)).collect()
}

/// The user attributes a value may name as `${user:…}`.
pub fn user_attributes() -> String {
    gatehouse_saml::mapping::USER_ATTRIBUTES.map(|a| format!("${{user:{a}}}")).join(", ")
}

/// The rows as posted (`map_attribute`, `map_source`, `map_format` in order); a row left empty
/// is no row.
pub fn read_rows(form: &Pairs) -> Vec<AttributeMapping> {
    let column = |name: &'static str| form.0.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.trim().to_string());
    column("map_attribute")
        .zip(column("map_source"))
        .zip(column("map_format"))
        .filter(|((attribute, source), _)| !attribute.is_empty() || !source.is_empty())
        .map(|((attribute, source), format)| AttributeMapping { attribute, source, format })
        .collect()
}

/// The rows to show: these, then `blank` empty ones to fill in.
pub fn with_blank(mut rows: Vec<AttributeMapping>, blank: usize) -> Vec<AttributeMapping> {
    let empty = AttributeMapping { attribute: String::new(), source: String::new(), format: "unspecified".into() };
    rows.extend(std::iter::repeat_n(empty, blank));
    rows
}

#[derive(Template)]
#[template(path = "console/application_mappings.html")]
struct MappingsPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    app: Application,
    tab: &'static str,
    mapping_rows: Vec<AttributeMapping>,
}

/// The tab with `rows` (None: as saved) and what the last action said.
async fn render(
    state: &AppState,
    admin: &Admin,
    headers: &HeaderMap,
    id: &str,
    rows: Option<Vec<AttributeMapping>>,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let app = match load(state, admin, id).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    let mapping_rows = rows.unwrap_or_else(|| with_blank(app.saml.mappings.clone(), 1));
    let (csrf, set) = csrf_token(headers);
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let html = MappingsPage { error, notice, csrf: &csrf, admin, app, tab: "attribute-mappings", mapping_rows }.render();
    page(status, html, set.into_iter().collect())
}

pub async fn show(State(state): State<AppState>, admin: Admin, headers: HeaderMap, Path(id): Path<String>) -> Response {
    render(&state, &admin, &headers, &id, None, None, None).await
}

/// `action` = add-row (one more empty row, nothing saved) | save.
pub async fn act(State(state): State<AppState>, Path(id): Path<String>, Posted { admin, form, headers }: Posted) -> Response {
    let rows = read_rows(&form);
    if form.one("action") == "add-row" {
        return render(&state, &admin, &headers, &id, Some(with_blank(rows, 1)), None, None).await;
    }
    match state.services.put_attribute_mappings(&admin.ctx, &id, rows.clone()).await {
        Ok(_) => render(&state, &admin, &headers, &id, None, None, Some("The attribute mappings were saved.".into())).await,
        Err(e) => render(&state, &admin, &headers, &id, Some(with_blank(rows, 1)), Some(e.to_string()), None).await,
    }
}
