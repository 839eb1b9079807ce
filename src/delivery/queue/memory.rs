//! The queue kept in memory, for unit tests of the worker: the store's rules (due work,
//! leases that lapse on the clock, fencing) without a database.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::Queue;
use crate::clock::{Clock, Timestamp};
use crate::db::StoreError;
use crate::db::delivery_queue::{AttemptRecord, ClaimLimits};
use crate::domain::DeliveryStatus;
use crate::domain::queue::{Claimed, Fresh, Held};
use crate::domain::receiver_health::ReceiverState;

#[derive(Clone)]
pub(in crate::delivery) struct MemoryQueue {
    clock: Clock,
    rows: Arc<Mutex<BTreeMap<i64, Row>>>,
}

/// One delivery as the queue keeps it.
#[derive(Debug, Clone)]
pub(in crate::delivery) struct Row {
    pub webhook_id: i64,
    pub url: String,
    pub status: DeliveryStatus,
    pub due: Timestamp,
    /// Until when it is leased, the lease's token.
    pub lease: Option<Timestamp>,
    /// The status codes (0: no answer) of the tries recorded, in order.
    pub tries: Vec<i64>,
}

impl MemoryQueue {
    pub fn new(clock: Clock) -> Self {
        Self {
            clock,
            rows: Arc::default(),
        }
    }

    /// A delivery due now, leased to nobody.
    pub fn add_due(&self, id: i64, webhook_id: i64, url: &str) {
        let due = self.clock.now();
        self.rows.lock().unwrap().insert(
            id,
            Row {
                webhook_id,
                url: url.to_owned(),
                status: DeliveryStatus::Pending,
                due,
                lease: None,
                tries: Vec::new(),
            },
        );
    }

    /// A delivery created already leased until `lease`, as ingest hands it over.
    pub fn add_fresh(&self, id: i64, webhook_id: i64, url: &str, lease: Timestamp) -> Fresh {
        self.add_due(id, webhook_id, url);
        self.rows.lock().unwrap().get_mut(&id).unwrap().lease = Some(lease);
        Fresh {
            id,
            webhook_id,
            test: false,
            lease,
        }
    }

    pub fn row(&self, id: i64) -> Row {
        self.rows.lock().unwrap()[&id].clone()
    }

    fn claimed(id: i64, row: &Row, lease: Timestamp) -> Claimed {
        Claimed {
            id,
            webhook_id: row.webhook_id,
            attempts_in_schedule: i64::try_from(row.tries.len()).unwrap_or(i64::MAX),
            url: row.url.clone(),
            api_key: None,
            custom_headers: Vec::new(),
            signing_secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned(),
            previous_signing_secret: None,
            event_type: "order.purchased".to_owned(),
            event_time: row.due,
            current_context: "{}".to_owned(),
            data: format!("{{\"delivery\":{id}}}"),
            receiver: ReceiverState::default(),
            probe: false,
            lease,
        }
    }
}

impl Queue for MemoryQueue {
    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn is_down(&self) -> bool {
        false
    }

    fn saw(&self, _error: &StoreError) {}

    async fn claim(
        &self,
        limits: ClaimLimits<'_>,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Vec<Claimed>, StoreError> {
        let mut rows = self.rows.lock().unwrap();
        let mut per_webhook = BTreeMap::<i64, i64>::new();
        let mut claimed = Vec::new();
        for (id, row) in rows.iter_mut() {
            let taken = per_webhook.entry(row.webhook_id).or_default();
            if row.status == DeliveryStatus::Pending
                && row.due <= now
                && row.lease.is_none_or(|lease| lease < now)
                && !limits.busy.contains(&row.webhook_id)
                && *taken < limits.per_webhook
            {
                *taken += 1;
                row.lease = Some(lease_until);
                claimed.push(Self::claimed(*id, row, lease_until));
            }
        }
        Ok(claimed)
    }

    async fn load(&self, ids: &[i64], _now: Timestamp) -> Result<Vec<Claimed>, StoreError> {
        let rows = self.rows.lock().unwrap();
        Ok(ids
            .iter()
            .filter_map(|id| {
                let row = rows.get(id)?;
                Some(Self::claimed(*id, row, row.lease?))
            })
            .collect())
    }

    async fn next_due(&self) -> Result<Option<Timestamp>, StoreError> {
        let rows = self.rows.lock().unwrap();
        Ok(rows
            .values()
            .filter(|row| row.status == DeliveryStatus::Pending)
            .map(|row| row.lease.map_or(row.due, |lease| lease.max(row.due)))
            .min())
    }

    async fn record(
        &self,
        attempts: &[&AttemptRecord],
        releases: &[(Held, Timestamp)],
    ) -> Result<Vec<i64>, StoreError> {
        let mut rows = self.rows.lock().unwrap();
        let mut stale = Vec::new();
        for attempt in attempts {
            let Some(row) = rows.get_mut(&attempt.delivery_id) else {
                continue;
            };
            if row.lease != Some(attempt.lease) {
                stale.push(attempt.delivery_id);
                continue;
            }
            row.tries.push(attempt.status_code.unwrap_or(0));
            row.status = attempt.status;
            row.lease = None;
            if let Some(next) = attempt.next_attempt_at {
                row.due = next;
            }
        }
        for (held, due) in releases {
            if let Some(row) = rows.get_mut(&held.id)
                && row.lease == Some(held.lease)
            {
                row.lease = None;
                row.due = *due;
            }
        }
        Ok(stale)
    }
}
