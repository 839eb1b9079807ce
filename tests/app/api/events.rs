//! Publishing events: validation, durability, idempotency, concurrency.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{error_code, order};
use crate::common::{Api, TestApp};

#[tokio::test]
async fn a_published_event_is_stored_with_one_delivery_per_matching_active_webhook() {
    let app = TestApp::spawn().await;
    let api = app.api().await;
    api.create_webhook("Orders", &["order.purchased"]).await;
    api.create_webhook("Everything", &["*"]).await;
    api.create_webhook("Users only", &["user.signed_up"]).await;
    let paused = api.create_webhook("Paused", &["order.purchased"]).await;
    api.patch(
        &format!("/api/v1/webhooks/{paused}"),
        json!({"status": "disabled"}),
    )
    .await;

    let (status, body) = api.publish(order()).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(
        body["deliveries"], 2,
        "Orders and Everything, not Users only or Paused"
    );
    assert!(body["id"].as_str().unwrap().starts_with("evt_"));

    let (_, signed_up) = api
        .publish(json!({"event_type": "user.signed_up", "data": {}}))
        .await;
    assert_eq!(signed_up["deliveries"], 2);
    let (_, refunded) = api
        .publish(json!({"event_type": "order.refunded", "data": {}}))
        .await;
    assert_eq!(refunded["deliveries"], 1);

    let deliveries: Value = api
        .get("/api/v1/webhooks/1/deliveries")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(deliveries["total"], 1);
    let delivery = &deliveries["data"][0];
    assert_eq!(delivery["event_id"], body["id"]);
    // The receiver's host does not resolve here: the delivery waits for its next try.
    assert_eq!(delivery["status"], "pending");
    let everything: Value = api
        .get("/api/v1/webhooks/2/deliveries")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(everything["total"], 3);
    assert_eq!(
        everything["data"][0]["event_type"], "order.refunded",
        "newest first"
    );
}

#[tokio::test]
async fn event_fields_are_checked_and_defaulted() {
    let app = TestApp::spawn().await;
    let api = app.api().await;

    let (status, _) = api
        .publish(json!({"event_type": "order.purchased", "data": 1, "event_time": "2026-01-15T10:30:00+01:00", "current_context": {"tenant": "acme"}}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let stored: (i64, String, String) = crate::common::sql_row(
        &app.db,
        "SELECT event_time, current_context, data FROM events ORDER BY id DESC LIMIT 1",
    )
    .await;
    assert_eq!(
        webhook_console::clock::Timestamp::from_unix_ms(stored.0).rfc3339(),
        "2026-01-15T09:30:00.000Z",
        "stored in UTC"
    );
    assert_eq!(
        (stored.1.as_str(), stored.2.as_str()),
        (r#"{"tenant":"acme"}"#, "1")
    );

    api.publish(json!({"event_type": "order.purchased", "data": null}))
        .await;
    let context: String = crate::common::sql_scalar(
        &app.db,
        "SELECT current_context FROM events ORDER BY id DESC LIMIT 1",
    )
    .await;
    assert_eq!(context, "{}");

    for (body, code) in [
        (
            json!({"event_type": "order.purchased"}),
            "validation_failed",
        ),
        (
            json!({"event_type": "order.purchased", "data": {}, "event_time": "yesterday"}),
            "validation_failed",
        ),
        (json!({"event_type": 7, "data": {}}), "validation_failed"),
        (
            json!({"event_type": "order.exploded", "data": {}}),
            "unknown_event_type",
        ),
        (
            json!({"event_type": "Not A Key", "data": {}}),
            "unknown_event_type",
        ),
        (
            json!({"event_type": "webhook.test", "data": {}}),
            "reserved_event_type",
        ),
        (json!([1, 2, 3]), "validation_failed"),
    ] {
        let response = api.post("/api/v1/events", body.clone()).await;
        assert_eq!(
            error_code(response).await,
            (StatusCode::BAD_REQUEST, code.into()),
            "{body}"
        );
    }
    let count: i64 = crate::common::sql_scalar(&app.db, "SELECT COUNT(*) FROM events").await;
    assert_eq!(count, 2, "nothing invalid was stored");
}

#[tokio::test]
async fn malformed_oversized_and_non_json_bodies_are_refused_and_the_server_stays_healthy() {
    let app = TestApp::spawn().await;
    let api = app.api().await;
    let send = |content_type: &'static str, body: Vec<u8>| {
        api.request(Method::POST, "/api/v1/events")
            .header("Content-Type", content_type)
            .body(body)
            .send()
    };

    let malformed = send("application/json", b"{\"event_type\": ".to_vec())
        .await
        .unwrap();
    assert_eq!(
        error_code(malformed).await,
        (StatusCode::BAD_REQUEST, "malformed_json".into())
    );
    let text = send("text/plain", b"hello".to_vec()).await.unwrap();
    assert_eq!(
        error_code(text).await,
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type".into()
        )
    );
    let huge = format!(
        r#"{{"event_type":"order.purchased","data":"{}"}}"#,
        "x".repeat(300 * 1024)
    );
    let oversized = send("application/json", huge.into_bytes()).await.unwrap();
    assert_eq!(
        error_code(oversized).await,
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large".into())
    );
    let just_under = format!(
        r#"{{"event_type":"order.purchased","data":"{}"}}"#,
        "x".repeat(250 * 1024)
    );
    assert_eq!(
        send("application/json", just_under.into_bytes())
            .await
            .unwrap()
            .status(),
        StatusCode::ACCEPTED
    );

    let unknown = api.get("/api/v1/nothing-here").await;
    assert_eq!(
        error_code(unknown).await,
        (StatusCode::NOT_FOUND, "not_found".into())
    );
    let wrong_method = api
        .request(Method::PUT, "/api/v1/events")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(wrong_method).await,
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed".into())
    );
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    assert_eq!(api.publish(order()).await.0, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn an_idempotency_key_repeat_answers_the_first_event_and_queues_nothing() {
    let app = TestApp::spawn().await;
    let api = app.api().await;
    api.create_webhook("Orders", &["order.purchased"]).await;
    let publish = || {
        api.request(Method::POST, "/api/v1/events")
            .header("Idempotency-Key", "order-1-paid")
            .json(&order())
            .send()
    };

    let first: Value = publish().await.unwrap().json().await.unwrap();
    let again = publish().await.unwrap();
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    let again: Value = again.json().await.unwrap();

    assert_eq!(again["id"], first["id"]);
    let deliveries: i64 =
        crate::common::sql_scalar(&app.db, "SELECT COUNT(*) FROM deliveries").await;
    assert_eq!(deliveries, 1);
    let other: Value = api
        .request(Method::POST, "/api/v1/events")
        .header("Idempotency-Key", "order-2-paid")
        .json(&order())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(other["id"], first["id"]);
}

#[tokio::test]
async fn concurrent_repeats_of_one_idempotency_key_store_one_event() {
    let app = TestApp::spawn().await;
    let api = app.api().await;
    api.create_webhook("Orders", &["order.purchased"]).await;

    let publishers = (0..20).map(|_| {
        let api = api.clone();
        tokio::spawn(async move {
            let response = api
                .request(Method::POST, "/api/v1/events")
                .header("Idempotency-Key", "same-everywhere")
                .json(&order())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::ACCEPTED);
            response.json::<Value>().await.unwrap()
        })
    });
    let mut answers = Vec::new();
    for publisher in publishers {
        answers.push(publisher.await.unwrap());
    }

    assert!(
        answers.iter().all(|answer| *answer == answers[0]),
        "{answers:?}"
    );
    assert_eq!(answers[0]["deliveries"], 1);
    let (events, deliveries): (i64, i64) = crate::common::sql_row(
        &app.db,
        "SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM deliveries)",
    )
    .await;
    assert_eq!((events, deliveries), (1, 1));
}

#[tokio::test]
async fn fifty_concurrent_publishers_are_all_accepted_and_each_event_is_stored_once() {
    let app = TestApp::spawn().await;
    let api = app.api().await;
    api.create_webhook("Orders", &["order.purchased"]).await;

    let publishers = (0..50).map(|i| {
        let api = api.clone();
        tokio::spawn(async move {
            let mut ids = Vec::new();
            for j in 0..4 {
                let (status, body) = api
                    .publish(json!({"event_type": "order.purchased", "data": {"n": i * 4 + j}}))
                    .await;
                assert_eq!(status, StatusCode::ACCEPTED);
                ids.push(body["id"].as_str().unwrap().to_owned());
            }
            ids
        })
    });
    let mut ids: Vec<String> = Vec::new();
    for publisher in publishers {
        ids.extend(publisher.await.unwrap());
    }

    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 200, "every answer names its own event");
    let (events, distinct, deliveries): (i64, i64, i64) = crate::common::sql_row(
        &app.db,
        "SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(DISTINCT data) FROM events),
                (SELECT COUNT(*) FROM deliveries)",
    )
    .await;
    assert_eq!((events, distinct, deliveries), (200, 200, 200));
}

#[tokio::test]
async fn publishing_while_a_webhook_is_deleted_never_leaves_a_dangling_delivery() {
    let app = TestApp::spawn().await;
    let api = app.api().await;
    let ids: Vec<i64> = futures_ids(&api, 10).await;

    let publishing = {
        let api = api.clone();
        tokio::spawn(async move {
            for _ in 0..100 {
                assert_eq!(api.publish(order()).await.0, StatusCode::ACCEPTED);
            }
        })
    };
    for id in ids {
        assert_eq!(
            api.delete(&format!("/api/v1/webhooks/{id}")).await.status(),
            StatusCode::NO_CONTENT
        );
    }
    publishing.await.unwrap();

    let dangling: i64 = crate::common::sql_scalar(&app.db, "SELECT COUNT(*) FROM deliveries d LEFT JOIN webhooks w ON w.id = d.webhook_id WHERE w.id IS NULL").await;
    assert_eq!(dangling, 0);
    assert_eq!(api.publish(order()).await.1["deliveries"], 0);
}

async fn futures_ids(api: &Api, count: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..count {
        ids.push(
            api.create_webhook(&format!("Orders {i}"), &["order.purchased"])
                .await,
        );
    }
    ids
}
