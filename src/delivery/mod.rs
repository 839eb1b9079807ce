//! The delivery engine: claims due deliveries, sends them signed to vetted addresses,
//! retries on a schedule, and records every attempt.
//!
//! A try takes these shapes on its way, each for a reader of its own:
//! - [`sender::Tried`]: what the HTTP request came to (status, error, answer excerpt), all
//!   the sender knows;
//! - [`Signal`](crate::domain::receiver_health::Signal): what it says of the receiver,
//!   the only input of the one health state machine
//!   ([`crate::domain::receiver_health`]);
//! - [`ReceiverVerdict`](crate::domain::receiver_health::ReceiverVerdict): what it changed
//!   of the webhook's health, which storage persists (folded per batch into a
//!   `ReceiverChange`, so a batch writes each webhook's row once);
//! - [`AttemptRecord`](crate::db::delivery_queue::AttemptRecord): the attempt row with
//!   the delivery's next state and the lease it was made under, what storage writes;
//! - the outcome writer's `Record`: a try or deliveries given back, in one queue so both
//!   are written in the same batch;
//! - [`OperationalEvent`](crate::domain::OperationalEvent): the turns a batch made
//!   (Failing, recovered, given up), for the people watching.
//!
//! The worker reaches its queue only through [`queue::Queue`]: the store in production,
//! a queue in memory in its unit tests.

mod answer;
pub mod body;
pub mod housekeeping;
mod nodes;
mod outcomes;
mod queue;
pub mod retry;
mod scheduler;
pub mod sender;
pub mod signature;
mod special_purpose;
pub mod target_guard;
mod worker;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::actions::Inbox;
use crate::db::Db;
use crate::metrics::Metrics;
use crate::secrets::secret_box::SecretBox;
use answer::SecretsCache;
use housekeeping::Upkeep;
use nodes::Membership;
use queue::StoreQueue;
use retry::RetrySchedule;
use scheduler::Limits;
use sender::Sender;
use target_guard::TargetGuard;

/// Time to write an outcome after its send, beyond the sends themselves.
const LEASE_MARGIN: Duration = Duration::from_secs(5);
/// Outcomes waiting for the writer beyond this make senders wait: back-pressure.
const OUTCOME_QUEUE: usize = 4096;
/// Deliveries of one webhook held (fresh, or loaded and waiting for a slot) beyond this go
/// back to the store, due, for a claim to take later: a burst is kept, a flood is not.
const HOLD_PER_WEBHOOK: usize = 1024;
/// Deliveries of one webhook one claim takes at most: a backlog leaves in steps of this.
const CLAIM_PER_WEBHOOK: usize = 64;

#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Sends in flight at once, over all webhooks.
    pub concurrency: usize,
    /// Sends in flight at once to one webhook, so a slow receiver cannot starve the others;
    /// nodes sharing a database share this out among themselves.
    pub per_webhook: usize,
    /// Sends in flight at once to one destination (scheme, host and port), however many
    /// webhooks share it.
    pub per_destination: usize,
    /// A try without an answer after this long has failed.
    pub timeout: Duration,
    pub retry_schedule: RetrySchedule,
    pub guard: TargetGuard,
    pub upkeep: Upkeep,
}

impl EngineSettings {
    /// How long a claim holds a delivery: a send may wait for its webhook's turn (one
    /// timeout) and then take one more, with room to record the outcome. A process that dies
    /// holding a claim lets it go after this.
    pub fn lease(&self) -> Duration {
        self.timeout * 2 + LEASE_MARGIN
    }

    /// How long a claimed delivery may wait for its turn: one that starts sending by then
    /// finishes within its lease, with room to record the outcome.
    fn hold_at_most(&self) -> Duration {
        self.timeout + LEASE_MARGIN / 2
    }
}

/// What the worker and the outcome writer share: the queue, the sender, the settings.
struct Engine<Q> {
    queue: Q,
    sender: Sender,
    masks: SecretsCache,
    settings: EngineSettings,
    metrics: Metrics,
    membership: Membership,
}

impl<Q> Engine<Q> {
    fn limits(&self) -> Limits {
        Limits {
            concurrency: self.settings.concurrency,
            per_webhook: self.membership.per_webhook(),
            per_destination: self.settings.per_destination,
            nodes: self.membership.nodes(),
            hold_at_most: self.settings.hold_at_most(),
            lease: self.settings.lease(),
            hold_per_webhook: HOLD_PER_WEBHOOK,
            claim_per_webhook: self.claim_per_webhook(),
        }
    }

    /// A claim takes this many of one webhook: enough for its share of slots for a while.
    fn claim_per_webhook(&self) -> usize {
        CLAIM_PER_WEBHOOK.max(self.membership.per_webhook() * 4)
    }
}

/// The running engine: hand it fresh work through `inbox`; it stops when the token is
/// cancelled, after its sends finish and their outcomes are written.
pub struct Running {
    pub inbox: Inbox,
    pub health: Health,
    pub stopped: JoinHandle<()>,
}

/// Whether the worker is running, for `/readyz`.
#[derive(Debug, Clone, Default)]
pub struct Health(Arc<AtomicBool>);

impl Health {
    pub fn is_running(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

pub fn start(
    db: Db,
    secrets: SecretBox,
    settings: EngineSettings,
    metrics: Metrics,
    shutdown: CancellationToken,
) -> Running {
    let membership = Membership::new(settings.per_webhook);
    let (inbox, fresh, due) = Inbox::new(settings.lease());
    let engine = Arc::new(Engine {
        queue: StoreQueue {
            db: db.clone(),
            secrets,
            inbox: inbox.clone(),
        },
        sender: Sender::new(settings.timeout, settings.guard.clone()),
        masks: SecretsCache::default(),
        settings,
        metrics,
        membership: membership.clone(),
    });
    let (outcomes, queue) = mpsc::channel(OUTCOME_QUEUE);
    let writer = tokio::spawn(outcomes::write_batches(
        engine.clone(),
        queue,
        inbox.clone(),
    ));
    let upkeep = tokio::spawn(housekeeping::run(
        db.clone(),
        inbox.clone(),
        engine.settings.upkeep,
        shutdown.clone(),
    ));
    let indexer = tokio::spawn(housekeeping::index_quotes(db.clone(), shutdown.clone()));
    // Alone on its database, a node needs no heartbeat: it keeps the whole limit.
    let heartbeat = db
        .is_shared()
        .then(|| tokio::spawn(nodes::run(db.clone(), membership, shutdown.clone())));
    let health = Health(Arc::new(AtomicBool::new(true)));
    let worker = tokio::spawn(worker::run(engine, fresh, due, outcomes, shutdown));
    let stopped = tokio::spawn(stop_in_order(
        health.clone(),
        worker,
        [(upkeep, "upkeep"), (indexer, "the search indexer")],
        heartbeat,
        writer,
    ));
    Running {
        inbox,
        health,
        stopped,
    }
}

/// Waits for the engine's tasks as they stop: the worker first (the engine is then no
/// longer running), the background tasks, and last the outcome writer, which ends once the
/// worker's outcomes are written.
async fn stop_in_order(
    running: Health,
    worker: JoinHandle<()>,
    background: [(JoinHandle<()>, &str); 2],
    heartbeat: Option<JoinHandle<()>>,
    writer: JoinHandle<()>,
) {
    if worker.await.is_err() {
        tracing::error!("the delivery worker stopped abnormally");
    }
    running.0.store(false, Ordering::Relaxed);
    for (task, name) in background {
        if task.await.is_err() {
            tracing::error!("{name} stopped abnormally");
        }
    }
    if let Some(heartbeat) = heartbeat
        && heartbeat.await.is_err()
    {
        tracing::error!("the heartbeat stopped abnormally");
    }
    // The worker held the last outcome sender: the writer drains and ends.
    if writer.await.is_err() {
        tracing::error!("the outcome writer stopped abnormally");
    }
}
