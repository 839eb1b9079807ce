//! Managing webhooks, event types and deliveries; the OpenAPI document.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{error_code, order};
use crate::common::TestApp;

#[tokio::test]
async fn webhooks_are_managed_with_the_same_rules_and_messages_as_the_form() {
    let app = TestApp::spawn().await;
    let api = app.api().await;

    let created = api
        .post(
            "/api/v1/webhooks",
            json!({
                "name": "CRM", "url": "https://crm.example.com/in", "events": ["order.purchased"],
                "notification_type": "REST", "api_key": "sk_live_0123456789abcdef",
            }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["events"], json!(["order.purchased"]));
    assert_eq!(created["status"], "active");
    assert!(created.get("api_key").is_none() && !created.to_string().contains("sk_live"));

    let invalid = api
        .post(
            "/api/v1/webhooks",
            json!({"name": "crm", "url": "ftp://x", "events": ["nope.nope"], "api_key": "a b"}),
        )
        .await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let invalid: Value = invalid.json().await.unwrap();
    assert_eq!(invalid["error"]["code"], "validation_failed");
    let details = &invalid["error"]["details"];
    assert_eq!(
        details["url"][0],
        "Use a web address that starts with https:// or http://."
    );
    assert_eq!(
        details["events"][0],
        "“nope.nope” is not in the event catalog."
    );
    assert_eq!(
        details["api_key"][0],
        "Remove spaces and line breaks from the API key."
    );
    let taken = api
        .post(
            "/api/v1/webhooks",
            json!({"name": "crm", "url": "https://a.example.com/", "events": ["*"]}),
        )
        .await;
    assert_eq!(
        taken.status(),
        StatusCode::CONFLICT,
        "a taken name conflicts"
    );
    let taken: Value = taken.json().await.unwrap();
    assert_eq!(taken["error"]["code"], "conflict");
    assert!(
        taken["error"]["details"]["name"][0]
            .as_str()
            .unwrap()
            .contains("already exists")
    );

    let patched = api
        .patch(
            "/api/v1/webhooks/1",
            json!({"events": ["*"], "status": "disabled", "api_key": null}),
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(
        (
            patched["events"].clone(),
            patched["status"].clone(),
            patched["name"].clone()
        ),
        (json!(["*"]), json!("disabled"), json!("CRM"))
    );
    let detail = app.get_page("/settings/webhooks/1").await;
    assert!(
        detail.text(".properties").contains("Not set"),
        "null removed the API key"
    );

    let listed: Value = api.get("/api/v1/webhooks?q=cr").await.json().await.unwrap();
    assert_eq!(
        (listed["total"].clone(), listed["data"][0]["name"].clone()),
        (json!(1), json!("CRM"))
    );
    let secret: Value = api
        .get("/api/v1/webhooks/1/secret")
        .await
        .json()
        .await
        .unwrap();
    assert!(secret["secret"].as_str().unwrap().starts_with("whsec_"));

    assert_eq!(
        api.delete("/api/v1/webhooks/1").await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        error_code(api.get("/api/v1/webhooks/1").await).await,
        (StatusCode::NOT_FOUND, "not_found".into())
    );
    assert_eq!(
        error_code(api.get("/api/v1/webhooks/not-a-number").await)
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    let audit = app.get_page("/settings/audit?q=token").await;
    let rows = audit.texts("tbody tr");
    assert!(
        rows.iter()
            .any(|row| row.contains("token:test publisher") && row.contains("Webhook created"))
    );
    assert!(
        rows.iter()
            .any(|row| row.contains("token:test publisher") && row.contains("Webhook deleted"))
    );
}

#[tokio::test]
async fn event_types_can_be_listed_and_registered_once() {
    let app = TestApp::spawn().await;
    let api = app.api().await;

    let listed: Value = api.get("/api/v1/event-types").await.json().await.unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 13);

    let new_type = json!({"key": "invoice.paid", "group": "Billing", "description": "An invoice was paid", "example": {"invoice": "inv_1"}});
    assert_eq!(
        api.post("/api/v1/event-types", new_type.clone())
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        error_code(api.post("/api/v1/event-types", new_type).await).await,
        (StatusCode::CONFLICT, "conflict".into())
    );
    let bad = api
        .post(
            "/api/v1/event-types",
            json!({"key": "Invoice Paid", "group": "", "description": "x"}),
        )
        .await;
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["error"]["code"], "validation_failed");
    assert!(
        bad["error"]["details"]["key"].is_array() && bad["error"]["details"]["group"].is_array()
    );

    assert_eq!(
        api.publish(json!({"event_type": "invoice.paid", "data": {}}))
            .await
            .0,
        StatusCode::ACCEPTED
    );
    let catalog = app.get_page("/settings/events").await;
    assert!(catalog.text("main").contains("invoice.paid"));
}

#[tokio::test]
async fn a_delivery_can_be_queued_again() {
    let app = TestApp::spawn().await;
    let api = app.api().await;
    api.create_webhook("Orders", &["order.purchased"]).await;
    api.publish(order()).await;

    let redelivered = api
        .request(Method::POST, "/api/v1/webhooks/1/deliveries/1/redeliver")
        .send()
        .await
        .unwrap();
    assert_eq!(redelivered.status(), StatusCode::ACCEPTED);
    let body: Value = redelivered.json().await.unwrap();
    assert_eq!(
        (body["id"].clone(), body["status"].clone()),
        (json!(1), json!("pending"))
    );
    let missing = api
        .request(Method::POST, "/api/v1/webhooks/1/deliveries/99/redeliver")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(missing).await,
        (StatusCode::NOT_FOUND, "not_found".into())
    );
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_and_its_errors() {
    let app = TestApp::spawn().await;

    let document: Value = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = document["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/events", "post"),
        ("/api/v1/event-types", "get"),
        ("/api/v1/event-types", "post"),
        ("/api/v1/event-types/{key}", "patch"),
        ("/api/v1/deliveries", "get"),
        ("/api/v1/webhooks", "get"),
        ("/api/v1/webhooks", "post"),
        ("/api/v1/webhooks/{id}", "get"),
        ("/api/v1/webhooks/{id}", "patch"),
        ("/api/v1/webhooks/{id}", "delete"),
        ("/api/v1/webhooks/{id}/secret", "get"),
        ("/api/v1/webhooks/{id}/secret/rotate", "post"),
        ("/api/v1/webhooks/{id}/test-event", "post"),
        ("/api/v1/webhooks/{id}/recover", "post"),
        ("/api/v1/webhooks/{id}/deliveries", "get"),
        ("/api/v1/accounts", "get"),
        ("/api/v1/accounts/{key}", "get"),
        ("/api/v1/accounts/{key}", "put"),
        ("/api/v1/accounts/{key}", "delete"),
        (
            "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
            "post",
        ),
    ] {
        let operation = &paths[path][method];
        assert!(
            operation["responses"]["401"].is_object(),
            "{method} {path} documents 401"
        );
    }
    assert!(paths["/api/v1/events"]["post"]["responses"]["413"].is_object());
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());

    // Client generators name methods after these: each must be there, and only once.
    let ids: Vec<&str> = paths
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|operation| operation["operationId"].as_str())
        .collect();
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(ids.len(), 20, "{ids:?}");
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    assert!(ids.contains(&"listWebhooks") && ids.contains(&"listDeliveries"));
}

#[tokio::test]
async fn an_api_change_is_audited_field_by_field_like_a_console_change() {
    let app = TestApp::spawn().await;
    let api = app.api().await;
    let id = api.create_webhook("Orders", &["order.purchased"]).await;

    let response = api
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            json!({"url": "https://orders.example.com/v2", "status": "disabled"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    let log = app.get_page("/settings/audit").await;
    let latest = log.texts("tbody tr").into_iter().next().unwrap();
    assert!(latest.contains("token:test publisher"), "{latest}");
    assert!(
        latest.contains("URL https://receiver.example.com/in → https://orders.example.com/v2"),
        "{latest}"
    );
    assert!(latest.contains("status → Disabled"), "{latest}");
}
