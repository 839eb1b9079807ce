//! An admin keeps the Event Catalog from the console: registers `invoice.paid` with a
//! schema, sees the API's words when something is wrong, changes the schema, archives the
//! type and restores it; support staff see none of the controls.

use reqwest::StatusCode;

use crate::common::{Page, TestApp, location};

const SCHEMA: &str = r#"{"type": "object", "required": ["invoice"], "properties": {"invoice": {"type": "string", "description": "The invoice's number"}}}"#;

#[tokio::test]
async fn an_admin_registers_a_type_with_a_schema_then_changes_archives_and_restores_it() {
    let app = TestApp::spawn().await;
    let catalog = app.get_page("/settings/events").await;
    assert_eq!(
        catalog
            .attr("a[href='/settings/events/new']", "href")
            .as_deref(),
        Some("/settings/events/new")
    );
    let form = app.get_page("/settings/events/new").await;
    assert_eq!(form.status, StatusCode::OK);

    let registered = app
        .post_form(
            "/settings/events",
            &[
                ("key", "invoice.paid"),
                ("group", "Billing"),
                ("description", "An invoice was paid"),
                ("example", r#"{"invoice": "INV-7"}"#),
                ("schema", SCHEMA),
            ],
        )
        .await;
    assert_eq!(registered.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&registered), "/settings/events#event-invoice.paid");
    let catalog = app.get_page("/settings/events").await;
    let entry = catalog.text("#event-invoice\\.paid");
    assert!(entry.contains("An invoice was paid"), "{entry}");
    assert!(
        entry.contains("The invoice's number"),
        "the field's description: {entry}"
    );
    let api = app.api().await;
    let (status, _) = api
        .publish(serde_json::json!({"event_type": "invoice.paid", "data": {"amount": 3}}))
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the schema holds at publish"
    );

    let no_longer_fits = Page::from(
        app.post_form(
            "/settings/events/invoice.paid/schema",
            &[("schema", r#"{"type": "object", "required": ["total"]}"#)],
        )
        .await,
    )
    .await;
    assert_eq!(no_longer_fits.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        no_longer_fits
            .text(".error-summary")
            .contains("example no longer fits")
    );
    let removed = app
        .post_form("/settings/events/invoice.paid/schema", &[("schema", "")])
        .await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    let (status, _) = api
        .publish(serde_json::json!({"event_type": "invoice.paid", "data": {"amount": 3}}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "no schema, no check");

    let archived = app.confirm("/settings/events/invoice.paid/archive").await;
    assert_eq!(archived.status(), StatusCode::SEE_OTHER);
    let (status, _) = api
        .publish(serde_json::json!({"event_type": "invoice.paid", "data": {}}))
        .await;
    assert_ne!(
        status,
        StatusCode::ACCEPTED,
        "an archived type is refused at publish"
    );
    let restored = app
        .post_form("/settings/events/invoice.paid/restore", &[])
        .await;
    assert_eq!(restored.status(), StatusCode::SEE_OTHER);
    let (status, _) = api
        .publish(serde_json::json!({"event_type": "invoice.paid", "data": {}}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let audit = app.get_page("/settings/audit").await.text("main");
    for action in ["registered", "archived", "restored", "schema"] {
        assert!(
            audit.to_lowercase().contains(action),
            "{action} audited: {audit}"
        );
    }
}

#[tokio::test]
async fn a_bad_registration_says_what_is_wrong_field_by_field_and_keeps_what_was_typed() {
    let app = TestApp::spawn().await;
    let refused = Page::from(
        app.post_form(
            "/settings/events",
            &[
                ("key", "Invoice Paid"),
                ("group", ""),
                ("description", "Paid"),
                ("schema", "{not json"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.has("#event-type-key-error"));
    assert!(refused.has("#event-type-group-error"));
    assert!(
        refused
            .text("#event-type-schema-error")
            .contains("not JSON")
    );
    assert_eq!(
        refused.attr("#event-type-description", "value").as_deref(),
        Some("Paid"),
        "what was typed stays"
    );
    let taken = Page::from(
        app.post_form(
            "/settings/events",
            &[
                ("key", "order.purchased"),
                ("group", "Orders"),
                ("description", "Again"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert!(
        taken
            .text("#event-type-key-error")
            .contains("exists already")
    );
    let own = app.get("/settings/events/webhook.test/schema").await;
    assert_eq!(
        own.status(),
        StatusCode::BAD_REQUEST,
        "the console's own types stay as they are"
    );
}

#[tokio::test]
async fn support_sees_the_catalog_without_its_controls() {
    let app = TestApp::spawn().await;
    let support = app.user("sam@example.com", "support").await;
    let catalog = support.get_page("/settings/events").await;
    assert!(!catalog.has("a[href='/settings/events/new']"));
    assert!(!catalog.has("a[href$='/archive']"));
    assert!(!catalog.has("a[href$='/schema']"));
}
