//! `GET /metrics` in Prometheus' text format: what ingest and the delivery engine do, and
//! how the queue stands at the moment of the scrape.

use actix_web::{HttpResponse, web};
use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

use crate::clock::Timestamp;
use crate::db::{Db, delivery_queue};

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
        ] {
            metrics
                .registry
                .register(collector)
                .expect("each metric is registered once");
        }
        metrics
    }
}

/// The scrape: counters as they are, the queue as it is now.
pub async fn scrape(db: web::Data<Db>, metrics: web::Data<Metrics>) -> HttpResponse {
    let now = Timestamp::now();
    match delivery_queue::depth(db.reader(), now).await {
        Ok(depth) => {
            metrics.queue_depth.set(depth.pending);
            let waited = depth.oldest_due.map_or(0, |due| due.until(now).as_secs());
            metrics
                .oldest_due_seconds
                .set(i64::try_from(waited).unwrap_or(i64::MAX));
        }
        Err(error) => tracing::warn!("reading the queue for metrics failed: {error}"),
    }
    let mut text = Vec::new();
    if let Err(error) = TextEncoder::new().encode(&metrics.registry.gather(), &mut text) {
        tracing::error!("encoding metrics failed: {error}");
        return HttpResponse::InternalServerError().finish();
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(text)
}
