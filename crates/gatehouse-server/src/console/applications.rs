//! Applications: the list, an application's Configuration tab (details, Gatehouse's SAML
//! metadata and certificates, properties, the application's metadata, the setup instructions),
//! "To disable or enable your application" (Actions → Disable / Enable) and "To force-remove an
//! AWS application" (the Force-remove page, confirmed by typing `remove`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::model::Application;
use gatehouse_core::services::applications::ApplicationChange;

use super::all_pages;
use super::application_certificates::{CertRow, cert_rows};
use super::confirm::{Dialog, unless_typed};
use super::permission_sets::hours;
use super::session::{Admin, Posted};
use crate::AppState;
use crate::portal::web::*;

pub fn here(id: &str) -> String {
    format!("/console/applications/{}", percent_encode(id))
}

/// The catalog entry's name ("Custom SAML 2.0 application", "Salesforce", …).
pub fn kind_of(app: &Application) -> &'static str {
    gatehouse_saml::catalog::find(&app.provider).map(|t| t.name).unwrap_or("SAML 2.0 application")
}

/// The application, or the page that says why it cannot be shown.
pub async fn load(state: &AppState, admin: &Admin, id: &str) -> Result<Application, Response> {
    match state.services.describe_application(&admin.ctx, id).await {
        Ok(app) => Ok(app),
        Err(gatehouse_core::Error::NotFound { .. }) => {
            Err(super::message(StatusCode::NOT_FOUND, "No such application", "The application does not exist."))
        }
        Err(e) => Err(super::message(StatusCode::FORBIDDEN, "Unavailable to this role", &e.to_string())),
    }
}

/// What an application gives its service provider: Gatehouse's entity ID and sign-in URL, and
/// the portal's public download URLs of its metadata and active certificate.
pub struct IdpLinks {
    pub entity_id: String,
    pub sso_url: String,
    pub metadata_url: String,
    pub certificate_url: String,
}

impl IdpLinks {
    pub fn of(state: &AppState, app_id: &str) -> Self {
        let svc = &state.services;
        let path = format!("/saml/{}", percent_encode(app_id));
        IdpLinks {
            entity_id: svc.idp_entity_id(app_id),
            sso_url: svc.idp_sso_url(app_id),
            metadata_url: format!("{path}/metadata"),
            certificate_url: format!("{path}/certificate"),
        }
    }
}

#[derive(Template)]
#[template(path = "console/applications.html")]
struct ListPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    apps: Result<Vec<Application>, String>,
}

impl ListPage<'_> {
    fn kind(&self, app: &Application) -> &'static str {
        kind_of(app)
    }
}

#[derive(serde::Deserialize, Default)]
pub struct ListNotice {
    #[serde(default)]
    removed: Option<String>,
    #[serde(default)]
    cancelled: Option<String>,
}

pub async fn list(State(state): State<AppState>, admin: Admin, headers: HeaderMap, Query(q): Query<ListNotice>) -> Response {
    let svc = &state.services;
    let ctx = &admin.ctx;
    let apps = all_pages(|p| async move { svc.list_applications(ctx, None, &p).await }).await.map(|mut apps| {
        apps.sort_by_key(|a| a.name.to_lowercase());
        apps
    });
    let notice = match (q.removed, q.cancelled) {
        (Some(name), _) => Some(format!("The application {name} was removed.")),
        (_, Some(_)) => Some("The application was not added.".to_string()),
        _ => None,
    };
    let (csrf, set) = csrf_token(&headers);
    let html = ListPage { error: None, notice, csrf: &csrf, admin: &admin, apps: apps.map_err(|e| e.to_string()) }.render();
    page(StatusCode::OK, html, set.into_iter().collect())
}

#[derive(Template)]
#[template(path = "console/application_details.html")]
struct DetailsPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    app: Application,
    tab: &'static str,
    kind: &'static str,
    instructions: &'static str,
    arn: String,
    idp: IdpLinks,
    certificates: Result<Vec<CertRow>, String>,
    /// The certificate table without its actions (they are on the certificates page).
    manage: bool,
}

impl DetailsPage<'_> {
    fn session(&self) -> String {
        hours(&self.app.saml.session_minutes)
    }
}

/// The Configuration tab, with what the last action said.
pub async fn details(
    state: &AppState,
    admin: &Admin,
    headers: &HeaderMap,
    id: &str,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let app = match load(state, admin, id).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    let svc = &state.services;
    let certificates = svc.list_app_certificates(&admin.ctx, id).await.map(|c| cert_rows(state, c)).map_err(|e| e.to_string());
    let template = gatehouse_saml::catalog::find(&app.provider);
    let (csrf, set) = csrf_token(headers);
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let html = DetailsPage {
        error,
        notice,
        csrf: &csrf,
        admin,
        kind: kind_of(&app),
        instructions: template.map(|t| t.instructions).unwrap_or_default(),
        arn: svc.application_arn(id).unwrap_or_default(),
        idp: IdpLinks::of(state, id),
        certificates,
        manage: false,
        tab: "configuration",
        app,
    }
    .render();
    page(status, html, set.into_iter().collect())
}

#[derive(serde::Deserialize, Default)]
pub struct DetailsNotice {
    #[serde(default)]
    added: Option<String>,
    #[serde(default)]
    saved: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<DetailsNotice>,
) -> Response {
    let notice = match (q.added, q.saved) {
        (Some(_), _) => Some("The application was added. Assign users or groups to it on the Assigned users tab.".to_string()),
        (_, Some(_)) => Some("Your changes were saved.".to_string()),
        _ => None,
    };
    details(&state, &admin, &headers, &id, None, notice).await
}

/// Actions → `action` = disable | enable (UpdateApplication's status).
pub async fn act(State(state): State<AppState>, Path(id): Path<String>, Posted { admin, form, headers }: Posted) -> Response {
    let enable = match form.one("action") {
        "enable" => true,
        "disable" => false,
        other => {
            let error = format!("Unknown action '{other}': choose Disable or Enable under Actions.");
            return details(&state, &admin, &headers, &id, Some(error), None).await;
        }
    };
    let change = ApplicationChange { enabled: Some(enable), ..Default::default() };
    match state.services.update_application(&admin.ctx, &id, change).await {
        Ok(_) if enable => details(&state, &admin, &headers, &id, None, Some("The application was enabled.".into())).await,
        Ok(_) => {
            let notice = "The application was disabled: users cannot sign in to it until you enable it again.";
            details(&state, &admin, &headers, &id, None, Some(notice.into())).await
        }
        Err(e) => details(&state, &admin, &headers, &id, Some(e.to_string()), None).await,
    }
}

/// The Force-remove application page, as the guide words its warning.
fn force_remove_dialog<'a>(app: &Application, action: &'a str, cancel: &'a str) -> Dialog<'a> {
    Dialog {
        title: "Force-remove application",
        text: format!(
            "Force-remove should only be used as a last resort: it cannot be undone. It deletes all user permissions to \
             the application {}, disconnects it from Gatehouse and renders it inaccessible. To only stop sign-ins, \
             choose Actions → Disable instead.",
            app.name
        ),
        word: "remove",
        button: "Force-remove",
        action,
        fields: vec![],
        cancel,
    }
}

pub async fn force_remove_form(State(state): State<AppState>, admin: Admin, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let action = format!("{}/force-remove", here(&id));
    let app = match load(&state, &admin, &id).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    let cancel = here(&id);
    unless_typed(&headers, &admin, None, force_remove_dialog(&app, &action, &cancel))
        .unwrap_or_else(|| super::message(StatusCode::BAD_REQUEST, "Force-remove application", "Type remove to confirm."))
}

/// Force-remove: DeleteApplication, once `remove` was typed.
pub async fn force_remove(State(state): State<AppState>, Path(id): Path<String>, Posted { admin, form, headers }: Posted) -> Response {
    let action = format!("{}/force-remove", here(&id));
    let app = match load(&state, &admin, &id).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    let cancel = here(&id);
    if let Some(ask) = unless_typed(&headers, &admin, Some(form.one("confirmation")), force_remove_dialog(&app, &action, &cancel)) {
        return ask;
    }
    match state.services.delete_application(&admin.ctx, &id).await {
        Ok(()) => see_other(&format!("/console/applications?removed={}", percent_encode(&app.name)), vec![]),
        Err(e) => details(&state, &admin, &headers, &id, Some(e.to_string()), None).await,
    }
}
