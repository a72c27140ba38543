//! Field rules from the identitystore model (lengths, character classes), each error naming the field.

use crate::error::{Error, Result};

/// `[\p{L}\p{M}\p{S}\p{N}\p{P}]+`: visible characters only, no white space or controls.
fn is_visible(c: char) -> bool {
    !c.is_whitespace() && !c.is_control()
}

/// SensitiveStringType: visible characters plus tab, newline and spaces; no other controls.
fn is_text(c: char) -> bool {
    !c.is_control() || matches!(c, '\t' | '\n' | '\r')
}

pub fn length(field: &str, value: &str, min: usize, max: usize) -> Result<()> {
    let n = value.chars().count();
    if n < min {
        return Err(Error::validation(field, format!("must be at least {min} character{}", if min == 1 { "" } else { "s" })));
    }
    if n > max {
        return Err(Error::validation(field, format!("must be at most {max} characters (got {n})")));
    }
    Ok(())
}

/// A UserName: 1–128 visible characters.
pub fn user_name(field: &str, value: &str) -> Result<()> {
    length(field, value, 1, 128)?;
    if !value.chars().all(is_visible) {
        return Err(Error::validation(field, "must not contain spaces or control characters"));
    }
    Ok(())
}

/// Free text such as names and descriptions: 1–`max` characters, must not be only white space.
pub fn text(field: &str, value: &str, max: usize) -> Result<()> {
    length(field, value, 1, max)?;
    if !value.chars().all(is_text) {
        return Err(Error::validation(field, "must not contain control characters"));
    }
    if value.trim().is_empty() {
        return Err(Error::validation(field, "must not be blank"));
    }
    Ok(())
}

pub fn opt_text(field: &str, value: &Option<String>, max: usize) -> Result<()> {
    match value {
        Some(v) => text(field, v, max),
        None => Ok(()),
    }
}

/// An identifier-like token (external id issuer or id): 1–256 visible characters.
pub fn token(field: &str, value: &str, max: usize) -> Result<()> {
    length(field, value, 1, max)?;
    if !value.chars().all(is_visible) {
        return Err(Error::validation(field, "must not contain spaces or control characters"));
    }
    Ok(())
}

/// An email address as people type them: `local@domain.tld`, no spaces, at most 254 characters.
pub fn email(field: &str, value: &str) -> Result<()> {
    let bad = || Error::validation(field, format!("'{}' is not a valid email address", truncate(value, 80)));
    length(field, value, 3, 254)?;
    let (local, domain) = value.rsplit_once('@').ok_or_else(bad)?;
    let local_ok = !local.is_empty() && local.len() <= 64 && local.chars().all(|c| is_visible(c) && c != '@');
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-') && l.chars().all(|c| c.is_alphanumeric() || c == '-'));
    if local_ok && domain_ok { Ok(()) } else { Err(bad()) }
}

/// Shorten user input quoted back in an error message.
pub fn truncate(value: &str, max: usize) -> String {
    if value.chars().count() <= max {
        value.to_string()
    } else {
        let mut s: String = value.chars().take(max).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in ["a@b.co", "first.last+tag@example.com", "x@sub.example.org", "ü@bücher.de"] {
            assert!(email("Email", ok).is_ok(), "{ok}");
        }
        for bad in ["", "plain", "a@b", "@b.com", "a b@c.com", "a@-b.com", "a@b..com", "a@b.com.", &format!("{}@b.com", "a".repeat(65))] {
            assert!(email("Email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names() {
        assert!(user_name("UserName", "alice@example.com").is_ok());
        assert!(user_name("UserName", "DOMAIN\\alice").is_ok());
        assert!(user_name("UserName", "has space").is_err());
        assert!(user_name("UserName", "").is_err());
        assert!(user_name("UserName", &"a".repeat(129)).is_err());
        assert!(user_name("UserName", &"a".repeat(128)).is_ok());
        assert!(text("DisplayName", "Alice Smith", 1024).is_ok());
        assert!(text("DisplayName", "   ", 1024).is_err());
        assert!(text("DisplayName", "bell\u{7}", 1024).is_err());
        let e = text("DisplayName", &"a".repeat(1025), 1024).unwrap_err();
        assert!(matches!(e, Error::Validation { ref field, .. } if field == "DisplayName"));
    }
}
