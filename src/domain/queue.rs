//! The delivery engine's vocabulary: what it is handed and claims (with the lease it holds
//! it under), what it gives back, and what a try says about a webhook's receiver. Storage
//! reads and writes these; the scheduler and the worker speak them without knowing where
//! they are kept.

use crate::clock::Timestamp;
use crate::domain::{ApiKey, AttemptErrorCode, SentHeader};

/// Tries failed in a row after which an active webhook is Failing (whatever the cause), and
/// receiver failures in a row that open its circuit: enough that a blip (one restart, one
/// slow request) does not, few enough that a dead receiver is found within seconds.
pub const FAILING_AFTER: i64 = 5;

/// A delivery created already claimed, handed to this process's sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fresh {
    pub id: i64,
    pub webhook_id: i64,
    /// A test event an admin sent: while the webhook is Failing it may serve as the probe.
    pub test: bool,
    /// Until when it is leased: also the lease's token (see [`Claimed::lease`]).
    pub lease: Timestamp,
}

/// How a webhook's receiver stands, as the store has it when a delivery is claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverState {
    pub failing: bool,
    pub paused_until: Option<Timestamp>,
    pub max_per_second: Option<i64>,
    /// Receiver failures in a row so far.
    pub consecutive_failures: i64,
}

/// A claimed delivery with what sending it needs, secrets opened.
pub struct Claimed {
    pub id: i64,
    pub webhook_id: i64,
    /// Tries made before this one since the retry schedule (re)started.
    pub attempts_in_schedule: i64,
    pub url: String,
    pub api_key: Option<ApiKey>,
    pub custom_headers: Vec<SentHeader>,
    pub signing_secret: String,
    /// The secret before the last rotation, while it still signs.
    pub previous_signing_secret: Option<String>,
    pub event_type: String,
    pub event_time: Timestamp,
    /// JSON text, as published.
    pub current_context: String,
    /// JSON text, as published.
    pub data: String,
    pub receiver: ReceiverState,
    /// Claimed to test the receiver of a Failing webhook.
    pub probe: bool,
    /// Until when this process holds it, as the claim wrote it: the lease's token. Each
    /// claim writes a later time than the last, so an outcome or a release carrying an
    /// older one comes from a holder whose lease lapsed, and is dropped (fencing).
    pub lease: Timestamp,
}

/// A claimed delivery given back unsent: its id and the lease it was held under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub id: i64,
    pub lease: Timestamp,
}

/// What one try says about the webhook's receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiverVerdict {
    /// Nothing: an answer that is not about the receiver's health (a 4xx, a refused address),
    /// or a success while nothing was counted against it.
    Neutral,
    /// It answered 2xx after failures: the count starts again and a Failing webhook recovers.
    Healthy,
    /// It failed (timeout, connection, 5xx): one more in a row. With `failing`, the webhook
    /// is Failing (from now, or still) until its next probe.
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
