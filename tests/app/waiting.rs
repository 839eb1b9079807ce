//! A customer asks about order 7731. Its deliveries wait: one behind a Failing webhook, one
//! paused by a receiver that answered 429. Support finds them and reads why each waits and
//! what comes next, never that it "goes out within moments".

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::receiver::{Answer, Receiver};
use crate::common::scene::{console, until_failing, webhook_to};
use crate::common::{Api, Client};

/// Order 7731 published; its deliveries as a search for it finds them (the indexer may take
/// a moment), once there are `count`.
async fn order_7731(api: &Api, count: usize) -> Vec<Value> {
    api.publish(json!({"event_type": "order.purchased", "data": {"order": {"id": "ord_7731"}}}))
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let found: Value = api
            .get("/api/v1/deliveries?q=ord_7731")
            .await
            .json()
            .await
            .unwrap();
        let found = found["data"].as_array().unwrap().clone();
        if found.len() >= count || tokio::time::Instant::now() > deadline {
            assert_eq!(found.len(), count, "{found:?}");
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn page_text(support: &Client, path: &str) -> String {
    support.get_page(path).await.text("main")
}

#[tokio::test]
async fn a_delivery_held_by_a_failing_webhook_says_so_and_when_the_next_probe_is() {
    let app = console("1h").await;
    let api = app.api().await;
    let broken = Receiver::start().await;
    broken.always(Answer::Status(503));
    let orders = webhook_to(&api, &broken.url, &["order.purchased"]).await;
    for n in 0..5 {
        api.publish(json!({"event_type": "order.purchased", "data": {"n": n}}))
            .await;
    }
    until_failing(&api, orders).await;

    let found = order_7731(&api, 1).await;
    let delivery = &found[0];
    assert_eq!(delivery["status"], "pending");
    assert_eq!(delivery["waiting"], "webhook_failing", "{delivery}");
    let reason = delivery["waiting_reason"].as_str().unwrap();
    assert!(
        reason.contains("Failing") && reason.contains("next probe"),
        "{reason}"
    );
    assert!(delivery["waiting_until"].is_string(), "{delivery}");

    let id = delivery["id"].as_i64().unwrap();
    let support = app.user("sam@example.com", "support").await;
    let page = page_text(
        &support,
        &format!("/settings/webhooks/{orders}/deliveries/{id}"),
    )
    .await;
    assert!(page.contains("Held: the webhook is Failing"), "{page}");
    assert!(!page.contains("within moments"), "{page}");
    let search = page_text(&support, "/settings/deliveries?q=ord_7731").await;
    assert!(search.contains("Held: webhook Failing"), "{search}");
}

#[tokio::test]
async fn a_delivery_paused_by_a_429_says_until_when() {
    let app = console("1h").await;
    let api = app.api().await;
    let busy = Receiver::start().await;
    busy.always(Answer::RetryAfter(429, 600));
    let orders = webhook_to(&api, &busy.url, &["order.purchased"]).await;
    api.publish(json!({"event_type": "order.purchased", "data": {"n": 0}}))
        .await;
    crate::common::scene::received(&busy, 1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let found = order_7731(&api, 1).await;
    let delivery = &found[0];
    assert_eq!(delivery["waiting"], "paused_by_receiver", "{delivery}");
    let reason = delivery["waiting_reason"].as_str().unwrap();
    assert!(reason.starts_with("Paused by the receiver"), "{reason}");
    assert!(delivery["waiting_until"].is_string(), "{delivery}");

    let support = app.user("sam@example.com", "support").await;
    let page = page_text(&support, &format!("/settings/webhooks/{orders}")).await;
    assert!(
        page.contains("Rate limited by the receiver until"),
        "{page}"
    );
    assert!(!page.contains("Deliveries are failing"), "{page}");
}

#[tokio::test]
async fn a_retrying_delivery_says_which_retry_comes_when() {
    let app = console("1h,2h").await;
    let api = app.api().await;
    let flaky = Receiver::start().await;
    flaky.always(Answer::Status(500));
    webhook_to(&api, &flaky.url, &["order.purchased"]).await;

    order_7731(&api, 1).await;
    crate::common::scene::received(&flaky, 1, Duration::from_secs(10)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let delivery = loop {
        let found = order_7731_found(&api).await;
        if found["attempt_count"] == 1 || tokio::time::Instant::now() > deadline {
            break found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(delivery["waiting"], "retry_scheduled", "{delivery}");
    let reason = delivery["waiting_reason"].as_str().unwrap();
    assert!(reason.starts_with("Retry 2 of 3 at "), "{reason}");
}

async fn order_7731_found(api: &Api) -> Value {
    let found: Value = api
        .get("/api/v1/deliveries?q=ord_7731")
        .await
        .json()
        .await
        .unwrap();
    found["data"][0].clone()
}
