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
    assert_eq!(page.texts(".catalog-entry h3").len(), 13);
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

#[tokio::test]
async fn the_catalog_holds_at_most_a_thousand_types_and_archiving_makes_room() {
    use reqwest::StatusCode;
    use serde_json::{Value, json};

    let app = TestApp::spawn().await;
    let api = app.api().await;
    let register = |key: String| json!({"key": key, "group": "Bulk", "description": "A bulk type"});
    // The 13 seeded types and 987 more.
    for n in 0..987 {
        let response = api
            .post("/api/v1/event-types", register(format!("bulk.t{n}")))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "bulk.t{n}");
    }

    let full: Value = api
        .post("/api/v1/event-types", register("bulk.one_more".into()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(full["error"]["code"], "catalog_full", "{full}");
    assert!(
        full["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Archive")
    );

    let archived = api
        .patch("/api/v1/event-types/bulk.t0", json!({"archived": true}))
        .await;
    assert_eq!(archived.status(), StatusCode::OK);
    let archived: Value = archived.json().await.unwrap();
    assert_eq!(archived["archived"], true);
    assert!(archived["archived_at"].is_string());
    let (status, refused) = api
        .publish(json!({"event_type": "bulk.t0", "data": {}}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refused["error"]["code"], "archived_event_type");
    assert_eq!(
        api.post("/api/v1/event-types", register("bulk.one_more".into()))
            .await
            .status(),
        StatusCode::CREATED,
        "the archived type made room"
    );
    let restore: Value = api
        .patch("/api/v1/event-types/bulk.t0", json!({"archived": false}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(restore["error"]["code"], "catalog_full");

    let form = app.get_page("/settings/webhooks/new").await;
    assert!(form.has("input[name=events][value='bulk.t1']"));
    assert!(
        !form.has("input[name=events][value='bulk.t0']"),
        "gone from the picker"
    );
    let catalog = app.get_page("/settings/events").await;
    assert!(!catalog.has("article#event-bulk\\.t0"));
    assert!(catalog.text(".catalog-archived").contains("bulk.t0"));
    let listed: Value = api.get("/api/v1/event-types").await.json().await.unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1001);
}

#[tokio::test]
async fn long_descriptions_and_examples_are_refused_with_the_reason() {
    use reqwest::StatusCode;
    use serde_json::{Value, json};

    let app = TestApp::spawn().await;
    let api = app.api().await;

    let long: Value = api
        .post(
            "/api/v1/event-types",
            json!({"key": "invoice.paid", "group": "Billing", "description": "x".repeat(5000)}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(long["error"]["code"], "validation_failed");
    assert!(
        long["error"]["details"]["description"][0]
            .as_str()
            .unwrap()
            .contains("500"),
        "{long}"
    );
    let huge = api
        .post(
            "/api/v1/event-types",
            json!({"key": "invoice.paid", "group": "Billing", "description": "Paid",
                   "example": {"blob": "x".repeat(20_000)}}),
        )
        .await;
    assert_eq!(huge.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let fine = api
        .post(
            "/api/v1/event-types",
            json!({"key": "invoice.paid", "group": "Billing", "description": "d".repeat(500)}),
        )
        .await;
    assert_eq!(fine.status(), StatusCode::CREATED);
    for (key, status) in [
        ("webhook.test", StatusCode::CONFLICT),
        ("no.such_type", StatusCode::NOT_FOUND),
        ("Not A Key", StatusCode::NOT_FOUND),
    ] {
        let response = api
            .patch(
                &format!("/api/v1/event-types/{key}"),
                json!({"archived": true}),
            )
            .await;
        assert_eq!(response.status(), status, "{key}");
    }
}

#[tokio::test]
async fn subscribing_to_an_archived_type_is_a_conflict_that_names_it() {
    use reqwest::StatusCode;
    use serde_json::{Value, json};

    let app = TestApp::spawn().await;
    let api = app.api().await;
    let archived = api
        .patch(
            "/api/v1/event-types/record.deleted",
            json!({"archived": true}),
        )
        .await;
    assert_eq!(archived.status(), StatusCode::OK);

    let response = api
        .post(
            "/api/v1/webhooks",
            json!({"name": "CRM", "url": "https://crm.example.com/in",
                   "events": ["record.created", "record.deleted"]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: Value = response.json().await.unwrap();
    let message = body["error"]["details"]["events"][0].as_str().unwrap();
    assert!(message.contains("“record.deleted” is archived"), "{body}");
}
