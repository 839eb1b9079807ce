//! The API takes only what it documents: a misspelt field is refused, not ignored, and the
//! console's own names (event types, groups, headers) cannot be taken by a token holder.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::TestApp;

async fn answer(response: reqwest::Response) -> (StatusCode, Value) {
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn a_misspelt_field_is_refused_with_422_naming_it_in_every_body() {
    let app = TestApp::spawn().await;
    let api = app.api().await;
    let webhook = api.create_webhook("Orders", &["order.purchased"]).await;
    let cases = [
        (
            "POST",
            "/api/v1/events".to_owned(),
            json!({"event_type": "order.purchased", "data": {}, "filtr": 1}),
        ),
        (
            "POST",
            "/api/v1/webhooks".to_owned(),
            json!({"name": "X", "url": "https://example.com/x", "events": ["*"], "filtr": {}}),
        ),
        (
            "PATCH",
            format!("/api/v1/webhooks/{webhook}"),
            json!({"filtr": {}}),
        ),
        (
            "POST",
            "/api/v1/event-types".to_owned(),
            json!({"key": "invoice.paid", "group": "Billing", "description": "Paid", "filtr": 1}),
        ),
        (
            "PATCH",
            "/api/v1/event-types/order.purchased".to_owned(),
            json!({"filtr": true}),
        ),
        (
            "PATCH",
            format!("/api/v1/webhooks/{webhook}"),
            json!({"headers": {"X-Token": {"value": "abc", "secrt": true}}}),
        ),
    ];
    for (method, path, body) in cases {
        let request = match method {
            "POST" => api.post(&path, body.clone()).await,
            _ => api.patch(&path, body.clone()).await,
        };
        let (status, refused) = answer(request).await;
        let named = refused["error"]["details"]["filtr"].is_array()
            || refused["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("no other keys");
        let expected = match body.to_string().contains("secrt") {
            // A header value of the wrong shape is a shape error, named in the message.
            true => StatusCode::BAD_REQUEST,
            false => StatusCode::UNPROCESSABLE_ENTITY,
        };
        assert_eq!(status, expected, "{method} {path}: {refused}");
        assert!(named, "{method} {path}: {refused}");
    }
    let listed: Value = api.get("/api/v1/webhooks").await.json().await.unwrap();
    assert_eq!(
        listed["data"].as_array().unwrap().len(),
        1,
        "nothing was created"
    );
}

#[tokio::test]
async fn the_consoles_event_names_and_group_cannot_be_registered_or_published() {
    let app = TestApp::spawn().await;
    let api = app.api().await;
    let register = |key: &str, group: &str| json!({"key": key, "group": group, "description": "Looks official"});
    for (key, group, field) in [
        ("webhook.renamed", "Webhooks", "key"),
        ("delivery.failedx", "Deliveries", "key"),
        ("billing.system_notice", "System", "group"),
        ("billing.system_notice", "SYSTEM", "group"),
    ] {
        let (status, refused) =
            answer(api.post("/api/v1/event-types", register(key, group)).await).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{key} in {group}: {refused}"
        );
        assert!(refused["error"]["details"][field].is_array(), "{refused}");
        let (status, _) = api.publish(json!({"event_type": key, "data": {}})).await;
        assert_ne!(status, StatusCode::ACCEPTED, "{key}");
    }
    let (status, body) = answer(
        api.post("/api/v1/event-types", register("billing.notice", "Billing"))
            .await,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "a host's own names are fine: {body}"
    );
}

#[tokio::test]
async fn proxy_and_encoding_headers_are_reserved() {
    let app = TestApp::spawn().await;
    let api = app.api().await;
    for name in [
        "Proxy-Authorization",
        "Proxy-Authenticate",
        "Content-Encoding",
    ] {
        let (status, refused) = answer(
            api.post(
                "/api/v1/webhooks",
                json!({"name": format!("With {name}"), "url": "https://example.com/x",
                       "events": ["*"], "headers": {name: "x"}}),
            )
            .await,
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: {refused}"
        );
        assert!(refused.to_string().contains("reserved"), "{refused}");
    }
}
