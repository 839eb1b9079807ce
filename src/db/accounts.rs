//! Accounts: made and renamed by the host, each with the figures the Accounts tab and
//! `GET /api/v1/accounts` show.

use std::time::Duration;

use sqlx::FromRow;

use super::{Source, StoreError, WriteTx};
use crate::clock::Timestamp;
use crate::domain::AccountKey;

/// An account as listed, with its counts.
#[derive(Debug, Clone, FromRow)]
pub struct Account {
    pub key: AccountKey,
    pub name: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub webhooks: i64,
    /// Active webhooks that are Failing.
    pub failing: i64,
    /// Tries made in the last 24 hours, by the webhooks' hourly counts.
    pub deliveries_24h: i64,
}

/// The window of the delivery count.
const COUNTED_FOR: Duration = Duration::from_secs(24 * 60 * 60);

fn select(since: Timestamp) -> String {
    let since = since.start_of_hour().unix_ms();
    format!(
        "SELECT a.key, a.name, a.created_at, a.updated_at,
                (SELECT COUNT(*) FROM webhooks w WHERE w.account = a.key) AS webhooks,
                (SELECT COUNT(*) FROM webhooks w WHERE w.account = a.key
                   AND w.status = 'active' AND w.failing_since IS NOT NULL) AS failing,
                (SELECT COALESCE(CAST(SUM(s.succeeded + s.failed) AS BIGINT), 0)
                   FROM webhook_hourly_stats s JOIN webhooks w ON w.id = s.webhook_id
                  WHERE w.account = a.key AND s.hour_start >= {since}) AS deliveries_24h
         FROM accounts a"
    )
}

/// Creates the account, or renames it: true when it was created.
pub async fn put(
    tx: &mut WriteTx,
    key: &AccountKey,
    name: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    on_tx!(tx, |e| {
        let renamed = sqlx::query("UPDATE accounts SET name = $1, updated_at = $2 WHERE key = $3")
            .bind(name)
            .bind(now)
            .bind(key.as_str())
            .execute(&mut *e)
            .await?
            .rows_affected();
        if renamed > 0 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO accounts (key, name, created_at, updated_at) VALUES ($1, $2, $3, $3)",
        )
        .bind(key.as_str())
        .bind(name)
        .bind(now)
        .execute(e)
        .await?;
        Ok(true)
    })
}

pub async fn find<'a>(
    db: impl Into<Source<'a>>,
    key: &AccountKey,
    now: Timestamp,
) -> Result<Account, StoreError> {
    on_read!(db, |e| sqlx::query_as(&format!(
        "{} WHERE a.key = $1",
        select(now.minus(COUNTED_FOR))
    ))
    .bind(key.as_str())
    .fetch_optional(e)
    .await?
    .ok_or(StoreError::NotFound))
}

/// Every account (`only`: that one alone), by key.
pub async fn list<'a>(
    db: impl Into<Source<'a>>,
    only: Option<&AccountKey>,
    now: Timestamp,
) -> Result<Vec<Account>, StoreError> {
    on_read!(db, |e| Ok(sqlx::query_as(&format!(
        "{} WHERE $1 IS NULL OR a.key = $1 ORDER BY a.key",
        select(now.minus(COUNTED_FOR))
    ))
    .bind(only.map(AccountKey::as_str))
    .fetch_all(e)
    .await?))
}

/// Deletes an account without webhooks, with its events, tokens and people (their
/// sessions end). `default` is never deleted; an account with webhooks is in use.
pub async fn delete(tx: &mut WriteTx, key: &AccountKey) -> Result<(), StoreError> {
    if key.is_default() {
        return Err(StoreError::AccountInUse);
    }
    on_tx!(tx, |e| {
        let webhooks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhooks WHERE account = $1")
            .bind(key.as_str())
            .fetch_one(&mut *e)
            .await?;
        if webhooks > 0 {
            return Err(StoreError::AccountInUse);
        }
        for statement in [
            "DELETE FROM events WHERE account = $1",
            "DELETE FROM api_tokens WHERE account = $1",
            "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE account = $1)",
            "DELETE FROM users WHERE account = $1",
        ] {
            sqlx::query(statement)
                .bind(key.as_str())
                .execute(&mut *e)
                .await?;
        }
        let deleted = sqlx::query("DELETE FROM accounts WHERE key = $1")
            .bind(key.as_str())
            .execute(e)
            .await?
            .rows_affected();
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    })
}
