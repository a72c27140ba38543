//! Sign-in through the external identity provider: the portal's sign-in sends the browser to the
//! IdP, which posts its Response to the ACS here; and the service-provider metadata the IdP's
//! administrator downloads.

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_core::services::SignInError;
use serde::Deserialize;
use std::net::SocketAddr;

use super::pages::after_step;
use super::web::*;
use crate::AppState;

#[derive(Template)]
#[template(path = "portal/external_error.html")]
struct RefusedPage {
    error: Option<String>,
    notice: Option<String>,
}

fn refused(status: StatusCode, message: String) -> Response {
    page(status, RefusedPage { error: Some(message), notice: None }.render(), vec![])
}

/// Gatehouse's SP metadata (entity ID and ACS URL) for the IdP's administrator.
pub async fn metadata(State(state): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "application/samlmetadata+xml")], state.services.sp_configuration().metadata_xml).into_response()
}

/// The portal's sign-in when the identity source is an external IdP: off to the IdP; None when
/// users sign in with Gatehouse passwords.
pub async fn redirect_to_idp(state: &AppState, next: &str) -> Option<Response> {
    match state.services.external_idp().await {
        Ok(Some(_)) => Some(match state.services.start_external_sign_in(&safe_next(next)).await {
            Ok(url) => see_other(&url, vec![]),
            Err(e) => {
                tracing::error!(error = %e, "could not start a sign-in at the external identity provider");
                refused(StatusCode::INTERNAL_SERVER_ERROR, "Sign-in at your identity provider could not start. Try again later.".into())
            }
        }),
        Ok(None) => None,
        Err(e) => {
            tracing::error!(error = %e, "could not read the identity source");
            Some(refused(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side. Try again later.".into()))
        }
    }
}

#[derive(Deserialize)]
pub struct AcsForm {
    #[serde(rename = "SAMLResponse", default)]
    saml_response: String,
    #[serde(rename = "RelayState", default)]
    relay_state: String,
}

/// The assertion consumer service. No CSRF token: the IdP's page posts here; the Response's
/// signature, InResponseTo and one-time use stand in for it.
pub async fn acs(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<AcsForm>,
) -> Response {
    let next = safe_next(&f.relay_state);
    match state.services.complete_external_sign_in(&client(&headers, peer), &f.saml_response, &next).await {
        Ok(step) => after_step(&state, step, &next),
        Err(e @ SignInError::ExternalRefused(_)) => refused(StatusCode::FORBIDDEN, e.to_string()),
        Err(SignInError::Failed(e)) => {
            tracing::error!(error = %e, "external sign-in failed");
            refused(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side. Try again later.".into())
        }
        Err(e) => refused(StatusCode::FORBIDDEN, e.to_string()),
    }
}
