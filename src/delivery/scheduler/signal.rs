//! What a finished try says about its receiver.

use std::time::Duration;

use crate::clock::Timestamp;
use crate::delivery::sender::Tried;
use crate::domain::AttemptErrorCode;

/// The longest pause a receiver's `Retry-After` buys: a receiver may ask for patience, not
/// to be forgotten.
pub const LONGEST_PAUSE: Duration = Duration::from_secs(60 * 60);

/// What a finished try says about its receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// It answered (2xx, or a 4xx: it is up, even if it refuses this one).
    Answered,
    /// It did not answer well: a timeout, a broken connection, a 5xx.
    Failed {
        code: AttemptErrorCode,
        reason: String,
    },
    /// It asked to be left alone until then (429 or 503 with `Retry-After`).
    Throttled { until: Timestamp },
    /// The try never reached it (an address the outbound guard refuses).
    NotReached,
}

impl Signal {
    pub fn of(tried: &Tried) -> Self {
        if let Some(retry_after) = tried.retry_after
            && matches!(tried.status_code, Some(429 | 503))
        {
            return Self::Throttled {
                until: tried.at.plus(retry_after.min(LONGEST_PAUSE)),
            };
        }
        match &tried.error {
            None => Self::Answered,
            Some((AttemptErrorCode::BlockedTarget, _)) => Self::NotReached,
            Some((AttemptErrorCode::HttpStatus, _))
                if tried.status_code.is_some_and(|code| code < 500) =>
            {
                Self::Answered
            }
            Some((code, reason)) => Self::Failed {
                code: *code,
                reason: reason.clone(),
            },
        }
    }
}
