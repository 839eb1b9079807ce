pub mod search;

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::body::Json;
use super::error::{ApiError, ErrorBody};
use crate::actions;
use crate::actions::Inbox;
use crate::clock::Timestamp;
use crate::db::deliveries::{self, Attempt, Delivery, DeliverySearch};
use crate::db::{Db, StoreError, webhooks};
use crate::delivery::retry::RetrySchedule;
use crate::domain::DeliveryWait;
use crate::domain::paging::{PAGE_SIZE, Pager};

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryBody {
    /// Also the `webhook-id` header receivers get, the same on every retry.
    pub id: i64,
    #[schema(example = "evt_42")]
    pub event_id: String,
    pub event_type: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    pub attempt_count: i64,
    pub next_attempt_at: Option<String>,
    pub last_attempt_at: Option<String>,
    pub last_status_code: Option<i64>,
    pub created_at: String,
    /// While pending, why it has not gone out yet: `webhook_off`, `webhook_failing`,
    /// `paused_by_receiver`, `rate_limited`, `sending`, `retry_scheduled` or `due`.
    #[schema(example = "webhook_failing")]
    pub waiting: Option<String>,
    /// The same in words.
    #[schema(
        example = "Held: the webhook is Failing; next probe at 8 Dec 2026, 14:05:10 UTC. It goes out once a probe succeeds."
    )]
    pub waiting_reason: Option<String>,
    /// Until when it waits, when that is known (the next probe, the end of a pause, the
    /// next retry).
    pub waiting_until: Option<String>,
    /// Every HTTP try, oldest first.
    pub attempts: Vec<AttemptBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptBody {
    pub attempted_at: String,
    pub duration_ms: i64,
    pub status_code: Option<i64>,
    /// `timeout`, `connection`, `dns`, `http_status`, `blocked_target`, ...
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPage {
    pub data: Vec<DeliveryBody>,
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1-based page number.
    page: Option<i64>,
}

#[utoipa::path(
    get, path = "/api/v1/webhooks/{id}/deliveries", operation_id = "listDeliveries", tag = "deliveries",
    params(("id" = i64, Path, description = "Webhook id"), PageQuery),
    responses(
        (status = 200, description = "Newest first", body = DeliveryPage),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    _caller: Caller,
    db: web::Data<Db>,
    tries: web::Data<RetrySchedule>,
    id: web::Path<i64>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let now = db.now();
    webhooks::find(db.reader(), id, now)
        .await
        .map_err(ApiError::or_not_found("webhook"))?;
    let pager = Pager::new(query.page.unwrap_or(1), PAGE_SIZE);
    let all_of_webhook = DeliverySearch {
        webhook_id: Some(id),
        ..DeliverySearch::default()
    };
    let total = deliveries::count(db.reader(), &all_of_webhook).await?;
    let rows = deliveries::list_for_webhook(db.reader(), id, pager).await?;
    Ok(HttpResponse::Ok().json(DeliveryPage {
        data: rows
            .into_iter()
            .map(|delivery| DeliveryBody::of(delivery, &tries, now))
            .collect(),
        page: pager.number(),
        per_page: pager.size(),
        total,
    }))
}

#[utoipa::path(
    post, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", operation_id = "redeliverDelivery", tag = "deliveries",
    params(
        ("id" = i64, Path, description = "Webhook id"),
        ("delivery_id" = i64, Path, description = "Delivery id"),
    ),
    responses(
        (status = 202, description = "Queued for another try now", body = DeliveryBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn redeliver(
    caller: Caller,
    db: web::Data<Db>,
    engine: web::Data<Inbox>,
    tries: web::Data<RetrySchedule>,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (webhook_id, delivery_id) = path.into_inner();
    webhooks::find(db.reader(), webhook_id, db.now())
        .await
        .map_err(ApiError::or_not_found("webhook"))?;
    actions::deliveries::redeliver(&db, &engine, &caller.actor(), webhook_id, delivery_id)
        .await
        .map_err(ApiError::or_not_found("delivery"))?;
    let delivery = deliveries::find(db.reader(), webhook_id, delivery_id).await?;
    Ok(HttpResponse::Accepted().json(DeliveryBody::of(delivery, &tries, db.now())))
}

impl DeliveryBody {
    pub fn of(delivery: Delivery, tries: &RetrySchedule, now: Timestamp) -> Self {
        let waiting = delivery.waiting(tries.max_attempts(), now);
        Self {
            waiting: waiting.as_ref().map(|wait| wait.key().to_owned()),
            waiting_reason: waiting.as_ref().map(DeliveryWait::reason),
            waiting_until: waiting
                .as_ref()
                .and_then(DeliveryWait::until)
                .map(Timestamp::rfc3339),
            id: delivery.id,
            event_id: format!("evt_{}", delivery.event_id),
            event_type: delivery.event_type,
            status: delivery.status.key().to_owned(),
            attempt_count: delivery.attempt_count,
            next_attempt_at: delivery.next_attempt_at.map(Timestamp::rfc3339),
            last_attempt_at: delivery.last_attempt_at.map(Timestamp::rfc3339),
            last_status_code: delivery.last_status_code,
            created_at: delivery.created_at.rfc3339(),
            attempts: delivery
                .attempts
                .into_iter()
                .map(AttemptBody::from)
                .collect(),
        }
    }
}

impl From<Attempt> for AttemptBody {
    fn from(attempt: Attempt) -> Self {
        Self {
            attempted_at: attempt.attempted_at.rfc3339(),
            duration_ms: attempt.duration_ms,
            status_code: attempt.status_code,
            error_code: attempt.error_code.map(|code| code.key().to_owned()),
            error_message: attempt.error_message,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TestEventSent {
    /// The delivery carrying the `webhook.test` event; also its `webhook-id`.
    pub delivery_id: i64,
}

#[utoipa::path(
    post, path = "/api/v1/webhooks/{id}/test-event", operation_id = "sendTestEvent", tag = "deliveries",
    params(("id" = i64, Path, description = "Webhook id")),
    responses(
        (status = 202, description = "A `webhook.test` event is on its way to this webhook only", body = TestEventSent),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The webhook is disabled", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn send_test_event(
    caller: Caller,
    db: web::Data<Db>,
    engine: web::Data<Inbox>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let delivery_id =
        actions::deliveries::send_test_event(&db, &engine, &caller.actor(), id.into_inner())
            .await
            .map_err(|error| match error {
                StoreError::WebhookDisabled => ApiError::conflict(
                    "The webhook is disabled; enable it to send it a test event.",
                ),
                other => ApiError::or_not_found("webhook")(other),
            })?;
    Ok(HttpResponse::Accepted().json(TestEventSent { delivery_id }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Recover {
    /// Failed deliveries created at or after this time (RFC 3339) are queued again.
    #[schema(required = true, example = "2026-01-15T09:30:00Z", format = DateTime)]
    pub since: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Recovered {
    /// How many failed deliveries were queued again, each with a fresh retry schedule.
    pub queued: u64,
}

#[utoipa::path(
    post, path = "/api/v1/webhooks/{id}/recover", operation_id = "recoverFailedDeliveries", tag = "deliveries",
    params(("id" = i64, Path, description = "Webhook id")),
    request_body = Recover,
    responses(
        (status = 202, description = "Queued again", body = Recovered),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "A field the API does not know (`validation_failed`, named in `details`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn recover(
    caller: Caller,
    db: web::Data<Db>,
    engine: web::Data<Inbox>,
    id: web::Path<i64>,
    Json(body): Json<Recover>,
) -> Result<HttpResponse, ApiError> {
    let Some(since) = Timestamp::parse_rfc3339(&body.since) else {
        let mut fields = std::collections::BTreeMap::new();
        fields.insert(
            "since".to_owned(),
            vec!["Use an RFC 3339 time, like 2026-01-15T09:30:00Z.".to_owned()],
        );
        return Err(ApiError::validation(
            actix_web::http::StatusCode::BAD_REQUEST,
            "Some fields are invalid; see details.",
            fields,
        ));
    };
    let queued =
        actions::deliveries::recover_failed(&db, &engine, &caller.actor(), id.into_inner(), since)
            .await
            .map_err(ApiError::or_not_found("webhook"))?;
    Ok(HttpResponse::Accepted().json(Recovered { queued }))
}
