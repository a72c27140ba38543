//! SAML 2.0 as a service provider speaks it, for portal sign-in through an external identity
//! provider (Okta, Entra ID, ZITADEL, pysaml2): our SP metadata, the IdP's metadata, the
//! AuthnRequest over HTTP-Redirect, and fail-closed validation of the Response posted back.
//!
//! Validation trusts only the configured certificates and reads every claim from the element a
//! valid signature covers, found by position (the one Assertion child of the Response), never by
//! searching the document: that is what defeats signature wrapping.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration, Utc};
use std::io::Write;
use uppsala::{Document, NodeId};

use crate::dom::Tree;
use crate::metadata::{self, METADATA_NS, POST_BINDING, REDIRECT_BINDING};
use crate::response::{BEARER, SUCCESS};
use crate::{ASSERTION_NS, DSIG_NS, PROTOCOL_NS, Result, SamlError, instant, new_id, sign};

/// The NameID format we ask for and announce.
pub const EMAIL_ADDRESS: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
/// What a NameID without a Format means (SAML core 8.3.1).
const UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
/// A Response is a few KiB; anything near this is an attack on the parser or the verifier.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;
const MAX_RESPONSE_BASE64: usize = MAX_RESPONSE_BYTES.div_ceil(3) * 4;
/// The most clock skew validation tolerates, whatever the caller asks for.
pub const MAX_SKEW: Duration = Duration::minutes(3);
/// SAML bindings 3.4.3: RelayState MUST NOT exceed 80 bytes.
const MAX_RELAY_STATE: usize = 80;
/// Untrusted text kept in a Rejection (for the audit log) is cut to this many characters.
const MAX_REPORTED_CHARS: usize = 256;

fn invalid(why: impl Into<String>) -> SamlError {
    SamlError::Invalid(why.into())
}

// ─── Metadata ───

/// Our SP metadata, for the administrator to give the identity provider: assertions must be
/// signed, requests are not, responses come by HTTP-POST to `acs_url`.
pub fn sp_metadata(entity_id: &str, acs_url: &str) -> String {
    let mut t = Tree::new();
    let entity = t.element(None, METADATA_NS, "md", "EntityDescriptor");
    t.declare(entity, "md", METADATA_NS);
    t.attr(entity, "entityID", entity_id);
    let sp = t.element(Some(entity), METADATA_NS, "md", "SPSSODescriptor");
    t.attr(sp, "AuthnRequestsSigned", "false");
    t.attr(sp, "WantAssertionsSigned", "true");
    t.attr(sp, "protocolSupportEnumeration", PROTOCOL_NS);
    t.text_element(sp, METADATA_NS, "md", "NameIDFormat", EMAIL_ADDRESS);
    let acs = t.element(Some(sp), METADATA_NS, "md", "AssertionConsumerService");
    t.attr(acs, "Binding", POST_BINDING);
    t.attr(acs, "Location", acs_url);
    t.attr(acs, "index", "0");
    t.attr(acs, "isDefault", "true");
    t.doc.to_xml()
}

/// What an identity provider's metadata says that sign-in needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpMetadata {
    pub entity_id: String,
    pub sso_redirect_url: Option<String>,
    pub sso_post_url: Option<String>,
    /// The certificates that may sign its responses (PEM), in document order.
    pub certificates_pem: Vec<String>,
}

/// Parse uploaded IdP metadata: an EntityDescriptor, or the first one with a SAML 2.0
/// IDPSSODescriptor in an EntitiesDescriptor.
pub fn parse_idp_metadata(xml: &str) -> Result<IdpMetadata> {
    let doc = crate::parse_untrusted(xml)?;
    let root = doc.document_element().ok_or_else(|| invalid("the metadata is empty"))?;
    let entities = if metadata::is(&doc, root, "EntityDescriptor") {
        vec![root]
    } else if metadata::is(&doc, root, "EntitiesDescriptor") {
        doc.descendants(root).into_iter().filter(|&n| metadata::is(&doc, n, "EntityDescriptor")).collect()
    } else {
        return Err(invalid("this is not SAML 2.0 metadata (no md:EntityDescriptor)"));
    };
    let (entity, idp) = entities
        .into_iter()
        .find_map(|e| saml2_idp_descriptor(&doc, e).map(|d| (e, d)))
        .ok_or_else(|| invalid("the metadata has no SAML 2.0 IDPSSODescriptor"))?;
    let entity_id = doc.get_attribute(entity, "entityID").unwrap_or_default().trim().to_string();
    if entity_id.is_empty() {
        return Err(invalid("the metadata has no entityID"));
    }
    let (sso_redirect_url, sso_post_url) = (sso_location(&doc, idp, REDIRECT_BINDING), sso_location(&doc, idp, POST_BINDING));
    if sso_redirect_url.is_none() && sso_post_url.is_none() {
        return Err(invalid("the IDPSSODescriptor has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding"));
    }
    let certificates_pem = signing_certificates(&doc, idp)?;
    if certificates_pem.is_empty() {
        return Err(invalid("the IDPSSODescriptor has no signing certificate"));
    }
    Ok(IdpMetadata { entity_id, sso_redirect_url, sso_post_url, certificates_pem })
}

fn saml2_idp_descriptor(doc: &Document<'_>, entity: NodeId) -> Option<NodeId> {
    metadata::children(doc, entity, "IDPSSODescriptor")
        .into_iter()
        .find(|&d| doc.get_attribute(d, "protocolSupportEnumeration").is_some_and(|p| p.split_whitespace().any(|p| p == PROTOCOL_NS)))
}

fn sso_location(doc: &Document<'_>, idp: NodeId, binding: &str) -> Option<String> {
    metadata::children(doc, idp, "SingleSignOnService")
        .into_iter()
        .filter(|&s| doc.get_attribute(s, "Binding") == Some(binding))
        .filter_map(|s| doc.get_attribute(s, "Location").map(|l| l.trim().to_string()))
        .find(|l| !l.is_empty())
}

/// Certificates of KeyDescriptors for signing (no `use` means signing and encryption).
fn signing_certificates(doc: &Document<'_>, idp: NodeId) -> Result<Vec<String>> {
    let mut pems: Vec<String> = Vec::new();
    for descriptor in metadata::children(doc, idp, "KeyDescriptor") {
        if doc.get_attribute(descriptor, "use").is_some_and(|u| u != "signing") {
            continue;
        }
        for cert in doc.descendants(descriptor).into_iter().filter(|&n| is_in(doc, n, DSIG_NS, "X509Certificate")) {
            let pem = metadata::pem_of(&doc.text_content_deep(cert))?;
            if !pems.contains(&pem) {
                pems.push(pem);
            }
        }
    }
    Ok(pems)
}

// ─── AuthnRequest ───

/// An unsigned AuthnRequest for the IdP's HTTP-Redirect endpoint. Returns the request's ID (for
/// the caller to remember and match against the Response's InResponseTo) and the URL to send
/// the browser to.
pub fn authn_request_redirect(
    sp_entity_id: &str,
    acs_url: &str,
    idp_sso_url: &str,
    relay_state: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(String, String)> {
    if idp_sso_url.contains('#') {
        return Err(invalid("the identity provider's sign-in URL must not have a fragment"));
    }
    if relay_state.is_some_and(|r| r.len() > MAX_RELAY_STATE) {
        return Err(invalid(format!("RelayState must be at most {MAX_RELAY_STATE} bytes")));
    }
    let id = new_id()?;
    let xml = authn_request_xml(&id, sp_entity_id, acs_url, idp_sso_url, now);
    let mut query = format!("SAMLRequest={}", percent(&deflate_base64(&xml)?));
    if let Some(relay) = relay_state {
        query.push_str(&format!("&RelayState={}", percent(relay)));
    }
    let separator = match idp_sso_url.find('?') {
        None => "?",
        Some(_) if idp_sso_url.ends_with(['?', '&']) => "",
        Some(_) => "&",
    };
    Ok((id, format!("{idp_sso_url}{separator}{query}")))
}

fn authn_request_xml(id: &str, sp_entity_id: &str, acs_url: &str, idp_sso_url: &str, now: DateTime<Utc>) -> String {
    let mut t = Tree::new();
    let request = t.element(None, PROTOCOL_NS, "samlp", "AuthnRequest");
    t.declare(request, "samlp", PROTOCOL_NS);
    t.declare(request, "saml", ASSERTION_NS);
    t.attr(request, "ID", id);
    t.attr(request, "Version", "2.0");
    t.attr(request, "IssueInstant", &instant(now));
    t.attr(request, "Destination", idp_sso_url);
    t.attr(request, "AssertionConsumerServiceURL", acs_url);
    t.attr(request, "ProtocolBinding", POST_BINDING);
    t.text_element(request, ASSERTION_NS, "saml", "Issuer", sp_entity_id);
    let policy = t.element(Some(request), PROTOCOL_NS, "samlp", "NameIDPolicy");
    t.attr(policy, "Format", EMAIL_ADDRESS);
    t.attr(policy, "AllowCreate", "false");
    t.doc.to_xml()
}

/// The HTTP-Redirect encoding: raw DEFLATE (no zlib header), then base64.
fn deflate_base64(xml: &str) -> Result<String> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(xml.as_bytes()).map_err(|e| SamlError::Crypto(format!("deflate: {e}")))?;
    Ok(STANDARD.encode(encoder.finish().map_err(|e| SamlError::Crypto(format!("deflate: {e}")))?))
}

fn percent(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

// ─── Response validation ───

/// What the Response must match: our own names, the configured IdP, and the time.
#[derive(Debug, Clone, Copy)]
pub struct Expectations<'a> {
    pub sp_entity_id: &'a str,
    pub acs_url: &'a str,
    pub idp_entity_id: &'a str,
    /// The IdP's signing certificates (PEM); any of them may have signed (rollover).
    pub trusted_cert_pems: &'a [&'a str],
    /// Accept RSA-SHA1 signatures and SHA-1 digests (older IdPs only).
    pub allow_sha1: bool,
    pub now: DateTime<Utc>,
    /// Allowed clock skew; at most [`MAX_SKEW`] (3 minutes) is used.
    pub max_skew: Duration,
}

/// A validated sign-in, read only from the signed Assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalLogin {
    pub response_id: String,
    pub assertion_id: String,
    pub issuer: String,
    pub name_id: String,
    pub name_id_format: String,
    /// The AuthnRequest this answers (from the signed confirmation, or from the Response when the
    /// Response is signed); None for IdP-initiated sign-in. The caller checks it against the
    /// requests it has outstanding.
    pub in_response_to: Option<String>,
    /// When the assertion stops being usable (for the caller's replay cache expiry: keep the
    /// assertion ID until this instant plus the skew).
    pub not_on_or_after: DateTime<Utc>,
    pub session_not_on_or_after: Option<DateTime<Utc>>,
    /// Attribute names with their values, in document order.
    pub attributes: Vec<(String, Vec<String>)>,
    /// Names of attributes with a value that holds XML elements rather than text (their text
    /// above is flattened; callers that need plain values refuse these).
    pub structured_attributes: Vec<String>,
}

/// Why a Response was refused: one variant per check, for the audit log. Strings are the
/// untrusted values found (cut short), never trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the SAMLResponse is larger than 256 KiB")]
    TooLarge,
    #[error("the SAMLResponse is not base64")]
    NotBase64,
    #[error("the SAMLResponse is not UTF-8")]
    NotUtf8,
    /// Includes any DOCTYPE (no DTDs, no entities).
    #[error("the SAMLResponse is not acceptable XML: {0}")]
    MalformedXml(String),
    #[error("the document is not a SAML 2.0 Response")]
    NotAResponse,
    #[error("SAML version {0:?} is not 2.0")]
    WrongVersion(String),
    #[error("the Response is addressed to {0:?}, not this service provider's ACS URL")]
    WrongDestination(String),
    #[error("the identity provider did not sign the user in: {}", status_text(.code, .sub_code, .message))]
    Status { code: String, sub_code: Option<String>, message: Option<String> },
    #[error("encrypted assertions are not supported")]
    EncryptedAssertion,
    #[error("the Response has no Assertion")]
    NoAssertion,
    #[error("the Response has more than one Assertion")]
    MultipleAssertions,
    #[error("the Response is not signed")]
    Unsigned,
    #[error("a signature does not verify with the identity provider's certificate: {0}")]
    InvalidSignature(String),
    /// Signatures verified, but none covers the Assertion (or its Response): signature wrapping.
    #[error("no valid signature covers the Assertion")]
    AssertionNotSigned,
    #[error("SHA-1 is not allowed for this identity provider: {0}")]
    WeakAlgorithm(String),
    #[error("unsupported signature: {0}")]
    UnsupportedSignature(String),
    /// A configuration problem: a trusted certificate does not load, or there is none.
    #[error("{0}")]
    TrustedCertificate(String),
    #[error("{0} is missing")]
    Missing(&'static str),
    #[error("issued by {0:?}, not the configured identity provider")]
    WrongIssuer(String),
    #[error("the Subject has no NameID")]
    NoNameId,
    #[error("the Subject has no bearer SubjectConfirmation")]
    NoBearerConfirmation,
    #[error("the confirmation's Recipient {0:?} is not this service provider's ACS URL")]
    WrongRecipient(String),
    #[error("the Response and its Assertion answer different requests (InResponseTo)")]
    InResponseToMismatch,
    #[error("{0} has expired")]
    Expired(&'static str),
    #[error("{0} is not yet valid")]
    NotYetValid(&'static str),
    #[error("{0:?} is not a SAML dateTime")]
    BadTime(String),
    #[error("the condition {0} is not understood")]
    UnsupportedCondition(String),
    #[error("this service provider is not in the Assertion's audience")]
    WrongAudience,
}

fn status_text(code: &str, sub_code: &Option<String>, message: &Option<String>) -> String {
    let short = |c: &str| c.strip_prefix("urn:oasis:names:tc:SAML:2.0:status:").unwrap_or(c).to_string();
    let mut text = if code.is_empty() { "no status code".to_string() } else { short(code) };
    if let Some(sub) = sub_code {
        text.push_str(&format!("/{}", short(sub)));
    }
    if let Some(message) = message {
        text.push_str(&format!(" ({message})"));
    }
    text
}

/// Validate a posted `SAMLResponse` (base64, as the form carries it). Fail-closed: anything not
/// positively checked is refused. Replay (the assertion ID) and InResponseTo against outstanding
/// requests are the caller's to check, with what this returns.
pub fn validate_response(saml_response_base64: &str, expect: &Expectations) -> std::result::Result<ExternalLogin, Rejection> {
    let xml = decode(saml_response_base64)?;
    let doc = crate::parse_untrusted(&xml).map_err(|e| Rejection::MalformedXml(clip(&e.to_string())))?;
    let response = doc.document_element().filter(|&r| is_in(&doc, r, PROTOCOL_NS, "Response")).ok_or(Rejection::NotAResponse)?;
    check_envelope(&doc, response, expect)?;
    let assertion = the_assertion(&doc, response)?;
    let response_signed = check_signatures(&xml, &doc, response, assertion, expect)?;
    read_login(&doc, response, assertion, response_signed, expect)
}

fn decode(input: &str) -> std::result::Result<String, Rejection> {
    // Line-wrapped base64 is common; a generous bound on the raw length keeps stripping cheap.
    if input.len() > 2 * MAX_RESPONSE_BASE64 {
        return Err(Rejection::TooLarge);
    }
    let compact: String = input.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.len() > MAX_RESPONSE_BASE64 {
        return Err(Rejection::TooLarge);
    }
    let bytes = STANDARD.decode(compact).map_err(|_| Rejection::NotBase64)?;
    if bytes.len() > MAX_RESPONSE_BYTES {
        return Err(Rejection::TooLarge);
    }
    String::from_utf8(bytes).map_err(|_| Rejection::NotUtf8)
}

/// The Response's own fields. They may be unsigned (when only the Assertion is), so they can
/// only make us refuse, never vouch for anything.
fn check_envelope(doc: &Document<'_>, response: NodeId, expect: &Expectations) -> std::result::Result<(), Rejection> {
    check_version(doc, response)?;
    if let Some(destination) = doc.get_attribute(response, "Destination")
        && destination != expect.acs_url
    {
        return Err(Rejection::WrongDestination(clip(destination)));
    }
    check_status(doc, response)?;
    if let Some(issuer) = saml_child(doc, response, "Issuer") {
        check_issuer(doc, issuer, expect)?;
    }
    Ok(())
}

fn check_version(doc: &Document<'_>, node: NodeId) -> std::result::Result<(), Rejection> {
    match doc.get_attribute(node, "Version") {
        Some("2.0") => Ok(()),
        other => Err(Rejection::WrongVersion(clip(other.unwrap_or_default()))),
    }
}

fn check_status(doc: &Document<'_>, response: NodeId) -> std::result::Result<(), Rejection> {
    let status = child_in(doc, response, PROTOCOL_NS, "Status").ok_or(Rejection::Missing("Status"))?;
    let code = child_in(doc, status, PROTOCOL_NS, "StatusCode");
    let value = |c: Option<NodeId>| c.and_then(|c| doc.get_attribute(c, "Value")).map(clip);
    let top = value(code).unwrap_or_default();
    if top == SUCCESS {
        return Ok(());
    }
    Err(Rejection::Status {
        code: top,
        sub_code: value(code.and_then(|c| child_in(doc, c, PROTOCOL_NS, "StatusCode"))),
        message: child_in(doc, status, PROTOCOL_NS, "StatusMessage").map(|m| clip(doc.text_content_deep(m).trim())),
    })
}

fn check_issuer(doc: &Document<'_>, issuer: NodeId, expect: &Expectations) -> std::result::Result<String, Rejection> {
    let found = doc.text_content_deep(issuer).trim().to_string();
    if found != expect.idp_entity_id {
        return Err(Rejection::WrongIssuer(clip(&found)));
    }
    Ok(found)
}

/// The one Assertion, a direct child of the Response: a second one, or one elsewhere, is how
/// wrapping attacks smuggle unsigned claims next to signed ones.
fn the_assertion(doc: &Document<'_>, response: NodeId) -> std::result::Result<NodeId, Rejection> {
    if saml_child(doc, response, "EncryptedAssertion").is_some() {
        return Err(Rejection::EncryptedAssertion);
    }
    match saml_children(doc, response, "Assertion")[..] {
        [assertion] => Ok(assertion),
        [] => Err(Rejection::NoAssertion),
        _ => Err(Rejection::MultipleAssertions),
    }
}

/// Every signature must be acceptable and valid with a trusted key, and one must cover the
/// Response or the Assertion itself. Returns whether the Response is covered.
fn check_signatures(
    xml: &str,
    doc: &Document<'_>,
    response: NodeId,
    assertion: NodeId,
    expect: &Expectations,
) -> std::result::Result<bool, Rejection> {
    let signatures = sign::signatures(doc);
    if signatures.is_empty() {
        return Err(Rejection::Unsigned);
    }
    // Policy first, so a disallowed algorithm or transform never reaches the verifier.
    for &signature in &signatures {
        check_algorithms(doc, signature, expect.allow_sha1)?;
    }
    if expect.trusted_cert_pems.is_empty() {
        return Err(Rejection::TrustedCertificate("trusted certificate: none is configured".into()));
    }
    let covered = sign::covered_nodes(xml, doc, expect.trusted_cert_pems).map_err(|e| match e {
        SamlError::Invalid(why) => Rejection::TrustedCertificate(why),
        SamlError::Signature(why) | SamlError::Crypto(why) => Rejection::InvalidSignature(clip(&why)),
    })?;
    if covered.contains(&response) {
        Ok(true)
    } else if covered.contains(&assertion) {
        Ok(false)
    } else {
        Err(Rejection::AssertionNotSigned)
    }
}

/// Only RSA with SHA-2 (SHA-1 if allowed), SHA-2 digests, canonicalization and same-document
/// references with enveloped-signature and canonicalization transforms.
fn check_algorithms(doc: &Document<'_>, signature: NodeId, allow_sha1: bool) -> std::result::Result<(), Rejection> {
    use bergshamra::core::algorithm as a;
    const C14N: [&str; 6] = [a::EXC_C14N, a::EXC_C14N_WITH_COMMENTS, a::C14N, a::C14N_WITH_COMMENTS, a::C14N11, a::C14N11_WITH_COMMENTS];
    if let Some(why) = sign::unsafe_reference(doc, signature) {
        return Err(Rejection::UnsupportedSignature(clip(&why)));
    }
    let [info] = children_in(doc, signature, DSIG_NS, "SignedInfo")[..] else {
        return Err(Rejection::UnsupportedSignature("a Signature needs exactly one SignedInfo".into()));
    };
    let algorithm = |n: NodeId| doc.get_attribute(n, "Algorithm").unwrap_or_default();
    for method in children_in(doc, info, DSIG_NS, "CanonicalizationMethod") {
        allowed(algorithm(method), &C14N, None, allow_sha1)?;
    }
    for method in children_in(doc, info, DSIG_NS, "SignatureMethod") {
        allowed(algorithm(method), &[a::RSA_SHA256, a::RSA_SHA384, a::RSA_SHA512], Some(a::RSA_SHA1), allow_sha1)?;
    }
    for reference in children_in(doc, info, DSIG_NS, "Reference") {
        for method in children_in(doc, reference, DSIG_NS, "DigestMethod") {
            allowed(algorithm(method), &[a::SHA256, a::SHA384, a::SHA512], Some(a::SHA1), allow_sha1)?;
        }
    }
    Ok(())
}

fn allowed(uri: &str, strong: &[&str], sha1: Option<&str>, allow_sha1: bool) -> std::result::Result<(), Rejection> {
    match sha1 {
        _ if strong.contains(&uri) => Ok(()),
        Some(sha1) if uri == sha1 && allow_sha1 => Ok(()),
        Some(sha1) if uri == sha1 => Err(Rejection::WeakAlgorithm(uri.to_string())),
        _ => Err(Rejection::UnsupportedSignature(format!("algorithm {:?} is not allowed", clip(uri)))),
    }
}

/// Now and the tolerated skew.
#[derive(Clone, Copy)]
struct Window {
    now: DateTime<Utc>,
    skew: Duration,
}

impl Window {
    fn of(expect: &Expectations) -> Self {
        Window { now: expect.now, skew: expect.max_skew.clamp(Duration::zero(), MAX_SKEW) }
    }

    fn check_not_on_or_after(self, end: DateTime<Utc>, what: &'static str) -> std::result::Result<(), Rejection> {
        if end > self.now - self.skew { Ok(()) } else { Err(Rejection::Expired(what)) }
    }

    fn check_not_before(self, start: DateTime<Utc>, what: &'static str) -> std::result::Result<(), Rejection> {
        if start <= self.now + self.skew { Ok(()) } else { Err(Rejection::NotYetValid(what)) }
    }
}

/// The claims, from the covered Assertion only (and direct-child paths only: a Signature inside
/// the Assertion is outside its own digest).
fn read_login(
    doc: &Document<'_>,
    response: NodeId,
    assertion: NodeId,
    response_signed: bool,
    expect: &Expectations,
) -> std::result::Result<ExternalLogin, Rejection> {
    let window = Window::of(expect);
    check_version(doc, assertion)?;
    let id = |n: NodeId, what| doc.get_attribute(n, "ID").filter(|id| !id.is_empty()).map(str::to_string).ok_or(Rejection::Missing(what));
    let response_id = id(response, "the Response's ID")?;
    let assertion_id = id(assertion, "the Assertion's ID")?;
    let issuer = check_issuer(doc, saml_child(doc, assertion, "Issuer").ok_or(Rejection::Missing("the Assertion's Issuer"))?, expect)?;
    let subject = saml_child(doc, assertion, "Subject").ok_or(Rejection::Missing("Subject"))?;
    let (name_id, name_id_format) = read_name_id(doc, subject)?;
    let response_in_response_to = doc.get_attribute(response, "InResponseTo");
    let (confirmed_until, confirmed_in_response_to) = bearer_confirmation(doc, subject, response_in_response_to, expect, window)?;
    let conditions_until = check_conditions(doc, assertion, expect, window)?;
    let session_not_on_or_after = read_authn_statement(doc, assertion)?;
    // An unsigned Response's InResponseTo could be rewritten to pass an unsolicited assertion off
    // as the answer to a request: trust it only when signed.
    let in_response_to = confirmed_in_response_to.or_else(|| response_in_response_to.filter(|_| response_signed).map(str::to_string));
    Ok(ExternalLogin {
        response_id,
        assertion_id,
        issuer,
        name_id,
        name_id_format,
        in_response_to,
        not_on_or_after: conditions_until.map_or(confirmed_until, |c| c.min(confirmed_until)),
        session_not_on_or_after,
        attributes: read_attributes(doc, assertion),
        structured_attributes: structured_attributes(doc, assertion),
    })
}

/// The NameID's text is every text node in it, joined: stopping at a comment would let
/// `alice@example.com<!---->.evil.com` sign in as alice@example.com.
fn read_name_id(doc: &Document<'_>, subject: NodeId) -> std::result::Result<(String, String), Rejection> {
    let name_id = saml_child(doc, subject, "NameID").ok_or(Rejection::NoNameId)?;
    let value = doc.text_content_deep(name_id).trim().to_string();
    if value.is_empty() {
        return Err(Rejection::NoNameId);
    }
    let format = doc.get_attribute(name_id, "Format").unwrap_or(UNSPECIFIED).to_string();
    Ok((value, format))
}

/// The first bearer confirmation that holds; else why the first one does not. Returns its end and
/// its InResponseTo.
fn bearer_confirmation(
    doc: &Document<'_>,
    subject: NodeId,
    response_in_response_to: Option<&str>,
    expect: &Expectations,
    window: Window,
) -> std::result::Result<(DateTime<Utc>, Option<String>), Rejection> {
    let mut first_refusal = None;
    for confirmation in saml_children(doc, subject, "SubjectConfirmation") {
        if doc.get_attribute(confirmation, "Method") != Some(BEARER) {
            continue;
        }
        match check_confirmation(doc, confirmation, response_in_response_to, expect, window) {
            Ok(confirmed) => return Ok(confirmed),
            Err(refusal) => {
                first_refusal.get_or_insert(refusal);
            }
        }
    }
    Err(first_refusal.unwrap_or(Rejection::NoBearerConfirmation))
}

fn check_confirmation(
    doc: &Document<'_>,
    confirmation: NodeId,
    response_in_response_to: Option<&str>,
    expect: &Expectations,
    window: Window,
) -> std::result::Result<(DateTime<Utc>, Option<String>), Rejection> {
    const WHAT: &str = "SubjectConfirmationData";
    let data = saml_child(doc, confirmation, WHAT).ok_or(Rejection::Missing(WHAT))?;
    let recipient = doc.get_attribute(data, "Recipient").unwrap_or_default();
    if recipient != expect.acs_url {
        return Err(Rejection::WrongRecipient(clip(recipient)));
    }
    let end = parse_time(doc.get_attribute(data, "NotOnOrAfter").ok_or(Rejection::Missing("SubjectConfirmationData's NotOnOrAfter"))?)?;
    window.check_not_on_or_after(end, WHAT)?;
    if let Some(start) = doc.get_attribute(data, "NotBefore") {
        window.check_not_before(parse_time(start)?, WHAT)?;
    }
    let in_response_to = doc.get_attribute(data, "InResponseTo");
    if let (Some(outer), Some(inner)) = (response_in_response_to, in_response_to)
        && outer != inner
    {
        return Err(Rejection::InResponseToMismatch);
    }
    Ok((end, in_response_to.map(str::to_string)))
}

/// Every Conditions' time window and every AudienceRestriction must hold (SAML core 2.5.1), and
/// a condition we do not understand makes the assertion invalid. Returns the earliest
/// NotOnOrAfter.
fn check_conditions(
    doc: &Document<'_>,
    assertion: NodeId,
    expect: &Expectations,
    window: Window,
) -> std::result::Result<Option<DateTime<Utc>>, Rejection> {
    let all = saml_children(doc, assertion, "Conditions");
    if all.is_empty() {
        return Err(Rejection::Missing("Conditions"));
    }
    let (mut until, mut restrictions) = (None::<DateTime<Utc>>, 0);
    for conditions in all {
        if let Some(start) = doc.get_attribute(conditions, "NotBefore") {
            window.check_not_before(parse_time(start)?, "Conditions")?;
        }
        if let Some(end) = doc.get_attribute(conditions, "NotOnOrAfter") {
            let end = parse_time(end)?;
            window.check_not_on_or_after(end, "Conditions")?;
            until = Some(until.map_or(end, |u| u.min(end)));
        }
        for condition in doc.children(conditions).into_iter().filter(|&c| doc.element(c).is_some()) {
            if is_in(doc, condition, ASSERTION_NS, "AudienceRestriction") {
                restrictions += 1;
                let ours =
                    saml_children(doc, condition, "Audience").into_iter().any(|a| doc.text_content_deep(a).trim() == expect.sp_entity_id);
                if !ours {
                    return Err(Rejection::WrongAudience);
                }
            } else if !(is_in(doc, condition, ASSERTION_NS, "OneTimeUse") || is_in(doc, condition, ASSERTION_NS, "ProxyRestriction")) {
                // OneTimeUse is the caller's replay cache; we never proxy assertions.
                let name = doc.element(condition).map(|e| e.name.local_name.to_string()).unwrap_or_default();
                return Err(Rejection::UnsupportedCondition(clip(&name)));
            }
        }
    }
    if restrictions == 0 {
        return Err(Rejection::Missing("AudienceRestriction"));
    }
    Ok(until)
}

/// Web SSO requires an AuthnStatement in the bearer assertion (SAML profiles 4.1.4.2).
fn read_authn_statement(doc: &Document<'_>, assertion: NodeId) -> std::result::Result<Option<DateTime<Utc>>, Rejection> {
    let statement = saml_child(doc, assertion, "AuthnStatement").ok_or(Rejection::Missing("AuthnStatement"))?;
    doc.get_attribute(statement, "SessionNotOnOrAfter").map(parse_time).transpose()
}

fn read_attributes(doc: &Document<'_>, assertion: NodeId) -> Vec<(String, Vec<String>)> {
    saml_children(doc, assertion, "AttributeStatement")
        .into_iter()
        .flat_map(|s| saml_children(doc, s, "Attribute"))
        .map(|attribute| {
            let values = saml_children(doc, attribute, "AttributeValue").into_iter().map(|v| doc.text_content_deep(v)).collect();
            (doc.get_attribute(attribute, "Name").unwrap_or_default().to_string(), values)
        })
        .collect()
}

fn structured_attributes(doc: &Document<'_>, assertion: NodeId) -> Vec<String> {
    saml_children(doc, assertion, "AttributeStatement")
        .into_iter()
        .flat_map(|s| saml_children(doc, s, "Attribute"))
        .filter(|&attribute| {
            saml_children(doc, attribute, "AttributeValue")
                .into_iter()
                .any(|v| doc.children(v).into_iter().any(|c| doc.element(c).is_some()))
        })
        .map(|attribute| doc.get_attribute(attribute, "Name").unwrap_or_default().to_string())
        .collect()
}

/// A SAML dateTime (xs:dateTime in UTC; fractional seconds allowed).
fn parse_time(value: &str) -> std::result::Result<DateTime<Utc>, Rejection> {
    DateTime::parse_from_rfc3339(value.trim()).map(|t| t.with_timezone(&Utc)).map_err(|_| Rejection::BadTime(clip(value)))
}

/// Untrusted text, cut short for a log line.
fn clip(value: &str) -> String {
    value.chars().take(MAX_REPORTED_CHARS).collect()
}

fn is_in(doc: &Document<'_>, node: NodeId, ns: &str, local: &str) -> bool {
    doc.element(node).is_some_and(|e| e.name.matches(Some(ns), local))
}

fn children_in(doc: &Document<'_>, node: NodeId, ns: &str, local: &str) -> Vec<NodeId> {
    doc.children(node).into_iter().filter(|&c| is_in(doc, c, ns, local)).collect()
}

fn child_in(doc: &Document<'_>, node: NodeId, ns: &str, local: &str) -> Option<NodeId> {
    doc.children(node).into_iter().find(|&c| is_in(doc, c, ns, local))
}

fn saml_children(doc: &Document<'_>, node: NodeId, local: &str) -> Vec<NodeId> {
    children_in(doc, node, ASSERTION_NS, local)
}

fn saml_child(doc: &Document<'_>, node: NodeId, local: &str) -> Option<NodeId> {
    child_in(doc, node, ASSERTION_NS, local)
}

/// The regression corpus: genuine responses from the crate's own IdP side, then each way a
/// response must be refused.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert::{self, Certificate, KeySize, SignatureAlgorithm};
    use crate::metadata::{idp_metadata, parse_sp_metadata};
    use crate::response::{Attribute, NameId, ResponseSpec, SignWhat};
    use crate::{Signer, authn_request};
    use std::sync::OnceLock;

    const IDP: &str = "https://idp.example.org/saml2/idp";
    const SP: &str = "https://gatehouse.example.com/saml/sp";
    const ACS: &str = "https://gatehouse.example.com/saml/acs";

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    // Key generation is slow: each certificate is made once per run.
    fn idp_cert() -> &'static Certificate {
        static C: OnceLock<Certificate> = OnceLock::new();
        C.get_or_init(|| cert::generate("idp", KeySize::Rsa2048, SignatureAlgorithm::Sha256, 12, now()).unwrap())
    }

    fn foreign_cert() -> &'static Certificate {
        static C: OnceLock<Certificate> = OnceLock::new();
        C.get_or_init(|| cert::generate("attacker", KeySize::Rsa2048, SignatureAlgorithm::Sha256, 12, now()).unwrap())
    }

    fn sha1_cert() -> &'static Certificate {
        static C: OnceLock<Certificate> = OnceLock::new();
        C.get_or_init(|| cert::generate("old idp", KeySize::Rsa1024, SignatureAlgorithm::Sha1, 12, now()).unwrap())
    }

    fn signer(c: &Certificate) -> Signer {
        Signer::new(&c.key_pem, &c.cert_der, c.algorithm).unwrap()
    }

    fn spec(sign: SignWhat) -> ResponseSpec {
        let basic = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic".to_string();
        ResponseSpec {
            issuer: IDP.into(),
            acs_url: ACS.into(),
            audience: SP.into(),
            in_response_to: Some("_req-1".into()),
            name_id: NameId { value: "alice@example.com".into(), format: EMAIL_ADDRESS.into() },
            attributes: vec![
                Attribute { name: "email".into(), name_format: basic.clone(), values: vec!["alice@example.com".into()] },
                Attribute { name: "groups".into(), name_format: basic, values: vec!["admins".into(), "dev & ops".into()] },
            ],
            now: now(),
            not_before: now() - Duration::seconds(60),
            not_on_or_after: now() + Duration::minutes(5),
            authn_instant: now(),
            session_index: "s-1".into(),
            sign,
        }
    }

    fn genuine(sign: SignWhat) -> String {
        spec(sign).build(&signer(idp_cert())).unwrap().xml
    }

    fn trusted() -> [&'static str; 1] {
        [idp_cert().cert_pem.as_str()]
    }

    fn expectations<'a>(trusted: &'a [&'a str]) -> Expectations<'a> {
        Expectations {
            sp_entity_id: SP,
            acs_url: ACS,
            idp_entity_id: IDP,
            trusted_cert_pems: trusted,
            allow_sha1: false,
            now: now(),
            max_skew: Duration::minutes(3),
        }
    }

    fn check(xml: &str, expect: &Expectations) -> std::result::Result<ExternalLogin, Rejection> {
        validate_response(&STANDARD.encode(xml), expect)
    }

    fn validate(xml: &str) -> std::result::Result<ExternalLogin, Rejection> {
        check(xml, &expectations(&trusted()))
    }

    // ─── Tree surgery, for building what an attacker (or an odd IdP) would send ───

    fn tree(xml: &str) -> Tree {
        Tree { doc: uppsala::parse(xml).unwrap().into_static() }
    }

    fn root(t: &Tree) -> NodeId {
        t.doc.document_element().unwrap()
    }

    fn first(t: &Tree, node: NodeId, ns: &str, local: &str) -> NodeId {
        child_in(&t.doc, node, ns, local).unwrap_or_else(|| panic!("no {local}"))
    }

    fn set_attr(t: &mut Tree, node: NodeId, name: &'static str, value: &str) {
        t.doc.element_mut(node).unwrap().remove_attribute(name);
        t.attr(node, name, value);
    }

    fn remove_signatures_under(t: &mut Tree, node: NodeId) {
        let signatures: Vec<_> = t.doc.descendants(node).into_iter().filter(|&n| is_in(&t.doc, n, DSIG_NS, "Signature")).collect();
        for s in signatures {
            t.doc.detach(s);
        }
    }

    fn name_id(t: &Tree, assertion: NodeId) -> NodeId {
        let subject = first(t, assertion, ASSERTION_NS, "Subject");
        first(t, subject, ASSERTION_NS, "NameID")
    }

    fn set_text(t: &mut Tree, node: NodeId, text: &str) {
        for c in t.doc.children(node) {
            t.doc.detach(c);
        }
        let text = t.doc.create_text(text.to_string());
        t.doc.append_child(node, text);
    }

    /// A detached copy of the Assertion of `xml`, rewritten to sign in mallory, unsigned.
    fn evil_assertion(t: &mut Tree, xml: &str) -> NodeId {
        let other = uppsala::parse(xml).unwrap();
        let assertion = child_in(&other, other.document_element().unwrap(), ASSERTION_NS, "Assertion").unwrap();
        let evil = t.doc.import_subtree(&other, assertion).unwrap();
        set_attr(t, evil, "ID", "_evil");
        remove_signatures_under(t, evil);
        let name_id = name_id(t, evil);
        set_text(t, name_id, "mallory@example.com");
        evil
    }

    /// Sign `node` as the IdP does: an enveloped signature after its Issuer.
    fn sign_node(t: &mut Tree, node: NodeId, signer: &Signer) {
        let issuer = first(t, node, ASSERTION_NS, "Issuer");
        let id = t.doc.get_attribute(node, "ID").unwrap().to_string();
        signer.sign_after(t, node, issuer, &id).unwrap();
    }

    /// `xml` with every signature removed, `edit` applied to (Response, Assertion), and then
    /// signed by the IdP as `sign` says: a genuine signature over whatever the edit made.
    fn resign(xml: &str, sign: Option<SignWhat>, edit: impl FnOnce(&mut Tree, NodeId, NodeId)) -> String {
        let mut t = tree(xml);
        let response = root(&t);
        remove_signatures_under(&mut t, response);
        let assertion = first(&t, response, ASSERTION_NS, "Assertion");
        edit(&mut t, response, assertion);
        let signer = signer(idp_cert());
        let assertion = first(&t, response, ASSERTION_NS, "Assertion");
        if matches!(sign, Some(SignWhat::Assertion | SignWhat::Both)) {
            sign_node(&mut t, assertion, &signer);
        }
        if matches!(sign, Some(SignWhat::Response | SignWhat::Both)) {
            sign_node(&mut t, response, &signer);
        }
        t.doc.to_xml()
    }

    // ─── Accepted ───

    #[test]
    fn valid_response_signed_and_assertion_signed_are_accepted() {
        for sign in [SignWhat::Response, SignWhat::Assertion, SignWhat::Both] {
            let built = spec(sign).build(&signer(idp_cert())).unwrap();
            let login = validate(&built.xml).unwrap_or_else(|e| panic!("{sign:?}: {e}"));
            assert_eq!(login.response_id, built.response_id);
            assert_eq!(login.assertion_id, built.assertion_id);
            assert_eq!(login.issuer, IDP);
            assert_eq!((login.name_id.as_str(), login.name_id_format.as_str()), ("alice@example.com", EMAIL_ADDRESS));
            assert_eq!(login.in_response_to.as_deref(), Some("_req-1"));
            assert_eq!(login.not_on_or_after, now() + Duration::minutes(5));
            assert_eq!(login.session_not_on_or_after, Some(now() + Duration::minutes(5)));
            assert_eq!(
                login.attributes,
                vec![
                    ("email".to_string(), vec!["alice@example.com".to_string()]),
                    ("groups".to_string(), vec!["admins".to_string(), "dev & ops".to_string()]),
                ]
            );
        }
    }

    #[test]
    fn any_trusted_certificate_may_have_signed() {
        let trusted = [foreign_cert().cert_pem.as_str(), idp_cert().cert_pem.as_str()];
        assert!(check(&genuine(SignWhat::Assertion), &expectations(&trusted)).is_ok());
    }

    #[test]
    fn within_the_clock_skew_is_accepted() {
        let trusted = trusted();
        let mut expect = expectations(&trusted);
        expect.now = now() + Duration::minutes(5) + Duration::seconds(179);
        assert!(check(&genuine(SignWhat::Response), &expect).is_ok());
        expect.now = now() - Duration::seconds(60 + 180);
        assert!(check(&genuine(SignWhat::Response), &expect).is_ok());
    }

    #[test]
    fn comment_inside_name_id_yields_the_whole_name() {
        for sign in [SignWhat::Response, SignWhat::Assertion] {
            let xml = resign(&genuine(sign), Some(sign), |t, _, assertion| {
                let name_id = name_id(t, assertion);
                set_text(t, name_id, "alice@example.com");
                let comment = t.doc.create_comment("");
                t.doc.append_child(name_id, comment);
                let rest = t.doc.create_text(".evil.com");
                t.doc.append_child(name_id, rest);
            });
            assert!(xml.contains("alice@example.com<!---->.evil.com"), "{xml}");
            assert_eq!(validate(&xml).unwrap().name_id, "alice@example.com.evil.com", "{sign:?}");
        }
    }

    #[test]
    fn sha1_signature_refused_unless_allowed() {
        let xml = spec(SignWhat::Assertion).build(&signer(sha1_cert())).unwrap().xml;
        let trusted = [sha1_cert().cert_pem.as_str()];
        let mut expect = expectations(&trusted);
        assert_eq!(check(&xml, &expect), Err(Rejection::WeakAlgorithm(bergshamra::core::algorithm::RSA_SHA1.into())));
        expect.allow_sha1 = true;
        assert_eq!(check(&xml, &expect).unwrap().name_id, "alice@example.com");
    }

    // ─── Signatures ───

    #[test]
    fn unsigned() {
        let xml = resign(&genuine(SignWhat::Both), None, |_, _, _| {});
        assert_eq!(validate(&xml), Err(Rejection::Unsigned));
    }

    #[test]
    fn signed_by_a_foreign_key() {
        for sign in [SignWhat::Response, SignWhat::Assertion] {
            let xml = spec(sign).build(&signer(foreign_cert())).unwrap().xml;
            assert!(matches!(validate(&xml), Err(Rejection::InvalidSignature(_))), "{sign:?}");
        }
    }

    #[test]
    fn tampered_after_signing() {
        for sign in [SignWhat::Response, SignWhat::Assertion] {
            let xml = genuine(sign).replace("alice@example.com</saml:NameID>", "mallory@example.com</saml:NameID>");
            assert!(matches!(validate(&xml), Err(Rejection::InvalidSignature(_))), "{sign:?}");
        }
    }

    #[test]
    fn an_invalid_signature_anywhere_fails_the_response() {
        // The Response is genuinely signed, but the Assertion inside carries a foreign signature.
        let mut t = tree(&spec(SignWhat::Assertion).build(&signer(foreign_cert())).unwrap().xml);
        let response = root(&t);
        sign_node(&mut t, response, &signer(idp_cert()));
        assert!(matches!(validate(&t.doc.to_xml()), Err(Rejection::InvalidSignature(_))));
    }

    #[test]
    fn disallowed_transform_or_external_reference() {
        let xml = genuine(SignWhat::Assertion);
        let xpath = xml.replace(bergshamra::core::algorithm::ENVELOPED_SIGNATURE, "http://www.w3.org/TR/1999/REC-xpath-19991116");
        assert!(matches!(validate(&xpath), Err(Rejection::UnsupportedSignature(_))));
        let external = xml.replacen("URI=\"#", "URI=\"Cargo.toml#", 1);
        assert!(matches!(validate(&external), Err(Rejection::UnsupportedSignature(_))));
    }

    // ─── Signature wrapping ───

    #[test]
    fn wrapping_evil_assertion_before_the_signed_one() {
        let xml = genuine(SignWhat::Assertion);
        let mut t = tree(&xml);
        let (response, signed) = (root(&t), first(&t, root(&t), ASSERTION_NS, "Assertion"));
        let evil = evil_assertion(&mut t, &xml);
        t.doc.insert_before(response, evil, signed);
        assert_eq!(validate(&t.doc.to_xml()), Err(Rejection::MultipleAssertions));
    }

    #[test]
    fn wrapping_evil_assertion_after_the_signed_one() {
        let xml = genuine(SignWhat::Assertion);
        let mut t = tree(&xml);
        let response = root(&t);
        let evil = evil_assertion(&mut t, &xml);
        t.doc.append_child(response, evil);
        assert_eq!(validate(&t.doc.to_xml()), Err(Rejection::MultipleAssertions));
    }

    #[test]
    fn wrapping_signed_assertion_moved_into_extensions() {
        let xml = genuine(SignWhat::Assertion);
        let mut t = tree(&xml);
        let response = root(&t);
        let signed = first(&t, response, ASSERTION_NS, "Assertion");
        let extensions = t.detached(PROTOCOL_NS, "samlp", "Extensions");
        let issuer = first(&t, response, ASSERTION_NS, "Issuer");
        t.doc.insert_after(response, extensions, issuer);
        t.doc.append_child(extensions, signed);
        let evil = evil_assertion(&mut t, &xml);
        t.doc.append_child(response, evil);
        assert_eq!(validate(&t.doc.to_xml()), Err(Rejection::AssertionNotSigned));
    }

    #[test]
    fn wrapping_signed_assertion_moved_into_signature_object() {
        // The evil assertion carries the genuine signature, whose ds:Object holds the signed one.
        let xml = genuine(SignWhat::Assertion);
        let mut t = tree(&xml);
        let response = root(&t);
        let signed = first(&t, response, ASSERTION_NS, "Assertion");
        let signature = first(&t, signed, DSIG_NS, "Signature");
        t.doc.detach(signature);
        let evil = evil_assertion(&mut t, &xml);
        let evil_issuer = first(&t, evil, ASSERTION_NS, "Issuer");
        t.doc.insert_after(evil, signature, evil_issuer);
        let object = t.detached(DSIG_NS, "ds", "Object");
        t.doc.append_child(signature, object);
        t.doc.append_child(object, signed);
        t.doc.append_child(response, evil);
        assert!(matches!(validate(&t.doc.to_xml()), Err(Rejection::InvalidSignature(_))));
    }

    #[test]
    fn wrapping_second_assertion_in_a_signed_response() {
        let xml = genuine(SignWhat::Response);
        let signed = resign(&xml, Some(SignWhat::Response), |t, response, _| {
            let evil = evil_assertion(t, &xml);
            t.doc.append_child(response, evil);
        });
        assert_eq!(validate(&signed), Err(Rejection::MultipleAssertions));
    }

    #[test]
    fn wrapping_signed_response_inside_an_evil_response() {
        let xml = genuine(SignWhat::Response);
        let mut t = tree(&xml);
        let evil_response = root(&t);
        remove_signatures_under(&mut t, evil_response);
        set_attr(&mut t, evil_response, "ID", "_evil_response");
        let assertion = first(&t, evil_response, ASSERTION_NS, "Assertion");
        let name_id = name_id(&t, assertion);
        set_text(&mut t, name_id, "mallory@example.com");
        set_attr(&mut t, assertion, "ID", "_evil");
        let extensions = t.detached(PROTOCOL_NS, "samlp", "Extensions");
        let issuer = first(&t, evil_response, ASSERTION_NS, "Issuer");
        t.doc.insert_after(evil_response, extensions, issuer);
        let original = uppsala::parse(&xml).unwrap();
        let signed = t.doc.import_subtree(&original, original.document_element().unwrap()).unwrap();
        t.doc.append_child(extensions, signed);
        assert_eq!(validate(&t.doc.to_xml()), Err(Rejection::AssertionNotSigned));
    }

    // ─── Claims and conditions ───

    #[test]
    fn expired() {
        let trusted = trusted();
        let mut expect = expectations(&trusted);
        expect.now = now() + Duration::minutes(5 + 3);
        assert_eq!(check(&genuine(SignWhat::Response), &expect), Err(Rejection::Expired("SubjectConfirmationData")));
        // A larger skew than 3 minutes is not honoured.
        expect.now = now() + Duration::minutes(5 + 10);
        expect.max_skew = Duration::hours(1);
        assert_eq!(check(&genuine(SignWhat::Response), &expect), Err(Rejection::Expired("SubjectConfirmationData")));
    }

    #[test]
    fn not_yet_valid() {
        let trusted = trusted();
        let mut expect = expectations(&trusted);
        expect.now = now() - Duration::seconds(60 + 181);
        assert_eq!(check(&genuine(SignWhat::Assertion), &expect), Err(Rejection::NotYetValid("Conditions")));
    }

    #[test]
    fn wrong_audience() {
        let mut spec = spec(SignWhat::Assertion);
        spec.audience = "https://another-sp.example.com".into();
        assert_eq!(validate(&spec.build(&signer(idp_cert())).unwrap().xml), Err(Rejection::WrongAudience));
    }

    #[test]
    fn wrong_recipient() {
        let mut spec = spec(SignWhat::Assertion);
        spec.acs_url = "https://another-sp.example.com/acs".into();
        // Only the Recipient is wrong: the (unsigned) Destination is dropped.
        let xml = spec.build(&signer(idp_cert())).unwrap().xml.replacen(" Destination=\"https://another-sp.example.com/acs\"", "", 1);
        assert_eq!(validate(&xml), Err(Rejection::WrongRecipient("https://another-sp.example.com/acs".into())));
    }

    #[test]
    fn wrong_destination() {
        // The Destination of an assertion-signed Response is unsigned, and still checked.
        let xml =
            genuine(SignWhat::Assertion).replacen(&format!("Destination=\"{ACS}\""), "Destination=\"https://evil.example.com/acs\"", 1);
        assert_eq!(validate(&xml), Err(Rejection::WrongDestination("https://evil.example.com/acs".into())));
    }

    #[test]
    fn wrong_issuer() {
        let trusted = trusted();
        let mut expect = expectations(&trusted);
        expect.idp_entity_id = "https://other-idp.example.org";
        assert_eq!(check(&genuine(SignWhat::Response), &expect), Err(Rejection::WrongIssuer(IDP.into())));
        // The Assertion's Issuer is checked when the Response has none.
        let xml = resign(&genuine(SignWhat::Assertion), Some(SignWhat::Assertion), |t, response, _| {
            let issuer = first(t, response, ASSERTION_NS, "Issuer");
            t.doc.detach(issuer);
        });
        assert!(validate(&xml).is_ok());
        assert_eq!(check(&xml, &expect), Err(Rejection::WrongIssuer(IDP.into())));
    }

    #[test]
    fn in_response_to_mismatch() {
        let xml = genuine(SignWhat::Assertion).replacen("InResponseTo=\"_req-1\"", "InResponseTo=\"_req-2\"", 1);
        assert!(xml.contains("_req-2"));
        assert_eq!(validate(&xml), Err(Rejection::InResponseToMismatch));
    }

    #[test]
    fn non_success_status() {
        let xml = resign(&genuine(SignWhat::Response), Some(SignWhat::Response), |t, response, assertion| {
            t.doc.detach(assertion);
            let status = first(t, response, PROTOCOL_NS, "Status");
            let code = first(t, status, PROTOCOL_NS, "StatusCode");
            set_attr(t, code, "Value", "urn:oasis:names:tc:SAML:2.0:status:Responder");
            let sub = t.element(Some(code), PROTOCOL_NS, "samlp", "StatusCode");
            t.attr(sub, "Value", "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed");
            t.text_element(status, PROTOCOL_NS, "samlp", "StatusMessage", "User is locked");
            // Keep an assertion to sign the response after (resign looks for one).
            let placeholder = t.element(Some(response), ASSERTION_NS, "saml", "Assertion");
            t.attr(placeholder, "ID", "_placeholder");
            t.text_element(placeholder, ASSERTION_NS, "saml", "Issuer", IDP);
        });
        let refusal = validate(&xml).unwrap_err();
        assert_eq!(
            refusal,
            Rejection::Status {
                code: "urn:oasis:names:tc:SAML:2.0:status:Responder".into(),
                sub_code: Some("urn:oasis:names:tc:SAML:2.0:status:AuthnFailed".into()),
                message: Some("User is locked".into()),
            }
        );
        assert_eq!(refusal.to_string(), "the identity provider did not sign the user in: Responder/AuthnFailed (User is locked)");
    }

    #[test]
    fn encrypted_assertion_is_not_supported() {
        let xml = resign(&genuine(SignWhat::Assertion), Some(SignWhat::Assertion), |t, response, _| {
            t.element(Some(response), ASSERTION_NS, "saml", "EncryptedAssertion");
        });
        assert_eq!(validate(&xml), Err(Rejection::EncryptedAssertion));
    }

    // ─── Input ───

    #[test]
    fn doctype_with_an_external_entity() {
        let xml = genuine(SignWhat::Response).replace("alice@example.com</saml:NameID>", "&xxe;</saml:NameID>");
        let xxe = format!("<!DOCTYPE samlp:Response [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>{xml}");
        match validate(&xxe) {
            Err(Rejection::MalformedXml(why)) => assert!(why.contains("DOCTYPE"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn oversized_input() {
        let padding = " ".repeat(MAX_RESPONSE_BYTES);
        let xml = genuine(SignWhat::Response).replacen("<saml:Issuer>", &format!("{padding}<saml:Issuer>"), 1);
        assert_eq!(validate(&xml), Err(Rejection::TooLarge));
        assert_eq!(validate_response(&"A".repeat(4 * MAX_RESPONSE_BYTES), &expectations(&trusted())), Err(Rejection::TooLarge));
    }

    #[test]
    fn not_base64_not_utf8_not_a_response() {
        let trusted = trusted();
        let expect = expectations(&trusted);
        assert_eq!(validate_response("not base64!", &expect), Err(Rejection::NotBase64));
        assert_eq!(validate_response(&STANDARD.encode([0xff, 0xfe]), &expect), Err(Rejection::NotUtf8));
        assert!(matches!(validate("<a"), Err(Rejection::MalformedXml(_))));
        assert_eq!(validate(&format!("<samlp:AuthnRequest xmlns:samlp=\"{PROTOCOL_NS}\"/>")), Err(Rejection::NotAResponse));
        // Line-wrapped base64, as some IdPs post it, is fine.
        let wrapped = STANDARD
            .encode(genuine(SignWhat::Response))
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\r\n");
        assert!(validate_response(&wrapped, &expect).is_ok());
    }

    // ─── Metadata and AuthnRequest ───

    #[test]
    fn sp_metadata_round_trip() {
        let m = parse_sp_metadata(&sp_metadata(SP, ACS)).unwrap();
        assert_eq!(m.entity_id, SP);
        let acs = m.default_acs().unwrap();
        assert_eq!((acs.location.as_str(), acs.binding.as_str(), acs.index, acs.is_default), (ACS, POST_BINDING, Some(0), true));
        assert!(m.want_assertions_signed && !m.authn_requests_signed);
        assert_eq!(m.name_id_formats, vec![EMAIL_ADDRESS.to_string()]);
    }

    #[test]
    fn idp_metadata_round_trip() {
        let sso = "https://idp.example.org/sso";
        let xml = idp_metadata(IDP, sso, &[idp_cert().base64(), foreign_cert().base64()], false);
        let m = parse_idp_metadata(&xml).unwrap();
        assert_eq!(m.entity_id, IDP);
        assert_eq!((m.sso_redirect_url.as_deref(), m.sso_post_url.as_deref()), (Some(sso), Some(sso)));
        assert_eq!(m.certificates_pem, vec![idp_cert().cert_pem.clone(), foreign_cert().cert_pem.clone()]);
        // The first IdP in an aggregate.
        let aggregate = format!("<md:EntitiesDescriptor xmlns:md=\"{METADATA_NS}\">{}{xml}</md:EntitiesDescriptor>", sp_metadata(SP, ACS));
        assert_eq!(parse_idp_metadata(&aggregate).unwrap(), m);
    }

    #[test]
    fn idp_metadata_errors() {
        let error = |xml: &str| match parse_idp_metadata(xml) {
            Err(SamlError::Invalid(why)) => why,
            other => panic!("{other:?}"),
        };
        let sso = "https://idp.example.org/sso";
        assert!(error(&sp_metadata(SP, ACS)).contains("IDPSSODescriptor"));
        assert!(error(&idp_metadata(IDP, sso, &[], false)).contains("no signing certificate"));
        let encryption_only = idp_metadata(IDP, sso, &[idp_cert().base64()], false).replace("use=\"signing\"", "use=\"encryption\"");
        assert!(error(&encryption_only).contains("no signing certificate"));
        let no_sso = idp_metadata(IDP, sso, &[idp_cert().base64()], false).replace("SingleSignOnService", "ArtifactResolutionService");
        assert!(error(&no_sso).contains("SingleSignOnService"));
        assert!(error("<x/>").contains("not SAML 2.0 metadata"));
    }

    #[test]
    fn redirect_authn_request_inflates_back() {
        let idp_sso = "https://idp.example.org/sso?tenant=1";
        let (id, url) = authn_request_redirect(SP, ACS, idp_sso, Some("/portal?x=1&y"), now()).unwrap();
        let query = url.strip_prefix("https://idp.example.org/sso?tenant=1&").unwrap_or_else(|| panic!("{url}"));
        let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        assert_eq!(params.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["SAMLRequest", "RelayState"]);
        assert_eq!(params[1].1, "/portal?x=1&y");
        let request = authn_request::from_redirect(&params[0].1).unwrap();
        assert_eq!(request.id, id);
        assert_eq!(request.issuer, SP);
        assert_eq!(request.acs_url.as_deref(), Some(ACS));
        assert_eq!(request.destination.as_deref(), Some(idp_sso));
        assert_eq!(request.protocol_binding.as_deref(), Some(POST_BINDING));
        assert_eq!(request.name_id_format.as_deref(), Some(EMAIL_ADDRESS));
        assert_eq!(request.issue_instant, instant(now()));
        assert!(request.xml.contains("AllowCreate=\"false\""), "{}", request.xml);

        let (other, url) = authn_request_redirect(SP, ACS, "https://idp.example.org/sso", None, now()).unwrap();
        assert!(url.starts_with("https://idp.example.org/sso?SAMLRequest=") && !url.contains("RelayState"), "{url}");
        assert_ne!(other, id, "a fresh ID each time");
        assert!(authn_request_redirect(SP, ACS, "https://idp.example.org/sso", Some(&"r".repeat(81)), now()).is_err());
    }
}
