//! The portal's pages: each handler calls one service step and renders the result or the step's
//! error in the page.

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use gatehouse_core::Ctx;
use gatehouse_core::model::Stage;
use gatehouse_core::services::{KeyAttachment, MfaChallenge, SessionInfo, SignInError, Step, TotpEnrollment};
use serde::Deserialize;
use std::net::SocketAddr;

use super::web::*;
use crate::AppState;

#[derive(Template)]
#[template(path = "portal/signin.html")]
struct SignInPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    next: &'a str,
    username: &'a str,
}

#[derive(Template)]
#[template(path = "portal/change_password.html")]
struct ChangePasswordPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    next: &'a str,
}

#[derive(Template)]
#[template(path = "portal/mfa.html")]
struct MfaPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    next: &'a str,
    challenge: MfaChallenge,
}

#[derive(Template)]
#[template(path = "portal/register_totp.html")]
struct RegisterTotpPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    next: &'a str,
    forced: bool,
    action: &'a str,
    secret: &'a str,
    qr_data_uri: String,
    /// Other device types a forced registration may use: (type, label).
    choices: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "portal/home.html")]
struct HomePage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    user_name: &'a str,
    apps: Vec<Tile>,
    accounts: Vec<super::aws::AccountTile>,
    query: &'a str,
}

/// An application on the portal home.
struct Tile {
    id: String,
    name: String,
    description: String,
}

#[derive(Deserialize)]
pub struct HomeQuery {
    #[serde(default)]
    q: String,
}

struct DeviceRow {
    id: String,
    name: String,
    kind: &'static str,
    created: String,
}

#[derive(Template)]
#[template(path = "portal/devices.html")]
struct DevicesPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    user_name: &'a str,
    devices: Vec<DeviceRow>,
    can_manage: bool,
    apps_allowed: bool,
    keys_allowed: bool,
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

#[derive(Deserialize, Default)]
pub struct EnrollQuery {
    #[serde(default)]
    next: String,
    /// "totp", "security_key" or "built_in"; empty: the first the settings allow.
    #[serde(default, rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    code: String,
    /// A security key's answer (JSON from webauthn.js) instead of a code.
    #[serde(default)]
    credential: String,
    #[serde(default)]
    trusted: Option<String>,
    #[serde(default)]
    device_name: String,
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    device_name: String,
}

pub(super) const FORM_EXPIRED: &str = "Your form expired. Try again.";

pub(super) fn cookies(extra: Option<HeaderValue>) -> Vec<HeaderValue> {
    extra.into_iter().collect()
}

pub(crate) fn svg_data_uri(svg: &str) -> String {
    use base64::Engine;
    format!("data:image/svg+xml;base64,{}", base64::engine::general_purpose::STANDARD.encode(svg))
}

pub(super) fn signin_page(
    headers: &HeaderMap,
    status: StatusCode,
    next: &str,
    username: &str,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let (csrf, set) = csrf_token(headers);
    let html = SignInPage { error, notice, csrf: &csrf, next: &safe_next(next), username }.render();
    page(status, html, cookies(set))
}

/// The page of the step a session is at.
fn step_path(stage: Stage, next: &str) -> String {
    let q = format!("?next={}", urlencode(next));
    match stage {
        Stage::PasswordChange => format!("/start/signin/password{q}"),
        Stage::Mfa => format!("/start/signin/mfa{q}"),
        Stage::MfaEnroll => format!("/start/signin/register{q}"),
        Stage::SignedIn => safe_next(next),
    }
}

/// A path as a query value; its slashes stay readable.
fn urlencode(s: &str) -> String {
    percent_encode(s).replace("%2F", "/")
}

/// After a step: the new session cookie (and the trusted-device cookie), then the next page.
pub(super) fn after_step(state: &AppState, step: Step, next: &str) -> Response {
    let secure = state.public_url.starts_with("https://");
    let session_age = (step.session.expires_at - step.session.created_at).num_seconds();
    let mut set = vec![set_cookie(SESSION_COOKIE, &step.token, Some(session_age), secure)];
    if let Some(device) = &step.trusted_device_token {
        let days = state.services.config().signin.trusted_device_days;
        set.push(set_cookie(DEVICE_COOKIE, device, Some(days * 86_400), secure));
    }
    see_other(&step_path(step.stage, next), set)
}

/// The signed-in session of this request, if any.
pub(crate) async fn signed_in(state: &AppState, headers: &HeaderMap) -> Option<(String, SessionInfo)> {
    let token = cookie(headers, SESSION_COOKIE)?;
    let info = state.services.portal_session(&token).await.ok().flatten()?;
    Some((token, info))
}

pub(crate) fn user_ctx(state: &AppState, info: &SessionInfo, headers: &HeaderMap, peer: SocketAddr) -> Option<Ctx> {
    let account = state.services.instance().ok()?.management_account_id.clone();
    let c = client(headers, peer);
    Some(Ctx::new(info.principal(&account), c.source_ip, c.user_agent))
}

pub(crate) fn to_signin(next: &str) -> Response {
    see_other(&format!("/start/signin?next={}", urlencode(next)), vec![])
}

/// The applications assigned to the user, filtered by the search box (it works without
/// JavaScript; portal.js filters as you type).
pub async fn home(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<HomeQuery>,
) -> Response {
    let Some((_, info)) = signed_in(&state, &headers).await else { return to_signin("/start/") };
    let (csrf, set) = csrf_token(&headers);
    let query = q.q.trim();
    let needle = query.to_lowercase();
    let ctx = user_ctx(&state, &info, &headers, peer);
    let (apps, accounts, error) = match &ctx {
        Some(ctx) => {
            let apps = state.services.my_applications(ctx, &info).await;
            let accounts = super::aws::my_accounts(&state, ctx, &info.user).await;
            match (apps, accounts) {
                (Ok(apps), Ok(accounts)) => (apps, accounts, None),
                (apps, accounts) => {
                    for e in [apps.err(), accounts.err()].into_iter().flatten() {
                        tracing::error!(error = %e, "listing a user's applications and accounts failed");
                    }
                    (Vec::new(), Vec::new(), Some("Your applications and accounts could not be listed. Try again later.".to_string()))
                }
            }
        }
        None => (Vec::new(), Vec::new(), None),
    };
    let apps = apps
        .into_iter()
        .filter(|a| needle.is_empty() || a.name.to_lowercase().contains(&needle))
        .map(|a| Tile { id: a.application_id, name: a.name, description: a.description.unwrap_or_default() })
        .collect();
    let accounts =
        accounts.into_iter().filter(|a| needle.is_empty() || a.name.to_lowercase().contains(&needle) || a.id.contains(&needle)).collect();
    let html = HomePage { error, notice: None, csrf: &csrf, user_name: &info.user.profile.user_name, apps, accounts, query }.render();
    page(StatusCode::OK, html, cookies(set))
}

pub async fn signin_form(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<NextQuery>) -> Response {
    if signed_in(&state, &headers).await.is_some() {
        return see_other(&safe_next(&q.next), vec![]);
    }
    if let Some(to_idp) = super::external::redirect_to_idp(&state, &q.next).await {
        return to_idp;
    }
    signin_page(&headers, StatusCode::OK, &q.next, "", None, None)
}

pub async fn signin(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Response {
    if !check_csrf(&headers, &f.csrf) {
        return signin_page(&headers, StatusCode::FORBIDDEN, &f.next, &f.username, Some(FORM_EXPIRED.into()), None);
    }
    let next = safe_next(&f.next);
    match state.services.sign_in(&client(&headers, peer), &f.username, &f.password, &next).await {
        Ok(step) => after_step(&state, step, &next),
        Err(e) => {
            let status = match e {
                SignInError::Locked => StatusCode::TOO_MANY_REQUESTS,
                SignInError::Failed(_) => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::UNAUTHORIZED,
            };
            signin_page(&headers, status, &next, &f.username, Some(e.to_string()), None)
        }
    }
}

/// The session token of a sign-in in progress at `stage`, or the sign-in page.
pub(super) async fn step_token(state: &AppState, headers: &HeaderMap, stage: Stage, next: &str) -> Result<String, Response> {
    let token = cookie(headers, SESSION_COOKIE);
    let at = match &token {
        Some(t) => state.services.step_of(t).await.ok().flatten(),
        None => None,
    };
    match (token, at) {
        (Some(t), Some(s)) if s.stage == stage => Ok(t),
        (_, Some(s)) if s.stage == Stage::SignedIn => Err(see_other(&safe_next(next), vec![])),
        _ => Err(signin_page(headers, StatusCode::UNAUTHORIZED, next, "", Some(SignInError::Restart.to_string()), None)),
    }
}

/// Errors that end the sign-in go back to its first page.
pub(super) fn ends_sign_in(e: &SignInError) -> bool {
    matches!(e, SignInError::Restart | SignInError::Locked | SignInError::NoDeviceBlocked)
}

/// Errors that end the sign-in go back to its first page; others show on the step's page.
fn step_error(headers: &HeaderMap, e: SignInError, next: &str, retry: impl FnOnce(String) -> Response) -> Response {
    if ends_sign_in(&e) {
        signin_page(headers, StatusCode::UNAUTHORIZED, next, "", Some(e.to_string()), None)
    } else {
        retry(e.to_string())
    }
}

fn password_page(headers: &HeaderMap, status: StatusCode, next: &str, error: Option<String>) -> Response {
    let (csrf, set) = csrf_token(headers);
    page(status, ChangePasswordPage { error, notice: None, csrf: &csrf, next }.render(), cookies(set))
}

/// The MFA challenge of a sign-in, with an error or not: a new security key challenge each time.
async fn mfa_page(state: &AppState, headers: &HeaderMap, token: &str, status: StatusCode, next: &str, error: Option<String>) -> Response {
    match state.services.mfa_challenge(token).await {
        Ok(challenge) => {
            let (csrf, set) = csrf_token(headers);
            page(status, MfaPage { error, notice: None, csrf: &csrf, next, challenge }.render(), cookies(set))
        }
        Err(e) => signin_page(headers, StatusCode::UNAUTHORIZED, next, "", Some(e.to_string()), None),
    }
}

pub async fn password_form(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<NextQuery>) -> Response {
    let next = safe_next(&q.next);
    match step_token(&state, &headers, Stage::PasswordChange, &next).await {
        Ok(_) => password_page(&headers, StatusCode::OK, &next, None),
        Err(r) => r,
    }
}

pub async fn password(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<PasswordForm>,
) -> Response {
    let next = safe_next(&f.next);
    let token = match step_token(&state, &headers, Stage::PasswordChange, &next).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let retry = |error: String| password_page(&headers, StatusCode::BAD_REQUEST, &next, Some(error));
    if !check_csrf(&headers, &f.csrf) {
        return retry(FORM_EXPIRED.into());
    }
    if f.new_password != f.confirm_password {
        return retry("The passwords do not match.".into());
    }
    match state.services.change_password_at_sign_in(&client(&headers, peer), &token, &f.new_password, &next).await {
        Ok(step) => after_step(&state, step, &next),
        Err(e) => step_error(&headers, e, &next, retry),
    }
}

pub async fn mfa_form(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<NextQuery>) -> Response {
    let next = safe_next(&q.next);
    match step_token(&state, &headers, Stage::Mfa, &next).await {
        Ok(token) => mfa_page(&state, &headers, &token, StatusCode::OK, &next, None).await,
        Err(r) => r,
    }
}

pub async fn mfa(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<CodeForm>,
) -> Response {
    let next = safe_next(&f.next);
    let token = match step_token(&state, &headers, Stage::Mfa, &next).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    if !check_csrf(&headers, &f.csrf) {
        return mfa_page(&state, &headers, &token, StatusCode::FORBIDDEN, &next, Some(FORM_EXPIRED.into())).await;
    }
    let (c, trusted) = (client(&headers, peer), f.trusted.is_some());
    let answered = if f.credential.is_empty() {
        state.services.verify_totp_at_sign_in(&c, &token, &f.code, trusted, &next).await
    } else {
        state.services.verify_key_at_sign_in(&c, &token, &f.credential, trusted, &next).await
    };
    match answered {
        Ok(step) => after_step(&state, step, &next),
        Err(e) if ends_sign_in(&e) => signin_page(&headers, StatusCode::UNAUTHORIZED, &next, "", Some(e.to_string()), None),
        Err(e) => mfa_page(&state, &headers, &token, StatusCode::UNAUTHORIZED, &next, Some(e.to_string())).await,
    }
}

fn register_page(
    headers: &HeaderMap,
    status: StatusCode,
    e: &TotpEnrollment,
    forced: bool,
    choices: Vec<(&'static str, &'static str)>,
    next: &str,
    error: Option<String>,
) -> Response {
    let (csrf, set) = csrf_token(headers);
    let action = if forced { "/start/signin/register" } else { "/start/mfa-devices/totp/confirm" };
    let html = RegisterTotpPage {
        error,
        notice: None,
        csrf: &csrf,
        next,
        forced,
        action,
        secret: &e.secret,
        qr_data_uri: svg_data_uri(&e.qr_svg),
        choices,
    }
    .render();
    page(status, html, cookies(set))
}

/// The device types a forced registration may use, as the MFA settings allow: (type, label).
pub(super) async fn enroll_choices(state: &AppState) -> Vec<(&'static str, &'static str)> {
    let settings = state.services.mfa_settings().await.unwrap_or_default();
    let mut choices = Vec::new();
    if settings.authenticator_apps {
        choices.push(("totp", "Authenticator app"));
    }
    if settings.security_keys {
        for k in [KeyAttachment::SecurityKey, KeyAttachment::BuiltIn] {
            choices.push((k.as_str(), k.label()));
        }
    }
    choices
}

/// Forced registration at sign-in: the chosen device type's page (an authenticator app unless
/// the settings allow only keys).
pub async fn enroll_form(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<EnrollQuery>,
) -> Response {
    let next = safe_next(&q.next);
    let token = match step_token(&state, &headers, Stage::MfaEnroll, &next).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let choices = enroll_choices(&state).await;
    let kind = choices.iter().map(|c| c.0).find(|c| *c == q.kind).or(choices.first().map(|c| c.0)).unwrap_or("totp");
    let others = choices.iter().copied().filter(|c| c.0 != kind).collect();
    if let Some(attachment) = KeyAttachment::parse(kind) {
        return super::security_keys::enroll_page(&state, &headers, &client(&headers, peer), &token, attachment, others, &next, None).await;
    }
    match state.services.start_enrollment_at_sign_in(&token).await {
        Ok(e) => register_page(&headers, StatusCode::OK, &e, true, others, &next, None),
        Err(e) => step_error(&headers, e, &next, |m| signin_page(&headers, StatusCode::FORBIDDEN, &next, "", Some(m), None)),
    }
}

pub async fn enroll(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<CodeForm>,
) -> Response {
    let next = safe_next(&f.next);
    let token = match step_token(&state, &headers, Stage::MfaEnroll, &next).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let choices = enroll_choices(&state).await.into_iter().filter(|c| c.0 != "totp").collect();
    let retry = |error: String| async {
        match state.services.pending_registration(&token).await {
            Ok(Some(e)) => register_page(&headers, StatusCode::BAD_REQUEST, &e, true, choices, &next, Some(error)),
            _ => signin_page(&headers, StatusCode::UNAUTHORIZED, &next, "", Some(SignInError::Restart.to_string()), None),
        }
    };
    if !check_csrf(&headers, &f.csrf) {
        return retry(FORM_EXPIRED.into()).await;
    }
    match state.services.complete_enrollment_at_sign_in(&client(&headers, peer), &token, &f.code, &f.device_name, &next).await {
        Ok(step) => after_step(&state, step, &next),
        Err(e @ (SignInError::Restart | SignInError::Locked | SignInError::NoDeviceBlocked)) => {
            signin_page(&headers, StatusCode::UNAUTHORIZED, &next, "", Some(e.to_string()), None)
        }
        Err(e) => retry(e.to_string()).await,
    }
}

pub async fn signout(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    if !check_csrf(&headers, &f.csrf) {
        return see_other("/start/", vec![]);
    }
    if let Some((token, info)) = signed_in(&state, &headers).await
        && let Some(ctx) = user_ctx(&state, &info, &headers, peer)
        && let Err(e) = state.services.sign_out(&ctx, &token).await
    {
        tracing::error!(error = %e, "sign-out failed");
    }
    let mut r = signin_page(&headers, StatusCode::OK, "/start/", "", None, Some("You are signed out.".into()));
    r.headers_mut().append(axum::http::header::SET_COOKIE, clear_cookie(SESSION_COOKIE));
    r
}

/// End every session of the user (another computer, a lost phone), this one included.
pub async fn signout_everywhere(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    let Some((_, info)) = signed_in(&state, &headers).await else { return to_signin("/start/") };
    if !check_csrf(&headers, &f.csrf) {
        return see_other("/start/", vec![]);
    }
    let Some(ctx) = user_ctx(&state, &info, &headers, peer) else { return to_signin("/start/") };
    let notice = match state.services.revoke_user_sessions(&ctx, &info.user.user_id).await {
        Ok(n) => format!("You are signed out everywhere ({n} session{}).", if n == 1 { "" } else { "s" }),
        Err(e) => {
            tracing::error!(error = %e, "signing out everywhere failed");
            return see_other("/start/", vec![]);
        }
    };
    let mut r = signin_page(&headers, StatusCode::OK, "/start/", "", None, Some(notice));
    r.headers_mut().append(axum::http::header::SET_COOKIE, clear_cookie(SESSION_COOKIE));
    r
}

/// The MFA devices page, where registrations outside sign-in return.
pub(super) const DEVICES: &str = "/start/mfa-devices";

pub(super) async fn devices_page(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    info: &SessionInfo,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let Some(ctx) = user_ctx(state, info, headers, peer) else { return to_signin("/start/mfa-devices") };
    let devices = state.services.list_mfa_devices(&ctx, &info.user.user_id).await.unwrap_or_default();
    let settings = state.services.mfa_settings().await.unwrap_or_default();
    let rows = devices
        .into_iter()
        .map(|d| DeviceRow { id: d.device_id, name: d.name, kind: d.kind.label(), created: d.created_at.format("%Y-%m-%d").to_string() })
        .collect();
    let (csrf, set) = csrf_token(headers);
    let html = DevicesPage {
        error,
        notice,
        csrf: &csrf,
        user_name: &info.user.profile.user_name,
        devices: rows,
        can_manage: settings.users_manage_devices,
        apps_allowed: settings.authenticator_apps,
        keys_allowed: settings.security_keys,
    }
    .render();
    page(status, html, cookies(set))
}

/// A signed-in user changing their own MFA devices: their session token, session and principal.
pub(super) struct Owner {
    pub token: String,
    pub info: SessionInfo,
    pub ctx: Ctx,
}

/// The signed-in user of a devices form whose CSRF token is right; else the page to show instead.
pub(super) async fn device_owner(state: &AppState, headers: &HeaderMap, peer: SocketAddr, csrf: &str) -> Result<Owner, Response> {
    let Some((token, info)) = signed_in(state, headers).await else { return Err(to_signin(DEVICES)) };
    if !check_csrf(headers, csrf) {
        return Err(devices_page(state, headers, peer, &info, StatusCode::FORBIDDEN, Some(FORM_EXPIRED.into()), None).await);
    }
    let Some(ctx) = user_ctx(state, &info, headers, peer) else { return Err(to_signin(DEVICES)) };
    Ok(Owner { token, info, ctx })
}

/// The devices page after a change: its notice, or its error.
pub(super) async fn devices_after(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    o: &Owner,
    result: Result<String, String>,
) -> Response {
    match result {
        Ok(notice) => devices_page(state, headers, peer, &o.info, StatusCode::OK, None, Some(notice)).await,
        Err(error) => devices_page(state, headers, peer, &o.info, StatusCode::BAD_REQUEST, Some(error), None).await,
    }
}

pub async fn devices(State(state): State<AppState>, ConnectInfo(peer): ConnectInfo<SocketAddr>, headers: HeaderMap) -> Response {
    let Some((_, info)) = signed_in(&state, &headers).await else { return to_signin(DEVICES) };
    devices_page(&state, &headers, peer, &info, StatusCode::OK, None, None).await
}

pub async fn add_totp(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    let o = match device_owner(&state, &headers, peer, &f.csrf).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    match state.services.start_device_registration(&o.ctx, &o.token).await {
        Ok(e) => register_page(&headers, StatusCode::OK, &e, false, Vec::new(), DEVICES, None),
        Err(e) => devices_after(&state, &headers, peer, &o, Err(e.to_string())).await,
    }
}

pub async fn confirm_totp(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<CodeForm>,
) -> Response {
    let o = match device_owner(&state, &headers, peer, &f.csrf).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    match state.services.complete_device_registration(&o.ctx, &o.token, &f.code, &f.device_name).await {
        Ok(d) => devices_after(&state, &headers, peer, &o, Ok(format!("Registered {}.", d.name))).await,
        // A wrong code: the same secret again, to try the next code.
        Err(error) => match state.services.pending_registration(&o.token).await {
            Ok(Some(e)) => register_page(&headers, StatusCode::BAD_REQUEST, &e, false, Vec::new(), DEVICES, Some(error.to_string())),
            _ => devices_after(&state, &headers, peer, &o, Err(error.to_string())).await,
        },
    }
}

pub async fn rename_device(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let o = match device_owner(&state, &headers, peer, &f.csrf).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let result = state.services.rename_mfa_device(&o.ctx, &o.info.user.user_id, &id, &f.device_name).await;
    devices_after(&state, &headers, peer, &o, result.map(|d| format!("Renamed to {}.", d.name)).map_err(|e| e.to_string())).await
}

pub async fn delete_device(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let o = match device_owner(&state, &headers, peer, &f.csrf).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let result = state.services.delete_mfa_device(&o.ctx, &o.info.user.user_id, &id).await;
    devices_after(&state, &headers, peer, &o, result.map(|()| "The device was deleted.".to_string()).map_err(|e| e.to_string())).await
}
