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
        let metrics = Self {
            events_accepted: IntCounter::new(
                "events_accepted_total",
                "Events stored and acknowledged",
            )
            .expect("valid metric"),
            deliveries: IntCounterVec::new(
                Opts::new(
                    "deliveries_total",
                    "Delivery attempts by what they meant for the delivery",
                ),
                &["outcome"],
            )
            .expect("valid metric"),
            attempts: IntCounterVec::new(
                Opts::new("attempts_total", "Attempts by error code (none: delivered)"),
                &["error_code"],
            )
            .expect("valid metric"),
            attempt_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    "attempt_duration_seconds",
                    "Time from sending to the answer",
                )
                .buckets(vec![
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0,
                ]),
            )
            .expect("valid metric"),
            in_flight: IntGauge::new("deliveries_in_flight", "Sends under way")
                .expect("valid metric"),
            queue_depth: IntGauge::new("queue_depth", "Deliveries pending for active webhooks")
                .expect("valid metric"),
            oldest_due_seconds: IntGauge::new(
                "oldest_due_seconds",
                "How long the oldest due delivery has waited (0 when none is due)",
            )
            .expect("valid metric"),
            webhooks_failing: IntGauge::new(
                "webhooks_failing",
                "Active webhooks whose receiver keeps failing: deliveries wait for a probe",
            )
            .expect("valid metric"),
            webhooks_paused: IntGauge::new(
                "webhooks_paused",
                "Active webhooks paused by their receiver's Retry-After",
            )
            .expect("valid metric"),
            failing_since: IntGaugeVec::new(
                Opts::new(
                    "webhook_failing_since_seconds",
                    "Since when (Unix seconds) a Failing webhook has failed, with its last failure's code",
                ),
                &["webhook_id", "reason"],
            )
            .expect("valid metric"),
            next_probe: IntGaugeVec::new(
                Opts::new(
                    "webhook_next_probe_seconds",
                    "When (Unix seconds) a Failing webhook's receiver is next probed",
                ),
                &["webhook_id"],
            )
            .expect("valid metric"),
            paused_until: IntGaugeVec::new(
                Opts::new(
                    "webhook_paused_until_seconds",
                    "Until when (Unix seconds) a webhook's receiver asked to be sent nothing",
                ),
                &["webhook_id"],
            )
            .expect("valid metric"),
            database_up: IntGauge::new(
                "database_up",
                "1 while the database answers; 0 while it is unreachable (writes are refused)",
            )
            .expect("valid metric"),
            database_disk_full: IntGauge::new(
                "database_disk_full",
                "1 while writes fail for want of disk space (new events are refused)",
            )
            .expect("valid metric"),
            registry,
        };
        for collector in [
            Box::new(metrics.events_accepted.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(metrics.deliveries.clone()),
            Box::new(metrics.attempts.clone()),
            Box::new(metrics.attempt_seconds.clone()),
            Box::new(metrics.in_flight.clone()),
            Box::new(metrics.queue_depth.clone()),
            Box::new(metrics.oldest_due_seconds.clone()),
            Box::new(metrics.webhooks_failing.clone()),
            Box::new(metrics.webhooks_paused.clone()),
            Box::new(metrics.failing_since.clone()),
            Box::new(metrics.next_probe.clone()),
            Box::new(metrics.paused_until.clone()),
            Box::new(metrics.database_up.clone()),
            Box::new(metrics.database_disk_full.clone()),
        ] {
            metrics
                .registry
                .register(collector)
                .expect("each metric is registered once");
        }
        metrics
    }
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
    let now = Timestamp::now();
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
