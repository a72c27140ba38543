//! An application's "AWS SSO certificate" page, for the guide's certificate rotation: Generate
//! new certificate (validity, algorithm, key size), Set as active (its "Make active" dialog) and
//! Delete an inactive one (typed DELETE). The expiry column is coloured red, yellow or green.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::model::{AppCertificate, Application};
use gatehouse_core::services::applications::{MAX_APP_CERTIFICATES, expiry_status};

use super::applications::{here as app_here, load};
use super::confirm::{Dialog, unless_typed};
use super::session::{Admin, Posted};
use crate::AppState;
use crate::portal::web::*;

/// The validity periods offered, in months (the service takes 1 to 120).
const VALIDITY: &[(u32, &str)] = &[
    (1, "1 month"),
    (3, "3 months"),
    (6, "6 months"),
    (12, "1 year"),
    (24, "2 years"),
    (36, "3 years"),
    (60, "5 years"),
    (120, "10 years"),
];

/// A certificate as the tables show it.
pub struct CertRow {
    pub id: String,
    pub active: bool,
    pub expires: String,
    /// The `.expiry` class: red (expired), yellow (90 days or less) or green.
    pub colour: &'static str,
    pub label: &'static str,
    pub key_size: u32,
    pub algorithm: String,
}

/// The active certificate first, then by expiry.
pub fn cert_rows(state: &AppState, mut certs: Vec<AppCertificate>) -> Vec<CertRow> {
    let now = state.services.clock().now();
    certs.sort_by_key(|c| (!c.active, c.not_after));
    certs
        .into_iter()
        .map(|c| {
            let (colour, label) = match expiry_status(&c, now) {
                "EXPIRED" => ("red", "Expired"),
                "EXPIRING_SOON" => ("yellow", "Expires within 90 days"),
                _ => ("green", "Valid"),
            };
            CertRow {
                expires: c.not_after.format("%Y-%m-%d").to_string(),
                id: c.certificate_id,
                active: c.active,
                colour,
                label,
                key_size: c.key_size,
                algorithm: c.algorithm,
            }
        })
        .collect()
}

fn here(id: &str) -> String {
    format!("{}/certificates", app_here(id))
}

#[derive(Template)]
#[template(path = "console/application_certificates.html")]
struct CertificatesPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    app: Application,
    certificates: Result<Vec<CertRow>, String>,
    manage: bool,
}

impl CertificatesPage<'_> {
    fn validity(&self) -> &'static [(u32, &'static str)] {
        VALIDITY
    }

    fn full(&self) -> bool {
        self.certificates.as_ref().is_ok_and(|c| c.len() >= MAX_APP_CERTIFICATES)
    }
}

async fn render(state: &AppState, admin: &Admin, headers: &HeaderMap, id: &str, error: Option<String>, notice: Option<String>) -> Response {
    let app = match load(state, admin, id).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    let certificates = state.services.list_app_certificates(&admin.ctx, id).await.map(|c| cert_rows(state, c)).map_err(|e| e.to_string());
    let (csrf, set) = csrf_token(headers);
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let html = CertificatesPage { error, notice, csrf: &csrf, admin, app, certificates, manage: true }.render();
    page(status, html, set.into_iter().collect())
}

pub async fn show(State(state): State<AppState>, admin: Admin, headers: HeaderMap, Path(id): Path<String>) -> Response {
    render(&state, &admin, &headers, &id, None, None).await
}

#[derive(Template)]
#[template(path = "console/application_certificate_activate.html")]
struct ActivatePage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    app: Application,
    certificate_id: String,
}

/// The "Set the selected certificate as active" dialog: the administrator confirms they
/// understand the application may need the new certificate first.
async fn activate_dialog(
    state: &AppState,
    admin: &Admin,
    headers: &HeaderMap,
    id: &str,
    certificate_id: &str,
    error: Option<String>,
) -> Response {
    let app = match load(state, admin, id).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    let (csrf, set) = csrf_token(headers);
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let html = ActivatePage { error, notice: None, csrf: &csrf, admin, app, certificate_id: certificate_id.to_string() }.render();
    page(status, html, set.into_iter().collect())
}

/// `action` = generate | activate | delete.
pub async fn act(State(state): State<AppState>, Path(id): Path<String>, Posted { admin, form, headers }: Posted) -> Response {
    let page_url = here(&id);
    let svc = &state.services;
    let cert = form.one("certificate_id");
    let done = match form.one("action") {
        "generate" => {
            let months = form.one("validity_months").parse().unwrap_or(0);
            let bits = form.one("key_size").parse().unwrap_or(0);
            svc.create_app_certificate(&admin.ctx, &id, months, bits, form.one("algorithm"))
                .await
                .map(|_| "A new certificate was generated. Add it to the application, then set it as active.".to_string())
        }
        "activate" => {
            if form.one("understood").is_empty() {
                let error = form.one("step").eq("make-active").then(|| "Confirm that you understand, then choose Make active.".to_string());
                return activate_dialog(&state, &admin, &headers, &id, cert, error).await;
            }
            svc.activate_app_certificate(&admin.ctx, &id, cert)
                .await
                .map(|_| "The certificate is active: Gatehouse signs every assertion for this application with it.".to_string())
        }
        "delete" => {
            let dialog = Dialog {
                title: "Delete certificate",
                text: format!("Delete certificate {cert}? The application can no longer trust responses signed with it."),
                word: "DELETE",
                button: "Delete",
                action: &page_url,
                fields: vec![("action", "delete".to_string()), ("certificate_id", cert.to_string())],
                cancel: &page_url,
            };
            let typed = form.0.iter().any(|(k, _)| k == "confirmation").then(|| form.one("confirmation"));
            if let Some(ask) = unless_typed(&headers, &admin, typed, dialog) {
                return ask;
            }
            svc.delete_app_certificate(&admin.ctx, &id, cert).await.map(|_| "The certificate was deleted.".to_string())
        }
        other => Err(gatehouse_core::Error::validation("action", format!("unknown action '{other}'"))),
    };
    match done {
        Ok(notice) => render(&state, &admin, &headers, &id, None, Some(notice)).await,
        Err(e) => render(&state, &admin, &headers, &id, Some(e.to_string()), None).await,
    }
}
