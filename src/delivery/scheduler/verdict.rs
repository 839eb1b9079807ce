//! A finished send: its slot comes back, and the lane's circuit judges the receiver; a
//! pause or a Failing webhook sends what the lane holds back to the store.

use super::lane::Lane;
use super::{Scheduler, Slot};
use crate::clock::Timestamp;
use crate::domain::receiver_health::{ReceiverVerdict, Signal};

impl Scheduler {
    /// A send finished: its slot goes back to the destination it was taken from, and what
    /// it says of the receiver decides the webhook's state. Returns what to record of the
    /// receiver.
    pub fn finished(&mut self, slot: &Slot, signal: Signal, now: Timestamp) -> ReceiverVerdict {
        let webhook_id = slot.webhook_id;
        self.in_flight = self.in_flight.saturating_sub(1);
        if let Some(sending) = self.destinations.get_mut(&slot.destination) {
            *sending = sending.saturating_sub(1);
            if *sending == 0 {
                self.destinations.remove(&slot.destination);
            }
        }
        let lane = self
            .lanes
            .entry(webhook_id)
            .or_insert_with(|| Lane::new(now));
        if let Some(at) = lane
            .sending
            .iter()
            .position(|since| *since == slot.started_at)
        {
            lane.sending.swap_remove(at);
        }
        let verdict = lane.circuit.after(signal, slot.probe, now);
        match &verdict {
            ReceiverVerdict::Paused { until } => {
                lane.paused_until = lane.paused_until.max(Some(*until));
                self.give_back_all(webhook_id, *until);
            }
            ReceiverVerdict::Unhealthy { failing: Some(_) } => self.give_back_all(webhook_id, now),
            _ => {}
        }
        verdict
    }

    /// A paused or Failing webhook's deliveries wait in the store, due at `due`.
    fn give_back_all(&mut self, webhook_id: i64, due: Timestamp) {
        if let Some(lane) = self.lanes.get_mut(&webhook_id) {
            let fresh = lane
                .fresh
                .drain(..)
                .map(|(f, _)| super::held(f.id, f.lease));
            let ready = lane
                .ready
                .drain(..)
                .map(|(d, _)| super::held(d.id, d.lease));
            self.to_release
                .extend(fresh.chain(ready).map(|held| (held, due)));
        }
    }
}
