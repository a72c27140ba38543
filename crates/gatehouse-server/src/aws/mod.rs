//! AWS JSON 1.1 front door (`POST /` with `X-Amz-Target`), as boto3 and the AWS CLI call it:
//! SigV4 authentication, dispatch by target prefix, and errors in AWS's `__type` shape.

mod attributes;
mod gatehouse;
mod gatehouse_accounts;
mod gatehouse_apps;
mod identitystore;
mod organizations;
mod permission_sets;
mod sso_admin;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use gatehouse_core::model::{Page, Paged};
use gatehouse_core::services::{Door, KeyAuth};
use gatehouse_core::{Ctx, Error};
use gatehouse_proto::aws::{Service, Violation};
use gatehouse_sigv4::{Authorization, SigV4Error};
use serde_json::{Value, json};
use std::net::SocketAddr;

use crate::AppState;

/// An error as AWS JSON protocols carry it.
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    extra: Value,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), extra: Value::Null }
    }

    pub fn unknown_operation(operation: &str) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "UnknownOperationException", format!("{operation} is not implemented by Gatehouse yet"))
    }

    pub fn validation(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "ValidationException", message)
    }

    /// A request body that breaks the service model, in the service's own error vocabulary.
    fn violation(service: Service, v: &Violation) -> Self {
        match service {
            Service::Organizations => {
                let mut err = ApiError::new(StatusCode::BAD_REQUEST, "InvalidInputException", v.message());
                err.extra = json!({"Reason": v.kind.organizations_reason()});
                err
            }
            _ => ApiError::validation(v.message()),
        }
    }

    fn sigv4(e: SigV4Error) -> Self {
        match e {
            SigV4Error::Missing => ApiError::new(StatusCode::FORBIDDEN, "MissingAuthenticationTokenException", e.to_string()),
            SigV4Error::Expired { .. } => ApiError::new(StatusCode::FORBIDDEN, "InvalidSignatureException", e.to_string()),
            SigV4Error::Mismatch => ApiError::new(StatusCode::FORBIDDEN, "InvalidSignatureException", e.to_string()),
            SigV4Error::Malformed(_) | SigV4Error::Scope(_) => {
                ApiError::new(StatusCode::FORBIDDEN, "IncompleteSignatureException", e.to_string())
            }
        }
    }

    fn into_response(self, request_id: &str) -> Response {
        let mut body = json!({"__type": self.code, "Message": self.message, "message": self.message});
        if let (Some(map), Value::Object(extra)) = (body.as_object_mut(), self.extra) {
            map.extend(extra);
        }
        respond(self.status, body, request_id)
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let message = e.to_string();
        match &e {
            Error::Validation { .. } => ApiError::validation(message),
            Error::Conflict { reason, .. } => {
                let mut err = ApiError::new(StatusCode::BAD_REQUEST, "ConflictException", message);
                if let Some(r) = reason {
                    err.extra = json!({"Reason": r});
                }
                err
            }
            Error::NotFound { resource_type, resource_id } => {
                let mut err = ApiError::new(StatusCode::BAD_REQUEST, "ResourceNotFoundException", message);
                err.extra = json!({"ResourceType": resource_type.as_str(), "ResourceId": resource_id});
                err
            }
            Error::AccessDenied { .. } => ApiError::new(StatusCode::BAD_REQUEST, "AccessDeniedException", message),
            Error::QuotaExceeded { .. } => ApiError::new(StatusCode::BAD_REQUEST, "ServiceQuotaExceededException", message),
            Error::Throttled { .. } => ApiError::new(StatusCode::BAD_REQUEST, "ThrottlingException", message),
            Error::Unavailable { .. } => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "InternalServerException", "The service is unavailable; retry later.")
            }
            Error::Internal { message } => {
                tracing::error!(error = %message, "internal error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerException", "An internal error occurred.")
            }
        }
    }
}

/// MaxResults (1..=`max`, default `max`) and the cursor inside NextToken, errors in the
/// protocol's vocabulary.
pub fn page_args(state: &AppState, input: &Value, operation: &str, max: u64, errors: fn(Error) -> ApiError) -> Result<Page, ApiError> {
    let limit = match input.get("MaxResults") {
        None => max,
        Some(v) => match v.as_u64() {
            Some(n) if (1..=max).contains(&n) => n,
            _ => return Err(errors(Error::validation("MaxResults", format!("must be between 1 and {max}")))),
        },
    };
    let after = match input.get("NextToken").and_then(Value::as_str) {
        Some(token) => Some(state.services.open_page_token(operation, token).map_err(errors)?),
        None => None,
    };
    Ok(Page { after, limit })
}

/// A page of results under `key`, with a sealed NextToken when there is more.
pub fn paged<T>(state: &AppState, operation: &str, key: &str, page: Paged<T>, render: impl Fn(&T) -> Value) -> Value {
    let mut out = json!({ key: page.items.iter().map(render).collect::<Vec<_>>() });
    if let Some(next) = page.next {
        out["NextToken"] = json!(state.services.seal_page_token(operation, &next));
    }
    out
}

/// A timestamp as AWS JSON protocols carry it: epoch seconds.
pub(super) fn epoch(t: &chrono::DateTime<chrono::Utc>) -> f64 {
    t.timestamp_micros() as f64 / 1e6
}

fn respond(status: StatusCode, body: Value, request_id: &str) -> Response {
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/x-amz-json-1.1"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", v);
    }
    response
}

/// `POST /`: authenticate, then hand the JSON body to the service family named by the target.
pub async fn handle(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let Some((prefix, operation)) = target.split_once('.') else {
        return ApiError::new(StatusCode::BAD_REQUEST, "UnknownOperationException", "Missing or malformed X-Amz-Target header")
            .into_response(&request_id);
    };
    let (signing_name, service) = match prefix {
        "AWSIdentityStore" => ("identitystore", Service::IdentityStore),
        "AWSOrganizationsV20161128" => ("organizations", Service::Organizations),
        "Gatehouse" => ("gatehouse", Service::Gatehouse),
        "SWBExternalService" => ("sso", Service::SsoAdmin),
        _ => {
            return ApiError::new(StatusCode::BAD_REQUEST, "UnknownOperationException", format!("Unknown service {prefix}"))
                .into_response(&request_id);
        }
    };
    let ctx = match authenticate(&state, &method, &uri, &headers, &body, signing_name, peer, &request_id).await {
        Ok(ctx) => ctx,
        Err(e) => return e.into_response(&request_id),
    };
    let errors: fn(Error) -> ApiError = if prefix == "AWSOrganizationsV20161128" { organizations::error } else { ApiError::from };
    if let Err(e) = state.services.admit_api_call().await {
        return errors(e).into_response(&request_id);
    }
    if service == Service::IdentityStore
        && let Err(e) = state.services.admit_network(&ctx, Door::Api, operation).await
    {
        return errors(e).into_response(&request_id);
    }
    let input: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                return ApiError::new(StatusCode::BAD_REQUEST, "SerializationException", "The request body is not a JSON object")
                    .into_response(&request_id);
            }
        }
    };
    if !service.model().has_operation(operation) {
        return ApiError::new(StatusCode::BAD_REQUEST, "UnknownOperationException", format!("Unknown operation {target}"))
            .into_response(&request_id);
    }
    if let Err(v) = service.model().validate(operation, &input) {
        return ApiError::violation(service, &v).into_response(&request_id);
    }
    let result = match prefix {
        "AWSIdentityStore" => identitystore::dispatch(&state, &ctx, operation, input).await,
        "AWSOrganizationsV20161128" => organizations::dispatch(&state, &ctx, operation, input).await,
        "Gatehouse" => gatehouse::dispatch(&state, &ctx, operation, input).await,
        "SWBExternalService" => sso_admin::dispatch(&state, &ctx, operation, input).await,
        _ => Err(ApiError::new(StatusCode::BAD_REQUEST, "UnknownOperationException", target.clone())),
    };
    match result {
        Ok(output) => respond(StatusCode::OK, output, &request_id),
        Err(e) => e.into_response(&request_id),
    }
}

#[allow(clippy::too_many_arguments)]
async fn authenticate(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    signing_name: &str,
    peer: SocketAddr,
    request_id: &str,
) -> Result<Ctx, ApiError> {
    let header = headers.get("authorization").and_then(|v| v.to_str().ok()).ok_or_else(|| ApiError::sigv4(SigV4Error::Missing))?;
    let auth = Authorization::parse(header).map_err(ApiError::sigv4)?;
    let token = headers.get("x-amz-security-token").and_then(|v| v.to_str().ok());
    let (principal, secret) = match state.services.authenticate_access_key(&auth.access_key_id, token).await? {
        KeyAuth::Valid(principal, secret) => (principal, secret),
        KeyAuth::Unknown | KeyAuth::BadToken => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ));
        }
        KeyAuth::Expired => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "ExpiredTokenException",
                "The security token included in the request is expired",
            ));
        }
    };
    let pairs: Vec<(String, String)> =
        headers.iter().filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_string(), v.to_string()))).collect();
    let request =
        gatehouse_sigv4::Request { method: method.as_str(), path: uri.path(), query: uri.query().unwrap_or(""), headers: &pairs, body };
    let region = state.services.config().region.clone();
    gatehouse_sigv4::verify(&request, &auth, &secret, &region, signing_name, state.services.clock().now()).map_err(ApiError::sigv4)?;
    let user_agent = headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let mut ctx = Ctx::new(principal, peer.ip().to_string(), user_agent);
    ctx.request_id = request_id.to_string();
    Ok(ctx)
}
