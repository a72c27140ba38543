//! SSO OIDC, as the AWS CLI and SDKs use it to sign a person in: a client registers, starts a
//! device authorization, the person approves it in the portal, and the client's polls of
//! CreateToken turn into an access token (and a refresh token) for the portal API. Errors are
//! OIDC's own (authorization_pending, slow_down, …), not the AWS JSON ones.

use chrono::Duration;
use rand::Rng;
use serde_json::json;

use super::Services;
use super::op::Source;
use super::principal::{Ctx, Principal};
use super::signin::SessionInfo;
use crate::crypto::token_hash;
use crate::error::{Error, Result};
use crate::model::{DeviceAuthorization, DeviceStatus, OidcClient, SsoToken};

/// The scope the AWS CLI asks for; an empty request gets it too.
pub const ACCOUNT_ACCESS_SCOPE: &str = "sso:account:access";
/// Registered clients live 90 days, as Identity Center's do.
const CLIENT_DAYS: i64 = 90;
/// A device authorization waits 10 minutes for its person.
pub const DEVICE_SECONDS: i64 = 600;
/// Clients poll CreateToken at most this often (faster: SlowDownException).
pub const POLL_INTERVAL: i64 = 1;
/// Refresh tokens last 90 days, or until revoked.
const REFRESH_DAYS: i64 = 90;
/// Without the `…/` an AWS SDK shows these letters; no vowels, no look-alikes.
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

/// An OIDC error, named as the sso-oidc model names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OidcError {
    InvalidRequest(String),
    InvalidClient(String),
    InvalidGrant(String),
    InvalidScope(String),
    UnsupportedGrantType(String),
    AuthorizationPending,
    SlowDown,
    AccessDenied(String),
    ExpiredToken(String),
    Internal(String),
}

impl OidcError {
    /// The exception's name and the OAuth `error` code.
    pub fn codes(&self) -> (&'static str, &'static str) {
        match self {
            OidcError::InvalidRequest(_) => ("InvalidRequestException", "invalid_request"),
            OidcError::InvalidClient(_) => ("InvalidClientException", "invalid_client"),
            OidcError::InvalidGrant(_) => ("InvalidGrantException", "invalid_grant"),
            OidcError::InvalidScope(_) => ("InvalidScopeException", "invalid_scope"),
            OidcError::UnsupportedGrantType(_) => ("UnsupportedGrantTypeException", "unsupported_grant_type"),
            OidcError::AuthorizationPending => ("AuthorizationPendingException", "authorization_pending"),
            OidcError::SlowDown => ("SlowDownException", "slow_down"),
            OidcError::AccessDenied(_) => ("AccessDeniedException", "access_denied"),
            OidcError::ExpiredToken(_) => ("ExpiredTokenException", "expired_token"),
            OidcError::Internal(_) => ("InternalServerException", "server_error"),
        }
    }

    pub fn description(&self) -> String {
        match self {
            OidcError::AuthorizationPending => "The person has not approved this device yet".into(),
            OidcError::SlowDown => format!("Poll at most every {POLL_INTERVAL} second(s)"),
            OidcError::InvalidRequest(m)
            | OidcError::InvalidClient(m)
            | OidcError::InvalidGrant(m)
            | OidcError::InvalidScope(m)
            | OidcError::UnsupportedGrantType(m)
            | OidcError::AccessDenied(m)
            | OidcError::ExpiredToken(m) => m.clone(),
            OidcError::Internal(_) => "An internal error occurred".into(),
        }
    }

    /// As the audit record's error.
    fn as_error(&self) -> Error {
        match self {
            OidcError::Internal(m) => Error::internal(m.clone()),
            other => Error::validation(other.codes().0, other.description()),
        }
    }
}

impl From<Error> for OidcError {
    fn from(e: Error) -> Self {
        OidcError::Internal(e.to_string())
    }
}

impl From<crate::error::StoreError> for OidcError {
    fn from(e: crate::error::StoreError) -> Self {
        OidcError::Internal(Error::from(e).to_string())
    }
}

/// A newly registered client: the secret is shown once.
pub struct RegisteredClient {
    pub client: OidcClient,
    pub secret: String,
}

pub struct DeviceStart {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    pub interval: i64,
}

/// CreateToken's members.
#[derive(Debug, Clone, Copy)]
pub struct TokenRequest<'a> {
    pub client_id: &'a str,
    pub client_secret: &'a str,
    pub grant_type: &'a str,
    pub device_code: Option<&'a str>,
    pub refresh_token: Option<&'a str>,
    pub authorization: CodeExchange<'a>,
}

/// What /authorize is asked.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeQuery {
    pub client_id: String,
    pub redirect_uri: String,
    pub response_type: String,
    pub code_challenge: String,
    pub code_challenge_method: String,
    pub state: Option<String>,
    pub scopes: Vec<String>,
}

/// The authorization-code grant's members of CreateToken.
#[derive(Debug, Clone, Copy, Default)]
pub struct CodeExchange<'a> {
    pub code: Option<&'a str>,
    pub redirect_uri: Option<&'a str>,
    pub code_verifier: Option<&'a str>,
}

/// What /authorize was asked, checked.
pub struct AuthorizeRequest {
    pub client_id: String,
    pub client_name: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub code_challenge: String,
    pub scopes: Vec<String>,
}

pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

const SUPPORTED_GRANTS: &[&str] = &["urn:ietf:params:oauth:grant-type:device_code", "refresh_token", "authorization_code"];
/// Authorization codes are exchanged within 5 minutes, once.
const CODE_SECONDS: i64 = 300;

/// `http://127.0.0.1…`, `http://[::1]…` or `http://localhost…` (RFC 8252 §7.3).
fn is_loopback_uri(uri: &str) -> bool {
    ["http://127.0.0.1", "http://[::1]", "http://localhost"]
        .iter()
        .any(|p| uri.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/'])))
}

/// Without the port of a loopback URI: native apps listen on whatever port is free.
fn without_loopback_port(uri: &str) -> String {
    if !is_loopback_uri(uri) {
        return uri.to_string();
    }
    let (scheme_host, rest) = match uri[7..].find(['/', '?']) {
        Some(i) => (&uri[..7 + i], &uri[7 + i..]),
        None => (uri, ""),
    };
    let host = match scheme_host.rfind(':') {
        Some(i) if i > 6 && !scheme_host[i..].contains(']') => &scheme_host[..i],
        _ => scheme_host,
    };
    format!("{host}{rest}")
}

/// The redirect URI is one the client registered (loopback: on any port).
pub fn redirect_allowed(registered: &[String], requested: &str) -> bool {
    let wanted = without_loopback_port(requested);
    registered.iter().any(|r| without_loopback_port(r) == wanted)
}

/// PKCE S256: base64url(SHA-256(verifier)) without padding.
pub fn s256(verifier: &str) -> String {
    use sha2::Digest;
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, sha2::Sha256::digest(verifier.as_bytes()))
}

fn random_secret() -> String {
    crate::ids::new_session_token()
}

fn new_user_code() -> String {
    let mut rng = rand::thread_rng();
    let mut pick = || USER_CODE_ALPHABET[rng.gen_range(0..USER_CODE_ALPHABET.len())] as char;
    let a: String = (0..4).map(|_| pick()).collect();
    let b: String = (0..4).map(|_| pick()).collect();
    format!("{a}-{b}")
}

/// The user code as people type it: any case, with or without the dash or spaces.
pub fn normalize_user_code(text: &str) -> String {
    let letters: String = text.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect();
    if letters.len() == 8 { format!("{}-{}", &letters[..4], &letters[4..]) } else { letters }
}

impl Services {
    /// Run `work` as an audited operation of `sso-oauth` with the OIDC error type.
    async fn oidc_op<T>(
        &self,
        ctx: &Ctx,
        name: &'static str,
        request: serde_json::Value,
        work: impl AsyncFnOnce(&mut super::op::Op<'_>) -> std::result::Result<T, OidcError>,
    ) -> std::result::Result<T, OidcError> {
        let mut op = self.begin(ctx, Source::SsoOauth, name, false, request).await?;
        let result = work(&mut op).await;
        match result {
            Ok(v) => Ok(op.finish(Ok(v)).await?),
            Err(e) => {
                let _ = op.finish::<()>(Err(e.as_error())).await;
                Err(e)
            }
        }
    }

    async fn check_client(
        &self,
        tx: &mut Box<dyn crate::store::Tx>,
        client_id: &str,
        secret: &str,
    ) -> std::result::Result<OidcClient, OidcError> {
        let client = tx.get_oidc_client(client_id).await?.ok_or_else(|| OidcError::InvalidClient(format!("unknown client {client_id}")))?;
        if !crate::crypto::constant_time_eq(client.secret_hash.as_bytes(), token_hash(secret).as_bytes()) {
            return Err(OidcError::InvalidClient("the client secret is wrong".into()));
        }
        if client.expires_at <= self.clock.now() {
            return Err(OidcError::InvalidClient("the client registration has expired: register again".into()));
        }
        Ok(client)
    }

    pub async fn register_client(
        &self,
        ctx: &Ctx,
        name: &str,
        client_type: &str,
        scopes: Vec<String>,
        grant_types: Vec<String>,
        redirect_uris: Vec<String>,
    ) -> std::result::Result<RegisteredClient, OidcError> {
        let request = json!({"clientName": name, "clientType": client_type, "scopes": scopes, "grantTypes": grant_types,
                             "redirectUris": redirect_uris});
        self.oidc_op(ctx, "RegisterClient", request, async |op| {
            if client_type != "public" {
                return Err(OidcError::InvalidRequest(format!("clientType must be public, not {client_type}")));
            }
            if name.trim().is_empty() || name.chars().count() > 256 {
                return Err(OidcError::InvalidRequest("clientName must be 1 to 256 characters".into()));
            }
            if let Some(bad) = scopes.iter().find(|s| !s.starts_with("sso:") && s.as_str() != "openid") {
                return Err(OidcError::InvalidScope(format!("unsupported scope {bad}")));
            }
            if let Some(bad) = grant_types.iter().find(|g| !SUPPORTED_GRANTS.contains(&g.as_str())) {
                return Err(OidcError::UnsupportedGrantType(format!("unsupported grant type {bad}")));
            }
            if grant_types.iter().any(|g| g == "authorization_code") && redirect_uris.is_empty() {
                return Err(OidcError::InvalidRequest("redirectUris are required for the authorization_code grant".into()));
            }
            if let Some(bad) = redirect_uris.iter().find(|u| !is_loopback_uri(u) && !u.starts_with("https://")) {
                return Err(OidcError::InvalidRequest(format!("redirect URI {bad} must be https:// or a loopback http:// address")));
            }
            let now = self.clock.now();
            let secret = random_secret();
            let client = OidcClient {
                redirect_uris,
                grant_types,
                client_id: crate::ids::new_session_token()[..22].to_string(),
                secret_hash: token_hash(&secret),
                name: name.to_string(),
                client_type: client_type.to_string(),
                scopes,
                created_at: now,
                expires_at: now + Duration::days(CLIENT_DAYS),
            };
            op.tx.insert_oidc_client(&client).await?;
            op.respond(json!({"clientId": client.client_id}));
            Ok(RegisteredClient { client, secret })
        })
        .await
    }

    pub async fn start_device_authorization(
        &self,
        ctx: &Ctx,
        client_id: &str,
        secret: &str,
        start_url: &str,
    ) -> std::result::Result<DeviceStart, OidcError> {
        let request = json!({"clientId": client_id, "startUrl": start_url});
        // The portal at its canonical or its customized address (portal_url.rs).
        let portal_ok = self.is_portal_url(start_url).await;
        let portal = self.portal_url().await;
        self.oidc_op(ctx, "StartDeviceAuthorization", request, async |op| {
            self.check_client(&mut op.tx, client_id, secret).await?;
            let base = self.config.public_url.trim_end_matches('/');
            if !portal_ok {
                return Err(OidcError::InvalidRequest(format!("startUrl must be this portal, {portal}, not {start_url}")));
            }
            let now = self.clock.now();
            let device_code = random_secret();
            let user_code = new_user_code();
            let auth = DeviceAuthorization {
                device_code_hash: token_hash(&device_code),
                user_code: user_code.clone(),
                client_id: client_id.to_string(),
                status: DeviceStatus::Pending,
                user_id: None,
                interval_seconds: POLL_INTERVAL,
                last_polled_at: None,
                created_at: now,
                expires_at: now + Duration::seconds(DEVICE_SECONDS),
            };
            op.tx.insert_device_authorization(&auth).await?;
            let verification_uri = format!("{base}/start/device");
            op.respond(json!({"userCode": user_code, "expiresIn": DEVICE_SECONDS}));
            Ok(DeviceStart {
                device_code,
                verification_uri_complete: format!("{verification_uri}?user_code={user_code}"),
                verification_uri,
                user_code,
                expires_in: DEVICE_SECONDS,
                interval: POLL_INTERVAL,
            })
        })
        .await
    }

    /// The pending authorization a person is about to approve (for the approval page).
    pub async fn pending_device(&self, user_code: &str) -> Result<Option<(DeviceAuthorization, String)>> {
        let mut tx = self.store.begin_read().await?;
        let found = tx.find_device_by_user_code(&normalize_user_code(user_code), self.clock.now()).await?;
        let out = match found {
            Some(d) if d.status == DeviceStatus::Pending => {
                let name = tx.get_oidc_client(&d.client_id).await?.map(|c| c.name).unwrap_or_default();
                Some((d, name))
            }
            _ => None,
        };
        tx.rollback().await?;
        Ok(out)
    }

    /// The signed-in person approves (or denies) the device showing `user_code`.
    pub async fn decide_device(&self, ctx: &Ctx, session: &SessionInfo, user_code: &str, approve: bool) -> Result<bool> {
        let code = normalize_user_code(user_code);
        let name = if approve { "ApproveDeviceAuthorization" } else { "DenyDeviceAuthorization" };
        let mut op = self.begin(ctx, Source::SsoOauth, name, false, json!({"userCode": code})).await?;
        let result = async {
            let Some(mut d) = op.tx.find_device_by_user_code(&code, self.clock.now()).await? else { return Ok(false) };
            if d.status != DeviceStatus::Pending {
                return Ok(false);
            }
            d.status = if approve { DeviceStatus::Approved } else { DeviceStatus::Denied };
            d.user_id = Some(session.user.user_id.clone());
            op.tx.update_device_authorization(&d).await?;
            Ok(true)
        }
        .await;
        op.finish(result).await
    }

    /// CreateToken for the device-code and refresh-token grants.
    pub async fn create_token(&self, ctx: &Ctx, t: TokenRequest<'_>) -> std::result::Result<Tokens, OidcError> {
        let TokenRequest { client_id, client_secret: secret, grant_type, device_code, refresh_token, authorization } = t;
        let request = json!({"clientId": client_id, "grantType": grant_type});
        // The poll is remembered even when the call fails (the operation's own transaction
        // rolls back), or polling too fast would never be noticed.
        let too_fast = match device_code {
            Some(code) if grant_type == "urn:ietf:params:oauth:grant-type:device_code" => self.note_poll(&token_hash(code)).await?,
            _ => false,
        };
        self.oidc_op(ctx, "CreateToken", request, async |op| {
            self.check_client(&mut op.tx, client_id, secret).await?;
            let now = self.clock.now();
            let (user_id, scopes, old) = match grant_type {
                "urn:ietf:params:oauth:grant-type:device_code" => {
                    let code = device_code.ok_or_else(|| OidcError::InvalidRequest("deviceCode is required".into()))?;
                    let mut d = op
                        .tx
                        .find_device_by_code_hash(&token_hash(code))
                        .await?
                        .filter(|d| d.client_id == client_id)
                        .ok_or_else(|| OidcError::InvalidGrant("unknown device code".into()))?;
                    if d.expires_at <= now {
                        return Err(OidcError::ExpiredToken("the device code has expired: start again".into()));
                    }
                    match d.status {
                        DeviceStatus::Pending => {
                            return Err(if too_fast { OidcError::SlowDown } else { OidcError::AuthorizationPending });
                        }
                        DeviceStatus::Denied => return Err(OidcError::AccessDenied("the person denied this device".into())),
                        DeviceStatus::Used => return Err(OidcError::InvalidGrant("the device code was used already".into())),
                        DeviceStatus::Approved => {}
                    }
                    d.status = DeviceStatus::Used;
                    op.tx.update_device_authorization(&d).await?;
                    let user = d.user_id.clone().ok_or_else(|| OidcError::Internal("approved without a user".into()))?;
                    (user, vec![ACCOUNT_ACCESS_SCOPE.to_string()], None)
                }
                "refresh_token" => {
                    let token = refresh_token.ok_or_else(|| OidcError::InvalidRequest("refreshToken is required".into()))?;
                    let t = op
                        .tx
                        .find_token_by_refresh_hash(&token_hash(token))
                        .await?
                        .filter(|t| t.client_id == client_id)
                        .ok_or_else(|| OidcError::InvalidGrant("unknown refresh token".into()))?;
                    if t.revoked {
                        return Err(OidcError::InvalidGrant("the refresh token was revoked".into()));
                    }
                    if t.refresh_expires_at <= now {
                        return Err(OidcError::ExpiredToken("the refresh token has expired: sign in again".into()));
                    }
                    (t.user_id.clone(), t.scopes.clone(), Some(t))
                }
                "authorization_code" => {
                    let code = authorization.code.ok_or_else(|| OidcError::InvalidRequest("code is required".into()))?;
                    let hash = token_hash(code);
                    let c = op
                        .tx
                        .find_authorization_code(&hash)
                        .await?
                        .filter(|c| c.client_id == client_id)
                        .ok_or_else(|| OidcError::InvalidGrant("unknown authorization code".into()))?;
                    if c.used {
                        return Err(OidcError::InvalidGrant("the authorization code was used already".into()));
                    }
                    if c.expires_at <= now {
                        return Err(OidcError::ExpiredToken("the authorization code has expired".into()));
                    }
                    if authorization.redirect_uri != Some(c.redirect_uri.as_str()) {
                        return Err(OidcError::InvalidGrant("redirectUri differs from the one the code was issued for".into()));
                    }
                    let verifier =
                        authorization.code_verifier.ok_or_else(|| OidcError::InvalidRequest("codeVerifier is required".into()))?;
                    if !crate::crypto::constant_time_eq(s256(verifier).as_bytes(), c.code_challenge.as_bytes()) {
                        return Err(OidcError::InvalidGrant("the code verifier does not match the code challenge".into()));
                    }
                    if !op.tx.use_authorization_code(&hash).await? {
                        return Err(OidcError::InvalidGrant("the authorization code was used already".into()));
                    }
                    (c.user_id.clone(), c.scopes.clone(), None)
                }
                other => return Err(OidcError::UnsupportedGrantType(format!("unsupported grant type {other}"))),
            };
            let store = self.store_id()?;
            match op.tx.get_user(&store, &user_id).await? {
                Some(u) if u.active => {}
                _ => return Err(OidcError::AccessDenied("the user is disabled or deleted".into())),
            }
            if let Some(mut old) = old {
                // Refresh tokens rotate: the old grant ends with this one.
                old.revoked = true;
                op.tx.update_sso_token(&old).await?;
            }
            let hours = self.config.signin.session_hours;
            let access = random_secret();
            let refresh = random_secret();
            let token = SsoToken {
                token_id: crate::ids::new_uuid(),
                access_hash: token_hash(&access),
                refresh_hash: Some(token_hash(&refresh)),
                client_id: client_id.to_string(),
                user_id,
                scopes,
                created_at: now,
                expires_at: now + Duration::hours(hours),
                refresh_expires_at: now + Duration::days(REFRESH_DAYS),
                revoked: false,
            };
            op.tx.insert_sso_token(&token).await?;
            op.respond(json!({"tokenType": "Bearer", "expiresIn": hours * 3600}));
            Ok(Tokens { access_token: access, refresh_token: refresh, expires_in: hours * 3600 })
        })
        .await
    }

    /// Check an authorization request before anyone signs in. An unknown client or redirect URI
    /// is shown to the person (never redirected to); other errors go back to the redirect URI.
    pub async fn check_authorize(&self, q: AuthorizeQuery) -> std::result::Result<AuthorizeRequest, (OidcError, bool)> {
        let AuthorizeQuery { client_id, redirect_uri, response_type, code_challenge, code_challenge_method: method, state, scopes } = q;
        let (client_id, redirect_uri) = (client_id.as_str(), redirect_uri.as_str());
        let mut tx = self.store.begin_read().await.map_err(|e| (OidcError::from(e), false))?;
        let client = tx.get_oidc_client(client_id).await.map_err(|e| (OidcError::from(e), false))?;
        tx.rollback().await.map_err(|e| (OidcError::from(e), false))?;
        let client = client
            .filter(|c| c.expires_at > self.clock.now())
            .ok_or((OidcError::InvalidClient(format!("unknown client {client_id}")), false))?;
        if !client.grant_types.iter().any(|g| g == "authorization_code") || !redirect_allowed(&client.redirect_uris, redirect_uri) {
            return Err((OidcError::InvalidRequest("the redirect URI is not registered for this client".into()), false));
        }
        if response_type != "code" {
            return Err((OidcError::InvalidRequest("response_type must be code".into()), true));
        }
        if method != "S256" || code_challenge.len() < 43 {
            return Err((OidcError::InvalidRequest("a code_challenge with code_challenge_method S256 is required".into()), true));
        }
        Ok(AuthorizeRequest {
            client_id: client.client_id,
            client_name: client.name,
            redirect_uri: redirect_uri.to_string(),
            state,
            code_challenge: code_challenge.to_string(),
            scopes: if scopes.is_empty() { vec![ACCOUNT_ACCESS_SCOPE.to_string()] } else { scopes },
        })
    }

    /// The signed-in person allowed the client: an authorization code for its redirect URI.
    pub async fn issue_authorization_code(&self, ctx: &Ctx, session: &SessionInfo, req: &AuthorizeRequest) -> Result<String> {
        let mut op = self
            .begin(ctx, Source::SsoOauth, "Authorize", false, json!({"clientId": req.client_id, "redirectUri": req.redirect_uri}))
            .await?;
        let result = async {
            let now = self.clock.now();
            let code = random_secret();
            let c = crate::model::AuthorizationCode {
                code_hash: token_hash(&code),
                client_id: req.client_id.clone(),
                user_id: session.user.user_id.clone(),
                redirect_uri: req.redirect_uri.clone(),
                code_challenge: req.code_challenge.clone(),
                scopes: req.scopes.clone(),
                created_at: now,
                expires_at: now + Duration::seconds(CODE_SECONDS),
                used: false,
            };
            op.tx.insert_authorization_code(&c).await?;
            Ok(code)
        }
        .await;
        op.finish(result).await
    }

    /// Record a poll of a device code; whether it came sooner than the interval allows.
    async fn note_poll(&self, code_hash: &str) -> Result<bool> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let Some(mut d) = tx.find_device_by_code_hash(code_hash).await? else {
            tx.rollback().await?;
            return Ok(false);
        };
        let too_fast = d.last_polled_at.is_some_and(|t| now - t < Duration::seconds(d.interval_seconds));
        d.last_polled_at = Some(now);
        tx.update_device_authorization(&d).await?;
        tx.commit().await?;
        Ok(too_fast)
    }

    /// The principal a portal-API call acts as, from its bearer token: None when the token is
    /// unknown, expired or revoked, or its user disabled or deleted (on another node: within
    /// READ_CACHE_TTL).
    pub async fn bearer_principal(&self, access_token: &str) -> Result<Option<(SsoToken, crate::model::User)>> {
        let hash = token_hash(access_token);
        let now = self.clock.now();
        if let Some((t, u)) = self.bearer_cache.get(&hash).filter(|(t, _)| t.expires_at > now) {
            return Ok(Some((t, u)));
        }
        let mut tx = self.store.begin_read().await?;
        let token = tx.find_token_by_access_hash(&hash).await?;
        let out = match token {
            Some(t) if !t.revoked && t.expires_at > now => {
                let user = tx.get_user(&self.store_id()?, &t.user_id).await?.filter(|u| u.active);
                user.map(|u| (t, u))
            }
            _ => None,
        };
        tx.rollback().await?;
        if let Some(found) = &out {
            self.bearer_cache.put(&hash, found.clone());
        }
        Ok(out)
    }

    /// Logout: the grant (access and refresh token) ends.
    pub async fn logout_token(&self, ctx: &Ctx, token: &SsoToken) -> Result<()> {
        let mut op = self.begin(ctx, Source::Sso, "Logout", false, json!({})).await?;
        let result = async {
            let mut t = token.clone();
            t.revoked = true;
            op.tx.update_sso_token(&t).await?;
            Ok(())
        }
        .await;
        op.finish(result).await
    }

    /// The context of a bearer-token call: the token's user.
    pub fn bearer_ctx(&self, user: &crate::model::User, source_ip: String, user_agent: String) -> Result<Ctx> {
        let account = self.instance()?.management_account_id.clone();
        Ok(Ctx::new(Principal::portal_user(&account, &user.user_id, &user.profile.user_name), source_ip, user_agent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_match_on_any_port() {
        let registered = vec!["http://127.0.0.1/oauth/callback".to_string()];
        assert!(redirect_allowed(&registered, "http://127.0.0.1:53211/oauth/callback"));
        assert!(redirect_allowed(&registered, "http://127.0.0.1/oauth/callback"));
        assert!(!redirect_allowed(&registered, "http://127.0.0.1:53211/other"));
        assert!(!redirect_allowed(&registered, "http://127.0.0.1.evil.example/oauth/callback"));
        assert!(!redirect_allowed(&registered, "https://evil.example/oauth/callback"));
        let https = vec!["https://app.example/cb".to_string()];
        assert!(!redirect_allowed(&https, "https://app.example:8443/cb"), "only loopback ports are free");
        // RFC 7636 appendix B.
        assert_eq!(s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn user_codes_read_well_and_normalize() {
        for _ in 0..100 {
            let code = new_user_code();
            assert_eq!(code.len(), 9);
            assert_eq!(normalize_user_code(&code.to_lowercase().replace('-', " ")), code);
            assert!(code.chars().all(|c| c == '-' || USER_CODE_ALPHABET.contains(&(c as u8))));
        }
    }
}
