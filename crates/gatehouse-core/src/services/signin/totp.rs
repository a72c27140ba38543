//! Authenticator apps: RFC 6238 codes (SHA-1, 6 digits, 30-second steps, one step of drift either
//! way), each accepted once. An app whose clock is further off is resynced with two consecutive
//! codes, and its drift remembered.

use totp_rs::{Algorithm, Builder, Totp};

use crate::crypto::{MasterKey, constant_time_eq};
use crate::error::{Error, Result};
use crate::model::{MfaDevice, MfaKind};

const DIGITS: u8 = 6;
const STEP: u64 = 30;

/// A new secret: 160 random bits (RFC 4226's recommendation), base32 as apps expect it.
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base32::encode(base32::Alphabet::Rfc4648 { padding: false }, &bytes)
}

fn totp(secret_base32: &str, issuer: &str, account: &str) -> Result<Totp> {
    let bytes = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, secret_base32)
        .ok_or_else(|| Error::internal("an authenticator secret is not base32"))?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_skew(1)
        .with_step_duration(STEP)
        .with_secret(bytes)
        .with_issuer(Some(issuer))
        .with_account_name(account)
        .build()
        .map_err(|e| Error::internal(format!("authenticator secret rejected: {e}")))
}

/// The `otpauth://` URI an app scans from the QR code.
pub fn provisioning_uri(secret_base32: &str, issuer: &str, account: &str) -> Result<String> {
    // Issuer and account may not contain ':' in the otpauth label.
    totp(secret_base32, &issuer.replace(':', " "), &account.replace(':', " "))?
        .to_url()
        .map_err(|e| Error::internal(format!("otpauth URI: {e}")))
}

/// What a user sees to register an app holding `secret`: the secret, its URI and QR code.
pub fn enrollment(secret: String, user_name: &str) -> Result<crate::services::TotpEnrollment> {
    let uri = provisioning_uri(&secret, "Gatehouse", user_name)?;
    let qr_svg = qr_svg(&uri)?;
    Ok(crate::services::TotpEnrollment { secret, uri, qr_svg })
}

/// The QR code of `uri` as an SVG image.
pub fn qr_svg(uri: &str) -> Result<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).map_err(|e| Error::internal(format!("QR code: {e}")))?;
    Ok(code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build())
}

/// Steps either side of the expected one in which a valid code means "out of sync" rather than
/// "wrong": ten minutes of clock error either way.
pub const RESYNC_RADIUS: i64 = 20;

/// The step among `steps` whose code `code` is, if any is later than `after` (the last step
/// accepted, so a code works once). Every candidate is compared, so the time taken does not tell
/// which matched.
fn match_among(secret_base32: &str, code: &str, steps: impl Iterator<Item = i64>, after: Option<i64>) -> Result<Option<i64>> {
    let code = code.trim().replace(' ', "");
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let t = totp(secret_base32, "gatehouse", "user")?;
    let mut found = None;
    for step in steps.filter(|s| *s >= 0) {
        let expected = t.generate(step as u64 * STEP).to_string();
        if constant_time_eq(expected.as_bytes(), code.as_bytes()) && after.is_none_or(|a| step > a) {
            found = Some(step);
        }
    }
    Ok(found)
}

fn now_step(unix_seconds: u64) -> i64 {
    (unix_seconds / STEP) as i64
}

/// The time step a code belongs to, if it matches the current step or one either side and is
/// later than `after`.
pub fn matching_step(secret_base32: &str, code: &str, unix_seconds: u64, after: Option<i64>) -> Result<Option<i64>> {
    let now = now_step(unix_seconds);
    match_among(secret_base32, code, now - 1..=now + 1, after)
}

/// The authenticator app among `devices` that `code` matches now (allowing for the app's known
/// drift), with its step recorded.
pub fn match_device(key: &MasterKey, devices: &[MfaDevice], code: &str, unix_seconds: u64) -> Result<Option<MfaDevice>> {
    for device in devices.iter().filter(|d| d.kind == MfaKind::Totp) {
        let secret = key.decrypt_string(&device.secret)?;
        let expected = now_step(unix_seconds) + device.drift_steps;
        if let Some(step) = match_among(&secret, code, expected - 1..=expected + 1, device.last_step)? {
            let mut d = device.clone();
            d.last_step = Some(step);
            return Ok(Some(d));
        }
    }
    Ok(None)
}

/// An app whose code is genuine but outside the accepted window: the device and the code's step,
/// to confirm with the next code (a resync).
pub fn out_of_sync(key: &MasterKey, devices: &[MfaDevice], code: &str, unix_seconds: u64) -> Result<Option<(MfaDevice, i64)>> {
    for device in devices.iter().filter(|d| d.kind == MfaKind::Totp) {
        let secret = key.decrypt_string(&device.secret)?;
        let expected = now_step(unix_seconds) + device.drift_steps;
        let window = expected - RESYNC_RADIUS..=expected + RESYNC_RADIUS;
        if let Some(step) = match_among(&secret, code, window, device.last_step)? {
            return Ok(Some((device.clone(), step)));
        }
    }
    Ok(None)
}

/// The resync's second code: the app's next code after `first` (or the one after that, if the
/// user waited). The device comes back with its new drift and last step.
pub fn resync(key: &MasterKey, device: &MfaDevice, first: i64, code: &str, unix_seconds: u64) -> Result<Option<MfaDevice>> {
    let secret = key.decrypt_string(&device.secret)?;
    Ok(match_among(&secret, code, first + 1..=first + 2, Some(first))?.map(|step| {
        let mut d = device.clone();
        d.last_step = Some(step);
        d.drift_steps = step - now_step(unix_seconds);
        d
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1, truncated to 6 digits.
    #[test]
    fn rfc6238_vectors() {
        let secret = base32::encode(base32::Alphabet::Rfc4648 { padding: false }, b"12345678901234567890");
        for (time, code) in
            [(59u64, "287082"), (1111111109, "081804"), (1111111111, "050471"), (1234567890, "005924"), (2000000000, "279037")]
        {
            let step = (time / STEP) as i64;
            assert_eq!(matching_step(&secret, code, time, None).unwrap(), Some(step), "time {time}");
            assert_eq!(matching_step(&secret, code, time, Some(step)).unwrap(), None, "a used code is refused");
        }
    }

    #[test]
    fn drift_of_one_step_only() {
        let secret = new_secret();
        let t = totp(&secret, "i", "a").unwrap();
        let now = 1_700_000_000u64;
        let code = t.generate(now).to_string();
        assert!(matching_step(&secret, &code, now + STEP, None).unwrap().is_some());
        assert!(matching_step(&secret, &code, now + 3 * STEP, None).unwrap().is_none());
        assert!(matching_step(&secret, "12345", now, None).unwrap().is_none());
        assert!(matching_step(&secret, "abcdef", now, None).unwrap().is_none());
    }

    fn device(key: &MasterKey, secret: &str) -> MfaDevice {
        MfaDevice {
            device_id: "d".into(),
            user_id: "u".into(),
            kind: MfaKind::Totp,
            name: "app".into(),
            secret: key.encrypt_str(secret),
            credential_id: None,
            last_step: None,
            drift_steps: 0,
            created_at: chrono::Utc::now(),
            last_used_at: None,
        }
    }

    #[test]
    fn an_app_five_minutes_fast_is_resynced_then_accepted() {
        let key = MasterKey::generate();
        let secret = new_secret();
        let t = totp(&secret, "i", "a").unwrap();
        let now = 1_700_000_010u64;
        let fast = now + 300;
        let devices = vec![device(&key, &secret)];
        let first = t.generate(fast).to_string();
        assert!(match_device(&key, &devices, &first, now).unwrap().is_none(), "outside the window");
        let (d, step) = out_of_sync(&key, &devices, &first, now).unwrap().expect("genuine but out of sync");
        assert!(resync(&key, &d, step, &first, now).unwrap().is_none(), "the same code twice is no resync");
        assert!(resync(&key, &d, step, &t.generate(fast + 300).to_string(), now).unwrap().is_none(), "not the next code");
        let d = resync(&key, &d, step, &t.generate(fast + STEP).to_string(), now).unwrap().expect("the next code");
        assert_eq!(d.drift_steps, 11);
        // Later codes are expected around the app's own time.
        let later = now + 600;
        assert!(match_device(&key, std::slice::from_ref(&d), &t.generate(later + 300).to_string(), later).unwrap().is_some());
        assert!(out_of_sync(&key, &devices, &t.generate(now + 3600).to_string(), now).unwrap().is_none(), "an hour off is wrong");
    }

    #[test]
    fn provisioning_uri_and_qr() {
        let secret = new_secret();
        let uri = provisioning_uri(&secret, "Gatehouse", "jdoe@example.com").unwrap();
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(uri.contains(&format!("secret={secret}")), "{uri}");
        assert!(qr_svg(&uri).unwrap().contains("<svg"));
    }
}
