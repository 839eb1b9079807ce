//! The send loop: fresh deliveries come straight from ingest (claimed at birth); due ones
//! (retries, and work a dead process left behind) are claimed in batches. Each is sent on
//! its own task within the concurrency limits, and every outcome goes to the outcome
//! writer. It wakes on fresh work, when a delivery falls due, when a send finishes, or on a
//! slow poll.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;
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
/// Fresh deliveries held beyond the slots: a few seconds' worth at full speed, well within
/// their lease.
const MAX_FRESH_BACKLOG: usize = 20_000;
/// Fresh deliveries read at once: one query for many sends, whatever the free slots (a
/// round trip per freed slot is what a database server would otherwise see).
const LOAD_BATCH: usize = 256;
/// The shortest time between two looks for due work.
const CLAIM_INTERVAL: Duration = Duration::from_millis(100);
/// A claim waits until at least this share (1/n) of the slots is free.
const CLAIM_BATCH_DIVISOR: usize = 8;
/// After a storage error, a pause before trying again, so a broken disk is not hammered.
const ERROR_PAUSE: Duration = Duration::from_secs(1);

/// A send task ends with its webhook, and whether it was sent or released unsent.
struct Finished {
    webhook_id: i64,
    released: Option<i64>,
    /// When the delivery is due again, if it failed with retries left.
    retry_at: Option<Timestamp>,
}

pub(super) async fn run(
    engine: Arc<Engine>,
    mut inbox: mpsc::UnboundedReceiver<Vec<i64>>,
    due: Arc<Notify>,
    outcomes: mpsc::Sender<Outcome>,
    shutdown: CancellationToken,
) {
    let mut senders = Senders {
        engine: engine.clone(),
        in_flight: JoinSet::new(),
        per_webhook: HashMap::new(),
        released: Vec::new(),
        outcomes,
        shutdown: shutdown.clone(),
        earliest_retry: None,
    };
    let mut fresh: VecDeque<i64> = VecDeque::new();
    let mut loaded: VecDeque<Claimed> = VecDeque::new();
    let mut next_claim = Instant::now();
    while !shutdown.is_cancelled() {
        let capacity = senders.capacity();
        if capacity > 0 && !loaded.is_empty() {
            let ready = loaded.drain(..capacity.min(loaded.len()));
            ready.for_each(|d| senders.spawn(d));
            continue;
        }
        if capacity > 0 && !fresh.is_empty() {
            let ids: Vec<i64> = fresh.drain(..LOAD_BATCH.min(fresh.len())).collect();
            match delivery_queue::load(engine.db.reader(), &engine.secrets, &ids, Timestamp::now())
                .await
            {
                Ok(found) => loaded.extend(found),
                Err(error) => {
                    tracing::error!("loading fresh deliveries failed: {}", error_chain(&error));
                    // Their leases lapse and the poll takes them up.
                    tokio::time::sleep(ERROR_PAUSE).await;
                }
            }
            continue;
        }
        // Due work (retries, a dead process's leases) is looked for at most every
        // CLAIM_INTERVAL, in batches: fresh work never needs a claim, and one slot freed at
        // a time would be one transaction each.
        let worth_claiming = capacity >= (engine.settings.concurrency / CLAIM_BATCH_DIVISOR).max(1)
            || senders.in_flight.is_empty();
        if worth_claiming && Instant::now() >= next_claim {
            match claim(&engine, &senders.per_webhook, capacity).await {
                Ok(claimed) => {
                    let claimed_all = claimed.len() == capacity;
                    claimed.into_iter().for_each(|d| senders.spawn(d));
                    if claimed_all {
                        continue;
                    }
                    let due_in = until_next_due(&engine.db).await;
                    next_claim = Instant::now() + due_in.max(CLAIM_INTERVAL);
                }
                Err(error) => {
                    tracing::error!("claiming deliveries failed: {}", error_chain(&error));
                    tokio::time::sleep(ERROR_PAUSE).await;
                    continue;
                }
            }
        }
        tokio::select! {
            Some(ids) = inbox.recv() => take_in(&mut fresh, ids),
            () = due.notified() => next_claim = Instant::now(),
            // With too few free slots, only a finished send (below) is worth waking for.
            () = tokio::time::sleep_until(next_claim), if worth_claiming => {}
            Some(finished) = senders.in_flight.join_next(), if !senders.in_flight.is_empty() => {
                senders.note(finished);
            }
            () = shutdown.cancelled() => {}
        }
        while let Ok(ids) = inbox.try_recv() {
            take_in(&mut fresh, ids);
        }
        while let Some(finished) = senders.in_flight.try_join_next() {
            senders.note(finished);
        }
        // A retry scheduled just now is looked for when it falls due, not at the next poll.
        if let Some(at) = senders.earliest_retry.take() {
            next_claim = next_claim.min(Instant::now() + Timestamp::now().until(at));
        }
    }
    // Stop taking work; sends under way finish (each is bounded by the delivery timeout) and
    // deliveries held but not yet sent are released for the next process.
    while let Some(finished) = senders.in_flight.join_next().await {
        senders.note(finished);
    }
    inbox.close();
    while let Some(ids) = inbox.recv().await {
        take_in(&mut fresh, ids);
    }
    senders.released.extend(fresh);
    senders
        .released
        .extend(loaded.iter().map(|delivery| delivery.id));
    if let Err(error) = release(&engine.db, &senders.released).await {
        tracing::error!(
            "releasing unsent deliveries failed: {}",
            error_chain(&error)
        );
    }
}

/// Keeps at most [`MAX_FRESH_BACKLOG`] fresh deliveries; beyond that the oldest are left to
/// the poll, which takes them up once their lease lapses.
fn take_in(fresh: &mut VecDeque<i64>, ids: Vec<i64>) {
    fresh.extend(ids);
    let excess = fresh.len().saturating_sub(MAX_FRESH_BACKLOG);
    fresh.drain(..excess);
}

/// The sends under way and what each webhook has in flight.
struct Senders {
    engine: Arc<Engine>,
    in_flight: JoinSet<Finished>,
    per_webhook: HashMap<i64, Slots>,
    released: Vec<i64>,
    outcomes: mpsc::Sender<Outcome>,
    shutdown: CancellationToken,
    /// The earliest retry scheduled by sends finished since the last look for due work.
    earliest_retry: Option<Timestamp>,
}

impl Senders {
    fn capacity(&self) -> usize {
        self.engine
            .settings
            .concurrency
            .saturating_sub(self.in_flight.len())
    }

    fn spawn(&mut self, delivery: Claimed) {
        let share = self.engine.membership.per_webhook();
        let slots = self
            .per_webhook
            .entry(delivery.webhook_id)
            .or_insert_with(|| Slots::new(share));
        slots.resize(share);
        slots.held += 1;
        self.in_flight.spawn(send_one(
            self.engine.clone(),
            delivery,
            slots.semaphore.clone(),
            self.outcomes.clone(),
            self.shutdown.clone(),
        ));
    }

    /// Frees the send's slot, keeps what it released unsent, and remembers the earliest
    /// retry it scheduled.
    fn note(&mut self, finished: Result<Finished, tokio::task::JoinError>) {
        let Ok(finished) = finished else {
            tracing::error!("a delivery task stopped abnormally");
            return;
        };
        if let Some(slots) = self.per_webhook.get_mut(&finished.webhook_id) {
            slots.held -= 1;
            if slots.held == 0 {
                self.per_webhook.remove(&finished.webhook_id);
            }
        }
        self.released.extend(finished.released);
        self.earliest_retry = match (self.earliest_retry, finished.retry_at) {
            (Some(earlier), Some(this)) => Some(earlier.min(this)),
            (earlier, this) => earlier.or(this),
        };
    }
}

/// One webhook's sends on this node: those held (waiting or sending) and the permits to send.
struct Slots {
    held: usize,
    permits: usize,
    semaphore: Arc<Semaphore>,
}

impl Slots {
    fn new(permits: usize) -> Self {
        Self {
            held: 0,
            permits,
            semaphore: Arc::new(Semaphore::new(permits)),
        }
    }

    /// Follows this node's share as nodes come and go. Only free permits can be taken back;
    /// those in use are taken back by a later call, once returned.
    fn resize(&mut self, permits: usize) {
        if permits > self.permits {
            self.semaphore.add_permits(permits - self.permits);
            self.permits = permits;
        } else if permits < self.permits {
            self.permits -= self.semaphore.forget_permits(self.permits - permits);
        }
    }
}

async fn claim(
    engine: &Engine,
    per_webhook: &HashMap<i64, Slots>,
    capacity: usize,
) -> Result<Vec<Claimed>, StoreError> {
    let settings = &engine.settings;
    let share = engine.membership.per_webhook();
    let busy: Vec<i64> = per_webhook
        .iter()
        .filter(|(_, slots)| slots.held >= share)
        .map(|(id, _)| *id)
        .collect();
    let now = Timestamp::now();
    let mut tx = engine.db.begin_write_relaxed().await?;
    let claimed = delivery_queue::claim_due(
        &mut tx,
        &engine.secrets,
        ClaimLimits {
            limit: capacity as i64,
            per_webhook: share as i64,
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
            Err(_) => return Finished::released(webhook_id, delivery.id),
        },
        () = shutdown.cancelled() => return Finished::released(webhook_id, delivery.id),
    };
    let outgoing = match outgoing(&delivery) {
        Ok(outgoing) => outgoing,
        Err(error) => {
            tracing::error!("delivery {} cannot be built: {error}", delivery.id);
            return Finished::released(webhook_id, delivery.id);
        }
    };
    engine.metrics.in_flight.inc();
    let tried = engine.sender.send(&outgoing).await;
    engine.metrics.in_flight.dec();
    let outcome = Outcome::of(&engine.settings, &delivery, tried);
    outcome.count(&engine.metrics);
    let retry_at = outcome.retry_at();
    // The writer outlives every send task; if it is gone, the lease brings the delivery back.
    let _ = outcomes.send(outcome).await;
    Finished {
        webhook_id,
        released: None,
        retry_at,
    }
}

impl Finished {
    fn released(webhook_id: i64, delivery_id: i64) -> Self {
        Self {
            webhook_id,
            released: Some(delivery_id),
            retry_at: None,
        }
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
