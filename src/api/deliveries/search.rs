//! Finding deliveries across webhooks: by event, status, time, and what their events quote.

use crate::delivery::retry::RetrySchedule;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::DeliveryBody;
use crate::api::auth::Caller;
use crate::api::error::{ApiError, ErrorBody};
use crate::db::Db;
use crate::db::deliveries::{self, Cursor, DeliverySearch};
use crate::domain::paging::PAGE_SIZE;
use crate::domain::{DeliveryStatus, Quote};

/// A delivery found by a search, with where the search matched it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FoundDelivery {
    pub webhook_id: i64,
    #[serde(flatten)]
    pub delivery: DeliveryBody,
    /// Where `q` matched, e.g. `event data order.id = ord_7731`; empty without `q`.
    pub matched: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FoundDeliveries {
    /// Newest first, at most 25.
    pub data: Vec<FoundDelivery>,
    /// Pass as `before` for the next, older page; null on the last.
    pub next_before: Option<i64>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct FindQuery {
    /// What a customer quotes: a value inside an event's `data` or `current_context`
    /// (`ord_7731`), an `Idempotency-Key`, an event id (`evt_42`) or a delivery id.
    q: Option<String>,
    /// Only this webhook's deliveries.
    webhook: Option<i64>,
    /// Only deliveries in this state.
    status: Option<FoundStatus>,
    /// Only deliveries older than this delivery id: the next page.
    before: Option<i64>,
    /// Only this account's deliveries (an account token: its own, always).
    account: Option<String>,
}

/// A delivery's state, as a filter.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FoundStatus {
    Pending,
    Succeeded,
    Failed,
}

impl From<FoundStatus> for DeliveryStatus {
    fn from(status: FoundStatus) -> Self {
        match status {
            FoundStatus::Pending => Self::Pending,
            FoundStatus::Succeeded => Self::Succeeded,
            FoundStatus::Failed => Self::Failed,
        }
    }
}

#[utoipa::path(
    get, path = "/api/v1/deliveries", operation_id = "findDeliveries", tag = "deliveries",
    params(FindQuery),
    responses(
        (status = 200, description = "Newest first", body = FoundDeliveries),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "An account token asked for another account", body = ErrorBody),
        (status = 404, description = "No account has the key asked for (`unknown_account`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn find(
    caller: Caller,
    db: web::Data<Db>,
    tries: web::Data<RetrySchedule>,
    query: web::Query<FindQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let now = db.now();
    let status = query.status.map(DeliveryStatus::from);
    let quote = query.q.as_deref().and_then(Quote::parse);
    let search = DeliverySearch {
        account: caller.listing(query.account.as_deref())?,
        webhook_id: query.webhook,
        status,
        any_of: match &quote {
            Some(quote) => Some(deliveries::any_of(db.reader(), quote).await?),
            None => None,
        },
        ..DeliverySearch::default()
    };
    let cursor = match query.before {
        Some(id) => Cursor::OlderThan(id),
        None => Cursor::Newest,
    };
    let page = deliveries::search(db.reader(), &search, cursor, PAGE_SIZE).await?;
    let mut matched = match &quote {
        Some(quote) => deliveries::where_matched(db.reader(), quote, &page.deliveries).await?,
        None => Default::default(),
    };
    let next_before = page.deliveries.last().filter(|_| page.older).map(|d| d.id);
    let data = page
        .deliveries
        .into_iter()
        .map(|delivery| FoundDelivery {
            webhook_id: delivery.webhook_id,
            matched: matched
                .remove(&delivery.id)
                .unwrap_or_default()
                .iter()
                .map(ToString::to_string)
                .collect(),
            delivery: DeliveryBody::of(delivery, &tries, now),
        })
        .collect();
    Ok(HttpResponse::Ok().json(FoundDeliveries { data, next_before }))
}
