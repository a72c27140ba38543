//! Gatehouse's HTTP front doors. Each decodes its protocol, calls one service operation and
//! encodes the result or the protocol's own error shape; no business rule lives here.

mod aws;
mod case;
mod console;
pub mod forwarded;
mod ops;
mod portal;
mod portal_alias;
mod scim;
mod sso_portal;

use axum::Router;
use gatehouse_core::Services;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;

pub use ops::install_metrics_recorder;

#[derive(Clone)]
pub struct AppState {
    pub services: Arc<Services>,
    pub metrics: PrometheusHandle,
    /// The URL users and identity providers reach Gatehouse at (SCIM `meta.location`, SAML).
    pub public_url: String,
    /// Proxies whose `X-Forwarded-For` names the client (forwarded.rs).
    pub trusted_proxies: forwarded::TrustedProxies,
}

/// Every route of the server on one listener.
pub fn router(state: AppState) -> Router {
    ops::routes()
        .route("/", axum::routing::post(aws::handle))
        .merge(scim::routes())
        .merge(portal::routes())
        .merge(console::routes())
        .merge(sso_portal::routes())
        .route_layer(axum::middleware::from_fn(ops::track_requests))
        .layer(axum::middleware::from_fn_with_state(state.clone(), portal_alias::redirect_customized_host))
        .layer(axum::middleware::from_fn_with_state(state.clone(), forwarded::real_client))
        .with_state(state)
}

/// Serve until `shutdown` resolves; in-flight requests finish before this returns.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
