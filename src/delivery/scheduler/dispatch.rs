//! Sharing the free send slots fairly among destinations and their webhooks.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::lane::Destination;
use super::{Scheduler, Send, Slot};
use crate::clock::Timestamp;

/// What a destination's slots hold now, and what a new send may take. Suspect webhooks'
/// sends count against a healthy webhook's room only up to a quarter of the cap (at most
/// twice the cap in all); suspects themselves keep to that quarter while a healthy webhook
/// waits there.
struct Room {
    /// Sends in flight there, as the slots were taken.
    sending: usize,
    /// Those of suspect webhooks (Failing, failing, or slow).
    suspect: usize,
}

impl Room {
    /// Suspect sends may hold this much of a destination, and count this much against
    /// everyone else's share of it.
    fn suspect_cap(cap: usize) -> usize {
        (cap / 4).max(1)
    }

    /// Slots a webhook that is not suspect may take.
    fn for_healthy(&self, cap: usize) -> usize {
        let suspect = self.suspect.min(self.sending);
        let counted = self.sending - suspect + suspect.min(Self::suspect_cap(cap));
        cap.saturating_sub(counted)
            .min((2 * cap).saturating_sub(self.sending))
    }

    /// Slots a suspect webhook may take: while a healthy neighbour waits there, within the
    /// suspects' quarter; else any of the cap, so slow receivers alone on a host keep
    /// their pace.
    fn for_suspect(&self, cap: usize, healthy_waiting: bool) -> usize {
        let free = cap.saturating_sub(self.sending);
        match healthy_waiting {
            true => free.min(Self::suspect_cap(cap).saturating_sub(self.suspect)),
            false => free,
        }
    }
}

impl Scheduler {
    /// The sends to start now, as many as the slots allow, shared fairly.
    pub fn dispatch(&mut self, now: Timestamp) -> Vec<Send> {
        let mut sends = Vec::new();
        if self.in_flight >= self.limits.concurrency {
            return sends;
        }
        let (by_destination, lanes_busy, mut suspect) = self.wanting(now);
        // Where a webhook that is not suspect has something to send: there, suspects keep
        // to their quarter.
        let healthy_waiting: HashSet<Destination> = by_destination
            .iter()
            .filter(|(_, lanes)| lanes.iter().any(|id| !self.lanes[id].is_suspect(now)))
            .map(|(destination, _)| destination.clone())
            .collect();
        // Every webhook gets a fair share of its destination's fair share of the slots at
        // once; beyond that, slots go only while a share stays free for one more
        // neighbour, in the destination and over all, so a newcomer finds a slot at once (as
        // long as fewer are busy than there are slots).
        let destination_share = self
            .limits
            .per_destination
            .min((self.limits.concurrency / (lanes_busy.len() + 1)).max(1));
        let cap = self.limits.per_destination;
        let order = self.in_turn_order(by_destination);
        loop {
            let mut progress = false;
            for (_, destination, lanes) in &order {
                let free = self.limits.concurrency.saturating_sub(self.in_flight);
                if free == 0 {
                    return sends;
                }
                let room = Room {
                    sending: self.destinations.get(destination).copied().unwrap_or(0),
                    suspect: suspect.get(destination).copied().unwrap_or(0),
                };
                let healthy_room = room.for_healthy(cap);
                let suspect_room = room.for_suspect(cap, healthy_waiting.contains(destination));
                if healthy_room == 0 && suspect_room == 0 {
                    continue;
                }
                let lane_share = self
                    .limits
                    .per_webhook
                    .min((destination_share / (lanes_busy[destination] + 1)).max(1));
                let spare = (room.sending < destination_share || free > destination_share)
                    && healthy_room > lane_share;
                let allowed = |is_suspect: bool| match is_suspect {
                    true => suspect_room > 0,
                    false => healthy_room > 0,
                };
                let next = self.next_lane(lanes, lane_share, spare, allowed, now);
                if let Some(webhook_id) = next {
                    if self.lanes[&webhook_id].is_suspect(now) {
                        *suspect.entry(destination.clone()).or_default() += 1;
                    }
                    sends.push(self.start(webhook_id, destination, now));
                    progress = true;
                }
            }
            if !progress {
                return sends;
            }
        }
    }

    /// The lanes with deliveries ready and not paused, by destination; per destination, how
    /// many lanes are busy (ready or sending), and how many sends of suspect lanes are in
    /// flight there.
    #[allow(clippy::type_complexity)]
    fn wanting(
        &mut self,
        now: Timestamp,
    ) -> (
        BTreeMap<Destination, Vec<i64>>,
        HashMap<Destination, usize>,
        HashMap<Destination, usize>,
    ) {
        let nodes = self.limits.nodes;
        let mut by_destination: BTreeMap<Destination, Vec<i64>> = BTreeMap::new();
        let mut lanes_busy: HashMap<Destination, usize> = HashMap::new();
        let mut suspect: HashMap<Destination, usize> = HashMap::new();
        for (id, lane) in &mut self.lanes {
            let Some(destination) = lane.destination.clone() else {
                continue;
            };
            let wants = !lane.ready.is_empty();
            if wants || lane.in_flight() > 0 {
                *lanes_busy.entry(destination.clone()).or_default() += 1;
            }
            if lane.in_flight() > 0 && lane.is_suspect(now) {
                *suspect.entry(destination.clone()).or_default() += lane.in_flight();
            }
            if wants && !lane.is_paused(now) {
                lane.refill(now, nodes);
                by_destination.entry(destination).or_default().push(*id);
            }
        }
        (by_destination, lanes_busy, suspect)
    }

    /// The destinations, the one served longest ago first.
    fn in_turn_order(
        &self,
        by_destination: BTreeMap<Destination, Vec<i64>>,
    ) -> Vec<(u64, Destination, Vec<i64>)> {
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
        order
    }

    /// Of a destination's lanes, the one to send next: healthy before suspect, within its
    /// share first, then the one served longest ago. `spare`: lanes may go beyond their
    /// share, up to the webhook cap. `allowed`: whether the destination has room for a
    /// suspect (`true`) or a healthy webhook's send.
    fn next_lane(
        &self,
        lanes: &[i64],
        lane_share: usize,
        spare: bool,
        allowed: impl Fn(bool) -> bool,
        now: Timestamp,
    ) -> Option<i64> {
        lanes
            .iter()
            .filter_map(|id| {
                let lane = &self.lanes[id];
                let suspect = lane.is_suspect(now);
                let beyond_share = lane.in_flight() >= lane_share;
                let limit = if spare && !suspect {
                    self.limits.per_webhook
                } else {
                    lane_share
                };
                (allowed(suspect) && lane.can_send(limit))
                    .then_some(((suspect, beyond_share, lane.last_turn), *id))
            })
            .min()
            .map(|(_, id)| id)
    }

    fn start(&mut self, webhook_id: i64, destination: &Destination, now: Timestamp) -> Send {
        self.turn += 1;
        self.in_flight += 1;
        *self.destinations.entry(destination.clone()).or_default() += 1;
        self.destination_turns
            .insert(destination.clone(), self.turn);
        let lane = self
            .lanes
            .get_mut(&webhook_id)
            .expect("only lanes that can send are started");
        lane.last_turn = self.turn;
        lane.sending.push(now);
        if lane.rate(self.limits.nodes).is_some() {
            lane.tokens -= 1.0;
        }
        let (delivery, _) = lane
            .ready
            .pop_front()
            .expect("a lane that can send holds one");
        let probe = delivery.probe;
        if probe {
            lane.circuit.probe_started();
        }
        Send {
            delivery,
            probe,
            slot: Slot {
                webhook_id,
                destination: destination.clone(),
                probe,
                started_at: now,
            },
        }
    }
}
