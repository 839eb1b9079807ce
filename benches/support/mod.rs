//! What the end-to-end benchmarks share: the release binary as its own process on a fresh
//! database, a receiving sink in another, steady publishers, and the figures they print.

#![allow(dead_code)] // Each benchmark uses its own share of these.

use std::collections::HashMap;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

/// (webhook path, event number, received at in Unix µs)
pub type Received = Vec<(String, u64, u128)>;

/// Under this path the sink never answers; under `/slow/` it answers after [`SLOW`].
pub const HANGING: &str = "/hang/";
pub const SLOWLY: &str = "/slow/";
pub const SLOW: Duration = Duration::from_secs(2);

/// Runs the benchmark, or the sink when this process was started as one.
pub fn run(bench: impl std::future::Future<Output = ()>) {
    if sink_if_asked() {
        return;
    }
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(bench);
}

/// Runs the sink instead of the benchmark when this process was started as one.
fn sink_if_asked() -> bool {
    let Ok(ports) = std::env::var("BENCH_SINK_PORTS") else {
        return false;
    };
    let ports: Vec<u16> = ports
        .split(',')
        .map(|port| port.parse().expect("port"))
        .collect();
    actix_web::rt::System::new().block_on(async move {
        let received: web::Data<Mutex<Received>> = web::Data::new(Mutex::new(Vec::new()));
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(received.clone())
                .route("/dump", web::get().to(dump))
                .default_service(web::to(record))
        })
        .workers(1)
        .max_connections(100_000);
        for port in ports {
            server = server.bind(("127.0.0.1", port)).expect("sink binds");
        }
        server.run().await.expect("sink runs");
    });
    true
}

/// This binary again, as a sink on these ports.
pub fn start_sink(ports: &[u16]) -> Child {
    let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
    Command::new(std::env::current_exe().expect("this binary"))
        .env("BENCH_SINK_PORTS", ports.join(","))
        .stdout(Stdio::null())
        .spawn()
        .expect("sink starts")
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
    if request.path().starts_with(HANGING) {
        tokio::time::sleep(Duration::from_secs(24 * 60 * 60)).await;
    } else if request.path().starts_with(SLOWLY) {
        tokio::time::sleep(SLOW).await;
    }
    HttpResponse::NoContent().finish()
}

async fn dump(received: web::Data<Mutex<Received>>) -> HttpResponse {
    let all = std::mem::take(&mut *received.lock().expect("lock"));
    HttpResponse::Ok().json(all)
}

pub fn now_micros() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_micros()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("address")
        .port()
}

/// The release binary serving on a port of its own; killed when dropped.
pub struct Server {
    pub child: Child,
    pub url: String,
}

/// The benchmark's WEBHOOK_CONSOLE_SECRET_KEY, shared by every node.
pub const SECRET_KEY: &str = "the benchmark's key, shared by every node";

impl Server {
    pub fn start(database_url: &str) -> Self {
        let port = free_port();
        Self {
            child: Command::new(env!("CARGO_BIN_EXE_webhook-console"))
                .env("DATABASE_URL", database_url)
                .env("WEBHOOK_CONSOLE_SECRET_KEY", SECRET_KEY)
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
    }

    /// Peak resident memory so far, in MB.
    pub fn peak_rss_mb(&self) -> u64 {
        peak_rss_kb(&self.child) / 1024
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An API token made by the binary's own command.
pub fn api_token(database_url: &str) -> String {
    let token = Command::new(env!("CARGO_BIN_EXE_webhook-console"))
        .args(["token", "create", "--name", "bench"])
        .env("DATABASE_URL", database_url)
        .env("WEBHOOK_CONSOLE_SECRET_KEY", SECRET_KEY)
        .output()
        .expect("token");
    String::from_utf8(token.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

/// Creates a webhook over the API; returns its id.
pub async fn create_webhook(
    client: &reqwest::Client,
    server: &Server,
    token: &str,
    name: &str,
    url: &str,
    events: &[&str],
) -> i64 {
    let created = client
        .post(format!("{}/api/v1/webhooks", server.url))
        .bearer_auth(token)
        .json(&json!({"name": name, "url": url, "events": events}))
        .send()
        .await
        .expect("webhook");
    assert!(created.status().is_success(), "webhook {name} created");
    created.json::<Value>().await.expect("webhook")["id"]
        .as_i64()
        .expect("id")
}

/// Where the nodes keep their data: a fresh SQLite file, or a fresh database on the
/// PostgreSQL server in DATABASE_URL.
pub struct Database {
    pub url: String,
    pub backend: String,
    /// SQLite's WAL, whose size is reported.
    pub wal: Option<std::path::PathBuf>,
    /// The PostgreSQL server and the database created on it, dropped afterwards.
    created_on: Option<(String, String)>,
}

impl Database {
    pub async fn create(dir: &std::path::Path, name: &str) -> Self {
        let server = std::env::var("DATABASE_URL").unwrap_or_default();
        if !server.starts_with("postgres") {
            return Self {
                url: format!("sqlite://{}", dir.join(format!("{name}.db")).display()),
                backend: "SQLite".into(),
                wal: Some(dir.join(format!("{name}.db-wal"))),
                created_on: None,
            };
        }
        use sqlx::Connection;
        let name = format!("webhook_console_bench_{name}_{}", std::process::id());
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

    pub async fn drop(self) {
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

/// Publishes `event_type` at a steady rate from `clients` publishers spread over the
/// servers (as behind a load balancer) until `deadline`. Returns each accepted event's
/// number with when it was sent (Unix µs).
pub fn publish_steadily(
    client: &reqwest::Client,
    servers: &[Server],
    token: &str,
    event_type: &'static str,
    events_per_second: u64,
    deadline: Instant,
) -> tokio::task::JoinHandle<HashMap<u64, u128>> {
    let clients = 32.min(events_per_second.max(1) as usize);
    let interval = Duration::from_secs_f64(clients as f64 / events_per_second.max(1) as f64);
    let offset = now_micros() as u64;
    let sent: Arc<Mutex<HashMap<u64, u128>>> = Arc::default();
    let publishers: Vec<_> = (0..clients)
        .map(|c| {
            let server = &servers[c % servers.len()];
            let (client, url, token, sent) = (
                client.clone(),
                format!("{}/api/v1/events", server.url),
                token.to_owned(),
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
                        .json(&json!({"event_type": event_type, "data": {"n": n}}))
                        .send()
                        .await;
                    if response.is_ok_and(|r| r.status() == reqwest::StatusCode::ACCEPTED) {
                        sent.lock().expect("lock").insert(n, at);
                    }
                }
            })
        })
        .collect();
    tokio::spawn(async move {
        for publisher in publishers {
            publisher.await.expect("publisher");
        }
        std::mem::take(&mut *sent.lock().expect("lock"))
    })
}

/// What the sink got since the last call.
pub async fn dump_sink(client: &reqwest::Client, sink_port: u16) -> Received {
    client
        .get(format!("http://127.0.0.1:{sink_port}/dump"))
        .send()
        .await
        .expect("sink answers")
        .json()
        .await
        .expect("sink's list")
}

/// Waits (at most `settle`) until `expected` of the sent events reached paths starting with
/// `prefix`, and reports on them. `received` holds what was collected already.
pub async fn report(
    client: &reqwest::Client,
    sink_port: u16,
    sent: &HashMap<u64, u128>,
    prefix: &str,
    expected: usize,
    mut received: Received,
    settle: Duration,
) -> Report {
    let counted = |received: &Received| {
        received
            .iter()
            .filter(|(path, n, _)| path.starts_with(prefix) && sent.contains_key(n))
            .count()
    };
    let settle = Instant::now() + settle;
    while counted(&received) < expected && Instant::now() < settle {
        received.extend(dump_sink(client, sink_port).await);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mine: Vec<_> = received
        .iter()
        .filter(|(path, n, _)| path.starts_with(prefix) && sent.contains_key(n))
        .collect();
    let last = mine.iter().map(|(_, _, at)| *at).max().unwrap_or(0);
    let first_sent = sent.values().min().copied().unwrap_or(0);
    let mut seen = HashMap::new();
    let mut latencies = Vec::new();
    for (path, n, at) in &mine {
        *seen.entry((path.clone(), *n)).or_insert(0) += 1;
        latencies.push(Duration::from_micros((at.saturating_sub(sent[n])) as u64));
    }
    Report {
        delivered: seen.len(),
        elapsed: Duration::from_micros((last.saturating_sub(first_sent)) as u64),
        latencies,
        lost: expected.saturating_sub(seen.len()),
        duplicates: seen.values().filter(|count| **count > 1).count(),
    }
}

pub struct Report {
    pub delivered: usize,
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
    pub lost: usize,
    pub duplicates: usize,
}

impl Report {
    pub fn header() {
        println!(
            "{:<44} {:>12} {:>9} {:>9} {:>9} {:>6} {:>6}",
            "run", "deliveries/s", "p50", "p95", "p99", "lost", "dups"
        );
    }

    pub fn print(mut self, label: &str) {
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
            "{label:<44} {:>12.0} {:>7.1}ms {:>7.1}ms {:>7.1}ms {:>6} {:>6}",
            self.delivered as f64 / self.elapsed.as_secs_f64().max(0.001),
            at(0.50),
            at(0.95),
            at(0.99),
            self.lost,
            self.duplicates
        );
    }
}

pub async fn wait_for(client: &reqwest::Client, url: &str) {
    for _ in 0..600 {
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

pub async fn wait_for_sink(client: &reqwest::Client, port: u16) {
    wait_for(client, &format!("http://127.0.0.1:{port}/dump")).await;
}

/// utime + stime of a process, in clock ticks (100 per second on Linux).
pub fn cpu_ticks(child: &Child) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", child.id())).unwrap_or_default();
    stat_cpu_ticks(&stat)
}

/// utime + stime from the text of a `/proc/<pid>/stat`, in clock ticks.
pub fn stat_cpu_ticks(stat: &str) -> u64 {
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

pub fn peak_rss_kb(child: &Child) -> u64 {
    std::fs::read_to_string(format!("/proc/{}/status", child.id()))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
