//! Whether nodes add throughput: 1, 2 and 3 nodes, each confined to the same CPU share by a
//! cgroup CPU quota (so that a second node brings CPU of its own instead of fighting the
//! first for the same two cores), with the database server, the sink and this load
//! generator on what is left. For each count: the most deliveries/s the nodes sustain
//! (offered 15 % more than that many nodes take, by a first short probe of one node), the
//! node CPU seconds per 1,000 deliveries, where the machine's CPU went, and the
//! publish→received p50/p99 at 70 % of that capacity. Writes a chart (SVG).
//!
//! Run as root (cgroups): `scripts/with-postgres --durable bash -c 'DATABASE_URL=$TEST_POSTGRES_URL
//! cargo bench --bench scaling'`; without DATABASE_URL it measures one SQLite node the same
//! way, for the cost per delivery beside PostgreSQL. BENCH_NODE_CPU (cores per node, default
//! 0.15: three nodes then leave the database server the CPU it needs on two cores),
//! BENCH_NODES (default 1,2,3; SQLite: 1), BENCH_SECONDS (default 10), BENCH_WEBHOOKS
//! (default 10), BENCH_PROBE_OFFERED (events/s for the probe, default 1000), BENCH_CHART
//! (default benches/scaling-<backend>.svg).

mod support;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use support::{
    Database, Received, Server, api_token, cpu_ticks, create_webhook, dump_sink, env_or, free_port,
    now_micros, publish_steadily, report, start_sink, stat_cpu_ticks, wait_for, wait_for_sink,
};

/// Left out of the throughput window: the nodes' first second of a run.
const WARM_UP: Duration = Duration::from_secs(1);
/// The latency run's load, as a share of the capacity just measured.
const LATENCY_LOAD: f64 = 0.7;
/// The capacity runs' load, against what the one-node probe took per node.
const OVERLOAD: f64 = 1.15;
const PROBE_SECONDS: u64 = 5;

fn main() {
    support::run(bench());
}

struct Figures {
    nodes: usize,
    deliveries_per_second: f64,
    node_cpu_per_thousand: f64,
    node_cpu_share: f64,
    /// Cores in use over the whole machine, and by the PostgreSQL server.
    machine_cores: f64,
    postgres_cores: f64,
    p50_ms: f64,
    p99_ms: f64,
}

async fn bench() {
    let cores_per_node: f64 = env_or("BENCH_NODE_CPU", 0.15);
    let seconds: u64 = env_or("BENCH_SECONDS", 10);
    let webhooks: usize = env_or("BENCH_WEBHOOKS", 10);
    let probe_offered: u64 = env_or("BENCH_PROBE_OFFERED", 1000);
    let on_postgres = std::env::var("DATABASE_URL").is_ok_and(|url| url.starts_with("postgres"));
    let default_counts = if on_postgres { "1,2,3" } else { "1" };
    let counts: Vec<usize> = std::env::var("BENCH_NODES")
        .unwrap_or_else(|_| default_counts.into())
        .split(',')
        .map(|count| {
            count
                .trim()
                .parse()
                .expect("BENCH_NODES: counts, comma-separated")
        })
        .collect();
    let chart = PathBuf::from(std::env::var("BENCH_CHART").unwrap_or_else(|_| {
        format!(
            "benches/scaling-{}.svg",
            if on_postgres { "postgres" } else { "sqlite" }
        )
    }));
    if let Err(why) = CpuShare::check() {
        println!(
            "skipped: the scaling benchmark confines each node with a cgroup CPU quota: {why}"
        );
        return;
    }
    let client = reqwest::Client::new();
    let sink_port = free_port();
    let mut sink = start_sink(&[sink_port]);
    wait_for_sink(&client, sink_port).await;
    let setup = Setup {
        client: &client,
        sink_port,
        webhooks,
        cores_per_node,
    };
    // One node's capacity, roughly: offered far more than it takes, briefly. The runs then
    // offer each count a little more than that many such nodes take, so that the figure is
    // what they sustain, not what they do while drowning in a backlog.
    let probe = setup.cluster(1).await;
    let backend = probe.database.backend.clone();
    let one_node = probe.saturate(probe_offered, PROBE_SECONDS).await;
    probe.stop().await;
    let per_node_events = one_node.deliveries_per_second / webhooks as f64;
    let mut figures = Vec::new();
    for nodes in counts {
        let cluster = setup.cluster(nodes).await;
        let offered = (per_node_events * nodes as f64 * OVERLOAD) as u64;
        let saturated = cluster.saturate(offered, seconds).await;
        cluster.stop().await;
        // Latency below capacity, on a fresh cluster with nothing left over.
        let cluster = setup.cluster(nodes).await;
        let rate =
            ((saturated.deliveries_per_second * LATENCY_LOAD) / webhooks as f64).max(1.0) as u64;
        let (p50_ms, p99_ms) = cluster.latency(rate, seconds).await;
        // Everything of this run was delivered: the database holds just these.
        let delivered = rate * seconds * webhooks as u64;
        if let Some(bytes) = cluster.database_bytes().await {
            let grown = bytes.saturating_sub(cluster.baseline_bytes);
            println!(
                "{nodes} node(s): the database grew {:.0} MB per million deliveries ({delivered} stored)",
                grown as f64 / delivered.max(1) as f64
            );
        }
        cluster.stop().await;
        figures.push(Figures {
            nodes,
            p50_ms,
            p99_ms,
            ..saturated
        });
    }
    let _ = sink.kill();
    let _ = sink.wait();
    print_table(&backend, cores_per_node, webhooks, seconds, &figures);
    write_chart(&chart, &backend, cores_per_node, &figures);
    println!("chart: {}", chart.display());
}

struct Setup<'a> {
    client: &'a reqwest::Client,
    sink_port: u16,
    webhooks: usize,
    cores_per_node: f64,
}

struct Cluster<'a> {
    setup: &'a Setup<'a>,
    database: Database,
    servers: Vec<Server>,
    shares: Vec<CpuShare>,
    token: String,
    /// The database's size before the run: the schema and the webhooks.
    baseline_bytes: u64,
    _dir: tempfile::TempDir,
}

impl Setup<'_> {
    /// `nodes` confined nodes on a fresh database, with the webhooks to the sink.
    async fn cluster(&self, nodes: usize) -> Cluster<'_> {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = Database::create(dir.path(), &format!("scaling_{nodes}")).await;
        let token = api_token(&database.url);
        let mut servers = Vec::new();
        let mut shares = Vec::new();
        for n in 0..nodes {
            let server = Server::start(&database.url);
            let share = CpuShare::create(&format!("node-{n}"), self.cores_per_node)
                .expect("a cgroup for the node");
            share.add(server.child.id());
            servers.push(server);
            shares.push(share);
        }
        for server in &servers {
            wait_for(self.client, &format!("{}/readyz", server.url)).await;
        }
        for w in 0..self.webhooks {
            let url = format!("http://127.0.0.1:{}/w/{w}", self.sink_port);
            create_webhook(
                self.client,
                &servers[0],
                &token,
                &format!("Sink {w}"),
                &url,
                &["*"],
            )
            .await;
        }
        // Nothing left from an earlier run.
        dump_sink(self.client, self.sink_port).await;
        let mut cluster = Cluster {
            setup: self,
            database,
            servers,
            shares,
            token,
            baseline_bytes: 0,
            _dir: dir,
        };
        cluster.baseline_bytes = cluster.database_bytes().await.unwrap_or(0);
        cluster
    }
}

impl Cluster<'_> {
    fn node_ticks(&self) -> u64 {
        self.servers
            .iter()
            .map(|server| cpu_ticks(&server.child))
            .sum()
    }

    /// Deliveries/s received after the warm-up, node CPU seconds per 1,000 of them, the
    /// nodes' CPU as a share of their quota, and where the rest of the machine's CPU went.
    async fn saturate(&self, events_per_second: u64, seconds: u64) -> Figures {
        let started = Instant::now();
        let deadline = started + Duration::from_secs(seconds);
        let publishing = publish_steadily(
            self.setup.client,
            &self.servers,
            &self.token,
            "order.purchased",
            events_per_second,
            deadline,
        );
        tokio::time::sleep(WARM_UP).await;
        dump_sink(self.setup.client, self.setup.sink_port).await;
        let window_start = now_micros();
        let ticks_before = self.node_ticks();
        let machine_before = machine_busy_ticks();
        let postgres_before = postgres_ticks();
        let mut received: Received = Vec::new();
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
            received.extend(dump_sink(self.setup.client, self.setup.sink_port).await);
        }
        let window = Duration::from_micros((now_micros() - window_start) as u64).as_secs_f64();
        let ticks = self.node_ticks() - ticks_before;
        let machine = machine_busy_ticks() - machine_before;
        let postgres = postgres_ticks().saturating_sub(postgres_before);
        let _ = publishing.await;
        let delivered = received.len() as f64;
        let cpu_seconds = ticks as f64 / TICKS_PER_SECOND;
        let quota_seconds = window * self.setup.cores_per_node * self.servers.len() as f64;
        Figures {
            nodes: self.servers.len(),
            deliveries_per_second: delivered / window,
            node_cpu_per_thousand: cpu_seconds / delivered.max(1.0) * 1000.0,
            node_cpu_share: cpu_seconds / quota_seconds,
            machine_cores: machine as f64 / TICKS_PER_SECOND / window,
            postgres_cores: postgres as f64 / TICKS_PER_SECOND / window,
            p50_ms: 0.0,
            p99_ms: 0.0,
        }
    }

    /// p50 and p99 from publish to receipt, in ms, at a steady rate.
    async fn latency(&self, events_per_second: u64, seconds: u64) -> (f64, f64) {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let publishing = publish_steadily(
            self.setup.client,
            &self.servers,
            &self.token,
            "order.purchased",
            events_per_second,
            deadline,
        );
        let mut received = Vec::new();
        while Instant::now() < deadline {
            received.extend(dump_sink(self.setup.client, self.setup.sink_port).await);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let sent = publishing.await.expect("publishers");
        let expected = sent.len() * self.setup.webhooks;
        let mut report = report(
            self.setup.client,
            self.setup.sink_port,
            &sent,
            "/w/",
            expected,
            received,
            Duration::from_secs(30),
        )
        .await;
        report.latencies.sort();
        let at = |q: f64| {
            report
                .latencies
                .get(
                    ((report.latencies.len() as f64 * q) as usize)
                        .min(report.latencies.len().saturating_sub(1)),
                )
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        (at(0.50), at(0.99))
    }

    /// The database's size on disk: SQLite's file (its WAL is copied into it every second
    /// and then reused), or PostgreSQL's database.
    async fn database_bytes(&self) -> Option<u64> {
        if let Some(wal) = &self.database.wal {
            return std::fs::metadata(wal.with_extension("db"))
                .map(|m| m.len())
                .ok();
        }
        use sqlx::Connection;
        let mut connection = sqlx::PgConnection::connect(&self.database.url).await.ok()?;
        let bytes: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
            .fetch_one(&mut connection)
            .await
            .ok()?;
        u64::try_from(bytes).ok()
    }

    async fn stop(self) {
        drop(self.servers);
        drop(self.shares);
        // What the saturated run left unsent goes with its database.
        dump_sink(self.setup.client, self.setup.sink_port).await;
        self.database.drop().await;
    }
}

/// Linux's clock ticks per second, in which /proc reports CPU time.
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU time the whole machine spent busy (not idle, not waiting for I/O), in ticks.
fn machine_busy_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|field| field.parse().ok())
        .collect();
    let total: u64 = fields.iter().take(8).sum();
    let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    total - idle
}

/// CPU time of every running PostgreSQL server process, in ticks.
fn postgres_ticks() -> u64 {
    let Ok(processes) = std::fs::read_dir("/proc") else {
        return 0;
    };
    processes
        .filter_map(Result::ok)
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("stat")).ok())
        .filter(|stat| stat.contains("(postgres)"))
        .map(|stat| stat_cpu_ticks(&stat))
        .sum()
}

fn print_table(backend: &str, cores: f64, webhooks: usize, seconds: u64, figures: &[Figures]) {
    println!(
        "release build on {backend}; each node confined to {cores} of a core (cgroup CPU quota); \
         database server, sink and load generator share the rest of the machine; \
         {webhooks} webhooks, every event to each; {seconds} s per run"
    );
    println!(
        "{:>5} {:>13} {:>8} {:>22} {:>13} {:>13} {:>13} {:>9} {:>9}",
        "nodes",
        "deliveries/s",
        "× one",
        "node CPU s/1,000 dlv",
        "of CPU quota",
        "machine cores",
        "PostgreSQL",
        "p50",
        "p99"
    );
    let one = figures.first().map_or(1.0, |f| f.deliveries_per_second);
    for f in figures {
        println!(
            "{:>5} {:>13.0} {:>7.2}× {:>22.3} {:>12.0}% {:>13.2} {:>13.2} {:>7.1}ms {:>7.1}ms",
            f.nodes,
            f.deliveries_per_second,
            f.deliveries_per_second / one,
            f.node_cpu_per_thousand,
            f.node_cpu_share * 100.0,
            f.machine_cores,
            f.postgres_cores,
            f.p50_ms,
            f.p99_ms
        );
    }
}

/// Bars of deliveries/s per node count beside the line of perfect scaling.
fn write_chart(path: &PathBuf, backend: &str, cores: f64, figures: &[Figures]) {
    let (width, height, left, bottom, top) = (560.0, 320.0, 70.0, 270.0, 40.0);
    // "PostgreSQL 15.18 (Debian …)" → "PostgreSQL 15.18": the title fits the chart.
    let backend = backend.split(" (").next().unwrap_or(backend);
    let one = figures.first().map_or(1.0, |f| f.deliveries_per_second);
    let highest = figures
        .iter()
        .map(|f| f.deliveries_per_second.max(one * f.nodes as f64))
        .fold(1.0, f64::max);
    // Gridlines at round numbers: 1, 2 or 5 times a power of ten.
    let magnitude = 10f64.powf((highest / 4.0).log10().floor());
    let tick = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|step| step * magnitude)
        .find(|step| step * 4.0 >= highest)
        .unwrap_or(magnitude * 10.0);
    let most = tick * 4.0 * 1.08;
    let y = |value: f64| bottom - (value / most) * (bottom - top);
    let slot = (width - left - 20.0) / figures.len().max(1) as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="system-ui, sans-serif" font-size="12">
<title>Deliveries per second by node count ({backend}, {cores} core per node)</title>
<rect width="100%" height="100%" fill="#fff"/>
<text x="{left}" y="22" font-size="13" font-weight="600">{backend}: deliveries/s by nodes of {cores} core each</text>
<line x1="{left}" y1="{bottom}" x2="{}" y2="{bottom}" stroke="#444"/>
<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#444"/>
"##,
        width - 20.0
    );
    for step in 0..=4 {
        let value = tick * f64::from(step);
        let _ = writeln!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="end" fill="#444">{:.0}</text><line x1="{left}" y1="{1}" x2="{}" y2="{1}" stroke="#eee"/>"##,
            left - 6.0,
            y(value),
            value,
            width - 20.0
        );
    }
    let mut ideal = Vec::new();
    for (i, f) in figures.iter().enumerate() {
        let x = left + slot * i as f64 + slot * 0.2;
        let bar = slot * 0.6;
        let _ = writeln!(
            svg,
            r##"<rect x="{x:.1}" y="{:.1}" width="{bar:.1}" height="{:.1}" fill="#2f6fde"/><text x="{:.1}" y="{:.1}" text-anchor="middle">{:.0}/s ({:.2}×)</text><text x="{:.1}" y="{:.1}" text-anchor="middle">{} node{}</text>"##,
            y(f.deliveries_per_second),
            bottom - y(f.deliveries_per_second),
            x + bar / 2.0,
            y(f.deliveries_per_second) - 6.0,
            f.deliveries_per_second,
            f.deliveries_per_second / one,
            x + bar / 2.0,
            bottom + 18.0,
            f.nodes,
            if f.nodes == 1 { "" } else { "s" }
        );
        ideal.push(format!(
            "{:.1},{:.1}",
            x + bar / 2.0,
            y(one * f.nodes as f64)
        ));
    }
    let _ = writeln!(
        svg,
        r##"<polyline points="{}" fill="none" stroke="#d9480f" stroke-dasharray="6 4" stroke-width="2"/><text x="{left}" y="{}" fill="#d9480f">dashed: one node's rate × nodes</text>"##,
        ideal.join(" "),
        height - 8.0
    );
    svg.push_str("</svg>\n");
    std::fs::write(path, svg).expect("the chart is written");
}

/// A cgroup with a CPU quota: the processes in it get at most that many cores' time.
struct CpuShare {
    dir: PathBuf,
}

/// cgroup v1's cpu controller, or the v2 hierarchy when it offers `cpu`.
const CGROUP_V1_CPU: &str = "/sys/fs/cgroup/cpu";
const CGROUP_V2: &str = "/sys/fs/cgroup";
const PERIOD_US: u64 = 100_000;

impl CpuShare {
    fn check() -> Result<(), String> {
        let probe = Self::create("probe", 1.0)?;
        drop(probe);
        Ok(())
    }

    fn create(name: &str, cores: f64) -> Result<Self, String> {
        let quota = (cores * PERIOD_US as f64) as u64;
        let name = format!("webhook-console-bench-{name}");
        let v2 = std::fs::read_to_string(format!("{CGROUP_V2}/cgroup.controllers"))
            .is_ok_and(|controllers| controllers.split_whitespace().any(|c| c == "cpu"));
        let (dir, file, value) = if v2 {
            let _ = std::fs::write(format!("{CGROUP_V2}/cgroup.subtree_control"), "+cpu");
            (
                PathBuf::from(CGROUP_V2).join(&name),
                "cpu.max",
                format!("{quota} {PERIOD_US}"),
            )
        } else {
            (
                PathBuf::from(CGROUP_V1_CPU).join(&name),
                "cpu.cfs_quota_us",
                quota.to_string(),
            )
        };
        if !dir.exists() {
            std::fs::create_dir(&dir)
                .map_err(|e| format!("{}: {e} (run as root)", dir.display()))?;
        }
        std::fs::write(dir.join(file), value).map_err(|e| format!("{file}: {e}"))?;
        Ok(Self { dir })
    }

    fn add(&self, pid: u32) {
        std::fs::write(self.dir.join("cgroup.procs"), pid.to_string())
            .expect("the node joins its cgroup");
    }
}

impl Drop for CpuShare {
    fn drop(&mut self) {
        // Emptied once its processes are gone.
        for _ in 0..50 {
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
