//! What a batch of tries comes to for each webhook.

use std::collections::BTreeMap;

use super::AttemptRecord;
use crate::clock::Timestamp;
use crate::domain::receiver_health::ReceiverChange;

/// Per webhook, in id order: so that two nodes' batches lock the rows they share in the
/// same order.
pub(super) struct Summary<'a> {
    /// Each webhook's latest try: when, and whether it succeeded.
    pub last: BTreeMap<i64, (Timestamp, bool)>,
    /// Successes and failures per webhook and hour.
    pub hourly: BTreeMap<(i64, Timestamp), (i64, i64)>,
    pub receivers: BTreeMap<i64, ReceiverChange<'a>>,
}

impl<'a> Summary<'a> {
    pub fn of(attempts: &[&'a AttemptRecord]) -> Self {
        let mut summary = Self {
            last: BTreeMap::new(),
            hourly: BTreeMap::new(),
            receivers: BTreeMap::new(),
        };
        for attempt in attempts {
            summary
                .receivers
                .entry(attempt.webhook_id)
                .or_default()
                .apply(&attempt.verdict);
            let succeeded = attempt.error_code.is_none();
            let latest = summary
                .last
                .entry(attempt.webhook_id)
                .or_insert((attempt.at, succeeded));
            if attempt.at >= latest.0 {
                *latest = (attempt.at, succeeded);
            }
            let counts = summary
                .hourly
                .entry((attempt.webhook_id, attempt.at.start_of_hour()))
                .or_default();
            if succeeded {
                counts.0 += 1;
            } else {
                counts.1 += 1;
            }
        }
        summary
    }
}
