//! The delivery engine's queue: due deliveries are claimed with a lease, and outcomes are
//! written back in batches. A claim pushes `next_attempt_at` past the lease, so a process
//! killed mid-send loses nothing (the delivery is due again when the lease runs out) and a
//! live one never claims the same delivery twice. On PostgreSQL, nodes claiming at the same
//! moment skip each other's locked rows instead of waiting or claiming them twice.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Duration;

use sqlx::{FromRow, QueryBuilder, Sqlite};

use super::webhooks::secrets::open_api_key;
use super::{Dialect, IdList, Source, StoreError, WriteTx};
use crate::clock::Timestamp;
use crate::domain::{ApiKey, AttemptErrorCode, DeliveryStatus};
use crate::secrets::secret_box::{Purpose, SecretBox};

/// A delivery created already claimed, handed to this process's sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fresh {
    pub id: i64,
    pub webhook_id: i64,
    /// A test event an admin sent: while the webhook is Failing it may serve as the probe.
    pub test: bool,
}

/// How a webhook's receiver stands, as the store has it when a delivery is claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverState {
    pub failing: bool,
    pub paused_until: Option<Timestamp>,
    pub max_per_second: Option<i64>,
    /// Receiver failures in a row so far.
    pub consecutive_failures: i64,
}

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
    pub receiver: ReceiverState,
    /// Claimed to test the receiver of a Failing webhook.
    pub probe: bool,
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
    failing: bool,
    paused_until: Option<Timestamp>,
    max_per_second: Option<i64>,
    consecutive_failures: i64,
    pending: bool,
}

/// How much to claim: the oldest due deliveries of at most `webhooks` webhooks, those due
/// longest first, and at most `per_webhook` of each; none of the webhooks in `busy` (this
/// process holds enough of theirs).
pub struct ClaimLimits<'a> {
    pub webhooks: i64,
    pub per_webhook: i64,
    pub busy: &'a [i64],
}

/// Which webhooks a claim looks at.
enum Among<'a> {
    /// Those taking deliveries: active, not Failing, not paused, not busy.
    Sendable { busy: &'a [i64] },
    /// These (Failing webhooks due a probe).
    Only(&'a [i64]),
}

/// Claims due deliveries until `lease_until`: first one probe for each Failing webhook whose
/// probe is due (its next probe waits until the lease ends, so nodes probe one at a time),
/// then the oldest due deliveries of the webhooks taking deliveries, webhook by webhook.
/// Each webhook's queue is read through its own index range, so one webhook's backlog of
/// millions costs another's retry nothing.
pub async fn claim_due(
    tx: &mut WriteTx,
    secrets: &SecretBox,
    limits: ClaimLimits<'_>,
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Vec<Claimed>, StoreError> {
    let due_a_probe: Vec<i64> = on_tx!(&mut *tx, |e, d, DB| {
        let mut query = QueryBuilder::<DB>::new(
            "SELECT w.id FROM webhooks w WHERE w.status = 'active'
               AND w.failing_since IS NOT NULL AND w.next_probe_at <= ",
        );
        query.push_bind(now);
        query
            .push(" AND (w.paused_until IS NULL OR w.paused_until <= ")
            .push_bind(now)
            .push(")");
        if !limits.busy.is_empty() {
            query.push(" AND w.id").push_not_in(limits.busy);
        }
        query.push(d.pick("", " FOR NO KEY UPDATE SKIP LOCKED"));
        query.build_query_scalar().fetch_all(e).await?
    });
    let mut probes = Vec::new();
    if !due_a_probe.is_empty() {
        probes = claim_heads(
            tx,
            Among::Only(&due_a_probe),
            1,
            limits.webhooks,
            now,
            lease_until,
        )
        .await?;
        let probed: Vec<i64> = probes.iter().map(|(_, webhook)| *webhook).collect();
        on_tx!(&mut *tx, |e, _, DB| {
            let mut query = QueryBuilder::<DB>::new("UPDATE webhooks SET next_probe_at = ");
            query
                .push_bind(lease_until)
                .push(" WHERE id")
                .push_in(&probed);
            query.build().execute(e).await?;
        });
    }
    let sendable = claim_heads(
        tx,
        Among::Sendable { busy: limits.busy },
        limits.per_webhook,
        limits.webhooks,
        now,
        lease_until,
    )
    .await?;
    let ids: Vec<i64> = probes.iter().chain(&sendable).map(|(id, _)| *id).collect();
    let mut claimed = load(tx, secrets, &ids, now).await?;
    let probe_ids: HashSet<i64> = probes.iter().map(|(id, _)| *id).collect();
    for delivery in &mut claimed {
        delivery.probe = probe_ids.contains(&delivery.id);
    }
    Ok(claimed)
}

/// The oldest due deliveries, at most `take` of each of the `webhooks` webhooks due longest,
/// leased until `lease_until`. Returns (delivery, webhook) pairs.
async fn claim_heads(
    tx: &mut WriteTx,
    among: Among<'_>,
    take: i64,
    webhooks: i64,
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Vec<(i64, i64)>, StoreError> {
    on_tx!(tx, |e, d, DB| {
        let mut query = QueryBuilder::<DB>::new(
            "WITH ready AS (
               SELECT w.id AS webhook_id,
                      (SELECT MIN(q.next_attempt_at) FROM deliveries q
                        WHERE q.webhook_id = w.id AND q.status = 'pending') AS due
               FROM webhooks w WHERE w.status = 'active'",
        );
        match among {
            Among::Sendable { busy } => {
                query.push(" AND w.failing_since IS NULL AND (w.paused_until IS NULL OR w.paused_until <= ");
                query.push_bind(now).push(")");
                if !busy.is_empty() {
                    query.push(" AND w.id").push_not_in(busy);
                }
            }
            Among::Only(ids) => {
                query.push(" AND w.id").push_in(ids);
            }
        }
        query.push("), chosen AS (SELECT webhook_id FROM ready WHERE due <= ");
        query
            .push_bind(now)
            .push(" ORDER BY due LIMIT ")
            .push_bind(webhooks);
        query.push(") UPDATE deliveries SET leased = true, next_attempt_at = ");
        query.push_bind(lease_until);
        query.push(d.pick(
            " WHERE id IN (SELECT x.id FROM chosen c JOIN deliveries x ON x.id IN (
                 SELECT y.id FROM deliveries y",
            " WHERE id IN (SELECT x.id FROM chosen c CROSS JOIN LATERAL (
                 SELECT y.id FROM deliveries y",
        ));
        query.push(
            " WHERE y.webhook_id = c.webhook_id AND y.status = 'pending' AND y.next_attempt_at <= ",
        );
        query
            .push_bind(now)
            .push(" ORDER BY y.next_attempt_at LIMIT ")
            .push_bind(take);
        query.push(d.pick("))", " FOR UPDATE SKIP LOCKED) x)"));
        query.push(" RETURNING id, webhook_id");
        Ok(query.build_query_as().fetch_all(e).await?)
    })
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
                w.url, w.api_key, w.signing_secret,
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
                receiver: ReceiverState {
                    failing: row.failing,
                    paused_until: row.paused_until,
                    max_per_second: row.max_per_second,
                    consecutive_failures: row.consecutive_failures,
                },
                probe: false,
            })
        })
        .collect()
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
/// with more than it can send in time): unclaimed, and due at `due`.
pub async fn release(tx: &mut WriteTx, ids: &[i64], due: Timestamp) -> Result<(), StoreError> {
    if ids.is_empty() {
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
    /// A probe of a Failing webhook that failed: the delivery waits with the rest of the
    /// queue without spending a try of its schedule.
    pub keeps_schedule: bool,
    pub verdict: ReceiverVerdict,
}

/// What one try says about the webhook's receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiverVerdict {
    /// Nothing: an answer that is not about the receiver's health (a 4xx, a refused address),
    /// or a success while nothing was counted against it.
    Neutral,
    /// It answered 2xx after failures: the count starts again and a Failing webhook recovers.
    Healthy,
    /// It failed (timeout, connection, 5xx): one more in a row. With `failing`, the webhook
    /// is Failing (from now, or still) until its next probe.
    Unhealthy { failing: Option<Failing> },
    /// It asked, with Retry-After on a 429 or 503, to be left alone until then.
    Paused { until: Timestamp },
}

/// A Failing webhook as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failing {
    pub since: Timestamp,
    /// The last failure, as a stable code and in words.
    pub code: AttemptErrorCode,
    pub reason: String,
    pub next_probe_at: Timestamp,
}

/// A batch's net effect on one webhook's receiver state, its verdicts taken in order.
#[derive(Default)]
struct ReceiverChange<'a> {
    /// The count started again (a success); later failures count from zero.
    reset: bool,
    failures: i64,
    failing: Option<&'a Failing>,
    paused_until: Option<Timestamp>,
}

impl<'a> ReceiverChange<'a> {
    fn apply(&mut self, verdict: &'a ReceiverVerdict) {
        match verdict {
            ReceiverVerdict::Neutral => {}
            ReceiverVerdict::Healthy => {
                *self = Self {
                    reset: true,
                    paused_until: self.paused_until,
                    ..Self::default()
                };
            }
            ReceiverVerdict::Unhealthy { failing } => {
                self.failures += 1;
                if failing.is_some() {
                    self.failing = failing.as_ref();
                }
            }
            ReceiverVerdict::Paused { until } => {
                self.paused_until = self.paused_until.max(Some(*until));
            }
        }
    }

    fn is_nothing(&self) -> bool {
        !self.reset && self.failures == 0 && self.paused_until.is_none()
    }
}

/// A webhook's tries of one batch, in time order, as its failure streak sees them: whether
/// one succeeded, and the failures after the last success, from when, with the last answer.
#[derive(Default)]
struct Streak {
    succeeded: bool,
    failed: i64,
    failed_since: Option<Timestamp>,
    last_answer: Option<String>,
}

impl Streak {
    fn add(&mut self, attempt: &AttemptRecord) {
        if attempt.error_code.is_none() {
            *self = Self {
                succeeded: true,
                ..Self::default()
            };
            return;
        }
        self.failed += 1;
        self.failed_since.get_or_insert(attempt.at);
        self.last_answer = Some(match (attempt.status_code, attempt.error_code) {
            (Some(code), _) => code.to_string(),
            (None, Some(error)) => error.key().to_owned(),
            (None, None) => String::new(),
        });
    }
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
    let mut receivers: BTreeMap<i64, ReceiverChange> = BTreeMap::new();
    let mut streaks: BTreeMap<i64, Streak> = BTreeMap::new();
    let mut in_time_order = attempts.clone();
    in_time_order.sort_by_key(|attempt| attempt.at);
    for attempt in &in_time_order {
        streaks.entry(attempt.webhook_id).or_default().add(attempt);
    }
    for attempt in &attempts {
        receivers
            .entry(attempt.webhook_id)
            .or_default()
            .apply(&attempt.verdict);
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
    let webhooks: BTreeSet<i64> = last.keys().copied().collect();
    // Webhook by webhook in id order, each row changed by consecutive statements and only
    // where something changes: two nodes' batches lock the rows they share in the same
    // order (no deadlock), and a batch with nothing new for a row does not lock it at all.
    for webhook_id in webhooks {
        if let Some((at, succeeded)) = last.get(&webhook_id) {
            note_last_delivery(tx, webhook_id, *at, *succeeded).await?;
        }
        if let Some(streak) = streaks.get(&webhook_id) {
            note_streak(tx, webhook_id, streak).await?;
        }
        if let Some(change) = receivers
            .get(&webhook_id)
            .filter(|change| !change.is_nothing())
        {
            note_receiver(tx, webhook_id, change).await?;
        }
    }
    on_tx!(tx, |e| {
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

/// How stale "last delivery" may get while its outcome stays the same: every node's every
/// batch rewriting the same webhook row would queue the nodes behind each other.
const LAST_DELIVERY_GRANULARITY: Duration = Duration::from_secs(1);

async fn note_last_delivery(
    tx: &mut WriteTx,
    webhook_id: i64,
    at: Timestamp,
    succeeded: bool,
) -> Result<(), StoreError> {
    let outcome = if succeeded {
        DeliveryStatus::Succeeded
    } else {
        DeliveryStatus::Failed
    };
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

/// The failure streak; a success on a webhook with no streak changes (and locks) nothing.
async fn note_streak(tx: &mut WriteTx, webhook_id: i64, streak: &Streak) -> Result<(), StoreError> {
    on_tx!(tx, |e| {
        sqlx::query(
            "UPDATE webhooks SET
               failed_in_a_row = CASE WHEN $2 THEN $3 ELSE failed_in_a_row + $3 END,
               failed_in_a_row_since = CASE WHEN $3 = 0 THEN NULL
                                            WHEN $2 OR failed_in_a_row_since IS NULL THEN $4
                                            ELSE failed_in_a_row_since END,
               last_failure = CASE WHEN $3 = 0 THEN NULL ELSE $5 END
             WHERE id = $1
               AND (NOT $2 OR $3 <> 0 OR failed_in_a_row <> 0
                    OR failed_in_a_row_since IS NOT NULL OR last_failure IS NOT NULL)",
        )
        .bind(webhook_id)
        .bind(streak.succeeded)
        .bind(streak.failed)
        .bind(streak.failed_since)
        .bind(streak.last_answer.as_deref())
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
                let mut update = QueryBuilder::<Sqlite>::new(format!(
                    "UPDATE deliveries SET {SETTLE} FROM (SELECT column1 AS id, column2 AS status,
                            column3 AS next_attempt_at, column4 AS at, column5 AS status_code,
                            column6 AS keeps_schedule FROM ("
                ));
                update.push_values(chunk, |mut row, attempt| {
                    row.push_bind(attempt.delivery_id)
                        .push_bind(attempt.status)
                        .push_bind(attempt.next_attempt_at)
                        .push_bind(attempt.at)
                        .push_bind(attempt.status_code)
                        .push_bind(attempt.keeps_schedule);
                });
                update.push("))");
                update.push(" AS v WHERE deliveries.id = v.id");
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
            sqlx::query(&format!(
                "UPDATE deliveries SET {SETTLE}
                 FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[],
                             $6::boolean[])
                      AS v (id, status, next_attempt_at, at, status_code, keeps_schedule)
                 WHERE deliveries.id = v.id"
            ))
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
            .bind(
                attempts
                    .iter()
                    .map(|a| a.keeps_schedule)
                    .collect::<Vec<_>>(),
            )
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

/// A delivery's state after a try `v`, which ends its claim. A Redeliver pressed while the
/// try was under way queues the delivery again, due at once with a fresh schedule, rather
/// than sending it twice at the same time; a failed probe keeps the schedule where it was.
const SETTLE: &str = "
    status = CASE WHEN deliveries.redeliver_requested_at > v.at THEN 'pending' ELSE v.status END,
    next_attempt_at = CASE WHEN deliveries.redeliver_requested_at > v.at
                           THEN deliveries.redeliver_requested_at ELSE v.next_attempt_at END,
    schedule_start = CASE WHEN deliveries.redeliver_requested_at > v.at
                          THEN deliveries.attempt_count + 1
                          WHEN v.keeps_schedule THEN deliveries.schedule_start + 1
                          ELSE deliveries.schedule_start END,
    attempt_count = deliveries.attempt_count + 1,
    last_attempt_at = v.at, last_status_code = v.status_code,
    leased = false, redeliver_requested_at = NULL";

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
    on_tx!(tx, |e, d, DB| {
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
