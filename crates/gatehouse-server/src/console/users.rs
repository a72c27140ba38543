//! Users: the identity store's users, searched by username, display name or email (the
//! guide's console procedures start here), as the role session sees them.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::model::condition::{Attr, Condition, Op, Value};
use gatehouse_core::model::{Page, Paged, User, UserQuery};

use super::session::Admin;
use super::{ListQuery, PAGE_SIZE, next_link};
use crate::AppState;
use crate::portal::web::*;

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    query: &'a str,
    /// The page of users, or why this role may not list them.
    users: Result<Paged<User>, String>,
    next_link: Option<String>,
}

/// Any user whose username, display name or an email contains `text` (case-insensitive).
pub(super) fn search(text: &str) -> Condition {
    let contains = |attr| Condition::Compare { attr, op: Op::Co, value: Value::Str(text.to_string()) };
    Condition::Any(vec![
        contains(Attr::UserName),
        contains(Attr::DisplayName),
        contains(Attr::AnyOf { list: "Emails".into(), field: "Value".into() }),
    ])
}

pub async fn list(State(state): State<AppState>, admin: Admin, headers: HeaderMap, Query(q): Query<ListQuery>) -> Response {
    let (csrf, set) = csrf_token(&headers);
    let text = q.q.trim();
    let query = UserQuery { condition: (!text.is_empty()).then(|| search(text)), ..Default::default() };
    let users = state.services.list_users(&admin.ctx, query, Page { after: q.after, limit: PAGE_SIZE }).await.map_err(|e| e.to_string());
    let next_link = next_link("/console/users", text, &users);
    let html = UsersPage { error: None, notice: None, csrf: &csrf, admin: &admin, query: text, users, next_link }.render();
    page(StatusCode::OK, html, set.into_iter().collect())
}
