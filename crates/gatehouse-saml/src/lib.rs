//! SAML 2.0 as an identity provider speaks it: signing certificates, signed Responses (built as
//! a document tree, so every value is escaped by the serializer), AuthnRequests from service
//! providers, and metadata. And as a service provider (`sp`), for sign-in through an external
//! identity provider. Pure: no I/O, no clock (callers pass `now`).
//!
//! XML signatures are bergshamra's (pure Rust, interoperable with xmlsec1). Verification trusts
//! only the keys it is given and hands back the node the signature covers; callers read claims
//! from that node only, which defeats signature-wrapping attacks.

pub mod authn_request;
pub mod catalog;
pub mod cert;
mod dom;
pub mod mapping;
pub mod metadata;
pub mod response;
pub mod sign;
pub mod sp;
pub mod template;

pub use authn_request::AuthnRequest;
pub use cert::{Certificate, ExpiryStatus, KeySize, SignatureAlgorithm};
pub use response::{Attribute, NameId, ResponseSpec, SignWhat};
pub use sign::{Signer, VerifiedAssertion, verify_assertion};
pub use sp::{Expectations, ExternalLogin, IdpMetadata, Rejection, validate_response};

/// Namespaces of the SAML 2.0 core and of XML-DSig.
pub const PROTOCOL_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub const ASSERTION_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";

#[derive(Debug, thiserror::Error)]
pub enum SamlError {
    /// The input (an AuthnRequest, metadata, a certificate) is not what SAML allows.
    #[error("{0}")]
    Invalid(String),
    /// A signature did not verify with any trusted key.
    #[error("signature not valid: {0}")]
    Signature(String),
    /// Key generation, signing or serialization failed.
    #[error("{0}")]
    Crypto(String),
}

pub type Result<T> = std::result::Result<T, SamlError>;

/// A fresh SAML ID: `_` and 128 random bits in hex (IDs must not start with a digit).
pub fn new_id() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| SamlError::Crypto(format!("no randomness: {e}")))?;
    Ok(format!("_{}", hex::encode(bytes)))
}

/// Parse XML from outside: no DTDs (no entity expansion, no external entities), bounded depth.
pub(crate) fn parse_untrusted(xml: &str) -> Result<uppsala::Document<'_>> {
    uppsala::Parser::new()
        .with_forbid_dtd(true)
        .with_max_depth(64)
        .parse(xml)
        .map_err(|e| SamlError::Invalid(format!("not well-formed XML: {e}")))
}

/// SAML's dateTime: UTC with a `Z`, to the second.
pub fn instant(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}
