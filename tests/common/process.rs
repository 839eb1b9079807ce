//! The real binary, started as an operator would: its own process, port and environment.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The real binary on `port`, with the first admin and these extra settings.
pub fn start_server(database_url: &str, port: u16, env: &[(&str, &str)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_webhook-console"))
        .env("DATABASE_URL", database_url)
        .env("WEBHOOK_CONSOLE_LISTEN", format!("127.0.0.1:{port}"))
        .env("WEBHOOK_CONSOLE_ADMIN_EMAIL", "admin@example.com")
        .env(
            "WEBHOOK_CONSOLE_ADMIN_PASSWORD",
            "correct horse battery staple",
        )
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

pub async fn wait_until_ready(port: u16) {
    let ready = format!("http://127.0.0.1:{port}/readyz");
    for _ in 0..200 {
        if reqwest::get(&ready)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become ready");
}

pub fn token_for(database_url: &str) -> String {
    let token = Command::new(env!("CARGO_BIN_EXE_webhook-console"))
        .args(["token", "create", "--name", "publisher"])
        .env("DATABASE_URL", database_url)
        .output()
        .unwrap();
    String::from_utf8(token.stdout).unwrap().trim().to_owned()
}
