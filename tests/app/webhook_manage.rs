use reqwest::StatusCode;

use crate::common::TestApp;

#[tokio::test]
async fn the_detail_page_shows_the_configuration_with_the_api_key_masked() {
    let app = TestApp::spawn().await;
    let id = app
        .create_webhook_with_api_key(
            "CRM",
            "https://crm.example.com/in",
            &["order.purchased"],
            "sk_live_0123456789abcdef",
        )
        .await;

    let page = app.get_page(&format!("/settings/webhooks/{id}")).await;

    assert_eq!(page.text("h1"), "CRM");
    assert_eq!(page.text(".page-title-row .badge"), "Active");
    let properties = page.text(".properties");
    assert!(properties.contains("https://crm.example.com/in"));
    assert!(properties.contains("order.purchased"));
    assert!(properties.contains("••••cdef"));
    let body = app
        .get(&format!("/settings/webhooks/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !body.contains("sk_live_0123456789abcdef"),
        "the key itself is never shown"
    );
    let edit = app
        .get(&format!("/settings/webhooks/{id}/edit"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !edit.contains("sk_live_0123456789abcdef"),
        "nor in the edit form"
    );
}

#[tokio::test]
async fn an_admin_can_edit_a_webhook_and_keeps_the_api_key_unless_told_otherwise() {
    let app = TestApp::spawn().await;
    let id = app
        .create_webhook_with_api_key(
            "CRM",
            "https://crm.example.com/in",
            &["order.purchased"],
            "sk_live_0123456789abcdef",
        )
        .await;

    let form = app.get_page(&format!("/settings/webhooks/{id}/edit")).await;
    assert_eq!(form.attr("#name", "value").as_deref(), Some("CRM"));
    assert_eq!(form.texts(".form-actions button"), ["Save", "Cancel"]);

    let saved = app
        .post_form(
            &format!("/settings/webhooks/{id}/edit"),
            &[
                ("name", "CRM v2"),
                ("events", "user.signed_up"),
                ("events", "user.deleted"),
                ("notification_type", "REST"),
                ("url", "https://crm.example.com/v2"),
                ("api_key", ""),
            ],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        saved.headers()["location"],
        format!("/settings/webhooks/{id}")
    );

    let page = app.get_page(&format!("/settings/webhooks/{id}")).await;
    assert_eq!(page.text(".toast-success"), "Webhook \"CRM v2\" saved");
    assert_eq!(
        page.texts(".properties .chip"),
        ["user.deleted", "user.signed_up"]
    );
    assert!(
        page.text(".properties")
            .contains("https://crm.example.com/v2")
    );
    assert!(
        page.text(".properties").contains("••••cdef"),
        "blank API Key keeps the stored key"
    );

    app.post_form(
        &format!("/settings/webhooks/{id}/edit"),
        &[
            ("name", "CRM v2"),
            ("events", "*"),
            ("notification_type", "REST"),
            ("url", "https://crm.example.com/v2"),
            ("api_key", ""),
            ("remove_api_key", "on"),
        ],
    )
    .await;
    let page = app.get_page(&format!("/settings/webhooks/{id}")).await;
    assert!(page.text(".properties").contains("Not set"));
    assert!(page.text(".properties").contains("All events"));
}

#[tokio::test]
async fn editing_follows_the_same_rules_and_changes_nothing_when_input_is_invalid() {
    let app = TestApp::spawn().await;
    let crm = app
        .create_webhook("CRM", "https://crm.example.com/in", &["*"])
        .await;
    app.create_webhook("Billing", "https://billing.example.com/in", &["*"])
        .await;

    let taken = app
        .post_form(
            &format!("/settings/webhooks/{crm}/edit"),
            &[
                ("name", "BILLING"),
                ("events", "*"),
                ("notification_type", "REST"),
                ("url", "https://crm.example.com/in"),
            ],
        )
        .await;
    assert_eq!(taken.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let bad_url = app
        .post_form(
            &format!("/settings/webhooks/{crm}/edit"),
            &[
                ("name", "CRM renamed"),
                ("events", "*"),
                ("notification_type", "REST"),
                ("url", "javascript:alert(1)"),
            ],
        )
        .await;
    assert_eq!(bad_url.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let page = app.get_page(&format!("/settings/webhooks/{crm}")).await;
    assert_eq!(page.text("h1"), "CRM");
    assert!(
        page.text(".properties")
            .contains("https://crm.example.com/in")
    );
}

#[tokio::test]
async fn an_admin_can_disable_and_enable_a_webhook() {
    let app = TestApp::spawn().await;
    let id = app
        .create_webhook("CRM", "https://crm.example.com/in", &["*"])
        .await;

    let disabled = app
        .confirm(&format!("/settings/webhooks/{id}/disable"))
        .await;
    assert_eq!(disabled.status(), StatusCode::SEE_OTHER);
    let page = app.get_page(&format!("/settings/webhooks/{id}")).await;
    assert_eq!(page.text(".toast-success"), "Webhook \"CRM\" disabled");
    assert_eq!(page.text(".page-title-row .badge"), "Disabled");
    assert!(page.text(".notice").contains("no events are sent"));
    assert_eq!(page.text(".header-actions button"), "Enable");
    assert_eq!(
        app.get_page("/settings/webhooks")
            .await
            .text("tbody .badge"),
        "Disabled"
    );

    app.post_form(&format!("/settings/webhooks/{id}/enable"), &[])
        .await;
    let page = app.get_page(&format!("/settings/webhooks/{id}")).await;
    assert_eq!(page.text(".page-title-row .badge"), "Active");
    assert!(page.text(".header-actions").contains("Disable…"));
    assert!(
        page.text(".header-actions").contains("Send test event"),
        "an active webhook can be tested"
    );
}

#[tokio::test]
async fn deleting_asks_for_confirmation_first() {
    let app = TestApp::spawn().await;
    let id = app
        .create_webhook("CRM", "https://crm.example.com/in", &["*"])
        .await;

    let confirm = app
        .get_page(&format!("/settings/webhooks/{id}/delete"))
        .await;
    assert_eq!(confirm.text("h1"), "Delete webhook “CRM”?");
    assert_eq!(app.webhook_count().await, 1, "asking deletes nothing");

    let deleted = app
        .post_form(&format!("/settings/webhooks/{id}/delete"), &[])
        .await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    let list = app.get_page("/settings/webhooks").await;
    assert_eq!(list.text(".toast-success"), "Webhook \"CRM\" deleted");
    assert_eq!(app.webhook_count().await, 0);
    assert_eq!(
        app.get(&format!("/settings/webhooks/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn actions_on_a_webhook_that_is_gone_answer_not_found_and_change_nothing() {
    let app = TestApp::spawn().await;
    app.create_webhook("CRM", "https://crm.example.com/in", &["*"])
        .await;

    for path in [
        "/settings/webhooks/999/disable",
        "/settings/webhooks/999/enable",
        "/settings/webhooks/999/delete",
    ] {
        assert_eq!(
            app.post_form(path, &[]).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let edit = app
        .post_form(
            "/settings/webhooks/999/edit",
            &[
                ("name", "Ghost"),
                ("events", "*"),
                ("notification_type", "REST"),
                ("url", "https://a.example.com/"),
            ],
        )
        .await;
    assert_eq!(edit.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.webhook_count().await, 1);
}

#[tokio::test]
async fn destructive_actions_ask_first_and_asking_changes_nothing() {
    let app = TestApp::spawn().await;
    let id = app
        .create_webhook("CRM", "https://crm.example.com/in", &["*"])
        .await;
    let support = app.user("sam@example.com", "support").await;
    let api = app.api().await;

    for link in [
        format!("/settings/webhooks/{id}/disable"),
        format!("/settings/webhooks/{id}/delete"),
        "/settings/users/2/disable".to_owned(),
        "/settings/users/2/role".to_owned(),
        "/settings/users/2/password".to_owned(),
        "/settings/tokens/1/revoke".to_owned(),
    ] {
        let page = app.get_page(&link).await;
        assert_eq!(page.status, StatusCode::OK, "{link}");
        assert!(
            page.text("h1").ends_with('?'),
            "{link} asks: {}",
            page.text("h1")
        );
        assert!(
            page.has(".confirm-card a.button[href]"),
            "{link} can be cancelled"
        );
    }

    let list = app.get_page("/settings/webhooks").await;
    assert_eq!(list.text("tbody .badge"), "Active");
    assert_eq!(
        support.get("/settings/webhooks").await.status(),
        StatusCode::OK,
        "still signed in, still support"
    );
    assert_eq!(
        support.get("/settings/users").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.get("/api/v1/webhooks").await.status(),
        StatusCode::OK,
        "the token still works"
    );
}

#[tokio::test]
async fn the_audit_log_filters_by_who_what_and_when_and_links_its_targets() {
    let app = TestApp::spawn().await;
    let support = app.user("sam@example.com", "support").await;
    app.create_webhook("CRM", "https://crm.example.com/in", &["*"])
        .await;
    support.get("/settings/webhooks").await;

    let changes = app.get_page("/settings/audit?action=changes").await;
    let actions = changes.texts("tbody td[data-label=Action]");
    assert!(!actions.is_empty());
    assert!(
        actions.iter().all(|action| !action.contains("Signed in")),
        "no sign-ins: {actions:?}"
    );
    let created = app.get_page("/settings/audit?action=webhook_created").await;
    assert_eq!(created.texts("tbody tr").len(), 1);
    assert_eq!(
        created
            .attr("tbody td[data-label=Target] a", "href")
            .as_deref(),
        Some("/settings/webhooks?q=CRM"),
        "the target links to what it names"
    );
    let by_sam = app
        .get_page("/settings/audit?actor=sam%40example.com")
        .await;
    assert!(
        by_sam
            .texts("tbody td[data-label=Who]")
            .iter()
            .all(|who| who == "sam@example.com")
    );
    let later = app.get_page("/settings/audit?from=2999-01-01T00:00").await;
    assert!(later.text("main").contains("Nothing recorded that matches"));
    let wrong = app.get("/settings/audit?until=soon").await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_new_password_is_shown_once_after_a_redirect_and_never_lies_on_disk_in_clear() {
    let app = TestApp::spawn().await;

    let added = app
        .post_form(
            "/settings/users",
            &[("email", "new@example.com"), ("role", "support")],
        )
        .await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER, "post/redirect/get");
    let shown = app.get_page(&crate::common::location(&added)).await;
    let password = shown.text("#new-password");
    assert_eq!(password.len(), 24);
    assert!(
        !app.everything_stored()
            .await
            .windows(password.len())
            .any(|window| window == password.as_bytes()),
        "the password waited in the session sealed, not in clear"
    );

    let again = app.get(&crate::common::location(&added)).await;
    assert_eq!(
        again.status(),
        StatusCode::SEE_OTHER,
        "a second look finds nothing"
    );
    let users = app.get_page("/settings/users").await;
    assert!(users.text(".toast").contains("shown only once"));
    assert_eq!(
        users.texts("tbody td[data-label=Email]").len(),
        2,
        "one user added, whatever the reloads"
    );

    let token = app.post_form("/settings/tokens", &[("name", "Shop")]).await;
    assert_eq!(token.status(), StatusCode::SEE_OTHER);
    let page = app.get_page(&crate::common::location(&token)).await;
    assert!(page.text("#new-token").starts_with("wc_"));
    let again = app.get(&crate::common::location(&token)).await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
}
