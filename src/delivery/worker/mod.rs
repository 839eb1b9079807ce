//! The send loop: fresh deliveries come straight from ingest (claimed at birth); due ones
//! (retries, probes, and work a dead process left behind) are claimed in batches. The
//! [`Scheduler`] decides which go out, within fair shares of the slots; each is sent on its
//! own task, and every outcome goes to the outcome writer. It wakes on fresh work, when a
//! send finishes, when something falls due, or on a slow poll.

mod send;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;

use send::{Sent, send_one};
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::Engine;
use super::outcomes::{Outcome, Record};
use super::queue::Queue;
use super::scheduler::{Scheduler, Signal, Slot};
use crate::clock::Timestamp;
use crate::db::StoreError;
use crate::db::delivery_queue::ClaimLimits;
use crate::domain::queue::{Claimed, Fresh, Held};
use crate::telemetry::error_chain;

/// The backstop poll: how long an idle worker sleeps before looking for work it was not
/// told about (retries fall due on their own schedule; a dead process's leases run out).
const POLL_BACKSTOP: Duration = Duration::from_secs(5);
/// Fresh deliveries read at once: one query for many sends, whatever the free slots (a
/// round trip per freed slot is what a database server would otherwise see).
const LOAD_BATCH: usize = 256;
/// The shortest time between two looks for due work when the last one found little.
const CLAIM_INTERVAL: Duration = Duration::from_millis(100);
/// ...and when it found all it asked for of some webhook: a backlog leaving at its pace.
const BACKLOG_CLAIM_INTERVAL: Duration = Duration::from_millis(10);
/// Webhooks served by one claim, those due longest first.
const CLAIM_WEBHOOKS: i64 = 256;
/// Deliveries held in all beyond which nothing more is claimed: memory stays bounded
/// whatever the backlog in the store.
const MAX_HELD: usize = 20_000;
/// After a storage error, a pause before trying again, so a broken disk is not hammered.
const ERROR_PAUSE: Duration = Duration::from_secs(1);
/// A delivery whose send broke (a panic) is tried again after this, not at once.
const BROKEN_SEND_PAUSE: Duration = Duration::from_secs(60);
/// While the database is down, how often to look whether claiming may resume.
const OUTAGE_PAUSE: Duration = Duration::from_millis(250);

pub(super) async fn run<Q: Queue>(
    engine: Arc<Engine<Q>>,
    inbox: mpsc::UnboundedReceiver<Vec<Fresh>>,
    due: Arc<Notify>,
    records: mpsc::Sender<Record>,
    shutdown: CancellationToken,
) {
    let mut worker = Worker {
        scheduler: Scheduler::new(engine.limits()),
        sending: JoinSet::new(),
        slots: HashMap::new(),
        next_claim: engine.queue.now(),
        engine,
        inbox,
        due,
        records,
    };
    while !shutdown.is_cancelled() {
        worker.step(&shutdown).await;
    }
    worker.stop().await;
}

/// The engine's state between steps: what the scheduler holds, the sends under way, and
/// when to look for due work next.
struct Worker<Q> {
    engine: Arc<Engine<Q>>,
    inbox: mpsc::UnboundedReceiver<Vec<Fresh>>,
    due: Arc<Notify>,
    records: mpsc::Sender<Record>,
    scheduler: Scheduler,
    sending: JoinSet<Sent>,
    /// Each send's slot and delivery, by its task: a send that panics still gives both back.
    slots: HashMap<tokio::task::Id, (Slot, Held)>,
    next_claim: Timestamp,
}

/// A send task's end: what it came to, or how it broke, with its task's id.
type Joined = Result<(tokio::task::Id, Sent), tokio::task::JoinError>;

impl<Q: Queue> Worker<Q> {
    /// One step, by the clock's time: gives back what waited too long, loads fresh
    /// deliveries, sends what the scheduler lets go, claims due work when it is time, or
    /// else waits for the next thing to happen (fresh work, a send ending, something due).
    async fn step(&mut self, shutdown: &CancellationToken) {
        let now = self.engine.queue.now();
        self.scheduler.set_limits(self.engine.limits());
        let releases = self.scheduler.take_releases(now);
        if !releases.is_empty() {
            let _ = self.records.send(Record::Release(releases)).await;
        }
        let ids = self.scheduler.take_loads(LOAD_BATCH, now);
        if !ids.is_empty() {
            return self.load(&ids, now).await;
        }
        for send in self.scheduler.dispatch(now) {
            let held = Held {
                id: send.delivery.id,
                lease: send.delivery.lease,
            };
            let taken = (send.slot.clone(), held);
            let task = self.sending.spawn(send_one(self.engine.clone(), send));
            self.slots.insert(task.id(), taken);
        }
        if now >= self.next_claim && self.scheduler.held() < MAX_HELD {
            return self.claim(now).await;
        }
        self.wait(now, shutdown).await;
    }

    async fn load(&mut self, ids: &[i64], now: Timestamp) {
        let queue = &self.engine.queue;
        match queue.load(ids, now).await {
            Ok(found) => self.scheduler.loaded(found, queue.now()),
            Err(error) => {
                tracing::error!("loading fresh deliveries failed: {}", error_chain(&error));
                // Their leases lapse and a claim takes them up.
                self.scheduler.loaded(Vec::new(), now);
                tokio::time::sleep(ERROR_PAUSE).await;
            }
        }
    }

    async fn claim(&mut self, now: Timestamp) {
        if self.engine.queue.is_down() {
            // Claims are writes: none while the database cannot take them.
            self.next_claim = now.plus(OUTAGE_PAUSE);
            return;
        }
        match claim(&self.engine, &self.scheduler, now).await {
            Ok((claimed, backlog)) => {
                self.scheduler.claimed(claimed, self.engine.queue.now());
                self.next_claim = if backlog {
                    now.plus(BACKLOG_CLAIM_INTERVAL)
                } else {
                    let due_in = until_next_due(&self.engine.queue, now).await;
                    now.plus(due_in.max(CLAIM_INTERVAL))
                };
            }
            Err(error) => {
                self.engine.queue.saw(&error);
                tracing::error!("claiming deliveries failed: {}", error_chain(&error));
                self.next_claim = now.plus(ERROR_PAUSE);
            }
        }
    }

    async fn wait(&mut self, now: Timestamp, shutdown: &CancellationToken) {
        let wake = self
            .scheduler
            .next_wake(now)
            .map_or(self.next_claim, |wake| wake.min(self.next_claim));
        tokio::select! {
            Some(fresh) = self.inbox.recv() => {
                self.scheduler.hand_over(fresh, self.engine.queue.now());
            }
            () = self.due.notified() => self.next_claim = self.engine.queue.now(),
            () = tokio::time::sleep_until(Instant::now() + now.until(wake)) => {}
            Some(sent) = self.sending.join_next_with_id(), if !self.sending.is_empty() => {
                self.finish(sent).await;
            }
            () = shutdown.cancelled() => {}
        }
        while let Ok(fresh) = self.inbox.try_recv() {
            self.scheduler.hand_over(fresh, self.engine.queue.now());
        }
        while let Some(sent) = self.sending.try_join_next_with_id() {
            self.finish(sent).await;
        }
    }

    /// Stops taking work: sends under way finish (each is bounded by the delivery timeout)
    /// and deliveries held but not yet sent are released for the next process.
    async fn stop(mut self) {
        while let Some(sent) = self.sending.join_next_with_id().await {
            self.finish(sent).await;
        }
        self.inbox.close();
        while let Some(fresh) = self.inbox.recv().await {
            self.scheduler.hand_over(fresh, self.engine.queue.now());
        }
        let releases = self.scheduler.release_all(self.engine.queue.now());
        let _ = self.records.send(Record::Release(releases)).await;
    }

    /// Frees the send's slot, lets the scheduler judge the receiver, and hands the outcome to
    /// the writer; a retry scheduled by it is looked for when it falls due.
    async fn finish(&mut self, joined: Joined) {
        let engine = &self.engine;
        let now = engine.queue.now();
        let task = match &joined {
            Ok((task, _)) => *task,
            Err(broken) => broken.id(),
        };
        let Some((slot, held)) = self.slots.remove(&task) else {
            tracing::error!("a send ended that was never started here");
            return;
        };
        let sent = match joined {
            Ok((_, sent)) => sent,
            Err(broken) => {
                // A bug, not the receiver's doing: the slot comes back, the receiver's health
                // is left as it was, and the delivery waits a while before it is tried again,
                // so one that always breaks the sender cannot spin.
                tracing::error!("the send of delivery {} broke: {broken}", held.id);
                self.scheduler.finished(&slot, Signal::NotSent, now);
                let again = now.plus(BROKEN_SEND_PAUSE);
                let _ = self
                    .records
                    .send(Record::Release(vec![(held, again)]))
                    .await;
                return;
            }
        };
        let delivery = &sent.delivery;
        let Some(tried) = sent.tried else {
            self.scheduler.finished(&slot, Signal::NotSent, now);
            let _ = self.records.send(Record::Release(vec![(held, now)])).await;
            return;
        };
        let signal = tried.signal();
        let verdict = self.scheduler.finished(&slot, signal.clone(), now);
        let outcome = Outcome::of(&engine.settings, delivery, tried, &signal, verdict);
        outcome.count(&engine.metrics);
        if let Some(at) = outcome.retry_at() {
            self.next_claim = self.next_claim.min(at);
        }
        // The writer outlives the worker; if it is gone, the lease brings the delivery back.
        let _ = self.records.send(Record::Attempt(Box::new(outcome))).await;
    }
}

/// Claims due work for the webhooks this process is not already busy with. Returns what
/// it claimed, and whether some webhook had more due than one claim takes.
async fn claim<Q: Queue>(
    engine: &Engine<Q>,
    scheduler: &Scheduler,
    now: Timestamp,
) -> Result<(Vec<Claimed>, bool), StoreError> {
    let per_webhook = engine.claim_per_webhook();
    let busy = scheduler.busy(now);
    let claimed = engine
        .queue
        .claim(
            ClaimLimits {
                webhooks: CLAIM_WEBHOOKS,
                per_webhook: per_webhook as i64,
                busy: &busy,
            },
            now,
            now.plus(engine.settings.lease()),
        )
        .await?;
    let mut per_lane = std::collections::HashMap::<i64, usize>::new();
    for delivery in &claimed {
        *per_lane.entry(delivery.webhook_id).or_default() += 1;
    }
    let backlog = per_lane.values().any(|count| *count >= per_webhook);
    Ok((claimed, backlog))
}

/// How long to sleep: until the next delivery falls due, at most the backstop poll.
async fn until_next_due(queue: &impl Queue, now: Timestamp) -> Duration {
    match queue.next_due().await {
        Ok(Some(due)) => now
            .until(due)
            .clamp(Duration::from_millis(10), POLL_BACKSTOP),
        Ok(None) => POLL_BACKSTOP,
        Err(error) => {
            tracing::error!("reading the queue failed: {}", error_chain(&error));
            ERROR_PAUSE
        }
    }
}
