//! Signing certificates: an RSA key and a self-signed X.509 certificate for it. The guide's
//! choices: RSA 1024 or 2048 bits, SHA-1 or SHA-256, a validity in months (5 years at creation).

use chrono::{DateTime, Months, Utc};
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use rsa::{RsaPrivateKey, RsaPublicKey};
use std::str::FromStr;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::der::{DateTime as DerTime, Encode, EncodePem};
use x509_cert::ext::pkix::{KeyUsage, KeyUsages, SubjectKeyIdentifier};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};
use x509_cert::time::{Time, Validity};
use zeroize::Zeroizing;

use crate::{Result, SamlError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySize {
    Rsa1024,
    Rsa2048,
}

impl KeySize {
    pub fn bits(self) -> usize {
        match self {
            KeySize::Rsa1024 => 1024,
            KeySize::Rsa2048 => 2048,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    Sha1,
    Sha256,
}

impl SignatureAlgorithm {
    /// XML-DSig's SignatureMethod and DigestMethod URIs.
    pub fn uris(self) -> (&'static str, &'static str) {
        use bergshamra::core::algorithm as a;
        match self {
            SignatureAlgorithm::Sha1 => (a::RSA_SHA1, a::SHA1),
            SignatureAlgorithm::Sha256 => (a::RSA_SHA256, a::SHA256),
        }
    }
}

/// A key and its certificate. The key is PKCS#8 PEM (callers seal it at rest).
#[derive(Clone)]
pub struct Certificate {
    pub key_pem: Zeroizing<String>,
    pub cert_pem: String,
    pub cert_der: Vec<u8>,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub key_size: KeySize,
    pub algorithm: SignatureAlgorithm,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificate").field("not_after", &self.not_after).field("key_size", &self.key_size).finish_non_exhaustive()
    }
}

/// The console's colours for a certificate's expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryStatus {
    /// Red: expired.
    Expired,
    /// Yellow: expires within 90 days.
    ExpiringSoon,
    /// Green.
    Valid,
}

impl ExpiryStatus {
    pub fn of(not_after: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        if now >= not_after {
            ExpiryStatus::Expired
        } else if not_after - now <= chrono::Duration::days(90) {
            ExpiryStatus::ExpiringSoon
        } else {
            ExpiryStatus::Valid
        }
    }
}

/// A self-signed end-entity certificate: issuer = subject, key usage digitalSignature only.
struct SelfSigned {
    subject: Name,
}

impl BuilderProfile for SelfSigned {
    fn get_issuer(&self, subject: &Name) -> Name {
        subject.clone()
    }
    fn get_subject(&self) -> Name {
        self.subject.clone()
    }
    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let ski = SubjectKeyIdentifier::try_from(spk)?.to_extension(tbs.subject(), &[])?;
        let usage = KeyUsage(KeyUsages::DigitalSignature.into()).to_extension(tbs.subject(), std::slice::from_ref(&ski))?;
        Ok(vec![ski, usage])
    }
}

/// RFC 4514 escaping of an attribute value (`,` `+` `"` `\` `<` `>` `;` `=`, and leading `#` or
/// surrounding spaces).
fn rfc4514(value: &str) -> String {
    let n = value.chars().count();
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=') || (i == 0 && matches!(c, '#' | ' ')) || (i + 1 == n && c == ' ') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn der_time(t: DateTime<Utc>) -> Result<Time> {
    let secs = u64::try_from(t.timestamp()).map_err(|_| SamlError::Crypto("a certificate cannot start before 1970".into()))?;
    let dt = DerTime::from_unix_duration(std::time::Duration::from_secs(secs)).map_err(|e| SamlError::Crypto(e.to_string()))?;
    Ok(Time::from(dt))
}

fn crypto(e: impl std::fmt::Display) -> SamlError {
    SamlError::Crypto(e.to_string())
}

/// A new key and self-signed certificate for `common_name`, valid from `now` for `months`.
pub fn generate(
    common_name: &str,
    key_size: KeySize,
    algorithm: SignatureAlgorithm,
    months: u32,
    now: DateTime<Utc>,
) -> Result<Certificate> {
    if months == 0 {
        return Err(SamlError::Invalid("a certificate is valid for at least one month".into()));
    }
    let not_before = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
    let not_after = not_before.checked_add_months(Months::new(months)).ok_or_else(|| SamlError::Invalid("validity too long".into()))?;
    let mut rng = getrandom::rand_core::UnwrapErr(getrandom::SysRng);
    let key = RsaPrivateKey::new(&mut rng, key_size.bits()).map_err(crypto)?;
    let spki = SubjectPublicKeyInfoOwned::from_key(&RsaPublicKey::from(&key)).map_err(crypto)?;
    let subject = Name::from_str(&format!("CN={}", rfc4514(common_name))).map_err(crypto)?;
    let validity = Validity::new(der_time(not_before)?, der_time(not_after)?);
    let builder = CertificateBuilder::new(SelfSigned { subject }, SerialNumber::generate(&mut rng), validity, spki).map_err(crypto)?;
    let cert = match algorithm {
        SignatureAlgorithm::Sha1 => builder.build::<_, rsa::pkcs1v15::Signature>(&SigningKey::<sha1::Sha1>::new(key.clone())),
        SignatureAlgorithm::Sha256 => builder.build::<_, rsa::pkcs1v15::Signature>(&SigningKey::<sha2::Sha256>::new(key.clone())),
    }
    .map_err(crypto)?;
    Ok(Certificate {
        key_pem: key.to_pkcs8_pem(LineEnding::LF).map_err(crypto)?,
        cert_pem: cert.to_pem(LineEnding::LF).map_err(crypto)?,
        cert_der: cert.to_der().map_err(crypto)?,
        not_before,
        not_after,
        key_size,
        algorithm,
    })
}

/// The DER inside a certificate PEM (an SP's, or one we stored).
pub fn pem_to_der(pem: &str) -> Result<Vec<u8>> {
    let (label, der) =
        x509_cert::der::pem::decode_vec(pem.trim().as_bytes()).map_err(|e| SamlError::Invalid(format!("not a PEM certificate: {e}")))?;
    if label != "CERTIFICATE" {
        return Err(SamlError::Invalid(format!("expected a CERTIFICATE, got {label}")));
    }
    use x509_cert::der::Decode;
    x509_cert::Certificate::from_der(&der).map_err(|e| SamlError::Invalid(format!("not an X.509 certificate: {e}")))?;
    Ok(der)
}

/// When a certificate (PEM) is valid: (not before, not after). An identity provider's imported
/// certificate shows its expiry with these.
pub fn validity(pem: &str) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    use x509_cert::der::Decode;
    let der = pem_to_der(pem)?;
    let cert = x509_cert::Certificate::from_der(&der).map_err(|e| SamlError::Invalid(format!("not an X.509 certificate: {e}")))?;
    let v = &cert.tbs_certificate().validity();
    let at = |t: &x509_cert::time::Time| {
        DateTime::from_timestamp(t.to_unix_duration().as_secs() as i64, 0)
            .ok_or_else(|| SamlError::Invalid("certificate time out of range".into()))
    };
    Ok((at(&v.not_before)?, at(&v.not_after)?))
}

impl Certificate {
    /// The certificate's DER in base64, as `<ds:X509Certificate>` and metadata carry it.
    pub fn base64(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(&self.cert_der)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_colours_at_each_boundary() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let d = chrono::Duration::days;
        assert_eq!(ExpiryStatus::of(now + d(91), now), ExpiryStatus::Valid);
        assert_eq!(ExpiryStatus::of(now + d(90), now), ExpiryStatus::ExpiringSoon);
        assert_eq!(ExpiryStatus::of(now + chrono::Duration::seconds(1), now), ExpiryStatus::ExpiringSoon);
        assert_eq!(ExpiryStatus::of(now, now), ExpiryStatus::Expired);
    }

    #[test]
    fn names_are_escaped() {
        assert_eq!(rfc4514("Acme, Inc. = x"), "Acme\\, Inc. \\= x");
        assert_eq!(rfc4514(" #a "), "\\ #a\\ ");
    }

    #[test]
    fn validity_reads_back() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let c = generate("Gatehouse app, test", KeySize::Rsa2048, SignatureAlgorithm::Sha256, 12, now).unwrap();
        assert_eq!(validity(&c.cert_pem).unwrap(), (c.not_before, c.not_after));
        assert!(validity("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----").is_err());
    }

    #[test]
    fn five_year_certificate() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let c = generate("Gatehouse app, test", KeySize::Rsa2048, SignatureAlgorithm::Sha256, 60, now).unwrap();
        assert!(c.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(c.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!((c.not_after - c.not_before).num_days(), 365 * 5 + 1, "60 calendar months");
    }
}
