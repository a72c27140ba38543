//! The guide's group procedures: "To add a group" (Create group: name and description) and "To
//! add a user as a member of a group" (the group's details → Add users → choose them), with
//! removing a member from the details page.

use std::net::SocketAddr;

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::model::{Group, GroupProfile, Page, User, UserQuery};
use serde::Deserialize;

use super::ListQuery;
use super::session::{Admin, Posted, form_admin};
use crate::AppState;
use crate::portal::web::*;

#[derive(Template)]
#[template(path = "console/group_new.html")]
struct NewGroupPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    name: &'a str,
    description: &'a str,
}

pub async fn new_form(State(_state): State<AppState>, admin: Admin, headers: HeaderMap) -> Response {
    let (csrf, set) = csrf_token(&headers);
    let html = NewGroupPage { error: None, notice: None, csrf: &csrf, admin: &admin, name: "", description: "" }.render();
    page(StatusCode::OK, html, set.into_iter().collect())
}

#[derive(Deserialize)]
pub struct NewGroupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
}

pub async fn create(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<NewGroupForm>,
) -> Response {
    let admin = match form_admin(&state, &headers, peer, &form.csrf, "/console/groups/new").await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let profile = GroupProfile {
        display_name: form.name.trim().to_string(),
        description: Some(form.description.trim().to_string()).filter(|d| !d.is_empty()),
        external_ids: vec![],
    };
    match state.services.create_group(&admin.ctx, profile).await {
        Ok(g) => see_other(&format!("/console/groups/{}", percent_encode(&g.group_id)), vec![]),
        Err(e) => {
            let (csrf, _) = csrf_token(&headers);
            let html = NewGroupPage {
                error: Some(e.to_string()),
                notice: None,
                csrf: &csrf,
                admin: &admin,
                name: &form.name,
                description: &form.description,
            }
            .render();
            page(StatusCode::BAD_REQUEST, html, vec![])
        }
    }
}

#[derive(Template)]
#[template(path = "console/group_details.html")]
struct GroupPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    group: Group,
    /// The members, or why this role may not list them.
    members: Result<Vec<User>, String>,
}

async fn members(state: &AppState, admin: &Admin, group_id: &str) -> gatehouse_core::Result<Vec<User>> {
    let svc = &state.services;
    let mut users = Vec::new();
    let mut page = Page { after: None, limit: 100 };
    loop {
        let listed = svc.list_group_memberships(&admin.ctx, group_id, page.clone()).await?;
        for m in &listed.items {
            users.push(svc.describe_user(&admin.ctx, &m.user_id).await?);
        }
        match listed.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    users.sort_by_key(|u| u.profile.user_name.to_lowercase());
    Ok(users)
}

async fn details(
    state: &AppState,
    admin: &Admin,
    headers: &HeaderMap,
    group_id: &str,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let group = match state.services.describe_group(&admin.ctx, group_id).await {
        Ok(g) => g,
        Err(gatehouse_core::Error::NotFound { .. }) => {
            return super::message(StatusCode::NOT_FOUND, "No such group", "The group does not exist.");
        }
        Err(e) => return super::message(StatusCode::FORBIDDEN, "Unavailable to this role", &e.to_string()),
    };
    let (csrf, set) = csrf_token(headers);
    let members = members(state, admin, group_id).await.map_err(|e| e.to_string());
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let html = GroupPage { error, notice, csrf: &csrf, admin, group, members }.render();
    page(status, html, set.into_iter().collect())
}

pub async fn show(State(state): State<AppState>, admin: Admin, headers: HeaderMap, Path(group_id): Path<String>) -> Response {
    details(&state, &admin, &headers, &group_id, None, None).await
}

#[derive(Template)]
#[template(path = "console/group_add_users.html")]
struct AddUsersPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    group: Group,
    query: &'a str,
    users: Result<Vec<User>, String>,
}

/// "Add users to group": find users, tick them.
pub async fn add_users_form(
    State(state): State<AppState>,
    admin: Admin,
    headers: HeaderMap,
    Path(group_id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    let svc = &state.services;
    let group = match svc.describe_group(&admin.ctx, &group_id).await {
        Ok(g) => g,
        Err(e) => return super::message(StatusCode::NOT_FOUND, "No such group", &e.to_string()),
    };
    let text = q.q.trim();
    let query = UserQuery { condition: (!text.is_empty()).then(|| super::users::search(text)), ..Default::default() };
    let users =
        svc.list_users(&admin.ctx, query, Page { after: None, limit: super::PAGE_SIZE }).await.map(|p| p.items).map_err(|e| e.to_string());
    let (csrf, set) = csrf_token(&headers);
    let html = AddUsersPage { error: None, notice: None, csrf: &csrf, admin: &admin, group, query: text, users }.render();
    page(StatusCode::OK, html, set.into_iter().collect())
}

/// Add the ticked users, or remove one member (`remove=<user id>`), in one operation.
pub async fn change_members(
    State(state): State<AppState>,
    Path(group_id): Path<String>,
    Posted { admin, form, headers }: Posted,
) -> Response {
    let (add, remove) = (form.all("user_id"), form.all("remove"));
    if add.is_empty() && remove.is_empty() {
        return details(&state, &admin, &headers, &group_id, Some("Choose at least one user.".into()), None).await;
    }
    match state.services.update_group_members(&admin.ctx, &group_id, &add, &remove).await {
        Ok(()) => {
            let notice = if remove.is_empty() { format!("Added {} user(s).", add.len()) } else { "The member was removed.".to_string() };
            details(&state, &admin, &headers, &group_id, None, Some(notice)).await
        }
        Err(e) => details(&state, &admin, &headers, &group_id, Some(e.to_string()), None).await,
    }
}
