//! The Response an identity provider posts to a service provider's ACS: Issuer, Status, and one
//! Assertion (Subject with bearer confirmation, Conditions with the audience, AuthnStatement,
//! AttributeStatement), signed as the application asks.

use chrono::{DateTime, Utc};
use uppsala::NodeId;

use crate::dom::Tree;
use crate::sign::Signer;
use crate::{ASSERTION_NS, PROTOCOL_NS, Result, instant, new_id};

const XS_NS: &str = "http://www.w3.org/2001/XMLSchema";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
pub(crate) const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
pub(crate) const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const PASSWORD_PROTECTED: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";

/// The subject's name as the service provider receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameId {
    pub value: String,
    /// A NameID format URI (`urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress`, ...).
    pub format: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    /// An attribute name format URI (`...:attrname-format:basic`, `...:uri`, `...:unspecified`).
    pub name_format: String,
    pub values: Vec<String>,
}

/// Which parts carry a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignWhat {
    Assertion,
    Response,
    Both,
}

/// Everything a Response says, decided by the caller (the service layer).
#[derive(Debug, Clone)]
pub struct ResponseSpec {
    /// The IdP's entity ID.
    pub issuer: String,
    /// The ACS URL: the Response's Destination and the confirmation's Recipient.
    pub acs_url: String,
    /// The SP's entity ID, the only audience.
    pub audience: String,
    /// The AuthnRequest's ID, for SP-initiated sign-in.
    pub in_response_to: Option<String>,
    pub name_id: NameId,
    pub attributes: Vec<Attribute>,
    pub now: DateTime<Utc>,
    /// Start of validity (a little before `now`, for clock skew at the SP).
    pub not_before: DateTime<Utc>,
    /// `now` + the application's session duration: end of the confirmation, the conditions and
    /// the session.
    pub not_on_or_after: DateTime<Utc>,
    /// When the user authenticated (the portal sign-in).
    pub authn_instant: DateTime<Utc>,
    /// Identifies the portal session at the SP (for logout later).
    pub session_index: String,
    pub sign: SignWhat,
}

/// The built Response: its XML and the IDs it carries.
#[derive(Debug, Clone)]
pub struct Built {
    pub xml: String,
    pub response_id: String,
    pub assertion_id: String,
}

impl ResponseSpec {
    /// Build and sign the Response.
    pub fn build(&self, signer: &Signer) -> Result<Built> {
        let (response_id, assertion_id) = (new_id()?, new_id()?);
        let mut t = Tree::new();
        let response = t.element(None, PROTOCOL_NS, "samlp", "Response");
        t.declare(response, "samlp", PROTOCOL_NS);
        t.declare(response, "saml", ASSERTION_NS);
        t.attr(response, "ID", &response_id);
        t.attr(response, "Version", "2.0");
        t.attr(response, "IssueInstant", &instant(self.now));
        t.attr(response, "Destination", &self.acs_url);
        if let Some(id) = &self.in_response_to {
            t.attr(response, "InResponseTo", id);
        }
        let response_issuer = t.text_element(response, ASSERTION_NS, "saml", "Issuer", &self.issuer);
        let status = t.element(Some(response), PROTOCOL_NS, "samlp", "Status");
        let code = t.element(Some(status), PROTOCOL_NS, "samlp", "StatusCode");
        t.attr(code, "Value", SUCCESS);

        let assertion = t.element(Some(response), ASSERTION_NS, "saml", "Assertion");
        t.declare(assertion, "saml", ASSERTION_NS);
        t.attr(assertion, "ID", &assertion_id);
        t.attr(assertion, "Version", "2.0");
        t.attr(assertion, "IssueInstant", &instant(self.now));
        let assertion_issuer = t.text_element(assertion, ASSERTION_NS, "saml", "Issuer", &self.issuer);
        self.subject(&mut t, assertion);
        self.conditions(&mut t, assertion);
        self.authn_statement(&mut t, assertion);
        self.attribute_statement(&mut t, assertion);

        // The assertion is signed first, so a response signature covers the signed assertion.
        if matches!(self.sign, SignWhat::Assertion | SignWhat::Both) {
            signer.sign_after(&mut t, assertion, assertion_issuer, &assertion_id)?;
        }
        if matches!(self.sign, SignWhat::Response | SignWhat::Both) {
            signer.sign_after(&mut t, response, response_issuer, &response_id)?;
        }
        Ok(Built { xml: t.doc.to_xml(), response_id, assertion_id })
    }

    fn subject(&self, t: &mut Tree, assertion: NodeId) {
        let subject = t.element(Some(assertion), ASSERTION_NS, "saml", "Subject");
        let name_id = t.text_element(subject, ASSERTION_NS, "saml", "NameID", &self.name_id.value);
        t.attr(name_id, "Format", &self.name_id.format);
        let confirmation = t.element(Some(subject), ASSERTION_NS, "saml", "SubjectConfirmation");
        t.attr(confirmation, "Method", BEARER);
        let data = t.element(Some(confirmation), ASSERTION_NS, "saml", "SubjectConfirmationData");
        if let Some(id) = &self.in_response_to {
            t.attr(data, "InResponseTo", id);
        }
        t.attr(data, "NotOnOrAfter", &instant(self.not_on_or_after));
        t.attr(data, "Recipient", &self.acs_url);
    }

    fn conditions(&self, t: &mut Tree, assertion: NodeId) {
        let conditions = t.element(Some(assertion), ASSERTION_NS, "saml", "Conditions");
        t.attr(conditions, "NotBefore", &instant(self.not_before));
        t.attr(conditions, "NotOnOrAfter", &instant(self.not_on_or_after));
        let restriction = t.element(Some(conditions), ASSERTION_NS, "saml", "AudienceRestriction");
        t.text_element(restriction, ASSERTION_NS, "saml", "Audience", &self.audience);
    }

    fn authn_statement(&self, t: &mut Tree, assertion: NodeId) {
        let statement = t.element(Some(assertion), ASSERTION_NS, "saml", "AuthnStatement");
        t.attr(statement, "AuthnInstant", &instant(self.authn_instant));
        t.attr(statement, "SessionIndex", &self.session_index);
        t.attr(statement, "SessionNotOnOrAfter", &instant(self.not_on_or_after));
        let context = t.element(Some(statement), ASSERTION_NS, "saml", "AuthnContext");
        t.text_element(context, ASSERTION_NS, "saml", "AuthnContextClassRef", PASSWORD_PROTECTED);
    }

    fn attribute_statement(&self, t: &mut Tree, assertion: NodeId) {
        if self.attributes.is_empty() {
            return;
        }
        let statement = t.element(Some(assertion), ASSERTION_NS, "saml", "AttributeStatement");
        for a in &self.attributes {
            let attribute = t.element(Some(statement), ASSERTION_NS, "saml", "Attribute");
            t.attr(attribute, "Name", &a.name);
            t.attr(attribute, "NameFormat", &a.name_format);
            for v in &a.values {
                let value = t.text_element(attribute, ASSERTION_NS, "saml", "AttributeValue", v);
                t.declare(value, "xs", XS_NS);
                t.declare(value, "xsi", XSI_NS);
                t.attr_ns(value, XSI_NS, "xsi", "type", "xs:string");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert::{self, Certificate, KeySize, SignatureAlgorithm};
    use crate::verify_assertion;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn certificate(size: KeySize, alg: SignatureAlgorithm) -> Certificate {
        cert::generate("Gatehouse test app", size, alg, 60, now()).unwrap()
    }

    fn spec(sign: SignWhat) -> ResponseSpec {
        ResponseSpec {
            issuer: "https://sso.example.com/saml/app-1".into(),
            acs_url: "https://sp.example.com/acs?x=1&y=2".into(),
            audience: "https://sp.example.com/metadata".into(),
            in_response_to: Some("_req-1".into()),
            name_id: NameId { value: "jane@example.com".into(), format: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress".into() },
            attributes: vec![
                Attribute {
                    name: "email".into(),
                    name_format: "urn:oasis:names:tc:SAML:2.0:attrname-format:basic".into(),
                    values: vec!["jane@example.com".into()],
                },
                Attribute {
                    name: "note".into(),
                    name_format: "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified".into(),
                    values: vec!["<b>\"Tom & Jerry\"</b>".into(), "second".into()],
                },
            ],
            now: now(),
            not_before: now() - chrono::Duration::seconds(60),
            not_on_or_after: now() + chrono::Duration::hours(1),
            authn_instant: now() - chrono::Duration::minutes(5),
            session_index: "s-1".into(),
            sign,
        }
    }

    fn signer(c: &Certificate) -> Signer {
        Signer::new(&c.key_pem, &c.cert_der, c.algorithm).unwrap()
    }

    #[test]
    fn signed_responses_verify_with_the_trusted_certificate_only() {
        let right = certificate(KeySize::Rsa2048, SignatureAlgorithm::Sha256);
        let other = certificate(KeySize::Rsa2048, SignatureAlgorithm::Sha256);
        for sign in [SignWhat::Assertion, SignWhat::Response, SignWhat::Both] {
            let built = spec(sign).build(&signer(&right)).unwrap();
            let v = verify_assertion(&built.xml, &[&right.cert_pem]).unwrap_or_else(|e| panic!("{sign:?}: {e}\n{}", built.xml));
            assert_eq!(v.id, built.assertion_id);
            assert_eq!(v.name_id, "jane@example.com");
            assert_eq!(v.audiences, vec!["https://sp.example.com/metadata".to_string()]);
            assert_eq!(v.recipient, "https://sp.example.com/acs?x=1&y=2");
            assert_eq!(v.in_response_to.as_deref(), Some("_req-1"));
            assert_eq!(v.not_on_or_after, "2027-01-15T09:00:00Z");
            assert_eq!(v.attributes[1], ("note".to_string(), vec!["<b>\"Tom & Jerry\"</b>".to_string(), "second".to_string()]));
            assert!(built.xml.contains("&lt;b&gt;"), "values are escaped");
            // Rollover: either trusted certificate may have signed.
            verify_assertion(&built.xml, &[&other.cert_pem, &right.cert_pem]).unwrap();
            assert!(verify_assertion(&built.xml, &[&other.cert_pem]).is_err(), "{sign:?}: an untrusted key");
            let tampered = built.xml.replace("jane@example.com</saml:NameID>", "mallory@example.com</saml:NameID>");
            assert!(verify_assertion(&tampered, &[&right.cert_pem]).is_err(), "{sign:?}: a changed NameID");
        }
    }

    #[test]
    fn a_wrapped_assertion_is_never_read() {
        let c = certificate(KeySize::Rsa2048, SignatureAlgorithm::Sha256);
        let built = spec(SignWhat::Assertion).build(&signer(&c)).unwrap();
        // An attacker puts their own unsigned assertion first, keeping the signed one.
        let start = built.xml.find("<saml:Assertion").unwrap();
        let evil = built.xml[start..]
            .replacen(&built.assertion_id, "_evil", 1)
            .replace("jane@example.com</saml:NameID>", "mallory@example.com</saml:NameID>");
        let end = evil.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
        let wrapped = format!("{}{}{}", &built.xml[..start], &evil[..end], &built.xml[start..]);
        // Refusing the whole document is as good as reading the signed assertion.
        if let Ok(v) = verify_assertion(&wrapped, &[&c.cert_pem]) {
            assert_eq!((v.id.as_str(), v.name_id.as_str()), (built.assertion_id.as_str(), "jane@example.com"));
        }
    }

    #[test]
    fn dtds_are_refused() {
        let c = certificate(KeySize::Rsa2048, SignatureAlgorithm::Sha256);
        let xml = "<!DOCTYPE r [<!ENTITY x \"y\">]><r>&x;</r>";
        assert!(matches!(verify_assertion(xml, &[&c.cert_pem]), Err(crate::SamlError::Invalid(_))));
    }

    /// The `xmlsec1` command line (libxmlsec1, as SPs use it) accepts our signatures.
    #[test]
    fn xmlsec1_verifies_rsa1024_sha1_and_rsa2048_sha256() {
        if std::process::Command::new("xmlsec1").arg("--version").output().is_err() {
            assert!(std::env::var("CI").is_err(), "CI needs xmlsec1 (apt-get install xmlsec1)");
            eprintln!("xmlsec1 not installed: skipped");
            return;
        }
        let dir = std::env::temp_dir().join(format!("gatehouse-saml-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (size, alg) in [(KeySize::Rsa1024, SignatureAlgorithm::Sha1), (KeySize::Rsa2048, SignatureAlgorithm::Sha256)] {
            let c = certificate(size, alg);
            // RSA-2048/SHA-256 is signed by the AWS-LC path, RSA-1024/SHA-1 by bergshamra's own.
            #[cfg(feature = "aws-lc")]
            assert_eq!(signer(&c).fast.is_some(), size == KeySize::Rsa2048);
            let (xml, pem) = (dir.join(format!("{size:?}.xml")), dir.join(format!("{size:?}.pem")));
            std::fs::write(&pem, &c.cert_pem).unwrap();
            let xmlsec1 = |document: &str| {
                std::fs::write(&xml, document).unwrap();
                std::process::Command::new("xmlsec1")
                    .args(["--verify", "--pubkey-cert-pem"])
                    .arg(&pem)
                    .args(["--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"])
                    .args(["--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response"])
                    .arg(&xml)
                    .output()
                    .unwrap()
            };
            // xmlsec1 checks the first signature: the assertion's, then (both signed) the response's.
            for what in [SignWhat::Assertion, SignWhat::Both] {
                let built = spec(what).build(&signer(&c)).unwrap();
                let out = xmlsec1(&built.xml);
                assert!(out.status.success(), "{size:?} {what:?}: {}", String::from_utf8_lossy(&out.stderr));
                let changed = built.xml.replace("jane@example.com</saml:NameID>", "joe@example.com</saml:NameID>");
                assert!(!xmlsec1(&changed).status.success(), "{size:?} {what:?}: a changed assertion must fail");
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
