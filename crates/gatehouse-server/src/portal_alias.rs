//! Requests to the customized portal address (`<alias>.<portal_domain>`) are sent on to the same
//! path at the public URL, where the portal, its cookies and WebAuthn live (core's portal_url.rs).

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

pub async fn redirect_customized_host(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    if let Some(base) = state.services.redirect_for_host(host).await {
        let path = request.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
        // The bare address means the portal.
        let path = if path == "/" { "/start" } else { path };
        if let Ok(to) = HeaderValue::from_str(&format!("{base}{path}")) {
            return (StatusCode::FOUND, [(header::LOCATION, to)]).into_response();
        }
    }
    next.run(request).await
}
