//! Why a pending delivery has not gone out yet, and until when: support's first question
//! about a delivery ("where is it?") answered from the delivery's and its webhook's state,
//! the same words on its page, in the log, in search results and in the API.

use crate::clock::Timestamp;
use crate::domain::WebhookStatus;

/// What decides a pending delivery's wait: its own claim and schedule, and its webhook's
/// state (read beside it).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WaitFacts {
    /// Claimed by a sender, which holds it until it is sent or its lease lapses.
    pub leased: bool,
    pub webhook_status: WebhookStatus,
    pub webhook_failing_since: Option<Timestamp>,
    pub webhook_next_probe_at: Option<Timestamp>,
    pub webhook_paused_until: Option<Timestamp>,
    pub webhook_max_per_second: Option<i64>,
}

/// Why a pending delivery waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryWait {
    /// Its webhook is switched off: nothing goes out until it is enabled.
    WebhookOff(WebhookStatus),
    /// Its webhook is Failing: the queue waits for one probe at a time to find the
    /// receiver answering.
    WebhookFailing { next_probe_at: Option<Timestamp> },
    /// The receiver asked for a pause (429 or 503 with `Retry-After`).
    PausedByReceiver { until: Timestamp },
    /// A sender holds it under its webhook's rate limit, waiting for a slot.
    RateLimited { per_second: i64 },
    /// A sender holds it and sends it now.
    Sending,
    /// It failed and is tried again at `at`.
    Retry {
        number: i64,
        of: usize,
        at: Timestamp,
    },
    /// Due: the next look for due work takes it.
    Due,
}

impl DeliveryWait {
    /// The wait of a delivery in `status`, `attempts_made` tries in, due at `next_attempt_at`,
    /// or `None` when it no longer waits (it succeeded or failed for good).
    pub fn of(
        pending: bool,
        attempts_made: i64,
        next_attempt_at: Option<Timestamp>,
        facts: &WaitFacts,
        max_attempts: usize,
        now: Timestamp,
    ) -> Option<Self> {
        if !pending {
            return None;
        }
        if !facts.webhook_status.is_active() {
            return Some(Self::WebhookOff(facts.webhook_status));
        }
        if facts.webhook_failing_since.is_some() {
            return Some(Self::WebhookFailing {
                next_probe_at: facts.webhook_next_probe_at,
            });
        }
        if let Some(until) = facts.webhook_paused_until.filter(|until| *until > now) {
            return Some(Self::PausedByReceiver { until });
        }
        if facts.leased {
            return Some(match facts.webhook_max_per_second {
                Some(per_second) => Self::RateLimited { per_second },
                None => Self::Sending,
            });
        }
        let at = next_attempt_at.unwrap_or(now);
        if at > now {
            return Some(Self::Retry {
                number: attempts_made + 1,
                of: max_attempts,
                at,
            });
        }
        Some(Self::Due)
    }

    /// The stable snake_case name, for programs.
    pub fn key(&self) -> &'static str {
        match self {
            Self::WebhookOff(_) => "webhook_off",
            Self::WebhookFailing { .. } => "webhook_failing",
            Self::PausedByReceiver { .. } => "paused_by_receiver",
            Self::RateLimited { .. } => "rate_limited",
            Self::Sending => "sending",
            Self::Retry { .. } => "retry_scheduled",
            Self::Due => "due",
        }
    }

    /// Until when it waits, when that is known.
    pub fn until(&self) -> Option<Timestamp> {
        match self {
            Self::WebhookFailing { next_probe_at } => *next_probe_at,
            Self::PausedByReceiver { until } => Some(*until),
            Self::Retry { at, .. } => Some(*at),
            Self::WebhookOff(_) | Self::RateLimited { .. } | Self::Sending | Self::Due => None,
        }
    }

    /// In brief, for a row of a list, times relative to `now`: "Held: webhook Failing, probe
    /// in 20 s".
    pub fn brief(&self, now: Timestamp) -> String {
        match self {
            Self::WebhookOff(status) => format!("Held: webhook {}", status.label().to_lowercase()),
            Self::WebhookFailing {
                next_probe_at: Some(at),
            } => format!("Held: webhook Failing, probe {}", at.ahead_of(now)),
            Self::WebhookFailing {
                next_probe_at: None,
            } => "Held: webhook Failing".to_owned(),
            Self::PausedByReceiver { until } => {
                format!("Paused by the receiver, resumes {}", until.ahead_of(now))
            }
            Self::RateLimited { per_second } => {
                format!("Rate limit: {per_second}/s, waits its slot")
            }
            Self::Sending => "Being sent now".to_owned(),
            Self::Retry { number, of, at } => {
                format!("Retry {number} of {of} {}", at.ahead_of(now))
            }
            Self::Due => "Due: waits for a send slot".to_owned(),
        }
    }

    /// In words, times absolute (UTC): "Held: the webhook is Failing; next probe at 14:05:10
    /// UTC."
    pub fn reason(&self) -> String {
        match self {
            Self::WebhookOff(status) => format!(
                "Held: the webhook is {}; nothing is sent until it is enabled again.",
                status.label().to_lowercase()
            ),
            Self::WebhookFailing {
                next_probe_at: Some(at),
            } => format!(
                "Held: the webhook is Failing; next probe at {}. It goes out once a probe succeeds.",
                at.absolute_seconds()
            ),
            Self::WebhookFailing {
                next_probe_at: None,
            } => "Held: the webhook is Failing; it goes out once a probe succeeds.".to_owned(),
            Self::PausedByReceiver { until } => format!(
                "Paused by the receiver (rate limited) until {}.",
                until.absolute_seconds()
            ),
            Self::RateLimited { per_second } => format!(
                "Rate limit: the webhook sends at most {per_second} per second; this one waits for its slot."
            ),
            Self::Sending => "Being sent now.".to_owned(),
            Self::Retry { number, of, at } => {
                format!("Retry {number} of {of} at {}.", at.absolute_seconds())
            }
            Self::Due => "Due: waiting for a free send slot.".to_owned(),
        }
    }
}
