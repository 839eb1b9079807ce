//! The durable path of `POST /api/v1/events`, with group commit: one writer task takes
//! every publish waiting at that moment and stores them in one `BEGIN IMMEDIATE`
//! transaction, so many concurrent publishers share each fsync instead of queueing for
//! one each. A publisher hears back only after its transaction committed.

use std::sync::Arc;

use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::clock::Timestamp;
use crate::db::events::{self, NewEvent, Published, Refused};
use crate::db::{Db, StoreError};
use crate::metrics::Metrics;
use crate::telemetry::error_chain;

/// Most publishes stored in one transaction: large enough to amortise the fsync, small
/// enough that the first in a batch is not kept waiting long.
const MAX_BATCH: usize = 512;
/// Publishes waiting beyond this make new ones wait for room: back-pressure, not memory growth.
const QUEUE_CAPACITY: usize = 8192;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("the event type is not in the catalog")]
    UnknownEventType,
    #[error("the idempotency key was used for a different request")]
    IdempotencyConflict,
    #[error("the event could not be stored")]
    Unavailable,
}

struct Job {
    event: NewEvent,
    reply: oneshot::Sender<Result<Published, IngestError>>,
}

#[derive(Clone)]
pub struct Ingestor {
    jobs: mpsc::Sender<Job>,
}

impl Ingestor {
    /// Starts the writer task; it ends when the last `Ingestor` is dropped. `fresh_work`
    /// is told after each commit that queued deliveries, so they are sent without a poll.
    pub fn start(db: Db, fresh_work: Arc<Notify>, metrics: Metrics) -> (Self, JoinHandle<()>) {
        let (jobs, queue) = mpsc::channel(QUEUE_CAPACITY);
        let writer = tokio::spawn(write_batches(db, queue, fresh_work, metrics));
        (Self { jobs }, writer)
    }

    /// Resolves once the event and its deliveries are committed to disk.
    pub async fn publish(&self, event: NewEvent) -> Result<Published, IngestError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { event, reply })
            .await
            .map_err(|_| IngestError::Unavailable)?;
        answer.await.map_err(|_| IngestError::Unavailable)?
    }
}

async fn write_batches(
    db: Db,
    mut queue: mpsc::Receiver<Job>,
    fresh_work: Arc<Notify>,
    metrics: Metrics,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let outcomes = store(&db, &batch).await;
        let fresh: Vec<&Published> = outcomes
            .iter()
            .filter_map(|outcome| outcome.as_ref().ok())
            .filter(|published| !published.repeated)
            .collect();
        metrics.events_accepted.inc_by(fresh.len() as u64);
        if fresh.iter().any(|published| published.deliveries > 0) {
            fresh_work.notify_one();
        }
        for (job, outcome) in batch.drain(..).zip(outcomes) {
            // A publisher that gave up waiting no longer listens; its event is stored anyway.
            let _ = job.reply.send(outcome);
        }
    }
}

/// One transaction for the whole batch; if it fails, every publish in it fails and none
/// is acknowledged.
async fn store(db: &Db, batch: &[Job]) -> Vec<Result<Published, IngestError>> {
    match try_store(db, batch).await {
        Ok(outcomes) => outcomes
            .into_iter()
            .map(|outcome| {
                outcome.map_err(|refused| match refused {
                    Refused::UnknownEventType => IngestError::UnknownEventType,
                    Refused::IdempotencyConflict => IngestError::IdempotencyConflict,
                })
            })
            .collect(),
        Err(error) => {
            tracing::error!(
                "storing {} events failed: {}",
                batch.len(),
                error_chain(&error)
            );
            batch
                .iter()
                .map(|_| Err(IngestError::Unavailable))
                .collect()
        }
    }
}

async fn try_store(db: &Db, batch: &[Job]) -> Result<Vec<Result<Published, Refused>>, StoreError> {
    let events: Vec<&NewEvent> = batch.iter().map(|job| &job.event).collect();
    let mut tx = db.begin_write().await?;
    let outcomes = events::publish_batch(&mut tx, &events, Timestamp::now()).await?;
    tx.commit().await?;
    Ok(outcomes)
}
