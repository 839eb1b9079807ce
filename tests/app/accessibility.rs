//! Every screen, at a laptop's and a phone's width, as axe-core sees it in real Chromium:
//! no serious or critical finding. Each screen is also saved under `target/screenshots/`.

use fantoccini::Locator;
use serde_json::json;

use crate::common::Api;
use crate::common::browser::Browser;
use crate::common::receiver::{Answer, Receiver};
use crate::common::scene::{Scene, scene, until_failing, webhook_to};

const WIDTHS: [(u32, u32); 2] = [(1280, 900), (390, 844)];

#[tokio::test]
async fn every_screen_passes_axe_at_both_widths() {
    let scene = scene("1h").await;
    let delivery = scene
        .first_try_fails(
            500,
            json!({"event_type": "order.purchased", "data": {"order": 1}}),
        )
        .await;
    let Scene {
        app, api, webhook, ..
    } = scene;
    let delivery = delivery["id"].as_i64().unwrap();
    // Custom headers, so that the pages show them and the edit form opens its rows.
    let headers = json!({"headers": {"X-Tenant": "acme",
                                     "Authorization": {"value": "Bearer 0123456789", "secret": true}}});
    api.patch(&format!("/api/v1/webhooks/{webhook}"), headers)
        .await;
    let (support, support_password) = app.support_account().await;
    let (_broken, failing, held) = failing_webhook(&api).await;

    let mut findings = Vec::new();
    for (width, height) in WIDTHS {
        let browser = Browser::launch(width, height).await;
        let mut check = async |name: &str| {
            browser.screenshot(&format!("{name}-{width}")).await;
            for finding in browser.accessibility_violations().await {
                findings.push(format!("{name} at {width} px: {finding}"));
            }
        };
        browser.open(&app.url("/login")).await;
        check("login").await;
        browser.sign_in_as_admin(&app).await;
        for (name, path) in [
            ("webhook-list", "/settings/webhooks".to_owned()),
            (
                "webhook-list-filtered",
                "/settings/webhooks?q=zzz&status=disabled".to_owned(),
            ),
            ("webhook-form", "/settings/webhooks/new".to_owned()),
            ("webhook-edit", format!("/settings/webhooks/{webhook}/edit")),
            ("webhook-detail", format!("/settings/webhooks/{webhook}")),
            (
                "delivery",
                format!("/settings/webhooks/{webhook}/deliveries/{delivery}"),
            ),
            ("deliveries", "/settings/deliveries".to_owned()),
            ("event-catalog", "/settings/events".to_owned()),
            ("users", "/settings/users".to_owned()),
            ("tokens", "/settings/tokens".to_owned()),
            ("audit-log", "/settings/audit".to_owned()),
            (
                "confirmation",
                format!("/settings/webhooks/{webhook}/disable"),
            ),
            ("not-found", "/settings/nothing-here".to_owned()),
            (
                "rotate-confirmation",
                format!("/settings/webhooks/{webhook}/rotate-secret"),
            ),
            ("verify", format!("/settings/webhooks/{webhook}/verify")),
            ("deliveries-search", "/settings/deliveries?q=1".to_owned()),
            (
                "webhook-list-by-health",
                "/settings/webhooks?sort=health&status=failing".to_owned(),
            ),
            ("webhook-failing", format!("/settings/webhooks/{failing}")),
            (
                "delivery-held",
                format!("/settings/webhooks/{failing}/deliveries/{held}"),
            ),
            ("profile", "/profile".to_owned()),
            ("event-type-new", "/settings/events/new".to_owned()),
            (
                "event-type-schema",
                "/settings/events/order.purchased/schema".to_owned(),
            ),
        ] {
            browser.open(&app.url(&path)).await;
            check(name).await;
        }
        browser.open(&app.url("/settings/webhooks/new")).await;
        browser
            .find(Locator::Css("#webhook-form button[type=submit]"))
            .await
            .click()
            .await
            .expect("submit");
        browser
            .wait_for_text(".error-summary", "need your attention")
            .await;
        let headings = browser
            .client
            .execute("return document.querySelectorAll('h1').length;", vec![])
            .await
            .expect("script runs");
        assert_eq!(
            headings,
            json!(1),
            "the form keeps its page's h1 after a failed create"
        );
        check("webhook-form-errors").await;
        browser
            .open(&app.url(&format!("/settings/webhooks/{webhook}")))
            .await;
        browser
            .find(Locator::Css("#signing-secret button[type=submit]"))
            .await
            .click()
            .await
            .expect("reveal");
        browser.wait_for_text("#signing-secret", "whsec_").await;
        // Focus moves once htmx has settled the swap, a moment after the text shows.
        let mut focused = json!(null);
        for _ in 0..40 {
            focused = browser
                .client
                .execute("return document.activeElement.id;", vec![])
                .await
                .expect("script runs");
            if focused == json!("signing-secret-value") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(
            focused,
            json!("signing-secret-value"),
            "focus moves to the revealed secret"
        );
        check("secret-revealed").await;
        browser.click_link("Rotate secret…").await;
        browser
            .wait_for_text("dialog[open] h2", "Rotate the signing secret")
            .await;
        check("rotate-dialog").await;
        browser.close().await;

        let browser = Browser::launch(width, height).await;
        browser.sign_in(&app, support, &support_password).await;
        browser.open(&app.url("/settings/users")).await;
        browser.screenshot(&format!("forbidden-{width}")).await;
        for finding in browser.accessibility_violations().await {
            findings.push(format!("forbidden at {width} px: {finding}"));
        }
        browser.close().await;
    }
    assert!(
        findings.is_empty(),
        "axe-core found:\n{}",
        findings.join("\n")
    );
}

/// A webhook whose receiver keeps answering 503 until it is Failing, and one of its held
/// deliveries: (its receiver, webhook, delivery).
async fn failing_webhook(api: &Api) -> (Receiver, i64, i64) {
    let broken = Receiver::start().await;
    broken.always(Answer::Status(503));
    let webhook = webhook_to(api, &broken.url, &["order.refunded"]).await;
    for n in 0..7 {
        api.publish(json!({"event_type": "order.refunded", "data": {"refund": n}}))
            .await;
    }
    until_failing(api, webhook).await;
    let log: serde_json::Value = api
        .get(&format!("/api/v1/webhooks/{webhook}/deliveries"))
        .await
        .json()
        .await
        .unwrap();
    (broken, webhook, log["data"][0]["id"].as_i64().unwrap())
}
