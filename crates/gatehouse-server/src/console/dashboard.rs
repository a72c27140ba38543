//! The console's first page: the AWS access portal URL, a setup checklist (each step done or
//! not, as the role session can see it), charts of sign-ins, failed sign-ins and provisioning
//! activity over the last two weeks, and the instance's settings summary.

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::model::{DayActivity, IdentitySourceKind, Instance, MfaMode, Page, UserQuery};
use std::net::SocketAddr;

use super::session::Admin;
use crate::AppState;
use crate::portal::web::*;

/// Days the charts cover.
const CHART_DAYS: u32 = 14;

/// One step of the setup checklist.
pub struct Step {
    pub id: &'static str,
    pub title: &'static str,
    pub hint: &'static str,
    pub link: &'static str,
    /// Done or not, or why this role cannot tell.
    pub done: Result<bool, String>,
}

/// One bar of a chart, in the SVG's coordinates.
pub struct Bar {
    pub x: u32,
    pub y: u32,
    pub height: u32,
    pub class: &'static str,
    pub title: String,
}

/// The chart's drawing area (viewBox units).
const CHART_HEIGHT: u32 = 120;
const DAY_WIDTH: u32 = 48;

fn bars(days: &[DayActivity]) -> Vec<Bar> {
    let top = days.iter().flat_map(|d| [d.sign_ins, d.failed_sign_ins, d.provisioning]).max().unwrap_or(0).max(1);
    let mut out = Vec::new();
    for (i, d) in days.iter().enumerate() {
        let series = [
            (d.sign_ins, "sign-ins", "sign-ins"),
            (d.failed_sign_ins, "failed", "failed sign-ins"),
            (d.provisioning, "provisioning", "provisioning changes"),
        ];
        for (j, (n, class, label)) in series.into_iter().enumerate() {
            let height = ((n.max(0) as u64 * u64::from(CHART_HEIGHT)) / top as u64) as u32;
            out.push(Bar {
                x: i as u32 * DAY_WIDTH + 6 + j as u32 * 12,
                y: CHART_HEIGHT - height,
                height,
                class,
                title: format!("{}: {n} {label}", d.day),
            });
        }
    }
    out
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct DashboardPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    portal_url: String,
    /// The customized subdomain, once set; and the domain it lives under, if configured.
    alias: Option<String>,
    portal_domain: Option<String>,
    instance_name: String,
    /// The instance, or why this role may not see it.
    instance: Result<Instance, String>,
    steps: Vec<Step>,
    activity: Result<Vec<DayActivity>, String>,
    bars: Vec<Bar>,
    chart_width: u32,
}

/// The setup checklist, each step read as the role session.
async fn checklist(state: &AppState, admin: &Admin) -> Vec<Step> {
    let svc = &state.services;
    let ctx = &admin.ctx;
    let first = |limit| Page { after: None, limit };
    let text = |e: gatehouse_core::Error| e.to_string();
    let source = svc.identity_source().await.map(|s| s.kind).map_err(text);
    let users = match source {
        Ok(IdentitySourceKind::Directory) => {
            svc.list_users(ctx, UserQuery::default(), first(2)).await.map(|p| p.items.len() > 1).map_err(text)
        }
        Ok(_) => Ok(true),
        Err(e) => Err(e),
    };
    let mfa = svc.describe_mfa_settings(ctx).await.map(|m| m.mode != MfaMode::Never).map_err(text);
    let sets = svc.list_permission_sets(ctx, &first(100)).await.map_err(text);
    let custom_set = sets.as_ref().map(|p| p.items.iter().any(|s| s.name != "AdministratorAccess")).map_err(Clone::clone);
    let management = svc.instance().map(|i| i.management_account_id.clone()).unwrap_or_default();
    let assigned = match &sets {
        Ok(p) => {
            let mut found = Ok(false);
            for s in &p.items {
                match svc.list_accounts_for_provisioned_permission_set(ctx, &s.permission_set_id, None, &first(2)).await {
                    Ok(accounts) if accounts.items.iter().any(|a| *a != management) => {
                        found = Ok(true);
                        break;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        found = Err(e.to_string());
                        break;
                    }
                }
            }
            found
        }
        Err(e) => Err(e.clone()),
    };
    let apps = svc.list_applications(ctx, None, &first(1)).await.map(|p| !p.items.is_empty()).map_err(text);
    let scim = svc.list_scim_tokens(ctx).await.map(|(enabled, _)| enabled).map_err(text);
    vec![
        Step {
            id: "step-users",
            title: "Add users and groups",
            hint: "Create them here, provision them with SCIM, or connect an identity source.",
            link: "/console/users",
            done: users,
        },
        Step {
            id: "step-mfa",
            title: "Require multi-factor authentication",
            hint: "Ask users for an authenticator app or a security key when they sign in.",
            link: "/console/settings",
            done: mfa,
        },
        Step {
            id: "step-permission-set",
            title: "Create a permission set",
            hint: "Define the level of access users get in AWS accounts.",
            link: "/console/permission-sets/new",
            done: custom_set,
        },
        Step {
            id: "step-assign",
            title: "Assign users or groups to AWS accounts",
            hint: "Choose accounts, people and permission sets.",
            link: "/console/accounts",
            done: assigned,
        },
        Step {
            id: "step-applications",
            title: "Set up application access",
            hint: "Let users sign in to cloud applications with SAML.",
            link: "/start/",
            done: apps,
        },
        Step {
            id: "step-provisioning",
            title: "Enable automatic provisioning (optional)",
            hint: "Let your identity provider create users and groups over SCIM.",
            link: "/console/settings",
            done: scim,
        },
    ]
}

pub async fn show(State(state): State<AppState>, admin: Admin, headers: HeaderMap) -> Response {
    render(&state, &admin, &headers, None, None).await
}

async fn render(state: &AppState, admin: &Admin, headers: &HeaderMap, error: Option<String>, notice: Option<String>) -> Response {
    let (csrf, set) = csrf_token(headers);
    let svc = &state.services;
    let instance = svc.read_instance(&admin.ctx, "DescribeInstance").await.map_err(|e| e.to_string());
    let steps = checklist(state, admin).await;
    let activity = svc.activity_by_day(&admin.ctx, CHART_DAYS).await.map_err(|e| e.to_string());
    let bars = activity.as_deref().map(bars).unwrap_or_default();
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let html = DashboardPage {
        error,
        notice,
        csrf: &csrf,
        admin,
        portal_url: svc.portal_url().await,
        alias: svc.portal_alias().await.ok().flatten(),
        portal_domain: svc.portal_domain().map(str::to_string),
        instance_name: svc.instance_name(),
        instance,
        steps,
        activity,
        bars,
        chart_width: CHART_DAYS * DAY_WIDTH,
    }
    .render();
    page(status, html, set.into_iter().collect())
}

#[derive(serde::Deserialize)]
pub struct CustomizeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    alias: String,
}

/// "To customize your URL": Customize → the name → Save; permanent.
pub async fn customize(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CustomizeForm>,
) -> Response {
    let admin = match super::session::form_admin(&state, &headers, peer, &form.csrf, "/console").await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match state.services.customize_portal_url(&admin.ctx, form.alias.trim()).await {
        Ok(url) => render(&state, &admin, &headers, None, Some(format!("The portal URL is now {url}."))).await,
        Err(e) => render(&state, &admin, &headers, Some(e.to_string()), None).await,
    }
}
