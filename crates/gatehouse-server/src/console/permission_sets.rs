//! AWS accounts → Permission sets: the list, a permission set's details (general settings,
//! policies, tags, the accounts it is provisioned to), and the changes made from there: attach or
//! detach a managed policy, put or delete the inline policy, reprovision to chosen accounts, and
//! "To delete a permissions set" with its dialog.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::model::{COMMON_MANAGED_POLICIES, JOB_FUNCTION_POLICIES, ManagedPolicyChoice, PermissionSet, Tag};
use gatehouse_core::services::permission_sets::{PolicyChange, managed_policy_name};

use super::session::{Admin, Posted};
use super::{Pairs, all_pages};
use crate::AppState;
use crate::portal::web::*;

/// A session duration as the console shows it ("4 hours").
pub fn hours(minutes: &u32) -> String {
    match (minutes / 60, minutes % 60) {
        (1, 0) => "1 hour".to_string(),
        (h, 0) => format!("{h} hours"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// The managed policies a form offers: job functions, then common service policies.
pub fn policy_choices() -> impl Iterator<Item = &'static ManagedPolicyChoice> {
    JOB_FUNCTION_POLICIES.iter().chain(COMMON_MANAGED_POLICIES)
}

#[derive(Template)]
#[template(path = "console/permission_sets.html")]
struct ListPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    sets: Result<Vec<PermissionSet>, String>,
}

#[derive(serde::Deserialize, Default)]
pub struct ListNotice {
    #[serde(default)]
    deleted: Option<String>,
}

pub async fn list(State(state): State<AppState>, admin: Admin, headers: HeaderMap, Query(q): Query<ListNotice>) -> Response {
    let svc = &state.services;
    let ctx = &admin.ctx;
    let sets = all_pages(|p| async move { svc.list_permission_sets(ctx, &p).await }).await.map(|mut sets| {
        sets.sort_by_key(|s| s.name.to_lowercase());
        sets
    });
    let (csrf, set) = csrf_token(&headers);
    let notice = q.deleted.map(|name| format!("Permission set {name} was deleted."));
    let html = ListPage { error: None, notice, csrf: &csrf, admin: &admin, sets: sets.map_err(|e| e.to_string()) }.render();
    page(StatusCode::OK, html, set.into_iter().collect())
}

#[derive(Template)]
#[template(path = "console/permission_set_details.html")]
struct DetailsPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    ps: PermissionSet,
    arn: String,
    tags: Result<Vec<Tag>, String>,
    /// The accounts it is provisioned to, each with whether it has the latest version.
    accounts: Result<Vec<(String, bool)>, String>,
}

impl DetailsPage<'_> {
    fn policy_name(&self, arn: &str) -> String {
        managed_policy_name(arn).to_string()
    }

    fn choices(&self) -> Vec<&'static ManagedPolicyChoice> {
        policy_choices().filter(|c| !self.ps.policies.managed.iter().any(|m| m == c.arn)).collect()
    }
}

pub fn here(id: &str) -> String {
    format!("/console/permission-sets/{}", percent_encode(id))
}

/// The accounts that have the permission set, and whether each has its latest version.
pub async fn provisioned_accounts(state: &AppState, admin: &Admin, id: &str) -> gatehouse_core::Result<Vec<(String, bool)>> {
    let svc = &state.services;
    let current =
        all_pages(|p| async move { svc.list_accounts_for_provisioned_permission_set(&admin.ctx, id, Some(true), &p).await }).await?;
    let mut all = all_pages(|p| async move { svc.list_accounts_for_provisioned_permission_set(&admin.ctx, id, None, &p).await })
        .await?
        .into_iter()
        .map(|a| {
            let latest = current.contains(&a);
            (a, latest)
        })
        .collect::<Vec<_>>();
    all.sort();
    Ok(all)
}

/// The details page, with what the last action said.
pub async fn details(
    state: &AppState,
    admin: &Admin,
    headers: &HeaderMap,
    id: &str,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let svc = &state.services;
    let ps = match svc.describe_permission_set(&admin.ctx, id).await {
        Ok(ps) => ps,
        Err(gatehouse_core::Error::NotFound { .. }) => {
            return super::message(StatusCode::NOT_FOUND, "No such permission set", "The permission set does not exist.");
        }
        Err(e) => return super::message(StatusCode::FORBIDDEN, "Unavailable to this role", &e.to_string()),
    };
    let arn = svc.permission_set_arn(id).unwrap_or_default();
    let tags = svc.list_tags_for_resource(&admin.ctx, &arn).await.map_err(|e| e.to_string());
    let accounts = provisioned_accounts(state, admin, id).await.map_err(|e| e.to_string());
    let (csrf, set) = csrf_token(headers);
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let html = DetailsPage { error, notice, csrf: &csrf, admin, ps, arn, tags, accounts }.render();
    page(status, html, set.into_iter().collect())
}

#[derive(serde::Deserialize, Default)]
pub struct DetailsNotice {
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    saved: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<DetailsNotice>,
) -> Response {
    let notice = match (q.created, q.saved) {
        (Some(_), _) => Some("The permission set was created. Assign it to users or groups in AWS accounts to use it.".to_string()),
        (_, Some(_)) => Some("The permission set was saved.".to_string()),
        _ => None,
    };
    details(&state, &admin, &headers, &id, None, notice).await
}

/// One change from the details page: `action` = attach | detach | put-inline | delete-inline |
/// reprovision.
pub async fn act(State(state): State<AppState>, Path(id): Path<String>, Posted { admin, form, headers }: Posted) -> Response {
    let svc = &state.services;
    let change = |c: PolicyChange, done: &'static str| {
        let (svc, admin, id) = (svc, &admin, &id);
        async move { svc.change_permission_set_policies(&admin.ctx, id, c).await.map(|_| done.to_string()) }
    };
    let done = match form.one("action") {
        "attach" => {
            let typed = form.one("other_arn").trim();
            let arn = if typed.is_empty() { form.one("arn").to_string() } else { typed.to_string() };
            if arn.is_empty() {
                Err(gatehouse_core::Error::validation("ManagedPolicyArn", "choose a policy or type its ARN"))
            } else {
                change(PolicyChange::AttachManaged(arn), "The policy was attached.").await
            }
        }
        "detach" => change(PolicyChange::DetachManaged(form.one("arn").to_string()), "The policy was detached.").await,
        "put-inline" => change(PolicyChange::PutInline(form.one("policy").to_string()), "The inline policy was saved.").await,
        "delete-inline" => change(PolicyChange::DeleteInline, "The inline policy was deleted.").await,
        "reprovision" => reprovision(&state, &admin, &id, &form.all("account")).await,
        "tags" => save_tags(&state, &admin, &id, &form).await,
        other => Err(gatehouse_core::Error::validation("action", format!("unknown action '{other}'"))),
    };
    match done {
        Ok(notice) => details(&state, &admin, &headers, &id, None, Some(notice)).await,
        Err(e) => details(&state, &admin, &headers, &id, Some(e.to_string()), None).await,
    }
}

/// "To manage tags": the rows as typed, less the empty ones and those marked Remove, become the
/// permission set's tags.
async fn save_tags(state: &AppState, admin: &Admin, id: &str, form: &Pairs) -> gatehouse_core::Result<String> {
    let removed = form.all("remove_tag");
    let tags = form
        .rows("tag_key", "tag_value")
        .into_iter()
        .filter(|(key, _)| !removed.contains(key))
        .map(|(key, value)| Tag { key, value })
        .collect();
    let arn = state.services.permission_set_arn(id)?;
    state.services.replace_tags(&admin.ctx, &arn, tags).await?;
    Ok("The tags were saved.".to_string())
}

/// ProvisionPermissionSet to each chosen account ("Reprovision").
pub async fn reprovision(state: &AppState, admin: &Admin, id: &str, accounts: &[String]) -> gatehouse_core::Result<String> {
    if accounts.is_empty() {
        return Err(gatehouse_core::Error::validation("accounts", "choose at least one AWS account to reprovision"));
    }
    for account in accounts {
        state.services.provision_permission_set(&admin.ctx, id, Some(account)).await?;
    }
    Ok(format!("Reprovisioning to {} account(s) has started.", accounts.len()))
}

#[derive(Template)]
#[template(path = "console/permission_set_delete.html")]
struct DeletePage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    ps: PermissionSet,
}

/// The "Delete permission set" dialog.
pub async fn delete_form(State(state): State<AppState>, admin: Admin, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let ps = match state.services.describe_permission_set(&admin.ctx, &id).await {
        Ok(ps) => ps,
        Err(e) => return super::message(StatusCode::NOT_FOUND, "No such permission set", &e.to_string()),
    };
    let (csrf, set) = csrf_token(&headers);
    let html = DeletePage { error: None, notice: None, csrf: &csrf, admin: &admin, ps }.render();
    page(StatusCode::OK, html, set.into_iter().collect())
}

pub async fn delete(State(state): State<AppState>, Path(id): Path<String>, Posted { admin, form: _, headers }: Posted) -> Response {
    let svc = &state.services;
    let name = svc.describe_permission_set(&admin.ctx, &id).await.map(|ps| ps.name).unwrap_or_else(|_| id.clone());
    match svc.delete_permission_set(&admin.ctx, &id).await {
        Ok(()) => see_other(&format!("/console/permission-sets?deleted={}", percent_encode(&name)), vec![]),
        Err(e) => details(&state, &admin, &headers, &id, Some(e.to_string()), None).await,
    }
}
