//! A destination shared by many webhooks, and slots that always go back where they came from.

use super::*;
use crate::delivery::scheduler::lane::SLOW_AFTER;

/// The server's default limits.
fn defaults() -> Limits {
    Limits {
        concurrency: 512,
        per_webhook: 8,
        per_destination: 128,
        ..limits()
    }
}

const SHARED: &str = "https://hooks.example/";

/// 200 webhooks on one host whose paths hang, and one healthy one (the last, so it is
/// served last among equals) on another path of that host.
fn shared_host() -> (Scheduler, Vec<(i64, String)>) {
    let mut scheduler = Scheduler::new(defaults());
    let hanging: Vec<(i64, String)> = (1..=200)
        .map(|id| (id, format!("{SHARED}hang/{id}")))
        .collect();
    let claimed: Vec<(i64, &str)> = hanging
        .iter()
        .map(|(id, url)| (*id, url.as_str()))
        .collect();
    claim(&mut scheduler, &claimed, 4, START);
    claim(
        &mut scheduler,
        &[(999, "https://hooks.example/healthy")],
        4,
        START,
    );
    (scheduler, hanging)
}

#[test]
fn a_healthy_webhook_beside_200_hanging_ones_on_its_host_sends_within_a_second() {
    let (mut scheduler, _) = shared_host();
    let first = scheduler.dispatch(START);
    assert!(
        first.len() <= 128,
        "the destination's cap holds: {}",
        first.len()
    );
    let waits_for = scheduler.next_wake(START).expect("a wake while it waits");
    assert!(waits_for <= START.plus(SLOW_AFTER), "{waits_for:?}");

    let mut healthy = sent_to(&first, 999);
    let mut now = START;
    while healthy == 0 && now < at(1_000) {
        now = scheduler.next_wake(now).expect("a wake while it waits");
        healthy += sent_to(&scheduler.dispatch(now), 999);
    }
    assert!(
        healthy > 0,
        "the healthy webhook sent nothing within a second"
    );
    assert!(now <= at(1_000), "{now:?}");
    let in_flight: usize = scheduler.destinations.values().sum();
    assert!(
        in_flight <= 256,
        "at most twice the cap in all: {in_flight}"
    );
}

#[test]
fn probes_of_failing_webhooks_on_a_host_leave_its_healthy_webhook_room() {
    let (mut scheduler, hanging) = shared_host();
    // The hanging webhooks timed out until each is Failing; their probes then hang too.
    let now = at(120_000);
    for (id, _) in &hanging {
        for _ in 0..FAILING_AFTER {
            finish(&mut scheduler, *id, timeout(), now);
        }
    }
    let probes: Vec<Claimed> = hanging
        .iter()
        .map(|(id, url)| {
            let mut probe = delivery(id * 1000 + 999, *id, url);
            probe.probe = true;
            probe.receiver.failing = true;
            probe
        })
        .collect();
    claimed(&mut scheduler, probes, now);
    let sends = scheduler.dispatch(now);
    let probes = sends.iter().filter(|send| send.probe).count();
    assert!(probes > 0, "probes go");
    assert!(
        probes <= 32,
        "but hold at most a quarter of the host: {probes}"
    );
    assert_eq!(
        sent_to(&sends, 999),
        4,
        "the healthy one's deliveries go at once"
    );

    claim(
        &mut scheduler,
        &[(999, "https://hooks.example/healthy")],
        8,
        now,
    );
    assert_eq!(
        sent_to(&scheduler.dispatch(now), 999),
        4,
        "up to its cap of 8 at once"
    );
}

#[test]
fn a_slot_goes_back_to_the_destination_it_was_taken_from_when_the_url_changed() {
    let mut scheduler = Scheduler::new(limits());
    claim(&mut scheduler, &[(1, "https://old.example/hook")], 1, START);
    let sends = scheduler.dispatch(START);
    // The admin points the webhook elsewhere while the send is under way.
    claim(
        &mut scheduler,
        &[(1, "https://new.example/hook")],
        1,
        at(10),
    );
    scheduler.finished(&sends[0].slot, Signal::Answered, at(20));
    assert!(
        scheduler.destinations.is_empty(),
        "no slot leaked: {:?}",
        scheduler.destinations
    );
    assert_eq!(sent_to(&scheduler.dispatch(at(20)), 1), 1);
}

#[test]
fn a_past_pause_never_wakes_the_worker_again() {
    let mut scheduler = Scheduler::new(limits());
    claim(&mut scheduler, &[(1, "https://busy.example/")], 9, START);
    let sends = scheduler.dispatch(START);
    assert_eq!(sends.len(), 8, "the webhook's cap");
    let until = at(1_000);
    scheduler.finished(&sends[0].slot, Signal::Throttled { until }, at(10));
    claim(
        &mut scheduler,
        &[(1, "https://busy.example/")],
        4,
        at(1_100),
    );
    // Its seven other sends are slow and under way: what it holds waits for them.
    for now in [at(1_100), at(1_200), at(5_000)] {
        scheduler.dispatch(now);
        if let Some(wake) = scheduler.next_wake(now) {
            assert!(wake > now, "a wake at {wake:?} is not after {now:?}");
        }
    }
}

#[test]
fn a_destination_nobody_goes_to_any_more_is_forgotten() {
    let mut scheduler = Scheduler::new(limits());
    claim(&mut scheduler, &[(1, "https://once.example/")], 1, START);
    let sends = scheduler.dispatch(START);
    scheduler.finished(&sends[0].slot, Signal::Answered, at(10));
    scheduler.take_releases(at(20));
    assert!(
        scheduler.destination_turns.is_empty(),
        "{:?}",
        scheduler.destination_turns
    );
}

#[test]
fn a_fresh_delivery_is_held_only_as_long_as_its_lease_allows_from_the_commit() {
    let mut scheduler = Scheduler::new(limits());
    // Leased by ingest's commit 10 s before it reached the sender (a busy moment).
    let committed = START;
    scheduler.hand_over(
        [Fresh {
            id: 1,
            webhook_id: 1,
            test: false,
            lease: committed.plus(LEASE),
        }],
        at(10_000),
    );
    let hold = limits().hold_at_most;
    let last_moment = committed.plus(hold);
    assert!(scheduler.take_releases(last_moment).is_empty());
    let released = scheduler.take_releases(last_moment.plus(Duration::from_millis(1)));
    assert_eq!(
        released.iter().map(|(held, _)| held.id).collect::<Vec<_>>(),
        [1],
        "given back {hold:?} after the commit, not after the hand-over"
    );
}

#[test]
fn slow_receivers_alone_on_their_host_keep_their_pace() {
    let mut scheduler = Scheduler::new(defaults());
    let slow: Vec<(i64, String)> = (1..=40)
        .map(|id| (id, format!("{SHARED}slow/{id}")))
        .collect();
    let claimed_now: Vec<(i64, &str)> = slow.iter().map(|(id, url)| (*id, url.as_str())).collect();
    claim(&mut scheduler, &claimed_now, 5, START);
    let first = scheduler.dispatch(START);
    assert!(first.len() >= 120, "about three each: {}", first.len());
    // A second later every send is slow; one of each webhook's answers.
    let now = at(1_000);
    for id in 1..=40 {
        let send = first
            .iter()
            .find(|send| send.delivery.webhook_id == id)
            .unwrap();
        scheduler.finished(&send.slot, Signal::Answered, now);
    }
    let again = scheduler.dispatch(now).len();
    assert!(
        again >= 30,
        "with no healthy neighbour waiting, slow webhooks use the host's slots as before: {again}"
    );
}
