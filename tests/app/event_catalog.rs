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

#[tokio::test]
async fn the_catalog_is_searched_and_says_which_webhooks_use_each_type() {
    let app = TestApp::spawn().await;
    app.create_webhook("Orders", "https://a.example.com/", &["order.purchased"])
        .await;
    app.create_webhook("Everything", "https://b.example.com/", &["*"])
        .await;

    let page = app.get_page("/settings/events?q=order").await;
    assert_eq!(
        page.texts(".catalog-entry h3 code"),
        ["order.purchased", "order.refunded"]
    );
    assert_eq!(
        page.text("#event-order\\.purchased .used-by"),
        "Used by 2 webhooks"
    );
    assert_eq!(
        page.attr("#event-order\\.purchased .used-by a", "href")
            .as_deref(),
        Some("/settings/webhooks?event=order.purchased")
    );
    assert_eq!(
        page.text("#event-order\\.refunded .used-by"),
        "Used by 1 webhook"
    );
    assert!(page.has("#event-order\\.purchased [data-copy='order.purchased']"));

    let nothing = app.get_page("/settings/events?q=zzz").await;
    assert!(
        nothing
            .text(".empty-state")
            .contains("No event type matches")
    );

    let list = app.get_page("/settings/webhooks").await;
    assert!(
        list.has("a.chip[href='/settings/events#event-order.purchased']"),
        "chips lead to their catalog entry"
    );
}
