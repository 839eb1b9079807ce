//! A webhook's secrets: its API key and signing secret are sealed on the way into the
//! database and opened on the way out, here and nowhere else.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use sqlx::{SqliteConnection, SqliteExecutor};

use crate::clock::Timestamp;
use crate::db::StoreError;
use crate::domain::ApiKey;
use crate::secret_box::{Purpose, SecretBox};

/// HMAC-SHA256 keys of the hash's own size.
const SIGNING_KEY_BYTES: usize = 32;

/// The only way an API key leaves storage: keys are sealed by [`seal_api_key`] on the way
/// in and opened here on the way out, so the database and its WAL never hold one in clear.
pub async fn api_key(
    db: impl SqliteExecutor<'_>,
    secrets: &SecretBox,
    id: i64,
) -> Result<Option<ApiKey>, StoreError> {
    let sealed: Option<Option<String>> =
        sqlx::query_scalar("SELECT api_key FROM webhooks WHERE id = ?")
            .bind(id)
            .fetch_optional(db)
            .await?;
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
pub async fn signing_secret(
    db: impl SqliteExecutor<'_>,
    secrets: &SecretBox,
    id: i64,
) -> Result<String, StoreError> {
    let sealed: Option<Option<String>> =
        sqlx::query_scalar("SELECT signing_secret FROM webhooks WHERE id = ?")
            .bind(id)
            .fetch_optional(db)
            .await?;
    let sealed = sealed.flatten().ok_or(StoreError::NotFound)?;
    Ok(secrets.open(Purpose::SigningSecret, &sealed)?)
}

/// A new signing secret; the current one keeps signing beside it until `keep_until`.
/// Returns the new secret.
pub async fn rotate_signing_secret(
    conn: &mut SqliteConnection,
    secrets: &SecretBox,
    id: i64,
    keep_until: Timestamp,
) -> Result<String, StoreError> {
    let secret = new_signing_secret();
    let updated = sqlx::query(
        "UPDATE webhooks SET previous_signing_secret = signing_secret,
                previous_secret_expires_at = ?, signing_secret = ?
         WHERE id = ?",
    )
    .bind(keep_until)
    .bind(secrets.seal(Purpose::SigningSecret, &secret))
    .bind(id)
    .execute(conn)
    .await?;
    match updated.rows_affected() {
        0 => Err(StoreError::NotFound),
        _ => Ok(secret),
    }
}

/// Gives webhooks created before signing existed a secret of their own.
pub async fn backfill_signing_secrets(
    conn: &mut SqliteConnection,
    secrets: &SecretBox,
) -> Result<u64, StoreError> {
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM webhooks WHERE signing_secret IS NULL")
        .fetch_all(&mut *conn)
        .await?;
    for id in &ids {
        sqlx::query("UPDATE webhooks SET signing_secret = ? WHERE id = ?")
            .bind(secrets.seal(Purpose::SigningSecret, &new_signing_secret()))
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(ids.len() as u64)
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
