use std::time::Duration;

use sqlx::QueryBuilder;

use super::{StoreError, WriteTx};
use crate::clock::Timestamp;

/// How many failed sign-ins may be counted, and within what window, for one key.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub failures: i64,
    pub window: Duration,
}

/// The limits a sign-in attempt must stay within: per email from one client address, per
/// email from all addresses, and per client address over all emails.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub per_email_and_client: Limit,
    pub per_email: Limit,
    pub per_client: Limit,
}

/// The limits one attempt is held to.
#[derive(Debug, Clone, Copy)]
pub struct Applied {
    limits: Limits,
    per_email: bool,
}

impl Limits {
    pub const fn all(self) -> Applied {
        Applied {
            limits: self,
            per_email: true,
        }
    }

    /// All but the per-email limit: the browser signed in to this email before.
    pub const fn for_a_known_browser(self) -> Applied {
        Applied {
            limits: self,
            per_email: false,
        }
    }

    fn longest_window(&self) -> Duration {
        self.per_email_and_client
            .window
            .max(self.per_email.window)
            .max(self.per_client.window)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Counted as a failure until [`forget`] says the password was right.
    Counted { id: i64 },
    /// A limit is reached; sign-in stays refused until then.
    Blocked { until: Timestamp },
}

/// Counts a sign-in attempt as failed *before* its password is checked, inside the single
/// writer's transaction: concurrent guesses are counted one after another, so no more than
/// the limit are ever checked, however many arrive at once.
pub async fn count_attempt(
    tx: &mut WriteTx,
    email: &str,
    client: &str,
    applied: Applied,
    now: Timestamp,
) -> Result<Attempt, StoreError> {
    let limits = applied.limits;
    on_tx!(tx, |e, d, DB| {
        sqlx::query("DELETE FROM sign_in_failures WHERE at < $1")
            .bind(now.minus(limits.longest_window()))
            .execute(&mut *e)
            .await?;
        // The limit-th most recent failure within the window: until it leaves the window, the
        // limit is reached.
        let checks = [
            (Some(email), Some(client), limits.per_email_and_client),
            (Some(email), None, limits.per_email),
            (None, Some(client), limits.per_client),
        ];
        for (by_email, by_client, limit) in checks {
            if by_client.is_none() && !applied.per_email {
                continue;
            }
            let mut query = QueryBuilder::<DB>::new("SELECT at FROM sign_in_failures WHERE at >= ");
            query.push_bind(now.minus(limit.window));
            if let Some(email) = by_email {
                query.push(" AND email = ").push_bind(email);
            }
            if let Some(client) = by_client {
                query.push(" AND client = ").push_bind(client);
            }
            query
                .push(" ORDER BY at DESC LIMIT 1 OFFSET ")
                .push_bind(limit.failures - 1);
            let at: Option<Timestamp> = query.build_query_scalar().fetch_optional(&mut *e).await?;
            if let Some(at) = at {
                return Ok(Attempt::Blocked {
                    until: at.plus(limit.window),
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
    on_tx!(tx, |e, d| sqlx::query(d.pick(
        "DELETE FROM sign_in_failures WHERE rowid = $1",
        "DELETE FROM sign_in_failures WHERE id = $1",
    ))
    .bind(attempt_id)
    .execute(e)
    .await?
    .rows_affected());
    Ok(())
}
