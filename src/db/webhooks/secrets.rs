//! A webhook's secrets: its API key and signing secret are sealed on the way into the
//! database and opened on the way out, here and nowhere else.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;

use crate::clock::Timestamp;
use crate::db::{Source, StoreError, WriteTx};
use crate::domain::ApiKey;
use crate::secrets::secret_box::{Purpose, SecretBox};

/// HMAC-SHA256 keys of the hash's own size.
const SIGNING_KEY_BYTES: usize = 32;

/// The only way an API key leaves storage: keys are sealed by [`seal_api_key`] on the way
/// in and opened here on the way out, so the database and its WAL never hold one in clear.
pub async fn api_key<'a>(
    db: impl Into<Source<'a>>,
    secrets: &SecretBox,
    id: i64,
) -> Result<Option<ApiKey>, StoreError> {
    let sealed: Option<Option<String>> = on_read!(db, |e| sqlx::query_scalar(
        "SELECT api_key FROM webhooks WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(e)
    .await?);
    let Some(sealed) = sealed else {
        return Err(StoreError::NotFound);
    };
    sealed.map_or(Ok(None), |sealed| open_api_key(secrets, &sealed))
}

/// Opens an API key sealed by [`seal_api_key`].
pub(in crate::db) fn open_api_key(
    secrets: &SecretBox,
    sealed: &str,
) -> Result<Option<ApiKey>, StoreError> {
    let key = secrets.open(Purpose::ApiKey, sealed)?;
    ApiKey::parse(&key).map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))
}

/// The webhook's `whsec_` signing secret, opened.
pub async fn signing_secret<'a>(
    db: impl Into<Source<'a>>,
    secrets: &SecretBox,
    id: i64,
) -> Result<String, StoreError> {
    let sealed: Option<Option<String>> = on_read!(db, |e| sqlx::query_scalar(
        "SELECT signing_secret FROM webhooks WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(e)
    .await?);
    let sealed = sealed.flatten().ok_or(StoreError::NotFound)?;
    Ok(secrets.open(Purpose::SigningSecret, &sealed)?)
}

/// The secrets a delivery of this webhook can have been signed with: the current one, and
/// the one it replaced with the time that one stopped (or stops) signing.
pub struct SigningSecrets {
    pub current: String,
    pub previous: Option<(String, Timestamp)>,
}

pub async fn signing_secrets<'a>(
    db: impl Into<Source<'a>>,
    secrets: &SecretBox,
    id: i64,
) -> Result<SigningSecrets, StoreError> {
    let row: Option<(Option<String>, Option<String>, Option<Timestamp>)> =
        on_read!(db, |e| sqlx::query_as(
            "SELECT signing_secret, previous_signing_secret, previous_secret_expires_at
             FROM webhooks WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(e)
        .await?);
    let (current, previous, until) = row.ok_or(StoreError::NotFound)?;
    let current = current.ok_or(StoreError::NotFound)?;
    let previous = match (previous, until) {
        (Some(sealed), Some(until)) => {
            Some((secrets.open(Purpose::SigningSecret, &sealed)?, until))
        }
        _ => None,
    };
    Ok(SigningSecrets {
        current: secrets.open(Purpose::SigningSecret, &current)?,
        previous,
    })
}

/// A new signing secret; the current one keeps signing beside it until `keep_until`.
/// Returns the new secret.
pub async fn rotate_signing_secret(
    tx: &mut WriteTx,
    secrets: &SecretBox,
    id: i64,
    keep_until: Timestamp,
) -> Result<String, StoreError> {
    let secret = new_signing_secret();
    let sealed = secrets.seal(Purpose::SigningSecret, &secret);
    let updated = on_tx!(tx, |e| sqlx::query(
        "UPDATE webhooks SET previous_signing_secret = signing_secret,
                previous_secret_expires_at = $1, signing_secret = $2
         WHERE id = $3",
    )
    .bind(keep_until)
    .bind(sealed)
    .bind(id)
    .execute(e)
    .await?
    .rows_affected());
    match updated {
        0 => Err(StoreError::NotFound),
        _ => Ok(secret),
    }
}

/// Gives webhooks created before signing existed a secret of their own.
pub async fn backfill_signing_secrets(
    tx: &mut WriteTx,
    secrets: &SecretBox,
) -> Result<u64, StoreError> {
    on_tx!(tx, |e| {
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM webhooks WHERE signing_secret IS NULL")
                .fetch_all(&mut *e)
                .await?;
        for id in &ids {
            sqlx::query("UPDATE webhooks SET signing_secret = $1 WHERE id = $2")
                .bind(secrets.seal(Purpose::SigningSecret, &new_signing_secret()))
                .bind(id)
                .execute(&mut *e)
                .await?;
        }
        Ok(ids.len() as u64)
    })
}

/// Standard Webhooks' format: `whsec_` and the base64 of 32 random bytes.
pub(super) fn new_signing_secret() -> String {
    let mut key = [0u8; SIGNING_KEY_BYTES];
    rand::rng().fill_bytes(&mut key);
    format!("whsec_{}", STANDARD.encode(key))
}

pub(super) fn seal_api_key(secrets: &SecretBox, key: &ApiKey) -> String {
    secrets.seal(Purpose::ApiKey, key.expose())
}
