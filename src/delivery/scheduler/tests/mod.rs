//! The scheduler stepped through time: each test says what a receiver does and when.

mod destinations;
mod receivers;
mod slots;

use std::time::Duration;

use super::lane;
use super::*;
use crate::domain::AttemptErrorCode;
use crate::domain::receiver_health::{
    FAILING_AFTER, LONGEST_PROBE_WAIT, ReceiverState, ReceiverVerdict, probe_wait,
};

pub(super) const START: Timestamp = Timestamp::from_unix_ms(1_800_000_000_000);

pub(super) fn at(ms: u64) -> Timestamp {
    START.plus(Duration::from_millis(ms))
}

pub(super) fn limits() -> Limits {
    Limits {
        concurrency: 64,
        per_webhook: 8,
        per_destination: 16,
        nodes: 1,
        hold_at_most: Duration::from_secs(17),
        lease: LEASE,
        hold_per_webhook: 100,
        claim_per_webhook: 64,
    }
}

pub(super) fn delivery(id: i64, webhook_id: i64, url: &str) -> Claimed {
    Claimed {
        id,
        webhook_id,
        attempts_in_schedule: 0,
        url: url.to_owned(),
        api_key: None,
        custom_headers: Vec::new(),
        signing_secret: String::new(),
        previous_signing_secret: None,
        event_type: "order.purchased".into(),
        event_time: START,
        current_context: "{}".into(),
        data: "{}".into(),
        receiver: ReceiverState::default(),
        probe: false,
        lease: START.plus(LEASE),
    }
}

/// How long the tests' claims lease a delivery.
pub(super) const LEASE: Duration = Duration::from_secs(32);

/// These deliveries, claimed (leased) at `now`.
pub(super) fn claimed(scheduler: &mut Scheduler, deliveries: Vec<Claimed>, now: Timestamp) {
    let leased = deliveries
        .into_iter()
        .map(|delivery| Claimed {
            lease: now.plus(LEASE),
            ..delivery
        })
        .collect();
    scheduler.claimed(leased, now);
}

/// `count` deliveries for each of these webhooks, claimed at `now`.
pub(super) fn claim(
    scheduler: &mut Scheduler,
    webhooks: &[(i64, &str)],
    count: i64,
    now: Timestamp,
) {
    let claimed = webhooks
        .iter()
        .flat_map(|(webhook, url)| {
            (0..count).map(move |n| delivery(webhook * 1000 + n, *webhook, url))
        })
        .collect();
    self::claimed(scheduler, claimed, now);
}

pub(super) fn sent_to(sends: &[Send], webhook: i64) -> usize {
    sends
        .iter()
        .filter(|send| send.delivery.webhook_id == webhook)
        .count()
}

/// The oldest send of `webhook` ends; if it has none here, one to its destination that an
/// earlier scheduler started: what it says of the receiver counts all the same.
pub(super) fn finish(
    scheduler: &mut Scheduler,
    webhook: i64,
    signal: Signal,
    now: Timestamp,
) -> ReceiverVerdict {
    let lane = scheduler.lanes.get(&webhook);
    let slot = Slot {
        webhook_id: webhook,
        destination: lane
            .and_then(|lane| lane.destination.clone())
            .unwrap_or_else(|| lane::destination("https://dead.example/x")),
        probe: false,
        started_at: lane
            .and_then(|lane| lane.sending.iter().min().copied())
            .unwrap_or(START),
    };
    scheduler.finished(&slot, signal, now)
}

pub(super) fn timeout() -> Signal {
    Signal::Failed {
        code: AttemptErrorCode::Timeout,
        reason: "No answer within the delivery timeout.".into(),
    }
}
