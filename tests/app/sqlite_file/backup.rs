//! `webhook-console backup --to FILE` copies a running SQLite installation; the same binary
//! serves the copy with every webhook, secret, token and event.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::Api;
use crate::common::process::{free_port, start_server, token_for, wait_until_ready};

#[tokio::test]
async fn a_backup_taken_while_the_server_runs_restores_with_its_secrets_and_events() {
    super::on_sqlite();
    let dir = tempfile::tempdir().unwrap();
    let live = format!("sqlite://{}", dir.path().join("console.db").display());
    let token = token_for(&live);
    let port = free_port();
    let mut server = start_server(&live, port, &[]);
    wait_until_ready(port).await;
    let api = Api::new(&format!("http://127.0.0.1:{port}"), &token);
    let webhook = api.create_webhook("Orders", &["order.purchased"]).await;
    for n in 0..20 {
        let (status, _) = api
            .publish(json!({"event_type": "order.purchased", "data": {"order": {"id": format!("ord_{n}")}}}))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    let secret: Value = api
        .get(&format!("/api/v1/webhooks/{webhook}/secret"))
        .await
        .json()
        .await
        .unwrap();

    let copy = dir.path().join("backup").join("copy.db");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    let backup = Command::new(env!("CARGO_BIN_EXE_webhook-console"))
        .args(["backup", "--to", copy.to_str().unwrap()])
        .env("DATABASE_URL", &live)
        .output()
        .unwrap();
    assert!(backup.status.success(), "{backup:?}");
    let again = Command::new(env!("CARGO_BIN_EXE_webhook-console"))
        .args(["backup", "--to", copy.to_str().unwrap()])
        .env("DATABASE_URL", &live)
        .output()
        .unwrap();
    assert!(
        !again.status.success(),
        "an existing file is never overwritten"
    );

    let restored_port = free_port();
    let restored_url = format!("sqlite://{}", copy.display());
    let mut restored = start_server(&restored_url, restored_port, &[]);
    wait_until_ready(restored_port).await;
    let restored_api = Api::new(&format!("http://127.0.0.1:{restored_port}"), &token);
    let listed: Value = restored_api
        .get("/api/v1/webhooks")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["data"][0]["name"], "Orders", "{listed}");
    let restored_secret: Value = restored_api
        .get(&format!("/api/v1/webhooks/{webhook}/secret"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(restored_secret, secret, "its key file came along");
    let deliveries: Value = restored_api
        .get(&format!("/api/v1/webhooks/{webhook}/deliveries"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(deliveries["total"], 20);
    let found: Value = restored_api
        .get("/api/v1/deliveries?q=ord_7")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["data"].as_array().unwrap().len(), 1, "{found}");

    for child in [&mut server, &mut restored] {
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
