//! Feed arbitrary bytes to `gatehouse_saml::validate_response`, base64-encoded as the ACS form
//! would carry them, with fixed expectations and one trusted certificate. Any panic, overflow or
//! hang is a bug; every input must end in a `Rejection` or (for the seeds) a sign-in.
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gatehouse_saml::{Expectations, validate_response};
use libfuzzer_sys::fuzz_target;

/// The certificate of the key that signed `seeds/saml_response/*.xml` (the key itself is not
/// kept: the fuzzer only needs to verify).
const TRUSTED_CERT: &str = "\
-----BEGIN CERTIFICATE-----
MIIC5TCCAc2gAwIBAgISAN+aJhQbJx9paWbnoyG2mPCUMA0GCSqGSIb3DQEBCwUA
MBMxETAPBgNVBAMMCGZ1enogaWRwMCAXDTI3MDExNTA4MDAwMFoYDzIxMjcwMTE1
MDgwMDAwWjATMREwDwYDVQQDDAhmdXp6IGlkcDCCASIwDQYJKoZIhvcNAQEBBQAD
ggEPADCCAQoCggEBAOGiJr1u60DEwHvhN8YXE79i8GgA2IC21uTrfjtgLvbkynRh
tUAh1P6T4Nn/a1kNNU5jiEx2aSamdFHrgD4qgxoBatS9+kx7urKS0dJq5fqhjUhU
E6O0wLhzXYrJMGyYJBS9hbkleADjxCCEe7X0wGosVZg6q7HSITz+MiwopJ1J8NcS
LuoTabgp04hdqAeA7lbvdtrC+dlIk1c9O4u53OtzxtddRbfhAWfBO2AvvWNyVNKl
hJUkle2Y647Hhm6sBlREFroS/5A1oecSgCXH2dWXqekNmltKJAglGWwEBdfPedeL
HugGZPiKKuJJe9YdhAEkP/2iqpfd+66bXR9baZsCAwEAAaMxMC8wHQYDVR0OBBYE
FBh/zYrcXJ9r/s6iOdjZVEQEReGBMA4GA1UdDwEB/wQEAwIHgDANBgkqhkiG9w0B
AQsFAAOCAQEAw09sermNvaNqw6u95xfAyQzy5HmMKn57Gtz/qsqHMlFafFee8Te1
8rNO+QIARRZEgb4Na0DbuGvd6Xf9TIns0tdqsP7D+8x5U6E0wHCRh2JLfTSbZt35
8REtmo6NwvxTuorarhdZ5sIVJgRyAkLy+LDFIYLllwD2hP9cjvE9deHCAVGRxtfu
H4T+bKAbiiMs28nTRpiBGPQCM8t5W/dLKlCNhiEEqUwxDNLb4ArSREICJDKXpjur
oMFZM+JnZWjNggS1EOESpjcy/6MU0nGWl7Uvv2ZmfCMQIQ96uSNMw75s8OrQvpr1
T7+BxRO6lC+9DTn3b5ZrrrZO96Qbjv/beg==
-----END CERTIFICATE-----
";

fuzz_target!(|data: &[u8]| {
    let expect = Expectations {
        sp_entity_id: "https://gatehouse.example.com/saml/sp",
        acs_url: "https://gatehouse.example.com/saml/acs",
        idp_entity_id: "https://idp.example.org/saml2/idp",
        trusted_cert_pems: &[TRUSTED_CERT],
        allow_sha1: false,
        // When the seeds were issued, so they validate.
        now: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        max_skew: chrono::Duration::minutes(3),
    };
    let _ = validate_response(&STANDARD.encode(data), &expect);
    // The raw text too, to reach the base64 decoding and size checks.
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = validate_response(text, &expect);
    }
});
