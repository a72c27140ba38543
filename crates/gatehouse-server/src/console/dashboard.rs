//! The console's first page: the instance's settings summary (what DescribeInstance shows the
//! role), and the AWS access portal URL to give users.

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::model::Instance;
use std::net::SocketAddr;

use super::session::{Admin, admin};
use crate::AppState;
use crate::portal::web::*;

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct DashboardPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    portal_url: String,
    instance_name: String,
    /// The instance, or why this role may not see it.
    instance: Result<Instance, String>,
}

pub async fn show(State(state): State<AppState>, ConnectInfo(peer): ConnectInfo<SocketAddr>, headers: HeaderMap) -> Response {
    let admin = match admin(&state, &headers, peer, "/console").await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let (csrf, set) = csrf_token(&headers);
    let svc = &state.services;
    let instance = svc.read_instance(&admin.ctx, "DescribeInstance").await.map_err(|e| e.to_string());
    let html = DashboardPage {
        error: None,
        notice: None,
        csrf: &csrf,
        admin: &admin,
        portal_url: format!("{}/start", state.public_url.trim_end_matches('/')),
        instance_name: svc.instance_name(),
        instance,
    }
    .render();
    page(StatusCode::OK, html, set.into_iter().collect())
}
