//! One delivery and every try of it: the request as sent, the answer or the reason it failed.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::Tab;
use super::super::confirm::{self, Confirmation};
use super::curl::curl;
use super::detail_href;
use super::view::{self, Badge};
use crate::actions;
use crate::actions::Inbox;
use crate::clock::Timestamp;
use crate::db::Db;
use crate::db::deliveries::{self, AttemptDetail, Delivery};
use crate::db::webhooks::{self, Webhook};
use crate::delivery::retry::RetrySchedule;
use crate::delivery::sender::headers_of_every_try;
use crate::domain::{DeliveryStatus, EventBody};
use crate::secrets::secret_box::SecretBox;
use crate::web::error::AppError;
use crate::web::htmx::Htmx;
use crate::web::layout::{Flash, Layout};
use crate::web::render;
use crate::web::session::CurrentUser;

#[derive(Template)]
#[template(path = "settings/webhooks/delivery.html")]
struct DeliveryPage {
    layout: Layout,
    title: String,
    tab: Tab,
    webhook: Webhook,
    webhook_href: String,
    delivery: Delivery,
    status: Badge,
    /// Why it has not gone out yet, while it is pending.
    waiting: Option<String>,
    /// The request's headers as sent, the API key masked.
    headers: Vec<(String, String)>,
    body: String,
    /// The exact bytes sent, for Copy.
    raw_body: String,
    /// The request as a cURL command, the API key as `$API_KEY`.
    curl: String,
    /// Tries in order, each identical run of failures shown once.
    attempts: Vec<AttemptRun>,
    /// While the delivery waits for a try, the page refreshes its summary and attempts.
    live: bool,
}

/// A try, and the later tries in a row that ended exactly like it (their times).
struct AttemptRun {
    first: AttemptView,
    repeats: Vec<String>,
    last_number: usize,
}

struct AttemptView {
    number: usize,
    at: String,
    duration: String,
    succeeded: bool,
    status_code: Option<i64>,
    error: Option<(String, String)>,
    response: Option<String>,
    response_headers: Option<String>,
    signature: Option<String>,
    timestamp: i64,
}

pub async fn show(
    db: web::Data<Db>,
    secrets: web::Data<SecretBox>,
    tries: web::Data<RetrySchedule>,
    layout: Layout,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (webhook_id, delivery_id) = path.into_inner();
    let now = db.now();
    let webhook = webhooks::find(db.reader(), webhook_id, now).await?;
    let delivery = deliveries::find(db.reader(), webhook_id, delivery_id).await?;
    let (event_time, context, data) = deliveries::payload(db.reader(), delivery_id).await?;
    let api_key = view::shown_api_key(
        webhooks::api_key(db.reader(), &secrets, webhook_id).await?,
        layout.is_admin(),
    );
    let custom = view::shown_headers(&db, &secrets, &webhook, layout.is_admin()).await?;
    let attempts = deliveries::attempts(db.reader(), delivery_id).await?;
    let raw_body = String::from_utf8(
        crate::delivery::body::bytes(event_time, &delivery.event_type, &context, &data)
            .unwrap_or_default(),
    )
    .unwrap_or_default();
    let last_try = attempts
        .last()
        .map(|a| (a.attempted_at, a.signature.clone()));
    let curl = curl(
        &webhook,
        delivery_id,
        api_key.is_some(),
        last_try,
        &raw_body,
    );
    let page = DeliveryPage {
        live: delivery.status == DeliveryStatus::Pending,
        raw_body,
        curl,
        title: format!("Delivery {delivery_id}"),
        tab: Tab::Webhooks,
        webhook_href: detail_href(webhook_id),
        status: match delivery.status.is_retrying(delivery.attempt_count) {
            true => Badge::retrying(),
            false => Badge::delivery(delivery.status),
        },
        waiting: delivery
            .waiting(tries.max_attempts(), now)
            .map(|wait| wait.reason()),
        headers: headers_of_every_try(&delivery_id.to_string(), api_key.as_deref(), &custom)
            .into_iter()
            .map(|(name, value)| (name.into_owned(), value))
            .collect(),
        body: body(&delivery.event_type, event_time, &context, &data),
        attempts: runs(attempts),
        layout,
        webhook,
        delivery,
    };
    render(StatusCode::OK, &page)
}

pub async fn confirm_redeliver(
    db: web::Data<Db>,
    layout: Layout,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (webhook_id, delivery_id) = path.into_inner();
    let webhook = webhooks::find(db.reader(), webhook_id, db.now()).await?;
    let delivery = deliveries::find(db.reader(), webhook_id, delivery_id).await?;
    let href = format!("{}/deliveries/{delivery_id}", detail_href(webhook_id));
    let mut notes = vec![format!(
        "It keeps webhook-id {delivery_id}, so a receiver that already has it can recognise it; \
         it is retried on a fresh schedule until it succeeds."
    )];
    if !webhook.status.is_active() {
        notes.push("The webhook is off: the delivery waits until it is enabled again.".into());
    }
    confirm::ask(
        layout,
        Tab::Webhooks,
        Confirmation {
            question: format!("Redeliver delivery {delivery_id}?"),
            consequence: format!(
                "The {} event evt_{} is POSTed again to",
                delivery.event_type, delivery.event_id
            ),
            url: Some(webhook.url),
            danger: false,
            notes,
            action: format!("{href}/redeliver"),
            fields: Vec::new(),
            confirm: "Redeliver".into(),
            cancel_href: href,
        },
    )
}

pub async fn redeliver(
    db: web::Data<Db>,
    engine: web::Data<Inbox>,
    user: CurrentUser,
    htmx: Htmx,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (webhook_id, delivery_id) = path.into_inner();
    actions::deliveries::redeliver(&db, &engine, &user.actor(), webhook_id, delivery_id).await?;
    Flash::success(format!("Delivery {delivery_id} queued again"));
    Ok(htmx.redirect(&format!(
        "/settings/webhooks/{webhook_id}/deliveries/{delivery_id}"
    )))
}

/// Consecutive failed tries that ended the same way (status, error, answer) as one run: four
/// identical timeouts read as one, with their times.
fn runs(attempts: Vec<AttemptDetail>) -> Vec<AttemptRun> {
    let mut runs: Vec<AttemptRun> = Vec::new();
    for (index, attempt) in attempts.into_iter().enumerate() {
        let attempt = AttemptView::new(index + 1, attempt);
        if let Some(run) = runs.last_mut()
            && !attempt.succeeded
            && !run.first.succeeded
            && run.first.status_code == attempt.status_code
            && run.first.error == attempt.error
            && run.first.response == attempt.response
        {
            run.repeats.push(attempt.at);
            run.last_number = attempt.number;
            continue;
        }
        runs.push(AttemptRun {
            last_number: attempt.number,
            first: attempt,
            repeats: Vec::new(),
        });
    }
    runs
}

/// The four keys a receiver gets, in the order it gets them, laid out for reading.
fn body(event_type: &str, event_time: Timestamp, context: &str, data: &str) -> String {
    let parse = |text: &str| serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
    let body = EventBody {
        event_time: &event_time.rfc3339(),
        event_type,
        current_context: &parse(context),
        data: &parse(data),
    };
    serde_json::to_string_pretty(&body).unwrap_or_default()
}

impl AttemptView {
    fn new(number: usize, attempt: AttemptDetail) -> Self {
        Self {
            number,
            at: attempt.attempted_at.absolute_seconds(),
            timestamp: attempt.attempted_at.unix_ms() / 1000,
            duration: super::log::duration_label(attempt.duration_ms),
            succeeded: attempt.error_code.is_none(),
            status_code: attempt.status_code,
            error: attempt.error_code.map(|code| {
                (
                    code.label().to_owned(),
                    attempt.error_message.unwrap_or_default(),
                )
            }),
            response: attempt.response_body.filter(|body| !body.is_empty()),
            response_headers: attempt
                .response_headers
                .filter(|headers| !headers.is_empty()),
            signature: attempt.signature,
        }
    }
}
