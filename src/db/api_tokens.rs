use sqlx::FromRow;

use super::{Source, StoreError, WriteTx};
use crate::clock::Timestamp;
use crate::domain::{AccountKey, Label};

#[derive(Debug, Clone, FromRow)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    /// The one account it reaches; none: a staff token, which reaches every account.
    pub account: Option<AccountKey>,
    pub prefix: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// Stores a new token by its hash; the token itself is shown once and never stored. No two
/// active tokens have names that look alike (see [`Label::look_alike_key`]).
pub async fn create(
    tx: &mut WriteTx,
    name: &Label,
    account: Option<&AccountKey>,
    token: &str,
    prefix: &str,
    now: Timestamp,
) -> Result<i64, StoreError> {
    // Looked for first so the message can name it; the unique indexes still refuse one
    // committed meanwhile by another node, whose spelling is then not known here.
    let existing: Option<String> = on_tx!(&mut *tx, |e| sqlx::query_scalar(
        "SELECT name FROM api_tokens
         WHERE (name_look_alike_key = $1 OR name_folded = $2) AND revoked_at IS NULL
         ORDER BY id LIMIT 1",
    )
    .bind(name.look_alike_key())
    .bind(name.folded())
    .fetch_optional(e)
    .await?);
    if let Some(existing) = existing {
        return Err(StoreError::TokenNameTaken { existing });
    }
    on_tx!(tx, |e| sqlx::query_scalar(
        "INSERT INTO api_tokens (name, name_folded, name_look_alike_key, token_hash, prefix,
                                 created_at, account)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(name.as_str())
    .bind(name.folded())
    .bind(name.look_alike_key())
    .bind(super::sha256_hex(token))
    .bind(prefix)
    .bind(now)
    .bind(account)
    .fetch_one(e)
    .await
    .map_err(|error| match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::TokenNameTaken {
            existing: name.as_str().to_owned(),
        },
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::UnknownAccount(account.map(ToString::to_string).unwrap_or_default())
        }
        _ => StoreError::Database(error),
    }))
}

/// The active token whose SHA-256 (hex) is `digest`, if any.
pub async fn find_active<'a>(
    db: impl Into<Source<'a>>,
    digest: &str,
) -> Result<Option<ApiToken>, StoreError> {
    on_read!(db, |e| Ok(sqlx::query_as(
        "SELECT id, name, account, prefix, created_at, last_used_at FROM api_tokens
         WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(digest)
    .fetch_optional(e)
    .await?))
}

/// The active token with this id.
pub async fn find<'a>(db: impl Into<Source<'a>>, id: i64) -> Result<ApiToken, StoreError> {
    on_read!(db, |e| sqlx::query_as(
        "SELECT id, name, account, prefix, created_at, last_used_at FROM api_tokens
         WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(id)
    .fetch_optional(e)
    .await?
    .ok_or(StoreError::NotFound))
}

pub async fn list_active<'a>(db: impl Into<Source<'a>>) -> Result<Vec<ApiToken>, StoreError> {
    on_read!(db, |e| Ok(sqlx::query_as(
        "SELECT id, name, account, prefix, created_at, last_used_at FROM api_tokens
         WHERE revoked_at IS NULL ORDER BY name",
    )
    .fetch_all(e)
    .await?))
}

/// Returns the revoked token's name.
pub async fn revoke(tx: &mut WriteTx, id: i64, now: Timestamp) -> Result<String, StoreError> {
    on_tx!(tx, |e| sqlx::query_scalar(
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL
         RETURNING name",
    )
    .bind(now)
    .bind(id)
    .fetch_optional(e)
    .await?
    .ok_or(StoreError::NotFound))
}

pub async fn touch(tx: &mut WriteTx, id: i64, at: Timestamp) -> Result<(), StoreError> {
    on_tx!(tx, |e| sqlx::query(
        "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2"
    )
    .bind(at)
    .bind(id)
    .execute(e)
    .await?
    .rows_affected());
    Ok(())
}
