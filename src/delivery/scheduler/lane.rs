//! One webhook's lane: what the sender holds of it, its receiver's circuit (see
//! [`crate::domain::receiver_health`]), its pause and its rate cap.

use std::collections::VecDeque;
use std::time::Duration;

use crate::clock::Timestamp;
use crate::domain::queue::{Claimed, Fresh};
use crate::domain::receiver_health::{Circuit, ReceiverState};

/// Where a webhook's sends go: one neighbour however many webhooks share it.
pub(super) type Destination = String;

/// A send still in flight after this is slow: its webhook is suspect until it ends. Real
/// receivers answer well within it; a hanging one is known by it long before its timeout.
pub(super) const SLOW_AFTER: Duration = Duration::from_millis(500);

pub(super) struct Lane {
    pub(super) destination: Option<Destination>,
    /// Handed over fresh, not loaded yet, with when they were.
    pub(super) fresh: VecDeque<(Fresh, Timestamp)>,
    pub(super) loading: usize,
    /// Loaded and ready, with when each was claimed or handed over.
    pub(super) ready: VecDeque<(Claimed, Timestamp)>,
    /// When each of its sends in flight started.
    pub(super) sending: Vec<Timestamp>,
    pub(super) circuit: Circuit,
    pub(super) paused_until: Option<Timestamp>,
    pub(super) max_per_second: Option<i64>,
    /// Sends allowed now under `max_per_second`, and when that was counted.
    pub(super) tokens: f64,
    pub(super) tokens_at: Timestamp,
    pub(super) last_turn: u64,
    /// Held deliveries went back unsent, its receiver slower than its intake: until then it
    /// holds only what it is about to send, and claims pass it over.
    pub(super) backed_up_until: Option<Timestamp>,
}

impl Lane {
    pub(super) fn new(now: Timestamp) -> Self {
        Self {
            destination: None,
            fresh: VecDeque::new(),
            loading: 0,
            ready: VecDeque::new(),
            sending: Vec::new(),
            circuit: Circuit::default(),
            paused_until: None,
            max_per_second: None,
            tokens: 1.0,
            tokens_at: now,
            last_turn: 0,
            backed_up_until: None,
        }
    }

    pub(super) fn is_backed_up(&self, now: Timestamp) -> bool {
        self.backed_up_until.is_some_and(|until| until > now)
    }

    pub(super) fn held(&self) -> usize {
        self.fresh.len() + self.loading + self.ready.len()
    }

    pub(super) fn is_idle(&self) -> bool {
        self.held() == 0 && self.sending.is_empty()
    }

    pub(super) fn in_flight(&self) -> usize {
        self.sending.len()
    }

    /// Its receiver may be broken: it is Failing, its last sends failed, or a send of it
    /// is slow. A suspect webhook's sends may hold only a small part of its destination.
    pub(super) fn is_suspect(&self, now: Timestamp) -> bool {
        self.circuit.remembers_failures()
            || self
                .sending
                .iter()
                .any(|since| since.plus(SLOW_AFTER) <= now)
    }

    /// When its oldest send that is not slow yet becomes slow.
    pub(super) fn turns_slow_at(&self, now: Timestamp) -> Option<Timestamp> {
        self.sending
            .iter()
            .map(|since| since.plus(SLOW_AFTER))
            .filter(|at| *at > now)
            .min()
    }

    pub(super) fn is_paused(&self, now: Timestamp) -> bool {
        self.paused_until.is_some_and(|until| until > now)
    }

    /// Its circuit remembers failures. The store's count lags by an outcome batch: a lane
    /// forgotten and learned again from it would lose the failures not yet written, and
    /// open its circuit after the store's failure streak already shows the webhook Failing.
    pub(super) fn remembers_failures(&self) -> bool {
        self.circuit.remembers_failures()
    }

    /// This lane's sends per second on this node, if capped.
    pub(super) fn rate(&self, nodes: usize) -> Option<f64> {
        self.max_per_second
            .map(|max| (max.max(1) as f64 / nodes.max(1) as f64).max(0.01))
    }

    pub(super) fn refill(&mut self, now: Timestamp, nodes: usize) {
        if let Some(rate) = self.rate(nodes) {
            let elapsed = self.tokens_at.until(now).as_secs_f64();
            // A tenth of a second's worth may go at once, and at least one.
            let burst = (rate / 10.0).max(1.0);
            self.tokens = (self.tokens + elapsed * rate).min(burst);
        }
        self.tokens_at = self.tokens_at.max(now);
    }

    /// Whether the rate cap would still hold a send back at `now`.
    pub(super) fn holds_back(&self, now: Timestamp, nodes: usize) -> bool {
        self.rate(nodes).is_some_and(|rate| {
            let elapsed = self.tokens_at.until(now).as_secs_f64();
            self.tokens + elapsed * rate < (rate / 10.0).max(1.0)
        })
    }

    /// When the rate cap lets the next send go, if it holds one back now.
    pub(super) fn next_token_at(&self, nodes: usize) -> Option<Timestamp> {
        let rate = self.rate(nodes)?;
        (self.tokens < 1.0).then(|| {
            self.tokens_at
                .plus(Duration::from_secs_f64((1.0 - self.tokens) / rate))
        })
    }

    /// Takes in what the store says of the receiver as a delivery arrives at `now`.
    pub(super) fn learn(&mut self, state: &ReceiverState, now: Timestamp) {
        self.paused_until = self.paused_until.max(state.paused_until);
        self.max_per_second = state.max_per_second;
        self.circuit.learn(state, now);
    }

    pub(super) fn can_send(&self, share: usize) -> bool {
        let Some((front, _)) = self.ready.front() else {
            return false;
        };
        let allowed = match &self.circuit {
            Circuit::Closed { .. } => self.in_flight() < share,
            Circuit::Open { probing, .. } => front.probe && !probing,
        };
        allowed && (self.max_per_second.is_none() || self.tokens >= 1.0)
    }
}
/// `scheme://host:port` of a URL: many webhooks on one host are one neighbour.
pub(super) fn destination(url: &str) -> Destination {
    match url::Url::parse(url) {
        Ok(url) => format!(
            "{}://{}:{}",
            url.scheme(),
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or_default()
        ),
        Err(_) => url.to_owned(),
    }
}
