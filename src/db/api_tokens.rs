use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqlitePool};

use super::{StoreError, now_ms};
use crate::domain::Label;

#[derive(Debug, Clone)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// Stores a new token by its hash; the token itself is shown once and never stored.
pub async fn create(
    conn: &mut SqliteConnection,
    name: &Label,
    token: &str,
    prefix: &str,
) -> Result<i64, StoreError> {
    sqlx::query_scalar(
        "INSERT INTO api_tokens (name, name_folded, token_hash, prefix, created_at)
         VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(name.as_str())
    .bind(name.folded())
    .bind(super::sha256_hex(token))
    .bind(prefix)
    .bind(now_ms())
    .fetch_one(conn)
    .await
    .map_err(|error| match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::TokenNameTaken,
        _ => StoreError::Database(error),
    })
}

/// The active token whose SHA-256 (hex) is `digest`, if any.
pub async fn find_active(pool: &SqlitePool, digest: &str) -> Result<Option<ApiToken>, StoreError> {
    let row = sqlx::query(
        "SELECT id, name, prefix, created_at, last_used_at FROM api_tokens
         WHERE token_hash = ? AND revoked_at IS NULL",
    )
    .bind(digest)
    .fetch_optional(pool)
    .await?;
    Ok(row.as_ref().map(decode).transpose()?)
}

pub async fn list_active(pool: &SqlitePool) -> Result<Vec<ApiToken>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, name, prefix, created_at, last_used_at FROM api_tokens
         WHERE revoked_at IS NULL ORDER BY name",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(decode).collect::<Result<_, _>>()?)
}

/// Returns the revoked token's name.
pub async fn revoke(conn: &mut SqliteConnection, id: i64) -> Result<String, StoreError> {
    sqlx::query_scalar(
        "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING name",
    )
    .bind(now_ms())
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)
}

pub async fn touch(conn: &mut SqliteConnection, id: i64, at: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE api_tokens SET last_used_at = ? WHERE id = ?")
        .bind(at)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

fn decode(row: &SqliteRow) -> Result<ApiToken, sqlx::Error> {
    Ok(ApiToken {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}
