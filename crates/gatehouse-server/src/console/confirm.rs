//! The guide's typed confirmations (DELETE, DISABLE, remove…): an action that needs one first
//! answers with this dialog, which posts the same fields back with the typed word; the action
//! goes ahead only when the word matches exactly. Checked by the server, not by a script.

use askama::Template;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::session::Admin;
use crate::portal::web::*;

/// A dialog to show before an action.
pub struct Dialog<'a> {
    pub title: &'a str,
    pub text: String,
    /// What to type, as the guide prints it.
    pub word: &'static str,
    pub button: &'a str,
    /// Where the form posts (the action's own URL), and the fields it posts again.
    pub action: &'a str,
    pub fields: Vec<(&'static str, String)>,
    pub cancel: &'a str,
}

#[derive(Template)]
#[template(path = "console/confirm.html")]
struct ConfirmPage<'a> {
    error: Option<String>,
    notice: Option<String>,
    csrf: &'a str,
    admin: &'a Admin,
    dialog: Dialog<'a>,
}

/// What is wrong with `typed` as the confirmation `word` (surrounding spaces aside), if anything.
pub fn mistyped(word: &str, typed: &str) -> Option<String> {
    let typed = typed.trim();
    (typed != word).then(|| format!("Type {word} to confirm (you typed “{typed}”)."))
}

/// None when `typed` is the word; else the dialog to answer with (saying so when something else
/// was typed).
pub fn unless_typed(headers: &HeaderMap, admin: &Admin, typed: Option<&str>, dialog: Dialog<'_>) -> Option<Response> {
    let error = match typed {
        Some(t) => Some(mistyped(dialog.word, t)?),
        None => None,
    };
    let (csrf, set) = csrf_token(headers);
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    Some(page(status, ConfirmPage { error, notice: None, csrf: &csrf, admin, dialog }.render(), set.into_iter().collect()))
}
