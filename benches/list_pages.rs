//! How fast the console's lists answer with 10,000 webhooks and a million deliveries (one
//! webhook holding most of them), over real HTTP against the server built with the bench
//! (release) profile. Run: `cargo bench --bench list_pages`; `BENCH_DELIVERIES` sets the
//! number of deliveries (1,000,000 by default). On SQLite by default; with
//! `DATABASE_URL=postgres://…` (a server: the bench creates and drops its own database) on
//! PostgreSQL.

use std::time::{Duration, Instant};

use webhook_console::clock::Timestamp;
use webhook_console::config::Settings;
use webhook_console::db::deliveries::{self, Cursor, DeliverySearch};
use webhook_console::db::delivery_queue::{self, AttemptRecord};
use webhook_console::db::events::{self, NewEvent, Publisher};
use webhook_console::db::{Db, event_types, webhooks};
use webhook_console::domain::receiver_health::ReceiverVerdict;
use webhook_console::domain::{
    AccountKey, AttemptErrorCode, DeliveryStatus, MaxWebhooksPerAccount, WebhookInput,
    WebhookStatus, terms_of,
};
use webhook_console::secrets::secret_box::SecretBox;
use webhook_console::startup::Application;

mod support;

const WEBHOOKS: usize = 10_000;
/// Events published to every subscribed webhook; the rest of the deliveries go to one.
const SPREAD_EVENTS: usize = 200;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const ROUNDS: usize = 200;
/// The issue's target for each list request.
const TARGET: Duration = Duration::from_millis(50);
const ADMIN: &str = "bench@example.com";
const PASSWORD: &str = "benchmark password";

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = support::Database::create(dir.path(), "lists").await;
    let database_url = database.url.clone();
    let deliveries_wanted: usize = std::env::var("BENCH_DELIVERIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let seeded = Instant::now();
    let heavy = seed(&database_url, deliveries_wanted).await;
    println!(
        "seeded {WEBHOOKS} webhooks, {} events and {} deliveries in {:.0} s on {}",
        heavy.events,
        heavy.deliveries,
        seeded.elapsed().as_secs_f64(),
        database.backend
    );
    let application = Application::build(Settings {
        listen: "127.0.0.1:0".into(),
        database_url: database_url.clone(),
        admin_email: Some(ADMIN.into()),
        admin_password: Some(PASSWORD.parse().expect("password")),
        ..Settings::default()
    })
    .await
    .expect("server starts");
    let base = format!("http://127.0.0.1:{}", application.port());
    tokio::spawn(application.run_until_stopped());
    // SQLite indexes the seeded events' search terms beside the server: wait for it, as a
    // console that has been running would have.
    if !database_url.starts_with("postgres") {
        let indexing = Instant::now();
        let db = Db::open(&database_url).await.expect("database");
        let webhook_console::db::Reader::Sqlite(reader) = db.reader() else {
            unreachable!("an SQLite URL")
        };
        loop {
            let behind: i64 = sqlx::query_scalar(
                "SELECT (SELECT MAX(id) FROM events) - last_event_id FROM search_progress",
            )
            .fetch_one(reader)
            .await
            .expect("progress");
            if behind == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        println!(
            "search terms of {} events indexed in {:.0} s beside the running server",
            heavy.events,
            indexing.elapsed().as_secs_f64()
        );
        db.close().await;
    }
    let client = signed_in_client(&base).await;

    let webhook = heavy.webhook;
    let deep = heavy.deep_delivery;
    let newest = heavy.newest_delivery;
    let event = heavy.newest_event;
    println!(
        "{WEBHOOKS} webhooks, {} deliveries ({} to webhook {webhook}), {ROUNDS} sequential requests each",
        heavy.deliveries, heavy.to_heavy
    );
    println!(
        "{:<40} {:>9} {:>9} {:>9}",
        "request", "median", "p95", "max"
    );
    let pages: Vec<(&str, String)> = [
        ("page 1", "/settings/webhooks".to_owned()),
        ("page 200", "/settings/webhooks?page=200".into()),
        ("page 400 (last)", "/settings/webhooks?page=400".into()),
        (
            "search by name: \"hook 0042\"",
            "/settings/webhooks?q=hook+0042".into(),
        ),
        (
            "search by URL: \"receiver-77\"",
            "/settings/webhooks?q=receiver-77".into(),
        ),
        (
            "search matching nothing",
            "/settings/webhooks?q=zzzz".into(),
        ),
        (
            "filter: disabled",
            "/settings/webhooks?status=disabled".into(),
        ),
        (
            "filter: order.purchased, page 20",
            "/settings/webhooks?event=order.purchased&page=20".into(),
        ),
        (
            "htmx partial, page 200",
            "/settings/webhooks?page=200".into(),
        ),
        (
            "webhook page with log, first page",
            format!("/settings/webhooks/{webhook}"),
        ),
        (
            "webhook log, deep page",
            format!("/settings/webhooks/{webhook}?before={deep}"),
        ),
        (
            "webhook log, failed only",
            format!("/settings/webhooks/{webhook}?status=failed"),
        ),
        (
            "htmx log refresh (live)",
            format!("/settings/webhooks/{webhook}/deliveries"),
        ),
        (
            "delivery page",
            format!("/settings/webhooks/{webhook}/deliveries/{newest}"),
        ),
        ("Deliveries tab, first page", "/settings/deliveries".into()),
        (
            "Deliveries search by delivery id",
            format!("/settings/deliveries?q={newest}"),
        ),
        (
            "Deliveries search by event id",
            format!("/settings/deliveries?q=evt_{event}"),
        ),
        (
            "Deliveries search: failed",
            "/settings/deliveries?status=failed".into(),
        ),
        (
            "Deliveries search: an order id in data",
            format!("/settings/deliveries?q=ord_{}", heavy.to_heavy / 2),
        ),
        (
            "Deliveries search: a value in every event",
            "/settings/deliveries?q=49.90".into(),
        ),
        (
            "Deliveries search: quote matching nothing",
            "/settings/deliveries?q=ord_nothing".into(),
        ),
    ]
    .into();
    for (label, path) in pages {
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
    database.drop().await;
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

/// What the seeding made: the webhook holding most deliveries and ids to ask for.
struct Seeded {
    webhook: i64,
    events: usize,
    deliveries: usize,
    to_heavy: usize,
    newest_delivery: i64,
    newest_event: i64,
    /// A delivery near the far end of the heavy webhook's log.
    deep_delivery: i64,
}

/// 10,000 webhooks (every tenth takes all events, every seventh is disabled); events fanned
/// out to all of them, then the rest of `wanted` deliveries to one "Heavy receiver"; every
/// delivery tried once over the last day through the engine's own bookkeeping, 85%
/// succeeded, 10% failed for good and 5% waiting for a retry tomorrow.
async fn seed(database_url: &str, wanted: usize) -> Seeded {
    let db = Db::open(database_url).await.expect("database");
    let catalog = event_types::keys(db.reader()).await.expect("catalog");
    let subscribable: Vec<_> = catalog.iter().filter(|k| k.is_subscribable()).collect();
    let secrets = SecretBox::new([0; 32]);
    let now = db.now();
    let lease = now.plus(Duration::from_secs(2 * 24 * 60 * 60));
    let mut tx = db.begin_write().await.expect("transaction");
    let mut disabled = Vec::new();
    for i in 0..=WEBHOOKS {
        let (name, events) = match i {
            WEBHOOKS => (
                "Heavy receiver".to_owned(),
                vec!["order.purchased".to_owned()],
            ),
            i if i % 10 == 0 => (format!("Webhook {i:04}"), vec!["*".to_owned()]),
            i => (
                format!("Webhook {i:04}"),
                vec![subscribable[i % subscribable.len()].to_string()],
            ),
        };
        let input = WebhookInput {
            name,
            url: format!("https://receiver-{i}.example.com/hooks"),
            events,
            notification_type: "REST".into(),
            ..WebhookInput::default()
        };
        let draft = input.parse(&catalog).expect("valid");
        let id = webhooks::create(
            &mut tx,
            &secrets,
            &AccountKey::default_account(),
            MaxWebhooksPerAccount::default(),
            &draft,
            now,
        )
        .await
        .expect("insert");
        if i % 7 == 0 && i != WEBHOOKS {
            disabled.push(id);
        }
    }
    let heavy = webhooks::list(
        &mut tx,
        &webhooks::WebhookFilter {
            search: Some("Heavy receiver".into()),
            ..Default::default()
        },
        webhook_console::domain::paging::Pager::new(1, 1),
        now,
    )
    .await
    .expect("heavy webhook")[0]
        .id;
    let event = |i: usize, event_type: &str| {
        let data = serde_json::json!({"order": {"id": format!("ord_{i}"), "total": "49.90"}});
        NewEvent {
            account: AccountKey::default_account(),
            event_type: event_type.to_owned(),
            event_time: now,
            current_context: "{}".into(),
            search_terms: terms_of(&data, &serde_json::json!({}), None),
            data: data.to_string(),
            publisher: Publisher::Token(0),
            idempotency: None,
        }
    };
    let spread: Vec<NewEvent> = (0..SPREAD_EVENTS)
        .map(|i| event(i, subscribable[i % subscribable.len()].as_str()))
        .collect();
    let mut total = 0;
    for chunk in spread.chunks(50) {
        let refs: Vec<&NewEvent> = chunk.iter().collect();
        let batch = events::publish_batch(
            &mut tx,
            &refs,
            now.minus(Duration::from_secs(20 * 3600)),
            lease,
        )
        .await
        .expect("publish");
        total += batch.deliveries.len();
    }
    // Only the heavy webhook listens while the rest is published.
    let others: Vec<i64> = (1..=heavy).filter(|id| *id != heavy).collect();
    for id in &others {
        webhooks::set_status(&mut tx, *id, WebhookStatus::Disabled, None, now)
            .await
            .expect("quiet");
    }
    let to_heavy = wanted.saturating_sub(total);
    let mut published = 0;
    while published < to_heavy {
        let count = (to_heavy - published).min(1000);
        let heavy_events: Vec<NewEvent> = (published..published + count)
            .map(|i| event(i, "order.purchased"))
            .collect();
        let refs: Vec<&NewEvent> = heavy_events.iter().collect();
        // Spread over the last day, oldest first, as they would have come in.
        let at = now.minus(Duration::from_millis(
            (DAY_MS - DAY_MS * published as i64 / to_heavy.max(1) as i64) as u64,
        ));
        events::publish_batch(&mut tx, &refs, at, lease)
            .await
            .expect("publish");
        published += count;
    }
    for id in &others {
        let status = if disabled.contains(id) {
            WebhookStatus::Disabled
        } else {
            WebhookStatus::Active
        };
        webhooks::set_status(&mut tx, *id, status, None, now)
            .await
            .expect("restore");
    }
    tx.commit().await.expect("commit");
    let newest_event = try_all_once(&db, now).await;
    let page = |cursor| {
        let search = DeliverySearch {
            webhook_id: Some(heavy),
            ..DeliverySearch::default()
        };
        let db = db.clone();
        async move {
            deliveries::search(db.reader(), &search, cursor, 1)
                .await
                .expect("search")
                .deliveries[0]
                .id
        }
    };
    let newest_delivery = page(Cursor::Newest).await;
    let oldest = page(Cursor::NewerThan(0)).await;
    let seeded = Seeded {
        webhook: heavy,
        events: SPREAD_EVENTS + to_heavy,
        deliveries: total + to_heavy,
        to_heavy,
        newest_delivery,
        newest_event,
        deep_delivery: oldest + 100,
    };
    db.close().await;
    seeded
}

/// Records one try of every delivery, spread over the last day, the way the engine does.
/// Returns the newest event's id.
async fn try_all_once(db: &Db, now: Timestamp) -> i64 {
    let mut cursor = Cursor::NewerThan(0);
    let mut newest_event = 0;
    let mut n: i64 = 0;
    loop {
        let page = deliveries::search(db.reader(), &DeliverySearch::default(), cursor, 5000)
            .await
            .expect("page");
        if page.deliveries.is_empty() {
            return newest_event;
        }
        let records: Vec<AttemptRecord> = page
            .deliveries
            .iter()
            .map(|delivery| {
                n += 1;
                let (status, code, error) = match n % 20 {
                    0 => (
                        DeliveryStatus::Pending,
                        Some(503),
                        Some(AttemptErrorCode::HttpStatus),
                    ),
                    1 | 2 => (
                        DeliveryStatus::Failed,
                        None,
                        Some(AttemptErrorCode::Connect),
                    ),
                    _ => (DeliveryStatus::Succeeded, Some(200), None),
                };
                AttemptRecord {
                    delivery_id: delivery.id,
                    webhook_id: delivery.webhook_id,
                    // Born claimed by the seeding publish: the lease it was leased under.
                    lease: delivery.next_attempt_at.unwrap_or(now),
                    at: delivery.created_at.plus(Duration::from_millis(40)).min(now),
                    duration_ms: 40,
                    status_code: code,
                    error_code: error,
                    error_message: error.map(|_| "The receiver did not answer as hoped.".into()),
                    response_excerpt: code.map(|_| r#"{"ok":true}"#.into()),
                    response_headers: code.map(|_| "content-type: application/json\n".into()),
                    signature: "v1,bench".into(),
                    status,
                    next_attempt_at: (status == DeliveryStatus::Pending)
                        .then(|| now.plus(Duration::from_secs(24 * 60 * 60))),
                    keeps_schedule: false,
                    verdict: ReceiverVerdict::Neutral,
                }
            })
            .collect();
        let refs: Vec<&AttemptRecord> = records.iter().collect();
        let mut tx = db.begin_write().await.expect("transaction");
        delivery_queue::record_attempts(&mut tx, &refs)
            .await
            .expect("record");
        tx.commit().await.expect("commit");
        // Pages come newest first: the next one starts above this page's first row.
        let newest = page.deliveries.first().expect("non-empty");
        newest_event = newest_event.max(newest.event_id);
        cursor = Cursor::NewerThan(newest.id);
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
