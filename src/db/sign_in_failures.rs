use std::time::Duration;

use super::{StoreError, WriteTx};
use crate::clock::Timestamp;

/// How many failed sign-ins an email and a client address may have within a window.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub window: Duration,
    pub per_email: i64,
    pub per_client: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Counted as a failure until [`forget`] says the password was right.
    Counted { id: i64 },
    /// The limit is reached; sign-in stays refused until then.
    Blocked { until: Timestamp },
}

/// Counts a sign-in attempt as failed *before* its password is checked, inside the single
/// writer's transaction: concurrent guesses are counted one after another, so no more than
/// the limit are ever checked, however many arrive at once.
pub async fn count_attempt(
    tx: &mut WriteTx,
    email: &str,
    client: &str,
    limits: Limits,
    now: Timestamp,
) -> Result<Attempt, StoreError> {
    dispatch!(tx tx, |e, d| {
    sqlx::query("DELETE FROM sign_in_failures WHERE at < $1")
        .bind(now.minus(limits.window))
        .execute(&mut *e)
        .await?;
    let by_email = "SELECT at FROM sign_in_failures WHERE email = $1
                    ORDER BY at DESC LIMIT 1 OFFSET $2";
    let by_client = "SELECT at FROM sign_in_failures WHERE client = $1
                     ORDER BY at DESC LIMIT 1 OFFSET $2";
    for (sql, value, limit) in [
        (by_email, email, limits.per_email),
        (by_client, client, limits.per_client),
    ] {
        // The limit-th most recent failure: until it leaves the window, the limit is reached.
        let at: Option<Timestamp> = sqlx::query_scalar(sql)
            .bind(value)
            .bind(limit - 1)
            .fetch_optional(&mut *e)
            .await?;
        if let Some(at) = at {
            return Ok(Attempt::Blocked {
                until: at.plus(limits.window),
            });
        }
    }
    let id = sqlx::query_scalar(d.pick(
        "INSERT INTO sign_in_failures (email, client, at) VALUES ($1, $2, $3) RETURNING rowid",
        "INSERT INTO sign_in_failures (email, client, at) VALUES ($1, $2, $3) RETURNING id",
    ))
    .bind(email)
    .bind(client)
    .bind(now)
    .fetch_one(e)
    .await?;
    Ok(Attempt::Counted { id })
    })
}

/// The attempt turned out not to be a failure (the password was right), or was never
/// checked: it no longer counts.
pub async fn forget(tx: &mut WriteTx, attempt_id: i64) -> Result<(), StoreError> {
    dispatch!(tx tx, |e, d| sqlx::query(d.pick(
        "DELETE FROM sign_in_failures WHERE rowid = $1",
        "DELETE FROM sign_in_failures WHERE id = $1",
    ))
    .bind(attempt_id)
    .execute(e)
    .await?
            .rows_affected());
    Ok(())
}
