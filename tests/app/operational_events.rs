//! An admin points a webhook at a chat or paging relay, subscribed to the console's own
//! operational events, and hears when another webhook breaks, recovers or is switched off.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::receiver::{Answer, Received, Receiver};
use crate::common::scene::{arrived_within, console, received, wait_for_delivery, webhook_to};
use crate::common::{Api, sql_scalar};

const OPERATIONAL: [&str; 4] = [
    "webhook.failing",
    "webhook.recovered",
    "webhook.disabled",
    "delivery.failed",
];

fn body(request: &Received) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

/// The bodies of this type the receiver got.
fn of_type(receiver: &Receiver, event_type: &str) -> Vec<Value> {
    receiver
        .received()
        .iter()
        .map(body)
        .filter(|body| body["event_type"] == event_type)
        .collect()
}

async fn wait_for_type(receiver: &Receiver, event_type: &str, count: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let got = of_type(receiver, event_type);
        if got.len() >= count || tokio::time::Instant::now() > deadline {
            assert!(got.len() >= count, "no {event_type} arrived");
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `data` matches the schema the catalog lists for its type.
async fn assert_matches_catalog(api: &Api, body: &Value) {
    let catalog: Value = api.get("/api/v1/event-types").await.json().await.unwrap();
    let entry = catalog["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == body["event_type"])
        .unwrap()
        .clone();
    let validator = jsonschema::draft202012::new(&entry["schema"]).unwrap();
    let problems: Vec<String> = validator
        .iter_errors(&body["data"])
        .map(|e| e.to_string())
        .collect();
    assert!(problems.is_empty(), "{body}: {problems:?}");
    let example = validator.iter_errors(&entry["example"]).count();
    assert_eq!(example, 0, "the catalog's own example matches: {entry}");
}

#[tokio::test]
async fn the_catalog_lists_the_operational_events_in_the_system_group_with_schemas() {
    let app = console("1h").await;
    let api = app.api().await;
    let catalog: Value = api.get("/api/v1/event-types").await.json().await.unwrap();
    for key in OPERATIONAL {
        let entry = catalog["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["key"] == key)
            .unwrap_or_else(|| panic!("{key} is listed"));
        assert_eq!(entry["group"], "System", "{entry}");
        assert!(entry["schema"].is_object(), "{entry}");
        assert!(entry["example"]["webhook"]["id"].is_i64(), "{entry}");
    }
    let page = app.get_page("/settings/events").await.text("main");
    assert!(page.contains("webhook.disabled") && page.contains("delivery.failed"));
}

#[tokio::test]
async fn nobody_but_the_console_publishes_changes_or_archives_them() {
    let app = console("1h").await;
    let api = app.api().await;
    for key in OPERATIONAL {
        let (status, answer) = api
            .publish(json!({"event_type": key, "data": {"webhook": {"id": 1, "name": "x"}}}))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["error"]["code"], "reserved_event_type");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("published by the console itself"),
            "{answer}"
        );
        let archive = api
            .patch(
                &format!("/api/v1/event-types/{key}"),
                json!({"archived": true}),
            )
            .await;
        assert_eq!(archive.status(), StatusCode::CONFLICT);
    }
}

#[tokio::test]
async fn a_relay_subscribed_to_webhook_disabled_hears_when_another_is_disabled_by_a_410() {
    let app = console("1h").await;
    let api = app.api().await;
    let gone = Receiver::start().await;
    gone.always(Answer::Status(410));
    let orders = webhook_to(&api, &gone.url, &["order.purchased"]).await;
    let relay = Receiver::start().await;
    let pager = webhook_to(&api, &relay.url, &["webhook.disabled"]).await;
    let everything = Receiver::start().await;
    webhook_to(&api, &everything.url, &["*"]).await;

    api.publish(json!({"event_type": "order.purchased", "data": {"order": {"id": "ord_1"}}}))
        .await;

    let notice = wait_for_type(&relay, "webhook.disabled", 1).await.remove(0);
    assert_eq!(notice["data"]["webhook"]["id"], orders, "{notice}");
    assert!(notice["data"]["webhook"]["name"].is_string(), "{notice}");
    assert_eq!(notice["data"]["status_code"], 410, "{notice}");
    assert_eq!(notice["data"]["status"], "disabled", "{notice}");
    assert!(
        notice["data"]["reason"].as_str().unwrap().contains("410"),
        "{notice}"
    );
    assert_matches_catalog(&api, &notice).await;
    let signed = relay.received()[0].header("webhook-signature").is_some();
    assert!(signed, "signed like every delivery");

    // "All events" means the host application's events: the operational ones are picked.
    let hosts = received(&everything, 1, Duration::from_secs(5)).await;
    assert_eq!(
        body(&hosts[0])["event_type"],
        "order.purchased",
        "it gets the host's"
    );
    let operational = arrived_within(&everything, Duration::from_millis(300))
        .await
        .iter()
        .map(body)
        .filter(|b| OPERATIONAL.contains(&b["event_type"].as_str().unwrap()))
        .count();
    assert_eq!(operational, 0, "an All events webhook gets none of them");
    assert_eq!(of_type(&relay, "webhook.disabled").len(), 1, "told once");
    let shown = wait_for_delivery(&api, pager, |d| d["status"] == "succeeded").await;
    assert_eq!(shown["event_type"], "webhook.disabled");
    let catalog = app.get_page("/settings/events").await;
    assert_eq!(
        catalog.text("#event-webhook\\.disabled .used-by"),
        "Used by 1 webhook",
        "the relay, not the All events webhook"
    );
    let listed = app
        .get_page("/settings/webhooks?event=webhook.disabled")
        .await;
    assert_eq!(
        listed.texts("tbody tr").len(),
        1,
        "{}",
        listed.text("tbody")
    );
}

#[tokio::test]
async fn a_notice_about_a_webhook_never_goes_to_it_and_a_failed_notice_raises_none() {
    let app = console("100ms").await;
    let api = app.api().await;
    // Subscribed to its own failures, and failing: its deliveries give up after two tries.
    let broken = Receiver::start().await;
    broken.always(Answer::Status(500));
    let own = webhook_to(&api, &broken.url, &["order.purchased", "delivery.failed"]).await;
    // The relay hears of it, but fails too.
    let relay = Receiver::start().await;
    relay.always(Answer::Status(500));
    let pager = webhook_to(&api, &relay.url, &["delivery.failed"]).await;

    let (_, published) = api
        .publish(json!({"event_type": "order.purchased", "data": {"order": {"id": "ord_7731"}}}))
        .await;

    let notice = wait_for_type(&relay, "delivery.failed", 1).await.remove(0);
    assert_eq!(notice["data"]["webhook"]["id"], own, "{notice}");
    assert_eq!(notice["data"]["delivery"]["event_id"], published["id"]);
    assert_eq!(notice["data"]["delivery"]["event_type"], "order.purchased");
    assert_eq!(notice["data"]["delivery"]["attempts"], 2);
    assert_eq!(notice["data"]["status_code"], 500);
    assert_matches_catalog(&api, &notice).await;

    // The relay's delivery of the notice gives up too, and raises nothing further.
    wait_for_delivery(&api, pager, |d| d["status"] == "failed").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let notices: i64 = sql_scalar(
        &app.db,
        "SELECT COUNT(*) FROM events WHERE event_type = 'delivery.failed'",
    )
    .await;
    assert_eq!(notices, 1, "no delivery.failed about a delivery.failed");
    assert!(
        of_type(&broken, "delivery.failed").is_empty(),
        "never told about itself"
    );
    assert_eq!(received(&broken, 2, Duration::ZERO).await.len(), 2);
}

#[tokio::test]
async fn a_relay_hears_when_a_webhook_starts_failing_and_when_it_recovers() {
    let app = console("200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms").await;
    let api = app.api().await;
    let flaky = Receiver::start().await;
    flaky.always(Answer::Status(503));
    let orders = webhook_to(&api, &flaky.url, &["order.purchased"]).await;
    let relay = Receiver::start().await;
    webhook_to(&api, &relay.url, &["webhook.failing", "webhook.recovered"]).await;

    for n in 0..6 {
        api.publish(json!({"event_type": "order.purchased", "data": {"n": n}}))
            .await;
    }
    let failing = wait_for_type(&relay, "webhook.failing", 1).await.remove(0);
    assert_eq!(failing["data"]["webhook"]["id"], orders, "{failing}");
    assert_eq!(failing["data"]["error_code"], "http_status", "{failing}");
    assert!(
        failing["data"]["reason"].as_str().unwrap().contains("503"),
        "{failing}"
    );
    assert_matches_catalog(&api, &failing).await;

    flaky.always(Answer::Status(200));
    app.advance(Duration::from_secs(5));
    let recovered = wait_for_type(&relay, "webhook.recovered", 1)
        .await
        .remove(0);
    assert_eq!(recovered["data"]["webhook"]["id"], orders, "{recovered}");
    assert_eq!(
        recovered["data"]["failing_since"], failing["data"]["failing_since"],
        "{recovered}"
    );
    assert_eq!(recovered["data"]["reason"], "delivery_succeeded");
    assert_matches_catalog(&api, &recovered).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(of_type(&relay, "webhook.failing").len(), 1, "told once");
    assert_eq!(of_type(&relay, "webhook.recovered").len(), 1, "told once");
}

/// A webhook Failing until `webhook.failing` reached the relay: (its id, the relay).
async fn failing_webhook(api: &Api, broken: &Receiver) -> (i64, Receiver) {
    broken.always(Answer::Status(503));
    let orders = webhook_to(api, &broken.url, &["order.purchased"]).await;
    let relay = Receiver::start().await;
    webhook_to(api, &relay.url, &["webhook.failing", "webhook.recovered"]).await;
    for n in 0..6 {
        api.publish(json!({"event_type": "order.purchased", "data": {"n": n}}))
            .await;
    }
    wait_for_type(&relay, "webhook.failing", 1).await;
    (orders, relay)
}

#[tokio::test]
async fn fixing_a_failing_webhooks_url_closes_its_alert() {
    let app = console("200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms").await;
    let api = app.api().await;
    let broken = Receiver::start().await;
    let (orders, relay) = failing_webhook(&api, &broken).await;

    let fixed = Receiver::start().await;
    let saved = api
        .patch(
            &format!("/api/v1/webhooks/{orders}"),
            json!({"url": fixed.url}),
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);

    let recovered = wait_for_type(&relay, "webhook.recovered", 1)
        .await
        .remove(0);
    assert_eq!(recovered["data"]["webhook"]["id"], orders, "{recovered}");
    assert_eq!(recovered["data"]["reason"], "url_changed", "{recovered}");
    assert_matches_catalog(&api, &recovered).await;
    // The held deliveries go to the new address.
    assert_eq!(received(&fixed, 6, Duration::from_secs(10)).await.len(), 6);
}

#[tokio::test]
async fn switching_a_failing_webhook_off_closes_its_alert_once() {
    let app = console("200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms").await;
    let api = app.api().await;
    let broken = Receiver::start().await;
    let (orders, relay) = failing_webhook(&api, &broken).await;

    let off = api
        .patch(
            &format!("/api/v1/webhooks/{orders}"),
            json!({"status": "disabled"}),
        )
        .await;
    assert_eq!(off.status(), StatusCode::OK);
    let recovered = wait_for_type(&relay, "webhook.recovered", 1)
        .await
        .remove(0);
    assert_eq!(recovered["data"]["reason"], "switched_off", "{recovered}");

    let on = api
        .patch(
            &format!("/api/v1/webhooks/{orders}"),
            json!({"status": "active"}),
        )
        .await;
    assert_eq!(on.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        of_type(&relay, "webhook.recovered").len(),
        1,
        "switched on, it was no longer Failing: nothing more to close"
    );
}
