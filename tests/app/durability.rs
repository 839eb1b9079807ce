//! What the API acknowledged survives the process being killed at any moment.

use std::collections::HashSet;
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;
use webhook_console::db::Db;

use crate::common::Api;
use crate::common::process::{free_port, start_server, token_for, wait_until_ready};
use crate::common::receiver::Receiver;

#[tokio::test]
async fn every_acknowledged_event_is_on_disk_after_a_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("console.db").display());
    let token = token_for(&database_url);
    let port = free_port();
    let mut server = start_server(&database_url, port, &[]);
    let api = Api::new(&format!("http://127.0.0.1:{port}"), &token);
    wait_until_ready(port).await;
    api.create_webhook("Orders", &["order.purchased"]).await;

    let killed = Arc::new(AtomicBool::new(false));
    let publishers: Vec<_> = (0..16)
        .map(|_| {
            let (api, killed) = (api.clone(), killed.clone());
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                while !killed.load(Ordering::Relaxed) {
                    let response = api
                        .request(reqwest::Method::POST, "/api/v1/events")
                        .json(&json!({"event_type": "order.purchased", "data": {}}))
                        .send()
                        .await;
                    if let Ok(response) = response
                        && response.status() == reqwest::StatusCode::ACCEPTED
                        && let Ok(body) = response.json::<serde_json::Value>().await
                    {
                        let id = body["id"].as_str().unwrap().trim_start_matches("evt_");
                        acknowledged.push(id.parse::<i64>().unwrap());
                    }
                }
                acknowledged
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill().unwrap();
    server.wait().unwrap();
    killed.store(true, Ordering::Relaxed);
    let mut acknowledged = Vec::new();
    for publisher in publishers {
        acknowledged.extend(publisher.await.unwrap());
    }
    assert!(
        acknowledged.len() > 100,
        "the load ran: {}",
        acknowledged.len()
    );

    let db = Db::open(&database_url).await.unwrap();
    for id in &acknowledged {
        let deliveries: i64 = crate::common::sql_scalar(
            &db,
            &format!(
                "SELECT COUNT(*) FROM events e JOIN deliveries d ON d.event_id = e.id
                 WHERE e.id = {id}"
            ),
        )
        .await;
        assert_eq!(
            deliveries, 1,
            "acknowledged event {id} and its delivery survived"
        );
    }
    db.close().await;
}

/// Settings for a server that delivers to this machine, quickly.
const LOCAL_DELIVERY: [(&str, &str); 3] = [
    ("WEBHOOK_CONSOLE_ALLOW_PRIVATE_TARGETS", "127.0.0.1/32"),
    ("WEBHOOK_CONSOLE_DELIVERY_TIMEOUT", "1s"),
    ("WEBHOOK_CONSOLE_RETRY_SCHEDULE", "200ms,200ms,200ms"),
];

/// The real binary on its own database, delivering to a local receiver through one webhook
/// on every event.
struct LocalDelivery {
    dir: tempfile::TempDir,
    database_url: String,
    port: u16,
    server: Child,
    api: Api,
    receiver: Receiver,
}

impl LocalDelivery {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database_url = format!("sqlite://{}", dir.path().join("console.db").display());
        let token = token_for(&database_url);
        let port = free_port();
        let server = start_server(&database_url, port, &LOCAL_DELIVERY);
        wait_until_ready(port).await;
        let api = Api::new(&format!("http://127.0.0.1:{port}"), &token);
        let receiver = Receiver::start().await;
        let response = api
            .post(
                "/api/v1/webhooks",
                json!({"name": "Orders", "url": receiver.url, "events": ["*"]}),
            )
            .await;
        assert_eq!(response.status(), reqwest::StatusCode::CREATED);
        Self {
            dir,
            database_url,
            port,
            server,
            api,
            receiver,
        }
    }
}

#[tokio::test]
async fn every_event_is_delivered_after_a_kill_9_mid_stream_and_a_restart() {
    let LocalDelivery {
        dir: _dir,
        database_url,
        port,
        mut server,
        api,
        receiver,
    } = LocalDelivery::start().await;

    const EVENTS: i64 = 300;
    for i in 0..EVENTS {
        let (status, _) = api
            .publish(json!({"event_type": "order.purchased", "data": {"i": i}}))
            .await;
        assert_eq!(status, reqwest::StatusCode::ACCEPTED);
        if i == EVENTS / 2 {
            server.kill().unwrap();
            server.wait().unwrap();
            server = start_server(&database_url, port, &LOCAL_DELIVERY);
            wait_until_ready(port).await;
        }
    }

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut seen = HashSet::new();
    while tokio::time::Instant::now() < deadline {
        seen = receiver
            .received()
            .iter()
            .map(|request| {
                let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
                body["data"]["i"].as_i64().unwrap()
            })
            .collect();
        if seen.len() as i64 == EVENTS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        seen.len() as i64,
        EVENTS,
        "every event arrived at least once"
    );
    server.kill().unwrap();
    server.wait().unwrap();
}

#[tokio::test]
async fn sigterm_lets_sends_in_flight_finish_and_exits_cleanly() {
    let LocalDelivery {
        dir: _dir,
        database_url,
        mut server,
        api,
        receiver,
        ..
    } = LocalDelivery::start().await;
    receiver.always(crate::common::receiver::Answer::Slowly(
        Duration::from_millis(500),
    ));
    for i in 0..5 {
        api.publish(json!({"event_type": "order.purchased", "data": {"i": i}}))
            .await;
    }
    while receiver.received().is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let stopping = tokio::time::Instant::now();
    let pid = rustix::process::Pid::from_child(&server);
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(
            stopping.elapsed() < Duration::from_secs(10),
            "still running"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}");

    let db = Db::open(&database_url).await.unwrap();
    let attempts: i64 = crate::common::sql_scalar(&db, "SELECT COUNT(*) FROM attempts").await;
    assert_eq!(
        attempts,
        receiver.received().len() as i64,
        "every send that reached the receiver was recorded before exit"
    );
    db.close().await;
}
