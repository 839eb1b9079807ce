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

use std::collections::HashMap;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

/// (webhook path, event number, received at in Unix µs)
type Received = Vec<(String, u64, u128)>;

fn main() {
    if let Ok(port) = std::env::var("BENCH_SINK_PORT") {
        return sink(port.parse().expect("port"));
    }
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(bench());
}

/// The receiving side: records what arrives, answers 204 at once.
fn sink(port: u16) {
    actix_web::rt::System::new().block_on(async move {
        let received: web::Data<Mutex<Received>> = web::Data::new(Mutex::new(Vec::new()));
        HttpServer::new(move || {
            App::new()
                .app_data(received.clone())
                .route("/dump", web::get().to(dump))
                .default_service(web::to(record))
        })
        .workers(1)
        .bind(("127.0.0.1", port))
        .expect("sink binds")
        .run()
        .await
        .expect("sink runs");
    });
}

async fn record(
    request: HttpRequest,
    body: web::Bytes,
    received: web::Data<Mutex<Received>>,
) -> HttpResponse {
    let at = now_micros();
    if let Ok(body) = serde_json::from_slice::<Value>(&body)
        && let Some(n) = body["data"]["n"].as_u64()
    {
        received
            .lock()
            .expect("lock")
            .push((request.path().to_owned(), n, at));
    }
    HttpResponse::NoContent().finish()
}

async fn dump(received: web::Data<Mutex<Received>>) -> HttpResponse {
    let all = std::mem::take(&mut *received.lock().expect("lock"));
    HttpResponse::Ok().json(all)
}

fn now_micros() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_micros()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("address")
        .port()
}

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
    let database = Database::create(dir.path()).await;
    let binary = env!("CARGO_BIN_EXE_webhook-console");
    let token = Command::new(binary)
        .args(["token", "create", "--name", "bench"])
        .env("DATABASE_URL", &database.url)
        .output()
        .expect("token");
    let token = String::from_utf8(token.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();

    let sink_port = free_port();
    let mut sink = Command::new(std::env::current_exe().expect("this binary"))
        .env("BENCH_SINK_PORT", sink_port.to_string())
        .stdout(Stdio::null())
        .spawn()
        .expect("sink starts");
    let servers: Vec<Server> = (0..node_count)
        .map(|_| {
            let port = free_port();
            Server {
                child: Command::new(binary)
                    .env("DATABASE_URL", &database.url)
                    .env(
                        "WEBHOOK_CONSOLE_SECRET_KEY",
                        "the benchmark's key, shared by every node",
                    )
                    .env("WEBHOOK_CONSOLE_LISTEN", format!("127.0.0.1:{port}"))
                    .env("WEBHOOK_CONSOLE_ALLOW_PRIVATE_TARGETS", "127.0.0.1/32")
                    .env("WEBHOOK_CONSOLE_ADMIN_EMAIL", "bench@example.com")
                    .env("WEBHOOK_CONSOLE_ADMIN_PASSWORD", "benchmark password")
                    .env("RUST_LOG", "warn")
                    .stdout(Stdio::null())
                    .spawn()
                    .expect("server starts"),
                url: format!("http://127.0.0.1:{port}"),
            }
        })
        .collect();
    let client = reqwest::Client::new();
    for server in &servers {
        wait_for(&client, &format!("{}/readyz", server.url)).await;
    }
    let server = &servers[0];
    wait_for_sink(&client, sink_port).await;
    for w in 0..webhooks {
        let created = client
            .post(format!("{}/api/v1/webhooks", server.url))
            .bearer_auth(&token)
            .json(&json!({"name": format!("Sink {w}"), "url": format!("http://127.0.0.1:{sink_port}/w/{w}"), "events": ["*"]}))
            .send()
            .await
            .expect("webhook");
        assert!(created.status().is_success(), "webhook created");
    }

    println!(
        "release build on {}; {node_count} node(s), sink and load generator on the same cores; {webhooks} webhooks, every event to each; {seconds} s per run",
        database.backend
    );
    println!(
        "{:<36} {:>12} {:>9} {:>9} {:>9} {:>6} {:>6}",
        "run", "deliveries/s", "p50", "p95", "p99", "lost", "dups"
    );
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
        .map(|server| format!("{} MB", peak_rss_kb(&server.child) / 1024))
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

/// Where the nodes keep their data: a fresh SQLite file, or a fresh database on the
/// PostgreSQL server in DATABASE_URL.
struct Database {
    url: String,
    backend: String,
    /// SQLite's WAL, whose size is reported.
    wal: Option<std::path::PathBuf>,
    /// The PostgreSQL server and the database created on it, dropped afterwards.
    created_on: Option<(String, String)>,
}

impl Database {
    async fn create(dir: &std::path::Path) -> Self {
        let server = std::env::var("DATABASE_URL").unwrap_or_default();
        if !server.starts_with("postgres") {
            return Self {
                url: format!("sqlite://{}", dir.join("bench.db").display()),
                backend: "SQLite".into(),
                wal: Some(dir.join("bench.db-wal")),
                created_on: None,
            };
        }
        use sqlx::Connection;
        let name = format!("webhook_console_bench_{}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(&server)
            .await
            .expect("the PostgreSQL server in DATABASE_URL answers");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("a database for the benchmark");
        let version: String = sqlx::query_scalar("SHOW server_version")
            .fetch_one(&mut admin)
            .await
            .expect("version");
        let mut url = url::Url::parse(&server).expect("DATABASE_URL is a URL");
        url.set_path(&name);
        Self {
            url: url.to_string(),
            backend: format!("PostgreSQL {version}"),
            wal: None,
            created_on: Some((server, name)),
        }
    }

    async fn drop(self) {
        let Some((server, name)) = self.created_on else {
            return;
        };
        use sqlx::Connection;
        if let Ok(mut admin) = sqlx::PgConnection::connect(&server).await {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await;
        }
    }
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

struct Report {
    delivered: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    lost: usize,
    duplicates: usize,
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
        let sent: Arc<Mutex<HashMap<u64, u128>>> = Arc::default();
        let clients = 32;
        let interval = Duration::from_secs_f64(clients as f64 / events_per_second as f64);
        let started = Instant::now();
        let deadline = started + Duration::from_secs(self.seconds);
        let offset = now_micros() as u64;
        let publishers: Vec<_> = (0..clients)
            .map(|c| {
                // Publishers spread over the nodes, as behind a load balancer.
                let server = &self.servers[c % self.servers.len()];
                let (client, url, token, sent) = (
                    self.client.clone(),
                    format!("{}/api/v1/events", server.url),
                    self.token.to_owned(),
                    sent.clone(),
                );
                tokio::spawn(async move {
                    let mut ticks = tokio::time::interval(interval);
                    let mut i = 0u64;
                    while Instant::now() < deadline {
                        ticks.tick().await;
                        let n = offset + i * clients as u64 + c as u64;
                        i += 1;
                        let at = now_micros();
                        let response = client
                            .post(&url)
                            .bearer_auth(&token)
                            .json(&json!({"event_type": "order.purchased", "data": {"n": n}}))
                            .send()
                            .await;
                        if response.is_ok_and(|r| r.status() == reqwest::StatusCode::ACCEPTED) {
                            sent.lock().expect("lock").insert(n, at);
                        }
                    }
                })
            })
            .collect();
        let mut peak_wal = 0;
        while Instant::now() < deadline {
            peak_wal = peak_wal.max(self.wal_size());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        for publisher in publishers {
            publisher.await.expect("publisher");
        }
        let sent = std::mem::take(&mut *sent.lock().expect("lock"));
        let expected = sent.len() * self.webhooks;
        let mut received: Received = Vec::new();
        let settle = Instant::now() + Duration::from_secs(30);
        while Instant::now() < settle {
            received.extend(self.dump().await);
            if received.len() >= expected {
                break;
            }
            peak_wal = peak_wal.max(self.wal_size());
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let last = received.iter().map(|(_, _, at)| *at).max().unwrap_or(0);
        let first_sent = sent.values().min().copied().unwrap_or(0);
        let mut seen = HashMap::new();
        let mut latencies = Vec::new();
        for (path, n, at) in &received {
            *seen.entry((path.clone(), *n)).or_insert(0) += 1;
            if let Some(sent_at) = sent.get(n) {
                latencies.push(Duration::from_micros((at.saturating_sub(*sent_at)) as u64));
            }
        }
        let duplicates = seen.values().filter(|count| **count > 1).count();
        let report = Report {
            delivered: seen.len(),
            elapsed: Duration::from_micros((last.saturating_sub(first_sent)) as u64),
            latencies,
            lost: expected.saturating_sub(seen.len()),
            duplicates,
        };
        (report, peak_wal)
    }

    async fn dump(&self) -> Received {
        self.client
            .get(format!("http://127.0.0.1:{}/dump", self.sink_port))
            .send()
            .await
            .expect("sink answers")
            .json()
            .await
            .expect("sink's list")
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

impl Report {
    fn print(mut self, label: &str) {
        self.latencies.sort();
        let at = |q: f64| {
            self.latencies
                .get(
                    ((self.latencies.len() as f64 * q) as usize)
                        .min(self.latencies.len().saturating_sub(1)),
                )
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        println!(
            "{label:<36} {:>12.0} {:>7.1}ms {:>7.1}ms {:>7.1}ms {:>6} {:>6}",
            self.delivered as f64 / self.elapsed.as_secs_f64().max(0.001),
            at(0.50),
            at(0.95),
            at(0.99),
            self.lost,
            self.duplicates
        );
    }
}

async fn wait_for(client: &reqwest::Client, url: &str) {
    for _ in 0..200 {
        if client
            .get(url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} did not answer");
}

async fn wait_for_sink(client: &reqwest::Client, port: u16) {
    wait_for(client, &format!("http://127.0.0.1:{port}/dump")).await;
}

/// utime + stime of a process, in clock ticks (100 per second on Linux).
fn cpu_ticks(child: &Child) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", child.id())).unwrap_or_default();
    let after_name = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

fn peak_rss_kb(child: &Child) -> u64 {
    std::fs::read_to_string(format!("/proc/{}/status", child.id()))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
