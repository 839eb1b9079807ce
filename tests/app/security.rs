use serde_json::{Value, json};

use crate::common::TestApp;

#[tokio::test]
async fn responses_carry_the_security_headers_errors_and_partials_included() {
    let app = TestApp::spawn().await;
    app.create_webhook("CRM", "https://crm.example.com/in", &["*"])
        .await;

    let responses = [
        app.get("/settings/webhooks").await,
        app.get_htmx("/settings/webhooks?q=crm").await,
        app.get("/no/such/page").await,
        app.get_htmx("/settings/webhooks/999").await,
        app.visitor().get("/login").await,
    ];
    for response in responses {
        let headers = response.headers();
        let url = response.url().to_string();
        assert_eq!(
            headers["content-security-policy"],
            "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'",
            "{url}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{url}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{url}");
        assert_eq!(headers["cache-control"], "no-store", "{url}");
    }
}

#[tokio::test]
async fn api_keys_never_reach_the_database_files_in_clear() {
    let app = TestApp::spawn().await;
    let canary = "canary_key_4f1d2c9e8b7a";

    let id = app
        .create_webhook_with_api_key("Canary", "https://crm.example.com/in", &["*"], canary)
        .await;

    let detail = app.get_page(&format!("/settings/webhooks/{id}")).await;
    assert!(
        detail.text(".properties").contains("••••8b7a"),
        "stored, and shown masked"
    );
    let files = app.everything_stored().await;
    assert!(!files.is_empty());
    let found = files
        .windows(canary.len())
        .any(|window| window == canary.as_bytes());
    assert!(!found, "the API key is in the raw database or WAL");
}

#[tokio::test]
async fn the_audit_log_names_who_changed_what_and_cannot_be_rewritten() {
    let app = TestApp::spawn().await;
    let id = app
        .create_webhook("CRM", "https://crm.example.com/in", &["order.purchased"])
        .await;
    app.post_form(
        &format!("/settings/webhooks/{id}/edit"),
        &[
            ("name", "CRM v2"),
            ("events", "*"),
            ("notification_type", "REST"),
            ("url", "https://crm.example.com/v2"),
            ("api_key", "sk_new_secret_value"),
        ],
    )
    .await;
    app.visitor()
        .sign_in(crate::common::ADMIN_EMAIL, "a wrong password here")
        .await;
    let support = app.user("sam@example.com", "support").await;

    let log = support.get_page("/settings/audit").await;
    let rows = log.texts("tbody tr");
    let created = rows
        .iter()
        .find(|row| row.contains("Webhook created"))
        .expect("creation logged");
    assert!(created.contains("admin@example.com") && created.contains("CRM"));
    let updated = rows
        .iter()
        .find(|row| row.contains("Webhook updated"))
        .expect("update logged");
    assert!(
        updated.contains("name “CRM” → “CRM v2”") && updated.contains("API key changed"),
        "{updated}"
    );
    assert!(!log.text("tbody").contains("sk_new_secret_value"));
    assert!(rows.iter().any(|row| row.contains("Sign-in failed")));
    assert!(
        rows.iter()
            .any(|row| row.contains("Signed in") && row.contains("sam@example.com"))
    );

    let searched = support.get_page("/settings/audit?q=v2").await;
    assert!(
        searched
            .texts("tbody tr")
            .iter()
            .all(|row| row.contains("v2"))
    );

    let mut tx = app.db.begin_write().await.unwrap();
    let rewrite =
        crate::common::sql_execute(&mut tx, "UPDATE audit_log SET actor = 'someone else'").await;
    drop(tx);
    assert!(
        rewrite.is_err(),
        "the database refuses to change the audit log"
    );
}

#[tokio::test]
async fn a_session_signed_out_while_a_request_held_it_stays_signed_out() {
    use actix_session::storage::SessionStore;
    use webhook_console::db::sessions::{DbSessionStore, USER_ID};

    let app = TestApp::spawn().await;
    let store = DbSessionStore::new(app.db.clone());
    let ttl = actix_web::cookie::time::Duration::hours(1);
    let state: std::collections::HashMap<String, String> =
        [(USER_ID.to_owned(), "1".to_owned())].into();
    let key = store.save(state.clone(), &ttl).await.unwrap();
    // A slow request loaded the session; meanwhile its owner signs out...
    let held = store.load(&key).await.unwrap();
    assert!(held.is_some());
    store.delete(&key).await.unwrap();
    // ...and the slow request finishes, writing what it loaded.
    let key = store.update(key, state, &ttl).await.unwrap();

    assert!(
        store.load(&key).await.unwrap().is_none(),
        "a deleted session stays deleted"
    );
}

#[tokio::test]
async fn a_receiver_that_echoes_the_api_key_never_shows_it_to_anyone() {
    use crate::common::receiver::{Answer, Receiver};
    use crate::common::scene::{console, wait_for_delivery, webhook_to};

    let app = console("1h").await;
    let api = app.api().await;
    let receiver = Receiver::start().await;
    receiver.always(Answer::Echo);
    // The scene's webhooks send the API key `sk_test_123`.
    let webhook = webhook_to(&api, &receiver.url, &["*"]).await;
    api.publish(serde_json::json!({"event_type": "user.signed_up", "data": {}}))
        .await;
    let delivery = wait_for_delivery(&api, webhook, |d| d["attempt_count"] == 1).await;

    let support = app.user("sam@example.com", "support").await;
    let page = support
        .get(&format!(
            "/settings/webhooks/{webhook}/deliveries/{}",
            delivery["id"]
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("x-echo-x-api-key"),
        "the echo is shown: the receiver did echo the key"
    );
    assert!(!page.contains("sk_test_123"), "{page}");
    let stored: Vec<String> = crate::common::sql_scalars(
        &app.db,
        "SELECT COALESCE(response_body, '') || COALESCE(response_headers, '') FROM attempts",
    )
    .await;
    assert!(
        stored.iter().all(|text| !text.contains("sk_test_123")),
        "{stored:?}"
    );
}

#[tokio::test]
async fn an_address_of_the_special_purpose_registries_is_refused_with_its_source() {
    use crate::common::scene::{console, wait_for_delivery, webhook_to};

    let app = console("1h").await;
    let api = app.api().await;
    let webhook = webhook_to(&api, "http://192.52.193.7:9/hook", &["*"]).await;
    api.publish(serde_json::json!({"event_type": "user.signed_up", "data": {}}))
        .await;

    let delivery = wait_for_delivery(&api, webhook, |d| d["attempt_count"] == 1).await;
    let message = delivery["attempts"][0]["error_message"].as_str().unwrap();
    assert!(
        message.starts_with("Refused: 192.52.193.7 is an AMT address (RFC 7450)"),
        "{message}"
    );
}

#[tokio::test]
async fn a_stolen_cookie_whose_slow_post_outlives_the_sign_out_stays_signed_out() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = TestApp::spawn().await;
    let victim = app.user("victim@example.com", "admin").await;
    let cookie = victim.cookie_header();
    let stolen = cookie.trim_start_matches("Cookie: ").trim_end().to_owned();
    assert_eq!(
        victim
            .get_with_cookie("/settings/users", &stolen)
            .await
            .status(),
        200,
        "the cookie works before the sign-out"
    );
    // The thief starts a form post with the stolen cookie and sends its body slowly.
    let body = format!("name=Thief&csrf_token={}", victim.csrf_token());
    let (first, rest) = body.split_at(body.len() / 2);
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut thief = tokio::net::TcpStream::connect(&address).await.unwrap();
    thief
        .write_all(
            format!(
                "POST /settings/tokens HTTP/1.1\r\nHost: {address}\r\n{cookie}\
                 Content-Type: application/x-www-form-urlencoded\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{first}",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    assert_eq!(victim.post_form("/logout", &[]).await.status(), 303);
    thief.write_all(rest.as_bytes()).await.unwrap();
    let mut answer = String::new();
    thief.read_to_string(&mut answer).await.unwrap();

    let after = victim.get_with_cookie("/settings/users", &stolen).await;
    assert_eq!(
        after.status(),
        303,
        "the session stays signed out: {answer}"
    );
    assert!(
        after.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
}

#[tokio::test]
async fn secrets_echoed_in_other_encodings_are_masked_and_short_ones_hide_the_answer() {
    use crate::common::receiver::{Answer, Receiver};
    use crate::common::scene::{console, wait_for_delivery};

    let app = console("1h").await;
    let api = app.api().await;
    let receiver = Receiver::start().await;
    receiver.always(Answer::EchoEncoded);
    let api_key = "Key/With/Slash+9f8e";
    let token = "Bearer tok/abc+def=xyz";
    let create = |name: &str, api_key: &str| {
        json!({"name": name, "url": receiver.url, "events": ["*"], "api_key": api_key,
               "headers": {"Authorization": {"value": token, "secret": true}}})
    };
    let long = api
        .post("/api/v1/webhooks", create("Long secrets", api_key))
        .await;
    let long: Value = long.json().await.unwrap();
    let short = api
        .post("/api/v1/webhooks", create("Short key", "ab12"))
        .await;
    let short: Value = short.json().await.unwrap();
    api.publish(json!({"event_type": "user.signed_up", "data": {}}))
        .await;
    let support = app.user("sam@example.com", "support").await;

    // The page of the webhook's first delivery, once tried, as support sees it.
    let tried_page = |webhook: Value| {
        let (api, support) = (&api, &support);
        async move {
            let id = webhook["id"].as_i64().unwrap();
            let delivery = wait_for_delivery(api, id, |d| d["attempt_count"] == 1).await;
            let path = format!("/settings/webhooks/{id}/deliveries/{}", delivery["id"]);
            support.get(&path).await.text().await.unwrap()
        }
    };
    let page = tried_page(long).await;
    assert!(
        page.contains("php-json") && page.contains("basic"),
        "the receiver echoed: {page}"
    );
    let base64 = base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    for leak in [
        "Slash",
        "slash",
        "SLASH",
        "tok\\/abc",
        "abc+def",
        "abc%2Bdef",
        "9f8e",
        "9F8E",
    ] {
        assert!(!page.contains(leak), "{leak} in {page}");
    }
    assert!(!page.contains(&base64.encode(api_key)[..12]), "{page}");

    let page = tried_page(short).await;
    assert!(page.contains("hidden: it may contain a secret"), "{page}");
    assert!(!page.contains("php-json"), "{page}");

    let stored: Vec<String> = crate::common::sql_scalars(
        &app.db,
        "SELECT COALESCE(response_body, '') || COALESCE(response_headers, '') FROM attempts",
    )
    .await;
    assert!(
        stored
            .iter()
            .all(|text| !text.contains("Slash") && !text.contains("ab12")),
        "{stored:?}"
    );
}
