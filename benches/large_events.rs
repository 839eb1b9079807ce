//! Large events, held in bounded memory: publishes `BENCH_EVENTS` (default 800) events of
//! `BENCH_EVENT_KB` (default 200) KiB each to the release build with one webhook
//! delivering them to a local sink, waits until all are delivered and indexed for search,
//! then searches for the first and the last by a value they hold. Prints the server's peak
//! resident memory (target: under 300 MB for 800 events of 200 KiB) and the searches' times.
//!
//! Run: `cargo bench --bench large_events`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod support;

use support::{Database, Server, api_token, create_webhook, dump_sink, free_port, start_sink};

/// Publishers at once: enough to keep the writer busy, as a backfill would.
const PUBLISHERS: usize = 8;

fn main() {
    support::run(bench());
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// An order with `kib` KiB of notes: words a customer would never quote.
fn event(n: usize, kib: usize) -> Value {
    let notes: Vec<String> = (0..kib * 1024 / 16)
        .map(|word| format!("note{n:05}w{word:06}"))
        .collect();
    json!({"event_type": "order.purchased",
           "data": {"id": format!("ord_large_{n}"), "n": n, "notes": notes}})
}

async fn bench() {
    let events = setting("BENCH_EVENTS", 800);
    let kib = setting("BENCH_EVENT_KB", 200);
    let dir = tempfile::tempdir().expect("temp dir");
    let database = Database::create(dir.path(), "large").await;
    let sink_port = free_port();
    let mut sink = start_sink(&[sink_port]);
    let server = Server::start(&database.url);
    let client = reqwest::Client::new();
    support::wait_for(&client, &format!("{}/healthz", server.url)).await;
    let token = api_token(&database.url);
    let sink_url = format!("http://127.0.0.1:{sink_port}/large/");
    create_webhook(&client, &server, &token, "Large", &sink_url, &["*"]).await;

    let started = Instant::now();
    let publishers: Vec<_> = (0..PUBLISHERS)
        .map(|first| {
            let (client, url, token) = (client.clone(), server.url.clone(), token.clone());
            tokio::spawn(async move {
                for n in (first..events).step_by(PUBLISHERS) {
                    let answer = client
                        .post(format!("{url}/api/v1/events"))
                        .bearer_auth(&token)
                        .json(&event(n, kib))
                        .send()
                        .await
                        .expect("publish");
                    assert_eq!(answer.status(), 202, "event {n}");
                }
            })
        })
        .collect();
    for publisher in publishers {
        publisher.await.expect("publisher");
    }
    let published = started.elapsed();

    let mut delivered = 0;
    while delivered < events && started.elapsed() < Duration::from_secs(300) {
        delivered += dump_sink(&client, sink_port).await.len();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The indexer runs twice a second; give it a few passes.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut searches = Vec::new();
    for n in [0, events - 1] {
        let asked = Instant::now();
        let found: Value = client
            .get(format!("{}/api/v1/deliveries?q=ord_large_{n}", server.url))
            .bearer_auth(&token)
            .send()
            .await
            .expect("search")
            .json()
            .await
            .expect("results");
        let hits = found["data"].as_array().map_or(0, Vec::len);
        searches.push(format!(
            "ord_large_{n}: {hits} found in {:?}",
            asked.elapsed()
        ));
    }
    println!(
        "{} · {events} events of {kib} KiB · published in {:.1} s · {delivered} delivered",
        database.backend,
        published.as_secs_f64()
    );
    println!("searches: {}", searches.join(" · "));
    println!("server peak RSS: {} MB", server.peak_rss_mb());
    let _ = sink.kill();
    let _ = sink.wait();
    drop(server);
    database.drop().await;
}
