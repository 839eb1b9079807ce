//! The engine's inbox: where ingest and the actions hand it work. It sits below both, so
//! that an action wakes the engine without knowing it.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc};

use crate::domain::queue::Fresh;

/// Where fresh deliveries go: committed already, and claimed until the lease given at
/// birth, so they go out without waiting for a poll or a claim.
#[derive(Clone)]
pub struct Inbox {
    deliveries: mpsc::UnboundedSender<Vec<Fresh>>,
    due: Arc<Notify>,
    lease: Duration,
}

impl Inbox {
    /// The inbox, and the engine's ends of it: the fresh deliveries, and the signal that
    /// something fell due.
    pub fn new(lease: Duration) -> (Self, mpsc::UnboundedReceiver<Vec<Fresh>>, Arc<Notify>) {
        let (deliveries, fresh) = mpsc::unbounded_channel();
        let due = Arc::new(Notify::new());
        let inbox = Self {
            deliveries,
            due: due.clone(),
            lease,
        };
        (inbox, fresh, due)
    }

    /// How long a fresh delivery stays claimed for this process.
    pub fn lease(&self) -> Duration {
        self.lease
    }

    pub fn hand_over(&self, deliveries: Vec<Fresh>) {
        if deliveries.is_empty() {
            return;
        }
        // A stopped engine takes nothing; the leases lapse and the next process sends them.
        let _ = self.deliveries.send(deliveries);
    }

    /// Something fell due now (a redelivery): look for due work at once, not at the next poll.
    pub fn due_now(&self) {
        self.due.notify_one();
    }
}
