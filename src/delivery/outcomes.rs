//! Outcomes of sends, and deliveries given back unsent, written in batches through the one
//! writer the way ingest commits publishes: one transaction for every record waiting at
//! that moment.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::queue::{GONE, Queue};
use super::sender::Tried;
use super::{Engine, EngineSettings};
use crate::actions::Inbox;
use crate::clock::Timestamp;
use crate::db::StoreError;
use crate::db::delivery_queue::AttemptRecord;
use crate::domain::queue::Held;
use crate::domain::receiver_health::{ReceiverVerdict, Signal};
use crate::domain::{AttemptErrorCode, DeliveryStatus};
use crate::metrics::Metrics;
use crate::telemetry::error_chain;

/// Records written in one transaction at most.
const MAX_BATCH: usize = 512;

/// What the writer stores.
pub(super) enum Record {
    Attempt(Box<Outcome>),
    /// Deliveries given back unsent, each due again at its time.
    Release(Vec<(Held, Timestamp)>),
}

/// The delivery a try was of, as the sender held it.
pub(super) struct SentDelivery {
    pub id: i64,
    pub webhook_id: i64,
    /// Tries made before this one since the retry schedule (re)started.
    pub attempts_in_schedule: i64,
    /// Sent to test the receiver of a Failing webhook.
    pub probe: bool,
    /// The lease it was sent under: its outcome counts only while that still holds.
    pub lease: Timestamp,
}

pub(super) struct Outcome {
    record: AttemptRecord,
}

impl Outcome {
    /// When the delivery is due again, if it failed with retries left.
    pub fn retry_at(&self) -> Option<Timestamp> {
        self.record.next_attempt_at
    }

    pub fn count(&self, metrics: &Metrics) {
        let record = &self.record;
        let code = record.error_code.map_or("none", AttemptErrorCode::key);
        metrics.attempts.with_label_values(&[code]).inc();
        let outcome = match record.status {
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Pending => "retrying",
            DeliveryStatus::Failed => "failed",
        };
        metrics.deliveries.with_label_values(&[outcome]).inc();
        metrics
            .attempt_seconds
            .observe(record.duration_ms as f64 / 1000.0);
    }

    /// What a try means for its delivery: done, due again later, waiting for its Failing
    /// webhook to recover, or failed for good.
    pub fn of(
        settings: &EngineSettings,
        delivery: &SentDelivery,
        tried: Tried,
        signal: &Signal,
        verdict: ReceiverVerdict,
    ) -> Self {
        let attempts = delivery.attempts_in_schedule + 1;
        let mut keeps_schedule = false;
        let (status, next_attempt_at) = if tried.succeeded() {
            (DeliveryStatus::Succeeded, None)
        } else if tried.status_code.map(i64::from) == Some(GONE)
            || tried
                .error
                .as_ref()
                .is_some_and(|(code, _)| *code == AttemptErrorCode::BlockedTarget)
        {
            // Gone, or an address no retry can reach until the settings change.
            (DeliveryStatus::Failed, None)
        } else if delivery.probe && matches!(signal, Signal::Failed { .. }) {
            // It tested the receiver for the whole queue, and waits with it.
            keeps_schedule = true;
            (DeliveryStatus::Pending, Some(tried.at))
        } else {
            let jitter = rand::random::<f64>() * 2.0 - 1.0;
            match settings
                .retry_schedule
                .next_delay(attempts, tried.retry_after, jitter)
            {
                Some(delay) => (DeliveryStatus::Pending, Some(tried.at.plus(delay))),
                None => (DeliveryStatus::Failed, None),
            }
        };
        let (error_code, error_message) = tried
            .error
            .map_or((None, None), |(code, message)| (Some(code), Some(message)));
        Self {
            record: AttemptRecord {
                delivery_id: delivery.id,
                webhook_id: delivery.webhook_id,
                lease: delivery.lease,
                at: tried.at,
                duration_ms: i64::try_from(tried.duration.as_millis()).unwrap_or(i64::MAX),
                status_code: tried.status_code.map(i64::from),
                error_code,
                error_message,
                response_excerpt: tried.response_excerpt,
                response_headers: tried.response_headers,
                signature: tried.signature,
                status,
                next_attempt_at,
                keeps_schedule,
                verdict,
            },
        }
    }
}

/// Writes the outcomes in batches. Once a batch that recovers a webhook (its probe
/// succeeded) is written, the engine is woken: the queue that waited for the probe is due,
/// and goes now rather than at the next poll.
pub(super) async fn write_batches<Q: Queue>(
    engine: Arc<Engine<Q>>,
    mut queue: mpsc::Receiver<Record>,
    engine_inbox: Inbox,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // Beside other nodes, a moment for more to arrive: each node has only its share of
        // the per-webhook slots, so outcomes trickle in, and a batch of many costs the
        // database (and the locks the nodes share) about what a batch of a few does.
        if engine.membership.nodes() > 1 && batch.len() < MAX_BATCH {
            tokio::time::sleep(LINGER_BESIDE_OTHERS).await;
            while batch.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(record) => batch.push(record),
                    Err(_) => break,
                }
            }
        }
        store_through_outages(&engine, &batch).await;
        if batch.iter().any(Record::recovers) {
            engine_inbox.due_now();
        }
        batch.clear();
    }
}

/// Stores a batch, waiting out a short outage.
async fn store_through_outages<Q: Queue>(engine: &Engine<Q>, batch: &[Record]) {
    let give_up_at = engine.queue.now().plus(engine.settings.timeout);
    loop {
        let Err(error) = store(engine, batch).await else {
            break;
        };
        engine.queue.saw(&error);
        // Through a short outage the outcomes are kept and written when it ends, so the
        // receivers are not sent these again. Past the delivery timeout, well before the
        // leases run out, the leases bring the deliveries back instead: tried again, not
        // lost.
        if error.outage().is_none() || engine.queue.now() >= give_up_at {
            tracing::error!(
                "recording {} delivery outcomes failed: {}",
                batch.len(),
                error_chain(&error)
            );
            break;
        }
        tokio::time::sleep(OUTAGE_RETRY).await;
    }
}

impl Record {
    fn recovers(&self) -> bool {
        matches!(self, Self::Attempt(outcome) if outcome.record.verdict == ReceiverVerdict::Healthy)
    }
}

/// How long a node with neighbours waits for more outcomes before writing a batch that is
/// not full: nothing waits on the record but the delivery log.
const LINGER_BESIDE_OTHERS: Duration = Duration::from_millis(10);

/// While the database is down, how often a batch of outcomes is offered again.
const OUTAGE_RETRY: Duration = Duration::from_millis(250);

/// Writes the batch through the queue, and counts the tries that came too late.
pub(super) async fn store<Q: Queue>(
    engine: &Engine<Q>,
    batch: &[Record],
) -> Result<(), StoreError> {
    let mut attempts: Vec<&AttemptRecord> = Vec::new();
    let mut releases: Vec<(Held, Timestamp)> = Vec::new();
    for record in batch {
        match record {
            Record::Attempt(outcome) => attempts.push(&outcome.record),
            Record::Release(released) => releases.extend(released),
        }
    }
    let stale = engine.queue.record(&attempts, &releases).await?;
    if !stale.is_empty() {
        tracing::warn!(
            "dropped the outcome of {} deliveries sent under a lease another claim took since: {stale:?}",
            stale.len()
        );
        engine.metrics.stale_outcomes.inc_by(stale.len() as u64);
    }
    Ok(())
}
