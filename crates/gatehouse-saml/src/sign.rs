//! Enveloped XML signatures over SAML elements, and their verification with trusted keys only.

use bergshamra::core::algorithm::{ENVELOPED_SIGNATURE, EXC_C14N};
use bergshamra::dsig::sign::sign_document_node;
use bergshamra::dsig::verify::verify_all_document_with_source;
use bergshamra::keys::loader;
use bergshamra::{DsigContext, KeysManager, VerifyResult};
use uppsala::{Document, NodeId};

use crate::cert::SignatureAlgorithm;
use crate::dom::Tree;
use crate::{ASSERTION_NS, DSIG_NS, Result, SamlError};

/// Signs with one key; its certificate goes into each signature's KeyInfo. Build it once per
/// certificate and reuse it: loading the key is the expensive part.
pub struct Signer {
    ctx: DsigContext,
    algorithm: SignatureAlgorithm,
    /// RSA ≥ 2048 bits with SHA-256: the signature value comes from AWS-LC (docs/design/0014).
    #[cfg(feature = "aws-lc")]
    pub(crate) fast: Option<aws_lc_rs::signature::RsaKeyPair>,
    #[cfg(feature = "aws-lc")]
    cert_base64: String,
}

impl Signer {
    /// From the PKCS#8 PEM key and the DER certificate.
    pub fn new(key_pem: &str, cert_der: &[u8], algorithm: SignatureAlgorithm) -> Result<Self> {
        let mut key = loader::load_rsa_private_pem(key_pem.as_bytes()).map_err(|e| SamlError::Crypto(format!("signing key: {e}")))?;
        key.x509_chain = vec![cert_der.to_vec()];
        let mut keys = KeysManager::new();
        keys.add_key(key);
        // AWS-LC signs with RSA keys of 2048 bits and more only; others stay on the RustCrypto path.
        #[cfg(feature = "aws-lc")]
        let fast = match algorithm {
            SignatureAlgorithm::Sha256 => {
                let (_, der) =
                    x509_cert::der::pem::decode_vec(key_pem.as_bytes()).map_err(|e| SamlError::Crypto(format!("signing key: {e}")))?;
                aws_lc_rs::signature::RsaKeyPair::from_pkcs8(&der).ok()
            }
            SignatureAlgorithm::Sha1 => None,
        };
        #[cfg(feature = "aws-lc")]
        let cert_base64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, cert_der);
        Ok(Signer {
            ctx: DsigContext::new(keys),
            algorithm,
            #[cfg(feature = "aws-lc")]
            fast,
            #[cfg(feature = "aws-lc")]
            cert_base64,
        })
    }

    /// Sign the element `target` (whose ID is `id`) with an enveloped signature placed right
    /// after its child `after` (the Issuer), where SAML's schema wants it.
    pub(crate) fn sign_after(&self, t: &mut Tree, target: NodeId, after: NodeId, id: &str) -> Result<()> {
        let (signature_method, digest_method) = self.algorithm.uris();
        let signature = t.detached(DSIG_NS, "ds", "Signature");
        t.declare(signature, "ds", DSIG_NS);
        let info = t.element(Some(signature), DSIG_NS, "ds", "SignedInfo");
        let c14n = t.element(Some(info), DSIG_NS, "ds", "CanonicalizationMethod");
        t.attr(c14n, "Algorithm", EXC_C14N);
        let method = t.element(Some(info), DSIG_NS, "ds", "SignatureMethod");
        t.attr(method, "Algorithm", signature_method);
        let reference = t.element(Some(info), DSIG_NS, "ds", "Reference");
        t.attr(reference, "URI", &format!("#{id}"));
        let transforms = t.element(Some(reference), DSIG_NS, "ds", "Transforms");
        for algorithm in [ENVELOPED_SIGNATURE, EXC_C14N] {
            let transform = t.element(Some(transforms), DSIG_NS, "ds", "Transform");
            t.attr(transform, "Algorithm", algorithm);
        }
        let digest = t.element(Some(reference), DSIG_NS, "ds", "DigestMethod");
        t.attr(digest, "Algorithm", digest_method);
        t.element(Some(reference), DSIG_NS, "ds", "DigestValue");
        t.element(Some(signature), DSIG_NS, "ds", "SignatureValue");
        let key_info = t.element(Some(signature), DSIG_NS, "ds", "KeyInfo");
        t.element(Some(key_info), DSIG_NS, "ds", "X509Data");
        t.doc.insert_after(target, signature, after);
        #[cfg(feature = "aws-lc")]
        if let Some(key) = &self.fast {
            return self.sign_fast(t, key, target, signature);
        }
        sign_document_node(&self.ctx, &mut t.doc, signature).map_err(|e| SamlError::Crypto(format!("signing failed: {e}")))
    }

    /// The same enveloped signature, assembled from bergshamra's exclusive C14N, SHA-256 and
    /// AWS-LC's RSA: the reference's digest (the target without its Signature), then the
    /// signature over the canonical SignedInfo.
    #[cfg(feature = "aws-lc")]
    fn sign_fast(&self, t: &mut Tree, key: &aws_lc_rs::signature::RsaKeyPair, target: NodeId, signature: NodeId) -> Result<()> {
        use base64::Engine;
        use bergshamra::c14n::{C14nMode, canonicalize_doc};
        use bergshamra::xml::nodeset::NodeSet;
        use sha2::Digest;
        let b64 = base64::engine::general_purpose::STANDARD;
        let c14n = |doc: &Document<'_>, set: &NodeSet| {
            canonicalize_doc(doc, C14nMode::Exclusive, Some(set), &[] as &[&str])
                .map_err(|e| SamlError::Crypto(format!("canonicalization: {e}")))
        };
        let referenced = NodeSet::tree_without_comments(target, &t.doc).subtract(&NodeSet::tree_with_comments(signature, &t.doc));
        let digest = b64.encode(sha2::Sha256::digest(c14n(&t.doc, &referenced)?));
        let find = |doc: &Document<'_>, from: NodeId, local: &str| {
            doc.descendants(from).into_iter().find(|&n| doc.element(n).is_some_and(|e| e.name.matches(Some(DSIG_NS), local)))
        };
        let missing = || SamlError::Crypto("signature template incomplete".into());
        let digest_value = find(&t.doc, signature, "DigestValue").ok_or_else(missing)?;
        let text = t.doc.create_text(digest);
        t.doc.append_child(digest_value, text);
        let signed_info = find(&t.doc, signature, "SignedInfo").ok_or_else(missing)?;
        let message = c14n(&t.doc, &NodeSet::tree_without_comments(signed_info, &t.doc))?;
        let mut value = vec![0u8; key.public_modulus_len()];
        key.sign(&aws_lc_rs::signature::RSA_PKCS1_SHA256, &aws_lc_rs::rand::SystemRandom::new(), &message, &mut value)
            .map_err(|_| SamlError::Crypto("RSA signing failed".into()))?;
        let signature_value = find(&t.doc, signature, "SignatureValue").ok_or_else(missing)?;
        let text = t.doc.create_text(b64.encode(value));
        t.doc.append_child(signature_value, text);
        let data = find(&t.doc, signature, "X509Data").ok_or_else(missing)?;
        t.text_element(data, DSIG_NS, "ds", "X509Certificate", &self.cert_base64);
        Ok(())
    }
}

/// What a verified Assertion says, read from the node its signature covers (and nothing else).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifiedAssertion {
    pub id: String,
    pub issuer: String,
    pub name_id: String,
    pub name_id_format: String,
    pub audiences: Vec<String>,
    pub recipient: String,
    pub in_response_to: Option<String>,
    pub not_on_or_after: String,
    /// Attribute name and values, in document order.
    pub attributes: Vec<(String, Vec<String>)>,
}

/// Verify the signature over the Assertion in `xml` (directly, or through a signed Response that
/// contains it) with the trusted certificates only (PEM; any of them may have signed, for
/// rollover). KeyInfo in the document is never trusted.
pub fn verify_assertion(xml: &str, trusted_cert_pems: &[&str]) -> Result<VerifiedAssertion> {
    let doc = crate::parse_untrusted(xml)?;
    let covered = covered_nodes(xml, &doc, trusted_cert_pems)?;
    // The assertion itself, or the one inside a signed Response: only ever a covered node.
    let assertion = covered
        .iter()
        .find_map(|&n| if is(&doc, n, "Assertion") { Some(n) } else { child(&doc, n, "Assertion") })
        .ok_or_else(|| SamlError::Signature("no signature covers an Assertion".into()))?;
    Ok(read_assertion(&doc, assertion))
}

/// The nodes that valid signatures in `doc` cover, checked with the trusted certificates only
/// (bergshamra's default context: KeyInfo never supplies a key, references must not wrap). Any
/// invalid signature, or one whose references reach outside the document, fails the whole
/// document.
pub(crate) fn covered_nodes(xml: &str, doc: &Document<'_>, trusted_cert_pems: &[&str]) -> Result<Vec<NodeId>> {
    for signature in signatures(doc) {
        if let Some(why) = unsafe_reference(doc, signature) {
            return Err(SamlError::Signature(why));
        }
    }
    let mut keys = KeysManager::new();
    for pem in trusted_cert_pems {
        keys.add_key(loader::load_x509_cert_pem(pem.as_bytes()).map_err(|e| SamlError::Invalid(format!("trusted certificate: {e}")))?);
    }
    let ctx = DsigContext::new(keys);
    let results = verify_all_document_with_source(&ctx, doc, Some(xml)).map_err(|e| SamlError::Signature(e.to_string()))?;
    let mut covered = Vec::new();
    for result in &results {
        match result {
            VerifyResult::Valid { references, .. } => {
                covered.extend(references.iter().filter(|r| r.digest_verified).filter_map(|r| r.resolved_node));
            }
            VerifyResult::Invalid { reason } => return Err(SamlError::Signature(reason.to_string())),
        }
    }
    Ok(covered)
}

/// Every `ds:Signature` element, wherever it is (bergshamra verifies them all).
pub(crate) fn signatures(doc: &Document<'_>) -> Vec<NodeId> {
    doc.descendants(doc.root()).into_iter().filter(|&n| is_dsig(doc, n, "Signature")).collect()
}

/// Why a signature's references are refused before verification, if they are: only
/// same-document `#id` references, transformed only by enveloped-signature and
/// canonicalization. Anything else would make bergshamra read files (relative URIs), or digest
/// a filtered subset of the element (XPath, XSLT) while callers read the whole element.
pub(crate) fn unsafe_reference(doc: &Document<'_>, signature: NodeId) -> Option<String> {
    use bergshamra::core::algorithm as a;
    const TRANSFORMS: [&str; 7] =
        [ENVELOPED_SIGNATURE, a::EXC_C14N, a::EXC_C14N_WITH_COMMENTS, a::C14N, a::C14N_WITH_COMMENTS, a::C14N11, a::C14N11_WITH_COMMENTS];
    for reference in doc.descendants(signature).into_iter().filter(|&n| is_dsig(doc, n, "Reference")) {
        let uri = doc.get_attribute(reference, "URI").unwrap_or_default();
        let id = uri.strip_prefix('#').unwrap_or_default();
        if id.is_empty() || id.contains(['(', ')', '/', '#']) {
            return Some(format!("reference URI {uri:?} is not a same-document ID"));
        }
        for transform in doc.descendants(reference).into_iter().filter(|&n| is_dsig(doc, n, "Transform")) {
            let algorithm = doc.get_attribute(transform, "Algorithm").unwrap_or_default();
            if !TRANSFORMS.contains(&algorithm) {
                return Some(format!("transform {algorithm:?} is not allowed"));
            }
        }
    }
    None
}

fn is_dsig(doc: &Document<'_>, node: NodeId, local: &str) -> bool {
    doc.element(node).is_some_and(|e| e.name.matches(Some(DSIG_NS), local))
}

fn is(doc: &Document<'_>, node: NodeId, local: &str) -> bool {
    doc.element(node).is_some_and(|e| e.name.matches(Some(ASSERTION_NS), local))
}

fn child(doc: &Document<'_>, node: NodeId, local: &str) -> Option<NodeId> {
    doc.children(node).into_iter().find(|&c| is(doc, c, local))
}

fn children(doc: &Document<'_>, node: NodeId, local: &str) -> Vec<NodeId> {
    doc.children(node).into_iter().filter(|&c| is(doc, c, local)).collect()
}

fn read_assertion(doc: &Document<'_>, a: NodeId) -> VerifiedAssertion {
    let text = |n: Option<NodeId>| n.map(|n| doc.text_content_deep(n)).unwrap_or_default();
    let attr = |n: Option<NodeId>, name: &str| n.and_then(|n| doc.get_attribute(n, name)).map(str::to_string);
    let name_id = child(doc, a, "Subject").and_then(|s| child(doc, s, "NameID"));
    // Direct-child paths only: a Signature inside the assertion is not covered by its digest.
    let data =
        child(doc, a, "Subject").and_then(|s| child(doc, s, "SubjectConfirmation")).and_then(|c| child(doc, c, "SubjectConfirmationData"));
    let audiences = children(doc, a, "Conditions")
        .into_iter()
        .flat_map(|c| children(doc, c, "AudienceRestriction"))
        .flat_map(|r| children(doc, r, "Audience"))
        .map(|n| doc.text_content_deep(n))
        .collect();
    let attributes = children(doc, a, "AttributeStatement")
        .into_iter()
        .flat_map(|s| children(doc, s, "Attribute"))
        .map(|n| {
            let values = doc.children(n).into_iter().filter(|&v| is(doc, v, "AttributeValue")).map(|v| doc.text_content_deep(v)).collect();
            (doc.get_attribute(n, "Name").unwrap_or_default().to_string(), values)
        })
        .collect();
    VerifiedAssertion {
        id: attr(Some(a), "ID").unwrap_or_default(),
        issuer: text(child(doc, a, "Issuer")),
        name_id: text(name_id),
        name_id_format: attr(name_id, "Format").unwrap_or_default(),
        audiences,
        recipient: attr(data, "Recipient").unwrap_or_default(),
        in_response_to: attr(data, "InResponseTo"),
        not_on_or_after: attr(data, "NotOnOrAfter").unwrap_or_default(),
        attributes,
    }
}
