//! The queue as the store keeps it, on SQLite or PostgreSQL: each call one transaction.

use std::collections::{BTreeMap, BTreeSet};

use super::Queue;
use crate::actions::webhooks::SwitchOff;
use crate::actions::{self, Inbox};
use crate::clock::Timestamp;
use crate::db::delivery_queue::{self, AttemptRecord, ClaimLimits, Recorded};
use crate::db::{Db, StoreError};
use crate::domain::WebhookStatus;
use crate::domain::queue::{Claimed, Held};
use crate::secrets::secret_box::SecretBox;

/// A receiver that answers 410 Gone says the webhook is no more: it is disabled at once.
pub(in crate::delivery) const GONE: i64 = 410;

pub(in crate::delivery) struct StoreQueue {
    pub db: Db,
    pub secrets: SecretBox,
    /// Where the deliveries of the operational events a batch raises go once it commits.
    pub inbox: Inbox,
}

impl Queue for StoreQueue {
    fn now(&self) -> Timestamp {
        self.db.now()
    }

    fn is_down(&self) -> bool {
        self.db.outage().is_some()
    }

    fn saw(&self, error: &StoreError) {
        self.db.saw(error);
    }

    async fn claim(
        &self,
        limits: ClaimLimits<'_>,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Vec<Claimed>, StoreError> {
        let mut tx = self.db.begin_write_relaxed().await?;
        let claimed =
            delivery_queue::claim_due(&mut tx, &self.secrets, limits, now, lease_until).await?;
        tx.commit().await?;
        Ok(claimed)
    }

    async fn load(&self, ids: &[i64], now: Timestamp) -> Result<Vec<Claimed>, StoreError> {
        delivery_queue::load(self.db.reader(), &self.secrets, ids, now).await
    }

    async fn next_due(&self) -> Result<Option<Timestamp>, StoreError> {
        delivery_queue::next_due(self.db.reader()).await
    }

    /// Writes the batch in one transaction with what it gives rise to (a webhook switched
    /// off by a 410, operational events), and hands the events' deliveries to the sender
    /// once it commits.
    async fn record(
        &self,
        attempts: &[&AttemptRecord],
        releases: &[(Held, Timestamp)],
    ) -> Result<Vec<i64>, StoreError> {
        let now = self.db.now();
        let mut by_due: BTreeMap<Timestamp, Vec<Held>> = BTreeMap::new();
        for (held, due) in releases {
            by_due.entry(*due).or_default().push(*held);
        }
        let mut tx = self.db.begin_write_relaxed().await?;
        let Recorded {
            mut happened,
            stale,
        } = delivery_queue::record_attempts(&mut tx, attempts).await?;
        for (due, held) in by_due {
            delivery_queue::release(&mut tx, &held, due).await?;
        }
        let gone: BTreeSet<i64> = attempts
            .iter()
            .filter(|record| !stale.contains(&record.delivery_id))
            .filter(|record| record.status_code == Some(GONE))
            .map(|record| record.webhook_id)
            .collect();
        for id in gone {
            let switched = SwitchOff {
                id,
                status: WebhookStatus::Disabled,
                reason: "the receiver answered 410 Gone",
                status_code: Some(GONE),
            };
            happened.extend(switched.record(&mut tx, now).await?);
        }
        let fresh = actions::operational::publish(&mut tx, &self.inbox, &happened, now).await?;
        tx.commit().await?;
        self.inbox.hand_over(fresh);
        Ok(stale)
    }
}
