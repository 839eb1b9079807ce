//! Outcomes of sends, written in batches through the one writer the way ingest commits
//! publishes: one transaction for every outcome waiting at that moment.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::Engine;
use super::EngineSettings;
use super::sender::Tried;
use crate::actions;
use crate::clock::Timestamp;
use crate::db::StoreError;
use crate::db::delivery_queue::{self, AttemptRecord, Claimed};
use crate::domain::{AttemptErrorCode, DeliveryStatus, WebhookStatus};
use crate::metrics::Metrics;
use crate::telemetry::error_chain;

/// Outcomes written in one transaction at most.
const MAX_BATCH: usize = 512;
/// A receiver that answers 410 Gone says the webhook is no more: it is disabled at once.
const GONE: u16 = 410;

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

    /// What a try means for its delivery: done, due again later, or failed for good.
    pub fn of(settings: &EngineSettings, delivery: &Claimed, tried: Tried) -> Self {
        let attempts = delivery.attempts_in_schedule + 1;
        let (status, next_attempt_at) = if tried.succeeded() {
            (DeliveryStatus::Succeeded, None)
        } else if tried.status_code == Some(GONE) {
            (DeliveryStatus::Failed, None)
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
            },
        }
    }
}

pub(super) async fn write_batches(engine: Arc<Engine>, mut queue: mpsc::Receiver<Outcome>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        if let Err(error) = store(&engine, &batch).await {
            // The leases bring these deliveries back: they are tried again, not lost.
            tracing::error!(
                "recording {} delivery outcomes failed: {}",
                batch.len(),
                error_chain(&error)
            );
        }
        batch.clear();
    }
}

async fn store(engine: &Engine, batch: &[Outcome]) -> Result<(), StoreError> {
    let now = Timestamp::now();
    let records: Vec<&AttemptRecord> = batch.iter().map(|outcome| &outcome.record).collect();
    let mut tx = engine.db.begin_write_relaxed().await?;
    delivery_queue::record_attempts(&mut tx, &records).await?;
    for outcome in batch {
        if outcome.record.status_code == Some(i64::from(GONE)) {
            actions::webhooks::switch_off_by_system(
                &mut tx,
                outcome.record.webhook_id,
                WebhookStatus::Disabled,
                "the receiver answered 410 Gone",
                now,
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}
