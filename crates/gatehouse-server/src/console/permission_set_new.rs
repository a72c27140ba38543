//! The guide's "To create a permission set": choose "Use an existing job function policy" or
//! "Create a custom permission set" → Next: Details → Next: Tags → Next: Review → Create. The
//! draft travels in the form from step to step; each step is checked by the same rules the
//! service applies, and Create makes the permission set and its policies in one operation.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::model::{JOB_FUNCTION_POLICIES, ManagedPolicyChoice, RolePolicies, Tag};
use gatehouse_core::services::permission_sets::{NewPermissionSet, check_new_permission_set};

use super::Pairs;
use super::permission_sets::policy_choices;
use super::session::{Admin, Posted};
use crate::AppState;
use crate::portal::web::*;

/// Rows of the tags step.
const TAG_ROWS: usize = 5;
/// The session durations the form offers (the guide: 1 to 12 hours).
pub const DURATIONS: &[(&str, &str)] =
    &[("PT1H", "1 hour"), ("PT2H", "2 hours"), ("PT4H", "4 hours"), ("PT8H", "8 hours"), ("PT12H", "12 hours")];

/// The permission set being made, as the form carries it.
#[derive(Default, Clone)]
pub struct Draft {
    /// "job" or "custom".
    pub kind: String,
    /// The chosen job function policy's ARN.
    pub job: String,
    pub name: String,
    pub description: String,
    pub session_duration: String,
    pub relay_state: String,
    pub managed: Vec<String>,
    /// More AWS managed policy ARNs, one per line.
    pub other_arns: String,
    pub inline: String,
    pub tags: Vec<(String, String)>,
}

impl Draft {
    fn read(form: &Pairs) -> Self {
        Draft {
            kind: form.one("kind").to_string(),
            job: form.one("job").to_string(),
            name: form.one("name").trim().to_string(),
            description: form.one("description").trim().to_string(),
            session_duration: form.one("session_duration").to_string(),
            relay_state: form.one("relay_state").trim().to_string(),
            managed: form.all("managed"),
            other_arns: form.one("other_arns").to_string(),
            inline: form.one("inline").to_string(),
            tags: form.rows("tag_key", "tag_value"),
        }
    }

    fn job_choice(&self) -> Option<&'static ManagedPolicyChoice> {
        JOB_FUNCTION_POLICIES.iter().find(|c| c.arn == self.job)
    }

    /// What the service will be asked to create; a job function permission set is named after
    /// its policy and carries only it.
    fn to_new(&self) -> Result<NewPermissionSet, String> {
        let optional = |v: &str| Some(v.to_string()).filter(|v| !v.is_empty());
        let tags = self.tags.iter().map(|(k, v)| Tag { key: k.clone(), value: v.clone() }).collect();
        if self.kind == "job" {
            let job = self.job_choice().ok_or("Select a job function policy.")?;
            return Ok(NewPermissionSet {
                name: job.name.to_string(),
                description: Some(job.description.to_string()),
                tags,
                policies: RolePolicies { managed: vec![job.arn.to_string()], ..Default::default() },
                ..Default::default()
            });
        }
        let mut managed = self.managed.clone();
        managed.extend(self.other_arns.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string));
        Ok(NewPermissionSet {
            name: self.name.clone(),
            description: optional(&self.description),
            session_duration: optional(&self.session_duration),
            relay_state: optional(&self.relay_state),
            tags,
            policies: RolePolicies { managed, inline: optional(self.inline.trim()), ..Default::default() },
        })
    }

    /// The draft's fields as hidden inputs, but for those the current step shows.
    fn hidden(&self, step: &str) -> Vec<(&'static str, String)> {
        let mut out = vec![("kind", self.kind.clone())];
        if step != "details" {
            out.extend([
                ("job", self.job.clone()),
                ("name", self.name.clone()),
                ("description", self.description.clone()),
                ("session_duration", self.session_duration.clone()),
                ("relay_state", self.relay_state.clone()),
                ("other_arns", self.other_arns.clone()),
                ("inline", self.inline.clone()),
            ]);
            out.extend(self.managed.iter().map(|m| ("managed", m.clone())));
        }
        if step != "tags" {
            for (k, v) in &self.tags {
                out.extend([("tag_key", k.clone()), ("tag_value", v.clone())]);
            }
        }
        out
    }
}

#[derive(Template)]
#[template(path = "console/permission_set_new.html")]
struct NewPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    /// "type", "details", "tags" or "review".
    step: &'a str,
    draft: Draft,
    /// What Create will make (the review step).
    review: Option<NewPermissionSet>,
}

impl NewPage<'_> {
    fn jobs(&self) -> &'static [ManagedPolicyChoice] {
        JOB_FUNCTION_POLICIES
    }

    fn choices(&self) -> Vec<&'static ManagedPolicyChoice> {
        policy_choices().collect()
    }

    fn durations(&self) -> &'static [(&'static str, &'static str)] {
        DURATIONS
    }

    fn hidden(&self) -> Vec<(&'static str, String)> {
        self.draft.hidden(self.step)
    }

    /// The tags step's rows: what was typed, then empty rows.
    fn tag_rows(&self) -> Vec<(String, String)> {
        let mut rows = self.draft.tags.clone();
        rows.resize(rows.len().max(TAG_ROWS), Default::default());
        rows
    }

    /// The hidden inputs this step writes (the type step shows `kind` as radios).
    fn hidden_here(&self, name: &str) -> bool {
        self.step != "type" || name != "kind"
    }

    fn duration_selected(&self, value: &str) -> bool {
        self.draft.session_duration == value
    }

    fn chosen(&self, arn: &str) -> bool {
        self.draft.managed.iter().any(|m| m == arn)
    }
}

fn render(headers: &HeaderMap, admin: &Admin, step: &str, draft: Draft, error: Option<String>) -> Response {
    let (csrf, set) = csrf_token(headers);
    let review = (step == "review").then(|| draft.to_new().ok()).flatten();
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let html = NewPage { error, notice: None, csrf: &csrf, admin, step, draft, review }.render();
    page(status, html, set.into_iter().collect())
}

pub async fn new_form(State(_state): State<AppState>, admin: Admin, headers: HeaderMap) -> Response {
    render(&headers, &admin, "type", Draft { kind: "job".into(), ..Default::default() }, None)
}

/// A step's button: `step` names the step to show next ("create" makes it).
pub async fn step(State(state): State<AppState>, Posted { admin, form, headers }: Posted) -> Response {
    let draft = Draft::read(&form);
    // Leaving the details step: check the draft before going on.
    let checked = || draft.to_new().and_then(|new| check_new_permission_set(&new).map(|_| new).map_err(|e| e.to_string()));
    match form.one("step") {
        "details" => render(&headers, &admin, "details", draft, None),
        "tags" => match checked() {
            Ok(_) => render(&headers, &admin, "tags", draft, None),
            Err(e) => render(&headers, &admin, "details", draft, Some(e)),
        },
        "review" => match checked() {
            Ok(_) => render(&headers, &admin, "review", draft, None),
            Err(e) => render(&headers, &admin, "tags", draft, Some(e)),
        },
        "create" => {
            let new = match checked() {
                Ok(new) => new,
                Err(e) => return render(&headers, &admin, "review", draft, Some(e)),
            };
            match state.services.create_permission_set(&admin.ctx, new).await {
                Ok(ps) => see_other(&format!("{}?created=1", super::permission_sets::here(&ps.permission_set_id)), vec![]),
                Err(e) => render(&headers, &admin, "review", draft, Some(e.to_string())),
            }
        }
        _ => render(&headers, &admin, "type", draft, None),
    }
}
