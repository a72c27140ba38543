//! The guide's user procedures: "To add a user" (details, then the Groups step), "To edit user
//! properties", "To disable a user" (and enable), "To reset a user password". Each form calls one
//! service operation as the role session; what the policy or the rules refuse comes back on the
//! form with the reason.

use std::net::SocketAddr;

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::model::{Group, GroupQuery, Page, TypedValue, User, UserProfile};
use gatehouse_core::services::UserChange;
use serde::Deserialize;
use serde_json::json;

use super::session::{Admin, form_admin};
use crate::AppState;
use crate::portal::web::*;

/// What the add and edit forms hold.
#[derive(Deserialize, Default, Clone)]
pub struct UserFields {
    #[serde(default)]
    pub user_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub confirm_email: String,
    #[serde(default)]
    pub given_name: String,
    #[serde(default)]
    pub family_name: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub employee_number: String,
    /// "email" (an invitation) or "otp" (a one-time password shown once).
    #[serde(default)]
    pub password: String,
}

impl UserFields {
    fn of(user: &User) -> Self {
        let p = &user.profile;
        UserFields {
            user_name: p.user_name.clone(),
            email: p.primary_email().unwrap_or_default().to_string(),
            confirm_email: p.primary_email().unwrap_or_default().to_string(),
            given_name: p.name.given_name.clone().unwrap_or_default(),
            family_name: p.name.family_name.clone().unwrap_or_default(),
            display_name: p.display_name.clone().unwrap_or_default(),
            employee_number: p.enterprise.employee_number.clone().unwrap_or_default(),
            password: String::new(),
        }
    }

    /// Set the form's attributes on a profile (empty optional ones are removed).
    fn apply(&self, p: &mut UserProfile) {
        let optional = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
        p.emails = optional(&self.email)
            .map(|e| vec![TypedValue { value: Some(e), kind: Some("work".into()), display: None, primary: true }])
            .unwrap_or_default();
        p.name.given_name = optional(&self.given_name);
        p.name.family_name = optional(&self.family_name);
        p.display_name = optional(&self.display_name);
        p.enterprise.employee_number = optional(&self.employee_number);
    }

    /// The console's own check: the email typed twice must match (the services check the rest).
    fn emails_match(&self) -> Result<(), String> {
        if self.email.trim() != self.confirm_email.trim() {
            return Err("The email addresses do not match.".into());
        }
        Ok(())
    }
}

#[derive(Template)]
#[template(path = "console/user_new.html")]
struct NewUserPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    fields: UserFields,
    /// The Groups step: the groups to choose from, or None on the details step.
    groups: Option<Vec<Group>>,
}

async fn all_groups(state: &AppState, admin: &Admin) -> Vec<Group> {
    let page = Page { after: None, limit: 100 };
    state.services.list_groups(&admin.ctx, GroupQuery::default(), page).await.map(|p| p.items).unwrap_or_default()
}

pub async fn new_form(State(_state): State<AppState>, admin: Admin, headers: HeaderMap) -> Response {
    let (csrf, set) = csrf_token(&headers);
    let fields = UserFields { password: "email".into(), ..Default::default() };
    let html = NewUserPage { error: None, notice: None, csrf: &csrf, admin: &admin, fields, groups: None }.render();
    page(StatusCode::OK, html, set.into_iter().collect())
}

#[derive(Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    csrf: String,
    /// "groups" moves to the Groups step; "create" adds the user.
    step: String,
    #[serde(flatten)]
    fields: UserFields,
}

#[derive(Template)]
#[template(path = "console/user_created.html")]
struct CreatedPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    user: User,
    portal_url: String,
    one_time_password: Option<String>,
    invited: bool,
    groups_added: usize,
}

pub async fn create(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let chosen = super::Pairs::parse(&body).all("group_id");
    let Ok(form) = serde_urlencoded::from_bytes::<NewUserForm>(&body) else {
        return super::message(StatusCode::BAD_REQUEST, "The form is incomplete", "Go back and fill it in again.");
    };
    let admin = match form_admin(&state, &headers, peer, &form.csrf, "/console/users/new").await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let (csrf, set) = csrf_token(&headers);
    let again = |error: String, groups: Option<Vec<Group>>| {
        let html =
            NewUserPage { error: Some(error), notice: None, csrf: &csrf, admin: &admin, fields: form.fields.clone(), groups }.render();
        page(StatusCode::BAD_REQUEST, html, vec![])
    };
    if let Err(e) = form.fields.emails_match() {
        return again(e, None);
    }
    if form.step == "groups" {
        let groups = all_groups(&state, &admin).await;
        let html = NewUserPage { error: None, notice: None, csrf: &csrf, admin: &admin, fields: form.fields.clone(), groups: Some(groups) }
            .render();
        return page(StatusCode::OK, html, set.into_iter().collect());
    }
    let svc = &state.services;
    let mut profile = UserProfile { user_name: form.fields.user_name.trim().to_string(), ..Default::default() };
    form.fields.apply(&mut profile);
    let user = match svc.create_user(&admin.ctx, profile).await {
        Ok(u) => u,
        Err(e) => return again(e.to_string(), None),
    };
    // The user exists from here on: later failures are reported on the result page.
    let mut problems = Vec::new();
    let mut added = 0;
    for group_id in &chosen {
        match svc.create_group_membership(&admin.ctx, group_id, &user.user_id).await {
            Ok(_) => added += 1,
            Err(e) => problems.push(e.to_string()),
        }
    }
    let (mut one_time_password, mut invited) = (None, false);
    if form.fields.password == "otp" {
        match svc.reset_password(&admin.ctx, &user.user_id).await {
            Ok(p) => one_time_password = Some(p.to_string()),
            Err(e) => problems.push(e.to_string()),
        }
    } else {
        match svc.send_invitation(&admin.ctx, &user.user_id).await {
            Ok(()) => invited = true,
            Err(e) => problems.push(format!("The invitation was not sent: {e}")),
        }
    }
    let html = CreatedPage {
        error: (!problems.is_empty()).then(|| problems.join(" ")),
        notice: Some(format!("User {} was added.", user.profile.user_name)),
        csrf: &csrf,
        admin: &admin,
        user,
        portal_url: state.services.portal_url().await,
        one_time_password,
        invited,
        groups_added: added,
    }
    .render();
    page(StatusCode::OK, html, set.into_iter().collect())
}

#[derive(Template)]
#[template(path = "console/user_edit.html")]
struct EditPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    user_id: &'a str,
    fields: UserFields,
}

async fn load(state: &AppState, admin: &Admin, user_id: &str) -> Result<User, Response> {
    state.services.describe_user(&admin.ctx, user_id).await.map_err(|e| match e {
        gatehouse_core::Error::NotFound { .. } => super::message(StatusCode::NOT_FOUND, "No such user", "The user does not exist."),
        e => super::message(StatusCode::FORBIDDEN, "Unavailable to this role", &e.to_string()),
    })
}

fn here(user_id: &str, rest: &str) -> String {
    format!("/console/users/{}{rest}", percent_encode(user_id))
}

pub async fn edit_form(State(state): State<AppState>, admin: Admin, headers: HeaderMap, Path(user_id): Path<String>) -> Response {
    let user = match load(&state, &admin, &user_id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let (csrf, set) = csrf_token(&headers);
    let html =
        EditPage { error: None, notice: None, csrf: &csrf, admin: &admin, user_id: &user_id, fields: UserFields::of(&user) }.render();
    page(StatusCode::OK, html, set.into_iter().collect())
}

#[derive(Deserialize)]
pub struct EditForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    fields: UserFields,
}

pub async fn save(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    Form(form): Form<EditForm>,
) -> Response {
    let admin = match form_admin(&state, &headers, peer, &form.csrf, &here(&user_id, "/edit")).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let fields = UserFields { confirm_email: form.fields.email.clone(), ..form.fields.clone() };
    let applied = fields.clone();
    let change = UserChange::new(json!({"attributes": ["emails", "name", "displayName", "enterprise.employeeNumber"]}), move |p, _| {
        applied.apply(p);
        Ok(())
    });
    match state.services.update_user(&admin.ctx, &user_id, change).await {
        Ok(_) => see_other(&format!("{}?saved=1", here(&user_id, "")), vec![]),
        Err(e) => {
            let (csrf, _) = csrf_token(&headers);
            let html =
                EditPage { error: Some(e.to_string()), notice: None, csrf: &csrf, admin: &admin, user_id: &user_id, fields }.render();
            page(StatusCode::BAD_REQUEST, html, vec![])
        }
    }
}

#[derive(Template)]
#[template(path = "console/user_action.html")]
struct ActionPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    user: User,
    /// "disable", "enable" or "reset-password".
    action: &'a str,
    one_time_password: Option<String>,
    done: bool,
}

/// The dialog before an action: Disable user, Enable user, Reset password (with its choice).
pub async fn action_form(
    State(state): State<AppState>,
    admin: Admin,
    headers: HeaderMap,
    Path((user_id, action)): Path<(String, String)>,
) -> Response {
    if !["disable", "enable", "reset-password"].contains(&action.as_str()) {
        return super::message(StatusCode::NOT_FOUND, "No such page", "Go back to the user's details.");
    }
    let user = match load(&state, &admin, &user_id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let (csrf, set) = csrf_token(&headers);
    let html =
        ActionPage { error: None, notice: None, csrf: &csrf, admin: &admin, user, action: &action, one_time_password: None, done: false }
            .render();
    page(StatusCode::OK, html, set.into_iter().collect())
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    /// For a password reset: "email" or "otp".
    #[serde(default)]
    mode: String,
}

pub async fn act(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((user_id, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Response {
    let admin = match form_admin(&state, &headers, peer, &form.csrf, &here(&user_id, &format!("/{action}"))).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let svc = &state.services;
    let mut one_time_password = None;
    let outcome = match action.as_str() {
        "disable" => svc.set_user_active(&admin.ctx, &user_id, false).await.map(|_| "The user is disabled.".to_string()),
        "enable" => svc.set_user_active(&admin.ctx, &user_id, true).await.map(|_| "The user is enabled.".to_string()),
        "reset-password" if form.mode == "otp" => svc.reset_password(&admin.ctx, &user_id).await.map(|p| {
            one_time_password = Some(p.to_string());
            "A one-time password was generated: share it with the user, who must change it at the next sign-in.".to_string()
        }),
        "reset-password" => {
            svc.send_password_reset(&admin.ctx, &user_id).await.map(|_| "An email with instructions was sent to the user.".to_string())
        }
        _ => return super::message(StatusCode::NOT_FOUND, "No such action", "Go back to the user's details."),
    };
    let user = match load(&state, &admin, &user_id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let (csrf, _) = csrf_token(&headers);
    let (status, error, notice, done) = match outcome {
        Ok(n) => (StatusCode::OK, None, Some(n), true),
        Err(e) => (StatusCode::BAD_REQUEST, Some(e.to_string()), None, false),
    };
    let html = ActionPage { error, notice, csrf: &csrf, admin: &admin, user, action: &action, one_time_password, done }.render();
    page(status, html, vec![])
}
