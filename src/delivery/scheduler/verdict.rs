//! What a finished send says about its receiver: a healthy answer, a failure that may make
//! the webhook Failing (and each failed probe pushes the next one back), or a pause.

use super::lane::{Circuit, FAILING_AFTER, Lane, probe_wait};
use super::signal::Signal;
use super::{Scheduler, Slot};
use crate::clock::Timestamp;
use crate::domain::AttemptErrorCode;
use crate::domain::queue::{Failing, ReceiverVerdict};

impl Scheduler {
    /// A send finished: its slot goes back to the destination it was taken from, and what
    /// it says of the receiver decides the webhook's state. Returns what to record of the
    /// receiver.
    pub fn finished(&mut self, slot: &Slot, signal: Signal, now: Timestamp) -> ReceiverVerdict {
        let (webhook_id, probe) = (slot.webhook_id, slot.probe);
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
