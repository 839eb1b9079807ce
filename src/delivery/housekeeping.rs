//! Upkeep that runs beside the worker: old events are pruned in small batches (the file
//! stops growing) and webhooks whose deliveries have only failed for long are switched off.
//! Nodes sharing a database take turns: each round runs on whichever node gets the lock.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::actions::{self, Inbox};
use crate::clock::Timestamp;
use crate::db::{Db, Job, StoreError, events, housekeeping};
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

pub(super) async fn run(db: Db, inbox: Inbox, upkeep: Upkeep, shutdown: CancellationToken) {
    let mut ticks = tokio::time::interval(INTERVAL);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = shutdown.cancelled() => return,
        }
        if db.outage().is_some() {
            continue;
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
        if let Err(error) = once(&db, &inbox, upkeep, db.now()).await {
            db.saw(&error);
            tracing::error!("upkeep failed: {}", error_chain(&error));
        }
        lock.release().await;
    }
}

/// How soon after ingest SQLite's search index catches up; until then a search reads the
/// few events after it one by one.
const INDEX_EVERY: Duration = Duration::from_millis(500);

/// Keeps SQLite's search index caught up with ingest, a batch of events per transaction (on
/// PostgreSQL events are indexed as they are stored: each pass finds nothing).
pub(super) async fn index_quotes(db: Db, shutdown: CancellationToken) {
    if db.is_shared() {
        return;
    }
    let mut ticks = tokio::time::interval(INDEX_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = shutdown.cancelled() => return,
        }
        if db.outage().is_some() {
            continue;
        }
        loop {
            match events::index_quotes(&db, events::INDEX_BATCH).await {
                Ok(taken) if taken < events::INDEX_BATCH as usize => break,
                Ok(_) => {}
                Err(error) => {
                    db.saw(&error);
                    tracing::error!("indexing search terms failed: {}", error_chain(&error));
                    break;
                }
            }
        }
    }
}

/// One round of upkeep as of `now`; `webhook.disabled` notices go to `inbox`.
pub async fn once(
    db: &Db,
    inbox: &Inbox,
    upkeep: Upkeep,
    now: Timestamp,
) -> Result<(), StoreError> {
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
        actions::webhooks::auto_disable(db, inbox, webhook, upkeep.auto_disable_after, now).await?;
    }
    Ok(())
}
