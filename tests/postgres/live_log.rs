//! Support watches a webhook's delivery log in Chromium while the database goes away for a
//! few seconds: the log says its updates paused, clears the outage's toast once the database
//! is back, and picks up new deliveries without a reload.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::browser::Browser;
use crate::common::own_postgres::OwnPostgres;
use crate::common::process::{free_port, start_server, token_for, wait_until_ready};
use crate::common::receiver::Receiver;
use crate::common::{ADMIN_EMAIL, ADMIN_PASSWORD, Api};

const NODE_SETTINGS: [(&str, &str); 2] = [
    (
        "WEBHOOK_CONSOLE_SECRET_KEY",
        "one key for every node of this installation, 32+ characters",
    ),
    ("WEBHOOK_CONSOLE_ALLOW_PRIVATE_TARGETS", "127.0.0.1/32"),
];

/// Publishes one event and returns its id as the log shows it (`evt_…`).
async fn publish(api: &Api, n: i64) -> String {
    let (status, body): (StatusCode, Value) = api
        .publish(json!({"event_type": "order.purchased", "data": {"n": n}}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_live_log_pauses_through_a_database_outage_and_resumes_by_itself() {
    let postgres = OwnPostgres::start();
    let database_url = postgres.url();
    let token = token_for(&database_url);
    let port = free_port();
    let mut node = start_server(&database_url, port, &NODE_SETTINGS);
    wait_until_ready(port).await;
    let address = format!("http://127.0.0.1:{port}");
    let api = Api::new(&address, &token);
    let receiver = Receiver::start().await;
    let created: Value = api
        .post(
            "/api/v1/webhooks",
            json!({"name": "Orders", "url": receiver.url, "events": ["*"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let webhook = created["id"].as_i64().unwrap();

    let browser = Browser::launch(1280, 900).await;
    browser.open(&format!("{address}/login")).await;
    browser.fill("Email", ADMIN_EMAIL).await;
    browser.fill("Password", ADMIN_PASSWORD).await;
    browser.click_button("Sign in").await;
    browser.wait_for_text(".topbar-email", ADMIN_EMAIL).await;
    browser
        .open(&format!("{address}/settings/webhooks/{webhook}"))
        .await;
    let first = publish(&api, 1).await;
    browser.wait_for_text("#delivery-log-results", &first).await;
    browser
        .wait_for_text("[data-live-status]", "Updates by itself")
        .await;

    // A mark that a reload would wipe.
    browser
        .client
        .execute("window.stillTheSamePage = true;", vec![])
        .await
        .expect("script runs");
    postgres.stop();
    browser
        .wait_for_text("[data-live-status]", "Updates paused")
        .await;
    browser.screenshot("live-log-paused-1280").await;

    postgres.start_again();
    let back = Instant::now();
    let ready = format!("{address}/readyz");
    while !reqwest::get(&ready)
        .await
        .is_ok_and(|answer| answer.status() == StatusCode::OK)
    {
        assert!(
            back.elapsed() < Duration::from_secs(20),
            "the node never came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let after = publish(&api, 2).await;
    browser.wait_for_text("#delivery-log-results", &after).await;
    browser
        .wait_for_text("[data-live-status]", "Updates resumed")
        .await;
    let outage_toasts = browser
        .client
        .execute(
            "return document.querySelectorAll('#toasts [data-outage]').length;",
            vec![],
        )
        .await
        .expect("script runs");
    assert_eq!(outage_toasts, json!(0), "the outage's toast is gone");
    let same_page = browser
        .client
        .execute("return window.stillTheSamePage === true;", vec![])
        .await
        .expect("script runs");
    assert_eq!(same_page, json!(true), "no reload");
    browser.close().await;
    let _ = node.kill();
    let _ = node.wait();
}
