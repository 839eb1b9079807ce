use reqwest::StatusCode;

use crate::common::{Page, TestApp};

#[tokio::test]
async fn a_new_admin_is_told_how_to_create_the_first_webhook() {
    let app = TestApp::spawn().await;

    let page = app.get_page("/settings/webhooks").await;

    assert_eq!(page.text(".empty-state h2"), "No webhooks yet");
    assert!(page.text(".empty-state").contains("Create Webhook"));
    assert_eq!(
        page.attr(".page-header a.button-primary", "href")
            .as_deref(),
        Some("/settings/webhooks/new")
    );
    assert_eq!(page.text(".page-header a.button-primary"), "Create Webhook");
}

#[tokio::test]
async fn the_console_opens_on_settings_and_its_webhook_settings_tab() {
    let app = TestApp::spawn().await;

    for path in ["/", "/settings"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(response.headers()["location"], "/settings/webhooks");
    }
    let page = app.get_page("/settings/webhooks").await;
    assert_eq!(page.text(".sidebar a.active"), "Settings");
    assert_eq!(
        page.text(".settings-tabs a[aria-current=page]"),
        "Webhook Settings"
    );
    assert_eq!(
        page.texts(".settings-tabs a"),
        [
            "Webhook Settings",
            "Deliveries",
            "Event Catalog",
            "Users",
            "API Tokens",
            "Audit Log"
        ]
    );
}

#[tokio::test]
async fn the_list_shows_name_url_events_type_status_and_delivery_columns() {
    let app = TestApp::spawn().await;
    app.create_webhook(
        "Orders to CRM",
        "https://crm.example.com/in",
        &["order.purchased", "order.refunded"],
    )
    .await;
    app.create_webhook("Audit everything", "https://audit.example.com/", &["*"])
        .await;

    let page = app.get_page("/settings/webhooks").await;

    assert_eq!(
        page.texts("thead th"),
        [
            "Name",
            "URL",
            "Events",
            "Notification Type",
            "Status",
            "Last delivery",
            "Success (24 h)"
        ]
    );
    assert_eq!(page.webhook_names(), ["Audit everything", "Orders to CRM"]);
    let first = page.texts("tbody tr:nth-child(1) td");
    assert_eq!(
        page.text("tbody tr:nth-child(1) .url-short"),
        "https://audit.example.com/"
    );
    assert_eq!(
        page.attr("tbody tr:nth-child(1) .url-short", "title")
            .as_deref(),
        Some("https://audit.example.com/"),
        "the whole URL on hover"
    );
    assert_eq!(
        page.attr("tbody tr:nth-child(1) [data-copy]", "data-copy")
            .as_deref(),
        Some("https://audit.example.com/"),
        "and a copy button"
    );
    assert_eq!(first[2], "All events");
    assert_eq!(first[3], "REST");
    assert_eq!(first[4], "Active");
    assert_eq!(first[5], "Never");
    assert_eq!(first[6], "—");
    assert_eq!(
        page.texts("tbody tr:nth-child(2) .chip"),
        ["order.purchased", "order.refunded"]
    );
    assert_eq!(page.text(".table-summary"), "Showing 1–2 of 2 webhooks");
}

#[tokio::test]
async fn a_webhook_with_many_events_shows_two_chips_and_counts_the_rest() {
    let app = TestApp::spawn().await;
    app.create_webhook(
        "Everything but",
        "https://a-very-long-host-name.receivers.example.com/webhooks/incoming/orders",
        &[
            "order.purchased",
            "order.refunded",
            "user.signed_up",
            "user.deleted",
        ],
    )
    .await;

    let page = app.get_page("/settings/webhooks").await;

    assert_eq!(
        page.texts("tbody .chip"),
        ["order.purchased", "order.refunded", "+2 more"]
    );
    assert_eq!(
        page.text("tbody .url-host"),
        "https://a-very-long-host-name.receivers.example.com",
        "the host is shown whole"
    );
    assert_eq!(
        page.text("tbody .url-path"),
        "/webhooks/incoming/orders",
        "and the path's end"
    );
}

#[tokio::test]
async fn searching_finds_webhooks_by_part_of_the_name_in_any_case_or_of_the_url() {
    let app = TestApp::spawn().await;
    app.create_webhook(
        "Billing Sync",
        "https://billing.example.com/a",
        &["order.purchased"],
    )
    .await;
    app.create_webhook(
        "CRM",
        "https://crm.example.com/hooks/billing",
        &["user.signed_up"],
    )
    .await;
    app.create_webhook(
        "Search index",
        "https://search.example.com/",
        &["record.created"],
    )
    .await;

    let by_name = app.get_page("/settings/webhooks?q=SYNC").await;
    assert_eq!(by_name.webhook_names(), ["Billing Sync"]);
    let by_url = app.get_page("/settings/webhooks?q=billing").await;
    assert_eq!(by_url.webhook_names(), ["Billing Sync", "CRM"]);
    assert_eq!(by_url.attr("#search", "value").as_deref(), Some("billing"));

    let nothing = app.get_page("/settings/webhooks?q=nothing-like-this").await;
    assert_eq!(nothing.text(".empty-state h2"), "No webhooks match");
}

#[tokio::test]
async fn search_wildcards_are_taken_literally() {
    let app = TestApp::spawn().await;
    app.create_webhook("100% uptime", "https://a.example.com/", &["*"])
        .await;
    app.create_webhook("Other", "https://b.example.com/", &["*"])
        .await;

    assert_eq!(
        app.get_page("/settings/webhooks?q=%25")
            .await
            .webhook_names(),
        ["100% uptime"]
    );
    assert!(
        app.get_page("/settings/webhooks?q=_")
            .await
            .webhook_names()
            .is_empty()
    );
}

#[tokio::test]
async fn filters_narrow_the_list_by_status_and_by_event_type() {
    let app = TestApp::spawn().await;
    let orders = app
        .create_webhook("Orders", "https://a.example.com/", &["order.purchased"])
        .await;
    app.create_webhook("Users", "https://b.example.com/", &["user.signed_up"])
        .await;
    app.create_webhook("Everything", "https://c.example.com/", &["*"])
        .await;
    app.post_form(&format!("/settings/webhooks/{orders}/disable"), &[])
        .await;

    let disabled = app.get_page("/settings/webhooks?status=disabled").await;
    assert_eq!(disabled.webhook_names(), ["Orders"]);
    let active = app.get_page("/settings/webhooks?status=active").await;
    assert_eq!(active.webhook_names(), ["Everything", "Users"]);

    // A webhook for all events receives order.purchased too.
    let purchases = app
        .get_page("/settings/webhooks?event=order.purchased")
        .await;
    assert_eq!(purchases.webhook_names(), ["Everything", "Orders"]);
    let both = app
        .get_page("/settings/webhooks?event=order.purchased&status=active")
        .await;
    assert_eq!(both.webhook_names(), ["Everything"]);
    assert_eq!(
        both.attr("#filter-status option[selected]", "value")
            .as_deref(),
        Some("active")
    );
}

#[tokio::test]
async fn the_list_is_paged_on_the_server_with_the_total_count() {
    let app = TestApp::spawn().await;
    app.seed_webhooks(60, |i| format!("Webhook {i:03}")).await;

    let first = app.get_page("/settings/webhooks").await;
    assert_eq!(first.webhook_names().len(), 25);
    assert_eq!(first.webhook_names()[0], "Webhook 000");
    assert_eq!(first.text(".table-summary"), "Showing 1–25 of 60 webhooks");
    assert_eq!(first.texts(".page-number"), ["1", "2", "3"]);
    assert_eq!(
        first.attr("a[rel=next]", "href").as_deref(),
        Some("/settings/webhooks?page=2")
    );

    let last = app.get_page("/settings/webhooks?page=3").await;
    assert_eq!(last.webhook_names().len(), 10);
    assert_eq!(last.webhook_names()[0], "Webhook 050");
    assert_eq!(last.text(".table-summary"), "Showing 51–60 of 60 webhooks");
    assert!(!last.has("a[rel=next]"));

    let beyond = app.get_page("/settings/webhooks?page=99").await;
    assert_eq!(
        beyond.text(".table-summary"),
        "Showing 51–60 of 60 webhooks"
    );
    let nonsense = app.get_page("/settings/webhooks?page=abc").await;
    assert_eq!(nonsense.webhook_names()[0], "Webhook 000");
}

#[tokio::test]
async fn page_links_keep_the_search_and_filters() {
    let app = TestApp::spawn().await;
    app.seed_webhooks(30, |i| format!("Webhook {i:03}")).await;

    let page = app
        .get_page("/settings/webhooks?q=webhook&status=active")
        .await;

    assert_eq!(
        page.attr("a[rel=next]", "href").as_deref(),
        Some("/settings/webhooks?q=webhook&status=active&page=2")
    );
}

#[tokio::test]
async fn htmx_gets_only_the_table_when_the_search_changes() {
    let app = TestApp::spawn().await;
    app.create_webhook("Orders", "https://a.example.com/", &["*"])
        .await;

    let response = app.get_htmx("/settings/webhooks?q=ord").await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["vary"], "HX-Request");
    let page = Page::from(response).await;
    assert!(!page.has("nav.sidebar"), "a partial has no layout");
    assert_eq!(page.webhook_names(), ["Orders"]);
}
