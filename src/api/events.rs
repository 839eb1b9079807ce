use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Caller;
use super::body::Json;
use super::error::{ApiError, ErrorBody};
use crate::clock::Timestamp;
use crate::db::Db;
use crate::db::events::{Idempotency, NewEvent, Publisher, Refused};
use crate::db::sha256_hex;
use crate::domain::{AccountKey, EventTypeKey, MAX_DATA_DEPTH, nests_deeper_than, terms_of};
use crate::ingest::{IngestError, Ingestor};

/// Idempotency keys longer than this are refused: they are identifiers, not payloads.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

/// An event the host application publishes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishEvent {
    /// A key from the event catalog, e.g. `order.purchased`.
    #[schema(example = "order.purchased")]
    pub event_type: String,
    /// Any JSON (required, `null` included); receivers get it as `data`.
    pub data: serde_json::Value,
    /// Any JSON about the circumstances (tenant, actor, ...); `{}` when omitted.
    #[serde(default)]
    pub current_context: Option<serde_json::Value>,
    /// When it happened, RFC 3339; now when omitted. Stored and sent in UTC with milliseconds.
    #[serde(default)]
    #[schema(example = "2026-01-15T09:30:00.000Z", format = DateTime)]
    pub event_time: Option<String>,
    /// Whose event it is: only that account's webhooks receive it. Omitted: the token's own
    /// account (`default` for a staff token).
    #[serde(default)]
    #[schema(example = "acme")]
    pub account: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventAccepted {
    /// The event's id, `evt_<n>`.
    #[schema(example = "evt_42")]
    pub id: String,
    /// Deliveries queued: one per active webhook that subscribes to the event type.
    pub deliveries: i64,
}

/// Publish an event. Answers only after the event and its deliveries are on disk.
#[utoipa::path(
    post,
    path = "/api/v1/events",
    operation_id = "publishEvent",
    tag = "events",
    request_body = PublishEvent,
    params(
        ("Idempotency-Key" = Option<String>, Header,
         description = "Scoped to the API token. Repeating a key with the same body within 24 hours answers the first event's id and queues nothing new; with a different body it answers 409 `idempotency_conflict`."),
    ),
    responses(
        (status = 202, description = "Stored; deliveries queued", body = EventAccepted),
        (status = 400, description = "Malformed JSON, invalid fields, or an unknown event type", body = ErrorBody),
        (status = 401, description = "Missing, wrong or revoked token", body = ErrorBody),
        (status = 403, description = "An account token named another account", body = ErrorBody),
        (status = 404, description = "No account has the key named in `account` (`unknown_account`)", body = ErrorBody),
        (status = 409, description = "The `Idempotency-Key` was used with a different body (`idempotency_conflict`); the first event is unchanged", body = ErrorBody),
        (status = 422, description = "The data does not match the event type's schema (`validation_failed`; `details` keyed by JSON pointer into `data`), nests more than 32 levels, or is too costly to check against the schema; nothing was stored", body = ErrorBody),
        (status = 408, description = "The body arrived too slowly (`request_timeout`); nothing was accepted", body = ErrorBody),
        (status = 413, description = "Body over 256 KiB", body = ErrorBody),
        (status = 415, description = "Body is not JSON", body = ErrorBody),
        (status = 503, description = "The database is unreachable or did not answer within the wait (`unavailable`), with `Retry-After`", body = ErrorBody),
        (status = 507, description = "The database's disk is full (`insufficient_storage`), with `Retry-After`; nothing was accepted", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn publish(
    caller: Caller,
    db: web::Data<Db>,
    ingestor: web::Data<Ingestor>,
    request: HttpRequest,
    Json(event): Json<PublishEvent>,
) -> Result<HttpResponse, ApiError> {
    let idempotency_key = idempotency_key(&request)?;
    let account = caller.acting_in(event.account.as_deref())?;
    let new_event = event.parse(caller.token_id, account, idempotency_key, db.now())?;
    let event_type = new_event.event_type.clone();
    let account = new_event.account.clone();
    let published = ingestor
        .publish(new_event)
        .await
        .map_err(|error| match error {
            IngestError::Refused(Refused::UnknownAccount) => {
                ApiError::unknown_account(account.as_str())
            }
            IngestError::Refused(refused) => ApiError::refused(refused, &event_type),
            IngestError::DataRefused(refusal) => ApiError::data_refused(&refusal),
            IngestError::NotStored(Some(outage)) => ApiError::unavailable(&outage),
            IngestError::NotStored(None) => ApiError::not_stored(),
            IngestError::NotStoredInTime(wait) => ApiError::not_stored_in_time(wait),
        })?;
    Ok(HttpResponse::Accepted().json(EventAccepted {
        id: format!("evt_{}", published.id),
        deliveries: published.deliveries,
    }))
}

impl PublishEvent {
    fn parse(
        self,
        api_token_id: i64,
        account: AccountKey,
        idempotency_key: Option<String>,
        now: Timestamp,
    ) -> Result<NewEvent, ApiError> {
        let key = EventTypeKey::parse(&self.event_type)
            .map_err(|_| ApiError::unknown_event_type(&self.event_type))?;
        if key.is_the_consoles_own() {
            return Err(ApiError::reserved_event_type(&key));
        }
        if nests_deeper_than(&self.data, MAX_DATA_DEPTH) {
            return Err(ApiError::data_too_deep());
        }
        let mut invalid = BTreeMap::new();
        let event_time = match self.event_time.as_deref().map(Timestamp::parse_rfc3339) {
            None => now,
            Some(Some(at)) => at,
            Some(None) => {
                invalid.insert(
                    "event_time".to_owned(),
                    vec!["Use an RFC 3339 time, like 2026-01-15T09:30:00Z.".to_owned()],
                );
                Timestamp::from_unix_ms(0)
            }
        };
        if !invalid.is_empty() {
            return Err(ApiError::validation(
                StatusCode::BAD_REQUEST,
                "Some fields are invalid; see details.",
                invalid,
            ));
        }
        let idempotency = idempotency_key.map(|key| Idempotency {
            key,
            fingerprint: self.fingerprint(),
        });
        let current_context = self
            .current_context
            .unwrap_or_else(|| serde_json::json!({}));
        Ok(NewEvent {
            account,
            event_type: key.to_string(),
            event_time,
            search_terms: terms_of(
                &self.data,
                &current_context,
                idempotency.as_ref().map(|i| i.key.as_str()),
            ),
            current_context: current_context.to_string(),
            data: self.data.to_string(),
            publisher: Publisher::Token(api_token_id),
            idempotency,
        })
    }

    /// The request as sent (an omitted field stays omitted, so two retries that both leave
    /// out `event_time` are the same request); JSON objects compare whatever their key order.
    fn fingerprint(&self) -> String {
        let fields = serde_json::json!([
            self.event_type,
            self.event_time,
            self.current_context,
            self.data
        ]);
        sha256_hex(&fields.to_string())
    }
}

fn idempotency_key(request: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = request.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let key = value.to_str().map(str::trim).unwrap_or_default();
    let printable = key.chars().all(|c| (' '..='~').contains(&c));
    if key.is_empty() || !printable || key.chars().count() > MAX_IDEMPOTENCY_KEY_CHARS {
        let mut fields = BTreeMap::new();
        fields.insert(
            "Idempotency-Key".to_owned(),
            vec![format!(
                "Use 1 to {MAX_IDEMPOTENCY_KEY_CHARS} visible ASCII characters."
            )],
        );
        return Err(ApiError::validation(
            StatusCode::BAD_REQUEST,
            "The Idempotency-Key header is invalid.",
            fields,
        ));
    }
    Ok(Some(key.to_owned()))
}
