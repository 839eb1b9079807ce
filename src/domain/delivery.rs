//! The states of a delivery (one event to one webhook) and the reasons an attempt failed.

use crate::clock::Timestamp;

/// Where a delivery stands. `pending` until it succeeds or runs out of retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
}

impl DeliveryStatus {
    pub const ALL: [Self; 3] = [Self::Pending, Self::Succeeded, Self::Failed];

    /// Tried and failed, with tries left: the delivery waits for its next retry.
    pub fn is_retrying(self, attempts_made: i64) -> bool {
        self == Self::Pending && attempts_made > 0
    }

    /// When the next retry is due, if the delivery is retrying (a first try is not a retry).
    pub fn next_retry(
        self,
        attempts_made: i64,
        next_attempt_at: Option<Timestamp>,
    ) -> Option<Timestamp> {
        next_attempt_at.filter(|_| self.is_retrying(attempts_made))
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.key() == key)
    }

    /// The stable snake_case name: in storage and JSON.
    pub fn key(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
        }
    }
}

/// Why an attempt failed, stable for programs and filters; the message says it in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum AttemptErrorCode {
    /// No answer within the delivery timeout.
    Timeout,
    /// The connection could not be made or broke off.
    Connect,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
    /// The receiver's host name did not resolve.
    Dns,
    /// The receiver answered, but not with 2xx.
    HttpStatus,
    /// The destination is not a public address and not allowed by configuration.
    BlockedTarget,
}

impl AttemptErrorCode {
    /// In words, for lists: what happened, not the code.
    pub fn label(self) -> &'static str {
        match self {
            Self::Timeout => "no answer in time",
            Self::Connect => "connection failed",
            Self::Tls => "TLS handshake failed",
            Self::Dns => "host name not found",
            Self::HttpStatus => "error status",
            Self::BlockedTarget => "address not allowed",
        }
    }

    /// The stable snake_case name: in storage and JSON.
    pub fn key(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Connect => "connect",
            Self::Tls => "tls",
            Self::Dns => "dns",
            Self::HttpStatus => "http_status",
            Self::BlockedTarget => "blocked_target",
        }
    }
}
