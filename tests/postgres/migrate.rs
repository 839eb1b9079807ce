//! `webhook-console migrate-to` moves an SQLite installation to PostgreSQL: the same binary
//! then serves it from there, with every webhook, secret, token, event and log entry.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::process::{free_port, start_server, token_for, wait_until_ready};
use crate::common::receiver::Receiver;
use crate::common::scene::received;
use crate::common::{ADMIN_EMAIL, ADMIN_PASSWORD, Api, Client, database};

const NODE_KEY: &str = "the key every PostgreSQL node is given, 32+ characters";
const LOCAL_DELIVERY: (&str, &str) = ("WEBHOOK_CONSOLE_ALLOW_PRIVATE_TARGETS", "127.0.0.1/32");

fn migrate(from: &str, to: &str, key: Option<&str>) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_webhook-console"));
    command.args(["migrate-to", "--from", from, "--database-url", to]);
    command.env_remove("WEBHOOK_CONSOLE_SECRET_KEY");
    if let Some(key) = key {
        command.env("WEBHOOK_CONSOLE_SECRET_KEY", key);
    }
    command.output().unwrap()
}

#[tokio::test]
async fn an_sqlite_installation_moves_to_postgresql_with_its_secrets_and_history() {
    // An SQLite installation with its generated key file, a webhook with an API key, a
    // token, delivered events and an audit log.
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("console.db").display());
    let token = token_for(&sqlite);
    let port = free_port();
    let mut server = start_server(&sqlite, port, &[LOCAL_DELIVERY]);
    wait_until_ready(port).await;
    let api = Api::new(&format!("http://127.0.0.1:{port}"), &token);
    let receiver = Receiver::start().await;
    let created = api
        .post(
            "/api/v1/webhooks",
            json!({"name": "Orders", "url": receiver.url, "events": ["*"],
                   "api_key": "key-4f1e-8b7a"}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let webhook: Value = created.json().await.unwrap();
    let id = webhook["id"].as_i64().unwrap();
    let secret: Value = api
        .get(&format!("/api/v1/webhooks/{id}/secret"))
        .await
        .json()
        .await
        .unwrap();
    for i in 0..3 {
        api.publish(json!({"event_type": "order.purchased", "data": {"i": i}}))
            .await;
    }
    received(&receiver, 3, std::time::Duration::from_secs(10)).await;
    server.kill().unwrap();
    server.wait().unwrap();

    let postgres = database::fresh_postgres().await;
    let refused = migrate(&sqlite, &postgres, None);
    assert!(!refused.status.success(), "the nodes' key must be given");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("WEBHOOK_CONSOLE_SECRET_KEY"));

    let copied = migrate(&sqlite, &postgres, Some(NODE_KEY));
    let report = String::from_utf8_lossy(&copied.stdout);
    assert!(
        copied.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&copied.stderr)
    );
    assert!(
        report.contains("Every table holds as many rows"),
        "{report}"
    );
    assert!(report.contains("deliveries"), "{report}");

    // The same binary on PostgreSQL, with the nodes' key: everything is there and opens.
    let port = free_port();
    let mut node = start_server(
        &postgres,
        port,
        &[LOCAL_DELIVERY, ("WEBHOOK_CONSOLE_SECRET_KEY", NODE_KEY)],
    );
    wait_until_ready(port).await;
    let address = format!("http://127.0.0.1:{port}");
    let api = Api::new(&address, &token);
    let moved: Value = api
        .get(&format!("/api/v1/webhooks/{id}/secret"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(moved, secret, "the signing secret survived re-sealing");
    let deliveries: Value = api
        .get(&format!("/api/v1/webhooks/{id}/deliveries"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(deliveries["total"], 3, "{deliveries}");

    let admin = Client::new(&address);
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = admin.get_page(&format!("/settings/webhooks/{id}")).await;
    assert!(page.text("body").contains("••••8b7a"), "the API key opens");

    let (status, _) = api
        .publish(json!({"event_type": "order.purchased", "data": {"i": 3}}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "the token still publishes");
    let all = received(&receiver, 4, std::time::Duration::from_secs(10)).await;
    assert_eq!(all[3].header("x-api-key"), Some("key-4f1e-8b7a"));
    node.kill().unwrap();
    node.wait().unwrap();

    let again = migrate(&sqlite, &postgres, Some(NODE_KEY));
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("empty one"));
}

#[tokio::test]
async fn a_target_holding_anything_of_its_own_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("source.db").display());
    webhook_console::db::Db::open(&sqlite)
        .await
        .unwrap()
        .close()
        .await;
    let postgres = database::fresh_postgres().await;
    let target = webhook_console::db::Db::open(&postgres).await.unwrap();
    let mut tx = target.begin_write().await.unwrap();
    crate::common::sql_execute(
        &mut tx,
        "INSERT INTO event_types (key, group_name, description, example_data, created_at)
         VALUES ('invoice.paid', 'Billing', 'An invoice was paid', '{}', 1)",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    target.close().await;

    let refused = migrate(&sqlite, &postgres, Some(NODE_KEY));

    assert!(
        !refused.status.success(),
        "a custom event type would be lost"
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("empty one"));
}
