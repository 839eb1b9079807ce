use reqwest::StatusCode;

use crate::common::{Page, TestApp};

#[tokio::test]
async fn an_unknown_page_is_answered_in_plain_words_inside_the_layout() {
    let app = TestApp::spawn().await;

    for path in [
        "/no/such/page",
        "/settings/webhooks/not-a-number",
        "/settings/webhooks/424242",
    ] {
        let page = Page::from(app.get(path).await).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(page.text("h1"), "Page not found");
        assert!(
            page.has("nav.sidebar"),
            "{path}: the error keeps the layout"
        );
    }
}

#[tokio::test]
async fn support_refused_an_admin_page_stays_signed_in_and_is_told_why() {
    let app = TestApp::spawn().await;
    let support = app.user("sam@example.com", "support").await;

    let refused = Page::from(support.get("/settings/users").await).await;

    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused.text(".topbar-email"),
        "sam@example.com",
        "still in their frame"
    );
    assert!(refused.has(".settings-tabs, nav.sidebar"));
    assert!(
        refused
            .text("main")
            .contains("Your role does not allow this")
    );
    assert!(
        !refused.text("main").contains("everything"),
        "support never sees secrets"
    );
    assert!(
        !refused.text("main").contains("Sign in"),
        "not sent to sign in"
    );
}

#[tokio::test]
async fn a_stray_request_for_a_missing_page_starts_no_session() {
    let app = TestApp::spawn().await;

    for path in ["/wp-login.php", "/static/nothing.css"] {
        let response = app.visitor().get(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(response.headers().get("set-cookie").is_none(), "{path}");
    }
}

#[tokio::test]
async fn htmx_gets_errors_as_a_small_message_for_the_toast_area() {
    let app = TestApp::spawn().await;

    let response = app.get_htmx("/settings/webhooks/424242").await;

    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.headers()["hx-retarget"], "#toasts");
    let page = Page::from(response).await;
    assert!(
        page.text(".toast-error")
            .contains("could not find that page")
    );
    assert!(!page.has("nav.sidebar"));
}

#[tokio::test]
async fn a_post_that_is_not_a_form_is_refused_clearly_and_the_server_stays_up() {
    let app = TestApp::spawn().await;

    let json = app
        .http
        .post(app.url("/settings/webhooks"))
        .header("X-CSRF-Token", app.csrf_token())
        .header("Content-Type", "application/json")
        .body("{\"name\": \"x\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(Page::from(json).await.has("h1"));

    let huge = app
        .http
        .post(app.url("/settings/webhooks"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("name={}", "a".repeat(1 << 20)))
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let wrong_method = app
        .http
        .delete(app.url("/settings/webhooks"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        Page::from(wrong_method).await.text("h1"),
        "Not allowed here"
    );

    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    assert_eq!(app.webhook_count().await, 0);
}

#[tokio::test]
async fn pages_carry_security_headers_and_load_no_outside_script() {
    let app = TestApp::spawn().await;

    for path in ["/settings/webhooks", "/no/such/page"] {
        let response = app.get(path).await;
        let headers = response.headers();
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("script-src 'self'") && policy.contains("style-src 'self'"));
        assert_eq!(headers["x-content-type-options"], "nosniff");
        let body = response.text().await.unwrap();
        assert!(body.contains("<script src=\"/static/htmx-2.0.11.min.js\""));
        assert!(!body.contains("style=\""), "{path}: no inline style");
    }
    let htmx = app.get("/static/htmx-2.0.11.min.js").await;
    assert_eq!(htmx.status(), StatusCode::OK);
    assert!(htmx.text().await.unwrap().contains("htmx"));
}
