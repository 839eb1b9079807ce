//! Fair shares of the send slots.

use super::*;

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
