//! `Gatehouse.*` application operations: the SAML configuration, attribute mappings and
//! certificates that sso-admin's model has no shapes for.

use gatehouse_core::Ctx;
use gatehouse_core::model::{AppCertificate, Application, AttributeMapping, SignedParts};
use gatehouse_core::services::applications::{SamlConfigChange, expiry_status, iso_duration};
use serde_json::{Value, json};

use super::sso_admin::opt_text as text;
use super::{ApiError, epoch};
use crate::AppState;

fn saml_json(state: &AppState, app: &Application) -> Value {
    let svc = &state.services;
    let id = &app.application_id;
    let s = &app.saml;
    let mut v = json!({
        "AcsUrl": s.acs_url, "Audience": s.audience, "SessionDuration": iso_duration(s.session_minutes),
        "SignedParts": s.signed_parts.as_str(), "RequireSignedAuthnRequests": s.require_signed_requests,
        "SpCertificates": s.sp_certificates,
        "IdpEntityId": svc.idp_entity_id(id), "IdpSsoUrl": svc.idp_sso_url(id),
        "IdpMetadataUrl": format!("{}/metadata", svc.idp_entity_id(id)),
        "IdpCertificateUrl": format!("{}/certificate", svc.idp_entity_id(id)),
        "Instructions": gatehouse_saml::catalog::find(&app.provider).map(|t| t.instructions).unwrap_or_default(),
    });
    if let Some(r) = &s.relay_state {
        v["RelayState"] = json!(r);
    }
    v
}

fn mappings_json(app: &Application) -> Value {
    let rows: Vec<Value> =
        app.saml.mappings.iter().map(|m| json!({"Attribute": m.attribute, "Source": m.source, "Format": m.format})).collect();
    json!({ "AttributeMappings": rows })
}

fn certificate_json(state: &AppState, c: &AppCertificate) -> Value {
    json!({
        "CertificateId": c.certificate_id, "Status": if c.active { "ACTIVE" } else { "INACTIVE" },
        "KeySize": c.key_size, "SignatureAlgorithm": c.algorithm,
        "NotBefore": epoch(&c.not_before), "NotAfter": epoch(&c.not_after),
        "ExpiryStatus": expiry_status(c, state.services.clock().now()), "CertificatePem": c.certificate_pem,
    })
}

/// Ok(None): not an application operation.
pub async fn dispatch(state: &AppState, ctx: &Ctx, operation: &str, input: &Value) -> Result<Option<Value>, ApiError> {
    let svc = &state.services;
    let app_id = || -> Result<String, ApiError> {
        let arn = input.get("ApplicationArn").and_then(Value::as_str).ok_or_else(|| ApiError::validation("ApplicationArn: is required"))?;
        Ok(svc.application_id_of(arn)?)
    };
    let certificate_id = || text(input, "CertificateId").unwrap_or_default();
    let out = match operation {
        "PutApplicationSamlConfiguration" => {
            let change = SamlConfigChange {
                acs_url: text(input, "AcsUrl"),
                audience: text(input, "Audience"),
                metadata_xml: text(input, "MetadataXml"),
                relay_state: text(input, "RelayState"),
                session_duration: text(input, "SessionDuration"),
                signed_parts: text(input, "SignedParts").and_then(|s| SignedParts::parse(&s)),
                require_signed_requests: input.get("RequireSignedAuthnRequests").and_then(Value::as_bool),
                sp_certificates: input
                    .get("SpCertificates")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect()),
            };
            svc.put_saml_configuration(ctx, &app_id()?, change).await?;
            json!({})
        }
        "DescribeApplicationSamlConfiguration" => saml_json(state, &svc.describe_application(ctx, &app_id()?).await?),
        "PutApplicationAttributeMappings" => {
            let rows = input
                .get("AttributeMappings")
                .and_then(Value::as_array)
                .map(|rows| {
                    rows.iter()
                        .map(|r| AttributeMapping {
                            attribute: text(r, "Attribute").unwrap_or_default(),
                            source: text(r, "Source").unwrap_or_default(),
                            format: text(r, "Format").unwrap_or_default(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            svc.put_attribute_mappings(ctx, &app_id()?, rows).await?;
            json!({})
        }
        "GetApplicationAttributeMappings" => mappings_json(&svc.describe_application(ctx, &app_id()?).await?),
        "ListApplicationCertificates" => {
            let certs = svc.list_app_certificates(ctx, &app_id()?).await?;
            json!({"Certificates": certs.iter().map(|c| certificate_json(state, c)).collect::<Vec<_>>()})
        }
        "CreateApplicationCertificate" => {
            let months = input.get("ValidityMonths").and_then(Value::as_u64).unwrap_or(0) as u32;
            let bits = input.get("KeySize").and_then(Value::as_u64).unwrap_or(0) as u32;
            let algorithm = text(input, "SignatureAlgorithm").unwrap_or_default();
            let cert = svc.create_app_certificate(ctx, &app_id()?, months, bits, &algorithm).await?;
            json!({"Certificate": certificate_json(state, &cert)})
        }
        "ActivateApplicationCertificate" => {
            svc.activate_app_certificate(ctx, &app_id()?, &certificate_id()).await?;
            json!({})
        }
        "DeleteApplicationCertificate" => {
            svc.delete_app_certificate(ctx, &app_id()?, &certificate_id()).await?;
            json!({})
        }
        _ => return Ok(None),
    };
    Ok(Some(out))
}
