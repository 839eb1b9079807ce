//! How fast the Webhook Settings list answers with 10,000 webhooks, over real HTTP against
//! the server built with the bench (release) profile. Run: `cargo bench --bench list_pages`.

use std::time::{Duration, Instant};

use webhook_console::clock::Timestamp;
use webhook_console::config::Settings;
use webhook_console::db::{Db, event_types, webhooks};
use webhook_console::domain::WebhookInput;
use webhook_console::secret_box::SecretBox;
use webhook_console::startup::Application;

const WEBHOOKS: usize = 10_000;
const ROUNDS: usize = 200;
/// The target for each list request.
const TARGET: Duration = Duration::from_millis(50);
const ADMIN: &str = "bench@example.com";
const PASSWORD: &str = "benchmark password";

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = format!("sqlite://{}", dir.path().join("bench.db").display());
    seed(&database_url).await;
    let application = Application::build(Settings {
        listen: "127.0.0.1:0".into(),
        database_url,
        admin_email: Some(ADMIN.into()),
        admin_password: Some(PASSWORD.parse().expect("password")),
        ..Settings::default()
    })
    .await
    .expect("server starts");
    let base = format!("http://127.0.0.1:{}", application.port());
    tokio::spawn(application.run_until_stopped());
    let client = signed_in_client(&base).await;

    println!("Webhook Settings list, {WEBHOOKS} webhooks, {ROUNDS} sequential requests each");
    println!(
        "{:<40} {:>9} {:>9} {:>9}",
        "request", "median", "p95", "max"
    );
    for (label, path) in [
        ("page 1", "/settings/webhooks"),
        ("page 200", "/settings/webhooks?page=200"),
        ("page 400 (last)", "/settings/webhooks?page=400"),
        (
            "search by name: \"hook 0042\"",
            "/settings/webhooks?q=hook+0042",
        ),
        (
            "search by URL: \"receiver-77\"",
            "/settings/webhooks?q=receiver-77",
        ),
        ("search matching nothing", "/settings/webhooks?q=zzzz"),
        ("filter: disabled", "/settings/webhooks?status=disabled"),
        (
            "filter: order.purchased, page 20",
            "/settings/webhooks?event=order.purchased&page=20",
        ),
        ("htmx partial, page 200", "/settings/webhooks?page=200"),
    ] {
        let htmx = label.starts_with("htmx");
        let mut timings = Vec::with_capacity(ROUNDS);
        for _ in 0..ROUNDS {
            let mut request = client.get(format!("{base}{path}"));
            if htmx {
                request = request.header("HX-Request", "true");
            }
            let started = Instant::now();
            let response = request.send().await.expect("request");
            assert!(
                response.status().is_success(),
                "{path}: {}",
                response.status()
            );
            response.bytes().await.expect("body");
            timings.push(started.elapsed());
        }
        timings.sort();
        let median = timings[ROUNDS / 2];
        let verdict = if median < TARGET { "" } else { "  over target" };
        println!(
            "{label:<40} {:>7.2}ms {:>7.2}ms {:>7.2}ms{verdict}",
            ms(median),
            ms(timings[ROUNDS * 95 / 100]),
            ms(timings[ROUNDS - 1]),
        );
    }
}

/// The list is for signed-in users: sign in as an admin would, through the form.
async fn signed_in_client(base: &str) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let login = client
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("login page");
    let html = scraper::Html::parse_document(&login.text().await.expect("body"));
    let selector = scraper::Selector::parse("input[name=csrf_token]").expect("selector");
    let token = html
        .select(&selector)
        .next()
        .and_then(|input| input.value().attr("value"))
        .expect("the sign-in form carries a CSRF token")
        .to_owned();
    let signed_in = client
        .post(format!("{base}/login"))
        .form(&[
            ("email", ADMIN),
            ("password", PASSWORD),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .expect("sign in");
    assert!(signed_in.status().is_redirection(), "signed in");
    client
}

async fn seed(database_url: &str) {
    let db = Db::open(database_url).await.expect("database");
    let catalog = event_types::keys(db.reader()).await.expect("catalog");
    let subscribable: Vec<_> = catalog.iter().filter(|k| k.is_subscribable()).collect();
    let secrets = SecretBox::new([0; 32]);
    let mut tx = db.begin_write().await.expect("transaction");
    for i in 0..WEBHOOKS {
        let events = if i % 10 == 0 {
            vec!["*".to_owned()]
        } else {
            vec![subscribable[i % subscribable.len()].to_string()]
        };
        let input = WebhookInput {
            name: format!("Webhook {i:04}"),
            url: format!("https://receiver-{i}.example.com/hooks"),
            events,
            notification_type: "REST".into(),
            ..WebhookInput::default()
        };
        let draft = input.parse(&catalog).expect("valid");
        let id = webhooks::create(&mut tx, &secrets, &draft, Timestamp::now())
            .await
            .expect("insert");
        if i % 7 == 0 {
            webhooks::set_status(
                &mut tx,
                id,
                webhook_console::domain::WebhookStatus::Disabled,
                Timestamp::now(),
            )
            .await
            .expect("disable");
        }
    }
    tx.commit().await.expect("commit");
    db.close().await;
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
