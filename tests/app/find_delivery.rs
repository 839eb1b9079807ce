//! Support answers "the customer says they never got order 7731's webhook": the Deliveries
//! tab and the API find a delivery by whatever the customer quotes.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Api, TestApp};

/// 50 orders, then order 7731 with an Idempotency-Key and a tenant; returns 7731's event id.
async fn fifty_one_orders(api: &Api) -> String {
    for n in 0..50 {
        let (status, _) = api
            .publish(json!({"event_type": "order.purchased", "data": {"order": {"id": format!("ord_{n}"), "number": n}}}))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    let response = api
        .request(reqwest::Method::POST, "/api/v1/events")
        .header("Idempotency-Key", "order-7731-paid")
        .json(&json!({
            "event_type": "order.purchased",
            "data": {"order": {"id": "ord_7731", "number": 7731}},
            "current_context": {"tenant": "acme-eu"}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn what_a_customer_quotes_finds_the_one_delivery_and_says_where_it_matched() {
    let app = TestApp::spawn().await;
    let api = app.api().await;
    let webhook = api.create_webhook("Orders", &["order.purchased"]).await;
    let event_id = fifty_one_orders(&api).await;
    let support = app.user("sam@example.com", "support").await;

    for (quoted, matched) in [
        ("ord_7731", "event data order.id = ord_7731"),
        (" ORD_7731 ", "event data order.id = ORD_7731"),
        ("order-7731-paid", "Idempotency-Key = order-7731-paid"),
        ("acme-eu", "current context tenant = acme-eu"),
        ("7731", "event data order.number = 7731"),
        (event_id.as_str(), "event id"),
    ] {
        let page = support
            .get_page(&format!("/settings/deliveries?q={}", url_escape(quoted)))
            .await;
        assert_eq!(page.texts("tbody tr").len(), 1, "{quoted:?}");
        assert!(
            page.text("tbody .matched").contains(matched),
            "{quoted:?}: {}",
            page.text("tbody .matched")
        );
        assert!(page.text("tbody").contains(&event_id), "{quoted:?}");
    }
    // The same once the search index has taken them in (SQLite indexes a moment later; what
    // it has not reached yet is read one by one, so both find the same).
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let indexed = support.get_page("/settings/deliveries?q=ord_7731").await;
    assert_eq!(indexed.texts("tbody tr").len(), 1);
    let nothing = support.get_page("/settings/deliveries?q=ord_9999").await;
    assert_eq!(nothing.texts("tbody tr").len(), 0);
    assert!(nothing.text(".empty-state").contains("ord_9999"));

    let found: Value = api
        .get("/api/v1/deliveries?q=ord_7731")
        .await
        .json()
        .await
        .unwrap();
    let data = found["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{found}");
    assert_eq!(data[0]["webhook_id"], webhook);
    assert_eq!(data[0]["event_id"], event_id.as_str());
    assert_eq!(data[0]["matched"][0], "event data order.id = ord_7731");
}

#[tokio::test]
async fn the_webhook_filter_narrows_a_search_to_one_webhook() {
    let app = TestApp::spawn().await;
    let api = app.api().await;
    let orders = api.create_webhook("Orders", &["order.purchased"]).await;
    api.create_webhook("Ledger", &["order.purchased"]).await;
    fifty_one_orders(&api).await;

    let everywhere = app.get_page("/settings/deliveries?q=ord_7731").await;
    assert_eq!(everywhere.texts("tbody tr").len(), 2);
    let one = app
        .get_page(&format!("/settings/deliveries?q=ord_7731&webhook={orders}"))
        .await;
    assert_eq!(one.texts("tbody tr").len(), 1);
    assert!(one.text("tbody").contains("Orders"));
    assert_eq!(
        one.attr("#search-webhook option[selected]", "value"),
        Some(orders.to_string())
    );
    let api_one: Value = api
        .get(&format!("/api/v1/deliveries?q=ord_7731&webhook={orders}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(api_one["data"].as_array().unwrap().len(), 1);
    let bad = app.get("/settings/deliveries?webhook=orders").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

fn url_escape(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
