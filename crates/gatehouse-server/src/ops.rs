//! Operations endpoints: /healthz (the process answers), /readyz (the database answers),
//! /metrics (Prometheus), plus request metrics for every route.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde_json::json;
use std::time::Instant;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(index)).route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(metrics_text))
}

/// Install the process-wide Prometheus recorder (once; later calls return a new handle to a
/// recorder that is not global, which is fine for tests running several servers).
pub fn install_metrics_recorder() -> PrometheusHandle {
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("gatehouse_http_request_duration_seconds".into()),
            &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5],
        )
        .unwrap_or_else(|_| PrometheusBuilder::new());
    let recorder = builder.build_recorder();
    let handle = recorder.handle();
    let _ = metrics::set_global_recorder(recorder);
    handle
}

async fn index() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "Gatehouse is running.\n\nOperations: /healthz /readyz /metrics\n")
}

async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.services.store().ping().await {
        Ok(()) => Json(json!({"status": "ready", "database": state.services.store().backend()})).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "unavailable", "error": e.to_string()}))).into_response(),
    }
}

async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    let pool = state.services.store().pool_stats();
    metrics::gauge!("gatehouse_db_pool_connections").set(pool.size as f64);
    metrics::gauge!("gatehouse_db_pool_idle_connections").set(pool.idle as f64);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render())
}

/// Count requests and time them by matched route (not raw path, to keep label sets small).
pub async fn track_requests(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().to_string();
    let start = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let labels = [("route", route), ("method", method), ("status", status)];
    metrics::counter!("gatehouse_http_requests_total", &labels).increment(1);
    metrics::histogram!("gatehouse_http_request_duration_seconds", &labels[..2]).record(start.elapsed().as_secs_f64());
    response
}
