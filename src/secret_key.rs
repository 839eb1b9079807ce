//! The installation's master key. It comes from `WEBHOOK_CONSOLE_SECRET_KEY` or from a key
//! file generated once beside the database, so sessions survive restarts without setup.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use actix_web::cookie::Key;
use rand::RngCore;
use sqlx::sqlite::SqliteConnectOptions;

use hkdf::Hkdf;
use sha2::Sha256;

use crate::config::Secret;
use crate::secret_box::SecretBox;

/// Shorter keys are guessable.
const MIN_CONFIGURED_BYTES: usize = 32;
const GENERATED_BYTES: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("WEBHOOK_CONSOLE_SECRET_KEY must be at least {MIN_CONFIGURED_BYTES} characters long")]
    TooShort,
    #[error("the key file {path} holds {len} bytes; expected {GENERATED_BYTES}")]
    Corrupt { path: PathBuf, len: usize },
    #[error("could not read or write the key file {path}")]
    Io { path: PathBuf, source: io::Error },
    #[error("DATABASE_URL is not a valid SQLite URL")]
    DatabaseUrl(#[source] sqlx::Error),
}

pub struct MasterKey(Vec<u8>);

impl MasterKey {
    pub fn load(configured: Option<&Secret>, database_url: &str) -> Result<Self, KeyError> {
        if let Some(secret) = configured {
            let bytes = secret.expose().as_bytes();
            if bytes.len() < MIN_CONFIGURED_BYTES {
                return Err(KeyError::TooShort);
            }
            return Ok(Self(bytes.to_vec()));
        }
        match key_file_beside(database_url)? {
            Some(path) => read_or_generate(&path).map(Self),
            None => Ok(Self(random_bytes())),
        }
    }

    /// Signs and encrypts cookies (sessions, confirmations).
    pub fn cookie_key(&self) -> Key {
        Key::from(&self.derive(b"webhook-console cookies v1", [0; 64]))
    }

    /// Encrypts secrets stored in the database.
    pub fn secret_box(&self) -> SecretBox {
        SecretBox::new(self.derive(b"webhook-console secrets at rest v1", [0; 32]))
    }

    /// Independent keys for independent uses, so no use can weaken another.
    fn derive<const N: usize>(&self, purpose: &[u8], mut key: [u8; N]) -> [u8; N] {
        Hkdf::<Sha256>::new(None, &self.0)
            .expand(purpose, &mut key)
            .expect("HKDF-SHA256 yields up to 8160 bytes");
        key
    }
}

/// `data/console.db` → `data/console.key`; none for an in-memory database.
fn key_file_beside(database_url: &str) -> Result<Option<PathBuf>, KeyError> {
    let options = SqliteConnectOptions::from_str(database_url).map_err(KeyError::DatabaseUrl)?;
    let database = options.get_filename();
    if database.as_os_str().is_empty() || database.to_string_lossy().starts_with(':') {
        return Ok(None);
    }
    Ok(Some(database.with_extension("key")))
}

fn read_or_generate(path: &Path) -> Result<Vec<u8>, KeyError> {
    let io_error = |source| KeyError::Io {
        path: path.to_owned(),
        source,
    };
    match fs::read(path) {
        Ok(bytes) if bytes.len() == GENERATED_BYTES => Ok(bytes),
        Ok(bytes) => Err(KeyError::Corrupt {
            path: path.to_owned(),
            len: bytes.len(),
        }),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            let bytes = random_bytes();
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path).map_err(io_error)?;
            file.write_all(&bytes).map_err(io_error)?;
            file.sync_all().map_err(io_error)?;
            tracing::info!("generated a secret key in {}", path.display());
            Ok(bytes)
        }
        Err(error) => Err(io_error(error)),
    }
}

fn random_bytes() -> Vec<u8> {
    let mut bytes = vec![0; GENERATED_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}
