//! The delivery engine against real local receivers: what arrives, how it is signed, and
//! what happens when the receiver fails, stalls or is not allowed.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

use webhook_console::delivery::housekeeping::{self, Upkeep};

use crate::common::receiver::{Answer, Received, Receiver};
use crate::common::scene::{
    Scene, arrived_within, console, received, scene, wait_for_delivery, webhook_to,
};
use crate::common::{Api, TestApp};

/// Standard Webhooks verification, written apart from the server's signer.
fn verify(secret: &str, request: &Received) -> bool {
    let key = STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap();
    let id = request.header("webhook-id").unwrap();
    let timestamp = request.header("webhook-timestamp").unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(&request.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    request
        .header("webhook-signature")
        .unwrap()
        .split(' ')
        .any(|signature| signature == expected)
}

/// Verification by the Standard Webhooks reference library (Python, installed by the test
/// command): what a receiver following the standard would do.
fn verified_by_reference_library(secret: &str, request: &Received) -> bool {
    use std::io::Write;
    let input = json!({
        "secret": secret,
        "headers": {
            "webhook-id": request.header("webhook-id"),
            "webhook-timestamp": request.header("webhook-timestamp"),
            "webhook-signature": request.header("webhook-signature"),
        },
        "body": String::from_utf8_lossy(&request.body),
    });
    let mut python = std::process::Command::new("python3")
        .args([
            "-c",
            "import json, sys\n\
             from standardwebhooks.webhooks import Webhook\n\
             i = json.load(sys.stdin)\n\
             Webhook(i['secret']).verify(i['body'], i['headers'])",
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    python
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    python.wait().unwrap().success()
}

async fn secret_of(api: &Api, webhook: i64) -> String {
    api.get(&format!("/api/v1/webhooks/{webhook}/secret"))
        .await
        .json::<Value>()
        .await
        .unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_published_event_arrives_with_the_four_key_body_and_a_valid_signature() {
    let app = console("1s").await;
    let api = app.api().await;
    let receiver = Receiver::start().await;
    let webhook = webhook_to(&api, &receiver.url, &["order.purchased"]).await;

    let (status, published) = api
        .publish(json!({
            "event_type": "order.purchased",
            "event_time": "2026-01-15T09:30:00Z",
            "current_context": {"tenant": "acme"},
            "data": {"order": {"id": "ord_7731"}}
        }))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let got = received(&receiver, 1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1, "delivered once");
    let request = &got[0];
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(
        body,
        json!({
            "event_time": "2026-01-15T09:30:00.000Z",
            "event_type": "order.purchased",
            "current_context": {"tenant": "acme"},
            "data": {"order": {"id": "ord_7731"}}
        })
    );
    assert_eq!(request.method, "POST");
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("x-api-key"), Some("sk_test_123"));
    assert!(
        request
            .header("user-agent")
            .unwrap()
            .starts_with("webhook-console/")
    );
    assert!(
        verify(&secret_of(&api, webhook).await, request),
        "signature"
    );
    let deliveries: Value = api
        .get(&format!("/api/v1/webhooks/{webhook}/deliveries"))
        .await
        .json()
        .await
        .unwrap();
    let delivery = &deliveries["data"][0];
    assert_eq!(delivery["event_id"], published["id"]);
    assert_eq!(
        request.header("webhook-id").unwrap(),
        delivery["id"].to_string()
    );
}

#[tokio::test]
async fn a_failing_receiver_is_retried_with_the_same_id_and_body_until_it_succeeds() {
    let Scene {
        api,
        receiver,
        webhook,
        ..
    } = scene("100ms,100ms,100ms").await;
    receiver.answer_with(&[500, 503]);

    api.publish(json!({"event_type": "user.signed_up", "data": {"user": 1}}))
        .await;

    let got = received(&receiver, 3, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 3, "two failures, then success");
    assert!(
        got.iter()
            .all(|r| r.header("webhook-id") == got[0].header("webhook-id"))
    );
    assert!(got.iter().all(|r| r.body == got[0].body), "the same bytes");
    let secret = secret_of(&api, webhook).await;
    assert!(got.iter().all(|r| verify(&secret, r)));
    let delivery = wait_for_delivery(&api, webhook, |d| d["status"] == "succeeded").await;
    assert_eq!(delivery["attempt_count"], 3);
    let codes: Vec<Value> = delivery["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].clone())
        .collect();
    assert_eq!(codes, [json!(500), json!(503), json!(200)]);
}

#[tokio::test]
async fn a_delivery_that_keeps_failing_fails_when_its_schedule_is_spent() {
    let Scene {
        api,
        receiver,
        webhook,
        ..
    } = scene("50ms,50ms").await;
    receiver.answer_with(&[500; 10]);

    api.publish(json!({"event_type": "user.signed_up", "data": {}}))
        .await;

    let delivery = wait_for_delivery(&api, webhook, |d| d["status"] == "failed").await;
    assert_eq!(
        delivery["attempt_count"], 3,
        "the first try and two retries"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 3, "and no more");
    let attempt = &delivery["attempts"][0];
    assert_eq!(attempt["error_code"], "http_status");
}

#[tokio::test]
async fn loopback_is_refused_unless_allowed_and_the_log_says_why() {
    let app = TestApp::spawn().await;
    let api = app.api().await;
    let receiver = Receiver::start().await;
    let localhost = receiver.url.replace("127.0.0.1", "localhost");
    let by_address = webhook_to(&api, &receiver.url, &["*"]).await;
    let by_name = webhook_to(&api, &localhost, &["*"]).await;

    api.publish(json!({"event_type": "user.signed_up", "data": {}}))
        .await;

    for webhook in [by_address, by_name] {
        let delivery = wait_for_delivery(&api, webhook, |d| d["attempt_count"] == 1).await;
        assert_eq!(
            delivery["status"], "failed",
            "no retry can pass the guard: {delivery}"
        );
        let attempt = &delivery["attempts"][0];
        assert_eq!(attempt["error_code"], "blocked_target", "{attempt}");
        let message = attempt["error_message"].as_str().unwrap();
        assert!(
            message.contains("loopback") && message.contains("--allow-private-targets"),
            "{message}"
        );
    }
    assert!(
        receiver.received().is_empty(),
        "nothing reached the receiver"
    );
}

#[tokio::test]
async fn a_disabled_webhook_gets_nothing() {
    let Scene {
        api,
        receiver,
        webhook,
        ..
    } = scene("1s").await;
    api.patch(
        &format!("/api/v1/webhooks/{webhook}"),
        json!({"status": "disabled"}),
    )
    .await;
    // A sibling that stays active: what it gets, the disabled one would have got.
    let sibling = Receiver::start().await;
    webhook_to(&api, &sibling.url, &["*"]).await;

    let (_, published) = api
        .publish(json!({"event_type": "user.signed_up", "data": {}}))
        .await;
    assert_eq!(published["deliveries"], 1, "one delivery, the sibling's");
    received(&sibling, 1, Duration::from_secs(5)).await;

    let test_event = api
        .post_empty(&format!("/api/v1/webhooks/{webhook}/test-event"))
        .await;
    assert_eq!(
        test_event.status(),
        StatusCode::CONFLICT,
        "not even a test event"
    );

    assert!(
        arrived_within(&receiver, Duration::from_millis(300))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_receiver_that_answers_410_gone_is_disabled_at_once() {
    let Scene {
        app,
        api,
        receiver,
        webhook,
    } = scene("50ms").await;
    receiver.answer_with(&[410]);

    api.publish(json!({"event_type": "user.signed_up", "data": {}}))
        .await;

    let delivery = wait_for_delivery(&api, webhook, |d| d["status"] == "failed").await;
    assert_eq!(delivery["attempt_count"], 1, "no retry");
    let shown: Value = api
        .get(&format!("/api/v1/webhooks/{webhook}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["status"], "disabled");
    let log = app.get_page("/settings/audit").await.text("tbody");
    assert!(log.contains("410 Gone"), "{log}");
}

/// Polls the webhook's newest delivery until `done` holds (at most 10 s).
#[tokio::test]
async fn a_receiver_that_does_not_answer_in_time_fails_the_attempt_as_a_timeout() {
    let Scene {
        api,
        receiver,
        webhook,
        ..
    } = scene("1h").await;
    receiver.script([Answer::Slowly(Duration::from_secs(4))]);

    api.publish(json!({"event_type": "user.signed_up", "data": {}}))
        .await;

    let delivery = wait_for_delivery(&api, webhook, |d| d["attempt_count"] == 1).await;
    assert_eq!(delivery["attempts"][0]["error_code"], "timeout");
    assert_eq!(delivery["status"], "pending", "tried again later");
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let app = console("1h").await;
    let api = app.api().await;
    let elsewhere = Receiver::start().await;
    let receiver = Receiver::start().await;
    receiver.script([Answer::Redirect(elsewhere.url.clone())]);
    let webhook = webhook_to(&api, &receiver.url, &["*"]).await;

    api.publish(json!({"event_type": "user.signed_up", "data": {}}))
        .await;

    let delivery = wait_for_delivery(&api, webhook, |d| d["attempt_count"] == 1).await;
    let attempt = &delivery["attempts"][0];
    assert_eq!(attempt["status_code"], 302);
    assert_eq!(attempt["error_code"], "http_status");
    assert!(elsewhere.received().is_empty());
}

#[tokio::test]
async fn an_endless_answer_is_cut_short_and_still_counts() {
    let Scene {
        api,
        receiver,
        webhook,
        ..
    } = scene("1h").await;
    receiver.script([Answer::Endless]);

    api.publish(json!({"event_type": "user.signed_up", "data": {}}))
        .await;

    let delivery = wait_for_delivery(&api, webhook, |d| d["status"] == "succeeded").await;
    assert_eq!(delivery["attempts"][0]["status_code"], 200);
}

#[tokio::test]
async fn a_receiver_that_asks_for_a_pause_gets_nothing_until_then() {
    let app = console("300ms").await;
    let api = app.api().await;
    let receiver = Receiver::start().await;
    receiver.script([Answer::RetryAfter(429, 2)]);
    let webhook = webhook_to(&api, &receiver.url, &["*"]).await;

    api.publish(json!({"event_type": "user.signed_up", "data": {"n": 1}}))
        .await;
    received(&receiver, 1, Duration::from_secs(5)).await;
    api.publish(json!({"event_type": "user.signed_up", "data": {"n": 2}}))
        .await;
    // The retry (300 ms) and the new event both fall due within the pause.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(receiver.received().len(), 1, "nothing during the pause");

    app.advance(Duration::from_secs(2));
    let got = received(&receiver, 3, Duration::from_secs(1)).await;
    assert_eq!(
        got.len(),
        3,
        "the retry and the next event, after the pause"
    );
    let shown = api.get(&format!("/api/v1/webhooks/{webhook}")).await;
    let shown: serde_json::Value = shown.json().await.unwrap();
    assert!(shown["paused_until"].is_string() || shown["paused_until"].is_null());
}

#[tokio::test]
async fn a_slow_receiver_does_not_hold_up_another_webhook() {
    let app = console("1h").await;
    let api = app.api().await;
    let slow = Receiver::start().await;
    slow.always(Answer::Slowly(Duration::from_secs(10)));
    let fast = Receiver::start().await;
    webhook_to(&api, &slow.url, &["order.purchased"]).await;
    for i in 0..20 {
        api.publish(json!({"event_type": "order.purchased", "data": {"i": i}}))
            .await;
    }
    webhook_to(&api, &fast.url, &["user.signed_up"]).await;

    let published = tokio::time::Instant::now();
    api.publish(json!({"event_type": "user.signed_up", "data": {}}))
        .await;

    let got = received(&fast, 1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1);
    assert!(
        published.elapsed() < Duration::from_secs(2),
        "{:?}",
        published.elapsed()
    );
    assert!(
        slow.received().len() <= 8,
        "at most 8 in flight to one webhook"
    );
}

#[tokio::test]
async fn metrics_count_events_attempts_and_the_queue() {
    let scene = scene("1h").await;
    scene
        .first_try_fails(500, json!({"event_type": "user.signed_up", "data": {}}))
        .await;
    let app = scene.app;

    let text = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "webhook_console_events_accepted_total 1",
        "webhook_console_attempts_total{error_code=\"http_status\"} 1",
        "webhook_console_deliveries_total{outcome=\"retrying\"} 1",
        "webhook_console_queue_depth 1",
        "webhook_console_deliveries_in_flight 0",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
    assert!(text.contains("webhook_console_attempt_duration_seconds_bucket"));
    let ready = reqwest::get(app.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_webhook_that_only_fails_for_days_is_auto_disabled_and_old_events_are_pruned() {
    let scene = scene("1h").await;
    scene
        .first_try_fails(500, json!({"event_type": "user.signed_up", "data": {}}))
        .await;
    let Scene {
        app, api, webhook, ..
    } = scene;
    let relay = Receiver::start().await;
    webhook_to(&api, &relay.url, &["webhook.disabled"]).await;
    let days = |n: u64| Duration::from_secs(n * 24 * 60 * 60);
    let upkeep = Upkeep {
        retention: days(30),
        auto_disable_after: days(5),
    };
    let now = app.now();

    housekeeping::once(&app.db, &app.engine, upkeep, now.plus(days(4)))
        .await
        .unwrap();
    let status = |api: Api| async move {
        api.get(&format!("/api/v1/webhooks/{webhook}"))
            .await
            .json::<Value>()
            .await
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status(api.clone()).await, "active", "four days is not five");

    housekeeping::once(&app.db, &app.engine, upkeep, now.plus(days(6)))
        .await
        .unwrap();
    assert_eq!(status(api.clone()).await, "auto_disabled");
    let list = app.get_page("/settings/webhooks").await;
    assert!(
        list.text(".status-reason")
            .starts_with("Auto-disabled: every delivery failed for 5days"),
        "the list says why: {}",
        list.text(".status-reason")
    );
    let log = app.get_page("/settings/audit").await.text("tbody");
    assert!(
        log.contains("system") && log.contains("Auto-disabled"),
        "{log}"
    );
    let notice: String = crate::common::sql_scalar(
        &app.db,
        "SELECT data FROM events WHERE event_type = 'webhook.disabled'",
    )
    .await;
    let notice: Value = serde_json::from_str(&notice).unwrap();
    assert_eq!(notice["webhook"]["id"], webhook, "{notice}");
    assert_eq!(notice["status"], "auto_disabled", "{notice}");
    assert_eq!(notice["status_code"], Value::Null, "{notice}");

    housekeeping::once(&app.db, &app.engine, upkeep, now.plus(days(31)))
        .await
        .unwrap();
    // The notice of day 6 is 25 days old: within the retention.
    let events: i64 = crate::common::sql_scalar(
        &app.db,
        "SELECT COUNT(*) FROM events WHERE event_type <> 'webhook.disabled'",
    )
    .await;
    assert_eq!(events, 0, "pruned after the retention");
}

#[tokio::test]
async fn after_a_rotation_deliveries_carry_both_signatures() {
    let Scene {
        app,
        api,
        receiver,
        webhook,
    } = scene("1h").await;
    let old = secret_of(&api, webhook).await;

    let rotated = app
        .post_form(&format!("/settings/webhooks/{webhook}/rotate-secret"), &[])
        .await;
    assert_eq!(rotated.status(), StatusCode::SEE_OTHER);
    let new = secret_of(&api, webhook).await;
    assert_ne!(new, old);
    api.publish(json!({"event_type": "user.signed_up", "data": {}}))
        .await;

    let got = received(&receiver, 1, Duration::from_secs(5)).await;
    let request = &got[0];
    assert_eq!(
        request
            .header("webhook-signature")
            .unwrap()
            .split(' ')
            .count(),
        2
    );
    assert!(verify(&old, request), "the old secret still verifies");
    assert!(verify(&new, request), "the new one too");
    assert!(verified_by_reference_library(&old, request));
    assert!(verified_by_reference_library(&new, request));
    let via_api = api
        .post_empty(&format!("/api/v1/webhooks/{webhook}/secret/rotate"))
        .await;
    assert_eq!(via_api.status(), StatusCode::OK);
    let log = app.get_page("/settings/audit").await.text("tbody");
    assert_eq!(log.matches("Signing secret rotated").count(), 2, "{log}");
}

#[tokio::test]
async fn a_redelivery_starts_a_fresh_retry_schedule() {
    let Scene {
        api,
        receiver,
        webhook,
        ..
    } = scene("50ms").await;
    receiver.answer_with(&[500, 500, 500]);
    api.publish(json!({"event_type": "user.signed_up", "data": {}}))
        .await;
    let failed = wait_for_delivery(&api, webhook, |d| d["status"] == "failed").await;
    assert_eq!(failed["attempt_count"], 2, "the schedule allows one retry");

    let redelivered = api
        .post_empty(&format!(
            "/api/v1/webhooks/{webhook}/deliveries/{}/redeliver",
            failed["id"]
        ))
        .await;
    assert_eq!(redelivered.status(), StatusCode::ACCEPTED);

    let delivery = wait_for_delivery(&api, webhook, |d| d["status"] == "succeeded").await;
    assert_eq!(
        delivery["attempt_count"], 4,
        "a failed try, then a retry that succeeded"
    );
    let ids: std::collections::HashSet<_> = receiver
        .received()
        .iter()
        .map(|r| r.header("webhook-id").unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "the same webhook-id throughout");
}

#[tokio::test]
async fn the_webhook_page_logs_each_delivery_and_a_delivery_opens_to_its_attempts() {
    let scene = scene("1h").await;
    let delivery = scene
        .first_try_fails(
            503,
            json!({"event_type": "order.purchased", "data": {"order": 7}}),
        )
        .await;
    let Scene {
        app,
        api,
        receiver,
        webhook,
    } = scene;
    let support = app.user("sam@example.com", "support").await;

    let page = app
        .get_page(&format!("/settings/webhooks/{webhook}?status=pending"))
        .await;
    assert_eq!(page.texts(".delivery-log tbody tr").len(), 1);
    assert!(page.text(".delivery-log tbody").contains("order.purchased"));
    assert!(page.text(".delivery-log tbody").contains("503"));
    assert!(
        page.text(".delivery-log tbody").contains("Retrying"),
        "tried and waiting for its next try, not by colour alone"
    );
    assert!(
        page.text(".delivery-log tbody td[data-label=Attempts]")
            .contains("2 of "),
        "{}",
        page.text(".delivery-log tbody")
    );
    let none_failed = app
        .get_page(&format!("/settings/webhooks/{webhook}?status=failed"))
        .await;
    assert!(
        none_failed
            .text("#delivery-log")
            .contains("No deliveries match these filters")
    );
    let other_type = app
        .get_page(&format!("/settings/webhooks/{webhook}?event=user.deleted"))
        .await;
    assert!(
        !other_type.has(".delivery-log tbody tr"),
        "filtered by event type"
    );
    let this_type = app
        .get_page(&format!(
            "/settings/webhooks/{webhook}?event=order.purchased"
        ))
        .await;
    assert_eq!(this_type.texts(".delivery-log tbody tr").len(), 1);

    let href = page.attr(".delivery-log .row-link", "href").unwrap();
    assert_eq!(
        href,
        format!("/settings/webhooks/{webhook}/deliveries/{}", delivery["id"])
    );
    let detail = app.get_page(&href).await;
    assert!(detail.text(".attempt").contains("503"));
    let sent = &receiver.received()[0];
    assert!(
        detail
            .text(".attempt .signature")
            .contains(sent.header("webhook-signature").unwrap()),
        "the signature the receiver got"
    );
    assert!(
        detail.text(".attempt").contains("content-length: 2"),
        "the answer's headers"
    );
    assert!(detail.text(".code-block").contains("\"order\": 7"));
    assert!(
        detail.text(".properties").contains("••••"),
        "the API key, masked"
    );
    assert!(!detail.html.html().contains("sk_test_123"));

    let seen_by_support = support.get_page(&href).await;
    assert!(
        !seen_by_support.has(".header-actions"),
        "no Redeliver for support"
    );
    assert!(
        !seen_by_support.html.html().contains("_123"),
        "not even masked characters"
    );

    let confirmation = app.get_page(&format!("{href}/redeliver")).await;
    assert!(confirmation.text("h1").contains("Redeliver delivery"));
    assert!(confirmation.text(".confirm-card").contains(&receiver.url));
    let redelivered = app.post_form(&format!("{href}/redeliver"), &[]).await;
    assert_eq!(redelivered.status(), StatusCode::SEE_OTHER);
    let done = wait_for_delivery(&api, webhook, |d| d["status"] == "succeeded").await;
    assert_eq!(done["attempt_count"], 2);
    let after = app.get_page(&href).await;
    assert_eq!(after.texts(".attempt").len(), 2);
}

#[tokio::test]
async fn a_test_event_goes_to_one_webhook_only_and_shows_in_its_log() {
    let app = console("1h").await;
    let api = app.api().await;
    let receiver = Receiver::start().await;
    let bystander = Receiver::start().await;
    let webhook = webhook_to(&api, &receiver.url, &["*"]).await;
    webhook_to(&api, &bystander.url, &["*"]).await;

    let confirmation = app
        .get_page(&format!("/settings/webhooks/{webhook}/test-event"))
        .await;
    assert!(confirmation.text(".confirm-card").contains(&receiver.url));
    assert!(receiver.received().is_empty(), "asking sends nothing");
    let sent = app
        .post_form(&format!("/settings/webhooks/{webhook}/test-event"), &[])
        .await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);

    let got = received(&receiver, 1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1);
    let body: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(body["event_type"], "webhook.test");
    assert!(
        !String::from_utf8_lossy(&got[0].body).contains(crate::common::ADMIN_EMAIL),
        "no personal data goes to a receiver: {body}"
    );
    assert!(verify(&secret_of(&api, webhook).await, &got[0]));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(bystander.received().is_empty(), "to this webhook only");
    wait_for_delivery(&api, webhook, |d| d["status"] == "succeeded").await;
    let log = app
        .get_page(&format!("/settings/webhooks/{webhook}"))
        .await
        .text(".delivery-log tbody");
    assert!(
        log.contains("webhook.test") && log.contains("Succeeded"),
        "{log}"
    );

    let via_api = api
        .post_empty(&format!("/api/v1/webhooks/{webhook}/test-event"))
        .await;
    assert_eq!(via_api.status(), StatusCode::ACCEPTED);
    assert_eq!(
        received(&receiver, 2, Duration::from_secs(5)).await.len(),
        2
    );
}

#[tokio::test]
async fn failed_deliveries_since_a_time_can_be_recovered_at_once() {
    let Scene {
        app,
        api,
        receiver,
        webhook,
    } = scene("50ms").await;
    receiver.answer_with(&[500; 4]);
    for i in 0..2 {
        api.publish(json!({"event_type": "user.signed_up", "data": {"i": i}}))
            .await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while receiver.received().len() < 4 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    wait_for_delivery(&api, webhook, |d| d["status"] == "failed").await;

    let since = app.now().minus(Duration::from_secs(3600)).utc_minutes();
    let list = app.get_page("/settings/webhooks").await;
    assert!(
        list.text("tbody").contains("2 failed"),
        "the list counts them"
    );
    let confirmation = app
        .get_page(&format!(
            "/settings/webhooks/{webhook}/recover?since={since}"
        ))
        .await;
    assert!(
        confirmation
            .text("h1")
            .starts_with("Recover 2 failed deliveries since"),
        "says how many before sending"
    );
    assert_eq!(
        confirmation.attr("input[name=since]", "value").as_deref(),
        Some(since.as_str())
    );
    assert!(receiver.received().len() == 4, "asking sends nothing");
    let recovered = app
        .post_form(
            &format!("/settings/webhooks/{webhook}/recover"),
            &[("since", since.as_str())],
        )
        .await;
    assert_eq!(recovered.status(), StatusCode::SEE_OTHER);
    let page = app.get_page(&format!("/settings/webhooks/{webhook}")).await;
    assert_eq!(
        page.text(".toast-success"),
        "2 failed deliveries queued again"
    );

    let got = received(&receiver, 6, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 6, "both sent again at once");
    let via_api: Value = api
        .post(
            &format!("/api/v1/webhooks/{webhook}/recover"),
            json!({"since": "2000-01-01T00:00:00Z"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(via_api["queued"], 0, "nothing failed any more");
}
