//! What every portal page shares: cookies, CSRF, the browser's address and agent, safe redirects
//! and security headers.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use gatehouse_core::crypto::constant_time_eq;
use gatehouse_core::services::Client;
use std::net::SocketAddr;

pub const SESSION_COOKIE: &str = "gh_session";
pub const DEVICE_COOKIE: &str = "gh_device";
pub const CSRF_COOKIE: &str = "gh_csrf";

/// Scripts and styles from this origin only, no inline code, no framing, forms post here only.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    // A page that posts to an application sets its own policy (its form-action names the ACS).
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub async fn stylesheet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("../../static/portal.css"))
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// A cookie for this site only: HttpOnly, SameSite=Lax (sign-in links from other sites still
/// arrive signed in), Secure when served over https. `max_age` None: until the browser closes.
pub fn set_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("gh_invalid=; Max-Age=0"))
}

pub fn clear_cookie(name: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"))
        .unwrap_or_else(|_| HeaderValue::from_static("gh_invalid=; Max-Age=0"))
}

/// The browser as the services see it.
pub fn client(headers: &HeaderMap, peer: SocketAddr) -> Client {
    Client {
        source_ip: peer.ip().to_string(),
        user_agent: headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default().chars().take(512).collect(),
        device_token: cookie(headers, DEVICE_COOKIE),
    }
}

/// The CSRF token of this browser: the cookie's value, or a new one (set with the page).
pub fn csrf_token(headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    match cookie(headers, CSRF_COOKIE) {
        Some(t) => (t, None),
        None => {
            let t = gatehouse_core::services::signin::new_csrf_token();
            let c = set_cookie(CSRF_COOKIE, &t, None, false);
            (t, Some(c))
        }
    }
}

/// A form post is ours: the token matches the browser's cookie (double submit), and the request
/// says it comes from this origin when it says anything.
pub fn check_csrf(headers: &HeaderMap, submitted: &str) -> bool {
    let Some(cookie) = cookie(headers, CSRF_COOKIE) else { return false };
    if let (Some(origin), Some(host)) = (headers.get(header::ORIGIN), headers.get(header::HOST)) {
        let origin = origin.to_str().unwrap_or_default();
        let host = host.to_str().unwrap_or_default();
        if origin != "null" && origin.split("://").nth(1) != Some(host) {
            return false;
        }
    }
    !submitted.is_empty() && constant_time_eq(cookie.as_bytes(), submitted.as_bytes())
}

/// Where to go after signing in: a path on this site only (never another origin).
pub fn safe_next(next: &str) -> String {
    let ok = next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") && !next.contains(['\r', '\n']);
    if ok { next.to_string() } else { "/start/".to_string() }
}

/// A query value percent-encoded: everything but RFC 3986's unreserved characters.
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// A 303 to `to`, with cookies.
pub fn see_other(to: &str, cookies: Vec<HeaderValue>) -> Response {
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response();
    for c in cookies {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

/// A rendered page with its status and cookies.
pub fn page(status: StatusCode, html: Result<String, askama::Error>, cookies: Vec<HeaderValue>) -> Response {
    let mut r = match html {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a portal page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, Html("<h1>Something went wrong</h1>".to_string())).into_response()
        }
    };
    for c in cookies {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}
