//! Event ingestion throughput and latency over real HTTP against the release build, with
//! one matching webhook, every 202 durable (WAL, synchronous=FULL). A plain loopback
//! server that answers 202 without storing anything is measured the same way, as the
//! ceiling of this machine and this load generator.
//!
//! Each event is an order as a shop would send it: an id, a customer, a total and two
//! items, with a tenant in its context (eleven values a customer may quote).
//!
//! Run: `cargo bench --bench ingest` (BENCH_SECONDS, default 10; BENCH_CLIENTS, default 64;
//! BENCH_SCHEMA=1 publishes a type whose data a JSON Schema checks at every publish).
//! On SQLite by default; with `DATABASE_URL=postgres://…` (a server: the bench creates and
//! drops its own database) on PostgreSQL.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::json;
use webhook_console::actions::{self, Actor};
use webhook_console::config::Settings;
use webhook_console::db::{Db, Reader};
use webhook_console::startup::Application;

mod support;

/// The type every event is published as: `order.purchased`, or with BENCH_SCHEMA=1 a type
/// registered with a schema that the events' data matches.
static EVENT_TYPE: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// What the published orders look like, as a schema: every field checked.
fn order_schema() -> serde_json::Value {
    json!({
        "type": "object",
        "required": ["order"],
        "properties": {"order": {
            "type": "object",
            "required": ["id", "number", "customer_id", "currency", "total", "items"],
            "properties": {
                "id": {"type": "string", "pattern": "^ord_[0-9]+$"},
                "number": {"type": "integer", "minimum": 0},
                "customer_id": {"type": "string", "maxLength": 40},
                "currency": {"enum": ["EUR", "USD", "GBP"]},
                "total": {"type": "string", "pattern": "^[0-9]+\\.[0-9]{2}$"},
                "items": {"type": "array", "minItems": 1, "items": {
                    "type": "object",
                    "required": ["sku", "quantity"],
                    "properties": {
                        "sku": {"type": "string"},
                        "quantity": {"type": "integer", "minimum": 1}
                    }
                }}
            }
        }}
    })
}

/// The rate of the latency run, the yardstick for p99.
const STEADY_RATE: u64 = 1_000;

#[tokio::main]
async fn main() {
    let seconds: u64 = support::env_or("BENCH_SECONDS", 10);
    let clients: usize = support::env_or("BENCH_CLIENTS", 64);
    let dir = tempfile::tempdir().expect("temp dir");
    let database = support::Database::create(dir.path(), "ingest").await;
    let database_url = database.url.clone();

    let db = Db::open(&database_url).await.expect("database");
    let token = actions::tokens::create(&db, &Actor::System, "bench", None)
        .await
        .expect("token");
    db.close().await;
    let application = Application::build(Settings {
        listen: "127.0.0.1:0".into(),
        database_url: database_url.clone(),
        admin_email: Some("bench@example.com".into()),
        admin_password: Some("benchmark password".parse().expect("password")),
        ..Settings::default()
    })
    .await
    .expect("server starts");
    let console = format!("http://127.0.0.1:{}", application.port());
    tokio::spawn(application.run_until_stopped());
    let client = reqwest::Client::new();
    let with_schema = support::env_or("BENCH_SCHEMA", 0) == 1;
    let event_type = *EVENT_TYPE.get_or_init(|| match with_schema {
        true => "order.checked",
        false => "order.purchased",
    });
    if with_schema {
        let registered = client
            .post(format!("{console}/api/v1/event-types"))
            .bearer_auth(&token)
            .json(
                &json!({"key": event_type, "group": "Purchase", "description": "Checked",
                          "schema": order_schema(),
                          "example": {"order": {"id": "ord_1", "number": 1, "customer_id": "usr_1",
                                                "currency": "EUR", "total": "1.00",
                                                "items": [{"sku": "A", "quantity": 1}]}}}),
            )
            .send()
            .await
            .expect("event type");
        assert!(registered.status().is_success(), "event type registered");
    }
    let created = client
        .post(format!("{console}/api/v1/webhooks"))
        .bearer_auth(&token)
        .json(&json!({"name": "Orders", "url": "https://receiver.example.com/in", "events": [event_type]}))
        .send()
        .await
        .expect("webhook");
    assert!(created.status().is_success(), "webhook created");

    let baseline = plain_server().await;
    println!(
        "{clients} concurrent clients, {seconds} s per run, 1 matching webhook; {}; {}; release build",
        database.backend,
        match with_schema {
            true => "data checked against a JSON Schema",
            false => "no schema",
        }
    );
    println!(
        "{:<44} {:>10} {:>9} {:>9} {:>9}",
        "run", "events/s", "p50", "p99", "errors"
    );
    let events = format!("{console}/api/v1/events");
    let run = Load {
        client: &client,
        token: &token,
        seconds,
        clients,
    };
    // The steady run goes first, on a small database: after the flat-out run the WAL holds
    // hundreds of thousands of events still to be checkpointed, which is another workload.
    let label = format!("Webhook Console at {STEADY_RATE} events/s");
    run.report(&label, &run.steady(&events, STEADY_RATE).await);
    run.report(
        "Webhook Console, max throughput",
        &run.saturate(&events).await,
    );
    run.report(
        "plain loopback server, max throughput",
        &run.saturate(&baseline).await,
    );

    let db = Db::open(&database_url).await.expect("database");
    let counts = "SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM deliveries)";
    let (stored, deliveries): (i64, i64) = match db.reader() {
        Reader::Sqlite(pool) => sqlx::query_as(counts).fetch_one(pool).await,
        Reader::Postgres(pool) => sqlx::query_as(counts).fetch_one(pool).await,
    }
    .expect("counts");
    let terms = "SELECT COUNT(*) FROM event_search";
    let terms: i64 = match db.reader() {
        Reader::Sqlite(pool) => sqlx::query_scalar(terms).fetch_one(pool).await,
        Reader::Postgres(pool) => sqlx::query_scalar(terms).fetch_one(pool).await,
    }
    .expect("search terms");
    println!("stored: {stored} events, {deliveries} deliveries (every 202 above is one of them)");
    println!("and {terms} of them indexed for the Deliveries search");
    db.close().await;
    database.drop().await;
}

struct Load<'a> {
    client: &'a reqwest::Client,
    token: &'a str,
    seconds: u64,
    clients: usize,
}

struct Outcome {
    accepted: usize,
    errors: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Load<'_> {
    /// Every client publishes back to back.
    async fn saturate(&self, url: &str) -> Outcome {
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let workers: Vec<_> = (0..self.clients)
            .map(|n| {
                let (client, url, token, stop) = (
                    self.client.clone(),
                    url.to_owned(),
                    self.token.to_owned(),
                    stop.clone(),
                );
                tokio::spawn(async move {
                    let mut outcome = (0, 0, Vec::new());
                    let mut i = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        i += 1;
                        publish(
                            &client,
                            &url,
                            &token,
                            n as u64 * 1_000_000 + i,
                            &mut outcome,
                        )
                        .await;
                    }
                    outcome
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(self.seconds)).await;
        stop.store(true, Ordering::Relaxed);
        collect(workers, started).await
    }

    /// A fixed total rate, spread over the clients: the latency a steady load sees.
    async fn steady(&self, url: &str, rate: u64) -> Outcome {
        let per_client = Duration::from_secs_f64(self.clients as f64 / rate as f64);
        let started = Instant::now();
        let deadline = started + Duration::from_secs(self.seconds);
        let workers: Vec<_> = (0..self.clients)
            .map(|n| {
                let (client, url, token) =
                    (self.client.clone(), url.to_owned(), self.token.to_owned());
                tokio::spawn(async move {
                    let mut outcome = (0, 0, Vec::new());
                    let mut ticks = tokio::time::interval(per_client);
                    let mut i = 0u64;
                    while Instant::now() < deadline {
                        ticks.tick().await;
                        i += 1;
                        publish(
                            &client,
                            &url,
                            &token,
                            n as u64 * 1_000_000 + i,
                            &mut outcome,
                        )
                        .await;
                    }
                    outcome
                })
            })
            .collect();
        collect(workers, started).await
    }

    fn report(&self, label: &str, outcome: &Outcome) {
        let mut latencies = outcome.latencies.clone();
        latencies.sort();
        let at = |q: f64| {
            latencies
                .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
        };
        let ms = |d: Option<&Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        println!(
            "{label:<44} {:>10.0} {:>7.2}ms {:>7.2}ms {:>9}",
            outcome.accepted as f64 / outcome.elapsed.as_secs_f64(),
            ms(at(0.50)),
            ms(at(0.99)),
            outcome.errors,
        );
    }
}

async fn publish(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    n: u64,
    (accepted, errors, latencies): &mut (usize, usize, Vec<Duration>),
) {
    let body = json!({
        "event_type": EVENT_TYPE.get().copied().unwrap_or("order.purchased"),
        "data": {"order": {
            "id": format!("ord_{n}"), "number": n, "customer_id": format!("usr_{}", n % 5000),
            "currency": "EUR", "total": "49.90",
            "items": [{"sku": "BOOK-001", "quantity": 1}, {"sku": "PEN-7", "quantity": 3}]
        }},
        "current_context": {"tenant": "acme-eu"}
    });
    let started = Instant::now();
    match client.post(url).bearer_auth(token).json(&body).send().await {
        Ok(response) if response.status() == reqwest::StatusCode::ACCEPTED => {
            let _ = response.bytes().await;
            *accepted += 1;
            latencies.push(started.elapsed());
        }
        _ => *errors += 1,
    }
}

async fn collect(
    workers: Vec<tokio::task::JoinHandle<(usize, usize, Vec<Duration>)>>,
    started: Instant,
) -> Outcome {
    let mut outcome = Outcome {
        accepted: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
    };
    for worker in workers {
        let (accepted, errors, latencies) = worker.await.expect("client task");
        outcome.accepted += accepted;
        outcome.errors += errors;
        outcome.latencies.extend(latencies);
    }
    outcome.elapsed = started.elapsed();
    outcome
}

/// Answers every POST with 202 and a small JSON body, storing nothing.
async fn plain_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let address = listener.local_addr().expect("address");
    let server = HttpServer::new(|| {
        App::new().default_service(web::to(|_: web::Bytes| async {
            HttpResponse::Accepted().json(json!({"id": "evt_0", "deliveries": 1}))
        }))
    })
    .workers(2)
    .listen(listener)
    .expect("listen")
    .run();
    tokio::spawn(server);
    format!("http://{address}/")
}
