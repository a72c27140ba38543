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

/// HTTPS: the certificate and key files.
pub use axum_server::tls_rustls::RustlsConfig;

/// TLS with AWS-LC, as the rest of Gatehouse uses it (several crypto providers are linked in, so
/// rustls needs to be told). Call before loading a certificate; later calls change nothing.
pub fn install_tls_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Serve HTTPS until `shutdown` resolves, then let in-flight requests finish for up to `grace`.
/// Browsers are told to use HTTPS only from now on (HSTS).
pub async fn serve_tls(
    listener: std::net::TcpListener,
    tls: RustlsConfig,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    grace: std::time::Duration,
) -> std::io::Result<()> {
    let app = router(state).layer(axum::middleware::from_fn(hsts)).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let handle = axum_server::Handle::new();
    let stopping = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopping.graceful_shutdown(Some(grace));
    });
    axum_server::from_tcp_rustls(listener, tls)?.handle(handle).serve(app).await
}

/// A year of HTTPS only, for this host and its subdomains (the customized portal address).
async fn hsts(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(axum::http::header::STRICT_TRANSPORT_SECURITY, axum::http::HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    response
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
