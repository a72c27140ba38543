//! The user portal under `/start`: sign-in (password, forced change, MFA or its registration),
//! the home page, MFA devices and sign-out. Server-rendered pages that work without JavaScript,
//! except security keys (WebAuthn is a browser API); every form carries a CSRF token, and every
//! answer a strict Content-Security-Policy.

mod apps;
mod authorize;
mod aws;
mod device;
mod external;
mod links;
pub(crate) mod pages;
mod security_keys;
pub(crate) mod web;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub(crate) use pages::{signed_in, to_signin, user_ctx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/start", get(pages::home))
        .route("/start/", get(pages::home))
        .route("/start/signin", get(pages::signin_form).post(pages::signin))
        .route("/start/signin/password", get(pages::password_form).post(pages::password))
        .route("/start/signin/mfa", get(pages::mfa_form).post(pages::mfa))
        .route("/start/signin/register", get(pages::enroll_form).post(pages::enroll))
        .route("/start/signin/register/webauthn", post(security_keys::enroll))
        .route("/start/signout", post(pages::signout))
        .route("/start/signout-everywhere", post(pages::signout_everywhere))
        .route("/start/forgot", get(links::forgot_form).post(links::forgot))
        .route("/start/reset", get(links::reset_form).post(links::reset))
        .route("/start/invitation", get(links::invitation_form).post(links::invitation))
        .route("/start/mfa-devices", get(pages::devices))
        .route("/start/mfa-devices/totp", post(pages::add_totp))
        .route("/start/mfa-devices/totp/confirm", post(pages::confirm_totp))
        .route("/start/mfa-devices/webauthn/start", post(security_keys::start))
        .route("/start/mfa-devices/webauthn", post(security_keys::complete))
        .route("/start/mfa-devices/{id}/rename", post(pages::rename_device))
        .route("/start/mfa-devices/{id}/delete", post(pages::delete_device))
        .route("/start/device", get(device::form).post(device::decide))
        .route("/start/aws/{account}/{role}/console", get(aws::console))
        .route("/start/aws/{account}/{role}/credentials", get(aws::credentials))
        .route("/saml/aws/metadata", get(aws::metadata))
        .route("/start/saml/metadata", get(external::metadata))
        .route("/start/saml/acs", post(external::acs))
        .route("/start/authorize", get(authorize::form).post(authorize::decide))
        .route("/authorize", get(authorize::oidc_authorize))
        .route("/start/applications/{id}", get(apps::tile))
        .route("/saml/{id}/sso", get(apps::sso_redirect).post(apps::sso_post))
        .route("/saml/{id}/continue", get(apps::sso_continue))
        .route("/saml/{id}/metadata", get(apps::metadata))
        .route("/saml/{id}/certificate", get(apps::certificate))
        .route("/static/portal.css", get(web::stylesheet))
        .route("/static/portal.js", get(apps::script))
        .route("/static/webauthn.js", get(security_keys::script))
        .layer(axum::middleware::from_fn(web::security_headers))
}
