use sqlx::{SqliteConnection, SqlitePool};

use super::{StoreError, now_ms};

/// Records a failed sign-in and forgets those that no longer count.
pub async fn record(
    conn: &mut SqliteConnection,
    email: &str,
    client: &str,
    window_ms: i64,
) -> Result<(), StoreError> {
    let now = now_ms();
    sqlx::query("DELETE FROM sign_in_failures WHERE at < ?")
        .bind(now - window_ms)
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO sign_in_failures (email, client, at) VALUES (?, ?, ?)")
        .bind(email)
        .bind(client)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// When the `limit`-th most recent failure in the window leaves it: until then there are
/// `limit` or more failures and sign-in stays refused. `None` when under the limit.
pub async fn blocked_until(
    pool: &SqlitePool,
    column: FailureKey,
    value: &str,
    limit: i64,
    window_ms: i64,
) -> Result<Option<i64>, StoreError> {
    let sql = match column {
        FailureKey::Email => {
            "SELECT at FROM sign_in_failures WHERE email = ? AND at >= ?
             ORDER BY at DESC LIMIT 1 OFFSET ?"
        }
        FailureKey::Client => {
            "SELECT at FROM sign_in_failures WHERE client = ? AND at >= ?
             ORDER BY at DESC LIMIT 1 OFFSET ?"
        }
    };
    let at: Option<i64> = sqlx::query_scalar(sql)
        .bind(value)
        .bind(now_ms() - window_ms)
        .bind(limit - 1)
        .fetch_optional(pool)
        .await?;
    Ok(at.map(|at| at + window_ms))
}

#[derive(Debug, Clone, Copy)]
pub enum FailureKey {
    Email,
    Client,
}
