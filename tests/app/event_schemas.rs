//! Event types with a JSON Schema for their data (SPEC §3): publishers hear at once when
//! they break the shape receivers rely on.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::Api;
use crate::common::receiver::Receiver;
use crate::common::scene::{arrived_within, console, received, webhook_to};

fn order_schema() -> Value {
    json!({
        "type": "object",
        "required": ["order"],
        "properties": {
            "order": {
                "type": "object",
                "required": ["id", "total"],
                "properties": {
                    "id": {"type": "integer"},
                    "total": {"type": "number", "minimum": 0}
                }
            }
        }
    })
}

async fn register_invoice_paid(api: &Api) -> Value {
    let response = api
        .post(
            "/api/v1/event-types",
            json!({
                "key": "invoice.paid",
                "group": "Billing",
                "description": "An invoice was paid",
                "example": {"order": {"id": 1, "total": 12.5}},
                "schema": order_schema(),
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

#[tokio::test]
async fn data_that_misses_its_types_schema_is_refused_with_pointers_and_nothing_is_sent() {
    let app = console("1h").await;
    let api = app.api().await;
    let registered = register_invoice_paid(&api).await;
    assert_eq!(registered["schema"], order_schema());
    assert_eq!(registered["schema_version"], 1);
    let receiver = Receiver::start().await;
    webhook_to(&api, &receiver.url, &["invoice.paid"]).await;

    let (status, refused) = api
        .publish(json!({"event_type": "invoice.paid", "data": {"order": {"id": "x", "total": -1}}}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["code"], "validation_failed");
    let details = refused["error"]["details"].as_object().unwrap();
    assert!(details.contains_key("/order/id"), "{refused}");
    assert!(details.contains_key("/order/total"), "{refused}");

    let (status, accepted) = api
        .publish(
            json!({"event_type": "invoice.paid", "data": {"order": {"id": 7731, "total": 9.5}}}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
    received(&receiver, 1, Duration::from_secs(5)).await;
    let got = arrived_within(&receiver, Duration::from_millis(500)).await;
    assert_eq!(got.len(), 1, "the valid event once, the refused one never");
    let body: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(body["data"]["order"]["id"], 7731);
}

#[tokio::test]
async fn a_schema_that_is_not_json_schema_or_refuses_its_own_example_is_refused() {
    let app = console("1h").await;
    let api = app.api().await;
    let register = |schema: Value, example: Value| {
        json!({"key": "invoice.sent", "group": "Billing", "description": "Sent",
               "example": example, "schema": schema})
    };

    let broken: Value = api
        .post(
            "/api/v1/event-types",
            register(json!({"type": "no-such-type"}), json!({})),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(broken["error"]["code"], "validation_failed", "{broken}");
    assert!(broken["error"]["details"]["schema"].is_array(), "{broken}");

    let mismatched: Value = api
        .post(
            "/api/v1/event-types",
            register(order_schema(), json!({"order": {"id": "x"}})),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        mismatched["error"]["details"]["example"].is_array(),
        "{mismatched}"
    );

    let listed: Value = api.get("/api/v1/event-types").await.json().await.unwrap();
    assert!(
        listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["key"] != "invoice.sent"),
        "nothing was registered"
    );
}

#[tokio::test]
async fn types_without_a_schema_take_any_data() {
    let app = console("1h").await;
    let api = app.api().await;
    register_invoice_paid(&api).await;
    let (status, accepted) = api
        .publish(json!({"event_type": "order.purchased", "data": {"anything": ["at", 1, "all"]}}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
    let listed: Value = api.get("/api/v1/event-types").await.json().await.unwrap();
    let purchased = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == "order.purchased")
        .unwrap()
        .clone();
    assert_eq!(purchased["schema"], Value::Null);
    assert_eq!(purchased["schema_version"], 0);
}

#[tokio::test]
async fn the_catalog_shows_a_schemas_fields_beside_the_example() {
    let app = console("1h").await;
    let api = app.api().await;
    register_invoice_paid(&api).await;

    let page = app.get_page("/settings/events").await;
    let rows = page.texts("#event-invoice\\.paid .schema-fields tbody tr");
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(
        rows[1].contains("order.id") && rows[1].contains("integer"),
        "{rows:?}"
    );
    assert!(
        rows[2].contains("Required") && rows[2].contains("at least 0"),
        "{rows:?}"
    );
    assert!(
        !page.has("#event-order\\.purchased .schema-fields"),
        "a type without a schema lists no fields"
    );
}

#[tokio::test]
async fn a_new_schema_is_the_next_version_audited_and_applies_to_the_next_publish() {
    let app = console("1h").await;
    let api = app.api().await;
    register_invoice_paid(&api).await;
    let order = json!({"event_type": "invoice.paid",
                       "data": {"order": {"id": 1, "total": 12.5, "currency": "EUR"}}});
    assert_eq!(api.publish(order.clone()).await.0, StatusCode::ACCEPTED);

    let mut stricter = order_schema();
    stricter["properties"]["order"]["properties"]["currency"] = json!({"enum": ["USD"]});
    let changed = api
        .patch(
            "/api/v1/event-types/invoice.paid",
            json!({"schema": stricter}),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(changed["schema_version"], 2);
    assert_eq!(changed["schema"], stricter);

    let (status, refused) = api.publish(order).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(
        refused["error"]["details"]["/order/currency"].is_array(),
        "{refused}"
    );
    let audit = app.get_page("/settings/audit").await;
    assert!(
        audit.text("tbody").contains("schema version 2"),
        "{}",
        audit.text("tbody")
    );

    let refuses_example = json!({"type": "object", "required": ["invoice"]});
    let response = api
        .patch(
            "/api/v1/event-types/invoice.paid",
            json!({"schema": refuses_example}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Taking the schema away is a version too: any data is taken again.
    let removed = api
        .patch("/api/v1/event-types/invoice.paid", json!({"schema": null}))
        .await;
    assert_eq!(removed.status(), StatusCode::OK);
    let removed: Value = removed.json().await.unwrap();
    assert_eq!(removed["schema"], Value::Null, "{removed}");
    assert_eq!(removed["schema_version"], 3);
    let anything = json!({"event_type": "invoice.paid", "data": {"order": "free-form"}});
    assert_eq!(api.publish(anything).await.0, StatusCode::ACCEPTED);
    let audit = app.get_page("/settings/audit").await.text("tbody");
    assert!(audit.contains("schema removed (version 3)"), "{audit}");
}

#[tokio::test]
async fn receivers_download_the_catalog_as_one_openapi_document_with_each_schema() {
    let app = console("1h").await;
    let api = app.api().await;
    register_invoice_paid(&api).await;
    let catalog = app.get_page("/settings/events").await;
    assert_eq!(
        catalog.attr("a[download]", "href").as_deref(),
        Some("/settings/events/webhooks.json")
    );

    let support = app.user("sam@example.com", "support").await;
    let response = support.get("/settings/events/webhooks.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let document: Value = response.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let paid = &document["webhooks"]["invoice.paid"]["post"];
    let body = &paid["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(
        body["properties"]["data"]["$ref"],
        "#/components/schemas/invoice.paid.data"
    );
    assert_eq!(
        document["components"]["schemas"]["invoice.paid.data"],
        order_schema()
    );
    assert_eq!(body["properties"]["event_type"]["const"], "invoice.paid");
    assert!(document["webhooks"]["order.purchased"].is_object());
    assert!(
        document["webhooks"]["webhook.test"].is_object(),
        "receivers get test events too: they are in the document"
    );
    assert!(document["webhooks"]["webhook.recovered"].is_object());

    let signed_out = app.visitor().get("/settings/events/webhooks.json").await;
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn every_reference_in_the_receivers_download_resolves_inside_it() {
    let app = console("1h").await;
    let api = app.api().await;
    let schema = json!({
        "$defs": {"money": {"type": "object", "properties": {"amount": {"type": "integer"}}}},
        "type": "object",
        "properties": {
            "total": {"$ref": "#/$defs/money"},
            "refunds": {"type": "array", "items": {"$ref": "#"}}
        }
    });
    let registered = api
        .post(
            "/api/v1/event-types",
            json!({"key": "invoice.refunded", "group": "Billing", "description": "Refunded",
                   "schema": schema}),
        )
        .await;
    assert_eq!(registered.status(), StatusCode::CREATED);

    let document: Value = app
        .get("/settings/events/webhooks.json")
        .await
        .json()
        .await
        .unwrap();
    let component = &document["components"]["schemas"]["invoice.refunded.data"];
    let references = [
        &component["properties"]["total"]["$ref"],
        &component["properties"]["refunds"]["items"]["$ref"],
    ];
    for reference in references {
        let pointer = reference.as_str().unwrap().strip_prefix('#').unwrap();
        assert!(
            document.pointer(pointer).is_some_and(Value::is_object),
            "{reference} does not resolve"
        );
    }
    assert_eq!(
        document.pointer(
            "/components/schemas/invoice.refunded.data/$defs/money/properties/amount/type"
        ),
        Some(&json!("integer"))
    );
}
