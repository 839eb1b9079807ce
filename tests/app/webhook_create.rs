use reqwest::StatusCode;

use crate::common::{Page, TestApp};

fn valid_form() -> Vec<(&'static str, String)> {
    vec![
        ("name", "CRM order sync".into()),
        ("events", "order.purchased".into()),
        ("notification_type", "REST".into()),
        ("url", "https://crm.example.com/webhooks".into()),
        ("api_key", "sk_live_0123456789abcdef".into()),
    ]
}

fn with(field: &str, value: &str) -> Vec<(&'static str, String)> {
    let mut form: Vec<_> = valid_form()
        .into_iter()
        .filter(|(name, _)| *name != field)
        .collect();
    let field = valid_form()
        .into_iter()
        .find(|(name, _)| *name == field)
        .unwrap()
        .0;
    if !value.is_empty() || field != "events" {
        form.push((field, value.to_owned()));
    }
    form
}

async fn submit(app: &TestApp, form: &[(&'static str, String)]) -> Page {
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Page::from(app.post_form("/settings/webhooks", &fields).await).await
}

#[tokio::test]
async fn the_create_form_has_the_fields_an_admin_expects() {
    let app = TestApp::spawn().await;

    let page = app.get_page("/settings/webhooks/new").await;

    assert_eq!(page.text("#webhook-form-heading"), "Create Webhook");
    assert_eq!(
        page.texts("#webhook-form label[for]"),
        [
            "Webhook Name",
            "URL",
            "Notification Type",
            "API Key",
            "Max deliveries per second",
            "Name of header 1",
            "Value of header 1",
            "Name of header 2",
            "Value of header 2"
        ]
    );
    assert_eq!(
        page.texts("#webhook-form legend"),
        ["Webhook Events", "Custom headers"]
    );
    for name in ["name", "notification_type", "url", "api_key"] {
        assert!(
            page.has(&format!("#webhook-form [name={name}]")),
            "field {name}"
        );
    }
    assert_eq!(page.texts("#webhook-form option"), ["REST"]);
    assert!(page.text(".choice-all").starts_with("All events"));
    let events: Vec<String> = page.texts("#webhook-form .event-group code");
    assert!(events.contains(&"order.purchased".to_owned()));
    assert!(
        !events.contains(&"webhook.test".to_owned()),
        "the test event is not subscribable"
    );
    assert_eq!(page.texts(".form-actions button"), ["Create", "Cancel"]);
    assert!(page.text("#name-help").contains("descriptive name"));
}

#[tokio::test]
async fn creating_a_webhook_returns_to_the_list_with_a_confirmation_and_the_new_row() {
    let app = TestApp::spawn().await;

    let response = app
        .post_form(
            "/settings/webhooks",
            &[
                ("name", "  CRM order sync "),
                ("events", "order.purchased"),
                ("events", "order.refunded"),
                ("notification_type", "REST"),
                ("url", "https://crm.example.com/webhooks"),
                ("api_key", "sk_live_0123456789abcdef"),
            ],
        )
        .await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/settings/webhooks/"), "{location}");
    let page = app.get_page(&location).await;
    assert_eq!(
        page.text(".toast-success"),
        "Webhook \"CRM order sync\" created"
    );
    assert_eq!(page.text("h1"), "CRM order sync");
    assert!(
        page.text(".next-step").contains("Send test event"),
        "the next step is to test it"
    );
    let list = app.get_page("/settings/webhooks").await;
    assert_eq!(list.webhook_names(), ["CRM order sync"]);
    assert_eq!(
        list.texts("tbody .chip"),
        ["order.purchased", "order.refunded"]
    );
    assert!(!list.has(".toast"), "the confirmation shows once");
}

#[tokio::test]
async fn a_deleted_webhooks_id_is_never_given_to_another() {
    let app = TestApp::spawn().await;
    let first = app
        .create_webhook("First", "https://a.example.com/", &["*"])
        .await;
    let last = app
        .create_webhook("Last", "https://b.example.com/", &["*"])
        .await;
    app.post_form(&format!("/settings/webhooks/{last}/delete"), &[])
        .await;

    let next = app
        .create_webhook("Next", "https://c.example.com/", &["*"])
        .await;

    assert!(next > last && last > first, "{first} {last} {next}");
    let old_link = app.get(&format!("/settings/webhooks/{last}")).await;
    assert_eq!(
        old_link.status(),
        StatusCode::NOT_FOUND,
        "an old link opens nothing"
    );
}

#[tokio::test]
async fn each_invalid_input_is_answered_422_beside_its_field_and_nothing_is_saved() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            "empty name",
            with("name", "   "),
            "#name-error",
            "Enter a webhook name.",
        ),
        (
            "name over 100 characters",
            with("name", &"n".repeat(101)),
            "#name-error",
            "at most 100 characters",
        ),
        (
            "no events",
            with("events", ""),
            "#events-error",
            "at least one event",
        ),
        (
            "unknown event",
            with("events", "order.exploded"),
            "#events-error",
            "not in the event catalog",
        ),
        (
            "test event",
            with("events", "webhook.test"),
            "#events-error",
            "not in the event catalog",
        ),
        ("empty URL", with("url", ""), "#url-error", "Enter the URL"),
        (
            "ftp URL",
            with("url", "ftp://files.example.com/in"),
            "#url-error",
            "https://",
        ),
        (
            "javascript URL",
            with("url", "javascript:alert(1)"),
            "#url-error",
            "https://",
        ),
        (
            "relative URL",
            with("url", "/webhooks/in"),
            "#url-error",
            "full URL",
        ),
        (
            "URL with user and password",
            with("url", "https://bob:secret@example.com/in"),
            "#url-error",
            "user name and password",
        ),
        (
            "URL with a fragment",
            with("url", "https://example.com/in#part"),
            "#url-error",
            "#fragment",
        ),
        (
            "URL over 2048 characters",
            with("url", &format!("https://example.com/{}", "a".repeat(2040))),
            "#url-error",
            "at most 2048",
        ),
        (
            "API key with a space",
            with("api_key", "sk live"),
            "#api-key-error",
            "spaces",
        ),
        (
            "API key with a line break",
            with("api_key", "sk\nlive"),
            "#api-key-error",
            "line breaks",
        ),
        (
            "API key over 512 characters",
            with("api_key", &"k".repeat(513)),
            "#api-key-error",
            "at most 512",
        ),
        (
            "unknown notification type",
            with("notification_type", "SOAP"),
            ".field-invalid .field-error",
            "notification type",
        ),
    ];

    for (case, form, error, message) in cases {
        let page = submit(&app, &form).await;

        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{case}");
        assert!(
            page.text(error).contains(message),
            "{case}: {:?}",
            page.text(error)
        );
        assert_eq!(
            page.texts(".field-error").len(),
            1,
            "{case}: only the wrong field is marked"
        );
        assert!(
            page.has(".settings-tabs"),
            "{case}: a whole page without JavaScript"
        );
        assert_eq!(app.webhook_count().await, 0, "{case}: nothing saved");
    }
}

#[tokio::test]
async fn invalid_input_keeps_every_entered_value() {
    let app = TestApp::spawn().await;
    let mut form = with("url", "ftp://files.example.com/in");
    form.push(("events", "user.signed_up".into()));

    let page = submit(&app, &form).await;

    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        page.attr("#name", "value").as_deref(),
        Some("CRM order sync")
    );
    assert_eq!(
        page.attr("#url", "value").as_deref(),
        Some("ftp://files.example.com/in")
    );
    assert_eq!(
        page.attr("#api_key", "value").as_deref(),
        Some("sk_live_0123456789abcdef")
    );
    let checked = page
        .html
        .select(&scraper::Selector::parse("input[name=events][checked]").unwrap())
        .filter_map(|input| input.value().attr("value"))
        .collect::<Vec<_>>();
    assert_eq!(checked, ["order.purchased", "user.signed_up"]);
}

#[tokio::test]
async fn a_name_that_differs_only_in_case_is_taken() {
    let app = TestApp::spawn().await;
    app.create_webhook("CRM Order Sync", "https://a.example.com/", &["*"])
        .await;

    let page = submit(&app, &with("name", "crm ORDER sync")).await;

    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text("#name-error").contains("already exists"));
    assert_eq!(app.webhook_count().await, 1);
}

#[tokio::test]
async fn cancel_returns_to_the_list_without_saving() {
    let app = TestApp::spawn().await;
    let form = app.get_page("/settings/webhooks/new").await;

    let cancel_form = form
        .attr(".form-actions button:nth-child(2)", "form")
        .unwrap();
    let target = form.attr(&format!("form#{cancel_form}"), "action").unwrap();
    assert_eq!(
        form.attr(&format!("form#{cancel_form}"), "method")
            .as_deref(),
        Some("get")
    );
    let list = app.get_page(&target).await;

    assert_eq!(list.text("h1"), "Webhook Settings");
    assert_eq!(app.webhook_count().await, 0);
}

#[tokio::test]
async fn htmx_opens_the_form_in_place_and_shows_errors_without_a_reload() {
    let app = TestApp::spawn().await;

    let form = Page::from(app.get_htmx("/settings/webhooks/new").await).await;
    assert!(form.has("#webhook-form") && !form.has("nav.sidebar"));

    let invalid = app
        .post_htmx(
            "/settings/webhooks",
            "name=&url=https%3A%2F%2Fa.example.com%2F&notification_type=REST&events=*",
        )
        .await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let invalid = Page::from(invalid).await;
    assert!(invalid.has("#name-error") && !invalid.has("nav.sidebar"));

    let created = app
        .post_htmx(
            "/settings/webhooks",
            "name=Inline&url=https%3A%2F%2Fa.example.com%2F&notification_type=REST&events=*",
        )
        .await;
    assert_eq!(created.status(), StatusCode::OK);
    assert!(
        created.headers()["hx-redirect"]
            .to_str()
            .unwrap()
            .starts_with("/settings/webhooks/")
    );
    assert_eq!(app.webhook_count().await, 1);
}

#[tokio::test]
async fn a_plain_http_url_is_accepted_with_a_visible_warning() {
    let app = TestApp::spawn().await;
    let invalid_name_http_url = {
        let mut form = with("url", "http://crm.example.com/in");
        form.retain(|(k, _)| *k != "name");
        form
    };

    let form = submit(&app, &invalid_name_http_url).await;
    assert!(form.text(".field-warning").contains("plain http"));

    let id = app
        .create_webhook("Plain", "http://crm.example.com/in", &["*"])
        .await;
    let detail = app.get_page(&format!("/settings/webhooks/{id}")).await;
    assert!(detail.text(".field-warning").contains("Plain http"));
}

#[tokio::test]
async fn names_are_shown_as_text_never_as_markup() {
    let app = TestApp::spawn().await;
    let name = "<script>alert(1)</script> <b hx-get=\"/x\">bold</b>";

    let response = app
        .post_form(
            "/settings/webhooks",
            &[
                ("name", name),
                ("events", "*"),
                ("notification_type", "REST"),
                ("url", "https://a.example.com/"),
            ],
        )
        .await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let detail = app.get(&location).await.text().await.unwrap();
    let list = app.get("/settings/webhooks").await.text().await.unwrap();

    for body in [&list, &detail] {
        assert!(!body.contains("<script>alert(1)"), "no live script tag");
        assert!(!body.contains("<b hx-get"), "no live element");
        assert!(
            body.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
                || body.contains("&lt;script&gt;")
        );
    }
    let list = Page {
        status: StatusCode::OK,
        html: scraper::Html::parse_document(&list),
    };
    assert_eq!(list.webhook_names(), [name]);
    let detail = Page {
        status: StatusCode::OK,
        html: scraper::Html::parse_document(&detail),
    };
    assert_eq!(
        detail.text(".toast-success"),
        format!("Webhook \"{name}\" created")
    );
}

#[tokio::test]
async fn every_problem_of_a_failed_create_is_listed_at_the_top_in_one_round() {
    let app = TestApp::spawn().await;
    app.create_webhook("CRM", "https://crm.example.com/in", &["*"])
        .await;

    let response = app
        .post_form(
            "/settings/webhooks",
            &[
                ("name", "crm"),
                ("url", "not a url"),
                ("notification_type", "REST"),
            ],
        )
        .await;

    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::from(response).await;
    assert_eq!(
        page.text("h1"),
        "Create Webhook",
        "the page keeps its heading"
    );
    assert_eq!(
        page.text(".error-summary-heading"),
        "3 fields need your attention"
    );
    let links: Vec<String> = page
        .html
        .select(&scraper::Selector::parse(".error-summary a").unwrap())
        .filter_map(|a| a.value().attr("href").map(str::to_owned))
        .collect();
    assert_eq!(
        links,
        ["#name", "#url", "#event-all"],
        "in the form's order"
    );
    assert!(
        page.text("#name-error").contains("already exists"),
        "the duplicate name is caught with the other errors"
    );
    assert!(page.has(".error-summary[role=alert][autofocus]"));
    for id in ["name", "event-all", "url"] {
        assert!(page.has(&format!("#{id}")), "{id} is a field to jump to");
    }
}
