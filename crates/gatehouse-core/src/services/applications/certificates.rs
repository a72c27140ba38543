//! Application signing certificates: created with the application (five years, RSA-2048,
//! SHA-256), at most two, one active (it signs), only an inactive one can be deleted. Private
//! keys are sealed with the master key; each is unsealed and parsed once per node.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use gatehouse_saml::{ExpiryStatus, KeySize, SignatureAlgorithm, Signer};
use serde_json::json;

use super::super::Services;
use super::super::op::Source;
use super::super::principal::Ctx;
use crate::error::{Error, ResourceType, Result};
use crate::model::{AppCertificate, Application};

/// The guide: "An application can have up to two certificates assigned to it."
pub const MAX_APP_CERTIFICATES: usize = 2;

/// Signers by certificate id. A certificate's key never changes, so entries never go stale; a
/// deleted certificate is simply never asked for again (the map is cleared when it grows).
#[derive(Default)]
pub(crate) struct SignerCache(Mutex<HashMap<String, Arc<Signer>>>);

impl SignerCache {
    fn get(&self, id: &str) -> Option<Arc<Signer>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get(id).cloned()
    }
    fn put(&self, id: &str, signer: Arc<Signer>) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= 10_000 {
            map.clear();
        }
        map.insert(id.to_string(), signer);
    }
}

pub fn parse_key_size(bits: u32) -> Result<KeySize> {
    match bits {
        1024 => Ok(KeySize::Rsa1024),
        2048 => Ok(KeySize::Rsa2048),
        _ => Err(Error::validation("KeySize", "must be 1024 or 2048")),
    }
}

pub fn parse_algorithm(name: &str) -> Result<SignatureAlgorithm> {
    match name {
        "SHA1" => Ok(SignatureAlgorithm::Sha1),
        "SHA256" => Ok(SignatureAlgorithm::Sha256),
        _ => Err(Error::validation("SignatureAlgorithm", "must be SHA1 or SHA256")),
    }
}

fn algorithm_name(a: SignatureAlgorithm) -> &'static str {
    match a {
        SignatureAlgorithm::Sha1 => "SHA1",
        SignatureAlgorithm::Sha256 => "SHA256",
    }
}

/// The console's colour of a certificate's expiry: EXPIRED (red), EXPIRING_SOON (yellow, 90 days
/// or less) or VALID (green).
pub fn expiry_status(cert: &AppCertificate, now: chrono::DateTime<chrono::Utc>) -> &'static str {
    match ExpiryStatus::of(cert.not_after, now) {
        ExpiryStatus::Expired => "EXPIRED",
        ExpiryStatus::ExpiringSoon => "EXPIRING_SOON",
        ExpiryStatus::Valid => "VALID",
    }
}

impl Services {
    /// Generate a key and certificate (on a blocking thread: RSA key generation takes a while).
    pub(crate) async fn new_app_certificate(
        &self,
        app: &Application,
        months: u32,
        key_size: KeySize,
        algorithm: SignatureAlgorithm,
        active: bool,
    ) -> Result<AppCertificate> {
        self.new_certificate(&app.application_id, &app.name, months, key_size, algorithm, active).await
    }

    /// A certificate of `scope` (an application id, or the AWS accounts' scope).
    pub(crate) async fn new_certificate(
        &self,
        scope: &str,
        label: &str,
        months: u32,
        key_size: KeySize,
        algorithm: SignatureAlgorithm,
        active: bool,
    ) -> Result<AppCertificate> {
        if !(1..=120).contains(&months) {
            return Err(Error::validation("ValidityMonths", "must be between 1 and 120 months"));
        }
        let now = self.clock.now();
        let cn = format!("Gatehouse {label} ({scope})");
        let generated = tokio::task::spawn_blocking(move || gatehouse_saml::cert::generate(&cn, key_size, algorithm, months, now))
            .await
            .map_err(|e| Error::internal(format!("certificate generation stopped: {e}")))?
            .map_err(|e| Error::internal(format!("certificate generation failed: {e}")))?;
        Ok(AppCertificate {
            certificate_id: crate::ids::new_uuid(),
            application_id: scope.to_string(),
            certificate_pem: generated.cert_pem.clone(),
            sealed_key: self.key.encrypt_str(&generated.key_pem),
            key_size: key_size.bits() as u32,
            algorithm: algorithm_name(algorithm).to_string(),
            active,
            not_before: generated.not_before,
            not_after: generated.not_after,
            created_at: now,
        })
    }

    /// The signer of a stored certificate, built once per node.
    pub(crate) fn signer_of(&self, cert: &AppCertificate) -> Result<Arc<Signer>> {
        if let Some(s) = self.signers.get(&cert.certificate_id) {
            return Ok(s);
        }
        let key = self.key.decrypt_string(&cert.sealed_key).map_err(|_| Error::internal("a certificate key cannot be unsealed"))?;
        let der = gatehouse_saml::cert::pem_to_der(&cert.certificate_pem).map_err(|e| Error::internal(e.to_string()))?;
        let algorithm = parse_algorithm(&cert.algorithm)?;
        let signer = Arc::new(Signer::new(&key, &der, algorithm).map_err(|e| Error::internal(e.to_string()))?);
        self.signers.put(&cert.certificate_id, signer.clone());
        Ok(signer)
    }

    pub async fn list_app_certificates(&self, ctx: &Ctx, app_id: &str) -> Result<Vec<AppCertificate>> {
        let mut op = self.begin(ctx, Source::Sso, "ListApplicationCertificates", true, json!({"applicationId": app_id})).await?;
        let result = async {
            op.authorize(&self.application_arn(app_id)?)?;
            self.load_application(&mut op.tx, app_id).await?;
            Ok(op.tx.list_app_certificates(app_id).await?)
        }
        .await;
        op.finish(result).await
    }

    /// "Generate new certificate": validity in months, key size, algorithm. It starts inactive.
    pub async fn create_app_certificate(
        &self,
        ctx: &Ctx,
        app_id: &str,
        months: u32,
        key_bits: u32,
        algorithm: &str,
    ) -> Result<AppCertificate> {
        let request = json!({"applicationId": app_id, "validityMonths": months, "keySize": key_bits, "signatureAlgorithm": algorithm});
        let mut op = self.begin(ctx, Source::Sso, "CreateApplicationCertificate", false, request).await?;
        let result = async {
            op.authorize(&self.application_arn(app_id)?)?;
            let (key_size, algorithm) = (parse_key_size(key_bits)?, parse_algorithm(algorithm)?);
            let app = self.load_application(&mut op.tx, app_id).await?;
            if op.tx.list_app_certificates(app_id).await?.len() >= MAX_APP_CERTIFICATES {
                return Err(Error::QuotaExceeded {
                    message: format!("An application has at most {MAX_APP_CERTIFICATES} certificates; delete the inactive one first"),
                });
            }
            let cert = self.new_app_certificate(&app, months, key_size, algorithm, false).await?;
            op.tx.insert_app_certificate(&cert).await?;
            op.respond(json!({"certificateId": cert.certificate_id, "notAfter": cert.not_after}));
            Ok(cert)
        }
        .await;
        op.finish(result).await
    }

    /// "Set as active": this certificate signs from now on; the other becomes inactive.
    pub async fn activate_app_certificate(&self, ctx: &Ctx, app_id: &str, certificate_id: &str) -> Result<()> {
        let request = json!({"applicationId": app_id, "certificateId": certificate_id});
        let mut op = self.begin(ctx, Source::Sso, "ActivateApplicationCertificate", false, request).await?;
        let result = async {
            op.authorize(&self.application_arn(app_id)?)?;
            self.load_application(&mut op.tx, app_id).await?;
            if !op.tx.activate_app_certificate(app_id, certificate_id).await? {
                return Err(Error::not_found(ResourceType::Certificate, certificate_id));
            }
            Ok(())
        }
        .await;
        op.finish(result).await
    }

    /// Only an inactive certificate can be deleted (the guide's step 4).
    pub async fn delete_app_certificate(&self, ctx: &Ctx, app_id: &str, certificate_id: &str) -> Result<()> {
        let request = json!({"applicationId": app_id, "certificateId": certificate_id});
        let mut op = self.begin(ctx, Source::Sso, "DeleteApplicationCertificate", false, request).await?;
        let result = async {
            op.authorize(&self.application_arn(app_id)?)?;
            self.load_application(&mut op.tx, app_id).await?;
            let certs = op.tx.list_app_certificates(app_id).await?;
            let cert = certs
                .iter()
                .find(|c| c.certificate_id == certificate_id)
                .ok_or_else(|| Error::not_found(ResourceType::Certificate, certificate_id))?;
            if cert.active {
                return Err(Error::conflict(
                    "The active certificate signs every assertion and cannot be deleted; set another certificate active first",
                ));
            }
            op.tx.delete_app_certificate(app_id, certificate_id).await?;
            Ok(())
        }
        .await;
        op.finish(result).await
    }
}
