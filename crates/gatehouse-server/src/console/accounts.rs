//! AWS accounts → AWS organization: the organization's tree (root, OUs, accounts) to choose up to
//! 10 accounts from for "To assign access to users or groups"; an account's details with its
//! assigned users and groups ("To remove user access from an AWS account") and its IAM identity
//! provider ("To repair an identity provider", "To remove the IAM identity provider").

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::model::{Account, PrincipalType};

use super::all_pages;
use super::principal_name;
use super::session::{Admin, Posted};
use crate::AppState;
use crate::portal::web::*;

/// One line of the organization tree.
pub struct TreeRow {
    pub depth: usize,
    /// An OU (or the root) heading, or an account.
    pub account: Option<Account>,
    pub id: String,
    pub name: String,
}

/// The organization depth first: each OU, then its accounts, then its child OUs.
async fn tree(state: &AppState, admin: &Admin) -> gatehouse_core::Result<Vec<TreeRow>> {
    let svc = &state.services;
    let root = svc.instance()?.root_id.clone();
    let mut rows = Vec::new();
    let mut stack = vec![(root.clone(), "Root".to_string(), 0usize)];
    while let Some((id, name, depth)) = stack.pop() {
        rows.push(TreeRow { depth, account: None, id: id.clone(), name });
        let mut accounts = all_pages(|p| svc.list_accounts_for_parent(&admin.ctx, &id, p)).await?;
        accounts.sort_by_key(|a| a.name.to_lowercase());
        for a in accounts {
            rows.push(TreeRow { depth: depth + 1, id: a.id.clone(), name: a.name.clone(), account: Some(a) });
        }
        let mut ous = all_pages(|p| svc.list_ous_for_parent(&admin.ctx, &id, p)).await?;
        ous.sort_by_key(|u| std::cmp::Reverse(u.name.to_lowercase()));
        stack.extend(ous.into_iter().map(|u| (u.id, u.name, depth + 1)));
    }
    Ok(rows)
}

#[derive(Template)]
#[template(path = "console/accounts.html")]
struct TreePage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    rows: Result<Vec<TreeRow>, String>,
    management_account: String,
}

pub async fn list(State(state): State<AppState>, admin: Admin, headers: HeaderMap) -> Response {
    let rows = tree(&state, &admin).await.map_err(|e| e.to_string());
    let management_account = state.services.instance().map(|i| i.management_account_id.clone()).unwrap_or_default();
    let (csrf, set) = csrf_token(&headers);
    let html = TreePage { error: None, notice: None, csrf: &csrf, admin: &admin, rows, management_account }.render();
    page(StatusCode::OK, html, set.into_iter().collect())
}

/// A user or group assigned a permission set in the account.
pub struct AssignedRow {
    pub principal_type: &'static str,
    pub principal_id: String,
    /// The user name or group display name (the id if it cannot be read).
    pub principal_name: String,
    pub permission_set_id: String,
    pub permission_set: String,
    /// Made through an OU assignment, not directly: removed there.
    pub via_ous: Vec<String>,
}

impl AssignedRow {
    pub fn direct(&self) -> bool {
        self.via_ous.is_empty()
    }

    /// The query the Remove access dialog is opened with.
    pub fn remove_query(&self) -> String {
        format!(
            "ps={}&type={}&principal={}",
            percent_encode(&self.permission_set_id),
            self.principal_type,
            percent_encode(&self.principal_id)
        )
    }
}

/// Who has which permission set in the account.
async fn assigned(state: &AppState, admin: &Admin, account_id: &str) -> gatehouse_core::Result<Vec<AssignedRow>> {
    let svc = &state.services;
    let sets =
        all_pages(|p| async move { svc.list_permission_sets_provisioned_to_account(&admin.ctx, account_id, None, &p).await }).await?;
    let mut rows = Vec::new();
    for ps_id in sets {
        let ps = svc.describe_permission_set(&admin.ctx, &ps_id).await?;
        let assignments = all_pages(|p| {
            let ps_id = &ps_id;
            async move { svc.list_account_assignments(&admin.ctx, account_id, ps_id, &p).await }
        })
        .await?;
        for a in assignments.into_iter().filter(|a| a.in_use()) {
            rows.push(AssignedRow {
                principal_type: a.principal_type.as_str(),
                principal_name: principal_name(state, admin, a.principal_type, &a.principal_id).await,
                principal_id: a.principal_id,
                permission_set_id: ps.permission_set_id.clone(),
                permission_set: ps.name.clone(),
                via_ous: if a.direct { vec![] } else { a.via_ous },
            });
        }
    }
    rows.sort_by(|a, b| (a.principal_name.to_lowercase(), &a.permission_set).cmp(&(b.principal_name.to_lowercase(), &b.permission_set)));
    Ok(rows)
}

#[derive(Template)]
#[template(path = "console/account_details.html")]
struct DetailsPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    account: Account,
    assigned: Result<Vec<AssignedRow>, String>,
    /// Gatehouse's own account has no IAM identity provider to repair.
    own_account: bool,
}

async fn details(
    state: &AppState,
    admin: &Admin,
    headers: &HeaderMap,
    account_id: &str,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let svc = &state.services;
    let account = match svc.describe_account(&admin.ctx, account_id).await {
        Ok(a) => a,
        Err(gatehouse_core::Error::NotFound { .. }) => {
            return super::message(StatusCode::NOT_FOUND, "No such AWS account", "The account is not in the organization.");
        }
        Err(e) => return super::message(StatusCode::FORBIDDEN, "Unavailable to this role", &e.to_string()),
    };
    let assigned = assigned(state, admin, account_id).await.map_err(|e| e.to_string());
    let own_account = svc.instance().is_ok_and(|i| i.management_account_id == account_id);
    let (csrf, set) = csrf_token(headers);
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let html = DetailsPage { error, notice, csrf: &csrf, admin, account, assigned, own_account }.render();
    page(status, html, set.into_iter().collect())
}

pub async fn show(State(state): State<AppState>, admin: Admin, headers: HeaderMap, Path(account_id): Path<String>) -> Response {
    details(&state, &admin, &headers, &account_id, None, None).await
}

/// The assignment the Remove access dialog is about.
#[derive(serde::Deserialize)]
pub struct RemoveQuery {
    #[serde(default)]
    ps: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    principal: String,
}

#[derive(Template)]
#[template(path = "console/account_remove.html")]
struct RemovePage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    account: Account,
    q: RemoveQuery,
    principal_name: String,
    permission_set: String,
}

/// The "Remove access" dialog: it names the user or group before anything is removed.
pub async fn remove_form(
    State(state): State<AppState>,
    admin: Admin,
    headers: HeaderMap,
    Path(account_id): Path<String>,
    Query(q): Query<RemoveQuery>,
) -> Response {
    let svc = &state.services;
    let (Ok(account), Some(kind)) = (svc.describe_account(&admin.ctx, &account_id).await, PrincipalType::parse(&q.kind)) else {
        return super::message(StatusCode::NOT_FOUND, "No such assignment", "The account or the user or group does not exist.");
    };
    let principal_name = principal_name(&state, &admin, kind, &q.principal).await;
    let permission_set = svc.describe_permission_set(&admin.ctx, &q.ps).await.map(|p| p.name).unwrap_or_else(|_| q.ps.clone());
    let (csrf, set) = csrf_token(&headers);
    let html = RemovePage { error: None, notice: None, csrf: &csrf, admin: &admin, account, q, principal_name, permission_set }.render();
    page(StatusCode::OK, html, set.into_iter().collect())
}

/// `action` = remove-access (DeleteAccountAssignment) | repair-idp | remove-idp.
pub async fn act(State(state): State<AppState>, Path(account_id): Path<String>, Posted { admin, form, headers }: Posted) -> Response {
    let svc = &state.services;
    let done = match form.one("action") {
        "remove-access" => match PrincipalType::parse(form.one("type")) {
            Some(kind) => {
                let name = form.one("name");
                svc.delete_account_assignment(&admin.ctx, &account_id, form.one("ps"), kind, form.one("principal"))
                    .await
                    .map(|_| format!("Access for {name} is being removed."))
            }
            None => Err(gatehouse_core::Error::validation("type", "must be USER or GROUP")),
        },
        "repair-idp" => {
            svc.repair_identity_provider(&admin.ctx, &account_id).await.map(|arn| format!("The identity provider {arn} was repaired."))
        }
        "remove-idp" => {
            svc.remove_identity_provider(&admin.ctx, &account_id).await.map(|arn| format!("The identity provider {arn} was removed."))
        }
        other => Err(gatehouse_core::Error::validation("action", format!("unknown action '{other}'"))),
    };
    match done {
        Ok(notice) => details(&state, &admin, &headers, &account_id, None, Some(notice)).await,
        Err(e) => details(&state, &admin, &headers, &account_id, Some(e.to_string()), None).await,
    }
}
