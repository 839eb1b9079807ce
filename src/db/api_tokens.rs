use sqlx::{FromRow, SqliteConnection, SqliteExecutor};

use super::StoreError;
use crate::clock::Timestamp;
use crate::domain::Label;

#[derive(Debug, Clone, FromRow)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// Stores a new token by its hash; the token itself is shown once and never stored.
pub async fn create(
    conn: &mut SqliteConnection,
    name: &Label,
    token: &str,
    prefix: &str,
    now: Timestamp,
) -> Result<i64, StoreError> {
    sqlx::query_scalar(
        "INSERT INTO api_tokens (name, name_folded, token_hash, prefix, created_at)
         VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(name.as_str())
    .bind(name.folded())
    .bind(super::sha256_hex(token))
    .bind(prefix)
    .bind(now)
    .fetch_one(conn)
    .await
    .map_err(|error| match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::TokenNameTaken,
        _ => StoreError::Database(error),
    })
}

/// The active token whose SHA-256 (hex) is `digest`, if any.
pub async fn find_active(
    db: impl SqliteExecutor<'_>,
    digest: &str,
) -> Result<Option<ApiToken>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, name, prefix, created_at, last_used_at FROM api_tokens
         WHERE token_hash = ? AND revoked_at IS NULL",
    )
    .bind(digest)
    .fetch_optional(db)
    .await?)
}

/// The active token with this id.
pub async fn find(db: impl SqliteExecutor<'_>, id: i64) -> Result<ApiToken, StoreError> {
    sqlx::query_as(
        "SELECT id, name, prefix, created_at, last_used_at FROM api_tokens
         WHERE id = ? AND revoked_at IS NULL",
    )
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or(StoreError::NotFound)
}

pub async fn list_active(db: impl SqliteExecutor<'_>) -> Result<Vec<ApiToken>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, name, prefix, created_at, last_used_at FROM api_tokens
         WHERE revoked_at IS NULL ORDER BY name",
    )
    .fetch_all(db)
    .await?)
}

/// Returns the revoked token's name.
pub async fn revoke(
    conn: &mut SqliteConnection,
    id: i64,
    now: Timestamp,
) -> Result<String, StoreError> {
    sqlx::query_scalar(
        "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING name",
    )
    .bind(now)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)
}

pub async fn touch(conn: &mut SqliteConnection, id: i64, at: Timestamp) -> Result<(), StoreError> {
    sqlx::query("UPDATE api_tokens SET last_used_at = ? WHERE id = ?")
        .bind(at)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
