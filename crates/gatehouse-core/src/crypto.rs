//! Secrets at rest: AES-256-GCM under the instance master key; tokens stored as SHA-256 hashes.

use aes_gcm::aead::{Aead, KeyInit, OsRng};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha256};
use std::path::Path;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Prefix of every ciphertext, naming the scheme so a later key rotation can tell versions apart.
const SCHEME: &str = "gh1:";

/// The master key: the current one seals; it and the previous ones (kept after a rotation, see
/// `gatehouse key rotate`) open. Clones share the keys, so a server can take rotated keys from
/// its key files without a restart ([`MasterKey::replace_with`]).
#[derive(Clone)]
pub struct MasterKey {
    keys: std::sync::Arc<std::sync::RwLock<Keys>>,
}

struct Keys {
    current: Zeroizing<[u8; 32]>,
    previous: Vec<Zeroizing<[u8; 32]>>,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

fn cipher(key: &[u8; 32]) -> Aes256Gcm {
    Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key[..]))
}

/// One sealed value's nonce and ciphertext.
fn unpack(sealed: &str) -> Result<Vec<u8>> {
    let body = sealed.strip_prefix(SCHEME).ok_or_else(|| Error::internal("secret was not sealed by this version"))?;
    let raw = B64.decode(body).map_err(|_| Error::internal("sealed secret is not base64"))?;
    if raw.len() < 12 + 16 {
        return Err(Error::internal("sealed secret is too short"));
    }
    Ok(raw)
}

impl MasterKey {
    fn of(current: Zeroizing<[u8; 32]>) -> Self {
        MasterKey { keys: std::sync::Arc::new(std::sync::RwLock::new(Keys { current, previous: Vec::new() })) }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Keys> {
        self.keys.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn generate() -> Self {
        let k = Aes256Gcm::generate_key(OsRng);
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&k);
        MasterKey::of(key)
    }

    /// Parse the base64 form used in the key file and in `GATEHOUSE_MASTER_KEY`.
    pub fn from_base64(text: &str) -> Result<Self> {
        let bytes =
            Zeroizing::new(B64.decode(text.trim()).map_err(|_| Error::validation("master_key", "the master key is not valid base64"))?);
        if bytes.len() != 32 {
            return Err(Error::validation("master_key", "the master key must be 32 bytes (base64 of 32 random bytes)"));
        }
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&bytes);
        Ok(MasterKey::of(key))
    }

    /// Also open what these earlier keys sealed (their current keys).
    pub fn with_previous(self, previous: &[MasterKey]) -> Self {
        let earlier: Vec<_> = previous.iter().map(|p| p.read().current.clone()).collect();
        {
            let mut keys = self.keys.write().unwrap_or_else(|p| p.into_inner());
            for k in earlier {
                if *k != *keys.current && !keys.previous.iter().any(|o| **o == *k) {
                    keys.previous.push(k);
                }
            }
        }
        self
    }

    /// Take `other`'s keys (every clone of this key sees them at once).
    pub fn replace_with(&self, other: &MasterKey) {
        let (current, previous) = {
            let o = other.read();
            (o.current.clone(), o.previous.clone())
        };
        let mut keys = self.keys.write().unwrap_or_else(|p| p.into_inner());
        keys.current = current;
        keys.previous = previous;
    }

    /// Whether both hold the same keys.
    pub fn same_as(&self, other: &MasterKey) -> bool {
        let (a, b) = (self.read(), other.read());
        *a.current == *b.current && a.previous.len() == b.previous.len() && a.previous.iter().zip(&b.previous).all(|(x, y)| **x == **y)
    }

    pub fn to_base64(&self) -> String {
        B64.encode(&self.read().current[..])
    }

    /// Read the key file, or create it with mode 0600 when it does not exist yet.
    pub fn load_or_create(path: &Path) -> std::io::Result<(Self, bool)> {
        match std::fs::read_to_string(path) {
            Ok(text) => MasterKey::from_base64(&text)
                .map(|k| (k, false))
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = MasterKey::generate();
                write_private_file(path, key.to_base64().as_bytes())?;
                Ok((key, true))
            }
            Err(e) => Err(e),
        }
    }

    pub fn encrypt(&self, plaintext: &[u8]) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        // Encryption with a valid key and a fresh nonce cannot fail for in-memory buffers.
        let ct = cipher(&self.read().current).encrypt(&nonce, plaintext).unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("{SCHEME}{}", B64.encode(out))
    }

    /// Open with the current key, else with a previous one.
    pub fn decrypt(&self, sealed: &str) -> Result<Zeroizing<Vec<u8>>> {
        let raw = unpack(sealed)?;
        let (nonce, ct) = raw.split_at(12);
        let keys = self.read();
        std::iter::once(&keys.current)
            .chain(&keys.previous)
            .find_map(|k| cipher(k).decrypt(Nonce::from_slice(nonce), ct).ok())
            .map(Zeroizing::new)
            .ok_or_else(|| Error::internal("secret does not decrypt with the master key (wrong key?)"))
    }

    /// Whether the current key alone opens `sealed` (after a rotation, everything should).
    pub fn current_opens(&self, sealed: &str) -> bool {
        let Ok(raw) = unpack(sealed) else { return false };
        let (nonce, ct) = raw.split_at(12);
        cipher(&self.read().current).decrypt(Nonce::from_slice(nonce), ct).is_ok()
    }

    /// Every sealed value inside `text` (a column, or JSON holding sealed fields) sealed again
    /// under the current key; None when it holds none.
    pub fn reseal_within(&self, text: &str) -> Result<Option<String>> {
        if !text.contains(SCHEME) {
            return Ok(None);
        }
        let is_b64 = |c: char| c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '=';
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find(SCHEME) {
            out.push_str(&rest[..at]);
            let body = &rest[at + SCHEME.len()..];
            let len = body.find(|c: char| !is_b64(c)).unwrap_or(body.len());
            let sealed = &rest[at..at + SCHEME.len() + len];
            out.push_str(&self.encrypt(&self.decrypt(sealed)?));
            rest = &body[len..];
        }
        out.push_str(rest);
        Ok(Some(out))
    }

    pub fn encrypt_str(&self, plaintext: &str) -> String {
        self.encrypt(plaintext.as_bytes())
    }

    pub fn decrypt_string(&self, sealed: &str) -> Result<Zeroizing<String>> {
        let bytes = self.decrypt(sealed)?;
        String::from_utf8(bytes.to_vec()).map(Zeroizing::new).map_err(|_| Error::internal("sealed secret is not UTF-8"))
    }
}

/// Write a file readable by the owner only.
pub fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(contents)?;
    f.sync_all()
}

/// Hash of a bearer token or other high-entropy secret: what we store instead of the token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_wrong_key() {
        let k = MasterKey::generate();
        let sealed = k.encrypt_str("secret");
        assert!(sealed.starts_with(SCHEME));
        assert_eq!(&*k.decrypt_string(&sealed).unwrap(), "secret");
        assert!(MasterKey::generate().decrypt(&sealed).is_err());
        assert!(k.decrypt("gh1:AAAA").is_err());
        assert!(k.decrypt("garbage").is_err());
        let k2 = MasterKey::from_base64(&k.to_base64()).unwrap();
        assert_eq!(&*k2.decrypt_string(&sealed).unwrap(), "secret");
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
    }

    #[test]
    fn rotation_opens_the_old_and_seals_with_the_new() {
        let old = MasterKey::generate();
        let sealed = old.encrypt_str("secret");
        let new = MasterKey::generate().with_previous(std::slice::from_ref(&old));
        assert_eq!(&*new.decrypt_string(&sealed).unwrap(), "secret");
        assert!(!new.current_opens(&sealed));
        // Resealed inside JSON: the new key alone opens it, the old key no longer does.
        let json = format!("{{\"a\":\"{sealed}\",\"b\":\"x\"}}");
        let resealed = new.reseal_within(&json).unwrap().unwrap();
        let inner = resealed.split('"').find(|p| p.starts_with(SCHEME)).unwrap();
        assert!(new.current_opens(inner) && old.decrypt(inner).is_err());
        assert!(resealed.ends_with(",\"b\":\"x\"}"));
        assert_eq!(new.reseal_within("plain").unwrap(), None);
        // A clone follows a replacement.
        let shared = old.clone();
        old.replace_with(&new);
        assert!(shared.same_as(&new) && shared.current_opens(inner));
    }
}
