//! One webhook's receiver health, and the one rule for it (SPEC §5 "Isolation"): every try
//! that fails counts, whatever its cause (a timeout, a refused connection, a 5xx, a 4xx, an
//! address the outbound guard refuses); [`FAILING_AFTER`] in a row make the webhook
//! **Failing**, its circuit open; then its deliveries wait without spending tries while one
//! probe at a time tests the receiver, each failed probe waiting longer; the first success
//! closes it. A 429 or 503 with `Retry-After` pauses the webhook instead of counting.
//!
//! The sender keeps a [`Circuit`] per webhook and steps it with each try's [`Signal`]; the
//! [`ReceiverVerdict`] it returns is what storage persists, folded per batch by
//! [`ReceiverChange`]: the count of failures in a row, since when the webhook is Failing,
//! the last failure and the next probe. The console and the API read that, so "Failing"
//! means the same on the list, the webhook's page, `/metrics` and the engine.

use std::time::Duration;

use crate::clock::Timestamp;
use crate::domain::AttemptErrorCode;

/// Tries failed in a row after which a webhook is Failing: enough that a blip (one restart,
/// one slow request) does not make it so, few enough that a dead receiver is found within
/// seconds.
pub const FAILING_AFTER: i64 = 5;
/// The first probe of a Failing webhook after this; each failed probe doubles the wait...
const FIRST_PROBE: Duration = Duration::from_secs(5);
/// ...up to this, so a receiver back after a long outage is found within minutes.
pub const LONGEST_PROBE_WAIT: Duration = Duration::from_secs(10 * 60);
/// This process's own view of a Failing webhook wins over what the store said this soon
/// after it saw it fail: the store hears of it with the next batch of outcomes.
const OPENING_SETTLES: Duration = Duration::from_secs(2);

/// What a finished try says about its receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// It answered 2xx.
    Answered,
    /// The try failed: no answer in time, a broken connection, an answer that is not 2xx,
    /// or an address the outbound guard refuses.
    Failed {
        code: AttemptErrorCode,
        reason: String,
    },
    /// It asked to be left alone until then (429 or 503 with `Retry-After`).
    Throttled { until: Timestamp },
    /// No try was made after all (the send was called off or broke before it went out).
    NotSent,
}

/// How a webhook's receiver stands, as the store has it when a delivery is claimed. The
/// default is a receiver nothing is known of: healthy, not paused, uncapped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceiverState {
    pub failing: bool,
    pub paused_until: Option<Timestamp>,
    pub max_per_second: Option<i64>,
    /// Tries failed in a row so far.
    pub consecutive_failures: i64,
}

/// What one try changed of the receiver's health: what storage writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiverVerdict {
    /// Nothing: no try was made, or a success while nothing was counted against it.
    Neutral,
    /// It answered 2xx after failures: the count starts again and a Failing webhook recovers.
    Healthy,
    /// It failed: one more in a row. With `failing`, the webhook is Failing (from now, or
    /// still) until its next probe.
    Unhealthy { failing: Option<Failing> },
    /// It asked, with Retry-After on a 429 or 503, to be left alone until then.
    Paused { until: Timestamp },
}

/// A Failing webhook as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failing {
    pub since: Timestamp,
    /// The last failure, as a stable code and in words.
    pub code: AttemptErrorCode,
    pub reason: String,
    pub next_probe_at: Timestamp,
}

/// The sender's view of one webhook's receiver.
#[derive(Debug, Clone, PartialEq)]
pub enum Circuit {
    Closed {
        failures: i64,
    },
    /// The webhook is Failing.
    Open {
        since: Timestamp,
        /// When this process saw it open (or learnt of it).
        seen_at: Timestamp,
        probes_failed: u32,
        next_probe_at: Timestamp,
        probing: bool,
    },
}

impl Default for Circuit {
    fn default() -> Self {
        Self::Closed { failures: 0 }
    }
}

impl Circuit {
    pub fn is_open(&self) -> bool {
        matches!(self, Self::Open { .. })
    }

    pub fn is_probing(&self) -> bool {
        matches!(self, Self::Open { probing: true, .. })
    }

    /// It remembers failures: the webhook is Failing, or its last tries failed.
    pub fn remembers_failures(&self) -> bool {
        *self != Self::default()
    }

    /// A probe of the open circuit starts.
    pub fn probe_started(&mut self) {
        if let Self::Open { probing, .. } = self {
            *probing = true;
        }
    }

    /// Takes in what the store says of the receiver as a delivery arrives at `now`: failures
    /// another node counted, a circuit another node opened, or closed with a probe.
    pub fn learn(&mut self, state: &ReceiverState, now: Timestamp) {
        match (&*self, state.failing) {
            (Self::Closed { failures }, false) => {
                *self = Self::Closed {
                    failures: (*failures).max(state.consecutive_failures),
                };
            }
            (Self::Closed { .. }, true) => {
                let probes_failed = state.consecutive_failures - FAILING_AFTER;
                *self = Self::Open {
                    since: now,
                    seen_at: now,
                    probes_failed: u32::try_from(probes_failed).unwrap_or(0),
                    next_probe_at: now,
                    probing: false,
                };
            }
            (Self::Open { seen_at, .. }, false) if seen_at.plus(OPENING_SETTLES) < now => {
                *self = Self::default();
            }
            (Self::Open { .. }, _) => {}
        }
    }

    /// Steps the circuit with what a finished try (a probe, or not) said at `now`.
    pub fn after(&mut self, signal: Signal, probe: bool, now: Timestamp) -> ReceiverVerdict {
        if probe && let Self::Open { probing, .. } = self {
            *probing = false;
        }
        match signal {
            Signal::NotSent => ReceiverVerdict::Neutral,
            Signal::Throttled { until } => ReceiverVerdict::Paused { until },
            Signal::Answered => {
                let counted = self.remembers_failures();
                *self = Self::default();
                if counted {
                    ReceiverVerdict::Healthy
                } else {
                    ReceiverVerdict::Neutral
                }
            }
            Signal::Failed { code, reason } => self.failed(probe, code, reason, now),
        }
    }

    fn failed(
        &mut self,
        probe: bool,
        code: AttemptErrorCode,
        reason: String,
        now: Timestamp,
    ) -> ReceiverVerdict {
        let failing = match self {
            Self::Closed { failures } => {
                *failures += 1;
                if *failures < FAILING_AFTER {
                    return ReceiverVerdict::Unhealthy { failing: None };
                }
                let next_probe_at = now.plus(probe_wait(0));
                *self = Self::Open {
                    since: now,
                    seen_at: now,
                    probes_failed: 0,
                    next_probe_at,
                    probing: false,
                };
                Failing {
                    since: now,
                    code,
                    reason,
                    next_probe_at,
                }
            }
            Self::Open {
                since,
                probes_failed,
                next_probe_at,
                ..
            } => {
                if probe {
                    *probes_failed += 1;
                    *next_probe_at = now.plus(probe_wait(*probes_failed));
                }
                Failing {
                    since: *since,
                    code,
                    reason,
                    next_probe_at: *next_probe_at,
                }
            }
        };
        ReceiverVerdict::Unhealthy {
            failing: Some(failing),
        }
    }
}

/// The wait before the probe after `failed` failed probes.
pub fn probe_wait(failed: u32) -> Duration {
    FIRST_PROBE
        .saturating_mul(2u32.saturating_pow(failed))
        .min(LONGEST_PROBE_WAIT)
}

/// A batch's net effect on one webhook's receiver health, its verdicts taken in order.
#[derive(Debug, Default)]
pub struct ReceiverChange<'a> {
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
