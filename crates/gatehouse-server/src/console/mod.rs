//! The Gatehouse console under `/console`: administrators arrive from the portal through a role
//! of the management account ("Management console"), and every page acts as that role session,
//! so the permission set's policies decide what each page may show and do — the same checks as
//! the role's API calls. Server-rendered with the portal's CSRF, CSP and cookie rules.

mod dashboard;
mod group_forms;
mod groups;
mod identity_source;
mod session;
mod settings;
mod user_details;
mod user_forms;
mod users;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub use session::console_cookie;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(dashboard::show))
        .route("/console/", get(dashboard::show))
        .route("/console/users", get(users::list))
        .route("/console/users/new", get(user_forms::new_form).post(user_forms::create))
        .route("/console/users/{id}", get(user_details::show))
        .route("/console/users/{id}/edit", get(user_forms::edit_form).post(user_forms::save))
        .route("/console/users/{id}/devices", post(user_details::change_device))
        .route("/console/users/{id}/sessions", post(user_details::revoke_sessions))
        .route("/console/users/{id}/{action}", get(user_forms::action_form).post(user_forms::act))
        .route("/console/groups", get(groups::list))
        .route("/console/groups/new", get(group_forms::new_form).post(group_forms::create))
        .route("/console/groups/{id}", get(group_forms::show))
        .route("/console/groups/{id}/add-users", get(group_forms::add_users_form))
        .route("/console/groups/{id}/members", post(group_forms::change_members))
        .route("/console/settings", get(settings::show).post(settings::act))
        .route("/console/settings/identity-source", get(identity_source::show).post(identity_source::act))
        .route("/console/settings/identity-source/change", get(identity_source::change_form).post(identity_source::change))
        .route("/console/signout", post(session::sign_out))
        .layer(axum::middleware::from_fn(crate::portal::web::security_headers))
}

/// Rows per page of a console list.
const PAGE_SIZE: u64 = 50;

/// A list page's search text and where its page starts.
#[derive(serde::Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    after: Option<String>,
}

/// The link to the list's next page, if there is one.
fn next_link<T, E>(path: &str, text: &str, listed: &Result<gatehouse_core::model::Paged<T>, E>) -> Option<String> {
    use crate::portal::web::percent_encode;
    let next = listed.as_ref().ok()?.next.as_ref()?;
    Some(format!("{path}?q={}&after={}", percent_encode(text), percent_encode(next)))
}

#[derive(askama::Template)]
#[template(path = "console/message.html")]
struct MessagePage<'a> {
    error: Option<String>,
    notice: Option<String>,
    title: &'a str,
    text: &'a str,
}

/// A page that only says something (a refused form, an expired session).
fn message(status: axum::http::StatusCode, title: &str, text: &str) -> axum::response::Response {
    use askama::Template;
    crate::portal::web::page(status, MessagePage { error: None, notice: None, title, text }.render(), vec![])
}
