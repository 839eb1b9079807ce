//! Secrets at rest (API keys, signing secrets): XChaCha20-Poly1305 with a random nonce,
//! under a key derived from the master key. The stored form names its key version, so a
//! later key can be introduced while old values stay readable.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

/// The version written into every sealed value: `v1:<base64(nonce ‖ ciphertext)>`.
const VERSION: &str = "v1";
const NONCE_LEN: usize = 24;

/// What a sealed value is for; bound into the ciphertext so one kind of secret cannot be
/// passed off as another.
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    ApiKey,
    SigningSecret,
    /// A custom header's value marked secret.
    CustomHeader,
    /// A new password or token waiting in the session to be shown once.
    ShownOnce,
}

impl Purpose {
    fn associated_data(self) -> &'static [u8] {
        match self {
            Self::ApiKey => b"webhook api key",
            Self::SigningSecret => b"webhook signing secret",
            Self::CustomHeader => b"webhook custom header",
            Self::ShownOnce => b"secret shown once",
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("a stored secret could not be decrypted: wrong key, or the value was altered")]
pub struct OpenError;

#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl SecretBox {
    pub fn new(key: [u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(&key.into()),
        }
    }

    pub fn seal(&self, purpose: Purpose, plaintext: &str) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: purpose.associated_data(),
        };
        let ciphertext = self
            .cipher
            .encrypt(&nonce, payload)
            .expect("XChaCha20-Poly1305 encrypts any input under 256 GiB");
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        format!("{VERSION}:{}", STANDARD_NO_PAD.encode(sealed))
    }

    pub fn open(&self, purpose: Purpose, sealed: &str) -> Result<String, OpenError> {
        let encoded = sealed
            .strip_prefix(VERSION)
            .and_then(|rest| rest.strip_prefix(':'))
            .ok_or(OpenError)?;
        let bytes = STANDARD_NO_PAD.decode(encoded).map_err(|_| OpenError)?;
        if bytes.len() < NONCE_LEN {
            return Err(OpenError);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let payload = Payload {
            msg: ciphertext,
            aad: purpose.associated_data(),
        };
        let plaintext = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| OpenError)?;
        String::from_utf8(plaintext).map_err(|_| OpenError)
    }
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBox(<key redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_with_the_same_key_only() {
        let secrets = SecretBox::new([7; 32]);
        let sealed = secrets.seal(Purpose::ApiKey, "sk_live_canary");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("canary"));
        assert_eq!(
            secrets.open(Purpose::ApiKey, &sealed).unwrap(),
            "sk_live_canary"
        );
        assert!(
            SecretBox::new([8; 32])
                .open(Purpose::ApiKey, &sealed)
                .is_err()
        );
    }

    #[test]
    fn the_same_secret_seals_differently_each_time() {
        let secrets = SecretBox::new([7; 32]);
        assert_ne!(
            secrets.seal(Purpose::ApiKey, "same"),
            secrets.seal(Purpose::ApiKey, "same")
        );
    }
}
