//! The "Configure <application name>" page of "To add and configure a cloud application" and "To
//! add and configure a custom SAML application", also reached later through Edit configuration:
//! Details, Gatehouse's metadata (downloads), Application properties, Application metadata
//! (pasted SP metadata, or the ACS URL and audience typed by hand) and, for a custom SAML 2.0
//! application, its attribute mappings; Save changes. What was typed stays on the page when a
//! service refuses it.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::model::{Application, AttributeMapping, SignInOrigin};
use gatehouse_core::services::applications::{ApplicationChange, PortalOptionsChange, SamlConfigChange, iso_duration};
use gatehouse_saml::catalog::Template as CatalogEntry;

use super::Pairs;
use super::application_mappings::{format_options, read_rows, user_attributes, with_blank};
use super::applications::{IdpLinks, here as app_here, load};
use super::session::{Admin, Posted};
use crate::AppState;
use crate::portal::web::*;

/// The session durations offered (the guide: 1 to 12 hours).
const DURATIONS: &[(&str, &str)] =
    &[("PT1H", "1 hour"), ("PT2H", "2 hours"), ("PT4H", "4 hours"), ("PT8H", "8 hours"), ("PT12H", "12 hours")];

/// The catalog entry that has its attribute mappings set up on this page.
const CUSTOM: &str = "custom-saml";

/// The form's values: the application's, or what was typed.
struct Draft {
    name: String,
    description: String,
    start_url: String,
    relay_state: String,
    session_duration: String,
    metadata_xml: String,
    acs_url: String,
    audience: String,
    mappings: Vec<AttributeMapping>,
}

impl Draft {
    fn of(app: &Application) -> Self {
        Draft {
            name: app.name.clone(),
            description: app.description.clone().unwrap_or_default(),
            start_url: app.application_url.clone().unwrap_or_default(),
            relay_state: app.saml.relay_state.clone().unwrap_or_default(),
            session_duration: iso_duration(app.saml.session_minutes),
            metadata_xml: String::new(),
            acs_url: app.saml.acs_url.clone(),
            audience: app.saml.audience.clone(),
            mappings: with_blank(app.saml.mappings.clone(), 1),
        }
    }

    fn read(form: &Pairs) -> Self {
        let field = |name| form.one(name).trim().to_string();
        Draft {
            name: field("name"),
            description: field("description"),
            start_url: field("start_url"),
            relay_state: field("relay_state"),
            session_duration: field("session_duration"),
            metadata_xml: field("metadata_xml"),
            acs_url: field("acs_url"),
            audience: field("audience"),
            mappings: read_rows(form),
        }
    }
}

fn given(v: &str) -> Option<String> {
    Some(v.to_string()).filter(|v| !v.is_empty())
}

/// Save changes: the details and properties, the SAML settings and (custom SAML) the mappings,
/// in one service operation.
async fn save(state: &AppState, admin: &Admin, app: &Application, draft: &Draft) -> gatehouse_core::Result<()> {
    let custom = app.provider == CUSTOM;
    // The start URL makes the portal's tile start at the application (SP-initiated sign-in).
    let origin = if draft.start_url.is_empty() { SignInOrigin::IdentityCenter } else { SignInOrigin::Application };
    let change = ApplicationChange {
        name: Some(draft.name.clone()),
        // The service keeps a description it is not given (an empty one is no description).
        description: given(&draft.description),
        enabled: None,
        portal: PortalOptionsChange { visible: None, sign_in_origin: Some(origin), application_url: Some(draft.start_url.clone()) },
    };
    // Pasted metadata sets the ACS URL and audience itself: the fields typed by hand only count
    // without it.
    let metadata = given(&draft.metadata_xml);
    let by_hand = |v: &str| if metadata.is_some() { None } else { given(v) };
    let saml = SamlConfigChange {
        acs_url: by_hand(&draft.acs_url),
        audience: by_hand(&draft.audience),
        metadata_xml: metadata.clone(),
        relay_state: Some(draft.relay_state.clone()),
        session_duration: given(&draft.session_duration),
        ..Default::default()
    };
    let mappings = custom.then(|| draft.mappings.clone());
    state.services.configure_application(&admin.ctx, &app.application_id, change, saml, mappings).await?;
    Ok(())
}

#[derive(Template)]
#[template(path = "console/application_configure.html")]
struct ConfigurePage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    app: Application,
    entry: Option<&'static CatalogEntry>,
    /// Reached right after Add application: Cancel removes the application.
    setup: bool,
    draft: Draft,
    mapping_rows: Vec<AttributeMapping>,
    idp: IdpLinks,
}

impl ConfigurePage<'_> {
    /// The offered durations, and the application's own if it is none of them.
    fn durations(&self) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = DURATIONS.iter().map(|(v, l)| (v.to_string(), l.to_string())).collect();
        if !all.iter().any(|(v, _)| *v == self.draft.session_duration) {
            all.push((self.draft.session_duration.clone(), self.draft.session_duration.clone()));
        }
        all
    }

    fn custom(&self) -> bool {
        self.app.provider == CUSTOM
    }

    /// The catalog's pattern for a field, shown as its placeholder.
    fn acs_pattern(&self) -> &'static str {
        self.entry.map(|t| t.acs_url).unwrap_or_default()
    }

    fn audience_pattern(&self) -> &'static str {
        self.entry.map(|t| t.audience).unwrap_or_default()
    }

    fn instructions(&self) -> &'static str {
        self.entry.map(|t| t.instructions).unwrap_or_default()
    }
}

fn render(
    state: &AppState,
    admin: &Admin,
    headers: &HeaderMap,
    app: Application,
    setup: bool,
    draft: Draft,
    error: Option<String>,
) -> Response {
    let (csrf, set) = csrf_token(headers);
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let idp = IdpLinks::of(state, &app.application_id);
    let entry = gatehouse_saml::catalog::find(&app.provider);
    let mapping_rows = draft.mappings.clone();
    let html = ConfigurePage { error, notice: None, csrf: &csrf, admin, app, entry, setup, draft, mapping_rows, idp }.render();
    page(status, html, set.into_iter().collect())
}

#[derive(serde::Deserialize, Default)]
pub struct ConfigureQuery {
    #[serde(default)]
    new: Option<String>,
}

pub async fn form(
    State(state): State<AppState>,
    admin: Admin,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<ConfigureQuery>,
) -> Response {
    let app = match load(&state, &admin, &id).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    let draft = Draft::of(&app);
    render(&state, &admin, &headers, app, q.new.is_some(), draft, None)
}

/// `action` = save | add-row (one more mapping row) | cancel (setup only: remove the
/// application just added).
pub async fn submit(State(state): State<AppState>, Path(id): Path<String>, Posted { admin, form, headers }: Posted) -> Response {
    let app = match load(&state, &admin, &id).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    let setup = form.one("setup") == "1";
    let mut draft = Draft::read(&form);
    match form.one("action") {
        "cancel" if setup => match state.services.delete_application(&admin.ctx, &id).await {
            Ok(()) => see_other("/console/applications?cancelled=1", vec![]),
            Err(e) => render(&state, &admin, &headers, app, setup, draft, Some(e.to_string())),
        },
        "add-row" => {
            draft.mappings = with_blank(draft.mappings, 1);
            render(&state, &admin, &headers, app, setup, draft, None)
        }
        _ => match save(&state, &admin, &app, &draft).await {
            Ok(()) => see_other(&format!("{}?{}=1", app_here(&id), if setup { "added" } else { "saved" }), vec![]),
            Err(e) => {
                draft.mappings = with_blank(draft.mappings, 1);
                render(&state, &admin, &headers, app, setup, draft, Some(e.to_string()))
            }
        },
    }
}
