//! The holes an attacker's probe found, each tried again: none may open.

use reqwest::StatusCode;

use crate::common::{ADMIN_EMAIL, ADMIN_PASSWORD, Api, Page, TestApp, location};

#[tokio::test]
async fn no_next_address_leads_off_the_site_or_breaks_the_redirect() {
    let app = TestApp::spawn().await;
    let visitor = app.visitor();
    let tricks = [
        "/%09/evil.example/p",
        "/%0a/evil.example",
        "/%0d%0a/evil.example",
        "/%00/evil.example",
        "//evil.example",
        "/%5Cevil.example",
        "%5C%5Cevil.example",
        "https://evil.example",
        "/%20/evil.example",
        "/%E3%80%80/evil.example",
    ];

    for next in tricks {
        let response = app.get(&format!("/login?next={next}")).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "next={next}");
        assert_eq!(location(&response), "/settings/webhooks", "next={next}");

        visitor.refresh_csrf_token("/login").await;
        let decoded = url::form_urlencoded::parse(format!("n={next}").as_bytes())
            .next()
            .unwrap()
            .1
            .into_owned();
        let signed_in = visitor
            .post_form(
                "/login",
                &[
                    ("email", ADMIN_EMAIL),
                    ("password", ADMIN_PASSWORD),
                    ("next", &decoded),
                ],
            )
            .await;
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER, "next={next}");
        assert_eq!(location(&signed_in), "/settings/webhooks", "next={next}");
        visitor.refresh_csrf_token("/settings/webhooks").await;
        visitor.post_form("/logout", &[]).await;
    }
}

/// Fires `count` wrong sign-ins at once from one browser and returns their statuses.
async fn concurrent_wrong_sign_ins(
    app: &TestApp,
    count: usize,
    email: impl Fn(usize) -> String,
) -> Vec<StatusCode> {
    let visitor = app.visitor();
    visitor.refresh_csrf_token("/login").await;
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..count {
        let form = [
            ("email", email(i)),
            ("password", "not the password at all".to_owned()),
            ("csrf_token", visitor.csrf_token()),
        ];
        let request = visitor.http.post(visitor.url("/login")).form(&form);
        attempts.spawn(async move { request.send().await.expect("POST").status() });
    }
    attempts.join_all().await
}

async fn failed_sign_ins_in_the_audit_log(app: &TestApp) -> usize {
    let count: i64 = crate::common::sql_scalar(
        &app.db,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'sign_in_failed'",
    )
    .await;
    count as usize
}

#[tokio::test]
async fn simultaneous_guesses_at_one_account_check_no_more_passwords_than_the_limit() {
    let app = TestApp::spawn().await;

    let statuses = concurrent_wrong_sign_ins(&app, 40, |_| ADMIN_EMAIL.to_owned()).await;

    let checked = statuses
        .iter()
        .filter(|status| **status == StatusCode::UNAUTHORIZED)
        .count();
    assert!(checked <= 5, "{checked} passwords checked: {statuses:?}");
    assert!(
        statuses.iter().all(|status| matches!(
            *status,
            StatusCode::UNAUTHORIZED
                | StatusCode::TOO_MANY_REQUESTS
                | StatusCode::SERVICE_UNAVAILABLE
        )),
        "{statuses:?}"
    );
    assert_eq!(
        failed_sign_ins_in_the_audit_log(&app).await,
        checked,
        "each checked guess is in the audit log"
    );
    let right_password = app.visitor().sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(right_password.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(right_password.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn simultaneous_guesses_from_one_address_stop_at_its_limit() {
    let app = TestApp::spawn().await;

    let statuses = concurrent_wrong_sign_ins(&app, 40, |i| format!("guess{i}@example.com")).await;

    let checked = statuses
        .iter()
        .filter(|status| **status == StatusCode::UNAUTHORIZED)
        .count();
    assert!(checked <= 20, "{checked} passwords checked: {statuses:?}");
    assert!(checked >= 1, "{statuses:?}");
}

/// Sends headers promising `length` bytes, then one byte every 200 ms; returns the status
/// line and body the server answered with once it has closed the connection.
async fn trickle(address: &str, head: &str, length: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!("{head}Host: {host}\r\nContent-Length: {length}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0; 4096];
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        tokio::select! {
            read = stream.read(&mut buffer) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            },
            _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {
                // The server may already have closed its side; a failed write is expected then.
                let _ = stream.write_all(b"a").await;
            }
            _ = tokio::time::sleep_until(deadline) => panic!("still open after 10 s: {answer:?}"),
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_body_that_trickles_in_gets_408_and_its_connection_is_closed() {
    let app = TestApp::spawn_with(|settings| {
        settings.request_body_timeout = "1s".parse().unwrap();
    })
    .await;
    let api = app.api().await;

    let console = trickle(
        &app.address,
        &format!(
            "POST /settings/webhooks HTTP/1.1\r\n{}X-CSRF-Token: {}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\n",
            app.cookie_header(),
            app.csrf_token()
        ),
        100_000,
    )
    .await;
    assert!(console.starts_with("HTTP/1.1 408"), "{console}");
    assert!(
        console.contains("arrived too slowly"),
        "a page that says why: {console}"
    );

    let json = trickle(
        &app.address,
        &format!(
            "POST /api/v1/events HTTP/1.1\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\n",
            api.token
        ),
        100_000,
    )
    .await;
    assert!(json.starts_with("HTTP/1.1 408"), "{json}");
    assert!(json.contains(r#""code":"request_timeout""#), "{json}");
    assert_eq!(app.webhook_count().await, 0, "nothing half-sent was saved");
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}

async fn publish_with_key(
    api: &Api,
    key: &str,
    body: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    let response = api
        .request(reqwest::Method::POST, "/api/v1/events")
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn an_idempotency_key_belongs_to_its_token_and_to_its_body() {
    let app = TestApp::spawn().await;
    let shop = app.api_named("Shop").await;
    let billing = app.api_named("Billing").await;
    shop.create_webhook("Orders", &["order.purchased"]).await;
    let paid = serde_json::json!({"event_type": "order.purchased", "data": {"order": 1}});
    let other = serde_json::json!({"event_type": "order.purchased", "data": {"order": 2}});

    let (status, first) = publish_with_key(&shop, "k-1", paid.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, retry) = publish_with_key(&shop, "k-1", paid.clone()).await;
    assert_eq!(
        (status, &retry["id"]),
        (StatusCode::ACCEPTED, &first["id"]),
        "a retry"
    );

    let (status, conflict) = publish_with_key(&shop, "k-1", other.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(conflict["error"]["code"], "idempotency_conflict");

    let (status, billing_event) = publish_with_key(&billing, "k-1", other).await;
    assert_eq!(
        status,
        StatusCode::ACCEPTED,
        "another token's key is another key"
    );
    assert_ne!(billing_event["id"], first["id"]);

    let stored: Vec<String> =
        crate::common::sql_scalars(&app.db, "SELECT data FROM events ORDER BY id").await;
    assert_eq!(
        stored,
        [r#"{"order":1}"#, r#"{"order":2}"#],
        "the first event is unchanged"
    );
}

#[tokio::test]
async fn one_batch_holding_a_key_twice_with_different_bodies_stores_only_the_first() {
    let app = TestApp::spawn().await;
    let shop = app.api().await;
    let mut publishes = tokio::task::JoinSet::new();
    for order in 0..20 {
        let shop = shop.clone();
        publishes.spawn(async move {
            let body =
                serde_json::json!({"event_type": "order.purchased", "data": {"order": order}});
            publish_with_key(&shop, "same-key", body).await.0
        });
    }
    let statuses = publishes.join_all().await;

    let accepted = statuses
        .iter()
        .filter(|s| **s == StatusCode::ACCEPTED)
        .count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((accepted, conflicts), (1, 19), "{statuses:?}");
    let events: i64 = crate::common::sql_scalar(&app.db, "SELECT COUNT(*) FROM events").await;
    assert_eq!(events, 1);
}

async fn create_webhook_named(app: &TestApp, name: &str) -> Page {
    let fields = [
        ("name", name),
        ("events", "*"),
        ("notification_type", "REST"),
        ("url", "https://crm.example.com/in"),
    ];
    Page::from(app.post_form("/settings/webhooks", &fields).await).await
}

#[tokio::test]
async fn names_with_invisible_characters_are_refused_and_spellings_of_one_name_are_one_name() {
    let app = TestApp::spawn().await;
    app.create_webhook("CRM hook", "https://crm.example.com/in", &["*"])
        .await;
    app.create_webhook("Caf\u{e9} orders", "https://crm.example.com/in", &["*"])
        .await;

    for look_alike in ["CRM hook\u{200b}", "CRM\u{2060} hook", "\u{202e}koh MRC"] {
        let page = create_webhook_named(&app, look_alike).await;
        assert_eq!(
            page.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{look_alike:?}"
        );
        assert!(page.text("#name-error").contains("invisible characters"));
    }
    let decomposed = create_webhook_named(&app, "CAFE\u{301} ORDERS").await;
    assert_eq!(decomposed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        decomposed.text("#name-error").contains("already"),
        "{}",
        decomposed.text("#name-error")
    );
    assert_eq!(app.webhook_count().await, 2);

    let api = app.api().await;
    let response = api
        .post(
            "/api/v1/webhooks",
            serde_json::json!({"name": "CRM hook\u{feff}", "url": "https://crm.example.com/in", "events": ["*"]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = api
        .post(
            "/api/v1/event-types",
            serde_json::json!({"key": "invoice.paid", "group": "Billing\u{202e}", "description": "An invoice was paid"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn token_names_are_unique_whatever_their_case_and_show_no_invisible_characters() {
    let app = TestApp::spawn().await;
    app.api_named("Shop backend").await;

    for name in ["shop BACKEND", "Shop backend\u{200b}"] {
        let page = Page::from(app.post_form("/settings/tokens", &[("name", name)]).await).await;
        assert!(page.has(".field-error"), "{name:?} is refused");
        assert!(!page.has("#new-token"), "{name:?} made no token");
    }
}

#[tokio::test]
async fn a_failed_sign_in_logs_an_email_only_when_it_is_one() {
    let app = TestApp::spawn().await;
    let visitor = app.visitor();
    visitor
        .sign_in("\u{202e}moc.elpmaxe@nimda", "a wrong password")
        .await;
    visitor
        .sign_in("not an email at all", "a wrong password")
        .await;
    visitor
        .sign_in("ghost@example.com", "a wrong password")
        .await;

    let log = app.get_page("/settings/audit").await;
    let who = log.texts("tbody td[data-label=Who] bdi");
    assert!(who.contains(&"ghost@example.com".to_owned()), "{who:?}");
    assert_eq!(
        who.iter()
            .filter(|w| *w == "(not an email address)")
            .count(),
        2,
        "{who:?}"
    );
    let body = log.html.html();
    assert!(!body.contains('\u{202e}') && !body.contains("not an email at all"));
}

#[tokio::test]
async fn head_works_wherever_get_does_and_the_bearer_scheme_ignores_case() {
    let app = TestApp::spawn().await;
    let api = app.api().await;

    for path in [
        "/healthz",
        "/readyz",
        "/login",
        "/static/app.css",
        "/static/htmx-2.0.11.min.js",
    ] {
        let head = app.visitor().http.head(app.url(path)).send().await.unwrap();
        assert_eq!(head.status(), StatusCode::OK, "HEAD {path}");
        assert!(
            head.bytes().await.unwrap().is_empty(),
            "HEAD {path} has no body"
        );
    }
    let head = api
        .request(reqwest::Method::HEAD, "/api/v1/webhooks")
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);

    for scheme in ["bearer", "BEARER", "Bearer"] {
        let response = reqwest::Client::new()
            .get(app.url("/api/v1/event-types"))
            .header("Authorization", format!("{scheme} {}", api.token))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{scheme}");
    }
}

#[tokio::test]
async fn a_search_for_a_nul_character_finds_nothing_instead_of_failing() {
    let app = TestApp::spawn().await;
    app.create_webhook("CRM", "https://crm.example.com/in", &["*"])
        .await;
    for path in [
        "/settings/webhooks?q=%00",
        "/settings/webhooks?event=%00",
        "/settings/audit?q=%00",
        "/settings/audit?actor=%00",
        "/settings/deliveries?event=%00",
    ] {
        let page = app.get(path).await;
        assert_eq!(page.status(), reqwest::StatusCode::OK, "{path}");
        assert!(
            !page.text().await.unwrap().contains("crm.example.com"),
            "{path}"
        );
    }
    let api = app.api().await;
    let listed: serde_json::Value = api
        .get("/api/v1/webhooks?q=%00")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total"], 0);
}
