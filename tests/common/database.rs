//! Which backend the suite runs on: SQLite (a file in the test's temp dir), or PostgreSQL
//! when `WEBHOOK_CONSOLE_TEST_BACKEND=postgres` (or `DATABASE_URL` names a PostgreSQL
//! server), with a fresh database per test on the server in `TEST_POSTGRES_URL` (else
//! `DATABASE_URL`; `scripts/with-postgres` provides one).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::Connection;
use webhook_console::config::Secret;

/// Names created databases, so a suite's leftovers are easy to find and drop.
pub const PREFIX: &str = "webhook_console_test";

pub fn on_postgres() -> bool {
    std::env::var("WEBHOOK_CONSOLE_TEST_BACKEND").as_deref() == Ok("postgres")
        || postgres_in("DATABASE_URL").is_some()
}

fn postgres_in(variable: &str) -> Option<String> {
    std::env::var(variable)
        .ok()
        .filter(|url| webhook_console::db::is_postgres(url))
}

/// A database nobody has used: SQLite at `sqlite_path`, or a new PostgreSQL database.
pub async fn fresh(sqlite_path: &Path) -> String {
    if on_postgres() {
        fresh_postgres().await
    } else {
        format!("sqlite://{}", sqlite_path.display())
    }
}

/// What several nodes on one PostgreSQL database share; SQLite keeps its key file.
pub fn shared_secret_key() -> Option<Secret> {
    on_postgres().then(|| {
        "test key shared by every node, at least 32 characters"
            .parse()
            .expect("a key")
    })
}

pub async fn fresh_postgres() -> String {
    static CREATED: AtomicUsize = AtomicUsize::new(0);
    let server = postgres_in("TEST_POSTGRES_URL")
        .or_else(|| postgres_in("DATABASE_URL"))
        .expect("TEST_POSTGRES_URL names the PostgreSQL server (see scripts/with-postgres)");
    let name = format!(
        "{PREFIX}_{}_{}",
        std::process::id(),
        CREATED.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = sqlx::PgConnection::connect(&server)
        .await
        .expect("the PostgreSQL server in TEST_POSTGRES_URL answers");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("a fresh database");
    let _ = admin.close().await;
    let mut url = url::Url::parse(&server).expect("TEST_POSTGRES_URL is a URL");
    url.set_path(&name);
    url.to_string()
}
