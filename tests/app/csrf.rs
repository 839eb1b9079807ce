use reqwest::StatusCode;

use crate::common::TestApp;

async fn post(app: &TestApp, token: Option<&str>, headers: &[(&str, &str)]) -> StatusCode {
    let mut fields = vec![
        ("name", "Forged".to_owned()),
        ("events", "*".to_owned()),
        ("notification_type", "REST".to_owned()),
        ("url", "https://evil.example.com/".to_owned()),
    ];
    if let Some(token) = token {
        fields.push(("csrf_token", token.to_owned()));
    }
    let mut request = app
        .http
        .post(app.url("/settings/webhooks"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(serde_html_form::to_string(&fields).unwrap());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().status()
}

#[tokio::test]
async fn forged_or_missing_csrf_tokens_are_refused_and_nothing_is_done() {
    let app = TestApp::spawn().await;
    let other = app.visitor();
    other
        .sign_in(crate::common::ADMIN_EMAIL, crate::common::ADMIN_PASSWORD)
        .await;
    let others_token = other.csrf_token();
    assert_ne!(others_token, app.csrf_token());

    assert_eq!(
        post(&app, None, &[]).await,
        StatusCode::FORBIDDEN,
        "missing"
    );
    assert_eq!(
        post(&app, Some("forged-token"), &[]).await,
        StatusCode::FORBIDDEN,
        "wrong"
    );
    assert_eq!(
        post(&app, Some(&others_token), &[]).await,
        StatusCode::FORBIDDEN,
        "another session's"
    );
    assert_eq!(
        post(&app, None, &[("X-CSRF-Token", "forged")]).await,
        StatusCode::FORBIDDEN,
        "wrong header"
    );
    let cross_site = [("Sec-Fetch-Site", "cross-site")];
    assert_eq!(
        post(&app, Some(&app.csrf_token()), &cross_site).await,
        StatusCode::FORBIDDEN,
        "cross-site"
    );
    assert_eq!(app.webhook_count().await, 0);

    let page = crate::common::Page::from(
        app.post_form_as_is("/settings/webhooks", &[("name", "x")])
            .await,
    )
    .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.text("main").contains("Reload the page"));

    assert_eq!(
        post(&app, Some(&app.csrf_token()), &[]).await,
        StatusCode::SEE_OTHER,
        "the real token works"
    );
    let header = [("X-CSRF-Token", app.csrf_token())];
    let header: Vec<(&str, &str)> = header.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        post(&app, None, &header).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "htmx's header works too (the name is now taken)"
    );
}

#[tokio::test]
async fn every_page_carries_its_token_in_forms_and_for_htmx() {
    let app = TestApp::spawn().await;

    let page = app.get_page("/settings/webhooks/new").await;

    let hx_headers = page.attr("body", "hx-headers").unwrap();
    assert!(hx_headers.contains(&app.csrf_token()));
    for form in ["#webhook-form form", ".topbar-user form"] {
        let selector = format!("{form} input[name=csrf_token]");
        assert_eq!(
            page.attr(&selector, "value"),
            Some(app.csrf_token()),
            "{form}"
        );
    }
}
