//! The installation's master key. It comes from `WEBHOOK_CONSOLE_SECRET_KEY` or from a key
//! file generated once beside the database (for PostgreSQL, in the working directory), so
//! sessions survive restarts without setup. Nodes sharing a PostgreSQL database must share
//! the key: they are given it in the environment.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use actix_web::cookie::Key;
use rand::RngCore;

use hkdf::Hkdf;
use sha2::Sha256;

use crate::config::Secret;
use crate::secrets::secret_box::SecretBox;

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

    /// The key an existing installation has been using: its key file if it has one (the
    /// file is never created here), else the configured key.
    pub fn of_installation(configured: &Secret, database_url: &str) -> Result<Self, KeyError> {
        match key_file_beside(database_url)? {
            Some(path) if path.exists() => read_or_generate(&path).map(Self),
            _ => Self::load(Some(configured), database_url),
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

/// Where a PostgreSQL installation without a configured key keeps its generated one.
const POSTGRES_KEY_FILE: &str = "webhook-console.key";

/// A key file left readable by others (restored from a backup, copied by hand) is made
/// private again, with a warning, as the database files are.
fn keep_private(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)?.permissions().mode() & 0o777;
        if mode & !0o600 != 0 {
            tracing::warn!(
                "{} was readable by others (mode {mode:o}); making it private (600)",
                path.display()
            );
            fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

/// Copies the key file of the SQLite database `database_url` beside the backup `to`
/// (`backup.db` → `backup.key`), private; returns where, or none when the installation
/// has no key file (its key is configured).
pub fn copy_key_file(database_url: &str, to: &Path) -> Result<Option<PathBuf>, KeyError> {
    let Some(key) = key_file_beside(database_url)?.filter(|key| key.exists()) else {
        return Ok(None);
    };
    let copy = to.with_extension("key");
    let io_error = |source| KeyError::Io {
        path: copy.clone(),
        source,
    };
    let bytes = fs::read(&key).map_err(|source| KeyError::Io {
        path: key.clone(),
        source,
    })?;
    fs::write(&copy, bytes).map_err(io_error)?;
    keep_private(&copy).map_err(io_error)?;
    Ok(Some(copy))
}

/// `data/console.db` → `data/console.key`; none for an in-memory database.
fn key_file_beside(database_url: &str) -> Result<Option<PathBuf>, KeyError> {
    if crate::db::is_postgres(database_url) {
        tracing::warn!(
            "WEBHOOK_CONSOLE_SECRET_KEY is not set: using the key in ./{POSTGRES_KEY_FILE}; \
             every node of this database needs the same key"
        );
        return Ok(Some(PathBuf::from(POSTGRES_KEY_FILE)));
    }
    let database = crate::db::sqlite_file(database_url).map_err(KeyError::DatabaseUrl)?;
    Ok(database.map(|database| database.with_extension("key")))
}

fn read_or_generate(path: &Path) -> Result<Vec<u8>, KeyError> {
    let io_error = |source| KeyError::Io {
        path: path.to_owned(),
        source,
    };
    match fs::read(path) {
        Ok(bytes) if bytes.len() == GENERATED_BYTES => {
            keep_private(path).map_err(io_error)?;
            Ok(bytes)
        }
        Ok(bytes) => Err(KeyError::Corrupt {
            path: path.to_owned(),
            len: bytes.len(),
        }),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            let bytes = random_bytes();
            // Written whole under another name, then linked into place: processes starting
            // together never read a half-written key, and the first link wins.
            let mut draft = path.as_os_str().to_owned();
            draft.push(format!(".{}.new", std::process::id()));
            let draft = PathBuf::from(draft);
            let mut options = OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&draft).map_err(io_error)?;
            file.write_all(&bytes).map_err(io_error)?;
            file.sync_all().map_err(io_error)?;
            let linked = fs::hard_link(&draft, path);
            let _ = fs::remove_file(&draft);
            match linked {
                Ok(()) => {
                    tracing::info!("generated a secret key in {}", path.display());
                    Ok(bytes)
                }
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                    read_or_generate(path)
                }
                Err(error) => Err(io_error(error)),
            }
        }
        Err(error) => Err(io_error(error)),
    }
}

fn random_bytes() -> Vec<u8> {
    let mut bytes = vec![0; GENERATED_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}
