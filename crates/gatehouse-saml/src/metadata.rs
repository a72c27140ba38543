//! Metadata: the IdP's (what administrators give the service provider) and the SP's (what they
//! upload instead of typing the ACS URL and audience).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use uppsala::{Document, NodeId};
use x509_cert::der::{Decode, EncodePem};

use crate::dom::Tree;
use crate::{DSIG_NS, PROTOCOL_NS, Result, SamlError};

pub const METADATA_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
pub const REDIRECT_BINDING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
pub const POST_BINDING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/// The NameID formats the IdP can send.
pub const NAME_ID_FORMATS: [&str; 4] = [
    "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
    "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
];

/// The IdP's metadata for one application: its entity ID, the certificates (base64 DER) that
/// may sign, the sign-in endpoint for both bindings, and whether AuthnRequests must be signed.
pub fn idp_metadata(entity_id: &str, sso_url: &str, certificates_base64: &[String], want_requests_signed: bool) -> String {
    let mut t = Tree::new();
    let entity = t.element(None, METADATA_NS, "md", "EntityDescriptor");
    t.declare(entity, "md", METADATA_NS);
    t.declare(entity, "ds", DSIG_NS);
    t.attr(entity, "entityID", entity_id);
    let idp = t.element(Some(entity), METADATA_NS, "md", "IDPSSODescriptor");
    t.attr(idp, "WantAuthnRequestsSigned", if want_requests_signed { "true" } else { "false" });
    t.attr(idp, "protocolSupportEnumeration", PROTOCOL_NS);
    for cert in certificates_base64 {
        let descriptor = t.element(Some(idp), METADATA_NS, "md", "KeyDescriptor");
        t.attr(descriptor, "use", "signing");
        let info = t.element(Some(descriptor), DSIG_NS, "ds", "KeyInfo");
        let data = t.element(Some(info), DSIG_NS, "ds", "X509Data");
        t.text_element(data, DSIG_NS, "ds", "X509Certificate", cert);
    }
    for format in NAME_ID_FORMATS {
        t.text_element(idp, METADATA_NS, "md", "NameIDFormat", format);
    }
    for binding in [REDIRECT_BINDING, POST_BINDING] {
        let service = t.element(Some(idp), METADATA_NS, "md", "SingleSignOnService");
        t.attr(service, "Binding", binding);
        t.attr(service, "Location", sso_url);
    }
    t.doc.to_xml()
}

/// An assertion consumer service of an SP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acs {
    pub binding: String,
    pub location: String,
    pub index: Option<u32>,
    pub is_default: bool,
}

/// What an SP's metadata says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpMetadata {
    pub entity_id: String,
    pub acs: Vec<Acs>,
    /// Certificates that sign its AuthnRequests (PEM).
    pub signing_certs: Vec<String>,
    pub authn_requests_signed: bool,
    pub want_assertions_signed: bool,
    pub name_id_formats: Vec<String>,
}

impl SpMetadata {
    /// The ACS to post to: the default one, else the lowest index, else the first, among those
    /// using the HTTP-POST binding (the only one an IdP can post a Response with).
    pub fn default_acs(&self) -> Option<&Acs> {
        let post: Vec<&Acs> = self.acs.iter().filter(|a| a.binding == POST_BINDING).collect();
        post.iter()
            .find(|a| a.is_default)
            .or_else(|| post.iter().filter(|a| a.index.is_some()).min_by_key(|a| a.index))
            .or(post.first())
            .copied()
    }
}

fn invalid(why: impl Into<String>) -> SamlError {
    SamlError::Invalid(why.into())
}

/// Parse uploaded SP metadata (an EntityDescriptor with an SPSSODescriptor).
pub fn parse_sp_metadata(xml: &str) -> Result<SpMetadata> {
    let doc = crate::parse_untrusted(xml)?;
    let root = doc.document_element().ok_or_else(|| invalid("the metadata is empty"))?;
    let entity = if is(&doc, root, "EntityDescriptor") {
        root
    } else if is(&doc, root, "EntitiesDescriptor") {
        find(&doc, root, "EntityDescriptor").ok_or_else(|| invalid("the metadata has no EntityDescriptor"))?
    } else {
        return Err(invalid("this is not SAML 2.0 metadata (no md:EntityDescriptor)"));
    };
    let entity_id = doc.get_attribute(entity, "entityID").unwrap_or_default().trim().to_string();
    if entity_id.is_empty() {
        return Err(invalid("the metadata has no entityID"));
    }
    let sp = children(&doc, entity, "SPSSODescriptor").into_iter().next().ok_or_else(|| invalid("the metadata has no SPSSODescriptor"))?;
    let flag = |name: &str| doc.get_attribute(sp, name).is_some_and(|v| v == "true" || v == "1");
    let acs = children(&doc, sp, "AssertionConsumerService")
        .into_iter()
        .map(|n| Acs {
            binding: doc.get_attribute(n, "Binding").unwrap_or_default().to_string(),
            location: doc.get_attribute(n, "Location").unwrap_or_default().trim().to_string(),
            index: doc.get_attribute(n, "index").and_then(|i| i.parse().ok()),
            is_default: doc.get_attribute(n, "isDefault").is_some_and(|v| v == "true" || v == "1"),
        })
        .filter(|a| !a.location.is_empty())
        .collect::<Vec<_>>();
    if acs.is_empty() {
        return Err(invalid("the metadata names no AssertionConsumerService"));
    }
    let mut signing_certs = Vec::new();
    for descriptor in children(&doc, sp, "KeyDescriptor") {
        if doc.get_attribute(descriptor, "use").is_some_and(|u| u != "signing") {
            continue;
        }
        for cert in doc
            .descendants(descriptor)
            .into_iter()
            .filter(|&n| doc.element(n).is_some_and(|e| e.name.matches(Some(DSIG_NS), "X509Certificate")))
        {
            signing_certs.push(pem_of(&doc.text_content_deep(cert))?);
        }
    }
    let name_id_formats = children(&doc, sp, "NameIDFormat").into_iter().map(|n| doc.text_content_deep(n).trim().to_string()).collect();
    Ok(SpMetadata {
        entity_id,
        acs,
        signing_certs,
        authn_requests_signed: flag("AuthnRequestsSigned"),
        want_assertions_signed: flag("WantAssertionsSigned"),
        name_id_formats,
    })
}

/// A certificate from metadata (base64 DER, whitespace anywhere) as PEM, checked to parse.
pub(crate) fn pem_of(base64_der: &str) -> Result<String> {
    let der =
        STANDARD.decode(base64_der.split_whitespace().collect::<String>()).map_err(|_| invalid("a metadata certificate is not base64"))?;
    let cert = x509_cert::Certificate::from_der(&der).map_err(|e| invalid(format!("a metadata certificate does not parse: {e}")))?;
    cert.to_pem(x509_cert::der::pem::LineEnding::LF).map_err(|e| invalid(e.to_string()))
}

pub(crate) fn is(doc: &Document<'_>, node: NodeId, local: &str) -> bool {
    doc.element(node).is_some_and(|e| e.name.matches(Some(METADATA_NS), local))
}

pub(crate) fn children(doc: &Document<'_>, node: NodeId, local: &str) -> Vec<NodeId> {
    doc.children(node).into_iter().filter(|&c| is(doc, c, local)).collect()
}

fn find(doc: &Document<'_>, node: NodeId, local: &str) -> Option<NodeId> {
    doc.descendants(node).into_iter().find(|&c| is(doc, c, local))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert::{self, KeySize, SignatureAlgorithm};

    #[test]
    fn our_metadata_read_back_as_an_sp_would() {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let c = cert::generate("app", KeySize::Rsa2048, SignatureAlgorithm::Sha256, 60, now).unwrap();
        let xml =
            idp_metadata("https://sso.example.com/saml/app-1?a=1&b=2", "https://sso.example.com/saml/app-1/sso", &[c.base64()], false);
        assert!(xml.contains("entityID=\"https://sso.example.com/saml/app-1?a=1&amp;b=2\""), "{xml}");
        let doc = uppsala::parse(&xml).unwrap();
        let services: Vec<_> = doc.descendants(doc.root()).into_iter().filter(|&n| is(&doc, n, "SingleSignOnService")).collect();
        assert_eq!(services.len(), 2);
        let certs: Vec<_> = doc
            .descendants(doc.root())
            .into_iter()
            .filter(|&n| doc.element(n).is_some_and(|e| e.name.matches(Some(DSIG_NS), "X509Certificate")))
            .map(|n| doc.text_content_deep(n))
            .collect();
        assert_eq!(pem_of(&certs[0]).unwrap(), c.cert_pem);
    }

    #[test]
    fn sp_metadata() {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let c = cert::generate("sp", KeySize::Rsa2048, SignatureAlgorithm::Sha256, 60, now).unwrap();
        let xml = format!(
            r#"<md:EntityDescriptor xmlns:md="{METADATA_NS}" xmlns:ds="{DSIG_NS}" entityID="https://sp.example.com/metadata">
  <md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="{PROTOCOL_NS}">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>
{}
    </ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:AssertionConsumerService Binding="{REDIRECT_BINDING}" Location="https://sp.example.com/redirect" index="0"/>
    <md:AssertionConsumerService Binding="{POST_BINDING}" Location="https://sp.example.com/acs2" index="2"/>
    <md:AssertionConsumerService Binding="{POST_BINDING}" Location="https://sp.example.com/acs1" index="1"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>"#,
            c.base64(),
            c.base64()
        );
        let m = parse_sp_metadata(&xml).unwrap();
        assert_eq!(m.entity_id, "https://sp.example.com/metadata");
        assert_eq!(m.default_acs().unwrap().location, "https://sp.example.com/acs1", "the lowest POST index");
        assert_eq!(m.signing_certs, vec![c.cert_pem.clone()], "signing keys only");
        assert!(m.authn_requests_signed && m.want_assertions_signed);
        assert!(parse_sp_metadata("<x/>").is_err());
        assert!(parse_sp_metadata(&xml.replace("entityID=\"https://sp.example.com/metadata\"", "")).is_err());
    }
}
