//! The delivery engine's vocabulary: what it is handed and claims (with the lease it holds
//! it under), what it gives back, and what a try says about a webhook's receiver. Storage
//! reads and writes these; the scheduler and the worker speak them without knowing where
//! they are kept.

use crate::clock::Timestamp;
use crate::domain::receiver_health::ReceiverState;
use crate::domain::{ApiKey, SentHeader};

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
