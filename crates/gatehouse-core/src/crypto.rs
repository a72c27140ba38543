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

#[derive(Clone)]
pub struct MasterKey {
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    pub fn generate() -> Self {
        let k = Aes256Gcm::generate_key(OsRng);
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&k);
        MasterKey { key }
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
        Ok(MasterKey { key })
    }

    pub fn to_base64(&self) -> String {
        B64.encode(&self.key[..])
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
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.key[..]));
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        // Encryption with a valid key and a fresh nonce cannot fail for in-memory buffers.
        let ct = cipher.encrypt(&nonce, plaintext).unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("{SCHEME}{}", B64.encode(out))
    }

    pub fn decrypt(&self, sealed: &str) -> Result<Zeroizing<Vec<u8>>> {
        let body = sealed.strip_prefix(SCHEME).ok_or_else(|| Error::internal("secret was not sealed by this version"))?;
        let raw = B64.decode(body).map_err(|_| Error::internal("sealed secret is not base64"))?;
        if raw.len() < 12 + 16 {
            return Err(Error::internal("sealed secret is too short"));
        }
        let (nonce, ct) = raw.split_at(12);
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.key[..]));
        cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map(Zeroizing::new)
            .map_err(|_| Error::internal("secret does not decrypt with the master key (wrong key?)"))
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
}
