//! The host serves many customers. It makes an account for Acme and one for Globex, each
//! with a webhook named "Orders": an event published for Acme reaches Acme's receiver
//! alone, and Acme's own token reaches Acme's webhooks and nothing of Globex's.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::receiver::Receiver;
use crate::common::scene::{console, received};
use crate::common::{Api, TestApp, sql_scalars};
use webhook_console::actions::{self, Actor};
use webhook_console::domain::AccountKey;

/// A token that reaches `account` alone.
async fn account_token(app: &TestApp, account: &str) -> Api {
    let key = AccountKey::parse(account).unwrap();
    let token = actions::tokens::create(
        &app.db,
        &Actor::System,
        &format!("{account} app"),
        Some(&key),
    )
    .await
    .unwrap();
    Api::new(&app.address, &token)
}

async fn orders_webhook(api: &Api, account: &str, receiver: &Receiver) -> i64 {
    let created = api
        .post(
            "/api/v1/webhooks",
            json!({"name": "Orders", "url": receiver.url, "events": ["*"], "account": account}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED, "Orders in {account}");
    let body: Value = created.json().await.unwrap();
    assert_eq!(body["account"], account);
    body["id"].as_i64().unwrap()
}

#[tokio::test]
async fn an_event_for_one_account_reaches_only_that_accounts_webhooks() {
    let app = console("1h").await;
    let staff = app.api().await;
    for (key, name) in [("acme", "Acme Corporation"), ("globex", "Globex")] {
        let put = staff
            .put(&format!("/api/v1/accounts/{key}"), json!({"name": name}))
            .await;
        assert_eq!(put.status(), StatusCode::CREATED, "{key}");
    }
    let acme_receiver = Receiver::start().await;
    let globex_receiver = Receiver::start().await;
    orders_webhook(&staff, "acme", &acme_receiver).await;
    orders_webhook(&staff, "globex", &globex_receiver).await;
    let logged: Vec<String> = sql_scalars(
        &app.db,
        "SELECT account FROM audit_log WHERE action = 'webhook_created' ORDER BY id",
    )
    .await;
    assert_eq!(
        logged,
        ["acme", "globex"],
        "each in its account's audit log"
    );

    let (status, body) = staff
        .publish(json!({"event_type": "order.purchased", "data": {"n": 1}, "account": "acme"}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["deliveries"], 1, "one webhook of acme's");
    received(&acme_receiver, 1, std::time::Duration::from_secs(10)).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        globex_receiver.received().is_empty(),
        "globex heard nothing"
    );

    let (status, body) = staff
        .publish(json!({"event_type": "order.purchased", "data": {}, "account": "initech"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "unknown_account");

    let (status, body) = staff
        .publish(json!({"event_type": "order.purchased", "data": {"n": 2}}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(
        body["deliveries"], 0,
        "no account named: default, which has no webhook"
    );

    let listed: Value = staff.get("/api/v1/accounts").await.json().await.unwrap();
    let keys: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["acme", "default", "globex"]);
    let acme = &listed["data"][0];
    assert_eq!(acme["name"], "Acme Corporation");
    assert_eq!(acme["webhooks"], 1);
}

#[tokio::test]
async fn an_account_token_reaches_its_own_account_and_nothing_of_another() {
    let app = console("1h").await;
    let staff = app.api().await;
    for key in ["acme", "globex"] {
        staff
            .put(&format!("/api/v1/accounts/{key}"), json!({"name": key}))
            .await;
    }
    let receiver = Receiver::start().await;
    let acme_hook = orders_webhook(&staff, "acme", &receiver).await;
    let globex_hook = orders_webhook(&staff, "globex", &receiver).await;
    let acme = account_token(&app, "acme").await;

    let listed: Value = acme.get("/api/v1/webhooks").await.json().await.unwrap();
    let ids: Vec<i64> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [acme_hook], "its own webhooks alone");
    let asked_for_globex = acme.get("/api/v1/webhooks?account=globex").await;
    assert_eq!(asked_for_globex.status(), StatusCode::FORBIDDEN);

    let theirs = format!("/api/v1/webhooks/{globex_hook}");
    let reads = [
        theirs.clone(),
        format!("{theirs}/secret"),
        format!("{theirs}/deliveries"),
    ];
    for path in &reads {
        assert_eq!(
            acme.get(path).await.status(),
            StatusCode::NOT_FOUND,
            "GET {path}"
        );
    }
    for path in [
        format!("{theirs}/test-event"),
        format!("{theirs}/recover"),
        format!("{theirs}/secret/rotate"),
        format!("{theirs}/deliveries/1/redeliver"),
    ] {
        let answer = acme.post(&path, json!({})).await;
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "POST {path}");
    }
    // Other spellings of the same webhook's path reach nothing either.
    let digits = globex_hook.to_string();
    let encoded: String = digits.bytes().map(|b| format!("%{b:02X}")).collect();
    for spelled in [
        format!("/api/v1/webhooks/0{digits}"),
        format!("/api/v1/webhooks/{encoded}"),
        format!("/api/v1/webhooks/{digits}/"),
        format!("/api/v1//webhooks/{digits}"),
        format!("/api/v1/webhooks/{digits}/./secret"),
        format!("/api/v1/webhooks/+{digits}"),
    ] {
        let answer = acme.get(&spelled).await;
        let status = answer.status();
        let body = answer.text().await.unwrap();
        assert!(status.is_client_error(), "GET {spelled}: {status}");
        assert!(
            !body.contains("whsec_") && !body.contains("\"Orders\""),
            "GET {spelled}: {body}"
        );
    }
    let renamed = acme.patch(&theirs, json!({"name": "Mine now"})).await;
    assert_eq!(renamed.status(), StatusCode::NOT_FOUND);
    assert_eq!(acme.delete(&theirs).await.status(), StatusCode::NOT_FOUND);
    let still: Value = staff.get(&theirs).await.json().await.unwrap();
    assert_eq!(still["name"], "Orders", "nothing changed");

    let (status, _) = acme
        .publish(json!({"event_type": "order.purchased", "data": {}, "account": "globex"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "naming another account");
    let (status, body) = acme
        .publish(json!({"event_type": "order.purchased", "data": {}}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(body["deliveries"], 1, "its own account's webhook");
    let elsewhere = acme
        .post(
            "/api/v1/webhooks",
            json!({"name": "Sneaky", "url": receiver.url, "events": ["*"], "account": "globex"}),
        )
        .await;
    assert_eq!(elsewhere.status(), StatusCode::FORBIDDEN);

    assert_eq!(
        acme.get("/api/v1/accounts/globex").await.status(),
        StatusCode::NOT_FOUND
    );
    let accounts: Value = acme.get("/api/v1/accounts").await.json().await.unwrap();
    assert_eq!(accounts["data"].as_array().unwrap().len(), 1, "{accounts}");
    let made = acme
        .put("/api/v1/accounts/initech", json!({"name": "Initech"}))
        .await;
    assert_eq!(made.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_account_with_webhooks_is_not_deleted_and_default_never() {
    let app = console("1h").await;
    let staff = app.api().await;
    staff
        .put("/api/v1/accounts/acme", json!({"name": "Acme"}))
        .await;
    let renamed = staff
        .put("/api/v1/accounts/acme", json!({"name": "Acme Corporation"}))
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let receiver = Receiver::start().await;
    let hook = orders_webhook(&staff, "acme", &receiver).await;
    assert_eq!(
        staff.delete("/api/v1/accounts/acme").await.status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        staff.delete("/api/v1/accounts/default").await.status(),
        StatusCode::CONFLICT
    );
    staff.delete(&format!("/api/v1/webhooks/{hook}")).await;
    let acme = account_token(&app, "acme").await;
    assert_eq!(acme.get("/api/v1/webhooks").await.status(), StatusCode::OK);
    assert_eq!(
        staff.delete("/api/v1/accounts/acme").await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        acme.get("/api/v1/webhooks").await.status(),
        StatusCode::UNAUTHORIZED,
        "its tokens went with it, at once"
    );
    let (status, _) = staff
        .publish(json!({"event_type": "order.purchased", "data": {}, "account": "acme"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "gone");
    let bad = staff
        .put("/api/v1/accounts/Not%20A%20Key", json!({"name": "x"}))
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn an_account_holds_at_most_its_share_of_webhooks_and_default_has_no_cap() {
    let app = TestApp::spawn_with(|settings| {
        settings.max_webhooks_per_account = 2;
        settings.allow_private_targets = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let staff = app.api().await;
    staff
        .put("/api/v1/accounts/acme", json!({"name": "Acme"}))
        .await;
    let receiver = Receiver::start().await;
    let create = |name: String, account: &'static str| {
        let staff = &staff;
        let url = receiver.url.clone();
        async move {
            staff
                .post(
                    "/api/v1/webhooks",
                    json!({"name": name, "url": url, "events": ["*"], "account": account}),
                )
                .await
        }
    };
    for n in 0..2 {
        let made = create(format!("Hook {n}"), "acme").await;
        assert_eq!(made.status(), StatusCode::CREATED);
    }
    let full = create("Hook 2".into(), "acme").await;
    assert_eq!(full.status(), StatusCode::CONFLICT);
    let body: Value = full.json().await.unwrap();
    assert_eq!(body["error"]["code"], "account_full");
    assert!(
        body["error"]["message"].as_str().unwrap().contains('2'),
        "{body}"
    );
    for n in 0..3 {
        let made = create(format!("Hook {n}"), "default").await;
        assert_eq!(made.status(), StatusCode::CREATED, "default has no cap");
    }
}
