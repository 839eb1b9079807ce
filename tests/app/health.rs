//! Health at a glance: a webhook whose tries keep failing (a 4xx as much as a timeout) says
//! so on the list and its page, in one account of it,
//! a delivery being retried is told apart from one never tried, and a delivery's page shows
//! the request as sent, ready to copy.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::common::receiver::{Answer, Receiver};
use crate::common::scene::{console, next_try_now, received, wait_for_delivery, webhook_to};

#[tokio::test]
async fn a_webhook_whose_tries_all_fail_shows_failing_and_its_healthy_neighbour_does_not() {
    let app = console("1h").await;
    let api = app.api().await;
    let refusing = Receiver::start().await;
    refusing.always(Answer::Status(400));
    let healthy = Receiver::start().await;
    let broken = webhook_to(&api, &refusing.url, &["*"]).await;
    let fine = webhook_to(&api, &healthy.url, &["*"]).await;

    for n in 0..6 {
        api.publish(json!({"event_type": "order.purchased", "data": {"n": n}}))
            .await;
    }
    received(&refusing, 6, Duration::from_secs(10)).await;
    received(&healthy, 6, Duration::from_secs(10)).await;
    wait_for_delivery(&api, broken, |d| d["attempt_count"] == 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let list = app.get_page("/settings/webhooks").await;
    let status = |id: i64| {
        list.text(&format!(
            "tr:has(a[href='/settings/webhooks/{id}']) td[data-label=Status]"
        ))
    };
    assert!(status(broken).contains("Failing"), "{}", status(broken));
    assert!(
        status(broken).contains("answered 400 Bad Request"),
        "{}",
        status(broken)
    );
    assert!(status(fine).contains("Active"), "{}", status(fine));
    assert!(!status(fine).contains("Failing"));

    let page = app.get_page(&format!("/settings/webhooks/{broken}")).await;
    let banner = page.text(".banner-danger");
    assert!(banner.contains("6 tries in a row failed"), "{banner}");
    assert!(
        banner.contains("Last failure: The receiver answered 400 Bad Request"),
        "{banner}"
    );
    assert_eq!(
        page.texts(".banner-danger, .notice[role=status]").len(),
        1,
        "one account of its health"
    );
    assert!(
        !app.get_page(&format!("/settings/webhooks/{fine}"))
            .await
            .has(".banner-danger")
    );
}

#[tokio::test]
async fn a_delivery_page_shows_the_request_as_sent_and_collapses_identical_tries() {
    let app = console("1h,1h,1h").await;
    let api = app.api().await;
    let receiver = Receiver::start().await;
    receiver.answer_with(&[503, 503, 503, 200]);
    let webhook = webhook_to(&api, &format!("{}/hooks/orders", receiver.url), &["*"]).await;
    api.publish(json!({"event_type": "order.purchased", "data": {"order": {"id": "ord_1"}}}))
        .await;
    // Each retry an hour after the failure before it.
    for tries in 1..=3 {
        next_try_now(&app, &api, webhook, tries).await;
    }
    let delivery = wait_for_delivery(&api, webhook, |d| d["status"] == "succeeded").await;
    let support = app.user("sam@example.com", "support").await;

    let page = support
        .get_page(&format!(
            "/settings/webhooks/{webhook}/deliveries/{}",
            delivery["id"]
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.text(".request-line"),
        format!("POST {}/hooks/orders", receiver.url)
    );
    let attempts = page.texts(".attempt h3");
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert!(
        attempts[0].starts_with("Attempts 1–3 (3 tries, each the same)"),
        "{attempts:?}"
    );
    assert!(attempts[1].starts_with("Attempt 4"), "{attempts:?}");
    let curl = page.text(".curl pre");
    assert!(
        curl.starts_with(&format!("curl -X POST '{}/hooks/orders'", receiver.url)),
        "{curl}"
    );
    assert!(
        curl.contains("webhook-signature: v1,") && curl.contains("--data-raw"),
        "{curl}"
    );
    assert!(
        curl.contains("$API_KEY") && !curl.contains("sk_test_123"),
        "{curl}"
    );
    assert_eq!(
        page.attr("button[aria-label='Copy as cURL command']", "data-copy"),
        Some(curl.clone())
    );
    assert!(page.has("button[aria-label='Copy body as sent']"));
    assert!(page.has("button[aria-label='Copy the webhook-id']"));
}

#[tokio::test]
async fn the_list_filters_failing_webhooks_and_sorts_them_first() {
    let app = console("1h").await;
    let api = app.api().await;
    let refusing = Receiver::start().await;
    refusing.always(Answer::Status(500));
    let healthy = Receiver::start().await;
    // "A…" sorts first by name; the failing "Z…" first by health.
    api.post(
        "/api/v1/webhooks",
        json!({"name": "A healthy one", "url": healthy.url, "events": ["*"]}),
    )
    .await;
    let broken: serde_json::Value = api
        .post(
            "/api/v1/webhooks",
            json!({"name": "Z broken one", "url": refusing.url, "events": ["*"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    for n in 0..5 {
        api.publish(json!({"event_type": "user.deleted", "data": {"n": n}}))
            .await;
    }
    received(&refusing, 5, Duration::from_secs(10)).await;
    let broken = broken["id"].as_i64().unwrap();
    let mut body = serde_json::Value::Null;
    for _ in 0..50 {
        body = api
            .get(&format!("/api/v1/webhooks/{broken}"))
            .await
            .json()
            .await
            .unwrap();
        if body["health"] == "failing" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(body["health"], "failing", "{body}");

    let failing = app.get_page("/settings/webhooks?status=failing").await;
    assert_eq!(failing.webhook_names(), ["Z broken one"]);
    let by_name = app.get_page("/settings/webhooks").await;
    assert_eq!(by_name.webhook_names(), ["A healthy one", "Z broken one"]);
    let by_health = app.get_page("/settings/webhooks?sort=health").await;
    assert_eq!(by_health.webhook_names(), ["Z broken one", "A healthy one"]);
}
