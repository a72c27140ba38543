//! The guide's "To assign access to users or groups": the chosen AWS accounts (up to 10) →
//! Assign users → Select users or groups → Next: Permission sets → Finish, then the requests'
//! progress until every assignment has completed.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::model::condition::{Attr, Condition, Op, Value};
use gatehouse_core::model::{Group, GroupQuery, Page, PermissionSet, PrincipalType, RequestKind, RequestStatus, User, UserQuery};

use super::session::{Admin, Posted};
use super::{PAGE_SIZE, Pairs, all_pages};
use crate::AppState;
use crate::portal::web::*;

/// The guide: the console assigns to at most 10 AWS accounts at a time.
const MAX_ACCOUNTS: usize = 10;
const HERE: &str = "/console/accounts/assign";

/// `USER:<id>` or `GROUP:<id>`, as the form's check boxes carry them.
fn parse_principal(value: &str) -> Option<(PrincipalType, &str)> {
    let (kind, id) = value.split_once(':')?;
    Some((PrincipalType::parse(kind)?, id))
}

fn check_accounts(accounts: &[String]) -> Result<(), String> {
    match accounts.len() {
        0 => Err("Select at least one AWS account, then choose Assign users.".into()),
        n if n > MAX_ACCOUNTS => {
            Err(format!("You selected {n} AWS accounts: select at most {MAX_ACCOUNTS} at a time, and repeat for the others."))
        }
        _ => Ok(()),
    }
}

#[derive(Template)]
#[template(path = "console/assign.html")]
struct AssignPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    /// "principals" or "permission-sets".
    step: &'a str,
    accounts: Vec<String>,
    query: String,
    users: Result<Vec<User>, String>,
    groups: Result<Vec<Group>, String>,
    principals: Vec<String>,
    sets: Result<Vec<PermissionSet>, String>,
}

impl AssignPage<'_> {
    fn chosen(&self, value: &str) -> bool {
        self.principals.iter().any(|p| p == value)
    }
}

struct Choices {
    query: String,
    users: Result<Vec<User>, String>,
    groups: Result<Vec<Group>, String>,
}

/// The users and groups whose names contain the search text.
async fn choices(state: &AppState, admin: &Admin, text: &str) -> Choices {
    let svc = &state.services;
    let page = || Page { after: None, limit: PAGE_SIZE };
    let users_query = UserQuery { condition: (!text.is_empty()).then(|| super::users::search(text)), ..Default::default() };
    let users = svc.list_users(&admin.ctx, users_query, page()).await.map(|p| p.items).map_err(|e| e.to_string());
    let contains = Condition::Compare { attr: Attr::DisplayName, op: Op::Co, value: Value::Str(text.to_string()) };
    let groups_query = GroupQuery { condition: (!text.is_empty()).then_some(contains), ..Default::default() };
    let groups = svc.list_groups(&admin.ctx, groups_query, page()).await.map(|p| p.items).map_err(|e| e.to_string());
    Choices { query: text.to_string(), users, groups }
}

#[allow(clippy::too_many_arguments)]
fn render(
    headers: &HeaderMap,
    admin: &Admin,
    step: &str,
    accounts: Vec<String>,
    choices: Choices,
    principals: Vec<String>,
    sets: Result<Vec<PermissionSet>, String>,
    error: Option<String>,
) -> Response {
    let (csrf, set) = csrf_token(headers);
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let Choices { query, users, groups } = choices;
    let html = AssignPage { error, notice: None, csrf: &csrf, admin, step, accounts, query, users, groups, principals, sets }.render();
    page(status, html, set.into_iter().collect())
}

/// Select users or groups (the accounts and the search text come in the query).
pub async fn start(State(state): State<AppState>, admin: Admin, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let q = Pairs::parse(query.unwrap_or_default().as_bytes());
    let accounts = q.all("account");
    if let Err(e) = check_accounts(&accounts) {
        return super::message(StatusCode::BAD_REQUEST, "Choose AWS accounts", &e);
    }
    let choices = choices(&state, &admin, q.one("q").trim()).await;
    render(&headers, &admin, "principals", accounts, choices, vec![], Ok(vec![]), None)
}

/// `step` = permission-sets (after choosing users and groups) or finish.
pub async fn step(State(state): State<AppState>, Posted { admin, form, headers }: Posted) -> Response {
    let svc = &state.services;
    let accounts = form.all("account");
    if let Err(e) = check_accounts(&accounts) {
        return super::message(StatusCode::BAD_REQUEST, "Choose AWS accounts", &e);
    }
    let principals = form.all("principal");
    if principals.is_empty() || principals.iter().any(|p| parse_principal(p).is_none()) {
        let choices = choices(&state, &admin, "").await;
        let error = Some("Select at least one user or group.".to_string());
        return render(&headers, &admin, "principals", accounts, choices, principals, Ok(vec![]), error);
    }
    let ctx = &admin.ctx;
    let sets = all_pages(|p| async move { svc.list_permission_sets(ctx, &p).await }).await.map(|mut s| {
        s.sort_by_key(|p| p.name.to_lowercase());
        s
    });
    let no_choices = || Choices { query: String::new(), users: Ok(vec![]), groups: Ok(vec![]) };
    let chosen_sets = form.all("permission_set");
    if form.one("step") != "finish" || chosen_sets.is_empty() {
        let error = (form.one("step") == "finish").then(|| "Select at least one permission set.".to_string());
        return render(&headers, &admin, "permission-sets", accounts, no_choices(), principals, sets.map_err(|e| e.to_string()), error);
    }
    // Finish: one CreateAccountAssignment per account, user or group, and permission set.
    let mut outcomes = Vec::new();
    for account in &accounts {
        for principal in &principals {
            let Some((kind, id)) = parse_principal(principal) else { continue };
            for ps in &chosen_sets {
                let outcome = svc.create_account_assignment(&admin.ctx, account, ps, kind, id).await;
                outcomes.push(outcome.map(|r| r.request_id).map_err(|e| (account.clone(), principal.clone(), ps.clone(), e.to_string())));
            }
        }
    }
    let ids: Vec<String> = outcomes.iter().filter_map(|o| o.as_ref().ok().cloned()).collect();
    let failures: Vec<_> = outcomes.into_iter().filter_map(Result::err).collect();
    progress(&state, &admin, &headers, &ids, failures).await
}

/// One assignment request as the progress page shows it.
pub struct RequestRow {
    pub account_id: String,
    pub principal: String,
    pub permission_set: String,
    pub status: String,
    pub failure: String,
}

#[derive(Template)]
#[template(path = "console/assign_progress.html")]
struct ProgressPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    rows: Vec<RequestRow>,
    /// The page reloads itself while any request is in progress.
    in_progress: bool,
    refresh_link: String,
}

async fn progress(
    state: &AppState,
    admin: &Admin,
    headers: &HeaderMap,
    ids: &[String],
    failures: Vec<(String, String, String, String)>,
) -> Response {
    let svc = &state.services;
    let mut rows = Vec::new();
    let name_of = async |kind: PrincipalType, id: &str| super::principal_name(state, admin, kind, id).await;
    let set_name = async |id: &str| svc.describe_permission_set(&admin.ctx, id).await.map(|p| p.name).unwrap_or_else(|_| id.to_string());
    for id in ids {
        let row = match svc.describe_request(&admin.ctx, RequestKind::Create, id).await {
            Ok(r) => {
                let principal = match &r.principal {
                    Some((kind, pid)) => name_of(*kind, pid).await,
                    None => String::new(),
                };
                RequestRow {
                    account_id: r.account_id.clone().unwrap_or_default(),
                    principal,
                    permission_set: set_name(&r.permission_set_id).await,
                    status: r.status.as_str().to_string(),
                    failure: r.failure_reason.clone().unwrap_or_default(),
                }
            }
            Err(e) => RequestRow {
                account_id: String::new(),
                principal: String::new(),
                permission_set: String::new(),
                status: "UNKNOWN".into(),
                failure: e.to_string(),
            },
        };
        rows.push(row);
    }
    for (account_id, principal, ps, failure) in failures {
        let principal = match parse_principal(&principal) {
            Some((kind, pid)) => name_of(kind, pid).await,
            None => principal,
        };
        let permission_set = set_name(&ps).await;
        rows.push(RequestRow { account_id, principal, permission_set, status: RequestStatus::Failed.as_str().into(), failure });
    }
    let in_progress = rows.iter().any(|r| r.status == RequestStatus::InProgress.as_str());
    let refresh_link = format!("{HERE}/progress?{}", ids.iter().map(|i| format!("id={}", percent_encode(i))).collect::<Vec<_>>().join("&"));
    let (csrf, set) = csrf_token(headers);
    let html = ProgressPage { error: None, notice: None, csrf: &csrf, admin, rows, in_progress, refresh_link }.render();
    page(StatusCode::OK, html, set.into_iter().collect())
}

/// The progress page again (it reloads itself while requests are in progress).
pub async fn show_progress(State(state): State<AppState>, admin: Admin, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let ids = Pairs::parse(query.unwrap_or_default().as_bytes()).all("id");
    progress(&state, &admin, &headers, &ids, vec![]).await
}
