//! Delivery throughput and publish→received latency, end to end over real HTTP: the release
//! binary as its own process, a fast sink in another, and this process publishing. Beside
//! it, the same sink driven flat out by a plain reqwest client: the machine's ceiling.
//!
//! Run: `cargo bench --bench delivery` (BENCH_SECONDS per run, default 10; BENCH_WEBHOOKS,
//! default 10; BENCH_RATES, events/s, default 100,500,1000). Prints deliveries/s, latency
//! p50/p95/p99, lost and duplicate deliveries, the servers' peak RSS, peak WAL size and idle
//! CPU. On SQLite by default; with `DATABASE_URL=postgres://…` (a server: the bench creates
//! a database of its own there and drops it after) on PostgreSQL, with BENCH_NODES nodes
//! (default 1) sharing it, publishers spread over them as a load balancer would.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;

use support::{
    Database, Report, Server, api_token, cpu_ticks, create_webhook, dump_sink, env_or, free_port,
    publish_steadily, report, start_sink, wait_for, wait_for_sink,
};

fn main() {
    support::run(bench());
}

async fn bench() {
    let seconds: u64 = env_or("BENCH_SECONDS", 10);
    let webhooks: usize = env_or("BENCH_WEBHOOKS", 10);
    let node_count: usize = env_or("BENCH_NODES", 1);
    let rates: Vec<u64> = std::env::var("BENCH_RATES")
        .unwrap_or_else(|_| "100,500,1000".into())
        .split(',')
        .map(|rate| {
            rate.trim()
                .parse()
                .expect("BENCH_RATES: events/s, comma-separated")
        })
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let database = Database::create(dir.path(), "delivery").await;
    let token = api_token(&database.url);

    let sink_port = free_port();
    let mut sink = start_sink(&[sink_port]);
    let servers: Vec<Server> = (0..node_count)
        .map(|_| Server::start(&database.url))
        .collect();
    let client = reqwest::Client::new();
    for server in &servers {
        wait_for(&client, &format!("{}/readyz", server.url)).await;
    }
    wait_for_sink(&client, sink_port).await;
    for w in 0..webhooks {
        let url = format!("http://127.0.0.1:{sink_port}/w/{w}");
        create_webhook(
            &client,
            &servers[0],
            &token,
            &format!("Sink {w}"),
            &url,
            &["*"],
        )
        .await;
    }

    println!(
        "release build on {}; {node_count} node(s), sink and load generator on the same cores; {webhooks} webhooks, every event to each; {seconds} s per run",
        database.backend
    );
    Report::header();
    let run = Run {
        client: &client,
        servers: &servers,
        wal: database.wal.as_deref(),
        token: &token,
        sink_port,
        webhooks,
        seconds,
    };
    let idle_cpu = run.idle_cpu().await;
    let mut peak_wal = 0;
    for events_per_second in rates {
        let label = format!("{events_per_second} events/s × {webhooks} webhooks");
        let (report, wal) = run.at_rate(events_per_second).await;
        peak_wal = peak_wal.max(wal);
        report.print(&label);
    }
    ceiling(&client, sink_port, seconds)
        .await
        .print("plain reqwest client → sink (ceiling)");
    let rss: Vec<String> = servers
        .iter()
        .map(|server| format!("{} MB", server.peak_rss_mb()))
        .collect();
    println!(
        "server peak RSS {} · peak WAL {} MB · idle CPU {:.2} %",
        rss.join(", "),
        peak_wal / (1024 * 1024),
        idle_cpu
    );
    let _ = sink.kill();
    let _ = sink.wait();
    drop(servers);
    database.drop().await;
}

struct Run<'a> {
    client: &'a reqwest::Client,
    servers: &'a [Server],
    wal: Option<&'a std::path::Path>,
    token: &'a str,
    sink_port: u16,
    webhooks: usize,
    seconds: u64,
}

impl Run<'_> {
    /// CPU the idle servers use over 5 s, as a share of one core.
    async fn idle_cpu(&self) -> f64 {
        let ticks = || -> u64 { self.servers.iter().map(|s| cpu_ticks(&s.child)).sum() };
        let before = ticks();
        tokio::time::sleep(Duration::from_secs(5)).await;
        let used = ticks() - before;
        used as f64 / 100.0 / 5.0 * 100.0
    }

    fn wal_size(&self) -> u64 {
        self.wal
            .map_or(0, |wal| std::fs::metadata(wal).map_or(0, |m| m.len()))
    }

    /// Publishes at a steady rate for the run's length, then waits for the stragglers.
    async fn at_rate(&self, events_per_second: u64) -> (Report, u64) {
        let deadline = Instant::now() + Duration::from_secs(self.seconds);
        let publishing = publish_steadily(
            self.client,
            self.servers,
            self.token,
            "order.purchased",
            events_per_second,
            deadline,
        );
        let mut peak_wal = 0;
        let mut received = Vec::new();
        while Instant::now() < deadline {
            peak_wal = peak_wal.max(self.wal_size());
            received.extend(dump_sink(self.client, self.sink_port).await);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let sent = publishing.await.expect("publishers");
        let expected = sent.len() * self.webhooks;
        let report = report(
            self.client,
            self.sink_port,
            &sent,
            "/w/",
            expected,
            received,
            Duration::from_secs(30),
        )
        .await;
        (report, peak_wal.max(self.wal_size()))
    }
}

/// The same sink, posted to flat out by 64 plain reqwest clients.
async fn ceiling(client: &reqwest::Client, sink_port: u16, seconds: u64) -> Report {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..64)
        .map(|c| {
            let client = client.clone();
            let url = format!("http://127.0.0.1:{sink_port}/w/ceiling");
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut i = 0u64;
                while Instant::now() < deadline {
                    let at = Instant::now();
                    i += 1;
                    let body = json!({"data": {"n": c * 1_000_000 + i}}).to_string();
                    if client.post(&url).body(body).send().await.is_ok() {
                        latencies.push(at.elapsed());
                    }
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.expect("worker"));
    }
    let _ = client
        .get(format!("http://127.0.0.1:{sink_port}/dump"))
        .send()
        .await;
    Report {
        delivered: latencies.len(),
        elapsed: started.elapsed(),
        latencies,
        lost: 0,
        duplicates: 0,
    }
}
