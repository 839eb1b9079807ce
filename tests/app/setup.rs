use std::io::Write;
use std::process::{Command, Stdio};

use reqwest::StatusCode;

use crate::common::{Page, TestApp};

#[tokio::test]
async fn a_fresh_start_offers_a_one_time_link_that_creates_the_first_admin() {
    let app = TestApp::spawn_without_users().await;
    let link = app.setup_link.clone().expect("a setup link on first start");
    assert!(
        link.starts_with(&format!("{}/setup?token=", app.address)),
        "{link}"
    );
    let path = link.trim_start_matches(&app.address).to_owned();
    let token = path.rsplit('=').next().unwrap().to_owned();
    let visitor = app.visitor();

    let form = visitor.get_page(&path).await;
    assert_eq!(
        form.texts("label"),
        ["Email", "Password", "Confirm password"]
    );
    visitor.refresh_csrf_token(&path).await;
    let mismatch = visitor
        .post_form(
            "/setup",
            &[
                ("token", &token),
                ("email", "ada@example.com"),
                ("password", "a long enough password"),
                ("password_confirm", "another one entirely"),
            ],
        )
        .await;
    assert_eq!(mismatch.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let created = visitor
        .post_form(
            "/setup",
            &[
                ("token", &token),
                ("email", "ada@example.com"),
                ("password", "a long enough password"),
                ("password_confirm", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let page = visitor.get_page("/settings/users").await;
    assert_eq!(page.text(".topbar-email"), "ada@example.com");
    assert_eq!(
        page.text(".toast-success"),
        "Welcome! Your admin account is ready."
    );

    assert_eq!(
        app.visitor().get(&path).await.status(),
        StatusCode::NOT_FOUND,
        "the link works once"
    );
    visitor.refresh_csrf_token("/settings/webhooks").await;
    let again = visitor
        .post_form(
            "/setup",
            &[
                ("token", &token),
                ("email", "eve@example.com"),
                ("password", "a long enough password"),
                ("password_confirm", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_wrong_setup_token_shows_nothing() {
    let app = TestApp::spawn_without_users().await;

    assert_eq!(
        app.visitor().get("/setup?token=guess").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.visitor().get("/setup").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_console_started_with_an_admin_from_the_environment_has_no_setup_link() {
    let app = TestApp::spawn().await;

    assert!(app.setup_link.is_none());
    let audit = app.get_page("/settings/audit").await;
    assert!(audit.text("tbody").contains("First admin created"));
}

#[tokio::test]
async fn the_command_line_creates_users_with_the_password_from_standard_input() {
    let app = TestApp::spawn().await;
    let database_url = app.database_url.clone();

    let mut command = Command::new(env!("CARGO_BIN_EXE_webhook-console"))
        .args([
            "user",
            "create",
            "--email",
            "Sam@Example.com",
            "--role",
            "support",
        ])
        .env("DATABASE_URL", &database_url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    command
        .stdin
        .take()
        .unwrap()
        .write_all(b"support staff password\n")
        .unwrap();
    let output = command.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let sam = app.visitor();
    assert_eq!(
        sam.sign_in("sam@example.com", "support staff password")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let page = Page::from(sam.get("/settings/webhooks").await).await;
    assert_eq!(page.text(".role-badge"), "Support");
}

#[tokio::test]
async fn the_command_line_prints_a_new_api_token_and_nothing_else() {
    let app = TestApp::spawn().await;
    let database_url = app.database_url.clone();

    let output = Command::new(env!("CARGO_BIN_EXE_webhook-console"))
        .args(["token", "create", "--name", "Shop backend"])
        .env("DATABASE_URL", &database_url)
        .output()
        .expect("the binary runs");

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let token = stdout.trim_end();
    assert!(
        token.starts_with("wc_") && !token.contains(char::is_whitespace),
        "{stdout:?}"
    );
    assert_eq!(stdout.lines().count(), 1);
    let api = crate::common::Api::new(&app.address, token);
    assert_eq!(
        api.get("/api/v1/event-types").await.status(),
        StatusCode::OK
    );
    let tokens = app.get_page("/settings/tokens").await;
    assert!(tokens.text("tbody").contains("Shop backend"));
}
