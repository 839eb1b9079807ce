//! A console that delivers to real local receivers, and waiting for what they get.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::receiver::{Received, Receiver};
use webhook_console::clock::Timestamp;

use super::{Api, TestApp};

/// A console that may deliver to this machine, retrying quickly.
pub async fn console(retry_schedule: &str) -> TestApp {
    let schedule = retry_schedule.parse().unwrap();
    TestApp::spawn_with(|settings| {
        settings.allow_private_targets = vec!["127.0.0.1/32".parse().unwrap()];
        settings.retry_schedule = schedule;
        settings.delivery_timeout = "2s".parse().unwrap();
    })
    .await
}

/// A console that delivers to one local receiver through one webhook on every event.
pub struct Scene {
    pub app: TestApp,
    pub api: Api,
    pub receiver: Receiver,
    pub webhook: i64,
}

impl Scene {
    /// Publishes `event` while the receiver answers `status`, and waits for that first,
    /// failed try. Returns the delivery as the API shows it.
    pub async fn first_try_fails(&self, status: u16, event: Value) -> Value {
        self.receiver.answer_with(&[status]);
        self.api.publish(event).await;
        wait_for_delivery(&self.api, self.webhook, |d| d["attempt_count"] == 1).await
    }
}

pub async fn scene(retry_schedule: &str) -> Scene {
    let app = console(retry_schedule).await;
    let api = app.api().await;
    let receiver = Receiver::start().await;
    let webhook = webhook_to(&api, &receiver.url, &["*"]).await;
    Scene {
        app,
        api,
        receiver,
        webhook,
    }
}

pub async fn webhook_to(api: &Api, url: &str, events: &[&str]) -> i64 {
    let response = api
        .post(
            "/api/v1/webhooks",
            json!({"name": format!("Hook {url}"), "url": url, "events": events, "api_key": "sk_test_123"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap()
}

/// After the newest delivery's `tries`-th try failed, moves the clock to its next try, so
/// that it goes now: a retry an hour away is taken at once, jitter and all.
pub async fn next_try_now(app: &TestApp, api: &Api, webhook: i64, tries: u64) {
    let delivery = wait_for_delivery(api, webhook, |d| {
        d["attempt_count"] == tries && d["next_attempt_at"].is_string()
    })
    .await;
    let at = Timestamp::parse_rfc3339(delivery["next_attempt_at"].as_str().unwrap()).unwrap();
    app.advance(app.now().until(at));
}

/// Waits (at most `within`) until the receiver has `count` requests; fewer by then fails
/// the test, saying how many came.
pub async fn received(receiver: &Receiver, count: usize, within: Duration) -> Vec<Received> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let got = receiver.received();
        if got.len() >= count {
            return got;
        }
        assert!(
            tokio::time::Instant::now() <= deadline,
            "{} of {count} requests arrived within {within:?}",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Everything the receiver has after `window` more: for "nothing more arrived", which
/// proves something only beside a positive control (a sibling that did get its request).
pub async fn arrived_within(receiver: &Receiver, window: Duration) -> Vec<Received> {
    tokio::time::sleep(window).await;
    receiver.received()
}

/// Waits until the webhook's newest delivery is `done` (at most ten seconds).
pub async fn wait_for_delivery(api: &Api, webhook: i64, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let page: Value = api
            .get(&format!("/api/v1/webhooks/{webhook}/deliveries"))
            .await
            .json()
            .await
            .unwrap();
        let delivery = page["data"][0].clone();
        if done(&delivery) || tokio::time::Instant::now() > deadline {
            assert!(done(&delivery), "gave up waiting: {delivery}");
            return delivery;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (at most 10 s) until the API calls the webhook Failing.
pub async fn until_failing(api: &Api, webhook: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let found: Value = api
            .get(&format!("/api/v1/webhooks/{webhook}"))
            .await
            .json()
            .await
            .unwrap();
        if found["health"] == "failing" {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never Failing: {found}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
