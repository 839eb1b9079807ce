//! The delivery engine's queue: due deliveries are claimed with a lease, and outcomes are
//! written back in batches. A claim pushes `next_attempt_at` past the lease, so a process
//! killed mid-send loses nothing (the delivery is due again when the lease runs out) and a
//! live one never claims the same delivery twice. On PostgreSQL, nodes claiming at the same
//! moment skip each other's locked rows instead of waiting or claiming them twice.

mod claims;
mod outcomes;

use crate::domain::queue::{Claimed, Held};
use crate::domain::receiver_health::ReceiverState;
pub use claims::{ClaimLimits, claim_due};
pub use outcomes::{AttemptRecord, Recorded, record_attempts};

use sqlx::{FromRow, QueryBuilder};

use super::webhooks::headers;
use super::webhooks::secrets::open_api_key;
use super::{IdList, Source, StoreError, WriteTx};
use crate::clock::Timestamp;
use crate::secrets::secret_box::{Purpose, SecretBox};

#[derive(FromRow)]
struct ClaimedRow {
    id: i64,
    next_attempt_at: Option<Timestamp>,
    webhook_id: i64,
    attempts_in_schedule: i64,
    url: String,
    api_key: Option<String>,
    custom_headers: String,
    signing_secret: Option<String>,
    previous_signing_secret: Option<String>,
    event_type: String,
    event_time: Timestamp,
    current_context: String,
    data: String,
    failing: bool,
    paused_until: Option<Timestamp>,
    max_per_second: Option<i64>,
    consecutive_failures: i64,
    pending: bool,
}

impl ClaimedRow {
    /// What sending it needs, its secrets opened.
    fn open(self, secrets: &SecretBox) -> Result<Claimed, StoreError> {
        let sealed = self.signing_secret.ok_or(StoreError::NotFound)?;
        Ok(Claimed {
            id: self.id,
            webhook_id: self.webhook_id,
            attempts_in_schedule: self.attempts_in_schedule,
            url: self.url,
            api_key: match self.api_key {
                Some(sealed) => open_api_key(secrets, &sealed)?,
                None => None,
            },
            custom_headers: headers::open(secrets, &self.custom_headers)?,
            signing_secret: secrets.open(Purpose::SigningSecret, &sealed)?,
            previous_signing_secret: self
                .previous_signing_secret
                .map(|sealed| secrets.open(Purpose::SigningSecret, &sealed))
                .transpose()?,
            event_type: self.event_type,
            event_time: self.event_time,
            current_context: self.current_context,
            data: self.data,
            receiver: ReceiverState {
                failing: self.failing,
                paused_until: self.paused_until,
                max_per_second: self.max_per_second,
                consecutive_failures: self.consecutive_failures,
            },
            probe: false,
            // Loaded deliveries are leased: a missing time is no token, and fences all out.
            lease: self.next_attempt_at.unwrap_or(Timestamp::from_unix_ms(0)),
        })
    }
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
    let rows: Vec<ClaimedRow> = on_read!(db, |e, _, DB| {
        // The deliveries first, by their ids, and only then their webhooks and events: joined
        // the other way round, PostgreSQL's cached plan walks each webhook's every delivery
        // looking for these few, a cost that grows with the table.
        let mut details = QueryBuilder::<DB>::new(
            "WITH wanted AS MATERIALIZED (
           SELECT id, next_attempt_at, webhook_id, event_id, attempt_count, schedule_start, status
             FROM deliveries WHERE id",
        );
        details.push_in(ids).push(
            ")
         SELECT d.id, d.next_attempt_at, d.webhook_id,
                d.attempt_count - d.schedule_start AS attempts_in_schedule,
                w.url, w.api_key, w.custom_headers, w.signing_secret,
                CASE WHEN w.previous_secret_expires_at > ",
        );
        details.push_bind(now).push(
            " THEN w.previous_signing_secret END AS previous_signing_secret,
                e.event_type, e.event_time, e.current_context, e.data,
                w.failing_since IS NOT NULL AS failing, w.paused_until, w.max_per_second,
                w.consecutive_failures, d.status = 'pending' AS pending
         FROM wanted d JOIN webhooks w ON w.id = d.webhook_id
                       JOIN events e ON e.id = d.event_id
         WHERE w.status = 'active'",
        );
        details.build_query_as().fetch_all(e).await?
    });
    // Sorted and sifted here: asked to sort, or told the status, PostgreSQL may walk every
    // pending delivery through an index of pending ones looking for these few, instead of
    // finding each by its id.
    let mut rows = rows;
    rows.retain(|row| row.pending);
    rows.sort_by_key(|row| (row.next_attempt_at, row.id));
    rows.into_iter().map(|row| row.open(secrets)).collect()
}

/// Each active webhook's earliest pending delivery (`due`), with what holds it back.
const HEADS: &str = "SELECT w.failing_since, w.next_probe_at, w.paused_until,
        (SELECT MIN(q.next_attempt_at) FROM deliveries q
          WHERE q.webhook_id = w.id AND q.status = 'pending') AS due
 FROM webhooks w WHERE w.status = 'active'";

/// When a claim next finds something: the earliest due delivery of a webhook taking
/// deliveries, or the end of a pause, or a Failing webhook's next probe.
pub async fn next_due<'a>(db: impl Into<Source<'a>>) -> Result<Option<Timestamp>, StoreError> {
    on_read!(db, |e, d| Ok(sqlx::query_scalar(&format!(
        "SELECT MIN({greatest}(h.due, COALESCE(h.paused_until, h.due),
                               CASE WHEN h.failing_since IS NULL THEN h.due
                                    ELSE COALESCE(h.next_probe_at, h.due) END))
         FROM ({HEADS}) h",
        greatest = d.pick("MAX", "GREATEST"),
    ))
    .fetch_one(e)
    .await?))
}

/// Claimed deliveries given back unsent (shutdown, a paused or Failing webhook, a sender
/// with more than it can send in time): unclaimed, and due at `due`. Only those still held
/// under the lease given: one another process claimed since is left to it.
pub async fn release(tx: &mut WriteTx, held: &[Held], due: Timestamp) -> Result<(), StoreError> {
    if held.is_empty() {
        return Ok(());
    }
    on_tx!(tx, |e, _, DB| {
        // The status is checked in SET, not WHERE: told it, PostgreSQL may walk the index of
        // pending deliveries instead of finding each by its id.
        let mut query = QueryBuilder::<DB>::new(
            "UPDATE deliveries SET leased = false,
                    next_attempt_at = CASE WHEN status = 'pending' THEN ",
        );
        query
            .push_bind(due)
            .push(" ELSE next_attempt_at END WHERE id")
            .push_in(&held.iter().map(|h| h.id).collect::<Vec<_>>())
            .push(" AND leased AND (id, next_attempt_at) IN (");
        let mut pairs = query.separated(", ");
        for held in held {
            pairs
                .push("(")
                .push_bind_unseparated(held.id)
                .push_unseparated(", ")
                .push_bind_unseparated(held.lease)
                .push_unseparated(")");
        }
        query.push(")");
        query.build().execute(e).await?;
    });
    Ok(())
}

/// How the queue stands: deliveries pending for active webhooks, and since when the
/// longest-waiting of those that could be sent now (their webhook neither Failing nor
/// paused) has been due: the engine's lag.
pub struct Depth {
    pub pending: i64,
    pub oldest_due: Option<Timestamp>,
}

pub async fn depth<'a>(db: impl Into<Source<'a>>, now: Timestamp) -> Result<Depth, StoreError> {
    let (pending, oldest_due): (i64, Option<Timestamp>) =
        on_read!(db, |e| sqlx::query_as(&format!(
            "SELECT (SELECT COUNT(*) FROM deliveries d
                      JOIN webhooks w ON w.id = d.webhook_id AND w.status = 'active'
                     WHERE d.status = 'pending'),
                    (SELECT MIN(h.due) FROM ({HEADS}) h
                      WHERE h.due <= $1 AND h.failing_since IS NULL
                        AND (h.paused_until IS NULL OR h.paused_until <= $1))"
        ),)
        .bind(now)
        .fetch_one(e)
        .await?);
    Ok(Depth {
        pending,
        oldest_due,
    })
}
