//! Failing, paused, rate-capped and slow receivers.

use super::*;

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
            lease: at(16_000).plus(LEASE),
        }],
        at(16_000),
    );
    let released = scheduler.take_releases(at(16_000));
    assert_eq!(released.len(), 1);
    assert_eq!((released[0].0.id, released[0].1), (5000, at(16_000)));
    let mut probe = delivery(6000, 1, "https://dead.example/x");
    probe.probe = true;
    probe.receiver.failing = true;
    claimed(&mut scheduler, vec![probe], at(20_000));
    let sends = scheduler.dispatch(at(20_000));
    assert_eq!(sends.len(), 1);
    assert!(sends[0].probe);
}

#[test]
fn failures_one_at_a_time_with_idle_moments_between_still_open_the_circuit_at_the_fifth() {
    // Each event is tried alone and the lane is idle between them; the store has not yet
    // written any of these failures (its count says 0), as when outcome batches lag.
    let mut scheduler = Scheduler::new(limits());
    for n in 1..=FAILING_AFTER {
        let now = at(n as u64 * 100);
        claim(&mut scheduler, &[(1, "https://dead.example/x")], 1, now);
        assert_eq!(scheduler.dispatch(now).len(), 1);
        let verdict = finish(&mut scheduler, 1, timeout(), now);
        assert!(
            scheduler
                .take_releases(now.plus(Duration::from_millis(50)))
                .is_empty()
        );
        let failing = matches!(verdict, ReceiverVerdict::Unhealthy { failing: Some(_) });
        assert_eq!(failing, n == FAILING_AFTER, "failure {n}: {verdict:?}");
    }
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
    claimed(&mut scheduler, vec![probe], at(6_000));
    let sends = scheduler.dispatch(at(6_000));
    assert_eq!(sends.len(), 1, "the probe goes");
    let verdict = scheduler.finished(&sends[0].slot, timeout(), at(6_100));
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
    claimed(&mut scheduler, vec![probe], at(20_000));
    let sends = scheduler.dispatch(at(20_000));
    let verdict = scheduler.finished(&sends[0].slot, Signal::Answered, at(20_050));
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
    for _ in 0..3 {
        finish(&mut scheduler, 1, Signal::Answered, at(10));
    }
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
    claimed(&mut scheduler, capped, START);
    assert_eq!(scheduler.dispatch(START).len(), 1);
    assert!(scheduler.dispatch(at(100)).is_empty());
    assert_eq!(scheduler.next_wake(at(100)), Some(at(500)));
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
        lease: at(17_002).plus(LEASE),
    });
    scheduler.hand_over(fresh, at(17_002));
    assert_eq!(scheduler.take_releases(at(17_002)).len(), 3);
}

#[test]
fn a_send_called_off_says_nothing_about_the_receiver() {
    let mut scheduler = Scheduler::new(limits());
    claim(&mut scheduler, &[(1, "https://dead.example/x")], 10, START);
    scheduler.dispatch(START);
    for n in 0..8 {
        assert_eq!(
            finish(&mut scheduler, 1, Signal::NotSent, at(n)),
            ReceiverVerdict::Neutral
        );
    }
    assert_eq!(scheduler.dispatch(at(10)).len(), 2, "not Failing");
}

#[test]
fn a_receiver_refusing_every_delivery_is_failing_like_one_that_is_down() {
    let mut scheduler = Scheduler::new(limits());
    claim(
        &mut scheduler,
        &[(1, "https://strict.example/x")],
        10,
        START,
    );
    let rejected = || Signal::Failed {
        code: AttemptErrorCode::HttpStatus,
        reason: "HTTP 401 Unauthorized".to_owned(),
    };
    let mut verdict = ReceiverVerdict::Neutral;
    for n in 0..FAILING_AFTER {
        scheduler.dispatch(at(n as u64));
        verdict = finish(&mut scheduler, 1, rejected(), at(n as u64));
    }
    let ReceiverVerdict::Unhealthy {
        failing: Some(failing),
    } = verdict
    else {
        panic!("the fifth rejection makes it Failing: {verdict:?}");
    };
    assert_eq!(failing.code, AttemptErrorCode::HttpStatus);
    assert!(
        scheduler.dispatch(at(100)).is_empty(),
        "it waits for a probe"
    );
}
