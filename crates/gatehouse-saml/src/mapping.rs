//! Attribute mappings, as the guide's "Attribute mappings" tab has them: each row names an
//! application attribute (or `Subject`, the NameID), a source — literal text with `${user:…}`
//! references — and a format.

use std::collections::BTreeMap;

use crate::response::{Attribute, NameId};
use crate::{Result, SamlError};

/// The row that sets the NameID.
pub const SUBJECT: &str = "Subject";

/// The user attributes a source may reference (the guide's "Supported attributes in AWS SSO").
pub const USER_ATTRIBUTES: [&str; 9] =
    ["AD_GUID", "email", "familyName", "givenName", "middleName", "name", "preferredUsername", "subject", "groups"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Unspecified,
    Uri,
    Basic,
    EmailAddress,
    Persistent,
    Transient,
}

impl Format {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "unspecified" => Format::Unspecified,
            "uri" => Format::Uri,
            "basic" => Format::Basic,
            "emailaddress" => Format::EmailAddress,
            "persistent" => Format::Persistent,
            "transient" => Format::Transient,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Unspecified => "unspecified",
            Format::Uri => "uri",
            Format::Basic => "basic",
            Format::EmailAddress => "emailAddress",
            Format::Persistent => "persistent",
            Format::Transient => "transient",
        }
    }
    /// The NameID Format URI (Subject row).
    fn name_id_uri(self) -> Option<&'static str> {
        Some(match self {
            Format::Unspecified => "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
            Format::EmailAddress => "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            Format::Persistent => "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
            Format::Transient => "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
            Format::Uri | Format::Basic => return None,
        })
    }
    /// The Attribute NameFormat URI (other rows).
    fn name_format_uri(self) -> Option<&'static str> {
        Some(match self {
            Format::Unspecified => "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified",
            Format::Uri => "urn:oasis:names:tc:SAML:2.0:attrname-format:uri",
            Format::Basic => "urn:oasis:names:tc:SAML:2.0:attrname-format:basic",
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// The application's attribute name, or [`SUBJECT`].
    pub attribute: String,
    /// Literal text and `${user:…}` references, e.g. `${user:email}` or `${user:givenName} ${user:familyName}`.
    pub source: String,
    pub format: Format,
}

use crate::template::Piece;

fn pieces(source: &str) -> Result<Vec<Piece<'_>>> {
    crate::template::parse(source, "user", &USER_ATTRIBUTES).map_err(SamlError::Invalid)
}

impl Mapping {
    /// Check a row as an administrator saves it.
    pub fn validate(&self) -> Result<()> {
        let name = self.attribute.trim();
        if name.is_empty() || name.len() > 1024 {
            return Err(SamlError::Invalid("an attribute name has 1 to 1024 characters".into()));
        }
        let is_subject = name == SUBJECT;
        let fits = if is_subject { self.format.name_id_uri().is_some() } else { self.format.name_format_uri().is_some() };
        if !fits {
            let allowed = if is_subject { "unspecified, emailAddress, persistent or transient" } else { "unspecified, uri or basic" };
            return Err(SamlError::Invalid(format!("the format of '{name}' must be {allowed}")));
        }
        let p = pieces(&self.source)?;
        if p.is_empty() {
            return Err(SamlError::Invalid(format!("'{name}' maps to nothing")));
        }
        if p.contains(&Piece::Ref("groups")) && (p.len() > 1 || is_subject) {
            return Err(SamlError::Invalid("${user:groups} has many values: map it alone, to an attribute other than Subject".into()));
        }
        Ok(())
    }
}

/// A user's values for the supported attributes (`groups` has one value per group).
pub type UserValues = BTreeMap<&'static str, Vec<String>>;

/// A mapping that needs a value the user does not have. The sign-in page names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the application's attribute '{attribute}' maps to ${{user:{user_attribute}}}, which is empty for this user")]
pub struct EmptyAttribute {
    pub attribute: String,
    pub user_attribute: String,
}

/// The NameID and attributes the mappings give for a user. Without a Subject row the NameID is
/// the user's `subject` (persistent). Rows whose values are all empty are an error, as the guide
/// says an assertion cannot be made without them.
pub fn evaluate(mappings: &[Mapping], user: &UserValues) -> std::result::Result<(NameId, Vec<Attribute>), EmptyAttribute> {
    let value_of = |name: &str| user.get(name).map(|v| v.as_slice()).unwrap_or_default();
    let mut name_id = None;
    let mut attributes = Vec::new();
    for m in mappings {
        let Ok(p) = pieces(&m.source) else { continue };
        let values: Vec<String> = if p == [Piece::Ref("groups")] {
            value_of("groups").to_vec()
        } else {
            let mut text = String::new();
            for piece in &p {
                match piece {
                    Piece::Text(t) => text.push_str(t),
                    Piece::Ref(name) => match value_of(name).first().filter(|v| !v.is_empty()) {
                        Some(v) => text.push_str(v),
                        None => return Err(EmptyAttribute { attribute: m.attribute.clone(), user_attribute: name.to_string() }),
                    },
                }
            }
            vec![text]
        };
        if m.attribute == SUBJECT {
            name_id = Some(NameId {
                value: values.into_iter().next().unwrap_or_default(),
                format: m.format.name_id_uri().unwrap_or_default().into(),
            });
        } else if !values.is_empty() {
            attributes.push(Attribute {
                name: m.attribute.clone(),
                name_format: m.format.name_format_uri().unwrap_or_default().into(),
                values,
            });
        }
    }
    let name_id = match name_id {
        Some(n) => n,
        None => NameId {
            value: value_of("subject")
                .first()
                .cloned()
                .ok_or(EmptyAttribute { attribute: SUBJECT.into(), user_attribute: "subject".into() })?,
            format: Format::Persistent.name_id_uri().unwrap_or_default().into(),
        },
    };
    Ok((name_id, attributes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(attribute: &str, source: &str, format: Format) -> Mapping {
        Mapping { attribute: attribute.into(), source: source.into(), format }
    }

    fn jane(email: Option<&str>) -> UserValues {
        let mut u = UserValues::new();
        u.insert("subject", vec!["0193-jane".into()]);
        u.insert("givenName", vec!["Jane".into()]);
        u.insert("familyName", vec!["Doe".into()]);
        u.insert("groups", vec!["admins".into(), "dev".into()]);
        if let Some(e) = email {
            u.insert("email", vec![e.into()]);
        }
        u
    }

    /// Amplitude's guide: Subject from ${user:email} (emailAddress); a user without one fails,
    /// naming the attribute.
    #[test]
    fn subject_from_email_and_the_user_without_one() {
        let rows =
            [row(SUBJECT, "${user:email}", Format::EmailAddress), row("name", "${user:givenName} ${user:familyName}", Format::Basic)];
        let (name_id, attrs) = evaluate(&rows, &jane(Some("jane@example.com"))).unwrap();
        assert_eq!(name_id.value, "jane@example.com");
        assert_eq!(name_id.format, "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress");
        assert_eq!(attrs[0].values, vec!["Jane Doe".to_string()]);
        let err = evaluate(&rows, &jane(None)).unwrap_err();
        assert_eq!((err.attribute.as_str(), err.user_attribute.as_str()), (SUBJECT, "email"));
        assert!(err.to_string().contains("${user:email}"), "{err}");
    }

    #[test]
    fn groups_literals_and_defaults() {
        let rows = [row("groups", "${user:groups}", Format::Unspecified), row("tenant", "acme", Format::Uri)];
        let (name_id, attrs) = evaluate(&rows, &jane(None)).unwrap();
        assert_eq!(
            (name_id.value.as_str(), name_id.format.as_str()),
            ("0193-jane", "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
        );
        assert_eq!(attrs[0].values, vec!["admins".to_string(), "dev".to_string()]);
        assert_eq!(
            (attrs[1].values[0].as_str(), attrs[1].name_format.as_str()),
            ("acme", "urn:oasis:names:tc:SAML:2.0:attrname-format:uri")
        );
    }

    #[test]
    fn rows_are_validated() {
        assert!(row(SUBJECT, "${user:email}", Format::EmailAddress).validate().is_ok());
        assert!(row(SUBJECT, "${user:email}", Format::Basic).validate().is_err(), "basic is no NameID format");
        assert!(row("mail", "${user:email}", Format::Persistent).validate().is_err());
        assert!(row("mail", "${user:mail}", Format::Basic).validate().unwrap_err().to_string().contains("not a supported attribute"));
        assert!(row("mail", "${user:email", Format::Basic).validate().is_err());
        assert!(row("g", "x ${user:groups}", Format::Basic).validate().is_err());
        assert!(row(SUBJECT, "${user:groups}", Format::Unspecified).validate().is_err());
        assert!(row("", "x", Format::Basic).validate().is_err());
    }
}
