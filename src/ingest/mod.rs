//! The durable path of `POST /api/v1/events`, with group commit: one writer task takes
//! every publish waiting at that moment and stores them in one `BEGIN IMMEDIATE`
//! transaction, so many concurrent publishers share each fsync instead of queueing for
//! one each. A publisher hears back only after its transaction committed. Data its type's
//! schema refuses never reaches the writer.

mod checks;
mod schemas;

pub use checks::{check_bounded, compile_off_thread};

use std::sync::Arc;
use std::time::Duration;

use schemas::Schemas;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::actions::Inbox;
use crate::db::events::{self, Batch, NewEvent, Published, Refused};
use crate::db::{Db, Outage, StoreError};
use crate::domain::CheckRefusal;
use crate::domain::queue::Fresh;
use crate::metrics::Metrics;
use crate::telemetry::error_chain;

/// Most publishes stored in one transaction: large enough to amortise the fsync, small
/// enough that the first in a batch is not kept waiting long.
const MAX_BATCH: usize = 512;
/// Publishes waiting beyond this make new ones wait for room: back-pressure, not memory growth.
const QUEUE_CAPACITY: usize = 8192;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Refused(#[from] Refused),
    /// The data does not match its type's schema, or cannot be checked against it.
    #[error("the data does not pass the event type's schema")]
    DataRefused(CheckRefusal),
    /// Nothing was stored: the database is down or full (named), or failed otherwise.
    #[error("the event could not be stored")]
    NotStored(Option<Outage>),
    /// The database did not answer within the wait; the event may yet be stored.
    #[error("the database did not answer within {} s", .0.as_secs_f64())]
    NotStoredInTime(Duration),
}

struct Job {
    event: NewEvent,
    reply: oneshot::Sender<Result<Published, IngestError>>,
}

#[derive(Clone)]
pub struct Ingestor {
    jobs: mpsc::Sender<Job>,
    db: Db,
    schemas: Arc<Schemas>,
}

impl Ingestor {
    /// Starts the writer task; it ends when the last `Ingestor` is dropped. The deliveries
    /// each commit creates go to the engine's `inbox` at once, claimed for it.
    pub fn start(db: Db, inbox: Inbox, metrics: Metrics) -> (Self, JoinHandle<()>) {
        let (jobs, queue) = mpsc::channel(QUEUE_CAPACITY);
        let writer = tokio::spawn(write_batches(db.clone(), queue, inbox, metrics));
        let schemas = Arc::new(Schemas::new(db.clone()));
        (Self { jobs, db, schemas }, writer)
    }

    /// Resolves once the event and its deliveries are committed to disk; refused at once
    /// while the database is known to be down, and given up after the database wait.
    pub async fn publish(&self, event: NewEvent) -> Result<Published, IngestError> {
        if let Some(outage @ Outage::Unreachable(_)) = self.db.outage() {
            return Err(IngestError::NotStored(Some(outage)));
        }
        self.check_data(&event).await?;
        let wait = self.db.wait();
        let (reply, answer) = oneshot::channel();
        let stored = async {
            self.jobs
                .send(Job { event, reply })
                .await
                .map_err(|_| IngestError::NotStored(None))?;
            answer.await.map_err(|_| IngestError::NotStored(None))?
        };
        tokio::time::timeout(wait, stored)
            .await
            .map_err(|_| IngestError::NotStoredInTime(wait))?
    }
}

impl Ingestor {
    /// Refuses data its type's schema does not take: nothing of it is stored.
    async fn check_data(&self, event: &NewEvent) -> Result<(), IngestError> {
        let schema = self.schemas.of(&event.event_type).await.map_err(|error| {
            self.db.saw(&error);
            IngestError::NotStored(error.outage())
        })?;
        let Some(schema) = schema else {
            return Ok(());
        };
        // The request's body was parsed already: its data is JSON.
        let data: serde_json::Value = serde_json::from_str(&event.data).unwrap_or_default();
        check_bounded(schema, data)
            .await
            .map_err(IngestError::DataRefused)
    }

    /// The catalog changed on this node: the next publish reads its schemas again.
    pub fn catalog_changed(&self) {
        self.schemas.forget();
    }
}

async fn write_batches(db: Db, mut queue: mpsc::Receiver<Job>, inbox: Inbox, metrics: Metrics) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // A publisher that gave up waiting was told its event was not stored: keep it so.
        batch.retain(|job: &Job| !job.reply.is_closed());
        if batch.is_empty() {
            continue;
        }
        let (outcomes, deliveries) = store(&db, &batch, inbox.lease()).await;
        if !deliveries.is_empty() {
            inbox.hand_over(deliveries);
        }
        let accepted = outcomes
            .iter()
            .filter(|outcome| outcome.as_ref().is_ok_and(|published| !published.repeated))
            .count();
        metrics.events_accepted.inc_by(accepted as u64);
        for (job, outcome) in batch.drain(..).zip(outcomes) {
            // A publisher that gave up waiting no longer listens; its event is stored anyway.
            let _ = job.reply.send(outcome);
        }
    }
}

/// One transaction for the whole batch; if it fails, every publish in it fails and none
/// is acknowledged.
async fn store(
    db: &Db,
    batch: &[Job],
    lease: Duration,
) -> (Vec<Result<Published, IngestError>>, Vec<Fresh>) {
    match try_store(db, batch, lease).await {
        Ok(stored) => {
            let outcomes = stored
                .outcomes
                .into_iter()
                .map(|outcome| outcome.map_err(IngestError::Refused))
                .collect();
            (outcomes, stored.deliveries)
        }
        Err(error) => {
            db.saw(&error);
            let outage = error.outage();
            if outage.is_none() {
                tracing::error!(
                    "storing {} events failed: {}",
                    batch.len(),
                    error_chain(&error)
                );
            }
            let failed = batch
                .iter()
                .map(|_| Err(IngestError::NotStored(outage.clone())))
                .collect();
            (failed, Vec::new())
        }
    }
}

async fn try_store(db: &Db, batch: &[Job], lease: Duration) -> Result<Batch, StoreError> {
    let events: Vec<&NewEvent> = batch.iter().map(|job| &job.event).collect();
    let now = db.now();
    let mut tx = db.begin_batch().await?;
    let stored = events::publish_batch(&mut tx, &events, now, now.plus(lease)).await?;
    tx.commit().await?;
    Ok(stored)
}
