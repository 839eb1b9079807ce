use std::time::Duration;

use reqwest::StatusCode;

use crate::common::{ADMIN_EMAIL, ADMIN_PASSWORD, Client, Page, TestApp, location};

#[tokio::test]
async fn a_signed_out_visitor_signs_in_and_comes_back_to_the_page_they_wanted() {
    let app = TestApp::spawn().await;
    let visitor = app.visitor();

    let response = visitor.get("/settings/events?x=1").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let to_login = location(&response);
    assert_eq!(to_login, "/login?next=%2Fsettings%2Fevents%3Fx%3D1");

    let login = visitor.get_page(&to_login).await;
    assert_eq!(login.texts("label"), ["Email", "Password"]);
    assert_eq!(login.text("form button"), "Sign in");
    assert_eq!(
        login.attr("input[name=next]", "value").as_deref(),
        Some("/settings/events?x=1")
    );

    visitor.refresh_csrf_token(&to_login).await;
    let signed_in = visitor
        .post_form(
            "/login",
            &[
                ("email", "ADMIN@example.com "),
                ("password", ADMIN_PASSWORD),
                ("next", "/settings/events?x=1"),
            ],
        )
        .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&signed_in), "/settings/events?x=1");
    let page = visitor.get_page("/settings/events").await;
    assert_eq!(page.text(".topbar-email"), ADMIN_EMAIL);
    assert_eq!(page.text(".role-badge"), "Admin");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let visitor = app.visitor();

    let wrong_password = Page::from(
        visitor
            .sign_in(ADMIN_EMAIL, "not the password at all")
            .await,
    )
    .await;
    let unknown_email =
        Page::from(visitor.sign_in("nobody@example.com", ADMIN_PASSWORD).await).await;

    for page in [&wrong_password, &unknown_email] {
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert_eq!(page.text(".form-alert"), "Email or password is wrong.");
    }
    assert_eq!(
        visitor.get("/settings/webhooks").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn the_session_cookie_before_sign_in_grants_nothing_after_it() {
    let app = TestApp::spawn().await;
    let visitor = app.visitor();
    let before =
        Client::session_cookie(&visitor.get("/login").await).expect("a session for the form");
    visitor.refresh_csrf_token("/login").await;

    let signed_in = visitor
        .post_form(
            "/login",
            &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)],
        )
        .await;
    let after = Client::session_cookie(&signed_in).expect("a new session id at sign-in");

    assert_ne!(before, after);
    assert_eq!(
        app.get_with_cookie("/settings/webhooks", &before)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.get_with_cookie("/settings/webhooks", &after)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_signed_out_session_cannot_be_replayed() {
    let app = TestApp::spawn().await;
    let visitor = app.visitor();
    let cookie =
        Client::session_cookie(&visitor.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await).unwrap();
    assert_eq!(
        app.get_with_cookie("/settings/webhooks", &cookie)
            .await
            .status(),
        StatusCode::OK
    );

    let signed_out = visitor.post_form("/logout", &[]).await;
    assert_eq!(location(&signed_out), "/login?signed_out=1");
    assert!(
        visitor
            .get_page("/login?signed_out=1")
            .await
            .text(".toast")
            .contains("signed out")
    );

    let replay = app.get_with_cookie("/settings/webhooks", &cookie).await;
    assert_eq!(replay.status(), StatusCode::SEE_OTHER);
    assert!(location(&replay).starts_with("/login"));
}

#[tokio::test]
async fn session_cookies_are_http_only_and_same_site_strict() {
    let app = TestApp::spawn().await;

    let response = app.visitor().get("/login").await;

    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("wc_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain http keeps working without Secure"
    );
}

#[tokio::test]
async fn behind_https_the_cookie_is_secure_and_host_only() {
    let app = TestApp::spawn_with(|settings| {
        settings.public_url = Some("https://hooks.example.com".into());
    })
    .await;

    let response = app.visitor().get("/login").await;

    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("__Host-wc_session="), "{cookie}");
    assert!(
        cookie.contains("Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"),
        "{cookie}"
    );
}

#[tokio::test]
async fn an_idle_session_ends() {
    let app = TestApp::spawn_with(|settings| {
        settings.session_idle_timeout = "1s".parse().unwrap();
    })
    .await;
    assert_eq!(app.get("/settings/webhooks").await.status(), StatusCode::OK);

    app.advance(Duration::from_millis(2100));

    assert_eq!(
        app.get("/settings/webhooks").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_session_in_use_outlives_the_idle_timeout() {
    let app = TestApp::spawn_with(|settings| {
        settings.session_idle_timeout = "2s".parse().unwrap();
    })
    .await;

    for _ in 0..4 {
        app.advance(Duration::from_millis(900));
        assert_eq!(app.get("/settings/webhooks").await.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn an_open_delivery_log_refreshing_itself_does_not_keep_the_session_alive() {
    let app = TestApp::spawn_with(|settings| {
        settings.session_idle_timeout = "2s".parse().unwrap();
    })
    .await;
    let id = app
        .create_webhook("CRM", "https://crm.example.com/in", &["*"])
        .await;
    let page = app.get_page(&format!("/settings/webhooks/{id}")).await;
    let refresh = page.attr("#delivery-log-results", "hx-get").unwrap();
    let live = page.attr("#delivery-log-results", "hx-headers").unwrap();
    assert_eq!(live, r#"{"X-Live-Refresh": "1"}"#);

    let mut statuses = Vec::new();
    for _ in 0..5 {
        app.advance(Duration::from_millis(700));
        let poll = app
            .http
            .get(app.url(&refresh))
            .header("HX-Request", "true")
            .header("X-Live-Refresh", "1")
            .send()
            .await
            .unwrap();
        statuses.push(poll.headers().contains_key("HX-Redirect"));
    }
    assert!(!statuses[0], "the first refresh is within the idle time");
    assert!(
        statuses.last().copied().unwrap(),
        "the idle time ran out although the log kept refreshing: {statuses:?}"
    );
    assert_eq!(
        app.get("/settings/webhooks").await.status(),
        StatusCode::SEE_OTHER,
        "signed out"
    );
}

#[tokio::test]
async fn a_disabled_user_is_signed_out_at_once() {
    let app = TestApp::spawn().await;
    let support = app.user("sam@example.com", "support").await;
    assert_eq!(
        support.get("/settings/webhooks").await.status(),
        StatusCode::OK
    );
    let users = app.get_page("/settings/users").await;
    let sam = users.attr("a[href$='/disable']", "href").unwrap();

    let disabled = app.confirm(&sam).await;

    assert_eq!(disabled.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        support.get("/settings/webhooks").await.status(),
        StatusCode::SEE_OTHER
    );
    let again = Page::from(
        support
            .sign_in("sam@example.com", "whatever it was before")
            .await,
    )
    .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_role_change_takes_effect_on_the_next_request() {
    let app = TestApp::spawn().await;
    let sam = app.user("sam@example.com", "support").await;
    assert_eq!(
        sam.get("/settings/webhooks/new").await.status(),
        StatusCode::FORBIDDEN
    );
    let users = app.get_page("/settings/users").await;
    let promote = users.attr("a[href*='/role']", "href").unwrap();

    app.confirm(&promote).await;

    assert_eq!(
        sam.get("/settings/webhooks/new").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn twelve_wrong_passwords_in_a_row_meet_a_429_that_says_when_to_try_again() {
    let app = TestApp::spawn().await;
    let visitor = app.visitor();

    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(
            visitor
                .sign_in(ADMIN_EMAIL, "wrong password, again")
                .await
                .status(),
        );
    }

    assert_eq!(statuses[..5], [StatusCode::UNAUTHORIZED; 5]);
    assert!(
        statuses[5..]
            .iter()
            .all(|status| *status == StatusCode::TOO_MANY_REQUESTS)
    );
    let throttled = Page::from(visitor.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await).await;
    assert_eq!(
        throttled.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert!(
        throttled
            .text(".form-alert")
            .contains("Try again in 15 minutes")
    );
}

#[tokio::test]
async fn one_address_trying_many_accounts_is_throttled_too() {
    let app = TestApp::spawn().await;
    let visitor = app.visitor();

    for i in 0..20 {
        let status = visitor
            .sign_in(&format!("guess{i}@example.com"), "some password here")
            .await
            .status();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }

    let next = visitor
        .sign_in("another@example.com", "some password here")
        .await;
    assert_eq!(next.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn behind_a_trusted_proxy_a_guesser_cannot_lock_the_admin_out_from_elsewhere() {
    let app = TestApp::spawn_with(|settings| {
        settings.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let attacker = app.visitor();

    for n in 0..25 {
        let sprayed = attacker
            .sign_in_via_proxy(ADMIN_EMAIL, "spray", &format!("198.51.100.{n}"))
            .await;
        assert_eq!(sprayed.status(), StatusCode::UNAUTHORIZED, "spray {n}");
    }
    let mut guesses = Vec::new();
    for _ in 0..10 {
        let guess = attacker
            .sign_in_via_proxy(ADMIN_EMAIL, "guess", "203.0.113.66")
            .await;
        guesses.push(guess.status());
    }
    assert_eq!(guesses[..5], [StatusCode::UNAUTHORIZED; 5]);
    assert!(
        guesses[5..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS)
    );

    let admin = app.visitor();
    let signed_in = admin
        .sign_in_via_proxy(ADMIN_EMAIL, ADMIN_PASSWORD, "192.0.2.10")
        .await;
    assert_eq!(
        signed_in.status(),
        StatusCode::SEE_OTHER,
        "the admin still gets in"
    );
}

#[tokio::test]
async fn a_forwarded_address_from_an_untrusted_peer_is_ignored() {
    let app = TestApp::spawn().await;
    let attacker = app.visitor();

    let mut statuses = Vec::new();
    for n in 0..7 {
        let guess = attacker
            .sign_in_via_proxy(ADMIN_EMAIL, "guess", &format!("198.51.100.{n}"))
            .await;
        statuses.push(guess.status());
    }

    assert_eq!(
        statuses[5..],
        [StatusCode::TOO_MANY_REQUESTS; 2],
        "a made-up X-Forwarded-For buys no fresh attempts"
    );
}
