//! An application's Assigned users tab: "To assign access to users or groups" (Assign users →
//! search → tick users or groups → Assign users) and "To remove user access from an application"
//! (Remove → the Remove access dialog naming the user or group → Remove access). Groups are
//! assigned directly: members of nested groups are not reached, as the guide notes.

use std::collections::HashSet;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::model::condition::{Attr, Condition, Op, Value};
use gatehouse_core::model::{Application, Group, GroupQuery, Page, PrincipalType, User, UserQuery};

use super::applications::load;
use super::principal_name;
use super::session::{Admin, Posted};
use super::{PAGE_SIZE, all_pages};
use crate::AppState;
use crate::portal::web::*;

/// A user or group assigned to the application.
pub struct AssignedRow {
    pub principal_type: &'static str,
    pub principal_id: String,
    /// The user name or group display name (the id if it cannot be read).
    pub name: String,
}

impl AssignedRow {
    /// The query the Remove access dialog opens with.
    pub fn remove_query(&self) -> String {
        format!("type={}&principal={}", self.principal_type, percent_encode(&self.principal_id))
    }
}

/// Groups first, then users, each by name.
async fn assigned(state: &AppState, admin: &Admin, id: &str) -> gatehouse_core::Result<Vec<AssignedRow>> {
    let svc = &state.services;
    let list = all_pages(|p| async move { svc.list_app_assignments(&admin.ctx, id, &p).await }).await?;
    let mut rows = Vec::new();
    for a in list {
        rows.push(AssignedRow {
            principal_type: a.principal_type.as_str(),
            name: principal_name(state, admin, a.principal_type, &a.principal_id).await,
            principal_id: a.principal_id,
        });
    }
    rows.sort_by_key(|r| (r.principal_type != "GROUP", r.name.to_lowercase()));
    Ok(rows)
}

#[derive(Template)]
#[template(path = "console/application_assigned.html")]
struct AssignedPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    app: Application,
    tab: &'static str,
    rows: Result<Vec<AssignedRow>, String>,
}

async fn render(state: &AppState, admin: &Admin, headers: &HeaderMap, id: &str, error: Option<String>, notice: Option<String>) -> Response {
    let app = match load(state, admin, id).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    let rows = assigned(state, admin, id).await.map_err(|e| e.to_string());
    let (csrf, set) = csrf_token(headers);
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let html = AssignedPage { error, notice, csrf: &csrf, admin, app, tab: "assigned-users", rows }.render();
    page(status, html, set.into_iter().collect())
}

pub async fn show(State(state): State<AppState>, admin: Admin, headers: HeaderMap, Path(id): Path<String>) -> Response {
    render(&state, &admin, &headers, &id, None, None).await
}

/// `USER:<id>` or `GROUP:<id>`, as the check boxes carry them.
fn parse_principal(value: &str) -> Option<(PrincipalType, &str)> {
    let (kind, id) = value.split_once(':')?;
    Some((PrincipalType::parse(kind)?, id))
}

#[derive(Template)]
#[template(path = "console/application_assign.html")]
struct AssignPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    app: Application,
    query: String,
    users: Result<Vec<User>, String>,
    groups: Result<Vec<Group>, String>,
    /// `USER:<id>` / `GROUP:<id>` of those assigned already.
    assigned: HashSet<String>,
}

impl AssignPage<'_> {
    fn has(&self, kind: &str, id: &str) -> bool {
        self.assigned.contains(&format!("{kind}:{id}"))
    }
}

#[derive(serde::Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// The Assign users dialog: users and groups whose names contain the search text.
async fn assign_page(state: &AppState, admin: &Admin, headers: &HeaderMap, id: &str, text: &str, error: Option<String>) -> Response {
    let app = match load(state, admin, id).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    let svc = &state.services;
    let page_of = || Page { after: None, limit: PAGE_SIZE };
    let users_query = UserQuery { condition: (!text.is_empty()).then(|| super::users::search(text)), ..Default::default() };
    let users = svc.list_users(&admin.ctx, users_query, page_of()).await.map(|p| p.items).map_err(|e| e.to_string());
    let contains = Condition::Compare { attr: Attr::DisplayName, op: Op::Co, value: Value::Str(text.to_string()) };
    let groups_query = GroupQuery { condition: (!text.is_empty()).then_some(contains), ..Default::default() };
    let groups = svc.list_groups(&admin.ctx, groups_query, page_of()).await.map(|p| p.items).map_err(|e| e.to_string());
    let assigned = all_pages(|p| async move { svc.list_app_assignments(&admin.ctx, id, &p).await })
        .await
        .map(|list| list.into_iter().map(|a| format!("{}:{}", a.principal_type.as_str(), a.principal_id)).collect())
        .unwrap_or_default();
    let (csrf, set) = csrf_token(headers);
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let html = AssignPage { error, notice: None, csrf: &csrf, admin, app, query: text.to_string(), users, groups, assigned }.render();
    page(status, html, set.into_iter().collect())
}

pub async fn assign_form(
    State(state): State<AppState>,
    admin: Admin,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<SearchQuery>,
) -> Response {
    assign_page(&state, &admin, &headers, &id, q.q.trim(), None).await
}

/// Assign users: one CreateApplicationAssignment per ticked user or group.
pub async fn assign(State(state): State<AppState>, Path(id): Path<String>, Posted { admin, form, headers }: Posted) -> Response {
    let chosen: Vec<_> = form.all("principal").into_iter().filter(|p| parse_principal(p).is_some()).collect();
    if chosen.is_empty() {
        let error = Some("Select at least one user or group.".to_string());
        return assign_page(&state, &admin, &headers, &id, form.one("q").trim(), error).await;
    }
    let mut assigned = 0;
    let mut failures = Vec::new();
    for value in &chosen {
        let Some((kind, principal)) = parse_principal(value) else { continue };
        match state.services.create_app_assignment(&admin.ctx, &id, kind, principal).await {
            Ok(()) => assigned += 1,
            Err(e) => failures.push(format!("{}: {e}", principal_name(&state, &admin, kind, principal).await)),
        }
    }
    let notice = (assigned > 0).then(|| format!("Assigned {assigned} user(s) or group(s)."));
    let error = (!failures.is_empty()).then(|| failures.join(" "));
    render(&state, &admin, &headers, &id, error, notice).await
}

#[derive(serde::Deserialize)]
pub struct RemoveQuery {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    principal: String,
}

#[derive(Template)]
#[template(path = "console/application_remove_access.html")]
struct RemovePage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    app: Application,
    q: RemoveQuery,
    name: String,
}

/// The Remove access dialog: it names the user or group before anything is removed.
pub async fn remove_form(
    State(state): State<AppState>,
    admin: Admin,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<RemoveQuery>,
) -> Response {
    let app = match load(&state, &admin, &id).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    let Some(kind) = PrincipalType::parse(&q.kind) else {
        return super::message(StatusCode::NOT_FOUND, "No such assignment", "Choose Remove next to a user or group.");
    };
    let name = principal_name(&state, &admin, kind, &q.principal).await;
    let (csrf, set) = csrf_token(&headers);
    let html = RemovePage { error: None, notice: None, csrf: &csrf, admin: &admin, app, q, name }.render();
    page(StatusCode::OK, html, set.into_iter().collect())
}

/// Remove access: DeleteApplicationAssignment (`action` = remove-access).
pub async fn remove(State(state): State<AppState>, Path(id): Path<String>, Posted { admin, form, headers }: Posted) -> Response {
    let done = match (form.one("action"), PrincipalType::parse(form.one("type"))) {
        ("remove-access", Some(kind)) => {
            let principal = form.one("principal");
            let name = principal_name(&state, &admin, kind, principal).await;
            state.services.delete_app_assignment(&admin.ctx, &id, kind, principal).await.map(|_| format!("Access for {name} was removed."))
        }
        _ => Err(gatehouse_core::Error::validation("action", "choose Remove next to a user or group")),
    };
    match done {
        Ok(notice) => render(&state, &admin, &headers, &id, None, Some(notice)).await,
        Err(e) => render(&state, &admin, &headers, &id, Some(e.to_string()), None).await,
    }
}
