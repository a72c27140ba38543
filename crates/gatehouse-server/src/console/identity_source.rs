//! Settings → Identity source: what it is now (the external IdP's certificates with their
//! expiry, or the directory's connection, mappings and last synchronization), and the guide's
//! "Change identity source" wizard: choose, review the consequences of that transition, type the
//! confirmation.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::model::directory::SyncSummary;
use gatehouse_core::model::{IdentitySource, IdentitySourceKind};
use gatehouse_core::services::directory::LdapDirectoryInput;
use gatehouse_core::services::identity_source::ExternalIdpInput;
use gatehouse_saml::ExpiryStatus;
use serde::Deserialize;

use super::confirm::{Dialog, unless_typed};
use super::session::{Admin, form_admin};
use crate::AppState;
use crate::portal::web::*;

const HERE: &str = "/console/settings/identity-source";

/// A certificate row: the guide's red / yellow / green expiry status.
pub struct CertRow {
    pub id: String,
    pub not_after: String,
    pub status: &'static str,
    pub label: &'static str,
}

#[derive(Template)]
#[template(path = "console/identity_source.html")]
struct OverviewPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    source: Result<IdentitySource, String>,
    certificates: Vec<CertRow>,
    metadata_url: String,
    mappings: Vec<(String, String)>,
    last_sync: Option<String>,
}

fn kind_label(kind: IdentitySourceKind) -> &'static str {
    match kind {
        IdentitySourceKind::Directory => "Gatehouse directory",
        IdentitySourceKind::ExternalIdp => "External identity provider",
        IdentitySourceKind::ActiveDirectory => "Active Directory",
    }
}

async fn overview(
    state: &AppState,
    admin: &Admin,
    csrf: &str,
    error: Option<String>,
    notice: Option<String>,
) -> Result<String, askama::Error> {
    let svc = &state.services;
    let source = svc.describe_identity_source(&admin.ctx).await.map_err(|e| e.to_string());
    let now = chrono::Utc::now();
    let ok = source.as_ref().ok();
    let certificates = ok
        .and_then(|s| s.external.as_ref())
        .map(|idp| {
            idp.certificates
                .iter()
                .map(|c| {
                    let (status, label) = match ExpiryStatus::of(c.not_after, now) {
                        ExpiryStatus::Expired => ("red", "Expired"),
                        ExpiryStatus::ExpiringSoon => ("yellow", "Expires soon"),
                        ExpiryStatus::Valid => ("green", "Valid"),
                    };
                    CertRow { id: c.id.clone(), not_after: c.not_after.format("%Y-%m-%d").to_string(), status, label }
                })
                .collect()
        })
        .unwrap_or_default();
    let ldap = ok.and_then(|s| s.ldap.as_ref());
    let mappings = ldap.map(|d| d.mappings.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
    let last_sync = ldap.and_then(|d| d.last_sync.as_ref()).map(SyncSummary::describe);
    OverviewPage { error, notice, csrf, admin, source, certificates, metadata_url: "/start/saml/metadata".into(), mappings, last_sync }
        .render()
}

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    #[serde(default)]
    changed: String,
}

pub async fn show(State(state): State<AppState>, admin: Admin, headers: HeaderMap, Query(q): Query<ShowQuery>) -> Response {
    let (csrf, set) = csrf_token(&headers);
    let notice = parse_kind(&q.changed).map(|k| format!("The identity source is now: {}.", kind_label(k)));
    let html = overview(&state, &admin, &csrf, None, notice).await;
    page(StatusCode::OK, html, set.into_iter().collect())
}

/// An action on the overview page: synchronize now, save mappings, import or delete a certificate.
#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    action: String,
    #[serde(default)]
    certificate_id: String,
    #[serde(default)]
    certificate_pem: String,
    #[serde(flatten)]
    fields: BTreeMap<String, String>,
}

pub async fn act(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<ActionForm>,
) -> Response {
    let admin = match form_admin(&state, &headers, peer, &form.csrf, HERE).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let svc = &state.services;
    if form.action == "delete-certificate" {
        let dialog = Dialog {
            title: "Delete SAML 2.0 certificate",
            text: format!(
                "Responses signed with certificate {} will no longer be trusted: make sure your identity provider no longer signs with it.",
                form.certificate_id
            ),
            word: "DELETE",
            button: "Delete",
            action: HERE,
            fields: vec![("action", form.action.clone()), ("certificate_id", form.certificate_id.clone())],
            cancel: HERE,
        };
        if let Some(ask) = unless_typed(&headers, &admin, form.fields.get("confirmation").map(String::as_str), dialog) {
            return ask;
        }
    }
    let outcome: Result<String, gatehouse_core::error::Error> = match form.action.as_str() {
        "sync" => svc.sync_directory(&admin.ctx, &|_| {}).await.map(|s| format!("Synchronized: {}", s.describe())),
        "mappings" => {
            // Fields are named `map.<attribute>`.
            let changes = form.fields.iter().filter_map(|(k, v)| k.strip_prefix("map.").map(|a| (a.to_string(), v.clone()))).collect();
            svc.put_directory_mappings(&admin.ctx, changes).await.map(|_| "Attribute mappings saved.".to_string())
        }
        "import-certificate" => {
            let input = ExternalIdpInput { certificate_pem: Some(form.certificate_pem.clone()), ..Default::default() };
            svc.put_external_idp(&admin.ctx, input).await.map(|_| "Certificate imported: it is trusted now.".to_string())
        }
        "delete-certificate" => {
            svc.delete_idp_certificate(&admin.ctx, &form.certificate_id).await.map(|_| "Certificate deleted.".to_string())
        }
        _ => return super::message(StatusCode::BAD_REQUEST, "Unknown action", "Go back and choose one of the page's buttons."),
    };
    let (csrf, set) = csrf_token(&headers);
    let (status, error, notice) = match outcome {
        Ok(n) => (StatusCode::OK, None, Some(n)),
        Err(e) => (StatusCode::BAD_REQUEST, Some(e.to_string()), None),
    };
    let html = overview(&state, &admin, &csrf, error, notice).await;
    page(status, html, set.into_iter().collect())
}

/// What the guide says a transition does ("Considerations for changing your identity source").
fn consequences(from: IdentitySourceKind, to: IdentitySourceKind) -> Vec<&'static str> {
    use IdentitySourceKind::*;
    match (from, to) {
        (ActiveDirectory, _) | (_, ActiveDirectory) => vec![
            "Changing to or from Active Directory deletes all users, groups, group memberships and assignments (entitlements) in Gatehouse.",
            "No user or group information is changed in Active Directory or in an external identity provider.",
            "Afterwards you must create the assignments again, with the users and groups of the new source.",
            "Your own Gatehouse user is deleted too, which ends this console session: continue with the gatehouse command line, or sign in as a user of the new source assigned to the management account.",
        ],
        (Directory, ExternalIdp) => vec![
            "All users, groups and assignments are kept.",
            "Assignments work for users whose Gatehouse user names match the NameID the identity provider sends (format emailAddress); unmatched users and groups are unusable.",
            "Users sign in at the identity provider; Gatehouse passwords are no longer used.",
        ],
        (ExternalIdp, Directory) => vec![
            "All users, groups and assignments are kept.",
            "Users who had Gatehouse passwords sign in with them again; reset the password of users that came from the identity provider.",
        ],
        _ => vec![],
    }
}

fn confirmation_word(to: IdentitySourceKind) -> &'static str {
    if to == IdentitySourceKind::ExternalIdp { "ACCEPT" } else { "CONFIRM" }
}

#[derive(Template)]
#[template(path = "console/identity_source_change.html")]
struct ChangePage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    current: &'static str,
    /// The chosen source, once chosen: (value, label).
    to: Option<(&'static str, &'static str)>,
    consequences: Vec<&'static str>,
    confirm_word: &'static str,
    sp_entity_id: String,
    sp_acs_url: String,
    external_configured: bool,
    ldap: LdapFields,
}

/// The directory's connection as the form shows it (never the password).
#[derive(Default, Deserialize, Clone)]
pub struct LdapFields {
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub start_tls: Option<String>,
    #[serde(default)]
    pub ca_pem: String,
    #[serde(default)]
    pub bind_dn: String,
    #[serde(default)]
    pub user_base_dn: String,
    #[serde(default)]
    pub group_base_dn: String,
    #[serde(default)]
    pub domain: String,
    #[serde(default)]
    pub configured: bool,
}

#[derive(Deserialize, Default)]
pub struct ChangeQuery {
    #[serde(default)]
    to: String,
}

fn parse_kind(s: &str) -> Option<IdentitySourceKind> {
    match s {
        "directory" => Some(IdentitySourceKind::Directory),
        "external-idp" => Some(IdentitySourceKind::ExternalIdp),
        "active-directory" => Some(IdentitySourceKind::ActiveDirectory),
        _ => None,
    }
}

fn kind_value(kind: IdentitySourceKind) -> &'static str {
    match kind {
        IdentitySourceKind::Directory => "directory",
        IdentitySourceKind::ExternalIdp => "external-idp",
        IdentitySourceKind::ActiveDirectory => "active-directory",
    }
}

async fn change_page(
    state: &AppState,
    admin: &Admin,
    csrf: &str,
    to: Option<IdentitySourceKind>,
    entered: Option<LdapFields>,
    error: Option<String>,
) -> Result<Response, Response> {
    let svc = &state.services;
    let source = match svc.describe_identity_source(&admin.ctx).await {
        Ok(s) => s,
        Err(e) => return Err(super::message(StatusCode::FORBIDDEN, "Unavailable to this role", &e.to_string())),
    };
    let sp = svc.sp_configuration();
    let ldap = entered.unwrap_or_else(|| match &source.ldap {
        Some(d) => LdapFields {
            url: d.url.clone(),
            start_tls: d.start_tls.then(|| "on".into()),
            ca_pem: d.ca_certificate_pem.clone().unwrap_or_default(),
            bind_dn: d.bind_dn.clone(),
            user_base_dn: d.user_base_dn.clone(),
            group_base_dn: d.group_base_dn.clone(),
            domain: d.domain.clone(),
            configured: true,
        },
        None => LdapFields::default(),
    });
    let html = ChangePage {
        error: error.clone(),
        notice: None,
        csrf,
        admin,
        current: kind_label(source.kind),
        to: to.map(|k| (kind_value(k), kind_label(k))),
        consequences: to.map(|k| consequences(source.kind, k)).unwrap_or_default(),
        confirm_word: to.map(confirmation_word).unwrap_or("CONFIRM"),
        sp_entity_id: sp.entity_id,
        sp_acs_url: sp.acs_url,
        external_configured: source.external.is_some(),
        ldap,
    }
    .render();
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    Ok(page(status, html, vec![]))
}

pub async fn change_form(State(state): State<AppState>, admin: Admin, headers: HeaderMap, Query(q): Query<ChangeQuery>) -> Response {
    let (csrf, set) = csrf_token(&headers);
    let mut response = match change_page(&state, &admin, &csrf, parse_kind(&q.to), None, None).await {
        Ok(r) | Err(r) => r,
    };
    if let Some(c) = set {
        response.headers_mut().append(axum::http::header::SET_COOKIE, c);
    }
    response
}

#[derive(Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    csrf: String,
    to: String,
    #[serde(default)]
    confirmation: String,
    #[serde(default)]
    idp_metadata: String,
    #[serde(default)]
    idp_issuer: String,
    #[serde(default)]
    idp_sso_url: String,
    #[serde(default)]
    idp_certificate: String,
    #[serde(default)]
    bind_password: String,
    #[serde(flatten)]
    ldap: LdapFields,
}

/// Save the new source's settings (IdP metadata, or the directory's connection, tested first),
/// then switch with the typed confirmation.
pub async fn change(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<ChangeForm>,
) -> Response {
    let admin = match form_admin(&state, &headers, peer, &form.csrf, HERE).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some(to) = parse_kind(&form.to) else {
        return super::message(StatusCode::BAD_REQUEST, "Choose an identity source", "Go back and choose one.");
    };
    let svc = &state.services;
    let settings = match to {
        IdentitySourceKind::ExternalIdp
            if [&form.idp_metadata, &form.idp_issuer, &form.idp_sso_url, &form.idp_certificate].iter().any(|v| !v.trim().is_empty()) =>
        {
            let given = |v: &String| Some(v.trim().to_string()).filter(|v| !v.is_empty());
            let input = ExternalIdpInput {
                metadata_xml: given(&form.idp_metadata),
                entity_id: given(&form.idp_issuer),
                sso_url: given(&form.idp_sso_url),
                certificate_pem: given(&form.idp_certificate),
                ..Default::default()
            };
            svc.put_external_idp(&admin.ctx, input).await.map(|_| ())
        }
        IdentitySourceKind::ActiveDirectory if !form.ldap.url.trim().is_empty() => {
            let f = &form.ldap;
            let input = LdapDirectoryInput {
                url: Some(f.url.clone()),
                start_tls: Some(f.start_tls.is_some()),
                ca_certificate_pem: Some(f.ca_pem.clone()),
                bind_dn: Some(f.bind_dn.clone()),
                bind_password: Some(form.bind_password.clone()).filter(|p| !p.is_empty()),
                user_base_dn: Some(f.user_base_dn.clone()),
                group_base_dn: Some(f.group_base_dn.clone()),
                domain: Some(f.domain.clone()),
                ..Default::default()
            };
            svc.put_ldap_directory(&admin.ctx, input).await.map(|_| ())
        }
        _ => Ok(()),
    };
    let outcome = match settings {
        Ok(()) => svc.change_identity_source(&admin.ctx, to, form.confirmation.trim()).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => see_other(&format!("{HERE}?changed={}", kind_value(to)), vec![]),
        Err(e) => {
            let (csrf, _) = csrf_token(&headers);
            match change_page(&state, &admin, &csrf, Some(to), Some(form.ldap.clone()), Some(e.to_string())).await {
                Ok(r) | Err(r) => r,
            }
        }
    }
}
