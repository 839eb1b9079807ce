//! The delivery engine's queue: due deliveries are claimed with a lease, and outcomes are
//! written back in batches. A claim pushes `next_attempt_at` past the lease, so a process
//! killed mid-send loses nothing (the delivery is due again when the lease runs out) and a
//! live one never claims the same delivery twice. On PostgreSQL, nodes claiming at the same
//! moment skip each other's locked rows instead of waiting or claiming them twice.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use sqlx::{FromRow, QueryBuilder, Sqlite};

use super::webhooks::open_api_key;
use super::{Dialect, IdList, Source, StoreError, WriteTx};
use crate::clock::Timestamp;
use crate::domain::{ApiKey, AttemptErrorCode, DeliveryStatus};
use crate::secret_box::{Purpose, SecretBox};

/// Due deliveries looked at per claim, so that a claim stays cheap however long the queue.
const SCAN_FACTOR: i64 = 4;

/// A claimed delivery with what sending it needs, secrets opened.
pub struct Claimed {
    pub id: i64,
    pub webhook_id: i64,
    /// Tries made before this one since the retry schedule (re)started.
    pub attempts_in_schedule: i64,
    pub url: String,
    pub api_key: Option<ApiKey>,
    pub signing_secret: String,
    /// The secret before the last rotation, while it still signs.
    pub previous_signing_secret: Option<String>,
    pub event_type: String,
    pub event_time: Timestamp,
    /// JSON text, as published.
    pub current_context: String,
    /// JSON text, as published.
    pub data: String,
}

#[derive(FromRow)]
struct ClaimedRow {
    id: i64,
    next_attempt_at: Option<Timestamp>,
    webhook_id: i64,
    attempts_in_schedule: i64,
    url: String,
    api_key: Option<String>,
    signing_secret: Option<String>,
    previous_signing_secret: Option<String>,
    event_type: String,
    event_time: Timestamp,
    current_context: String,
    data: String,
}

/// How much to claim: at most `limit` in all and `per_webhook` of any one webhook, none of
/// the webhooks in `busy` (they have all they may have in flight).
pub struct ClaimLimits<'a> {
    pub limit: i64,
    pub per_webhook: i64,
    pub busy: &'a [i64],
}

/// Claims due deliveries of active webhooks, oldest due first, until `lease_until`.
pub async fn claim_due(
    tx: &mut WriteTx,
    secrets: &SecretBox,
    limits: ClaimLimits<'_>,
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Vec<Claimed>, StoreError> {
    let ids: Vec<i64> = dispatch!(tx &mut *tx, |e, d, DB| {
    let mut query = QueryBuilder::<DB>::new(
        "WITH due AS (
           SELECT d.id, d.webhook_id, d.next_attempt_at FROM deliveries d
           JOIN webhooks w ON w.id = d.webhook_id AND w.status = 'active'
           WHERE d.status = 'pending' AND d.next_attempt_at <= ",
    );
    query.push_bind(now);
    if !limits.busy.is_empty() {
        query.push(" AND d.webhook_id").push_not_in(limits.busy);
    }
    query
        .push(" ORDER BY d.next_attempt_at LIMIT ")
        .push_bind(limits.limit * SCAN_FACTOR)
        .push(d.pick("", " FOR UPDATE OF d SKIP LOCKED"))
        .push(
            "), ranked AS (
           SELECT id, next_attempt_at, ROW_NUMBER() OVER (
             PARTITION BY webhook_id ORDER BY next_attempt_at, id) AS place
           FROM due)
         UPDATE deliveries SET next_attempt_at = ",
        )
        .push_bind(lease_until)
        .push(" WHERE id IN (SELECT id FROM ranked WHERE place <= ")
        .push_bind(limits.per_webhook)
        .push(" ORDER BY next_attempt_at LIMIT ")
        .push_bind(limits.limit)
        .push(") RETURNING id");
    query.build_query_scalar().fetch_all(e).await?
    });
    load(tx, secrets, &ids, now).await
}

/// What sending these deliveries needs, secrets opened, oldest due first. Deliveries of a
/// webhook switched off meanwhile are left out: they wait, pending, until it is enabled.
pub async fn load<'a>(
    db: impl Into<Source<'a>>,
    secrets: &SecretBox,
    ids: &[i64],
    now: Timestamp,
) -> Result<Vec<Claimed>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<ClaimedRow> = dispatch!(read db, |e, d, DB| {
    let mut details = QueryBuilder::<DB>::new(
        "SELECT d.id, d.next_attempt_at, d.webhook_id,
                d.attempt_count - d.schedule_start AS attempts_in_schedule,
                w.url, w.api_key, w.signing_secret,
                CASE WHEN w.previous_secret_expires_at > ",
    );
    details.push_bind(now).push(
        " THEN w.previous_signing_secret END AS previous_signing_secret,
                e.event_type, e.event_time, e.current_context, e.data
         FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
                           JOIN events e ON e.id = d.event_id
         WHERE d.status = 'pending' AND w.status = 'active' AND d.id",
    );
    details.push_in(ids);
    details.build_query_as().fetch_all(e).await?
    });
    // Sorted here: asked to sort, PostgreSQL may walk every pending delivery in due order
    // (an index gives that order) looking for these few.
    let mut rows = rows;
    rows.sort_by_key(|row| (row.next_attempt_at, row.id));
    rows.into_iter()
        .map(|row| {
            let sealed = row.signing_secret.ok_or(StoreError::NotFound)?;
            Ok(Claimed {
                id: row.id,
                webhook_id: row.webhook_id,
                attempts_in_schedule: row.attempts_in_schedule,
                url: row.url,
                api_key: match row.api_key {
                    Some(sealed) => open_api_key(secrets, &sealed)?,
                    None => None,
                },
                signing_secret: secrets.open(Purpose::SigningSecret, &sealed)?,
                previous_signing_secret: row
                    .previous_signing_secret
                    .map(|sealed| secrets.open(Purpose::SigningSecret, &sealed))
                    .transpose()?,
                event_type: row.event_type,
                event_time: row.event_time,
                current_context: row.current_context,
                data: row.data,
            })
        })
        .collect()
}

/// When the next pending delivery falls due, if any is pending for an active webhook.
pub async fn next_due<'a>(db: impl Into<Source<'a>>) -> Result<Option<Timestamp>, StoreError> {
    dispatch!(read db, |e, d| Ok(sqlx::query_scalar(
        "SELECT MIN(d.next_attempt_at) FROM deliveries d
         JOIN webhooks w ON w.id = d.webhook_id AND w.status = 'active'
         WHERE d.status = 'pending'",
    )
    .fetch_one(e)
    .await?))
}

/// Claimed deliveries that were never sent (shutdown): due again at once.
pub async fn release(tx: &mut WriteTx, ids: &[i64], now: Timestamp) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    dispatch!(tx tx, |e, d, DB| {
        let mut query = QueryBuilder::<DB>::new("UPDATE deliveries SET next_attempt_at = ");
        query
            .push_bind(now)
            .push(" WHERE status = 'pending' AND id")
            .push_in(ids);
        query.build().execute(e).await?;
    });
    Ok(())
}

/// One try, as the delivery log keeps it.
pub struct AttemptRecord {
    pub delivery_id: i64,
    pub webhook_id: i64,
    pub at: Timestamp,
    pub duration_ms: i64,
    pub status_code: Option<i64>,
    pub error_code: Option<AttemptErrorCode>,
    pub error_message: Option<String>,
    pub response_excerpt: Option<String>,
    pub response_headers: Option<String>,
    pub signature: String,
    /// Where the delivery stands after it.
    pub status: DeliveryStatus,
    /// When to try again, while `status` is pending.
    pub next_attempt_at: Option<Timestamp>,
}

/// Rows per multi-row INSERT: 10 parameters each stays far below SQLite's limit.
const ROWS_PER_INSERT: usize = 1000;

/// Writes a batch of tries: the attempt rows, each delivery's state, and per webhook its
/// last delivery and hourly counts, in a handful of statements per batch. Tries of
/// deliveries deleted meanwhile (with their webhook) are left out. Rows are locked webhooks
/// first, each kind in id order, as a webhook's deletion locks them, so that two
/// transactions never wait for each other in a circle.
pub async fn record_attempts(
    tx: &mut WriteTx,
    attempts: &[&AttemptRecord],
) -> Result<(), StoreError> {
    let still_there = lock_deliveries(tx, attempts).await?;
    let attempts: Vec<&AttemptRecord> = attempts
        .iter()
        .copied()
        .filter(|attempt| still_there.contains(&attempt.delivery_id))
        .collect();
    let mut last: BTreeMap<i64, (Timestamp, bool)> = BTreeMap::new();
    let mut hourly: BTreeMap<(i64, Timestamp), (i64, i64)> = BTreeMap::new();
    for attempt in &attempts {
        let succeeded = attempt.error_code.is_none();
        let latest = last
            .entry(attempt.webhook_id)
            .or_insert((attempt.at, succeeded));
        if attempt.at >= latest.0 {
            *latest = (attempt.at, succeeded);
        }
        let hour = attempt.at.start_of_hour();
        let counts = hourly.entry((attempt.webhook_id, hour)).or_default();
        if succeeded {
            counts.0 += 1;
        } else {
            counts.1 += 1;
        }
    }
    write_attempts(tx, &attempts).await?;
    dispatch!(tx tx, |e, d| {
    for (webhook_id, (at, succeeded)) in last {
        let outcome = if succeeded {
            DeliveryStatus::Succeeded
        } else {
            DeliveryStatus::Failed
        };
        sqlx::query(
            "UPDATE webhooks SET last_delivery_at = $1, last_delivery_outcome = $2
             WHERE id = $3 AND (last_delivery_at IS NULL OR last_delivery_at <= $1)",
        )
        .bind(at)
        .bind(outcome)
        .bind(webhook_id)
        .execute(&mut *e)
        .await?;
    }
    for ((webhook_id, hour), (succeeded, failed)) in hourly {
        sqlx::query(
            "INSERT INTO webhook_hourly_stats (webhook_id, hour_start, succeeded, failed)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (webhook_id, hour_start) DO UPDATE
             SET succeeded = webhook_hourly_stats.succeeded + excluded.succeeded,
                 failed = webhook_hourly_stats.failed + excluded.failed",
        )
        .bind(webhook_id)
        .bind(hour)
        .bind(succeeded)
        .bind(failed)
        .execute(&mut *e)
        .await?;
    }
    });
    Ok(())
}

/// The attempt rows and each delivery's new state. SQLite takes multi-row statements;
/// PostgreSQL takes each column as one array, so the statement (and its plan) is the same
/// for every batch size.
async fn write_attempts(tx: &mut WriteTx, attempts: &[&AttemptRecord]) -> Result<(), StoreError> {
    match tx {
        WriteTx::Sqlite(tx) => {
            for chunk in attempts.chunks(ROWS_PER_INSERT) {
                let mut insert = QueryBuilder::<Sqlite>::new(
                    "INSERT INTO attempts (delivery_id, attempted_at, duration_ms, status_code,
                                           error_code, error_message, response_body,
                                           response_headers, signature) ",
                );
                insert.push_values(chunk, |mut row, attempt| {
                    row.push_bind(attempt.delivery_id)
                        .push_bind(attempt.at)
                        .push_bind(attempt.duration_ms)
                        .push_bind(attempt.status_code)
                        .push_bind(attempt.error_code)
                        .push_bind(&attempt.error_message)
                        .push_bind(&attempt.response_excerpt)
                        .push_bind(&attempt.response_headers)
                        .push_bind(&attempt.signature);
                });
                insert.build().execute(&mut **tx).await?;
                let mut update = QueryBuilder::<Sqlite>::new(
                    "UPDATE deliveries SET status = v.column2, attempt_count = attempt_count + 1,
                            next_attempt_at = v.column3, last_attempt_at = v.column4,
                            last_status_code = v.column5
                     FROM (",
                );
                update.push_values(chunk, |mut row, attempt| {
                    row.push_bind(attempt.delivery_id)
                        .push_bind(attempt.status)
                        .push_bind(attempt.next_attempt_at)
                        .push_bind(attempt.at)
                        .push_bind(attempt.status_code);
                });
                update.push(") AS v WHERE deliveries.id = v.column1");
                update.build().execute(&mut **tx).await?;
            }
        }
        WriteTx::Postgres(tx) => {
            let column = |value: fn(&AttemptRecord) -> Option<String>| -> Vec<Option<String>> {
                attempts.iter().map(|attempt| value(attempt)).collect()
            };
            let ids: Vec<i64> = attempts.iter().map(|a| a.delivery_id).collect();
            let at: Vec<i64> = attempts.iter().map(|a| a.at.unix_ms()).collect();
            let status_codes: Vec<Option<i64>> = attempts.iter().map(|a| a.status_code).collect();
            sqlx::query(
                "INSERT INTO attempts (delivery_id, attempted_at, duration_ms, status_code,
                                       error_code, error_message, response_body,
                                       response_headers, signature)
                 SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[],
                                      $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])",
            )
            .bind(&ids)
            .bind(&at)
            .bind(attempts.iter().map(|a| a.duration_ms).collect::<Vec<_>>())
            .bind(&status_codes)
            .bind(column(|a| a.error_code.map(|code| code.key().to_owned())))
            .bind(column(|a| a.error_message.clone()))
            .bind(column(|a| a.response_excerpt.clone()))
            .bind(column(|a| a.response_headers.clone()))
            .bind(column(|a| Some(a.signature.clone())))
            .execute(&mut **tx)
            .await?;
            sqlx::query(
                "UPDATE deliveries SET status = v.status, attempt_count = attempt_count + 1,
                        next_attempt_at = v.next_attempt_at, last_attempt_at = v.at,
                        last_status_code = v.status_code
                 FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[])
                      AS v (id, status, next_attempt_at, at, status_code)
                 WHERE deliveries.id = v.id",
            )
            .bind(&ids)
            .bind(column(|a| Some(a.status.key().to_owned())))
            .bind(
                attempts
                    .iter()
                    .map(|a| a.next_attempt_at.map(Timestamp::unix_ms))
                    .collect::<Vec<_>>(),
            )
            .bind(&at)
            .bind(&status_codes)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

/// Locks the webhooks and deliveries these tries belong to, and returns the deliveries
/// that still exist. On SQLite the one writer holds everything already.
async fn lock_deliveries(
    tx: &mut WriteTx,
    attempts: &[&AttemptRecord],
) -> Result<HashSet<i64>, StoreError> {
    let webhooks: Vec<i64> = attempts
        .iter()
        .map(|a| a.webhook_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let deliveries: Vec<i64> = attempts.iter().map(|a| a.delivery_id).collect();
    dispatch!(tx tx, |e, d, DB| {
        if d == Dialect::Postgres {
            let mut query = QueryBuilder::<DB>::new("SELECT id FROM webhooks WHERE id");
            query.push_in(&webhooks).push(" ORDER BY id FOR KEY SHARE");
            query.build().execute(&mut *e).await?;
        }
        let mut query = QueryBuilder::<DB>::new("SELECT id FROM deliveries WHERE id");
        query
            .push_in(&deliveries)
            .push(d.pick(" ORDER BY id", " ORDER BY id FOR UPDATE"));
        let found: Vec<i64> = query.build_query_scalar().fetch_all(e).await?;
        Ok(found.into_iter().collect())
    })
}

/// How the queue stands: deliveries pending for active webhooks, and since when the
/// longest-waiting of those that are due has been due.
pub struct Depth {
    pub pending: i64,
    pub oldest_due: Option<Timestamp>,
}

pub async fn depth<'a>(db: impl Into<Source<'a>>, now: Timestamp) -> Result<Depth, StoreError> {
    let (pending, oldest_due): (i64, Option<Timestamp>) = dispatch!(read db, |e, d| sqlx::query_as(
        "SELECT COUNT(*), MIN(CASE WHEN d.next_attempt_at <= $1 THEN d.next_attempt_at END)
         FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id AND w.status = 'active'
         WHERE d.status = 'pending'",
    )
    .bind(now)
    .fetch_one(e)
    .await?);
    Ok(Depth {
        pending,
        oldest_due,
    })
}
