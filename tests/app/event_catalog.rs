use crate::common::TestApp;

#[tokio::test]
async fn the_catalog_lists_every_event_type_with_the_body_a_receiver_gets() {
    let app = TestApp::spawn().await;

    let page = app.get_page("/settings/events").await;

    assert_eq!(page.text("h1"), "Available webhook events");
    assert_eq!(
        page.texts(".catalog-group > h2"),
        ["Data", "Purchase", "System", "User"]
    );
    assert_eq!(page.texts(".catalog-entry h3").len(), 9);
    let purchased = page.text("#event-order\\.purchased pre");
    let body: serde_json::Value = serde_json::from_str(&purchased).expect("the example is JSON");
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["current_context", "data", "event_time", "event_type"]
    );
    assert_eq!(body["event_type"], "order.purchased");
    assert_eq!(body["current_context"], serde_json::json!({}));
    assert!(body["data"]["order"]["id"].is_string());
    let order: Vec<&str> = [
        "\"event_time\"",
        "\"event_type\"",
        "\"current_context\"",
        "\"data\"",
    ]
    .into_iter()
    .collect();
    let positions: Vec<usize> = order
        .iter()
        .map(|key| purchased.find(key).unwrap())
        .collect();
    assert!(positions.is_sorted(), "keys appear in the documented order");
    assert!(
        page.text("#event-order\\.purchased header")
            .contains("A purchase was completed")
    );
}
