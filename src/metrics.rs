//! `GET /metrics` in Prometheus' text format: what ingest and the delivery engine do, and
//! how the queue stands at the moment of the scrape.

use actix_web::{HttpResponse, web};
use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

use crate::clock::Timestamp;
use crate::db::webhooks::{self, Waiting};
use crate::db::{Db, Outage, delivery_queue};

/// Every figure the server keeps, registered once and shared by ingest, the engine and the
/// scrape handler.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    pub events_accepted: IntCounter,
    /// Outcomes of sends whose lease had lapsed and been taken by another claim: dropped.
    pub stale_outcomes: IntCounter,
    /// By `outcome`: `succeeded`, `retrying`, `failed`.
    pub deliveries: IntCounterVec,
    /// By `error_code`, `none` for a success.
    pub attempts: IntCounterVec,
    pub attempt_seconds: Histogram,
    pub in_flight: IntGauge,
    queue_depth: IntGauge,
    oldest_due_seconds: IntGauge,
    webhooks_failing: IntGauge,
    webhooks_paused: IntGauge,
    failing_since: IntGaugeVec,
    next_probe: IntGaugeVec,
    paused_until: IntGaugeVec,
    database_up: IntGauge,
    database_disk_full: IntGauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let registry =
            Registry::new_custom(Some("webhook_console".into()), None).expect("a valid prefix");
        let r = &registry;
        let events_accepted =
            IntCounter::new("events_accepted_total", "Events stored and acknowledged");
        let attempt_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "attempt_duration_seconds",
                "Time from sending to the answer",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0,
            ]),
        );
        let (failing_since, next_probe, paused_until) = per_webhook(r);
        let (database_up, database_disk_full) = database(r);
        Self {
            events_accepted: registered(r, events_accepted),
            stale_outcomes: registered(
                r,
                IntCounter::new(
                    "stale_outcomes_total",
                    "Outcomes of sends made under a lapsed lease another claim took: dropped",
                ),
            ),
            deliveries: counters(
                r,
                "deliveries_total",
                "Delivery attempts by what they meant for the delivery",
                "outcome",
            ),
            attempts: counters(
                r,
                "attempts_total",
                "Attempts by error code (none: delivered)",
                "error_code",
            ),
            attempt_seconds: registered(r, attempt_seconds),
            in_flight: gauge(r, "deliveries_in_flight", "Sends under way"),
            queue_depth: gauge(r, "queue_depth", "Deliveries pending for active webhooks"),
            oldest_due_seconds: gauge(
                r,
                "oldest_due_seconds",
                "How long the oldest due delivery has waited (0 when none is due)",
            ),
            webhooks_failing: gauge(
                r,
                "webhooks_failing",
                "Active webhooks whose receiver keeps failing: deliveries wait for a probe",
            ),
            webhooks_paused: gauge(
                r,
                "webhooks_paused",
                "Active webhooks paused by their receiver's Retry-After",
            ),
            failing_since,
            next_probe,
            paused_until,
            database_up,
            database_disk_full,
            registry,
        }
    }
}

/// Each Failing or paused webhook's times: failing since, next probe, paused until.
fn per_webhook(registry: &Registry) -> (IntGaugeVec, IntGaugeVec, IntGaugeVec) {
    (
        gauges(
            registry,
            "webhook_failing_since_seconds",
            "Since when (Unix seconds) a Failing webhook has failed, with its last failure's code",
            &["webhook_id", "reason"],
        ),
        gauges(
            registry,
            "webhook_next_probe_seconds",
            "When (Unix seconds) a Failing webhook's receiver is next probed",
            &["webhook_id"],
        ),
        gauges(
            registry,
            "webhook_paused_until_seconds",
            "Until when (Unix seconds) a webhook's receiver asked to be sent nothing",
            &["webhook_id"],
        ),
    )
}

/// Whether the database answers, and whether its disk is full.
fn database(registry: &Registry) -> (IntGauge, IntGauge) {
    (
        gauge(
            registry,
            "database_up",
            "1 while the database answers; 0 while it is unreachable (writes are refused)",
        ),
        gauge(
            registry,
            "database_disk_full",
            "1 while writes fail for want of disk space (new events are refused)",
        ),
    )
}

/// A metric, registered: the names and help texts are fixed, so neither step can fail.
fn registered<M: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    metric: prometheus::Result<M>,
) -> M {
    let metric = metric.expect("valid metric");
    registry
        .register(Box::new(metric.clone()))
        .expect("each metric is registered once");
    metric
}

fn gauge(registry: &Registry, name: &str, help: &str) -> IntGauge {
    registered(registry, IntGauge::new(name, help))
}

fn gauges(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    registered(registry, IntGaugeVec::new(Opts::new(name, help), labels))
}

fn counters(registry: &Registry, name: &str, help: &str, label: &str) -> IntCounterVec {
    registered(
        registry,
        IntCounterVec::new(Opts::new(name, help), &[label]),
    )
}

impl Metrics {
    /// Failing and paused webhooks as they are now; those recovered since the last scrape
    /// drop out.
    fn show_waiting(&self, waiting: &[Waiting]) {
        let seconds = |at: Timestamp| at.unix_ms() / 1000;
        self.failing_since.reset();
        self.next_probe.reset();
        self.paused_until.reset();
        let failing = waiting.iter().filter(|w| w.failing.is_some()).count();
        let paused = waiting.iter().filter(|w| w.paused_until.is_some()).count();
        self.webhooks_failing.set(failing as i64);
        self.webhooks_paused.set(paused as i64);
        for webhook in waiting {
            let id = webhook.id.to_string();
            if let Some(failing) = &webhook.failing {
                self.failing_since
                    .with_label_values(&[id.as_str(), failing.code.key()])
                    .set(seconds(failing.since));
                self.next_probe
                    .with_label_values(&[id.as_str()])
                    .set(seconds(failing.next_probe_at));
            }
            if let Some(until) = webhook.paused_until {
                self.paused_until
                    .with_label_values(&[id.as_str()])
                    .set(seconds(until));
            }
        }
    }
}

/// The scrape: counters as they are, the queue as it is now.
pub async fn scrape(db: web::Data<Db>, metrics: web::Data<Metrics>) -> HttpResponse {
    let now = db.now();
    // The queue's figures need the database; while it is unreachable they keep their last
    // values rather than making the scrape wait.
    if !matches!(db.outage(), Some(Outage::Unreachable(_))) {
        read_queue(&db, &metrics, now).await;
    }
    // As of the end of the scrape: a read that just failed has told the watch.
    let outage = db.outage();
    metrics
        .database_up
        .set(i64::from(!matches!(outage, Some(Outage::Unreachable(_)))));
    metrics
        .database_disk_full
        .set(i64::from(outage == Some(Outage::DiskFull)));
    let mut text = Vec::new();
    if let Err(error) = TextEncoder::new().encode(&metrics.registry.gather(), &mut text) {
        tracing::error!("encoding metrics failed: {error}");
        return HttpResponse::InternalServerError().finish();
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(text)
}

async fn read_queue(db: &Db, metrics: &Metrics, now: Timestamp) {
    match delivery_queue::depth(db.reader(), now).await {
        Ok(depth) => {
            metrics.queue_depth.set(depth.pending);
            let waited = depth.oldest_due.map_or(0, |due| due.until(now).as_secs());
            metrics
                .oldest_due_seconds
                .set(i64::try_from(waited).unwrap_or(i64::MAX));
        }
        Err(error) => {
            db.saw(&error);
            tracing::warn!("reading the queue for metrics failed: {error}");
        }
    }
    match webhooks::waiting(db.reader(), now).await {
        Ok(waiting) => metrics.show_waiting(&waiting),
        Err(error) => tracing::warn!("reading failing webhooks for metrics failed: {error}"),
    }
}
