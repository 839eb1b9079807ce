//! A new admin's walk through the console in real headless Chromium.

use std::time::Duration;

use fantoccini::Locator;
use serde_json::json;

use crate::common::TestApp;
use crate::common::browser::{Browser, ENTER};
use crate::common::receiver::Answer;
use crate::common::scene::{Scene, scene};

#[tokio::test]
async fn an_admin_cancels_a_new_webhook_then_creates_it_in_chromium() {
    let app = TestApp::spawn().await;
    let browser = Browser::launch(1280, 900).await;
    browser.sign_in_as_admin(&app).await;

    browser.open(&app.url("/")).await;
    browser.click_link("Settings").await;
    browser
        .wait_for_text(".settings-tabs [aria-current=page]", "Webhook Settings")
        .await;
    browser
        .wait_for_text(".empty-state", "No webhooks yet")
        .await;

    // The form opens in place, on the list.
    browser.click_link("Create Webhook").await;
    browser
        .wait_for_text("#webhook-form-heading", "Create Webhook")
        .await;
    assert!(
        browser
            .focused()
            .await
            .starts_with("h2#webhook-form-heading"),
        "focus moves to the form just opened: {}",
        browser.focused().await
    );
    assert_eq!(
        browser.find(Locator::Css("h1")).await.text().await.unwrap(),
        "Webhook Settings"
    );
    browser.fill("Webhook Name", "Abandoned idea").await;
    browser.fill("URL", "https://nowhere.example.com/").await;
    browser.click_button("Cancel").await;
    browser
        .wait_for_text(".empty-state", "No webhooks yet")
        .await;
    assert_eq!(browser.current_path().await, "/settings/webhooks");
    assert_eq!(app.webhook_count().await, 0, "Cancel saves nothing");

    browser.click_link("Create Webhook").await;
    browser
        .wait_for_text("#webhook-form-heading", "Create Webhook")
        .await;
    browser.fill("Webhook Name", "CRM order sync").await;
    browser.check("order.purchased").await;
    browser
        .fill("URL", "https://crm.example.com/webhooks")
        .await;
    browser.fill("API Key", "sk_live_0123456789abcdef").await;
    browser.screenshot("create-in-place-1280").await;
    browser.click_button("Create").await;

    browser
        .wait_for_text(".toast-success", "Webhook \"CRM order sync\" created")
        .await;
    browser.wait_for_text("h1", "CRM order sync").await;
    browser.wait_for_text(".next-step", "Send test event").await;
    browser.screenshot("created-1280").await;
    assert_eq!(app.webhook_count().await, 1);
    browser.close().await;
}

#[tokio::test]
async fn searching_and_paging_update_the_table_in_place_in_chromium() {
    let app = TestApp::spawn().await;
    app.seed_webhooks(60, |i| format!("Webhook {i:03}")).await;
    let browser = Browser::launch(1280, 900).await;
    browser.sign_in_as_admin(&app).await;
    browser.open(&app.url("/settings/webhooks")).await;
    // A marker that a full page load would wipe out.
    browser
        .client
        .execute("document.body.dataset.loaded = 'once';", vec![])
        .await
        .unwrap();

    browser.click_link("Next →").await;
    browser
        .wait_for_text(".table-summary", "Showing 26–50 of 60")
        .await;
    assert_eq!(browser.current_path().await, "/settings/webhooks");
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(url.query(), Some("page=2"), "the page is in the address");

    browser.fill("Search", "webhook 04").await;
    browser
        .wait_for_text(".table-summary", "Showing 1–10 of 10")
        .await;
    let first = browser.find(Locator::Css("tbody .row-link")).await;
    assert_eq!(first.text().await.unwrap(), "Webhook 040");
    let marker = browser
        .client
        .execute("return document.body.dataset.loaded || null;", vec![])
        .await
        .unwrap();
    assert_eq!(
        marker,
        serde_json::json!("once"),
        "htmx swapped the table, no reload"
    );
    browser.close().await;
}

#[tokio::test]
async fn invalid_input_is_shown_in_place_in_chromium() {
    let app = TestApp::spawn().await;
    let browser = Browser::launch(390, 844).await;
    browser.sign_in_as_admin(&app).await;

    browser.open(&app.url("/settings/webhooks/new")).await;
    browser.fill("Webhook Name", "Files").await;
    browser.fill("URL", "ftp://files.example.com/in").await;
    browser.click_button("Create").await;

    browser.wait_for_text("#url-error", "https://").await;
    browser
        .wait_for_text("#events-error", "at least one event")
        .await;
    assert!(
        browser.focused().await.starts_with("div#error-summary"),
        "focus moves to the list of problems: {}",
        browser.focused().await
    );
    browser.screenshot("create-errors-390").await;
    let name = browser.find(Locator::Id("name")).await;
    assert_eq!(name.prop("value").await.unwrap().as_deref(), Some("Files"));
    assert_no_sideways_scrolling(&browser, 390.0).await;
    assert_eq!(app.webhook_count().await, 0);
    browser.close().await;
}

#[tokio::test]
async fn every_screen_fits_a_phone_and_a_laptop_without_sideways_scrolling() {
    let app = TestApp::spawn().await;
    let long_url = format!("https://receiver.example.com/{}", "segment/".repeat(40));
    let id = app
        .create_webhook(
            "A webhook with a rather long descriptive name",
            &long_url,
            &["order.purchased", "user.signed_up", "record.created"],
        )
        .await;
    app.user("sam@example.com", "support").await;
    let screens = [
        ("/settings/webhooks".to_owned(), "list"),
        (format!("/settings/webhooks/{id}"), "detail"),
        (format!("/settings/webhooks/{id}/edit"), "edit"),
        (format!("/settings/webhooks/{id}/delete"), "delete"),
        ("/settings/events".to_owned(), "events"),
        ("/settings/users".to_owned(), "users"),
        ("/settings/tokens".to_owned(), "tokens"),
        ("/settings/audit".to_owned(), "audit"),
        ("/no/such/page".to_owned(), "not-found"),
    ];

    for (width, height) in [(390, 844), (1280, 900)] {
        let browser = Browser::launch(width, height).await;
        browser.open(&app.url("/login")).await;
        browser.screenshot(&format!("login-{width}")).await;
        assert_no_sideways_scrolling(&browser, width.into()).await;
        browser.sign_in_as_admin(&app).await;
        for (path, name) in &screens {
            browser.open(&app.url(path)).await;
            browser.find(Locator::Css("h1")).await;
            browser.screenshot(&format!("{name}-{width}")).await;
            assert_no_sideways_scrolling(&browser, width.into()).await;
        }
        browser.close().await;
    }
}

#[tokio::test]
async fn a_delivery_whose_answer_is_hidden_or_long_fits_a_phone() {
    use crate::common::receiver::Receiver;
    use crate::common::scene::{console, wait_for_delivery};

    let app = console("1h").await;
    let api = app.api().await;
    let receiver = Receiver::start().await;
    receiver.always(Answer::Echo);
    // A key too short to mask: the answer is kept as one long line saying it is hidden.
    let created = api
        .post(
            "/api/v1/webhooks",
            json!({"name": "Short key", "url": receiver.url, "events": ["*"], "api_key": "ab12"}),
        )
        .await;
    let webhook = created.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    api.publish(json!({"event_type": "user.signed_up", "data": {}}))
        .await;
    let delivery = wait_for_delivery(&api, webhook, |d| d["attempt_count"] == 1).await;

    let browser = Browser::launch(390, 844).await;
    browser.sign_in_as_admin(&app).await;
    let path = format!("/settings/webhooks/{webhook}/deliveries/{}", delivery["id"]);
    browser.open(&app.url(&path)).await;
    browser
        .wait_for_text(".attempt", "hidden: it may contain a secret")
        .await;
    browser.screenshot("delivery-hidden-answer-390").await;
    assert_no_sideways_scrolling(&browser, 390.0).await;
    browser.close().await;
}

async fn assert_no_sideways_scrolling(browser: &Browser, width: f64) {
    let page_width = browser
        .client
        .execute("return document.documentElement.scrollWidth;", vec![])
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    let path = browser.current_path().await;
    assert!(
        page_width <= width,
        "{path} is {page_width} px wide at {width} px"
    );
    // Nor does a table hide part of its rows behind a scroll bar of its own.
    let widest_table = browser
        .client
        .execute(
            "return Math.max(0, ...[...document.querySelectorAll('.table-wrap')]
                .map(t => t.scrollWidth - t.clientWidth));",
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    assert!(
        widest_table <= 0.0,
        "a table on {path} scrolls {widest_table} px sideways at {width} px"
    );
}

#[tokio::test]
async fn a_test_event_appears_in_the_delivery_log_without_a_reload_in_chromium() {
    let Scene {
        app,
        api,
        receiver,
        webhook,
    } = scene("1h").await;
    // The receiver takes its time, so the log shows the delivery waiting before it succeeds.
    receiver.script([Answer::Slowly(Duration::from_millis(1500))]);
    let browser = Browser::launch(1280, 900).await;
    browser.sign_in_as_admin(&app).await;
    browser
        .open(&app.url(&format!("/settings/webhooks/{webhook}")))
        .await;
    browser
        .wait_for_text("#delivery-log", "No deliveries yet")
        .await;

    browser.click_link("Send test event…").await;
    browser
        .wait_for_text("dialog[open] h2", "Send a test event to")
        .await;
    browser.click_button("Send test event").await;
    browser
        .wait_for_text(".toast-success", "Test event sent")
        .await;
    browser
        .wait_for_text("#delivery-log-results", "webhook.test")
        .await;
    // Anything set on this page survives only if the page is never loaded again.
    browser
        .client
        .execute("window.stayedOnPage = true;", vec![])
        .await
        .expect("script runs");
    browser
        .wait_for_text("#delivery-log-results tbody", "Succeeded")
        .await;

    api.publish(json!({"event_type": "order.purchased", "data": {"order": 1}}))
        .await;
    browser
        .wait_for_text("#delivery-log-results tbody", "order.purchased")
        .await;
    let stayed = browser
        .client
        .execute("return window.stayedOnPage === true;", vec![])
        .await
        .expect("script runs");
    assert_eq!(stayed, json!(true), "the log changed in place, no reload");
    browser.screenshot("delivery-log-live-1280").await;
    browser.close().await;
}

#[tokio::test]
async fn a_new_admin_creates_a_webhook_by_keyboard_alone_with_the_event_picker() {
    let app = TestApp::spawn().await;
    let browser = Browser::launch(1280, 900).await;
    browser.sign_in_as_admin(&app).await;
    browser.open(&app.url("/settings/webhooks/new")).await;
    browser.find(Locator::Id("name")).await;

    browser
        .tab_to(|focused| focused.starts_with("input#name"))
        .await;
    browser.press("Keyboard order sync").await;
    let stops = browser
        .tab_to(|focused| focused.starts_with("input#url"))
        .await;
    assert_eq!(stops, 1, "the URL comes right after the name");
    browser.press("https://keyboard.example.com/in").await;
    browser
        .tab_to(|focused| focused.contains("[Filter event types]"))
        .await;
    browser.press("refund").await;
    let visible = browser
        .client
        .execute(
            "return [...document.querySelectorAll('[data-event-group] .choice')].filter((c) => !c.hidden).map((c) => c.querySelector('input').value);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        visible,
        serde_json::json!(["order.refunded"]),
        "filtered as typed"
    );
    browser.wait_for_text(".picker-count", "0 selected").await;
    browser
        .tab_to(|focused| focused.ends_with("[order.refunded]"))
        .await;
    browser.press(" ").await;
    browser.wait_for_text(".picker-count", "1 selected").await;
    let stops = browser.tab_to(|focused| focused == "button#[]").await;
    assert!(stops <= 5, "few Tab stops after the events: {stops}");
    browser.press(ENTER).await;

    browser.wait_for_text("h1", "Keyboard order sync").await;
    browser.wait_for_text(".properties", "order.refunded").await;
    browser.screenshot("created-by-keyboard-1280").await;
    browser.close().await;
}

#[tokio::test]
async fn all_events_switches_the_single_types_off_in_chromium() {
    let app = TestApp::spawn().await;
    let browser = Browser::launch(390, 844).await;
    browser.sign_in_as_admin(&app).await;
    browser.open(&app.url("/settings/webhooks/new")).await;
    browser.check("order.purchased").await;
    browser.wait_for_text(".picker-count", "1 selected").await;

    browser.check("*").await;

    browser
        .wait_for_text(".picker-count", "All events selected")
        .await;
    let disabled = browser
        .client
        .execute(
            "return [...document.querySelectorAll('[data-event-group] input')].every((box) => box.disabled);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        disabled,
        serde_json::json!(true),
        "the single boxes are off"
    );
    browser.screenshot("event-picker-all-390").await;
    browser.close().await;
}

#[tokio::test]
async fn a_new_admin_creates_a_webhook_with_javascript_off() {
    let app = TestApp::spawn().await;
    let browser = Browser::launch_without_javascript(390, 844).await;
    browser.sign_in_as_admin(&app).await;
    browser.open(&app.url("/settings/webhooks")).await;

    browser.click_link("Create Webhook").await;
    browser.wait_for_text("h1", "Create Webhook").await;
    assert_eq!(browser.current_path().await, "/settings/webhooks/new");
    browser.click_button("Create").await;
    browser
        .wait_for_text(".error-summary", "need your attention")
        .await;
    browser.fill("Webhook Name", "No script").await;
    browser.check("user.signed_up").await;
    browser.fill("URL", "https://noscript.example.com/in").await;
    browser.click_button("Create").await;

    browser.wait_for_text("h1", "No script").await;
    browser
        .wait_for_text(".toast-success", "Webhook \"No script\" created")
        .await;
    assert!(
        browser
            .current_path()
            .await
            .starts_with("/settings/webhooks/")
    );
    assert_eq!(app.webhook_count().await, 1);
    browser.screenshot("created-without-javascript-390").await;
    browser.open(&app.url("/settings/webhooks")).await;
    let copy = browser.find(Locator::Css("[data-copy]")).await;
    assert!(
        copy.attr("hidden").await.unwrap().is_some(),
        "no script ran: the copy button stays hidden"
    );
    browser.close().await;
}

#[tokio::test]
async fn an_admin_edits_disables_enables_and_deletes_a_webhook_in_chromium() {
    let app = TestApp::spawn().await;
    let id = app
        .create_webhook("CRM", "https://crm.example.com/in", &["order.purchased"])
        .await;
    let browser = Browser::launch(1280, 900).await;
    browser.sign_in_as_admin(&app).await;
    browser
        .open(&app.url(&format!("/settings/webhooks/{id}")))
        .await;

    browser.click_link("Edit").await;
    browser.wait_for_text("h1", "Edit Webhook").await;
    browser.fill("Webhook Name", "CRM sync").await;
    browser.click_button("Save").await;
    browser.wait_for_text("h1", "CRM sync").await;
    browser
        .wait_for_text(".toast-success", "Webhook \"CRM sync\" saved")
        .await;

    // Disabling asks first, in a dialog over the page.
    browser.click_link("Disable…").await;
    browser
        .wait_for_text("dialog[open] h2", "Disable webhook “CRM sync”?")
        .await;
    browser.screenshot("confirm-dialog-1280").await;
    assert!(
        browser.focused().await.starts_with("a#"),
        "the dialog opens on Cancel: {}",
        browser.focused().await
    );
    browser.click_link("Cancel").await;
    browser
        .wait_for_text(".page-title-row .badge", "Active")
        .await;
    browser.click_link("Disable…").await;
    browser.wait_for_text("dialog[open] h2", "Disable").await;
    browser.click_button("Disable webhook").await;
    browser
        .wait_for_text(".page-title-row .badge", "Disabled")
        .await;
    browser.click_button("Enable").await;
    browser
        .wait_for_text(".page-title-row .badge", "Active")
        .await;

    browser.click_link("Delete…").await;
    browser
        .wait_for_text("dialog[open] h1, dialog[open] h2", "Delete webhook")
        .await;
    browser.click_button("Delete webhook").await;
    browser
        .wait_for_text(".toast-success", "Webhook \"CRM sync\" deleted")
        .await;
    assert_eq!(app.webhook_count().await, 0);
    browser.close().await;
}

#[tokio::test]
async fn support_sees_every_screen_without_a_single_control_in_chromium() {
    let app = TestApp::spawn().await;
    let id = app
        .create_webhook("CRM", "https://crm.example.com/in", &["*"])
        .await;
    let (email, password) = app.support_account().await;
    let browser = Browser::launch(390, 844).await;
    browser.sign_in(&app, email, &password).await;

    for path in [
        "/settings/webhooks".to_owned(),
        format!("/settings/webhooks/{id}"),
        "/settings/deliveries".to_owned(),
        "/settings/events".to_owned(),
    ] {
        browser.open(&app.url(&path)).await;
        browser.find(Locator::Css("h1")).await;
        let controls = browser
            .client
            .execute(
                "return [...document.querySelectorAll('main a.button, main form[method=post] button')].map((e) => e.textContent.trim());",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            controls,
            serde_json::json!([]),
            "{path} offers support nothing to press"
        );
    }
    browser.screenshot("support-detail-390").await;
    browser.close().await;
}

#[tokio::test]
async fn back_after_create_shows_an_empty_form_not_the_one_just_sent() {
    let app = TestApp::spawn().await;
    let browser = Browser::launch(1280, 900).await;
    browser.sign_in_as_admin(&app).await;
    browser.open(&app.url("/settings/webhooks")).await;
    browser.click_link("Create Webhook").await;
    browser
        .wait_for_text("#webhook-form-heading", "Create Webhook")
        .await;
    browser.fill("Webhook Name", "Once only").await;
    browser.check("user.signed_up").await;
    browser.fill("URL", "https://once.example.com/in").await;
    browser.click_button("Create").await;
    browser.wait_for_text("h1", "Once only").await;

    browser.client.back().await.expect("back");
    browser
        .wait_for_text("#webhook-form-heading", "Create Webhook")
        .await;
    let name = browser.find(Locator::Id("name")).await;
    assert_eq!(
        name.prop("value").await.unwrap().as_deref(),
        Some(""),
        "Back shows a fresh form, so nothing is sent twice"
    );
    assert_eq!(app.webhook_count().await, 1);
    browser.close().await;
}

#[tokio::test]
async fn a_hundred_character_name_without_spaces_never_pushes_a_page_sideways() {
    let app = TestApp::spawn().await;
    let name = "Ledger".repeat(16) + "Sync";
    assert_eq!(name.chars().count(), 100);
    let webhook = app
        .create_webhook(
            &name,
            "https://ledger-receiver.payments.example.com/v2/incoming/ledger/event",
            &["*"],
        )
        .await;
    for (width, height) in [(1280, 900), (390, 844)] {
        let browser = Browser::launch(width, height).await;
        browser.sign_in_as_admin(&app).await;
        for path in [
            "/settings/webhooks".to_owned(),
            format!("/settings/webhooks/{webhook}"),
            format!("/settings/webhooks/{webhook}/edit"),
            format!("/settings/webhooks/{webhook}/delete"),
            format!("/settings/webhooks/{webhook}/verify"),
            format!("/settings/deliveries?webhook={webhook}"),
        ] {
            browser.open(&app.url(&path)).await;
            let overflow = browser
                .client
                .execute(
                    "return [document.documentElement.scrollWidth - window.innerWidth,
                             [...document.querySelectorAll('body *')]
                               .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
                               .slice(-3).map((e) => e.outerHTML.slice(0, 120))];",
                    vec![],
                )
                .await
                .expect("script runs");
            assert!(
                overflow[0].as_i64().unwrap_or(1) <= 0,
                "{path} at {width} px scrolls sideways: {overflow}"
            );
        }
        browser.open(&app.url("/settings/webhooks")).await;
        browser.screenshot(&format!("long-name-list-{width}")).await;
        browser.close().await;
    }
}

#[tokio::test]
async fn an_admin_gives_a_webhook_custom_headers_adding_rows_as_needed() {
    let app = TestApp::spawn().await;
    let browser = Browser::launch(1280, 1400).await;
    browser.sign_in_as_admin(&app).await;
    browser.open(&app.url("/settings/webhooks/new")).await;
    browser.fill("Webhook Name", "Gateway").await;
    browser.check("order.purchased").await;
    browser.fill("URL", "https://gateway.example.com/in").await;

    browser
        .find(Locator::Css("details.header-details summary"))
        .await
        .click()
        .await
        .expect("open the custom headers");
    browser.fill("Name of header 1", "X-Tenant").await;
    browser.fill("Value of header 1", "acme").await;
    browser.fill("Name of header 2", "X-Region").await;
    browser.fill("Value of header 2", "eu").await;
    // Two spare rows are used up: "Add header" (shown with JavaScript) adds a third,
    // its name focused.
    browser.click_button("Add header").await;
    assert_eq!(browser.focused().await, "input#header_name_2[]");
    browser.press("X-Priority").await;
    browser.fill("Value of header 3", "high").await;
    browser.check("2").await;
    browser.click_button("Create").await;

    browser.wait_for_text("h1", "Gateway").await;
    let shown = browser
        .find(Locator::Css(".header-list"))
        .await
        .text()
        .await
        .unwrap();
    assert!(shown.contains("X-Tenant: acme"), "{shown}");
    assert!(shown.contains("X-Region: eu"), "{shown}");
    assert!(
        shown.contains("X-Priority: ••••••••"),
        "a short secret is masked whole: {shown}"
    );
    browser.close().await;
}
