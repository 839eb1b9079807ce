//! SQLite's disk fills: publishing is refused with 507 and nothing half-written, the console
//! keeps reading, `/readyz` says why, and once space returns everything goes on, with every
//! acknowledged event delivered.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::common::process::{free_port, start_server, token_for, wait_until_ready};
use crate::common::receiver::Receiver;
use crate::common::{ADMIN_EMAIL, ADMIN_PASSWORD, Api, Client};

/// Room for the database and a little WAL; the filler takes the rest.
const TMPFS_SIZE: &str = "size=24m";

/// A small tmpfs, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// `None` where this process may not mount (not root, or no mount namespace rights).
    fn mount() -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", TMPFS_SIZE, "tmpfs"])
            .arg(dir.path())
            .output()
            .is_ok_and(|output| output.status.success());
        mounted.then_some(Self { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills what is left with one file, to the last byte.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let filler = self.path().join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        loop {
            if file.write_all(&block).is_err() {
                break;
            }
        }
        // And the last small pieces a big block no longer fits in.
        while file.write_all(&[0u8; 512]).is_ok() {}
        let _ = file.sync_all();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_disk_refuses_new_events_keeps_the_console_reading_and_recovers() {
    super::on_sqlite();
    let Some(disk) = SmallDisk::mount() else {
        eprintln!("skipped: mounting a tmpfs needs root (run the suite as root, as CI does)");
        return;
    };
    let database_url = format!("sqlite://{}", disk.path().join("console.db").display());
    let token = token_for(&database_url);
    let port = free_port();
    let mut server = start_server(
        &database_url,
        port,
        &[("WEBHOOK_CONSOLE_ALLOW_PRIVATE_TARGETS", "127.0.0.1/32")],
    );
    wait_until_ready(port).await;
    let address = format!("http://127.0.0.1:{port}");
    let api = Api::new(&address, &token);
    let receiver = Receiver::start().await;
    let created = api
        .post(
            "/api/v1/webhooks",
            json!({"name": "Orders", "url": receiver.url, "events": ["*"]}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let admin = Client::new(&address);
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let padding = "x".repeat(8 * 1024);
    let publish = |number: i64| {
        let api = &api;
        let padding = &padding;
        async move {
            api.publish(json!({
                "event_type": "order.purchased",
                "data": {"i": number, "padding": padding}
            }))
            .await
        }
    };
    let mut acknowledged = Vec::new();
    for number in 0..20 {
        assert_eq!(publish(number).await.0, StatusCode::ACCEPTED);
        acknowledged.push(number);
    }

    // Someone opens the sign-in page;
    let newcomer = Client::new(&address);
    newcomer.refresh_csrf_token("/login").await;

    // when the disk fills up,
    let filler = disk.fill();
    // publishing is refused with 507 and a reason (what was already in the WAL's room may
    // still fit at first), never with a 500;
    let mut number = 20;
    let refused = loop {
        let (status, body) = publish(number).await;
        match status {
            StatusCode::ACCEPTED => acknowledged.push(number),
            StatusCode::INSUFFICIENT_STORAGE => break body,
            other => panic!("event {number} answered {other}: {body}"),
        }
        number += 1;
        assert!(number < 2_000, "the full disk was never noticed");
    };
    assert_eq!(refused["error"]["code"], "insufficient_storage");
    let answer = api
        .request(reqwest::Method::POST, "/api/v1/events")
        .json(&json!({"event_type": "order.purchased", "data": {"padding": padding}}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::INSUFFICIENT_STORAGE);
    assert!(answer.headers().contains_key("retry-after"));
    // /readyz says why,
    let ready = reqwest::get(format!("{address}/readyz")).await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        ready.text().await.unwrap(),
        "database disk full: writes are refused"
    );
    // signing in, which writes a session, gets the page that says why, with the headers
    // every page has,
    let signed_in = newcomer
        .post_form(
            "/login",
            &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(signed_in.status(), StatusCode::INSUFFICIENT_STORAGE);
    assert!(
        signed_in.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert!(
        signed_in
            .text()
            .await
            .unwrap()
            .contains("Database disk full")
    );
    let metrics = reqwest::get(format!("{address}/metrics")).await.unwrap();
    assert!(
        metrics
            .text()
            .await
            .unwrap()
            .contains("webhook_console_database_disk_full 1")
    );
    // and the console still shows what is stored.
    let page = admin.get("/settings/webhooks").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Orders"));
    assert_eq!(api.get("/api/v1/webhooks").await.status(), StatusCode::OK);

    // Once space returns, everything goes on by itself,
    std::fs::remove_file(filler).unwrap();
    let freed_at = Instant::now();
    while reqwest::get(format!("{address}/readyz"))
        .await
        .unwrap()
        .status()
        != StatusCode::OK
    {
        assert!(
            freed_at.elapsed() < Duration::from_secs(10),
            "not ready after space returned"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for number in 10_000..10_020 {
        assert_eq!(publish(number).await.0, StatusCode::ACCEPTED);
        acknowledged.push(number);
    }
    // and every acknowledged event is delivered.
    receiver
        .wait_for_numbers(&acknowledged, Duration::from_secs(30))
        .await;
    let _ = server.kill();
    let _ = server.wait();
    // Nothing was half-written.
    let check = sqlx::query_scalar::<_, String>("PRAGMA integrity_check")
        .fetch_one(&sqlx::SqlitePool::connect(&database_url).await.unwrap())
        .await
        .unwrap();
    assert_eq!(check, "ok");
}
