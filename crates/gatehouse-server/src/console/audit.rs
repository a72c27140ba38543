//! The audit log: CloudTrail-shaped events searched by event name, user and time range, newest
//! first; one event's record as JSON; and the search's events downloaded as a CloudTrail log
//! file (`{"Records": [...]}`). Each read is itself a LookupEvents operation of the role session.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDateTime, Utc};
use gatehouse_core::model::{AuditQuery, StoredAudit};

use super::PAGE_SIZE;
use super::session::Admin;
use crate::AppState;
use crate::portal::web::*;

/// The most events one download holds.
const DOWNLOAD_LIMIT: u64 = 10_000;

/// The search form, as the query string carries it.
#[derive(serde::Deserialize, Default, Clone)]
pub struct Search {
    #[serde(default)]
    event_name: String,
    #[serde(default)]
    user: String,
    /// `datetime-local` values, in UTC.
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    before: Option<i64>,
}

/// A `datetime-local` value ("2026-11-23T07:30", seconds optional) as UTC; "" is no bound.
fn parse_time(field: &str, value: &str) -> Result<Option<DateTime<Utc>>, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(value, f).ok())
        .map(|t| Some(t.and_utc()))
        .ok_or_else(|| format!("The {field} time '{value}' is not a date and time like 2026-11-23T07:30."))
}

impl Search {
    fn query(&self, limit: u64) -> Result<AuditQuery, String> {
        let text = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
        let (since, until) = (parse_time("start", &self.since)?, parse_time("end", &self.until)?);
        if let (Some(s), Some(u)) = (since, until)
            && s > u
        {
            return Err("The start time is after the end time.".into());
        }
        Ok(AuditQuery {
            since,
            until,
            event_name: text(&self.event_name),
            user_name: text(&self.user),
            newest_first: true,
            before_seq: self.before,
            limit,
            ..Default::default()
        })
    }

    /// The search as a query string, without the page position.
    fn query_string(&self) -> String {
        [("event_name", &self.event_name), ("user", &self.user), ("since", &self.since), ("until", &self.until)]
            .iter()
            .map(|(k, v)| format!("{k}={}", percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// One line of the events table.
pub struct EventRow {
    pub event_id: String,
    pub time: String,
    pub name: String,
    pub source: String,
    pub user: String,
    pub error: String,
}

impl From<&StoredAudit> for EventRow {
    fn from(s: &StoredAudit) -> Self {
        let r = &s.record;
        EventRow {
            event_id: r.event_id.clone(),
            time: r.event_time.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            name: r.event_name.clone(),
            source: r.event_source.clone(),
            user: r.user_name().unwrap_or_default(),
            error: r.error_code.clone().unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    search: Search,
    events: Result<Vec<EventRow>, String>,
    older_link: Option<String>,
    download_link: String,
}

pub async fn list(State(state): State<AppState>, admin: Admin, headers: HeaderMap, Query(search): Query<Search>) -> Response {
    let (mut error, mut events, mut older_link) = (None, Ok(vec![]), None);
    match search.query(PAGE_SIZE) {
        Ok(q) => match state.services.lookup_events(&admin.ctx, q).await {
            Ok(found) => {
                if found.len() as u64 == PAGE_SIZE
                    && let Some(last) = found.last()
                {
                    older_link = Some(format!("/console/audit?{}&before={}", search.query_string(), last.seq));
                }
                events = Ok(found.iter().map(EventRow::from).collect());
            }
            Err(e) => events = Err(e.to_string()),
        },
        Err(e) => error = Some(e),
    }
    let download_link = format!("/console/audit/download?{}", search.query_string());
    let (csrf, set) = csrf_token(&headers);
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let html = AuditPage { error, notice: None, csrf: &csrf, admin: &admin, search, events, older_link, download_link }.render();
    page(status, html, set.into_iter().collect())
}

#[derive(Template)]
#[template(path = "console/audit_event.html")]
struct EventPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    row: EventRow,
    json: String,
}

/// One event's whole record.
pub async fn show(State(state): State<AppState>, admin: Admin, headers: HeaderMap, Path(event_id): Path<String>) -> Response {
    let q = AuditQuery { event_id: Some(event_id), limit: 1, ..Default::default() };
    let found = match state.services.lookup_events(&admin.ctx, q).await {
        Ok(found) => found,
        Err(e) => return super::message(StatusCode::FORBIDDEN, "Unavailable to this role", &e.to_string()),
    };
    let Some(event) = found.first() else {
        return super::message(StatusCode::NOT_FOUND, "No such event", "The audit log has no event with this ID.");
    };
    let json = serde_json::to_string_pretty(&event.record).unwrap_or_default();
    let (csrf, set) = csrf_token(&headers);
    let html = EventPage { error: None, notice: None, csrf: &csrf, admin: &admin, row: EventRow::from(event), json }.render();
    page(StatusCode::OK, html, set.into_iter().collect())
}

/// The search's events (newest first, at most 10,000) as a CloudTrail log file.
pub async fn download(State(state): State<AppState>, admin: Admin, _headers: HeaderMap, Query(search): Query<Search>) -> Response {
    let q = match search.query(DOWNLOAD_LIMIT) {
        Ok(q) => q,
        Err(e) => return super::message(StatusCode::BAD_REQUEST, "Cannot download these events", &e),
    };
    let found = match state.services.lookup_events(&admin.ctx, q).await {
        Ok(found) => found,
        Err(e) => return super::message(StatusCode::FORBIDDEN, "Unavailable to this role", &e.to_string()),
    };
    let records: Vec<_> = found.into_iter().map(|s| s.record).collect();
    let body = serde_json::to_vec_pretty(&serde_json::json!({ "Records": records })).unwrap_or_default();
    let name = format!("attachment; filename=\"gatehouse-events-{}.json\"", Utc::now().format("%Y%m%dT%H%M%SZ"));
    let mut response = (StatusCode::OK, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}
