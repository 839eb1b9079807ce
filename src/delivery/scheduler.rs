//! Who sends next: the sender's deliveries in hand, one lane per webhook, and the rules that
//! keep a broken receiver from costing its neighbours anything (SPEC §5 "Isolation").
//!
//! - **Fair slots.** Free send slots go round-robin to destinations (scheme, host, port), and
//!   within a destination to its webhooks, the one served longest ago first. No destination
//!   holds more than its share of the slots, nor a webhook more than its share of its
//!   destination, and each share leaves room for one more: a newcomer always finds a slot,
//!   however many sends hang elsewhere.
//! - **Failing webhooks.** [`FAILING_AFTER`] receiver failures in a row (timeouts, connection
//!   errors, 5xx) open the circuit: the webhook's deliveries go back to the store, where they
//!   wait without spending tries, and one probe at a time tests the receiver on a backoff
//!   (claimed from the store, so nodes take turns). A success closes it; the backlog then
//!   leaves at the webhook's pace.
//! - **Back-pressure.** A 429 or 503 with `Retry-After` pauses the webhook, not only the one
//!   delivery; `max_per_second` caps its rate.
//! - **Leases.** Everything held here is claimed with a lease: what cannot start sending in
//!   time to finish within it goes back to the store instead.
//!
//! It reads no clock: every call is told the time, so tests step it through hours at once.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use super::sender::Tried;
use crate::clock::Timestamp;
use crate::db::delivery_queue::{Claimed, Failing, Fresh, ReceiverState, ReceiverVerdict};
use crate::domain::AttemptErrorCode;

/// Receiver failures in a row that make a webhook Failing: enough that a blip (one restart,
/// one slow request) does not, few enough that a dead receiver is found within seconds.
pub const FAILING_AFTER: i64 = 5;
/// The first probe of a Failing webhook after this; each failed probe doubles the wait...
const FIRST_PROBE: Duration = Duration::from_secs(5);
/// ...up to this, so a receiver back after a long outage is found within minutes.
const LONGEST_PROBE_WAIT: Duration = Duration::from_secs(10 * 60);
/// The longest pause a receiver's `Retry-After` buys: a receiver may ask for patience, not
/// to be forgotten.
pub const LONGEST_PAUSE: Duration = Duration::from_secs(60 * 60);
/// Our own view of a Failing webhook wins over what the store said this soon after we saw
/// it fail: the store hears of it with the next batch of outcomes.
const OPENING_SETTLES: Duration = Duration::from_secs(2);
/// Deliveries of one webhook loaded ahead of its free slots, so a load serves many sends.
const LOAD_AHEAD: usize = 2;

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
    /// A delivery held longer than this is given back instead of sent: a send started later
    /// might outlive its lease.
    pub hold_at_most: Duration,
    /// Deliveries of one webhook held at most (loaded and not), beyond those in flight.
    pub hold_per_webhook: usize,
    /// Deliveries of one webhook a claim takes at most; a webhook holding as many is
    /// passed over by claims until it has sent them.
    pub claim_per_webhook: usize,
}

/// A delivery to send now.
pub struct Send {
    pub delivery: Claimed,
    pub probe: bool,
}

/// Where a webhook's sends go: one neighbour however many webhooks share it.
type Destination = String;

pub struct Scheduler {
    limits: Limits,
    lanes: HashMap<i64, Lane>,
    in_flight: usize,
    destinations: HashMap<Destination, usize>,
    /// Counts dispatches, to serve the least recently served first.
    turn: u64,
    destination_turns: HashMap<Destination, u64>,
    /// Deliveries to give back to the store, each with when it is due.
    to_release: Vec<(i64, Timestamp)>,
    /// Test events among the deliveries being loaded: each may probe a Failing webhook.
    loading_tests: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq)]
enum Circuit {
    Closed {
        failures: i64,
    },
    Open {
        since: Timestamp,
        /// When this process saw it open (or learnt of it).
        seen_at: Timestamp,
        probes_failed: u32,
        next_probe_at: Timestamp,
        probing: bool,
    },
}

struct Lane {
    destination: Option<Destination>,
    /// Handed over fresh, not loaded yet, with when they were.
    fresh: VecDeque<(Fresh, Timestamp)>,
    loading: usize,
    /// Loaded and ready, with when each was claimed or handed over.
    ready: VecDeque<(Claimed, Timestamp)>,
    in_flight: usize,
    circuit: Circuit,
    paused_until: Option<Timestamp>,
    max_per_second: Option<i64>,
    /// Sends allowed now under `max_per_second`, and when that was counted.
    tokens: f64,
    tokens_at: Timestamp,
    last_turn: u64,
    /// Held deliveries went back unsent, its receiver slower than its intake: until then it
    /// holds only what it is about to send, and claims pass it over.
    backed_up_until: Option<Timestamp>,
}

impl Lane {
    fn new(now: Timestamp) -> Self {
        Self {
            destination: None,
            fresh: VecDeque::new(),
            loading: 0,
            ready: VecDeque::new(),
            in_flight: 0,
            circuit: Circuit::Closed { failures: 0 },
            paused_until: None,
            max_per_second: None,
            tokens: 1.0,
            tokens_at: now,
            last_turn: 0,
            backed_up_until: None,
        }
    }

    fn is_backed_up(&self, now: Timestamp) -> bool {
        self.backed_up_until.is_some_and(|until| until > now)
    }

    fn held(&self) -> usize {
        self.fresh.len() + self.loading + self.ready.len()
    }

    fn is_idle(&self) -> bool {
        self.held() == 0 && self.in_flight == 0
    }

    fn is_paused(&self, now: Timestamp) -> bool {
        self.paused_until.is_some_and(|until| until > now)
    }

    fn is_open(&self) -> bool {
        matches!(self.circuit, Circuit::Open { .. })
    }

    /// This lane's sends per second on this node, if capped.
    fn rate(&self, nodes: usize) -> Option<f64> {
        self.max_per_second
            .map(|max| (max.max(1) as f64 / nodes.max(1) as f64).max(0.01))
    }

    fn refill(&mut self, now: Timestamp, nodes: usize) {
        if let Some(rate) = self.rate(nodes) {
            let elapsed = self.tokens_at.until(now).as_secs_f64();
            // A tenth of a second's worth may go at once, and at least one.
            let burst = (rate / 10.0).max(1.0);
            self.tokens = (self.tokens + elapsed * rate).min(burst);
        }
        self.tokens_at = self.tokens_at.max(now);
    }

    /// Whether the rate cap would still hold a send back at `now`.
    fn holds_back(&self, now: Timestamp, nodes: usize) -> bool {
        self.rate(nodes).is_some_and(|rate| {
            let elapsed = self.tokens_at.until(now).as_secs_f64();
            self.tokens + elapsed * rate < (rate / 10.0).max(1.0)
        })
    }

    /// When the rate cap lets the next send go, if it holds one back now.
    fn next_token_at(&self, nodes: usize) -> Option<Timestamp> {
        let rate = self.rate(nodes)?;
        (self.tokens < 1.0).then(|| {
            self.tokens_at
                .plus(Duration::from_secs_f64((1.0 - self.tokens) / rate))
        })
    }

    /// Takes in what the store says of the receiver as a delivery arrives at `now`.
    fn learn(&mut self, state: &ReceiverState, now: Timestamp) {
        self.paused_until = self.paused_until.max(state.paused_until);
        self.max_per_second = state.max_per_second;
        match (&self.circuit, state.failing) {
            (Circuit::Closed { failures }, false) => {
                self.circuit = Circuit::Closed {
                    failures: (*failures).max(state.consecutive_failures),
                };
            }
            (Circuit::Closed { .. }, true) => {
                let probes_failed = state.consecutive_failures - FAILING_AFTER;
                self.circuit = Circuit::Open {
                    since: now,
                    seen_at: now,
                    probes_failed: u32::try_from(probes_failed).unwrap_or(0),
                    next_probe_at: now,
                    probing: false,
                };
            }
            (Circuit::Open { seen_at, .. }, false) if seen_at.plus(OPENING_SETTLES) < now => {
                // Another node's probe succeeded.
                self.circuit = Circuit::Closed { failures: 0 };
            }
            (Circuit::Open { .. }, _) => {}
        }
    }
}

/// The wait before the probe after `failed` failed probes.
pub fn probe_wait(failed: u32) -> Duration {
    FIRST_PROBE
        .saturating_mul(2u32.saturating_pow(failed))
        .min(LONGEST_PROBE_WAIT)
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
                || (lane.is_open() && !delivery.test)
                || lane.held() >= self.limits.hold_per_webhook
                || (lane.is_backed_up(now) && lane.held() >= self.limits.per_webhook * LOAD_AHEAD);
            if refused {
                let due = lane
                    .paused_until
                    .filter(|until| *until > now)
                    .unwrap_or(now);
                self.to_release.push((delivery.id, due));
            } else {
                lane.fresh.push_back((delivery, now));
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
            delivery.probe |= lane.is_open();
            lane.ready.push_back((delivery, now));
        } else {
            let due = lane
                .paused_until
                .filter(|until| *until > now)
                .unwrap_or(now);
            self.to_release.push((delivery.id, due));
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
                    || matches!(lane.circuit, Circuit::Open { probing: true, .. })
            })
            .map(|(id, _)| *id)
            .collect()
    }

    /// Deliveries to give back to the store, each with when it is due.
    pub fn take_releases(&mut self, now: Timestamp) -> Vec<(i64, Timestamp)> {
        let hold_at_most = self.limits.hold_at_most;
        for lane in self.lanes.values_mut() {
            let before = self.to_release.len();
            while let Some((fresh, _)) = lane
                .fresh
                .front()
                .filter(|(_, since)| since.plus(hold_at_most) < now)
            {
                self.to_release.push((fresh.id, now));
                lane.fresh.pop_front();
            }
            while let Some((delivery, _)) = lane
                .ready
                .front()
                .filter(|(_, since)| since.plus(hold_at_most) < now)
            {
                self.to_release.push((delivery.id, now));
                lane.ready.pop_front();
            }
            if self.to_release.len() > before {
                lane.backed_up_until = Some(now.plus(hold_at_most));
            }
        }
        // An idle lane is forgotten (the store keeps its state) once its rate cap has
        // nothing left to remember.
        let nodes = self.limits.nodes;
        self.lanes.retain(|_, lane| {
            !lane.is_idle()
                || lane.is_paused(now)
                || lane.is_backed_up(now)
                || lane.holds_back(now, nodes)
        });
        std::mem::take(&mut self.to_release)
    }

    /// Everything held and not sending, for a shutdown.
    pub fn release_all(&mut self, now: Timestamp) -> Vec<(i64, Timestamp)> {
        for lane in self.lanes.values_mut() {
            let fresh = lane.fresh.drain(..).map(|(fresh, _)| fresh.id);
            let ready = lane.ready.drain(..).map(|(delivery, _)| delivery.id);
            self.to_release
                .extend(fresh.chain(ready).map(|id| (id, now)));
        }
        std::mem::take(&mut self.to_release)
    }

    /// The sends to start now, as many as the slots allow, shared fairly.
    pub fn dispatch(&mut self, now: Timestamp) -> Vec<Send> {
        let mut sends = Vec::new();
        if self.in_flight >= self.limits.concurrency {
            return sends;
        }
        let nodes = self.limits.nodes;
        let mut by_destination: BTreeMap<Destination, Vec<i64>> = BTreeMap::new();
        let mut lanes_busy: HashMap<Destination, usize> = HashMap::new();
        for (id, lane) in &mut self.lanes {
            let Some(destination) = lane.destination.clone() else {
                continue;
            };
            let wants = !lane.ready.is_empty();
            if wants || lane.in_flight > 0 {
                *lanes_busy.entry(destination.clone()).or_default() += 1;
            }
            if wants && !lane.is_paused(now) {
                lane.refill(now, nodes);
                by_destination.entry(destination).or_default().push(*id);
            }
        }
        // Every webhook gets a fair share of its destination's fair share of the slots at
        // once; beyond that, slots go only while a share stays free for one more
        // neighbour, in the destination and over all, so a newcomer finds a slot at once (as
        // long as fewer are busy than there are slots).
        let destination_share = self
            .limits
            .per_destination
            .min((self.limits.concurrency / (lanes_busy.len() + 1)).max(1));
        let mut order: Vec<(u64, Destination, Vec<i64>)> = by_destination
            .into_iter()
            .map(|(destination, lanes)| {
                let turn = self
                    .destination_turns
                    .get(&destination)
                    .copied()
                    .unwrap_or(0);
                (turn, destination, lanes)
            })
            .collect();
        order.sort_by_key(|(turn, _, _)| *turn);
        loop {
            let mut progress = false;
            for (_, destination, lanes) in &order {
                let free = self.limits.concurrency.saturating_sub(self.in_flight);
                if free == 0 {
                    return sends;
                }
                let sending = self.destinations.get(destination).copied().unwrap_or(0);
                let room = self.limits.per_destination.saturating_sub(sending);
                if room == 0 {
                    continue;
                }
                let lane_share = self
                    .limits
                    .per_webhook
                    .min((destination_share / (lanes_busy[destination] + 1)).max(1));
                let spare =
                    (sending < destination_share || free > destination_share) && room > lane_share;
                let next = lanes
                    .iter()
                    .filter_map(|id| {
                        let lane = &self.lanes[id];
                        let beyond_share = lane.in_flight >= lane_share;
                        let limit = if spare {
                            self.limits.per_webhook
                        } else {
                            lane_share
                        };
                        lane.can_send(limit)
                            .then_some(((beyond_share, lane.last_turn), *id))
                    })
                    .min()
                    .map(|(_, id)| id);
                if let Some(webhook_id) = next {
                    sends.push(self.start(webhook_id, destination));
                    progress = true;
                }
            }
            if !progress {
                return sends;
            }
        }
    }

    fn start(&mut self, webhook_id: i64, destination: &str) -> Send {
        self.turn += 1;
        self.in_flight += 1;
        *self.destinations.entry(destination.to_owned()).or_default() += 1;
        self.destination_turns
            .insert(destination.to_owned(), self.turn);
        let lane = self
            .lanes
            .get_mut(&webhook_id)
            .expect("only lanes that can send are started");
        lane.last_turn = self.turn;
        lane.in_flight += 1;
        if lane.rate(self.limits.nodes).is_some() {
            lane.tokens -= 1.0;
        }
        let (delivery, _) = lane
            .ready
            .pop_front()
            .expect("a lane that can send holds one");
        let probe = delivery.probe;
        if let Circuit::Open { probing, .. } = &mut lane.circuit {
            *probing = true;
        }
        Send { delivery, probe }
    }

    /// A send finished: its slot is free, and what it says of the receiver decides the
    /// webhook's state. Returns what to record of the receiver.
    pub fn finished(
        &mut self,
        webhook_id: i64,
        url: &str,
        probe: bool,
        signal: Signal,
        now: Timestamp,
    ) -> ReceiverVerdict {
        self.in_flight = self.in_flight.saturating_sub(1);
        let destination = destination(url);
        if let Some(sending) = self.destinations.get_mut(&destination) {
            *sending = sending.saturating_sub(1);
            if *sending == 0 {
                self.destinations.remove(&destination);
            }
        }
        let lane = self
            .lanes
            .entry(webhook_id)
            .or_insert_with(|| Lane::new(now));
        lane.in_flight = lane.in_flight.saturating_sub(1);
        if probe && let Circuit::Open { probing, .. } = &mut lane.circuit {
            *probing = false;
        }
        match signal {
            Signal::NotReached => ReceiverVerdict::Neutral,
            Signal::Answered => {
                let counted = !matches!(lane.circuit, Circuit::Closed { failures: 0 });
                lane.circuit = Circuit::Closed { failures: 0 };
                if counted {
                    ReceiverVerdict::Healthy
                } else {
                    ReceiverVerdict::Neutral
                }
            }
            Signal::Throttled { until } => {
                lane.paused_until = lane.paused_until.max(Some(until));
                self.give_back_all(webhook_id, until);
                ReceiverVerdict::Paused { until }
            }
            Signal::Failed { code, reason } => {
                self.receiver_failed(webhook_id, probe, code, reason, now)
            }
        }
    }

    fn receiver_failed(
        &mut self,
        webhook_id: i64,
        probe: bool,
        code: AttemptErrorCode,
        reason: String,
        now: Timestamp,
    ) -> ReceiverVerdict {
        let lane = self
            .lanes
            .get_mut(&webhook_id)
            .expect("the lane of a finished send exists");
        let failing = match &mut lane.circuit {
            Circuit::Closed { failures } => {
                *failures += 1;
                if *failures < FAILING_AFTER {
                    return ReceiverVerdict::Unhealthy { failing: None };
                }
                let next_probe_at = now.plus(probe_wait(0));
                lane.circuit = Circuit::Open {
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
            Circuit::Open {
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
        self.give_back_all(webhook_id, now);
        ReceiverVerdict::Unhealthy {
            failing: Some(failing),
        }
    }

    /// A paused or Failing webhook's deliveries wait in the store, due at `due`.
    fn give_back_all(&mut self, webhook_id: i64, due: Timestamp) {
        if let Some(lane) = self.lanes.get_mut(&webhook_id) {
            let fresh = lane.fresh.drain(..).map(|(fresh, _)| fresh.id);
            let ready = lane.ready.drain(..).map(|(delivery, _)| delivery.id);
            self.to_release
                .extend(fresh.chain(ready).map(|id| (id, due)));
        }
    }

    /// When something held becomes sendable or must go back: a pause's end, the rate cap's
    /// next token, a held delivery's last moment.
    pub fn next_wake(&self) -> Option<Timestamp> {
        let hold_at_most = self.limits.hold_at_most;
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
            .min()
    }
}

impl Lane {
    fn can_send(&self, share: usize) -> bool {
        let Some((front, _)) = self.ready.front() else {
            return false;
        };
        let allowed = match &self.circuit {
            Circuit::Closed { .. } => self.in_flight < share,
            Circuit::Open { probing, .. } => front.probe && !probing,
        };
        allowed && (self.max_per_second.is_none() || self.tokens >= 1.0)
    }
}

/// `scheme://host:port` of a URL: many webhooks on one host are one neighbour.
fn destination(url: &str) -> Destination {
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

#[cfg(test)]
mod tests {
    use super::*;

    const START: Timestamp = Timestamp::from_unix_ms(1_800_000_000_000);

    fn at(ms: u64) -> Timestamp {
        START.plus(Duration::from_millis(ms))
    }

    fn limits() -> Limits {
        Limits {
            concurrency: 64,
            per_webhook: 8,
            per_destination: 16,
            nodes: 1,
            hold_at_most: Duration::from_secs(17),
            hold_per_webhook: 100,
            claim_per_webhook: 64,
        }
    }

    fn delivery(id: i64, webhook_id: i64, url: &str) -> Claimed {
        Claimed {
            id,
            webhook_id,
            attempts_in_schedule: 0,
            url: url.to_owned(),
            api_key: None,
            signing_secret: String::new(),
            previous_signing_secret: None,
            event_type: "order.purchased".into(),
            event_time: START,
            current_context: "{}".into(),
            data: "{}".into(),
            receiver: ReceiverState {
                failing: false,
                paused_until: None,
                max_per_second: None,
                consecutive_failures: 0,
            },
            probe: false,
        }
    }

    /// `count` deliveries for each of these webhooks, claimed at `now`.
    fn claim(scheduler: &mut Scheduler, webhooks: &[(i64, &str)], count: i64, now: Timestamp) {
        let claimed = webhooks
            .iter()
            .flat_map(|(webhook, url)| {
                (0..count).map(move |n| delivery(webhook * 1000 + n, *webhook, url))
            })
            .collect();
        scheduler.claimed(claimed, now);
    }

    fn sent_to(sends: &[Send], webhook: i64) -> usize {
        sends
            .iter()
            .filter(|send| send.delivery.webhook_id == webhook)
            .count()
    }

    fn finish(
        scheduler: &mut Scheduler,
        webhook: i64,
        signal: Signal,
        now: Timestamp,
    ) -> ReceiverVerdict {
        scheduler.finished(webhook, "https://dead.example:443/x", false, signal, now)
    }

    fn timeout() -> Signal {
        Signal::Failed {
            code: AttemptErrorCode::Timeout,
            reason: "No answer within the delivery timeout.".into(),
        }
    }

    #[test]
    fn a_hanging_host_holds_its_share_and_a_newcomer_still_finds_a_slot() {
        let mut scheduler = Scheduler::new(limits());
        let hanging: Vec<(i64, &str)> = (1..=40).map(|id| (id, "https://dead.example/x")).collect();
        claim(&mut scheduler, &hanging, 10, START);
        let first = scheduler.dispatch(START);
        assert!(
            first.len() <= 16,
            "one destination, at most its share: {}",
            first.len()
        );

        claim(
            &mut scheduler,
            &[(99, "https://healthy.example/hooks")],
            3,
            at(10),
        );
        let next = scheduler.dispatch(at(10));
        assert_eq!(sent_to(&next, 99), 3, "the healthy webhook goes at once");
    }

    #[test]
    fn many_hanging_hosts_still_leave_room_for_one_more() {
        let mut scheduler = Scheduler::new(limits());
        let urls: Vec<String> = (1..=30)
            .map(|n| format!("https://dead{n}.example/"))
            .collect();
        let hanging: Vec<(i64, &str)> = urls
            .iter()
            .enumerate()
            .map(|(n, url)| (n as i64 + 1, url.as_str()))
            .collect();
        claim(&mut scheduler, &hanging, 5, START);
        let held = scheduler.dispatch(START).len();
        assert!(held < 64, "hanging hosts took every slot ({held})");

        claim(
            &mut scheduler,
            &[(999, "https://healthy.example/")],
            1,
            at(5),
        );
        assert_eq!(sent_to(&scheduler.dispatch(at(5)), 999), 1);
    }

    #[test]
    fn webhooks_sharing_a_hanging_host_leave_room_for_a_healthy_neighbour_on_it() {
        let mut scheduler = Scheduler::new(Limits {
            per_destination: 64,
            ..limits()
        });
        let hanging: Vec<(i64, &str)> = (1..=30)
            .map(|id| (id, "https://shared.example/slow"))
            .collect();
        claim(&mut scheduler, &hanging, 4, START);
        scheduler.dispatch(START);
        claim(
            &mut scheduler,
            &[(77, "https://shared.example/fast")],
            1,
            at(1),
        );
        assert_eq!(sent_to(&scheduler.dispatch(at(1)), 77), 1);
    }

    #[test]
    fn free_slots_go_round_robin_so_one_busy_webhook_does_not_take_them_all() {
        let mut scheduler = Scheduler::new(Limits {
            concurrency: 6,
            ..limits()
        });
        claim(
            &mut scheduler,
            &[(1, "https://a.example/"), (2, "https://b.example/")],
            10,
            START,
        );
        let sends = scheduler.dispatch(START);
        assert_eq!((sent_to(&sends, 1), sent_to(&sends, 2)), (2, 2));
    }

    #[test]
    fn a_run_of_failures_makes_a_webhook_failing_and_its_queue_waits_in_the_store() {
        let mut scheduler = Scheduler::new(limits());
        claim(&mut scheduler, &[(1, "https://dead.example/x")], 20, START);
        let sends = scheduler.dispatch(START);
        assert_eq!(sends.len(), 8, "its share of the slots");
        for n in 1..FAILING_AFTER {
            let verdict = finish(&mut scheduler, 1, timeout(), at(n as u64));
            assert_eq!(verdict, ReceiverVerdict::Unhealthy { failing: None });
        }
        let verdict = finish(&mut scheduler, 1, timeout(), at(15_000));
        let ReceiverVerdict::Unhealthy {
            failing: Some(failing),
        } = verdict
        else {
            panic!("the fifth failure in a row makes it Failing: {verdict:?}");
        };
        assert_eq!(failing.since, at(15_000));
        assert_eq!(failing.next_probe_at, at(15_000).plus(probe_wait(0)));
        let released = scheduler.take_releases(at(15_000));
        assert_eq!(released.len(), 12, "the queue goes back, unsent");
        assert!(scheduler.dispatch(at(15_001)).is_empty());

        // Fresh work waits too; a probe claimed from the store goes alone.
        scheduler.hand_over(
            [Fresh {
                id: 5000,
                webhook_id: 1,
                test: false,
            }],
            at(16_000),
        );
        assert_eq!(
            scheduler.take_releases(at(16_000)),
            vec![(5000, at(16_000))]
        );
        let mut probe = delivery(6000, 1, "https://dead.example/x");
        probe.probe = true;
        probe.receiver.failing = true;
        scheduler.claimed(vec![probe], at(20_000));
        let sends = scheduler.dispatch(at(20_000));
        assert_eq!(sends.len(), 1);
        assert!(sends[0].probe);
    }

    #[test]
    fn a_failed_probe_waits_longer_and_a_successful_one_closes_the_circuit() {
        let mut scheduler = Scheduler::new(limits());
        claim(&mut scheduler, &[(1, "https://dead.example/x")], 5, START);
        scheduler.dispatch(START);
        for _ in 0..FAILING_AFTER {
            finish(&mut scheduler, 1, timeout(), at(1));
        }
        let mut probe = delivery(7000, 1, "https://dead.example/x");
        probe.probe = true;
        probe.receiver.failing = true;
        scheduler.claimed(vec![probe], at(6_000));
        scheduler.dispatch(at(6_000));
        let verdict = scheduler.finished(1, "https://dead.example/x", true, timeout(), at(6_100));
        let ReceiverVerdict::Unhealthy {
            failing: Some(failing),
        } = verdict
        else {
            panic!("still failing: {verdict:?}");
        };
        assert_eq!(failing.since, at(1), "failing since the first time");
        assert_eq!(failing.next_probe_at, at(6_100).plus(probe_wait(1)));
        assert!(probe_wait(1) > probe_wait(0) && probe_wait(30) == LONGEST_PROBE_WAIT);

        let mut probe = delivery(7001, 1, "https://dead.example/x");
        probe.probe = true;
        probe.receiver.failing = true;
        scheduler.claimed(vec![probe], at(20_000));
        scheduler.dispatch(at(20_000));
        let verdict = scheduler.finished(
            1,
            "https://dead.example/x",
            true,
            Signal::Answered,
            at(20_050),
        );
        assert_eq!(verdict, ReceiverVerdict::Healthy);
        claim(
            &mut scheduler,
            &[(1, "https://dead.example/x")],
            20,
            at(20_060),
        );
        assert_eq!(
            scheduler.dispatch(at(20_060)).len(),
            8,
            "the backlog leaves at its pace"
        );
    }

    #[test]
    fn a_receiver_asking_for_a_pause_gets_nothing_until_then() {
        let mut scheduler = Scheduler::new(limits());
        claim(&mut scheduler, &[(1, "https://busy.example/")], 4, START);
        assert_eq!(scheduler.dispatch(START).len(), 4);
        let until = at(3_000);
        let verdict = finish(&mut scheduler, 1, Signal::Throttled { until }, at(10));
        assert_eq!(verdict, ReceiverVerdict::Paused { until });
        claim(&mut scheduler, &[(1, "https://busy.example/")], 2, at(20));
        assert!(scheduler.dispatch(at(2_999)).is_empty());
        assert!(
            scheduler
                .take_releases(at(2_999))
                .iter()
                .all(|(_, due)| *due == until),
            "what arrives meanwhile waits in the store until the pause ends"
        );
        assert!(
            scheduler.busy(at(2_999)).contains(&1),
            "claims pass it over"
        );
        claim(
            &mut scheduler,
            &[(1, "https://busy.example/")],
            2,
            at(3_000),
        );
        assert_eq!(scheduler.dispatch(at(3_000)).len(), 2);
    }

    #[test]
    fn max_per_second_spaces_the_sends() {
        let mut scheduler = Scheduler::new(limits());
        let mut capped: Vec<Claimed> = (0..10)
            .map(|n| delivery(n, 1, "https://slow.example/"))
            .collect();
        for delivery in &mut capped {
            delivery.receiver.max_per_second = Some(2);
        }
        scheduler.claimed(capped, START);
        assert_eq!(scheduler.dispatch(START).len(), 1);
        assert!(scheduler.dispatch(at(100)).is_empty());
        assert_eq!(scheduler.next_wake(), Some(at(500)));
        assert_eq!(scheduler.dispatch(at(500)).len(), 1);
        assert_eq!(scheduler.dispatch(at(1_000)).len(), 1);
    }

    #[test]
    fn deliveries_held_past_their_time_go_back_unsent() {
        let mut scheduler = Scheduler::new(Limits {
            per_webhook: 1,
            ..limits()
        });
        claim(&mut scheduler, &[(1, "https://slow.example/")], 3, START);
        assert_eq!(scheduler.dispatch(START).len(), 1);
        assert!(scheduler.take_releases(at(17_000)).is_empty());
        assert_eq!(scheduler.take_releases(at(17_001)).len(), 2);

        // Slower than its intake: it keeps only what it is about to send, and claims pass
        // it over for a while.
        assert!(scheduler.busy(at(17_002)).contains(&1));
        let fresh = (0..5).map(|id| Fresh {
            id,
            webhook_id: 1,
            test: false,
        });
        scheduler.hand_over(fresh, at(17_002));
        assert_eq!(scheduler.take_releases(at(17_002)).len(), 3);
    }

    #[test]
    fn a_refused_address_says_nothing_about_the_receiver() {
        let mut scheduler = Scheduler::new(limits());
        claim(&mut scheduler, &[(1, "https://dead.example/x")], 10, START);
        scheduler.dispatch(START);
        for n in 0..8 {
            assert_eq!(
                finish(&mut scheduler, 1, Signal::NotReached, at(n)),
                ReceiverVerdict::Neutral
            );
        }
        assert_eq!(scheduler.dispatch(at(10)).len(), 2, "not Failing");
    }
}
