//! Groups: the identity store's groups, searched by display name, as the role session sees them.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::model::condition::{Attr, Condition, Op, Value};
use gatehouse_core::model::{Group, GroupQuery, Page, Paged};

use super::session::Admin;
use super::{ListQuery, PAGE_SIZE, next_link};
use crate::AppState;
use crate::portal::web::*;

#[derive(Template)]
#[template(path = "console/groups.html")]
struct GroupsPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    query: &'a str,
    /// The page of groups, or why this role may not list them.
    groups: Result<Paged<Group>, String>,
    next_link: Option<String>,
}

pub async fn list(State(state): State<AppState>, admin: Admin, headers: HeaderMap, Query(q): Query<ListQuery>) -> Response {
    let (csrf, set) = csrf_token(&headers);
    let text = q.q.trim();
    let contains = Condition::Compare { attr: Attr::DisplayName, op: Op::Co, value: Value::Str(text.to_string()) };
    let query = GroupQuery { condition: (!text.is_empty()).then_some(contains), ..Default::default() };
    let groups = state.services.list_groups(&admin.ctx, query, Page { after: q.after, limit: PAGE_SIZE }).await.map_err(|e| e.to_string());
    let next_link = next_link("/console/groups", text, &groups);
    let html = GroupsPage { error: None, notice: None, csrf: &csrf, admin: &admin, query: text, groups, next_link }.render();
    page(StatusCode::OK, html, set.into_iter().collect())
}
