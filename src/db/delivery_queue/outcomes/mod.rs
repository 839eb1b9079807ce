//! Writing back what tries did, in batches: attempt rows, each delivery's new state, and
//! per webhook its last delivery, receiver health and hourly counts.

mod rows;
mod summary;
mod turns;

use std::collections::BTreeMap;

use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use std::time::Duration;

use crate::clock::Timestamp;
use crate::db::{StoreError, WriteTx};
use crate::domain::receiver_health::{ReceiverChange, ReceiverVerdict};
use crate::domain::{AttemptErrorCode, DeliveryStatus, OperationalEvent};
use rows::{lock_deliveries, write_attempts};
use summary::Summary;

/// One try, as the delivery log keeps it.
pub struct AttemptRecord {
    pub delivery_id: i64,
    pub webhook_id: i64,
    /// The lease the try was made under: recorded only while the delivery is still held
    /// under it.
    pub lease: Timestamp,
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
    /// A probe of a Failing webhook that failed: the delivery waits with the rest of the
    /// queue without spending a try of its schedule.
    pub keeps_schedule: bool,
    pub verdict: ReceiverVerdict,
}

/// What a batch of tries came to.
pub struct Recorded {
    /// The turns the batch made (webhooks failing or recovered, deliveries that gave up),
    /// for the console to publish.
    pub happened: Vec<OperationalEvent>,
    /// Deliveries whose try was made under a lease that lapsed and was taken by another
    /// claim since: their outcome was dropped, the new holder's stands.
    pub stale: Vec<i64>,
}

/// Writes a batch of tries: the attempt rows, each delivery's state, and per webhook its
/// last delivery and hourly counts, in a handful of statements per batch. Tries of
/// deliveries deleted meanwhile (with their webhook) are left out, and so are tries made
/// under a lease the delivery is no longer held under (fencing: a process that stalled past
/// its lease cannot undo what the next holder did). Rows are locked webhooks first, each
/// kind in id order, as a webhook's deletion locks them, so that two transactions never
/// wait for each other in a circle.
pub async fn record_attempts(
    tx: &mut WriteTx,
    attempts: &[&AttemptRecord],
) -> Result<Recorded, StoreError> {
    let leases = lock_deliveries(tx, attempts).await?;
    let mut stale = Vec::new();
    let attempts: Vec<&AttemptRecord> = attempts
        .iter()
        .copied()
        .filter(|attempt| match leases.get(&attempt.delivery_id) {
            None => false,
            Some(held) if *held == Some(attempt.lease) => true,
            Some(_) => {
                stale.push(attempt.delivery_id);
                false
            }
        })
        .collect();
    let summary = Summary::of(&attempts);
    write_attempts(tx, &attempts).await?;
    let mut happened = Vec::new();
    // SQLite's one writer holds every row already: each webhook's last delivery in one
    // statement, for a statement costs a round trip to SQLite's thread.
    let one_by_one = match tx {
        WriteTx::Sqlite(conn) => {
            note_last_deliveries(conn, &summary.last).await?;
            false
        }
        WriteTx::Postgres(_) => true,
    };
    // On PostgreSQL webhook by webhook in id order, each row changed by consecutive
    // statements and only where something changes: two nodes' batches lock the rows they
    // share in the same order (no deadlock), and a batch with nothing new for a row does
    // not lock it at all.
    for (webhook_id, (at, succeeded)) in &summary.last {
        if one_by_one {
            note_last_delivery(tx, *webhook_id, *at, *succeeded).await?;
        }
        if let Some(change) = summary
            .receivers
            .get(webhook_id)
            .filter(|change| !change.is_nothing())
        {
            let before = turns::before(tx, *webhook_id, change).await?;
            note_receiver(tx, *webhook_id, change).await?;
            happened
                .extend(before.map_or_else(Vec::new, |before| turns::turns(before, change, *at)));
        }
    }
    note_hourly(tx, &summary.hourly).await?;
    happened.extend(turns::gave_up(tx, &attempts).await?);
    Ok(Recorded { happened, stale })
}

/// Adds the batch's successes and failures to each webhook's hourly counts, in one
/// statement whose rows come in (webhook, hour) order on every node.
async fn note_hourly(
    tx: &mut WriteTx,
    hourly: &BTreeMap<(i64, Timestamp), (i64, i64)>,
) -> Result<(), StoreError> {
    if hourly.is_empty() {
        return Ok(());
    }
    on_tx!(tx, |e, _, DB| {
        let mut insert = QueryBuilder::<DB>::new(
            "INSERT INTO webhook_hourly_stats (webhook_id, hour_start, succeeded, failed) ",
        );
        insert.push_values(
            hourly,
            |mut row, ((webhook_id, hour), (succeeded, failed))| {
                row.push_bind(*webhook_id)
                    .push_bind(*hour)
                    .push_bind(*succeeded)
                    .push_bind(*failed);
            },
        );
        insert.push(
            " ON CONFLICT (webhook_id, hour_start) DO UPDATE
             SET succeeded = webhook_hourly_stats.succeeded + excluded.succeeded,
                 failed = webhook_hourly_stats.failed + excluded.failed",
        );
        insert.build().execute(&mut *e).await?;
    });
    Ok(())
}

/// How stale "last delivery" may get while its outcome stays the same: every node's every
/// batch rewriting the same webhook row would queue the nodes behind each other.
const LAST_DELIVERY_GRANULARITY: Duration = Duration::from_secs(1);

/// [`note_last_delivery`] for every webhook of the batch at once (SQLite).
async fn note_last_deliveries(
    conn: &mut SqliteConnection,
    last: &BTreeMap<i64, (Timestamp, bool)>,
) -> Result<(), StoreError> {
    if last.is_empty() {
        return Ok(());
    }
    let mut update = QueryBuilder::<Sqlite>::new(
        "UPDATE webhooks SET last_delivery_at = v.at, last_delivery_outcome = v.outcome
         FROM (SELECT column1 AS id, column2 AS at, column3 AS outcome, column4 AS settled
               FROM (",
    );
    update.push_values(last, |mut row, (webhook_id, (at, succeeded))| {
        row.push_bind(*webhook_id)
            .push_bind(*at)
            .push_bind(outcome_of(*succeeded))
            .push_bind(at.minus(LAST_DELIVERY_GRANULARITY));
    });
    update.push(
        ")) AS v
         WHERE webhooks.id = v.id
           AND (last_delivery_at IS NULL
                OR last_delivery_at <= v.settled
                OR (last_delivery_at <= v.at AND last_delivery_outcome <> v.outcome))",
    );
    update.build().execute(conn).await?;
    Ok(())
}

fn outcome_of(succeeded: bool) -> DeliveryStatus {
    if succeeded {
        DeliveryStatus::Succeeded
    } else {
        DeliveryStatus::Failed
    }
}

async fn note_last_delivery(
    tx: &mut WriteTx,
    webhook_id: i64,
    at: Timestamp,
    succeeded: bool,
) -> Result<(), StoreError> {
    let outcome = outcome_of(succeeded);
    on_tx!(tx, |e| {
        sqlx::query(
            "UPDATE webhooks SET last_delivery_at = $1, last_delivery_outcome = $2
             WHERE id = $3
               AND (last_delivery_at IS NULL
                    OR last_delivery_at <= $4
                    OR (last_delivery_at <= $1 AND last_delivery_outcome <> $2))",
        )
        .bind(at)
        .bind(outcome)
        .bind(webhook_id)
        .bind(at.minus(LAST_DELIVERY_GRANULARITY))
        .execute(&mut *e)
        .await?;
    });
    Ok(())
}

async fn note_receiver(
    tx: &mut WriteTx,
    webhook_id: i64,
    change: &ReceiverChange<'_>,
) -> Result<(), StoreError> {
    let failing = change.failing;
    on_tx!(tx, |e| {
        sqlx::query(
            "UPDATE webhooks SET
               consecutive_failures = CASE WHEN $2 THEN $3 ELSE consecutive_failures + $3 END,
               failing_since = CASE WHEN $4 IS NOT NULL
                                    THEN COALESCE(CASE WHEN $2 THEN NULL ELSE failing_since END, $4)
                                    WHEN $2 THEN NULL ELSE failing_since END,
               failing_reason = CASE WHEN $4 IS NOT NULL THEN $5
                                     WHEN $2 THEN NULL ELSE failing_reason END,
               failing_code = CASE WHEN $4 IS NOT NULL THEN $8
                                   WHEN $2 THEN NULL ELSE failing_code END,
               next_probe_at = CASE WHEN $4 IS NOT NULL THEN $6
                                    WHEN $2 THEN NULL ELSE next_probe_at END,
               paused_until = CASE WHEN $7 IS NOT NULL
                                    AND (paused_until IS NULL OR paused_until < $7)
                                   THEN $7 ELSE paused_until END
             WHERE id = $1",
        )
        .bind(webhook_id)
        .bind(change.reset)
        .bind(change.failures)
        .bind(failing.map(|f| f.since))
        .bind(failing.map(|f| f.reason.as_str()))
        .bind(failing.map(|f| f.next_probe_at))
        .bind(change.paused_until)
        .bind(failing.map(|f| f.code))
        .execute(&mut *e)
        .await?;
    });
    Ok(())
}
