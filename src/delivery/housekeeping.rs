//! Upkeep that runs beside the worker: old events are pruned in small batches (the file
//! stops growing) and webhooks whose deliveries have only failed for long are switched off.
//! Nodes sharing a database take turns: each round runs on whichever node gets the lock.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::actions;
use crate::clock::Timestamp;
use crate::db::{Db, Job, StoreError, housekeeping};
use crate::telemetry::error_chain;

/// How often upkeep runs: retention and auto-disable are measured in days.
const INTERVAL: Duration = Duration::from_secs(10 * 60);
/// Events deleted per transaction, so that pruning never holds the writer for long.
const PRUNE_BATCH: i64 = 500;

#[derive(Debug, Clone, Copy)]
pub struct Upkeep {
    /// Events (with their deliveries and attempts) older than this are deleted.
    pub retention: Duration,
    /// A webhook whose attempts have all failed for this long is auto-disabled.
    pub auto_disable_after: Duration,
}

pub(super) async fn run(db: Db, upkeep: Upkeep, shutdown: CancellationToken) {
    let mut ticks = tokio::time::interval(INTERVAL);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = shutdown.cancelled() => return,
        }
        // One node at a time: the others skip this round.
        let lock = match db.try_lock(Job::Upkeep).await {
            Ok(Some(lock)) => lock,
            Ok(None) => continue,
            Err(error) => {
                tracing::error!("upkeep could not start: {}", error_chain(&error));
                continue;
            }
        };
        if let Err(error) = once(&db, upkeep, Timestamp::now()).await {
            tracing::error!("upkeep failed: {}", error_chain(&error));
        }
        lock.release().await;
    }
}

/// One round of upkeep as of `now`.
pub async fn once(db: &Db, upkeep: Upkeep, now: Timestamp) -> Result<(), StoreError> {
    let cutoff = now.minus(upkeep.retention);
    loop {
        let mut tx = db.begin_write().await?;
        let deleted = housekeeping::delete_events_before(&mut tx, cutoff, PRUNE_BATCH).await?;
        tx.commit().await?;
        if deleted < PRUNE_BATCH as u64 {
            break;
        }
    }
    let since = now.minus(upkeep.auto_disable_after);
    for webhook in housekeeping::failing_since(db.reader(), since).await? {
        actions::webhooks::auto_disable(db, webhook, upkeep.auto_disable_after, now).await?;
    }
    Ok(())
}
