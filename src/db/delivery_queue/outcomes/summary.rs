//! What a batch of tries comes to for each webhook.

use std::collections::BTreeMap;

use super::AttemptRecord;
use crate::clock::Timestamp;
use crate::domain::queue::{Failing, ReceiverVerdict};

/// Per webhook, in id order: so that two nodes' batches lock the rows they share in the
/// same order.
pub(super) struct Summary<'a> {
    /// Each webhook's latest try: when, and whether it succeeded.
    pub last: BTreeMap<i64, (Timestamp, bool)>,
    /// Successes and failures per webhook and hour.
    pub hourly: BTreeMap<(i64, Timestamp), (i64, i64)>,
    pub receivers: BTreeMap<i64, ReceiverChange<'a>>,
    pub streaks: BTreeMap<i64, Streak>,
}

impl<'a> Summary<'a> {
    pub fn of(attempts: &[&'a AttemptRecord]) -> Self {
        let mut summary = Self {
            last: BTreeMap::new(),
            hourly: BTreeMap::new(),
            receivers: BTreeMap::new(),
            streaks: BTreeMap::new(),
        };
        let mut in_time_order = attempts.to_vec();
        in_time_order.sort_by_key(|attempt| attempt.at);
        for attempt in &in_time_order {
            summary
                .streaks
                .entry(attempt.webhook_id)
                .or_default()
                .add(attempt);
        }
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

/// A batch's net effect on one webhook's receiver state, its verdicts taken in order.

#[derive(Default)]
pub(super) struct ReceiverChange<'a> {
    /// The count started again (a success); later failures count from zero.
    pub reset: bool,
    pub failures: i64,
    pub failing: Option<&'a Failing>,
    pub paused_until: Option<Timestamp>,
}

impl<'a> ReceiverChange<'a> {
    pub fn apply(&mut self, verdict: &'a ReceiverVerdict) {
        match verdict {
            ReceiverVerdict::Neutral => {}
            ReceiverVerdict::Healthy => {
                *self = Self {
                    reset: true,
                    paused_until: self.paused_until,
                    ..Self::default()
                };
            }
            ReceiverVerdict::Unhealthy { failing } => {
                self.failures += 1;
                if failing.is_some() {
                    self.failing = failing.as_ref();
                }
            }
            ReceiverVerdict::Paused { until } => {
                self.paused_until = self.paused_until.max(Some(*until));
            }
        }
    }

    pub fn is_nothing(&self) -> bool {
        !self.reset && self.failures == 0 && self.paused_until.is_none()
    }
}

/// A webhook's tries of one batch, in time order, as its failure streak sees them: whether
/// one succeeded, and the failures after the last success, from when, with the last answer.
#[derive(Default)]
pub(super) struct Streak {
    pub succeeded: bool,
    pub failed: i64,
    pub failed_since: Option<Timestamp>,
    pub last_answer: Option<String>,
}

impl Streak {
    pub fn add(&mut self, attempt: &AttemptRecord) {
        if attempt.error_code.is_none() {
            *self = Self {
                succeeded: true,
                ..Self::default()
            };
            return;
        }
        self.failed += 1;
        self.failed_since.get_or_insert(attempt.at);
        self.last_answer = Some(match (attempt.status_code, attempt.error_code) {
            (Some(code), _) => code.to_string(),
            (None, Some(error)) => error.key().to_owned(),
            (None, None) => String::new(),
        });
    }
}
