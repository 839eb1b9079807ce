//! The worker stepped over an in-memory queue on a movable clock, sending to a real local
//! receiver: what it does with leases and with sends that break.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{BROKEN_SEND_PAUSE, Worker, send::Sent};
use crate::clock::Clock;
use crate::delivery::housekeeping::Upkeep;
use crate::delivery::nodes::Membership;
use crate::delivery::outcomes::{Record, store};
use crate::delivery::queue::Queue;
use crate::delivery::queue::memory::MemoryQueue;
use crate::delivery::retry::RetrySchedule;
use crate::delivery::scheduler::Scheduler;
use crate::delivery::sender::Sender;
use crate::delivery::target_guard::TargetGuard;
use crate::delivery::{Engine, EngineSettings};
use crate::domain::DeliveryStatus;
use crate::domain::queue::Held;
use crate::metrics::Metrics;

/// A receiver on a local port that answers each request with the next of `statuses` (the
/// last one once they run out).
async fn receiver(statuses: Vec<u16>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let statuses = Arc::new(std::sync::Mutex::new(statuses));
    tokio::spawn(async move {
        while let Ok((mut connection, _)) = listener.accept().await {
            let statuses = statuses.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buffer = [0u8; 4096];
                while let Ok(read) = connection.read(&mut buffer).await {
                    if read == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buffer[..read]);
                    let text = String::from_utf8_lossy(&seen).to_string();
                    let Some(head_end) = text.find("\r\n\r\n") else {
                        continue;
                    };
                    let length: usize = text[..head_end]
                        .lines()
                        .find_map(|line| {
                            let (name, value) = line.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    if seen.len() < head_end + 4 + length {
                        continue;
                    }
                    seen.clear();
                    let status = {
                        let mut statuses = statuses.lock().unwrap();
                        if statuses.len() > 1 {
                            statuses.remove(0)
                        } else {
                            statuses[0]
                        }
                    };
                    let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n");
                    if connection.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

/// A worker of its own (one node) over `queue`, and the outcomes it hands the writer.
fn worker(queue: &MemoryQueue) -> (Worker<MemoryQueue>, mpsc::Receiver<Record>) {
    let settings = EngineSettings {
        // One slot in all: a slot that never came back would stop everything.
        concurrency: 1,
        per_webhook: 4,
        per_destination: 16,
        timeout: Duration::from_secs(2),
        retry_schedule: RetrySchedule::default(),
        guard: TargetGuard::new(vec!["127.0.0.0/8".parse().unwrap()]),
        upkeep: Upkeep {
            retention: Duration::from_secs(3600),
            auto_disable_after: Duration::from_secs(3600),
        },
    };
    let engine = Arc::new(Engine {
        queue: queue.clone(),
        sender: Sender::new(settings.timeout, settings.guard.clone()),
        masks: Default::default(),
        settings,
        metrics: Metrics::default(),
        membership: Membership::new(4),
    });
    let (records, outcomes) = mpsc::channel(64);
    let (_, inbox) = mpsc::unbounded_channel();
    let worker = Worker {
        scheduler: Scheduler::new(engine.limits()),
        sending: JoinSet::new(),
        slots: std::collections::HashMap::new(),
        next_claim: queue.now(),
        engine,
        inbox,
        due: Arc::new(Notify::new()),
        records,
    };
    (worker, outcomes)
}

/// Steps the worker until it hands the writer something.
async fn step_until_recorded(
    worker: &mut Worker<MemoryQueue>,
    outcomes: &mut mpsc::Receiver<Record>,
) -> Vec<Record> {
    let running = CancellationToken::new();
    for _ in 0..100 {
        worker.step(&running).await;
        let mut records = Vec::new();
        while let Ok(record) = outcomes.try_recv() {
            records.push(record);
        }
        if !records.is_empty() {
            return records;
        }
    }
    panic!("the worker recorded nothing in 100 steps");
}

#[tokio::test]
async fn a_worker_that_stalled_past_its_lease_cannot_undo_the_next_holders_success() {
    let url = receiver(vec![500, 200]).await;
    let (clock, hand) = Clock::movable();
    let queue = MemoryQueue::new(clock);
    queue.add_due(1, 7, &url);
    let (mut stalled, mut stalled_outcomes) = worker(&queue);
    let (mut next, mut next_outcomes) = worker(&queue);

    stalled.claim(queue.now()).await;
    let late = step_until_recorded(&mut stalled, &mut stalled_outcomes).await;
    // It stalls before writing its 500, past its lease: the other node claims and delivers.
    hand.advance(stalled.engine.settings.lease() + Duration::from_secs(1));
    next.claim(queue.now()).await;
    let delivered = step_until_recorded(&mut next, &mut next_outcomes).await;
    store(&next.engine, &delivered).await.unwrap();
    assert_eq!(queue.row(1).status, DeliveryStatus::Succeeded);

    store(&stalled.engine, &late).await.unwrap();
    let row = queue.row(1);
    assert_eq!(
        row.status,
        DeliveryStatus::Succeeded,
        "the late 500 is dropped"
    );
    assert_eq!(row.tries, [200]);
    assert_eq!(stalled.engine.metrics.stale_outcomes.get(), 1);
}

async fn breaks(send: crate::delivery::scheduler::Send) -> Sent {
    drop(send);
    panic!("a bug in the sender")
}

#[tokio::test]
async fn a_send_that_breaks_gives_back_its_slot_and_its_delivery_for_later() {
    let url = receiver(vec![200]).await;
    let (clock, _hand) = Clock::movable();
    let queue = MemoryQueue::new(clock);
    let lease = queue.now().plus(Duration::from_secs(9));
    let (mut worker, mut outcomes) = worker(&queue);
    worker
        .scheduler
        .hand_over(vec![queue.add_fresh(1, 7, &url, lease)], queue.now());
    let ids = worker.scheduler.take_loads(16, queue.now());
    worker.load(&ids, queue.now()).await;
    let send = worker.scheduler.dispatch(queue.now()).remove(0);
    let taken = (
        send.slot.clone(),
        Held {
            id: send.delivery.id,
            lease: send.delivery.lease,
        },
    );
    let broken = worker.sending.spawn(breaks(send));
    worker.slots.insert(broken.id(), taken);
    let joined = worker.sending.join_next_with_id().await.unwrap();
    worker.finish(joined).await;

    let Some(Record::Release(released)) = outcomes.recv().await else {
        panic!("the delivery is given back");
    };
    assert_eq!(released.len(), 1);
    assert_eq!(released[0].0.id, 1);
    assert!(released[0].1 >= queue.now().plus(BROKEN_SEND_PAUSE - Duration::from_secs(1)));
    // The only slot came back: the next delivery goes out.
    worker
        .scheduler
        .hand_over(vec![queue.add_fresh(2, 7, &url, lease)], queue.now());
    let ids = worker.scheduler.take_loads(16, queue.now());
    worker.load(&ids, queue.now()).await;
    assert_eq!(worker.scheduler.dispatch(queue.now()).len(), 1);
}
