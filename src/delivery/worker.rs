//! The claim loop: takes due deliveries in batches, sends each on its own task within the
//! concurrency limits, and hands every outcome to the outcome writer. It wakes when ingest
//! commits fresh work, when a delivery falls due, when a send finishes, or on a slow poll
//! that takes up work a dead process left behind.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::outcomes::Outcome;
use super::sender::Outgoing;
use super::signature::SigningKey;
use super::{Engine, body};
use crate::clock::Timestamp;
use crate::db::delivery_queue::{self, ClaimLimits, Claimed};
use crate::db::{Db, StoreError};
use crate::telemetry::error_chain;

/// The backstop poll: how long an idle worker sleeps before looking for work it was not
/// told about (retries fall due on their own schedule; a dead process's leases run out).
const POLL_BACKSTOP: Duration = Duration::from_secs(5);
/// A claim waits until at least this share (1/n) of the slots is free.
const CLAIM_BATCH_DIVISOR: usize = 8;
/// After a storage error, a pause before trying again, so a broken disk is not hammered.
const ERROR_PAUSE: Duration = Duration::from_secs(1);

/// A send task ends with its webhook, and whether it was sent or released unsent.
struct Finished {
    webhook_id: i64,
    released: Option<i64>,
}

pub(super) async fn run(
    engine: Arc<Engine>,
    fresh_work: Arc<Notify>,
    outcomes: mpsc::Sender<Outcome>,
    shutdown: CancellationToken,
) {
    let mut in_flight: JoinSet<Finished> = JoinSet::new();
    let mut per_webhook: HashMap<i64, (usize, Arc<Semaphore>)> = HashMap::new();
    let mut released = Vec::new();
    while !shutdown.is_cancelled() {
        let capacity = engine.settings.concurrency.saturating_sub(in_flight.len());
        let mut claimed_all = false;
        // Claims come in batches: one slot freed at a time would be one transaction each.
        let worth_claiming = capacity >= (engine.settings.concurrency / CLAIM_BATCH_DIVISOR).max(1)
            || in_flight.is_empty();
        if worth_claiming && capacity > 0 {
            match claim(&engine, &per_webhook, capacity).await {
                Ok(claimed) => {
                    claimed_all = claimed.len() == capacity;
                    for delivery in claimed {
                        let slot = per_webhook.entry(delivery.webhook_id).or_insert_with(|| {
                            (0, Arc::new(Semaphore::new(engine.settings.per_webhook)))
                        });
                        slot.0 += 1;
                        let task = send_one(
                            engine.clone(),
                            delivery,
                            slot.1.clone(),
                            outcomes.clone(),
                            shutdown.clone(),
                        );
                        in_flight.spawn(task);
                    }
                }
                Err(error) => {
                    tracing::error!("claiming deliveries failed: {}", error_chain(&error));
                    tokio::time::sleep(ERROR_PAUSE).await;
                    continue;
                }
            }
        }
        if claimed_all {
            continue;
        }
        let wait = until_next_due(&engine.db).await;
        tokio::select! {
            () = fresh_work.notified() => {}
            () = tokio::time::sleep(wait) => {}
            Some(finished) = in_flight.join_next(), if !in_flight.is_empty() => {
                note_finished(finished, &mut per_webhook, &mut released);
            }
            () = shutdown.cancelled() => {}
        }
        while let Some(finished) = in_flight.try_join_next() {
            note_finished(finished, &mut per_webhook, &mut released);
        }
    }
    // Stop claiming; sends under way finish (each is bounded by the delivery timeout) and
    // deliveries claimed but not yet sent are released for the next process.
    while let Some(finished) = in_flight.join_next().await {
        note_finished(finished, &mut per_webhook, &mut released);
    }
    if let Err(error) = release(&engine.db, &released).await {
        tracing::error!(
            "releasing unsent deliveries failed: {}",
            error_chain(&error)
        );
    }
}

fn note_finished(
    finished: Result<Finished, tokio::task::JoinError>,
    per_webhook: &mut HashMap<i64, (usize, Arc<Semaphore>)>,
    released: &mut Vec<i64>,
) {
    let Ok(finished) = finished else {
        tracing::error!("a delivery task stopped abnormally");
        return;
    };
    if let Some(slot) = per_webhook.get_mut(&finished.webhook_id) {
        slot.0 -= 1;
        if slot.0 == 0 {
            per_webhook.remove(&finished.webhook_id);
        }
    }
    released.extend(finished.released);
}

async fn claim(
    engine: &Engine,
    per_webhook: &HashMap<i64, (usize, Arc<Semaphore>)>,
    capacity: usize,
) -> Result<Vec<Claimed>, StoreError> {
    let settings = &engine.settings;
    let busy: Vec<i64> = per_webhook
        .iter()
        .filter(|(_, (count, _))| *count >= settings.per_webhook)
        .map(|(id, _)| *id)
        .collect();
    let now = Timestamp::now();
    let mut tx = engine.db.begin_write_relaxed().await?;
    let claimed = delivery_queue::claim_due(
        &mut tx,
        &engine.secrets,
        ClaimLimits {
            limit: capacity as i64,
            per_webhook: settings.per_webhook as i64,
            busy: &busy,
        },
        now,
        now.plus(settings.lease()),
    )
    .await?;
    tx.commit().await?;
    Ok(claimed)
}

/// How long to sleep: until the next delivery falls due, at most the backstop poll.
async fn until_next_due(db: &Db) -> Duration {
    match delivery_queue::next_due(db.reader()).await {
        Ok(Some(due)) => Timestamp::now()
            .until(due)
            .clamp(Duration::from_millis(10), POLL_BACKSTOP),
        Ok(None) => POLL_BACKSTOP,
        Err(error) => {
            tracing::error!("reading the queue failed: {}", error_chain(&error));
            ERROR_PAUSE
        }
    }
}

async fn send_one(
    engine: Arc<Engine>,
    delivery: Claimed,
    webhook_slots: Arc<Semaphore>,
    outcomes: mpsc::Sender<Outcome>,
    shutdown: CancellationToken,
) -> Finished {
    let webhook_id = delivery.webhook_id;
    let _permit: OwnedSemaphorePermit = tokio::select! {
        permit = webhook_slots.acquire_owned() => match permit {
            Ok(permit) => permit,
            Err(_) => return Finished { webhook_id, released: Some(delivery.id) },
        },
        () = shutdown.cancelled() => return Finished { webhook_id, released: Some(delivery.id) },
    };
    let outgoing = match outgoing(&delivery) {
        Ok(outgoing) => outgoing,
        Err(error) => {
            tracing::error!("delivery {} cannot be built: {error}", delivery.id);
            return Finished {
                webhook_id,
                released: Some(delivery.id),
            };
        }
    };
    engine.metrics.in_flight.inc();
    let tried = engine.sender.send(&outgoing).await;
    engine.metrics.in_flight.dec();
    let outcome = Outcome::of(&engine.settings, &delivery, tried);
    outcome.count(&engine.metrics);
    // The writer outlives every send task; if it is gone, the lease brings the delivery back.
    let _ = outcomes.send(outcome).await;
    Finished {
        webhook_id,
        released: None,
    }
}

fn outgoing(delivery: &Claimed) -> Result<Outgoing, String> {
    let keys = std::iter::once(&delivery.signing_secret)
        .chain(&delivery.previous_signing_secret)
        .map(|secret| SigningKey::parse(secret).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Outgoing {
        url: delivery.url.clone(),
        id: delivery.id.to_string(),
        body: body::of(delivery).map_err(|e| e.to_string())?,
        api_key: delivery.api_key.as_ref().map(|key| key.expose().to_owned()),
        keys,
    })
}

async fn release(db: &Db, ids: &[i64]) -> Result<(), StoreError> {
    let mut tx = db.begin_write().await?;
    delivery_queue::release(&mut tx, ids, Timestamp::now()).await?;
    tx.commit().await?;
    Ok(())
}
