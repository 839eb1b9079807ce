//! An integrator whose receiver sits behind a gateway gives the webhook its own headers: a
//! tenant in plain sight, a credential kept secret.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::receiver::{Answer, Receiver};
use crate::common::scene::{console, received, wait_for_delivery};
use crate::common::{Api, Page, sql_scalars};

const SECRET: &str = "Bearer gw-7f3a9c1e55d2";

async fn webhook_with_headers(api: &Api, url: &str, headers: Value) -> (StatusCode, Value) {
    let response = api
        .post(
            "/api/v1/webhooks",
            json!({"name": "Behind a gateway", "url": url, "events": ["order.purchased"],
                   "headers": headers}),
        )
        .await;
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn custom_headers_arrive_with_every_delivery_and_a_secret_one_is_never_shown() {
    let app = console("1h").await;
    let api = app.api().await;
    let receiver = Receiver::start().await;
    let (status, webhook) = webhook_with_headers(
        &api,
        &receiver.url,
        json!({"X-Tenant": "acme", "Authorization": {"value": SECRET, "secret": true}}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{webhook}");
    assert_eq!(
        webhook["headers"],
        json!({"X-Tenant": "acme", "Authorization": {"secret": true}})
    );
    let id = webhook["id"].as_i64().unwrap();

    api.publish(json!({"event_type": "order.purchased", "data": {"n": 1}}))
        .await;
    let got = received(&receiver, 1, std::time::Duration::from_secs(10)).await;
    assert_eq!(got[0].header("x-tenant"), Some("acme"));
    assert_eq!(got[0].header("authorization"), Some(SECRET));
    assert!(got[0].header("webhook-signature").is_some());

    // Sealed at rest, like the API key.
    let stored: Vec<String> = sql_scalars(&app.db, "SELECT custom_headers FROM webhooks").await;
    assert!(
        stored
            .iter()
            .all(|column| !column.contains("gw-7f3a9c1e55d2"))
    );

    // A change that leaves the secret as it is keeps it.
    let changed = api
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            json!({"headers": {"X-Tenant": "globex", "Authorization": {"secret": true}}}),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let renamed = api
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            json!({"name": "Gateway"}),
        )
        .await;
    assert_eq!(
        renamed.json::<Value>().await.unwrap()["headers"]["X-Tenant"],
        "globex"
    );
    api.publish(json!({"event_type": "order.purchased", "data": {"n": 2}}))
        .await;
    let got = received(&receiver, 2, std::time::Duration::from_secs(10)).await;
    assert_eq!(got[1].header("x-tenant"), Some("globex"));
    assert_eq!(got[1].header("authorization"), Some(SECRET));

    // The delivery page shows the headers sent: the secret masked for the admin, and
    // hidden from support.
    let delivery = wait_for_delivery(&api, id, |d| d["status"] == "succeeded").await;
    let path = format!("/settings/webhooks/{id}/deliveries/{}", delivery["id"]);
    let page = app.get_page(&path).await.text("main");
    assert!(
        page.contains("X-Tenant") && page.contains("globex"),
        "{page}"
    );
    assert!(page.contains("••••55d2"), "masked for admins: {page}");
    assert!(!page.contains("gw-7f3a9c1e"), "{page}");
    let support = app.user("sam@example.com", "support").await;
    let seen = support.get(&path).await.text().await.unwrap();
    assert!(
        seen.contains("X-Tenant") && !seen.contains("55d2"),
        "{seen}"
    );
    let detail = support.get(&format!("/settings/webhooks/{id}")).await;
    let detail = detail.text().await.unwrap();
    assert!(detail.contains("Authorization: Set") && !detail.contains("55d2"));
}

#[tokio::test]
async fn reserved_and_malformed_header_names_are_refused_with_a_clear_message() {
    let app = console("1h").await;
    let api = app.api().await;
    for name in [
        "webhook-id",
        "Webhook-Signature",
        "Content-Type",
        "content-length",
        "Host",
        "User-Agent",
        "X-API-Key",
        "Transfer-Encoding",
        "Connection",
    ] {
        let (status, refused) =
            webhook_with_headers(&api, "https://example.com/h", json!({name: "x"})).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: {refused}"
        );
        let message = refused["error"]["details"]["headers"][0].as_str().unwrap();
        assert!(
            message.contains("reserved") && message.contains(name),
            "{message}"
        );
    }
    let cases = [
        (json!({"X Tenant": "a"}), "not a header name"),
        (json!({"X-Tenant": "a\r\nX-Evil: 1"}), "cannot carry"),
        (json!({"X-Tenant": ""}), "a value"),
        (json!({"X-Tenant": "a", "x-tenant": "b"}), "twice"),
    ];
    for (headers, expected) in cases {
        let (status, refused) =
            webhook_with_headers(&api, "https://example.com/h", headers.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{headers}");
        let message = refused["error"]["details"]["headers"][0].as_str().unwrap();
        assert!(message.contains(expected), "{headers}: {message}");
    }
    let many: serde_json::Map<String, Value> =
        (0..21).map(|n| (format!("X-H{n}"), json!("v"))).collect();
    let (status, refused) =
        webhook_with_headers(&api, "https://example.com/h", Value::Object(many)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.to_string().contains("at most 20"), "{refused}");
    for loose in [json!({"": "a"}), json!({" X-Tenant": "a"})] {
        let (status, _) = webhook_with_headers(&api, "https://example.com/h", loose).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "taken as written");
    }
    let webhooks: Value = api.get("/api/v1/webhooks").await.json().await.unwrap();
    assert_eq!(webhooks["total"], 0, "nothing was created");

    // Keeping a secret that is not stored conflicts with what is.
    let (_, plain) =
        webhook_with_headers(&api, "https://example.com/h", json!({"X-Tenant": "a"})).await;
    let keep = api
        .patch(
            &format!("/api/v1/webhooks/{}", plain["id"]),
            json!({"headers": {"X-Tenant": {"secret": true}}}),
        )
        .await;
    assert_eq!(keep.status(), StatusCode::CONFLICT);
    let keep: Value = keep.json().await.unwrap();
    assert!(
        keep["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no stored secret")
    );
}

#[tokio::test]
async fn a_receiver_echoing_a_secret_header_never_shows_it() {
    let app = console("1h").await;
    let api = app.api().await;
    let receiver = Receiver::start().await;
    receiver.always(Answer::Echo);
    let (_, webhook) = webhook_with_headers(
        &api,
        &receiver.url,
        json!({"Authorization": {"value": SECRET, "secret": true}}),
    )
    .await;
    api.publish(json!({"event_type": "order.purchased", "data": {}}))
        .await;
    wait_for_delivery(&api, webhook["id"].as_i64().unwrap(), |d| {
        d["attempt_count"] == 1
    })
    .await;
    let stored: Vec<String> = sql_scalars(
        &app.db,
        "SELECT COALESCE(response_body, '') || COALESCE(response_headers, '') FROM attempts",
    )
    .await;
    assert!(
        stored
            .iter()
            .any(|text| text.contains("x-echo-authorization"))
    );
    assert!(
        stored.iter().all(|text| !text.contains("gw-7f3a9c1e55d2")),
        "{stored:?}"
    );
}

#[tokio::test]
async fn an_admin_sets_headers_in_the_form_without_javascript_and_keeps_a_secret_on_edit() {
    let app = console("1h").await;
    let receiver = Receiver::start().await;
    let base = [
        ("name", "Gateway"),
        ("url", receiver.url.as_str()),
        ("events", "order.purchased"),
        ("notification_type", "REST"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut fields = base.to_vec();
        fields.extend_from_slice(extra);
        fields
    };

    // The form offers spare rows to type into, without JavaScript.
    let form = app.get_page("/settings/webhooks/new").await;
    assert_eq!(form.texts(".header-row").len(), 2);
    assert!(
        form.attr("details.header-details", "open").is_none(),
        "closed while empty"
    );

    // Shown again (another field is wrong), typed rows come back with spare ones after
    // them, and a row ticked Remove is gone.
    let again = app
        .post_form(
            "/settings/webhooks",
            &[
                ("name", ""),
                ("url", receiver.url.as_str()),
                ("events", "order.purchased"),
                ("header_name", "X-Tenant"),
                ("header_value", "acme"),
                ("header_name", "X-Drop"),
                ("header_value", "me"),
                ("header_remove", "1"),
                ("header_name", ""),
                ("header_value", ""),
            ],
        )
        .await;
    let page = Page::from(again).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(page.texts(".header-row").len(), 3, "one typed, two spare");
    assert_eq!(page.attr("#header_name_0", "value").unwrap(), "X-Tenant");
    assert_eq!(page.attr("#header_name_1", "value").unwrap(), "");
    assert!(page.attr("details.header-details", "open").is_some());
    let none: Vec<String> = sql_scalars(&app.db, "SELECT name FROM webhooks").await;
    assert!(none.is_empty(), "nothing saved");

    // A reserved name comes back with its message.
    let refused = app
        .post_form(
            "/settings/webhooks",
            &with(&[("header_name", "Host"), ("header_value", "evil.example")]),
        )
        .await;
    let page = Page::from(refused).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text("#headers-error").contains("reserved"));

    let created = app
        .post_form(
            "/settings/webhooks",
            &with(&[
                ("header_name", "X-Tenant"),
                ("header_value", "acme"),
                ("header_name", "Authorization"),
                ("header_value", SECRET),
                ("header_secret", "1"),
            ]),
        )
        .await;
    assert!(created.status().is_redirection() || created.status().is_success());
    let id: i64 = crate::common::sql_scalar(&app.db, "SELECT id FROM webhooks").await;

    // Editing shows the secret as stored, not its value; left empty, it is kept.
    let edit = app.get_page(&format!("/settings/webhooks/{id}/edit")).await;
    assert_eq!(edit.attr("#header_value_1", "type").unwrap(), "password");
    assert_eq!(edit.attr("#header_value_1", "value").unwrap(), "");
    assert!(!edit.html.html().contains("gw-7f3a9c1e55d2"));
    let saved = app
        .post_form(
            &format!("/settings/webhooks/{id}/edit"),
            &with(&[
                ("header_name", "X-Tenant"),
                ("header_value", "initech"),
                ("header_name", "Authorization"),
                ("header_value", ""),
                ("header_secret", "1"),
                ("header_name", "X-Old"),
                ("header_value", "gone"),
                ("header_remove", "2"),
            ]),
        )
        .await;
    assert!(saved.status().is_redirection() || saved.status().is_success());
    let api = app.api().await;
    api.publish(json!({"event_type": "order.purchased", "data": {}}))
        .await;
    let got = received(&receiver, 1, std::time::Duration::from_secs(10)).await;
    assert_eq!(got[0].header("x-tenant"), Some("initech"));
    assert_eq!(got[0].header("authorization"), Some(SECRET));
    assert_eq!(got[0].header("x-old"), None, "the row ticked Remove");
    let log = app.get_page("/settings/audit").await.text("tbody");
    assert!(log.contains("custom headers"), "{log}");
    assert!(!log.contains("gw-7f3a9c1e"), "{log}");
}
