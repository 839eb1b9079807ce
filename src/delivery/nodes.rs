//! Nodes sharing one database announce themselves by heartbeat, and each takes an even
//! share of the per-webhook send limit, so that the limit holds for the whole installation
//! rather than for each node. On SQLite there is one node, which keeps all of it and sends
//! no heartbeat.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::db::{Db, StoreError, nodes};
use crate::secrets::token::random_token;
use crate::telemetry::error_chain;

const HEARTBEAT: Duration = Duration::from_secs(5);
/// A node not heard from for this long is taken for dead: the others take up its share.
const PRESUMED_DEAD_AFTER: Duration = Duration::from_secs(15);
/// A dead node's row is removed after this; until then it shows when it was last seen.
const FORGOTTEN_AFTER: Duration = Duration::from_secs(60 * 60);
/// Random bytes in a node's name: unique without configuration.
const NODE_ID_BYTES: usize = 9;

/// This node's place among the nodes: its name and its share of the per-webhook limit.
#[derive(Clone)]
pub struct Membership {
    id: String,
    per_webhook: usize,
    share: Arc<AtomicUsize>,
    live: Arc<AtomicUsize>,
}

impl Membership {
    /// A new node, counting itself alone until its first heartbeat says otherwise.
    pub fn new(per_webhook: usize) -> Self {
        Self {
            id: format!("{}-{}", std::process::id(), random_token(NODE_ID_BYTES)),
            per_webhook,
            share: Arc::new(AtomicUsize::new(per_webhook)),
            live: Arc::new(AtomicUsize::new(1)),
        }
    }

    /// The live nodes, this one included: a webhook's `max_per_second` is shared among them.
    pub fn nodes(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// Sends this node may have in flight to one webhook: the installation's limit divided
    /// among the live nodes, at least one.
    pub fn per_webhook(&self) -> usize {
        self.share.load(Ordering::Relaxed)
    }

    async fn beat(&self, db: &Db) -> Result<(), StoreError> {
        let now = db.now();
        let mut tx = db.begin_write_relaxed().await?;
        let live = nodes::heartbeat(
            &mut tx,
            &self.id,
            now,
            now.minus(PRESUMED_DEAD_AFTER),
            now.minus(FORGOTTEN_AFTER),
        )
        .await?;
        tx.commit().await?;
        let live = usize::try_from(live).unwrap_or(1).max(1);
        self.live.store(live, Ordering::Relaxed);
        self.share
            .store((self.per_webhook / live).max(1), Ordering::Relaxed);
        Ok(())
    }

    async fn leave(&self, db: &Db) -> Result<(), StoreError> {
        let mut tx = db.begin_write_relaxed().await?;
        nodes::leave(&mut tx, &self.id).await?;
        tx.commit().await
    }
}

/// Beats until shutdown, then leaves so the others take up the share at once.
pub(super) async fn run(db: Db, membership: Membership, shutdown: CancellationToken) {
    let mut ticks = tokio::time::interval(HEARTBEAT);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = shutdown.cancelled() => break,
        }
        if db.outage().is_some() {
            continue;
        }
        if let Err(error) = membership.beat(&db).await {
            tracing::warn!("the node's heartbeat failed: {}", error_chain(&error));
        }
    }
    if let Err(error) = membership.leave(&db).await {
        tracing::warn!("the node could not sign off: {}", error_chain(&error));
    }
}
