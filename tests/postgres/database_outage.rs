//! The database goes away and comes back: the nodes answer 503 quickly while it is gone
//! (never hang, never 500), say so on `/readyz` and in the console, and go on by themselves
//! when it returns, with every acknowledged event delivered.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::common::own_postgres::OwnPostgres;
use crate::common::process::{free_port, start_server, token_for, wait_until_ready};
use crate::common::receiver::Receiver;
use crate::common::{ADMIN_EMAIL, ADMIN_PASSWORD, Api, Client};

const NODE_SETTINGS: [(&str, &str); 3] = [
    (
        "WEBHOOK_CONSOLE_SECRET_KEY",
        "one key for every node of this installation, 32+ characters",
    ),
    ("WEBHOOK_CONSOLE_ALLOW_PRIVATE_TARGETS", "127.0.0.1/32"),
    ("WEBHOOK_CONSOLE_DELIVERY_TIMEOUT", "2s"),
];

/// The default wait for the database, and what a publish may take beyond it.
const DATABASE_WAIT: Duration = Duration::from_secs(2);
const ANSWER_MARGIN: Duration = Duration::from_millis(1500);

struct Published {
    number: i64,
    status: StatusCode,
    took: Duration,
    answered_at: Instant,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_ride_out_the_database_stopping_for_six_seconds() {
    let postgres = OwnPostgres::start();
    let database_url = postgres.url();
    let token = token_for(&database_url);
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let port = free_port();
        nodes.push((port, start_server(&database_url, port, &NODE_SETTINGS)));
    }
    for (port, _) in &nodes {
        wait_until_ready(*port).await;
    }
    let addresses: Vec<String> = nodes
        .iter()
        .map(|(port, _)| format!("http://127.0.0.1:{port}"))
        .collect();
    let apis: Vec<Api> = addresses.iter().map(|a| Api::new(a, &token)).collect();
    let receiver = Receiver::start().await;
    let created = apis[0]
        .post(
            "/api/v1/webhooks",
            json!({"name": "Orders", "url": receiver.url, "events": ["*"]}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let admin = Client::new(&addresses[1]);
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // Given a steady stream of publishes through both nodes,
    let stop = Arc::new(AtomicBool::new(false));
    let publisher = tokio::spawn(publish_steadily(
        addresses.clone(),
        token.clone(),
        stop.clone(),
    ));
    tokio::time::sleep(Duration::from_secs(2)).await;

    // when the database stops,
    postgres.stop();
    let stopped_at = Instant::now();

    // both nodes say they are not ready within two seconds, each answer within one,
    for address in &addresses {
        let ready = format!("{address}/readyz");
        loop {
            let asked = Instant::now();
            let answer = reqwest::get(&ready).await.unwrap();
            let status = answer.status();
            assert!(
                asked.elapsed() < Duration::from_secs(1),
                "/readyz took {:?}",
                asked.elapsed()
            );
            if status == StatusCode::SERVICE_UNAVAILABLE {
                let said = answer.text().await.unwrap();
                assert_eq!(
                    said, "database unreachable",
                    "the part, not the driver's words"
                );
                break;
            }
            assert!(
                stopped_at.elapsed() < Duration::from_secs(2),
                "{address} still ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // an alert can be set on /metrics,
    // (the watch calls the database down once its own look has waited out the wait)
    let metrics = format!("{}/metrics", addresses[0]);
    while !reqwest::get(&metrics)
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .contains("webhook_console_database_up 0")
    {
        assert!(
            stopped_at.elapsed() < Duration::from_secs(4),
            "database_up still 1"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // and the console says what is wrong instead of failing vaguely.
    let page = admin.get("/settings/webhooks").await;
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.headers().contains_key("retry-after"));
    assert!(page.text().await.unwrap().contains("Database unreachable"));

    // Six seconds later it is back,
    tokio::time::sleep(Duration::from_secs(6).saturating_sub(stopped_at.elapsed())).await;
    postgres.start_again();
    let started_at = Instant::now();
    for address in &addresses {
        let ready = format!("{address}/readyz");
        while reqwest::get(&ready).await.unwrap().status() != StatusCode::OK {
            assert!(
                started_at.elapsed() < Duration::from_secs(10),
                "{address} not ready again"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // the nodes take events again,
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    let published = publisher.await.unwrap();
    let after: Vec<&Published> = published
        .iter()
        .filter(|p| p.status == StatusCode::ACCEPTED)
        .collect();
    assert!(
        published
            .iter()
            .any(|p| p.status == StatusCode::SERVICE_UNAVAILABLE),
        "the outage was never seen by a publisher"
    );
    assert!(
        after.iter().any(|p| p.answered_at > started_at),
        "nothing was acknowledged after the database came back"
    );
    // every answer was 202 or 503, and none waited beyond the database wait,
    for p in &published {
        assert!(
            [StatusCode::ACCEPTED, StatusCode::SERVICE_UNAVAILABLE].contains(&p.status),
            "event {} answered {}",
            p.number,
            p.status
        );
        assert!(
            p.took < DATABASE_WAIT + ANSWER_MARGIN,
            "event {} took {:?}",
            p.number,
            p.took
        );
    }
    // the console shows its pages again,
    assert_eq!(
        admin.get("/settings/webhooks").await.status(),
        StatusCode::OK
    );
    // and every acknowledged event arrives.
    let numbers: Vec<i64> = after.iter().map(|p| p.number).collect();
    receiver
        .wait_for_numbers(&numbers, Duration::from_secs(30))
        .await;
    for (_, child) in &mut nodes {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Publishes every 20 ms, through the nodes in turn, until told to stop.
async fn publish_steadily(
    addresses: Vec<String>,
    token: String,
    stop: Arc<AtomicBool>,
) -> Vec<Published> {
    let apis: Vec<Api> = addresses.iter().map(|a| Api::new(a, &token)).collect();
    let mut published = Vec::new();
    let mut number = 0;
    while !stop.load(Ordering::Relaxed) {
        let asked = Instant::now();
        let (status, _) = apis[number as usize % apis.len()]
            .publish(json!({"event_type": "order.purchased", "data": {"i": number}}))
            .await;
        published.push(Published {
            number,
            status,
            took: asked.elapsed(),
            answered_at: Instant::now(),
        });
        number += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    published
}
