//! Several copies of the binary on one PostgreSQL database, as behind a load balancer:
//! every event is delivered once per webhook, sessions and the sign-in throttle are shared,
//! and a node killed mid-stream loses nothing. These run only on PostgreSQL.

use std::collections::{HashMap, HashSet};
use std::process::Child;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use sqlx::Connection;

use crate::common::process::{free_port, start_server, token_for, wait_until_ready};
use crate::common::receiver::{Received, Receiver};
use crate::common::{ADMIN_EMAIL, ADMIN_PASSWORD, Api, Client, database};

const SHARED_KEY: &str = "one key for every node of this installation, 32+ characters";

/// Nodes that deliver to this machine quickly, and give up a dead node's claims soon:
/// a lease is two delivery timeouts and five seconds.
const NODE_SETTINGS: [(&str, &str); 4] = [
    ("WEBHOOK_CONSOLE_SECRET_KEY", SHARED_KEY),
    ("WEBHOOK_CONSOLE_ALLOW_PRIVATE_TARGETS", "127.0.0.1/32"),
    ("WEBHOOK_CONSOLE_DELIVERY_TIMEOUT", "1s"),
    ("WEBHOOK_CONSOLE_RETRY_SCHEDULE", "200ms,200ms,200ms"),
];

/// The nodes' shared per-webhook limit in [`Cluster::start_with_limit`].
const PER_WEBHOOK: &str = "WEBHOOK_CONSOLE_DELIVERY_PER_WEBHOOK";

struct Cluster {
    nodes: Vec<(String, Child)>,
    apis: Vec<Api>,
    receiver: Receiver,
}

impl Cluster {
    /// `count` nodes on a fresh database, and one webhook (created through the first node)
    /// that takes every event to a local receiver.
    async fn start(count: usize) -> Self {
        Self::start_with(count, &[]).await
    }

    async fn start_with(count: usize, extra: &[(&str, &str)]) -> Self {
        let database_url = database::fresh_postgres().await;
        let token = token_for(&database_url);
        let settings: Vec<(&str, &str)> = NODE_SETTINGS.iter().chain(extra).copied().collect();
        let mut nodes = Vec::new();
        for _ in 0..count {
            let port = free_port();
            let child = start_server(&database_url, port, &settings);
            nodes.push((format!("http://127.0.0.1:{port}"), child));
        }
        for (address, _) in &nodes {
            let port = address.rsplit(':').next().unwrap().parse().unwrap();
            wait_until_ready(port).await;
        }
        let apis: Vec<Api> = nodes
            .iter()
            .map(|(address, _)| Api::new(address, &token))
            .collect();
        let receiver = Receiver::start().await;
        let created = apis[0]
            .post(
                "/api/v1/webhooks",
                json!({"name": "Orders", "url": receiver.url, "events": ["*"]}),
            )
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        Self {
            nodes,
            apis,
            receiver,
        }
    }

    /// Publishes `numbers` through the nodes in turn (skipping killed ones), returning the
    /// numbers acknowledged.
    async fn publish(&self, numbers: std::ops::Range<i64>, alive: &[usize]) -> Vec<i64> {
        let mut acknowledged = Vec::new();
        for i in numbers {
            let api = &self.apis[alive[i as usize % alive.len()]];
            let (status, _) = api
                .publish(json!({"event_type": "order.purchased", "data": {"i": i}}))
                .await;
            if status == StatusCode::ACCEPTED {
                acknowledged.push(i);
            }
        }
        acknowledged
    }

    fn kill(&mut self, node: usize) {
        let child = &mut self.nodes[node].1;
        child.kill().unwrap(); // SIGKILL: no shutdown, no release of its claims
        child.wait().unwrap();
    }

    /// Waits until every number has arrived at least once, then a little longer for any
    /// duplicate to show; returns everything received.
    async fn received_all(&self, numbers: &[i64], within: Duration) -> Vec<Received> {
        let wanted: HashSet<i64> = numbers.iter().copied().collect();
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let seen: HashSet<i64> = self.receiver.received().iter().map(number).collect();
            if wanted.is_subset(&seen) {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} of {} events arrived",
                wanted.intersection(&seen).count(),
                wanted.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        self.receiver.received()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for (_, child) in &mut self.nodes {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn number(request: &Received) -> i64 {
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    body["data"]["i"].as_i64().unwrap()
}

#[tokio::test]
async fn three_nodes_deliver_every_event_exactly_once() {
    let cluster = Cluster::start(3).await;
    let (a, b) = tokio::join!(
        cluster.publish(0..150, &[0, 1, 2]),
        cluster.publish(150..300, &[2, 1, 0])
    );
    let acknowledged: Vec<i64> = a.into_iter().chain(b).collect();
    assert_eq!(acknowledged.len(), 300, "every node accepts events");

    let received = cluster
        .received_all(&acknowledged, Duration::from_secs(30))
        .await;
    let mut per_event: HashMap<i64, usize> = HashMap::new();
    for request in &received {
        *per_event.entry(number(request)).or_default() += 1;
    }
    let repeated: Vec<_> = per_event.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "sent more than once: {repeated:?}");
    let ids: HashSet<&str> = received
        .iter()
        .map(|r| r.header("webhook-id").unwrap())
        .collect();
    assert_eq!(ids.len(), 300, "one delivery, one webhook-id, per event");
}

#[tokio::test]
async fn a_node_killed_mid_stream_leaves_nothing_undelivered() {
    let mut cluster = Cluster::start(3).await;
    // The receiver is slow, so the first node holds claimed, unsent deliveries when it dies.
    cluster
        .receiver
        .always(crate::common::receiver::Answer::Slowly(
            Duration::from_millis(200),
        ));
    let mut acknowledged = cluster.publish(0..150, &[0, 1, 2]).await;
    cluster.kill(0);
    assert!(
        cluster.receiver.received().len() < 150,
        "the node died with work in hand"
    );
    acknowledged.extend(cluster.publish(150..300, &[1, 2]).await);
    assert_eq!(acknowledged.len(), 300);

    // Its claims lapse after the lease (7 s here) and the others take them up.
    let received = cluster
        .received_all(&acknowledged, Duration::from_secs(60))
        .await;
    let distinct: HashSet<i64> = received.iter().map(number).collect();
    assert_eq!(distinct.len(), 300, "every acknowledged event arrived");
}

#[tokio::test]
async fn sessions_and_the_sign_in_throttle_are_shared_by_the_nodes() {
    let cluster = Cluster::start(2).await;
    let (first, second) = (&cluster.nodes[0].0, &cluster.nodes[1].0);

    let admin = Client::new(first);
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let cookie = admin.cookie_header();
    let cookie = cookie.trim_start_matches("Cookie: ").trim_end();
    let list = Client::new(second)
        .get_with_cookie("/settings/webhooks", cookie)
        .await;
    assert_eq!(list.status(), StatusCode::OK, "signed in on every node");
    assert!(list.text().await.unwrap().contains("Orders"));

    // Wrong passwords spread over both nodes count together.
    for attempt in 0..5 {
        let node = if attempt % 2 == 0 { first } else { second };
        Client::new(node)
            .sign_in("ada@example.com", "not the password")
            .await;
    }
    let refused = Client::new(second)
        .sign_in("ada@example.com", "not the password")
        .await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_per_webhook_limit_holds_for_all_nodes_together() {
    let cluster = Cluster::start_with(2, &[(PER_WEBHOOK, "2")]).await;
    cluster
        .receiver
        .always(crate::common::receiver::Answer::Slowly(
            Duration::from_millis(300),
        ));
    // Each node counts the other by its second heartbeat (one every 5 s).
    tokio::time::sleep(Duration::from_secs(6)).await;
    let acknowledged = cluster.publish(0..20, &[0, 1]).await;
    cluster
        .received_all(&acknowledged, Duration::from_secs(30))
        .await;
    assert_eq!(
        cluster.receiver.most_at_once(),
        2,
        "two nodes, a limit of two: one send at a time each"
    );
}

#[tokio::test]
async fn nodes_started_together_on_an_empty_database_set_it_up_once() {
    // Three nodes of a new release start at the same moment on a database none has seen,
    let database_url = database::fresh_postgres().await;
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut nodes: Vec<Child> = ports
        .iter()
        .map(|port| start_server(&database_url, *port, &NODE_SETTINGS))
        .collect();
    // every one comes up,
    for port in &ports {
        wait_until_ready(*port).await;
    }
    // each migration was applied exactly once, and completely,
    let mut connection = sqlx::PgConnection::connect(&database_url).await.unwrap();
    let applied: Vec<(i64, bool)> =
        sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut connection)
            .await
            .unwrap();
    let files = std::fs::read_dir("migrations/postgres").unwrap().count();
    assert_eq!(applied.len(), files);
    assert!(applied.iter().all(|(_, success)| *success));
    // and there is one first admin, who can sign in on any node.
    let admins: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    assert_eq!(admins, 1);
    for port in &ports {
        let client = Client::new(&format!("http://127.0.0.1:{port}"));
        let signed_in = client.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert!(signed_in.status().is_redirection(), "node {port}");
    }
    for node in &mut nodes {
        let _ = node.kill();
        let _ = node.wait();
    }
}

#[tokio::test]
async fn a_node_that_stalls_past_its_lease_cannot_undo_the_next_nodes_success() {
    use crate::common::receiver::Answer;

    let cluster = Cluster::start(2).await;
    // The stalled node's request hangs at the receiver; every later one is answered.
    cluster
        .receiver
        .script([Answer::Slowly(Duration::from_secs(60))]);
    let (status, _) = cluster.apis[0]
        .publish(json!({"event_type": "order.purchased", "data": {"i": 1}}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let receiver = &cluster.receiver;
    let sends = |count: usize| async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while receiver.received().len() < count {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} sends, not {count}",
                receiver.received().len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    // Node 0 sends it, then stalls past its lease (two timeouts and five seconds).
    sends(1).await;
    let stalled = cluster.nodes[0].1.id() as i32;
    // SAFETY: a plain signal to our own child process.
    assert_eq!(unsafe { libc::kill(stalled, libc::SIGSTOP) }, 0);
    // Node 1 takes the lapsed lease and delivers.
    sends(2).await;
    let status_of_the_delivery = || async {
        let listed: serde_json::Value = cluster.apis[1]
            .get("/api/v1/webhooks/1/deliveries")
            .await
            .json()
            .await
            .unwrap();
        listed["data"][0]["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while status_of_the_delivery().await != "succeeded" {
        assert!(tokio::time::Instant::now() < deadline, "never succeeded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Node 0 wakes up and records its timed-out try: too late to count.
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(stalled, libc::SIGCONT) }, 0);
    let metrics = format!("{}/metrics", cluster.nodes[0].0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = reqwest::get(&metrics).await.unwrap().text().await.unwrap();
        if text.contains("webhook_console_stale_outcomes_total 1") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no stale outcome counted"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(cluster.receiver.received().len(), 2, "exactly two sends");
    assert_eq!(status_of_the_delivery().await, "succeeded");
}
