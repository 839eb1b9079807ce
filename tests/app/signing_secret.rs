//! The signing secret in the console: shown once when made, revealed on request (audited),
//! rotated only after a question, never shown to support; and "Check a request".

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::receiver::Receiver;
use crate::common::scene::{console, received, webhook_to};
use crate::common::{Api, Page, TestApp, location};

async fn api_secret(api: &Api, webhook: i64) -> String {
    let body: Value = api
        .get(&format!("/api/v1/webhooks/{webhook}/secret"))
        .await
        .json()
        .await
        .unwrap();
    body["secret"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_new_webhook_shows_its_secret_once_and_reveal_shows_the_same_as_the_api() {
    let app = TestApp::spawn().await;
    let created = app
        .post_form(
            "/settings/webhooks",
            &[
                ("name", "Orders"),
                ("events", "*"),
                ("notification_type", "REST"),
                ("url", "https://orders.example.com/in"),
            ],
        )
        .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let detail = location(&created);
    let webhook: i64 = detail.rsplit('/').next().unwrap().parse().unwrap();

    let first = app.get_page(&detail).await;
    let shown = first.text("#new-signing-secret");
    assert!(shown.starts_with("whsec_"), "{shown}");
    let again = app.get_page(&detail).await;
    assert!(!again.has("#new-signing-secret"), "shown once");
    assert!(
        !again.text("main").contains(&shown),
        "not in the page until Reveal"
    );

    let revealed = Page::from(
        app.post_form(&format!("/settings/webhooks/{webhook}/secret"), &[])
            .await,
    )
    .await;
    assert_eq!(revealed.status, StatusCode::OK);
    assert_eq!(revealed.text("#signing-secret-value"), shown);
    let partial = app
        .post_htmx(&format!("/settings/webhooks/{webhook}/secret"), "")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        partial.contains(&shown) && !partial.contains("<html"),
        "{partial}"
    );
    assert_eq!(api_secret(&app.api().await, webhook).await, shown);
    let audit = app.get_page("/settings/audit").await.text("main");
    assert!(audit.contains("Signing secret revealed"), "{audit}");
}

#[tokio::test]
async fn support_never_sees_a_secret_or_a_way_to_one() {
    let app = TestApp::spawn().await;
    let webhook = app
        .create_webhook("Orders", "https://orders.example.com/in", &["*"])
        .await;
    let support = app.user("sam@example.com", "support").await;

    let page = support
        .get(&format!("/settings/webhooks/{webhook}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("whsec_") && !page.contains("Reveal"),
        "{page}"
    );
    assert!(!page.contains("Rotate secret"));
    for path in ["secret", "rotate-secret"] {
        let refused = support
            .post_form(&format!("/settings/webhooks/{webhook}/{path}"), &[])
            .await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(!refused.text().await.unwrap().contains("whsec_"));
    }
    assert_eq!(
        support
            .get(&format!("/settings/webhooks/{webhook}/verify"))
            .await
            .status(),
        StatusCode::OK,
        "support may check a request"
    );
}

#[tokio::test]
async fn rotate_asks_first_says_until_when_and_shows_the_new_secret_once() {
    let app = TestApp::spawn().await;
    let webhook = app
        .create_webhook("Orders", "https://orders.example.com/in", &["*"])
        .await;
    let api = app.api().await;
    let before = api_secret(&api, webhook).await;
    let detail = app.get_page(&format!("/settings/webhooks/{webhook}")).await;
    let rotate = detail
        .attr("a[href$='/rotate-secret']", "href")
        .expect("a link that asks first");

    let question = app.get_page(&rotate).await;
    assert!(question.text("h1").contains("Rotate the signing secret"));
    assert!(
        question
            .text("main")
            .contains("keeps signing beside it until")
    );
    let rotated = app.confirm(&rotate).await;
    assert_eq!(rotated.status(), StatusCode::SEE_OTHER);

    let page = app.get_page(&location(&rotated)).await;
    let shown = page.text("#new-signing-secret");
    assert_ne!(shown, before);
    assert_eq!(api_secret(&api, webhook).await, shown);
}

#[tokio::test]
async fn check_a_request_accepts_a_genuine_delivery_and_catches_an_altered_body() {
    let app = console("1h").await;
    let api = app.api().await;
    let receiver = Receiver::start().await;
    let webhook = webhook_to(&api, &receiver.url, &["*"]).await;
    api.publish(json!({"event_type": "order.purchased", "data": {"order": {"id": "ord_7731"}}}))
        .await;
    let got = received(&receiver, 1, std::time::Duration::from_secs(5))
        .await
        .remove(0);
    let body = String::from_utf8(got.body.clone()).unwrap();
    let support = app.user("sam@example.com", "support").await;
    let check = |body: String| {
        let fields = [
            ("webhook_id", got.header("webhook-id").unwrap().to_owned()),
            (
                "webhook_timestamp",
                got.header("webhook-timestamp").unwrap().to_owned(),
            ),
            (
                "webhook_signature",
                got.header("webhook-signature").unwrap().to_owned(),
            ),
            ("body", body),
        ];
        let support = &support;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            Page::from(
                support
                    .post_form(&format!("/settings/webhooks/{webhook}/verify"), &fields)
                    .await,
            )
            .await
        }
    };

    let genuine = check(body.clone()).await;
    assert!(
        genuine.text("#verdict-heading").starts_with("Genuine"),
        "{}",
        genuine.text("main")
    );
    assert!(!genuine.text("main").contains("whsec_"));
    let altered = check(body.replace("ord_7731", "ord_7732")).await;
    assert!(
        altered.text("#verdict-heading").starts_with("Not genuine"),
        "{}",
        altered.text("main")
    );
    let empty = Page::from(
        support
            .post_form(&format!("/settings/webhooks/{webhook}/verify"), &[])
            .await,
    )
    .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.text(".error-summary").contains("webhook-signature"));
}
