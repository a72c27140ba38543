//! AuthnRequests from service providers, over HTTP-Redirect (deflated, base64, URL-encoded, the
//! signature over the query string) and HTTP-POST (base64, the signature enveloped in the XML).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use std::io::Read;
use uppsala::{Document, NodeId};
use x509_cert::der::{DecodePem, Encode};

use crate::{PROTOCOL_NS, Result, SamlError};

/// An AuthnRequest never needs more than this, inflated.
const MAX_REQUEST_BYTES: u64 = 64 * 1024;

/// What an SP asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthnRequest {
    pub id: String,
    pub issuer: String,
    pub issue_instant: String,
    pub destination: Option<String>,
    /// Where the SP wants the Response; checked against the registered ACS by the caller.
    pub acs_url: Option<String>,
    pub protocol_binding: Option<String>,
    /// NameIDPolicy's Format, if the SP asks for one.
    pub name_id_format: Option<String>,
    pub force_authn: bool,
    pub is_passive: bool,
    /// The XML as received (for the signature check of the POST binding).
    pub xml: String,
}

fn invalid(why: impl Into<String>) -> SamlError {
    SamlError::Invalid(why.into())
}

/// `SAMLRequest` of the HTTP-Redirect binding (already URL-decoded): base64 of raw DEFLATE.
pub fn from_redirect(saml_request: &str) -> Result<AuthnRequest> {
    let deflated = STANDARD.decode(saml_request.trim()).map_err(|_| invalid("SAMLRequest is not base64"))?;
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(deflated.as_slice())
        .take(MAX_REQUEST_BYTES + 1)
        .read_to_string(&mut xml)
        .map_err(|_| invalid("SAMLRequest is not DEFLATE-compressed UTF-8"))?;
    if xml.len() as u64 > MAX_REQUEST_BYTES {
        return Err(invalid("SAMLRequest is too large"));
    }
    parse(xml)
}

/// `SAMLRequest` of the HTTP-POST binding: base64 of the XML.
pub fn from_post(saml_request: &str) -> Result<AuthnRequest> {
    let bytes = STANDARD.decode(saml_request.split_whitespace().collect::<String>()).map_err(|_| invalid("SAMLRequest is not base64"))?;
    if bytes.len() as u64 > MAX_REQUEST_BYTES {
        return Err(invalid("SAMLRequest is too large"));
    }
    parse(String::from_utf8(bytes).map_err(|_| invalid("SAMLRequest is not UTF-8"))?)
}

fn parse(xml: String) -> Result<AuthnRequest> {
    let doc = crate::parse_untrusted(&xml)?;
    let root = doc.document_element().ok_or_else(|| invalid("SAMLRequest is empty"))?;
    let is_request = doc.element(root).is_some_and(|e| e.name.matches(Some(PROTOCOL_NS), "AuthnRequest"));
    if !is_request {
        return Err(invalid("SAMLRequest is not a SAML 2.0 AuthnRequest"));
    }
    let attr = |name: &str| doc.get_attribute(root, name).map(str::to_string);
    if attr("Version").as_deref() != Some("2.0") {
        return Err(invalid("only SAML 2.0 AuthnRequests are accepted"));
    }
    let id = attr("ID").filter(|id| !id.is_empty()).ok_or_else(|| invalid("the AuthnRequest has no ID"))?;
    let issuer = child(&doc, root, crate::ASSERTION_NS, "Issuer").map(|n| doc.text_content_deep(n).trim().to_string()).unwrap_or_default();
    let policy = child(&doc, root, PROTOCOL_NS, "NameIDPolicy");
    let name_id_format = policy.and_then(|p| doc.get_attribute(p, "Format")).map(str::to_string);
    let flag = |name: &str| attr(name).is_some_and(|v| v == "true" || v == "1");
    Ok(AuthnRequest {
        id,
        issuer,
        issue_instant: attr("IssueInstant").unwrap_or_default(),
        destination: attr("Destination"),
        acs_url: attr("AssertionConsumerServiceURL"),
        protocol_binding: attr("ProtocolBinding"),
        name_id_format,
        force_authn: flag("ForceAuthn"),
        is_passive: flag("IsPassive"),
        xml,
    })
}

fn child(doc: &Document<'_>, node: NodeId, ns: &str, local: &str) -> Option<NodeId> {
    doc.children(node).into_iter().find(|&c| doc.element(c).is_some_and(|e| e.name.matches(Some(ns), local)))
}

/// The HTTP-Redirect binding's signature: over `SAMLRequest=…&RelayState=…&SigAlg=…` exactly as
/// the query string carries them (URL-encoded), checked with the SP's certificates (PEM).
/// Returns Ok(false) when the request is not signed.
pub fn verify_redirect_signature(raw_query: &str, sp_cert_pems: &[&str]) -> Result<bool> {
    let raw = |name: &str| raw_query.split('&').find_map(|pair| pair.strip_prefix(name).and_then(|v| v.strip_prefix('=')));
    let (Some(signature), Some(sig_alg)) = (raw("Signature"), raw("SigAlg")) else { return Ok(false) };
    let request = raw("SAMLRequest").ok_or_else(|| invalid("SAMLRequest is missing"))?;
    let mut signed = format!("SAMLRequest={request}");
    if let Some(relay) = raw("RelayState") {
        signed.push_str(&format!("&RelayState={relay}"));
    }
    signed.push_str(&format!("&SigAlg={sig_alg}"));
    let signature = STANDARD.decode(decode(signature)).map_err(|_| invalid("Signature is not base64"))?;
    let digest = match decode(sig_alg).as_str() {
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" => Digest::Sha256,
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1" => Digest::Sha1,
        other => return Err(invalid(format!("SigAlg {other} is not supported (use rsa-sha256 or rsa-sha1)"))),
    };
    for pem in sp_cert_pems {
        if rsa_verify(digest, public_key(pem)?, signed.as_bytes(), &signature) {
            return Ok(true);
        }
    }
    Err(SamlError::Signature("the AuthnRequest's signature does not match the application's certificate".into()))
}

/// The HTTP-POST binding's signature, enveloped in the AuthnRequest. Returns Ok(false) when the
/// request carries no signature.
pub fn verify_post_signature(request: &AuthnRequest, sp_cert_pems: &[&str]) -> Result<bool> {
    if !request.xml.contains("SignatureValue") {
        return Ok(false);
    }
    let doc = crate::parse_untrusted(&request.xml)?;
    let root = doc.document_element().ok_or_else(|| invalid("SAMLRequest is empty"))?;
    let covered = crate::sign::covered_nodes(&request.xml, &doc, sp_cert_pems)?;
    if covered.contains(&root) { Ok(true) } else { Err(SamlError::Signature("the signature does not cover the AuthnRequest".into())) }
}

fn decode(raw: &str) -> String {
    form_urlencoded::parse(format!("v={raw}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

fn public_key(pem: &str) -> Result<rsa::RsaPublicKey> {
    let cert = x509_cert::Certificate::from_pem(pem.as_bytes()).map_err(|e| invalid(format!("SP certificate: {e}")))?;
    let spki = cert.tbs_certificate().subject_public_key_info().to_der().map_err(|e| invalid(format!("SP certificate: {e}")))?;
    rsa::RsaPublicKey::from_public_key_der(&spki).map_err(|e| invalid(format!("SP certificate is not RSA: {e}")))
}

#[derive(Clone, Copy)]
enum Digest {
    Sha1,
    Sha256,
}

fn rsa_verify(digest: Digest, key: rsa::RsaPublicKey, message: &[u8], signature: &[u8]) -> bool {
    let Ok(signature) = rsa::pkcs1v15::Signature::try_from(signature) else { return false };
    match digest {
        Digest::Sha1 => rsa::pkcs1v15::VerifyingKey::<sha1::Sha1>::new(key).verify(message, &signature).is_ok(),
        Digest::Sha256 => rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key).verify(message, &signature).is_ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert::{self, KeySize, SignatureAlgorithm};
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::{SignatureEncoding, Signer as _};
    use std::io::Write;

    const REQUEST: &str = r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" IssueInstant="2027-01-15T08:00:00Z" Destination="https://sso.example.com/saml/sso" AssertionConsumerServiceURL="https://sp.example.com/acs" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" ForceAuthn="true"><saml:Issuer>https://sp.example.com/metadata</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" AllowCreate="true"/></samlp:AuthnRequest>"#;

    fn deflated(xml: &str) -> String {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(xml.as_bytes()).unwrap();
        STANDARD.encode(e.finish().unwrap())
    }

    fn encode(v: &str) -> String {
        form_urlencoded::byte_serialize(v.as_bytes()).collect()
    }

    #[test]
    fn redirect_and_post_bindings_parse() {
        let r = from_redirect(&deflated(REQUEST)).unwrap();
        assert_eq!((r.id.as_str(), r.issuer.as_str()), ("_r1", "https://sp.example.com/metadata"));
        assert_eq!(r.acs_url.as_deref(), Some("https://sp.example.com/acs"));
        assert_eq!(r.name_id_format.as_deref(), Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"));
        assert!(r.force_authn && !r.is_passive);
        let p = from_post(&STANDARD.encode(REQUEST)).unwrap();
        assert_eq!(p.id, "_r1");
    }

    #[test]
    fn bad_requests_are_refused() {
        assert!(from_redirect("not base64!").is_err());
        assert!(from_redirect(&STANDARD.encode(b"not deflate")).is_err());
        assert!(from_post(&STANDARD.encode("<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"/>")).is_err());
        assert!(from_post(&STANDARD.encode(REQUEST.replace(" ID=\"_r1\"", ""))).is_err());
        assert!(from_post(&STANDARD.encode(format!("<!DOCTYPE x [<!ENTITY a \"b\">]>{REQUEST}"))).is_err());
        // A deflate bomb stops at the size limit.
        let bomb = "<a>".to_string() + &" ".repeat(10 * 1024 * 1024) + "</a>";
        assert!(from_redirect(&deflated(&bomb)).unwrap_err().to_string().contains("too large"));
    }

    #[test]
    fn redirect_signatures_are_checked_against_the_sp_certificate() {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let sp = cert::generate("sp", KeySize::Rsa2048, SignatureAlgorithm::Sha256, 12, now).unwrap();
        let other = cert::generate("other", KeySize::Rsa2048, SignatureAlgorithm::Sha256, 12, now).unwrap();
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(&sp.key_pem).unwrap();
        let sig_alg = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
        let signed = format!("SAMLRequest={}&RelayState={}&SigAlg={}", encode(&deflated(REQUEST)), encode("/app?x=1"), encode(sig_alg));
        let signature = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key).sign(signed.as_bytes()).to_vec();
        let query = format!("{signed}&Signature={}", encode(&STANDARD.encode(signature)));
        assert!(verify_redirect_signature(&query, &[&sp.cert_pem]).unwrap());
        assert!(verify_redirect_signature(&query, &[&other.cert_pem, &sp.cert_pem]).unwrap(), "any registered certificate");
        assert!(verify_redirect_signature(&query, &[&other.cert_pem]).is_err());
        let changed = query.replace(&encode("/app?x=1"), &encode("/evil"));
        assert!(verify_redirect_signature(&changed, &[&sp.cert_pem]).is_err());
        let unsigned = format!("SAMLRequest={}", encode(&deflated(REQUEST)));
        assert!(!verify_redirect_signature(&unsigned, &[&sp.cert_pem]).unwrap());
    }

    #[test]
    fn post_signatures_must_cover_the_request() {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let sp = cert::generate("sp", KeySize::Rsa2048, SignatureAlgorithm::Sha256, 12, now).unwrap();
        let signer = crate::Signer::new(&sp.key_pem, &sp.cert_der, sp.algorithm).unwrap();
        // Sign the request as an SP would: enveloped, after its Issuer.
        let mut t = crate::dom::Tree::new();
        let root = t.element(None, PROTOCOL_NS, "samlp", "AuthnRequest");
        t.declare(root, "samlp", PROTOCOL_NS);
        t.attr(root, "ID", "_r2");
        t.attr(root, "Version", "2.0");
        let issuer = t.text_element(root, crate::ASSERTION_NS, "saml", "Issuer", "https://sp.example.com/metadata");
        t.declare(issuer, "saml", crate::ASSERTION_NS);
        signer.sign_after(&mut t, root, issuer, "_r2").unwrap();
        let xml = t.doc.to_xml();
        let request = from_post(&STANDARD.encode(&xml)).unwrap();
        assert!(verify_post_signature(&request, &[&sp.cert_pem]).unwrap());
        let tampered = from_post(&STANDARD.encode(xml.replace("https://sp.example.com/metadata", "https://evil.example.com"))).unwrap();
        assert!(verify_post_signature(&tampered, &[&sp.cert_pem]).is_err());
        assert!(!verify_post_signature(&from_post(&STANDARD.encode(REQUEST)).unwrap(), &[&sp.cert_pem]).unwrap());
    }
}
