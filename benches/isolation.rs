//! Isolation, end to end: healthy webhooks beside broken ones, each run on a fresh
//! database with the release binary in its default settings (15 s timeout) as its own
//! process, a sink in another (healthy receivers on one port, broken ones on another), and
//! this process publishing.
//!
//! Runs (BENCH_SECONDS each, default 60; BENCH_RATE deliveries/s to the healthy webhooks,
//! default 1000; BENCH_BACKLOG, default 1,000,000):
//! - 40 webhooks on a receiver that never answers, sent 400 deliveries/s, beside 10 healthy;
//! - the same with a receiver that answers in 2 s;
//! - a backlog of BENCH_BACKLOG pending deliveries to a dead webhook (nothing listens on its
//!   port), stored before the server starts, beside 10 healthy;
//! - 200 webhooks whose paths hang on the healthy webhooks' own host (one destination, as on
//!   an integration platform), sent 10 events/s each.
//!
//! BENCH_RUNS picks some of them: `hanging,slow,backlog,shared`.
//!
//! Prints the healthy webhooks' deliveries/s, latency from publish to receipt, lost (not
//! received within 30 s after publishing stopped) and duplicates; what the broken receivers
//! were sent; how many webhooks ended Failing; and the server's peak RSS. SQLite by default;
//! `DATABASE_URL=postgres://…` for PostgreSQL (as in the delivery benchmark).

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;

use support::{
    Database, HANGING, Report, SECRET_KEY, SLOWLY, Server, api_token, create_webhook, dump_sink,
    env_or, free_port, publish_steadily, report, start_sink, wait_for, wait_for_sink,
};
use webhook_console::config::Secret;
use webhook_console::db::events::{self, NewEvent, Publisher};
use webhook_console::db::{Db, event_types, webhooks};
use webhook_console::domain::{AccountKey, MaxWebhooksPerAccount, WebhookInput};
use webhook_console::secret_key::MasterKey;

const HEALTHY_WEBHOOKS: usize = 10;
const BROKEN_WEBHOOKS: usize = 40;
/// Hanging webhooks on the healthy webhooks' host, in the shared run.
const SHARING_WEBHOOKS: usize = 200;
/// Events per second each broken webhook is sent (all 40 subscribe to the same type).
const BROKEN_EVENTS_PER_SECOND: u64 = 10;

#[derive(Clone, Copy)]
enum Broken {
    Hanging,
    Slow,
    Backlog(usize),
    SharedHost,
}

impl Broken {
    fn name(self) -> &'static str {
        match self {
            Self::Hanging => "hanging",
            Self::Slow => "slow",
            Self::Backlog(_) => "backlog",
            Self::SharedHost => "shared",
        }
    }

    /// How many broken webhooks the run has.
    fn webhooks(self) -> usize {
        match self {
            Self::SharedHost => SHARING_WEBHOOKS,
            _ => BROKEN_WEBHOOKS,
        }
    }
}

fn main() {
    support::run(bench());
}

async fn bench() {
    let seconds: u64 = env_or("BENCH_SECONDS", 60);
    let rate: u64 = env_or("BENCH_RATE", 1000);
    let backlog: usize = env_or("BENCH_BACKLOG", 1_000_000);
    let backend = if std::env::var("DATABASE_URL").is_ok_and(|url| url.starts_with("postgres")) {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "release build on {backend}, default flags; {HEALTHY_WEBHOOKS} healthy webhooks at {rate} deliveries/s in all; {seconds} s per run"
    );
    Report::header();
    let runs = std::env::var("BENCH_RUNS").unwrap_or_else(|_| "hanging,slow,backlog,shared".into());
    let all = [
        Broken::Hanging,
        Broken::Slow,
        Broken::Backlog(backlog),
        Broken::SharedHost,
    ];
    for broken in all {
        if runs.split(',').any(|run| run.trim() == broken.name()) {
            run(broken, seconds, rate).await;
        }
    }
}

async fn run(broken: Broken, seconds: u64, rate: u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = Database::create(dir.path(), "isolation").await;
    let (healthy_port, broken_port) = (free_port(), free_port());
    if let Broken::Backlog(count) = broken {
        let started = Instant::now();
        seed_backlog(&database.url, count, free_port()).await;
        println!(
            "  (stored {count} pending deliveries to a dead webhook in {:.0} s)",
            started.elapsed().as_secs_f64()
        );
    }
    let token = api_token(&database.url);
    let mut sink = start_sink(&[healthy_port, broken_port]);
    let server = Server::start(&database.url);
    let client = reqwest::Client::new();
    wait_for(&client, &format!("{}/readyz", server.url)).await;
    wait_for_sink(&client, healthy_port).await;
    for w in 0..HEALTHY_WEBHOOKS {
        let url = format!("http://127.0.0.1:{healthy_port}/w/{w}");
        create_webhook(
            &client,
            &server,
            &token,
            &format!("Healthy {w}"),
            &url,
            &["order.purchased"],
        )
        .await;
    }
    let broken_path = match broken {
        Broken::Hanging | Broken::SharedHost => Some(HANGING),
        Broken::Slow => Some(SLOWLY),
        Broken::Backlog(_) => None,
    };
    let broken_port = match broken {
        Broken::SharedHost => healthy_port,
        _ => broken_port,
    };
    if let Some(path) = broken_path {
        for w in 0..broken.webhooks() {
            let url = format!("http://127.0.0.1:{broken_port}{path}{w}");
            create_webhook(
                &client,
                &server,
                &token,
                &format!("Broken {w}"),
                &url,
                &["order.refunded"],
            )
            .await;
        }
    }

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let servers = std::slice::from_ref(&server);
    let healthy = publish_steadily(
        &client,
        servers,
        &token,
        "order.purchased",
        (rate / HEALTHY_WEBHOOKS as u64).max(1),
        deadline,
    );
    let to_broken = broken_path.map(|_| {
        publish_steadily(
            &client,
            servers,
            &token,
            "order.refunded",
            BROKEN_EVENTS_PER_SECOND,
            deadline,
        )
    });
    let mut received = Vec::new();
    while Instant::now() < deadline {
        received.extend(dump_sink(&client, healthy_port).await);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let sent = healthy.await.expect("publishers");
    let broken_sent = match to_broken {
        Some(publishing) => publishing.await.expect("publishers").len() * broken.webhooks(),
        None => 0,
    };
    let tried_broken = received
        .iter()
        .filter(|(path, _, _)| broken_path.is_some_and(|prefix| path.starts_with(prefix)))
        .count();
    let report = report(
        &client,
        healthy_port,
        &sent,
        "/w/",
        sent.len() * HEALTHY_WEBHOOKS,
        received,
        Duration::from_secs(30),
    )
    .await;
    let label = match broken {
        Broken::Hanging => "healthy, beside 40 hanging webhooks".to_owned(),
        Broken::Slow => "healthy, beside 40 webhooks answering in 2 s".to_owned(),
        Broken::Backlog(count) => format!("healthy, beside {count} pending to a dead one"),
        Broken::SharedHost => {
            format!("healthy, beside {SHARING_WEBHOOKS} hanging webhooks on their host")
        }
    };
    report.print(&label);
    let failing = failing_webhooks(&client, &server, &token).await;
    match broken {
        Broken::Backlog(_) => println!(
            "  the dead webhook: Failing {}; server peak RSS {} MB",
            failing > 0,
            server.peak_rss_mb()
        ),
        _ => println!(
            "  broken webhooks: {broken_sent} deliveries published, {tried_broken} sends reached them, {failing} of {} Failing; server peak RSS {} MB",
            broken.webhooks(),
            server.peak_rss_mb()
        ),
    }
    let _ = sink.kill();
    let _ = sink.wait();
    drop(server);
    database.drop().await;
}

async fn failing_webhooks(client: &reqwest::Client, server: &Server, token: &str) -> usize {
    let mut failing = 0;
    for page in 1..=10 {
        let listed: Value = client
            .get(format!("{}/api/v1/webhooks?page={page}", server.url))
            .bearer_auth(token)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("list");
        let Some(data) = listed["data"].as_array().filter(|data| !data.is_empty()) else {
            break;
        };
        failing += data.iter().filter(|w| w["health"] == "failing").count();
    }
    failing
}

/// A webhook whose port nothing listens on, with `count` deliveries pending to it, stored
/// through the storage layer before the server starts.
async fn seed_backlog(database_url: &str, count: usize, dead_port: u16) {
    let db = Db::open(database_url).await.expect("database");
    let catalog = event_types::keys(db.reader()).await.expect("catalog");
    let secret: Secret = SECRET_KEY.parse().expect("secret");
    let secrets = MasterKey::load(Some(&secret), database_url)
        .expect("key")
        .secret_box();
    let draft = WebhookInput {
        name: "Dead receiver".into(),
        url: format!("http://127.0.0.1:{dead_port}/dead"),
        events: vec!["order.refunded".into()],
        notification_type: "REST".into(),
        ..WebhookInput::default()
    }
    .parse(&catalog)
    .expect("valid webhook");
    let now = db.now();
    let mut tx = db.begin_write().await.expect("transaction");
    webhooks::create(
        &mut tx,
        &secrets,
        &AccountKey::default_account(),
        MaxWebhooksPerAccount::default(),
        &draft,
        now,
    )
    .await
    .expect("webhook");
    tx.commit().await.expect("commit");
    let event = |n: usize| NewEvent {
        account: AccountKey::default_account(),
        event_type: "order.refunded".into(),
        event_time: now,
        current_context: "{}".into(),
        data: format!(r#"{{"n":{n},"order":{{"id":"ord_{n}"}}}}"#),
        publisher: Publisher::Token(0),
        idempotency: None,
        search_terms: Vec::new(),
    };
    for start in (0..count).step_by(10_000) {
        let batch: Vec<NewEvent> = (start..(start + 10_000).min(count)).map(event).collect();
        let refs: Vec<&NewEvent> = batch.iter().collect();
        let mut tx = db.begin_batch().await.expect("transaction");
        // Leased until now: due at once, as if a process had died holding them.
        events::publish_batch(&mut tx, &refs, now, now)
            .await
            .expect("publish");
        tx.commit().await.expect("commit");
    }
    db.close().await;
}
