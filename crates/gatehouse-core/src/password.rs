//! The guide's password rules, argon2id hashing and one-time password generation.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::Rng;
use rand::rngs::OsRng;
use rand::seq::SliceRandom;

use crate::error::{Error, Result};

pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 64;
/// "The last three passwords cannot be reused."
pub const HISTORY: usize = 3;

/// argon2id with OWASP's recommended parameters (19 MiB, 2 passes, 1 lane).
pub fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Run password hashing off the async threads, at most one hash per core at a time. Each argon2id
/// hash holds 19 MiB: unbounded, a burst of sign-ins would thrash the caches (every hash slower)
/// and let anyone who can reach the sign-in page make the server allocate without limit.
pub async fn off_thread<R: Send + 'static>(work: impl FnOnce() -> R + Send + 'static) -> Result<R> {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let slots = SLOTS.get_or_init(|| tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())));
    let _slot = slots.acquire().await.map_err(|e| Error::internal(format!("password hashing stopped: {e}")))?;
    tokio::task::spawn_blocking(work).await.map_err(|e| Error::internal(format!("password hashing failed: {e}")))
}

/// Check a new password against the guide's rules. The error names `field`.
pub fn check_policy(field: &str, password: &str) -> Result<()> {
    let len = password.chars().count();
    if !(MIN_LEN..=MAX_LEN).contains(&len) {
        return Err(Error::validation(field, format!("Passwords must be between {MIN_LEN} and {MAX_LEN} characters in length")));
    }
    let lower = password.chars().any(|c| c.is_ascii_lowercase());
    let upper = password.chars().any(|c| c.is_ascii_uppercase());
    let digit = password.chars().any(|c| c.is_ascii_digit());
    let other = password.chars().any(|c| !c.is_ascii_alphanumeric());
    if !(lower && upper && digit && other) {
        return Err(Error::validation(
            field,
            "Passwords must contain at least one lowercase letter, one uppercase letter, one number and one non-alphanumeric character",
        ));
    }
    Ok(())
}

pub fn hash(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::internal(format!("password hashing failed: {e}")))
}

/// Constant-time verification against a PHC string; a malformed hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => hasher().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Verify against `phc`, or with no stored hash spend the same time hashing and fail: a sign-in
/// for an unknown user takes as long as one with a wrong password.
pub fn verify_or_burn(password: &str, phc: Option<&str>) -> bool {
    match phc {
        Some(phc) => verify(password, phc),
        None => {
            let _ = hash(password);
            false
        }
    }
}

/// A random one-time password of 16 characters that satisfies the policy.
pub fn generate_one_time() -> String {
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGIT: &[u8] = b"23456789";
    const SYM: &[u8] = b"!@#$%^&*-_+=?";
    let mut rng = OsRng;
    let pick = |set: &[u8], rng: &mut OsRng| set[rng.gen_range(0..set.len())] as char;
    let mut chars = vec![pick(LOWER, &mut rng), pick(UPPER, &mut rng), pick(DIGIT, &mut rng), pick(SYM, &mut rng)];
    let all: Vec<u8> = [LOWER, UPPER, DIGIT, SYM].concat();
    while chars.len() < 16 {
        chars.push(pick(&all, &mut rng));
    }
    chars.shuffle(&mut rng);
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_table() {
        let cases = [
            ("Sh0rt!", false),
            ("alllowercase1!", false),
            ("ALLUPPER1!", false),
            ("NoDigits!!", false),
            ("NoSymbol123", false),
            ("Good-Pass1", true),
            ("Abcdef1!", true),
            (&*format!("Aa1!{}", "x".repeat(60)), true),
            (&*format!("Aa1!{}", "x".repeat(61)), false),
        ];
        for (pw, ok) in cases {
            assert_eq!(check_policy("Password", pw).is_ok(), ok, "{pw}");
        }
    }

    #[test]
    fn hash_verify_and_otp() {
        let h = hash("Good-Pass1").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("Good-Pass1", &h));
        assert!(!verify("Good-Pass2", &h));
        assert!(!verify("Good-Pass1", "not a hash"));
        for _ in 0..50 {
            check_policy("p", &generate_one_time()).unwrap();
        }
    }
}
