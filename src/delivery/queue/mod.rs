//! The engine's seam to its queue: the hot path (claim due work, load fresh work, record
//! what tries did and give back what was not sent) behind one trait. The engine runs on
//! [`StoreQueue`], the store on SQLite or PostgreSQL; unit tests step the worker and its
//! scheduler over an in-memory queue on a movable clock.

#[cfg(test)]
pub(super) mod memory;
mod store;

use std::future::Future;

use crate::clock::Timestamp;
use crate::db::StoreError;
use crate::db::delivery_queue::{AttemptRecord, ClaimLimits};
use crate::domain::queue::{Claimed, Held};
pub(super) use store::{GONE, StoreQueue};

pub(super) trait Queue: Send + Sync + 'static {
    /// The queue's time: leases and due times are read against it.
    fn now(&self) -> Timestamp;

    /// Whether the queue is known to be unreachable: claims wait until it is back.
    fn is_down(&self) -> bool;

    /// Tells the queue of an error, so that an outage is noticed at once.
    fn saw(&self, error: &StoreError);

    /// Claims due deliveries until `lease_until` (the lease's token).
    fn claim(
        &self,
        limits: ClaimLimits<'_>,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> impl Future<Output = Result<Vec<Claimed>, StoreError>> + Send;

    /// What sending these fresh deliveries needs, those still there.
    fn load(
        &self,
        ids: &[i64],
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<Claimed>, StoreError>> + Send;

    /// When the next delivery falls due, if any waits.
    fn next_due(&self) -> impl Future<Output = Result<Option<Timestamp>, StoreError>> + Send;

    /// Records a batch of tries and gives back deliveries unsent (each due at its time), all
    /// at once: only what is still held under the lease it carries counts. Returns the
    /// deliveries whose try came too late (another holder has them now).
    fn record(
        &self,
        attempts: &[&AttemptRecord],
        releases: &[(Held, Timestamp)],
    ) -> impl Future<Output = Result<Vec<i64>, StoreError>> + Send;
}
