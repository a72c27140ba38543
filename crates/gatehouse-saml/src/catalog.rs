//! Pre-integrated cloud applications: what each needs from the identity provider (ACS URL and
//! audience patterns, NameID and attribute mappings, session length) and how to finish the setup
//! at the application's side. The custom SAML 2.0 application starts from the defaults.

use crate::mapping::{Format, Mapping, SUBJECT};

/// One catalog entry.
#[derive(Debug, Clone, Copy)]
pub struct Template {
    /// Stable id, also the last part of the application provider ARN.
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    /// What the administrator types, with `<placeholders>` for their own values; empty when
    /// the application tells them (e.g. Logz.io support).
    pub acs_url: &'static str,
    pub audience: &'static str,
    pub start_url: &'static str,
    /// The session duration the application's guide asks for, in hours.
    pub session_hours: u32,
    /// (application attribute, source, format) rows set at creation.
    pub mappings: &'static [(&'static str, &'static str, &'static str)],
    /// Shown on the application's page: the steps left to do at the application.
    pub instructions: &'static str,
}

impl Template {
    pub fn mappings(&self) -> Vec<Mapping> {
        self.mappings
            .iter()
            .map(|(attribute, source, format)| Mapping {
                attribute: attribute.to_string(),
                source: source.to_string(),
                format: Format::parse(format).unwrap_or(Format::Unspecified),
            })
            .collect()
    }
}

/// The custom application's default mapping: the user's stable id as a persistent NameID.
const DEFAULT_SUBJECT: &[(&str, &str, &str)] = &[(SUBJECT, "${user:subject}", "persistent")];

pub const CATALOG: &[Template] = &[
    Template {
        id: "custom-saml",
        name: "Custom SAML 2.0 application",
        description: "Any application that accepts SAML 2.0 sign-in from an identity provider.",
        acs_url: "",
        audience: "",
        start_url: "",
        session_hours: 1,
        mappings: DEFAULT_SUBJECT,
        instructions: "Download the IdP metadata (or the certificate and sign-in URL) and give it to the application. \
                       Enter the application's ACS URL and SAML audience here, or upload its metadata. Then map the \
                       attributes the application expects and assign users or groups.",
    },
    Template {
        id: "amplitude",
        name: "Amplitude",
        description: "Product analytics.",
        acs_url: "https://analytics.amplitude.com/saml/sso/<org id>",
        audience: "https://analytics.amplitude.com/saml/metadata/<org id>",
        start_url: "",
        session_hours: 1,
        mappings: &[(SUBJECT, "${user:email}", "emailAddress"), ("email", "${user:email}", "basic")],
        instructions: "In Amplitude: Settings > Organization settings > Access & SSO Settings > Single Sign-On Settings. \
                       Choose Identity Provider \"Other\" and upload this application's IdP metadata. Copy the Entity ID \
                       and Assertion Consumer Service URL shown there into this application's metadata. Every assigned \
                       user needs a primary email, or their sign-in fails.",
    },
    Template {
        id: "logzio",
        name: "Logz.io",
        description: "Log management and observability.",
        acs_url: "",
        audience: "",
        start_url: "",
        session_hours: 12,
        mappings: &[
            (SUBJECT, "${user:email}", "emailAddress"),
            ("email", "${user:email}", "unspecified"),
            ("groups", "${user:groups}", "unspecified"),
        ],
        instructions: "Ask Logz.io support (help@logz.io) for AWS SAML SSO with your account ID and the last six \
                       characters of your account token. Enter the Single Sign-on URL they send as the ACS URL, the \
                       Audience URI as the audience, and their start URL under application properties. Send them the \
                       signing certificate and this application's sign-in URL.",
    },
    Template {
        id: "salesforce",
        name: "Salesforce",
        description: "Customer relationship management.",
        acs_url: "https://<my domain>.my.salesforce.com?so=<organization id>",
        audience: "https://saml.salesforce.com",
        start_url: "https://<my domain>.my.salesforce.com",
        session_hours: 1,
        mappings: &[(SUBJECT, "${user:email}", "unspecified")],
        instructions: "In Salesforce Setup > Single Sign-On Settings, add a SAML setting: upload the signing certificate, \
                       set the Issuer to this application's IdP entity ID, the Identity Provider Login URL to its sign-in \
                       URL, and \"SAML Identity Type\" to the Federation ID. Each Salesforce user's Federation ID must be \
                       their email here.",
    },
    Template {
        id: "box",
        name: "Box",
        description: "Content management and file sharing.",
        acs_url: "https://sso.services.box.net/sp/ACS.saml2",
        audience: "box.net",
        start_url: "",
        session_hours: 1,
        mappings: &[(SUBJECT, "${user:email}", "emailAddress")],
        instructions: "Send Box (Admin Console > Enterprise Settings > User Settings > Configure SSO) this application's \
                       IdP metadata. Box users are matched by their email.",
    },
    Template {
        id: "microsoft-365",
        name: "Microsoft 365",
        description: "Office apps, Exchange Online, Teams.",
        acs_url: "https://login.microsoftonline.com/login.srf",
        audience: "urn:federation:MicrosoftOnline",
        start_url: "https://portal.office.com",
        session_hours: 1,
        mappings: &[(SUBJECT, "${user:AD_GUID}", "persistent"), ("IDPEmail", "${user:email}", "unspecified")],
        instructions: "Federate the domain with PowerShell (Microsoft Graph: New-MgDomainFederationConfiguration) using \
                       this application's sign-in URL, entity ID and signing certificate. Each Microsoft 365 user's \
                       ImmutableId must equal their AD_GUID here.",
    },
];

pub fn find(id: &str) -> Option<&'static Template> {
    CATALOG.iter().find(|t| t.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_has_valid_mappings() {
        for t in CATALOG {
            assert!(t.mappings().iter().any(|m| m.attribute == SUBJECT), "{}", t.id);
            for m in t.mappings() {
                m.validate().unwrap_or_else(|e| panic!("{}: {e}", t.id));
            }
        }
        for id in ["custom-saml", "amplitude", "logzio", "salesforce", "box", "microsoft-365"] {
            assert!(find(id).is_some(), "{id}");
        }
    }

    /// The Logz.io and Amplitude guides' rows, exactly.
    #[test]
    fn the_guides_mappings() {
        let amplitude = find("amplitude").unwrap().mappings;
        assert_eq!(amplitude, &[(SUBJECT, "${user:email}", "emailAddress"), ("email", "${user:email}", "basic")]);
        let logzio = find("logzio").unwrap();
        assert_eq!(logzio.session_hours, 12);
        assert!(logzio.mappings.contains(&("email", "${user:email}", "unspecified")));
        assert!(logzio.mappings.contains(&("groups", "${user:groups}", "unspecified")));
    }
}
