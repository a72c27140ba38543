//! Verifying AWS Signature Version 4 on incoming requests, as botocore and the AWS CLI sign them.
//! The canonical request is rebuilt from the request as received, restricted to the headers the
//! client listed in `SignedHeaders`; the signing key and HMAC come from `aws-sigv4`. Signatures
//! are compared in constant time. Pure: no I/O, no clock (the caller passes `now`).

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use sha2::{Digest, Sha256};
use std::time::SystemTime;
use subtle::ConstantTimeEq;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// How far a request's X-Amz-Date may be from now, either way.
pub const MAX_SKEW_SECONDS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// No Authorization header: AWS answers MissingAuthenticationTokenException.
    #[error("Missing Authentication Token")]
    Missing,
    #[error("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' with algorithm AWS4-HMAC-SHA256: {0}")]
    Malformed(String),
    #[error("Credential should be scoped to a valid region and service: {0}")]
    Scope(String),
    #[error("Signature expired: {request} is not within {max} seconds of now ({now})")]
    Expired { request: String, now: String, max: i64 },
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."
    )]
    Mismatch,
}

/// The parsed `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key_id: String,
    /// yyyymmdd
    pub date: String,
    pub region: String,
    pub service: String,
    /// Lower-case, sorted as sent.
    pub signed_headers: Vec<String>,
    pub signature: String,
}

impl Authorization {
    pub fn parse(header: &str) -> Result<Self, SigV4Error> {
        let bad = |why: &str| SigV4Error::Malformed(why.to_string());
        let rest = header.strip_prefix(ALGORITHM).ok_or_else(|| bad("unsupported algorithm"))?;
        let (mut credential, mut signed, mut signature) = (None, None, None);
        for part in rest.split(',') {
            let (k, v) = part.trim().split_once('=').ok_or_else(|| bad("expected key=value"))?;
            match k {
                "Credential" => credential = Some(v),
                "SignedHeaders" => signed = Some(v),
                "Signature" => signature = Some(v),
                _ => return Err(bad("unknown element")),
            }
        }
        let credential = credential.ok_or_else(|| bad("no Credential"))?;
        let mut scope = credential.split('/');
        let (Some(key), Some(date), Some(region), Some(service), Some("aws4_request"), None) =
            (scope.next(), scope.next(), scope.next(), scope.next(), scope.next(), scope.next())
        else {
            return Err(bad("Credential must be <key>/<date>/<region>/<service>/aws4_request"));
        };
        let signed_headers: Vec<String> = signed.ok_or_else(|| bad("no SignedHeaders"))?.split(';').map(str::to_ascii_lowercase).collect();
        if !signed_headers.iter().any(|h| h == "host") {
            return Err(bad("the host header must be signed"));
        }
        let signature = signature.ok_or_else(|| bad("no Signature"))?;
        if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("Signature must be 64 hex digits"));
        }
        Ok(Authorization {
            access_key_id: key.to_string(),
            date: date.to_string(),
            region: region.to_string(),
            service: service.to_string(),
            signed_headers,
            signature: signature.to_ascii_lowercase(),
        })
    }
}

/// What the verifier needs of a received request.
pub struct Request<'a> {
    pub method: &'a str,
    /// The path as received (already URI-encoded by the client).
    pub path: &'a str,
    /// The raw query string, without '?'.
    pub query: &'a str,
    /// Header (name, value) pairs as received; names in any case, repeated names allowed.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

fn header_values<'h>(headers: &'h [(String, String)], name: &str) -> Vec<&'h str> {
    headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
}

/// Trim and collapse runs of spaces, as the canonical form asks.
fn canonical_value(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(&str, &str)> = query.split('&').filter(|p| !p.is_empty()).map(|p| p.split_once('=').unwrap_or((p, ""))).collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The canonical request over exactly the signed headers.
pub fn canonical_request(req: &Request, signed_headers: &[String]) -> Result<String, SigV4Error> {
    let mut headers = String::new();
    for name in signed_headers {
        let values = header_values(req.headers, name);
        if values.is_empty() {
            return Err(SigV4Error::Malformed(format!("signed header '{name}' is missing from the request")));
        }
        let joined: Vec<String> = values.iter().map(|v| canonical_value(v)).collect();
        headers.push_str(&format!("{name}:{}\n", joined.join(",")));
    }
    let path = if req.path.is_empty() { "/" } else { req.path };
    Ok(format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method,
        path,
        canonical_query(req.query),
        headers,
        signed_headers.join(";"),
        sha256_hex(req.body)
    ))
}

fn parse_amz_date(text: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%SZ").ok().map(|n| Utc.from_utc_datetime(&n))
}

/// Check a request's signature against `secret`, its scope against `region`/`service`, and its
/// date against `now` (±5 minutes).
pub fn verify(
    req: &Request,
    auth: &Authorization,
    secret: &str,
    region: &str,
    service: &str,
    now: DateTime<Utc>,
) -> Result<(), SigV4Error> {
    if auth.region != region || auth.service != service {
        return Err(SigV4Error::Scope(format!("expected {region}/{service}, got {}/{}", auth.region, auth.service)));
    }
    let amz_date_text = header_values(req.headers, "x-amz-date")
        .first()
        .map(|s| s.to_string())
        .ok_or_else(|| SigV4Error::Malformed("no X-Amz-Date header".into()))?;
    let amz_date = parse_amz_date(&amz_date_text).ok_or_else(|| SigV4Error::Malformed("X-Amz-Date is not yyyymmddThhmmssZ".into()))?;
    if !amz_date_text.starts_with(&auth.date) {
        return Err(SigV4Error::Scope("the credential date does not match X-Amz-Date".into()));
    }
    if (now - amz_date).num_seconds().abs() > MAX_SKEW_SECONDS {
        return Err(SigV4Error::Expired {
            request: amz_date.format("%Y%m%dT%H%M%SZ").to_string(),
            now: now.format("%Y%m%dT%H%M%SZ").to_string(),
            max: MAX_SKEW_SECONDS,
        });
    }
    let canonical = canonical_request(req, &auth.signed_headers)?;
    let scope = format!("{}/{}/{}/aws4_request", auth.date, auth.region, auth.service);
    let string_to_sign = format!("{ALGORITHM}\n{amz_date_text}\n{scope}\n{}", sha256_hex(canonical.as_bytes()));
    let time: SystemTime = amz_date.into();
    let key = aws_sigv4::sign::v4::generate_signing_key(secret, time, &auth.region, &auth.service);
    let expected = aws_sigv4::sign::v4::calculate_signature(key, string_to_sign.as_bytes());
    if bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) { Ok(()) } else { Err(SigV4Error::Mismatch) }
}

/// Sign a request as a client would: returns the `X-Amz-Date` and `Authorization` values for a
/// request whose `headers` already hold `host` and whatever else should be signed (every header
/// given is signed). For load generators and tests; servers use [`verify`].
pub fn sign(req: &Request, access_key_id: &str, secret: &str, region: &str, service: &str, now: DateTime<Utc>) -> (String, String) {
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let date = now.format("%Y%m%d").to_string();
    let mut headers: Vec<(String, String)> = req.headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect();
    headers.push(("x-amz-date".into(), amz_date.clone()));
    let mut names: Vec<String> = headers.iter().map(|(k, _)| k.clone()).collect();
    names.sort();
    names.dedup();
    let with_date = Request { headers: &headers, ..*req };
    // Every header named is present, so the canonical request cannot fail here.
    let canonical = canonical_request(&with_date, &names).unwrap_or_default();
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!("{ALGORITHM}\n{amz_date}\n{scope}\n{}", sha256_hex(canonical.as_bytes()));
    let key = aws_sigv4::sign::v4::generate_signing_key(secret, now.into(), region, service);
    let signature = aws_sigv4::sign::v4::calculate_signature(key, string_to_sign.as_bytes());
    let auth = format!("{ALGORITHM} Credential={access_key_id}/{scope}, SignedHeaders={}, Signature={signature}", names.join(";"));
    (amz_date, auth)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// AWS's published SigV4 test suite case "get-vanilla".
    #[test]
    fn get_vanilla_test_vector() {
        let headers = h(&[("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")]);
        let req = Request { method: "GET", path: "/", query: "", headers: &headers, body: b"" };
        let auth = Authorization::parse(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        )
        .unwrap();
        let now = Utc.with_ymd_and_hms(2015, 8, 30, 12, 37, 0).unwrap();
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        verify(&req, &auth, secret, "us-east-1", "service", now).unwrap();
        assert_eq!(verify(&req, &auth, "wrong", "us-east-1", "service", now), Err(SigV4Error::Mismatch));
        let late = Utc.with_ymd_and_hms(2015, 8, 30, 12, 42, 1).unwrap();
        assert!(matches!(verify(&req, &auth, secret, "us-east-1", "service", late), Err(SigV4Error::Expired { .. })));
        assert!(matches!(verify(&req, &auth, secret, "eu-west-1", "service", now), Err(SigV4Error::Scope(_))));
        let tampered = h(&[("Host", "evil.example.com"), ("X-Amz-Date", "20150830T123600Z")]);
        let req2 = Request { headers: &tampered, ..req };
        assert_eq!(verify(&req2, &auth, secret, "us-east-1", "service", now), Err(SigV4Error::Mismatch));
    }

    #[test]
    fn sign_then_verify_round_trip() {
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 8, 0, 0).unwrap();
        let base = h(&[
            ("Host", "127.0.0.1:8080"),
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", "AWSIdentityStore.ListUsers"),
        ]);
        let body = br#"{"IdentityStoreId":"d-1234567890"}"#;
        let req = Request { method: "POST", path: "/", query: "", headers: &base, body };
        let (date, auth) = sign(&req, "AKIAEXAMPLE", "secret", "us-east-1", "identitystore", now);
        let mut signed = base.clone();
        signed.push(("X-Amz-Date".into(), date));
        let req = Request { headers: &signed, ..req };
        let parsed = Authorization::parse(&auth).unwrap();
        verify(&req, &parsed, "secret", "us-east-1", "identitystore", now).unwrap();
        let tampered = Request { body: br#"{"IdentityStoreId":"d-0000000000"}"#, ..req };
        assert_eq!(verify(&tampered, &parsed, "secret", "us-east-1", "identitystore", now), Err(SigV4Error::Mismatch));
    }

    #[test]
    fn malformed_headers_are_errors_not_panics() {
        for bad in [
            "",
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request",
            "AWS4-HMAC-SHA256 Credential=a/b/c, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request, SignedHeaders=x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            "Basic Zm9vOmJhcg==",
        ] {
            assert!(Authorization::parse(bad).is_err(), "{bad}");
        }
    }
}
