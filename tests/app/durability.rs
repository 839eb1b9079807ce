//! What the API acknowledged survives the process being killed at any moment.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;
use webhook_console::db::Db;

use crate::common::Api;

#[tokio::test]
async fn every_acknowledged_event_is_on_disk_after_a_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("console.db").display());
    let binary = env!("CARGO_BIN_EXE_webhook-console");
    let token = Command::new(binary)
        .args(["token", "create", "--name", "publisher"])
        .env("DATABASE_URL", &database_url)
        .output()
        .unwrap();
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(binary)
        .env("DATABASE_URL", &database_url)
        .env("WEBHOOK_CONSOLE_LISTEN", format!("127.0.0.1:{port}"))
        .env("WEBHOOK_CONSOLE_ADMIN_EMAIL", "admin@example.com")
        .env(
            "WEBHOOK_CONSOLE_ADMIN_PASSWORD",
            "correct horse battery staple",
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let api = Api::new(&format!("http://127.0.0.1:{port}"), &token);
    let ready = format!("http://127.0.0.1:{port}/readyz");
    for _ in 0..200 {
        if reqwest::get(&ready)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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
        let deliveries: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM events e JOIN deliveries d ON d.event_id = e.id WHERE e.id = ?",
        )
        .bind(id)
        .fetch_one(db.reader())
        .await
        .unwrap();
        assert_eq!(
            deliveries, 1,
            "acknowledged event {id} and its delivery survived"
        );
    }
    db.close().await;
}
