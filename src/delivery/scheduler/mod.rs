//! Who sends next: the sender's deliveries in hand, one lane per webhook, and the rules that
//! keep a broken receiver from costing its neighbours anything (SPEC §5 "Isolation").
//!
//! - **Fair slots.** Free send slots go round-robin to destinations (scheme, host, port), and
//!   within a destination to its webhooks, the one served longest ago first. No destination
//!   holds more than its share of the slots, nor a webhook more than its share of its
//!   destination, and each share leaves room for one more: a newcomer always finds a slot,
//!   however many sends hang elsewhere.
//! - **A shared destination stays fair.** Many webhooks often share one host (an integration
//!   platform, a customer's gateway). A webhook is *suspect* while it is Failing, its last
//!   sends failed, or a send of it has been in flight over [`lane::SLOW_AFTER`]. While a
//!   healthy webhook waits at a destination, suspect webhooks start new sends there only
//!   while their sends hold less than a quarter of its cap; and for the others, suspect
//!   sends count against the cap only up to that quarter (the destination holding at most
//!   twice its cap in all). So hundreds of hanging webhooks and their probes on one host
//!   leave its healthy webhooks most of it, and slow receivers alone keep their pace.
//! - **Failing webhooks.** Each lane steps its receiver's
//!   [`Circuit`](crate::domain::receiver_health) with every finished try: once it opens,
//!   the webhook's deliveries go back to the store, where they wait without spending
//!   tries, and one probe at a time tests the receiver on a backoff (claimed from the
//!   store, so nodes take turns). A success closes it; the backlog then leaves at the
//!   webhook's pace.
//! - **Back-pressure.** A 429 or 503 with `Retry-After` pauses the webhook, not only the one
//!   delivery; `max_per_second` caps its rate.
//! - **Leases.** Everything held here is claimed with a lease: what cannot start sending in
//!   time to finish within it goes back to the store instead.
//!
//! It reads no clock: every call is told the time, so tests step it through hours at once.

mod dispatch;
mod lane;
#[cfg(test)]
mod tests;
mod verdict;

use std::collections::HashMap;
use std::time::Duration;

use crate::clock::Timestamp;
use crate::domain::queue::{Claimed, Fresh, Held};
use crate::domain::receiver_health::Circuit;
pub use crate::domain::receiver_health::Signal;
use lane::{Destination, Lane, destination};

/// Deliveries of one webhook loaded ahead of its free slots, so a load serves many sends.
const LOAD_AHEAD: usize = 2;

/// The limits slots are shared under.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub concurrency: usize,
    /// This node's share of the per-webhook limit.
    pub per_webhook: usize,
    pub per_destination: usize,
    /// Sends of this node to one webhook per second are capped at the webhook's
    /// `max_per_second` divided by this (the live nodes).
    pub nodes: usize,
    /// A delivery held longer than this after it was leased is given back instead of sent:
    /// a send started later might outlive its lease.
    pub hold_at_most: Duration,
    /// How long a claim (or ingest's commit) leases a delivery: its token minus this is when.
    pub lease: Duration,
    /// Deliveries of one webhook held at most (loaded and not), beyond those in flight.
    pub hold_per_webhook: usize,
    /// Deliveries of one webhook a claim takes at most; a webhook holding as many is
    /// passed over by claims until it has sent them.
    pub claim_per_webhook: usize,
}

impl Limits {
    /// Deliveries of a backed-up webhook a node keeps rather than give back to the store: as
    /// many as one node alone would keep, whatever its share of the slots. Given back, each
    /// costs a write and a claim, which on several nodes with small shares came to a quarter
    /// more CPU per delivery.
    fn held_when_backed_up(&self) -> usize {
        self.per_webhook * self.nodes.max(1) * LOAD_AHEAD
    }
}

fn held(id: i64, lease: Timestamp) -> Held {
    Held { id, lease }
}

/// A delivery to send now, and the slot it takes.
pub struct Send {
    pub delivery: Claimed,
    pub probe: bool,
    pub slot: Slot,
}

/// A send slot taken: given back with [`Scheduler::finished`] to the destination it was
/// taken from, whatever the webhook's URL says by then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub webhook_id: i64,
    destination: Destination,
    pub probe: bool,
    started_at: Timestamp,
}

pub struct Scheduler {
    limits: Limits,
    lanes: HashMap<i64, Lane>,
    in_flight: usize,
    destinations: HashMap<Destination, usize>,
    /// Counts dispatches, to serve the least recently served first.
    turn: u64,
    destination_turns: HashMap<Destination, u64>,
    /// Deliveries to give back to the store, each with when it is due.
    to_release: Vec<(Held, Timestamp)>,
    /// Test events among the deliveries being loaded: each may probe a Failing webhook.
    loading_tests: Vec<i64>,
}

impl Scheduler {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            lanes: HashMap::new(),
            in_flight: 0,
            destinations: HashMap::new(),
            turn: 0,
            destination_turns: HashMap::new(),
            to_release: Vec::new(),
            loading_tests: Vec::new(),
        }
    }

    /// Follows this node's share of the limits as nodes come and go.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Deliveries held, in all.
    pub fn held(&self) -> usize {
        self.lanes.values().map(Lane::held).sum()
    }

    /// Takes fresh deliveries from ingest. A webhook holding all it may hold gives the
    /// excess back to the store, due now, for a later claim.
    pub fn hand_over(&mut self, fresh: impl IntoIterator<Item = Fresh>, now: Timestamp) {
        for delivery in fresh {
            let lane = self
                .lanes
                .entry(delivery.webhook_id)
                .or_insert_with(|| Lane::new(now));
            let refused = lane.is_paused(now)
                || (lane.circuit.is_open() && !delivery.test)
                || lane.held() >= self.limits.hold_per_webhook
                || (lane.is_backed_up(now) && lane.held() >= self.limits.held_when_backed_up());
            if refused {
                let due = lane
                    .paused_until
                    .filter(|until| *until > now)
                    .unwrap_or(now);
                self.to_release
                    .push((held(delivery.id, delivery.lease), due));
            } else {
                let since = delivery.lease.minus(self.limits.lease);
                lane.fresh.push_back((delivery, since));
            }
        }
    }

    /// Fresh deliveries to load now: of webhooks that can send soon, as many as they will
    /// send shortly, at most `max`.
    pub fn take_loads(&mut self, max: usize, now: Timestamp) -> Vec<i64> {
        let mut ids = Vec::new();
        for lane in self.lanes.values_mut() {
            if lane.is_paused(now) {
                continue;
            }
            let wanted = self.limits.per_webhook * LOAD_AHEAD;
            while ids.len() < max && lane.ready.len() + lane.loading < wanted {
                let Some((fresh, _)) = lane.fresh.pop_front() else {
                    break;
                };
                lane.loading += 1;
                ids.push(fresh.id);
                if fresh.test {
                    self.loading_tests.push(fresh.id);
                }
            }
        }
        ids
    }

    /// The deliveries asked for with the last [`Scheduler::take_loads`], as loaded. Those not
    /// found (their webhook switched off or deleted meanwhile) are done with.
    pub fn loaded(&mut self, found: Vec<Claimed>, now: Timestamp) {
        for lane in self.lanes.values_mut() {
            lane.loading = 0;
        }
        let tests = std::mem::take(&mut self.loading_tests);
        for delivery in found {
            let test = tests.contains(&delivery.id);
            self.take(delivery, test, now);
        }
    }

    /// Claimed deliveries from the store.
    pub fn claimed(&mut self, claimed: Vec<Claimed>, now: Timestamp) {
        for delivery in claimed {
            self.take(delivery, false, now);
        }
    }

    fn take(&mut self, delivery: Claimed, test: bool, now: Timestamp) {
        let lane = self
            .lanes
            .entry(delivery.webhook_id)
            .or_insert_with(|| Lane::new(now));
        lane.learn(&delivery.receiver, now);
        lane.destination = Some(destination(&delivery.url));
        let keep = match &lane.circuit {
            Circuit::Closed { .. } => !lane.is_paused(now),
            Circuit::Open { probing, .. } => {
                (delivery.probe || test)
                    && !probing
                    && !lane.ready.iter().any(|(queued, _)| queued.probe)
            }
        };
        if keep {
            let mut delivery = delivery;
            delivery.probe |= lane.circuit.is_open();
            let since = delivery.lease.minus(self.limits.lease);
            lane.ready.push_back((delivery, since));
        } else {
            let due = lane
                .paused_until
                .filter(|until| *until > now)
                .unwrap_or(now);
            self.to_release
                .push((held(delivery.id, delivery.lease), due));
        }
    }

    /// Webhooks a claim should pass over: this process holds enough of theirs, or they are
    /// paused here.
    pub fn busy(&self, now: Timestamp) -> Vec<i64> {
        self.lanes
            .iter()
            .filter(|(_, lane)| {
                lane.held() >= self.limits.claim_per_webhook
                    || lane.is_paused(now)
                    || lane.is_backed_up(now)
                    || lane.circuit.is_probing()
            })
            .map(|(id, _)| *id)
            .collect()
    }

    /// Deliveries to give back to the store, each with when it is due.
    pub fn take_releases(&mut self, now: Timestamp) -> Vec<(Held, Timestamp)> {
        let hold_at_most = self.limits.hold_at_most;
        for lane in self.lanes.values_mut() {
            let before = self.to_release.len();
            while let Some((fresh, _)) = lane
                .fresh
                .front()
                .filter(|(_, since)| since.plus(hold_at_most) < now)
            {
                self.to_release.push((held(fresh.id, fresh.lease), now));
                lane.fresh.pop_front();
            }
            while let Some((delivery, _)) = lane
                .ready
                .front()
                .filter(|(_, since)| since.plus(hold_at_most) < now)
            {
                self.to_release
                    .push((held(delivery.id, delivery.lease), now));
                lane.ready.pop_front();
            }
            if self.to_release.len() > before {
                lane.backed_up_until = Some(now.plus(hold_at_most));
            }
        }
        // An idle lane is forgotten (the store keeps its state) once its rate cap and its
        // circuit have nothing left to remember.
        let nodes = self.limits.nodes;
        self.lanes.retain(|_, lane| {
            !lane.is_idle()
                || lane.is_paused(now)
                || lane.is_backed_up(now)
                || lane.holds_back(now, nodes)
                || lane.remembers_failures()
        });
        // A destination's turn is kept while a lane goes there or a send of it is under way.
        let known: std::collections::HashSet<&Destination> = self
            .lanes
            .values()
            .filter_map(|lane| lane.destination.as_ref())
            .chain(self.destinations.keys())
            .collect();
        self.destination_turns
            .retain(|destination, _| known.contains(destination));
        std::mem::take(&mut self.to_release)
    }

    /// Everything held and not sending, for a shutdown.
    pub fn release_all(&mut self, now: Timestamp) -> Vec<(Held, Timestamp)> {
        for lane in self.lanes.values_mut() {
            let fresh = lane.fresh.drain(..).map(|(f, _)| held(f.id, f.lease));
            let ready = lane.ready.drain(..).map(|(d, _)| held(d.id, d.lease));
            self.to_release
                .extend(fresh.chain(ready).map(|held| (held, now)));
        }
        std::mem::take(&mut self.to_release)
    }

    /// When something held becomes sendable or must go back: a pause's end, the rate cap's
    /// next token, a held delivery's last moment, a send turning slow (which may free room
    /// at its destination). Never a moment already past: that would spin.
    pub fn next_wake(&self, now: Timestamp) -> Option<Timestamp> {
        let hold_at_most = self.limits.hold_at_most;
        let waiting = self.lanes.values().any(|lane| !lane.ready.is_empty());
        let turning_slow = self
            .lanes
            .values()
            .filter(|_| waiting)
            .filter_map(|lane| lane.turns_slow_at(now));
        self.lanes
            .values()
            .filter(|lane| lane.held() > 0)
            .flat_map(|lane| {
                let oldest = lane
                    .fresh
                    .front()
                    .map(|(_, since)| *since)
                    .into_iter()
                    .chain(lane.ready.front().map(|(_, since)| *since))
                    .min()
                    .map(|since| since.plus(hold_at_most).plus(Duration::from_millis(1)));
                let ready = !lane.ready.is_empty();
                [
                    lane.paused_until.filter(|_| ready),
                    lane.next_token_at(self.limits.nodes).filter(|_| ready),
                    oldest,
                ]
            })
            .flatten()
            .chain(turning_slow)
            .filter(|at| *at > now)
            .min()
    }
}
