//! The Gatehouse console under `/console`: administrators arrive from the portal through a role
//! of the management account ("Management console"), and every page acts as that role session,
//! so the permission set's policies decide what each page may show and do — the same checks as
//! the role's API calls. Server-rendered with the portal's CSRF, CSP and cookie rules.

mod abac;
mod accounts;
mod application_assignments;
mod application_certificates;
mod application_configure;
mod application_mappings;
mod application_new;
mod applications;
mod assign;
mod audit;
mod confirm;
mod dashboard;
mod delete_configuration;
mod group_forms;
mod groups;
mod identity_source;
mod permission_set_edit;
mod permission_set_new;
mod permission_sets;
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
        .route("/console/portal-url", post(dashboard::customize))
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
        .route("/console/accounts", get(accounts::list))
        .route("/console/accounts/assign", get(assign::start).post(assign::step))
        .route("/console/accounts/assign/progress", get(assign::show_progress))
        .route("/console/accounts/{id}", get(accounts::show).post(accounts::act))
        .route("/console/accounts/{id}/remove", get(accounts::remove_form))
        .route("/console/permission-sets", get(permission_sets::list))
        .route("/console/permission-sets/new", get(permission_set_new::new_form).post(permission_set_new::step))
        .route("/console/permission-sets/{id}", get(permission_sets::show).post(permission_sets::act))
        .route("/console/permission-sets/{id}/edit", get(permission_set_edit::edit_form).post(permission_set_edit::save))
        .route("/console/permission-sets/{id}/delete", get(permission_sets::delete_form).post(permission_sets::delete))
        .route("/console/applications", get(applications::list))
        .route("/console/applications/new", get(application_new::catalog).post(application_new::add))
        .route("/console/applications/{id}", get(applications::show).post(applications::act))
        .route("/console/applications/{id}/configure", get(application_configure::form).post(application_configure::submit))
        .route("/console/applications/{id}/certificates", get(application_certificates::show).post(application_certificates::act))
        .route("/console/applications/{id}/attribute-mappings", get(application_mappings::show).post(application_mappings::act))
        .route("/console/applications/{id}/assigned-users", get(application_assignments::show).post(application_assignments::remove))
        .route("/console/applications/{id}/assign", get(application_assignments::assign_form).post(application_assignments::assign))
        .route("/console/applications/{id}/remove-access", get(application_assignments::remove_form))
        .route("/console/applications/{id}/force-remove", get(applications::force_remove_form).post(applications::force_remove))
        .route("/console/audit", get(audit::list))
        .route("/console/audit/download", get(audit::download))
        .route("/console/audit/{id}", get(audit::show))
        .route("/console/settings", get(settings::show).post(settings::act))
        .route("/console/settings/delete", get(delete_configuration::form).post(delete_configuration::delete))
        .route("/console/settings/attributes-for-access-control", get(abac::show).post(abac::act))
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

/// A posted form's fields in order; checkboxes repeat a name, which a struct cannot gather.
pub struct Pairs(Vec<(String, String)>);

impl Pairs {
    pub fn parse(body: &[u8]) -> Self {
        Pairs(serde_urlencoded::from_bytes(body).unwrap_or_default())
    }

    /// The first value of `name`, or "".
    pub fn one(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_default()
    }

    /// Rows of two repeated fields (a key column and a value column), trimmed, in order; rows
    /// without a key are left out.
    pub fn rows(&self, key: &str, value: &str) -> Vec<(String, String)> {
        let column = |name: &str| self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).collect::<Vec<_>>();
        column(key).into_iter().zip(column(value)).filter(|(k, _)| !k.is_empty()).collect()
    }

    /// Every non-empty value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.clone()).collect()
    }
}

/// Every item of a paged listing, page after page.
async fn all_pages<T, F, Fut>(mut list: F) -> gatehouse_core::Result<Vec<T>>
where
    F: FnMut(gatehouse_core::model::Page) -> Fut,
    Fut: std::future::Future<Output = gatehouse_core::Result<gatehouse_core::model::Paged<T>>>,
{
    let mut items = Vec::new();
    let mut after = None;
    loop {
        let page = list(gatehouse_core::model::Page { after, limit: 100 }).await?;
        items.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(items),
        }
    }
}

/// A user's name or a group's display name, as the role session may read it (the id when it
/// may not, or the principal is gone).
async fn principal_name(state: &crate::AppState, admin: &session::Admin, kind: gatehouse_core::model::PrincipalType, id: &str) -> String {
    use gatehouse_core::model::PrincipalType;
    let svc = &state.services;
    let name = match kind {
        PrincipalType::User => svc.describe_user(&admin.ctx, id).await.map(|u| u.profile.user_name),
        PrincipalType::Group => svc.describe_group(&admin.ctx, id).await.map(|g| g.profile.display_name),
    };
    name.unwrap_or_else(|_| id.to_string())
}
