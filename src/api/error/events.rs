//! Refusals of published events: types the catalog does not take, and a database that
//! cannot store them now.

use std::time::Duration;

use actix_web::http::StatusCode;

use super::{ApiError, RETRY_AFTER};
use std::collections::BTreeMap;

use crate::db::Outage;
use crate::db::events::Refused;
use crate::domain::{CHECK_STEPS, CheckRefusal, EventTypeKey, MAX_DATA_DEPTH, Mismatch};

impl ApiError {
    /// The data misses its type's schema: one detail per problem, keyed by its JSON pointer
    /// within `data` (`""` for the whole).
    pub fn data_mismatch(mismatches: &[Mismatch]) -> Self {
        let mut details: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for mismatch in mismatches {
            details
                .entry(mismatch.pointer.clone())
                .or_default()
                .push(mismatch.message.clone());
        }
        Self::validation(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The data does not match the event type's schema; nothing was stored. See details: \
             each key is a JSON pointer into `data`.",
            details,
        )
    }

    /// The data cannot be taken: it misses the schema, or cannot be checked against it.
    pub fn data_refused(refusal: &CheckRefusal) -> Self {
        let (field, message) = match refusal {
            CheckRefusal::Mismatches(mismatches) => return Self::data_mismatch(mismatches),
            CheckRefusal::TooDeep => Self::too_deep_message(),
            CheckRefusal::TooCostly => (
                "data".to_owned(),
                format!(
                    "The data is too costly to check against the event type's schema (more than \
                     {CHECK_STEPS} steps); nothing was stored. Send flatter data, or give the \
                     type a schema that does not apply itself several times at each level."
                ),
            ),
            CheckRefusal::Uncheckable(reason) => (
                "data".to_owned(),
                format!(
                    "The event type's schema can no longer be used: {reason} Change the type's \
                     schema (PATCH /api/v1/event-types/{{key}}); nothing was stored."
                ),
            ),
        };
        let details = [(field, vec![message.clone()])].into();
        Self::validation(StatusCode::UNPROCESSABLE_ENTITY, &message, details)
    }

    /// `data` nests deeper than anyone's events do.
    pub fn data_too_deep() -> Self {
        let (field, message) = Self::too_deep_message();
        let details = [(field, vec![message.clone()])].into();
        Self::validation(StatusCode::UNPROCESSABLE_ENTITY, &message, details)
    }

    fn too_deep_message() -> (String, String) {
        (
            "data".to_owned(),
            format!(
                "The data nests objects and arrays more than {MAX_DATA_DEPTH} levels deep; \
                 nothing was stored."
            ),
        )
    }

    pub fn refused(refused: Refused, event_type: &str) -> Self {
        match refused {
            Refused::UnknownEventType => Self::unknown_event_type(event_type),
            Refused::ArchivedEventType => Self::archived_event_type(event_type),
            Refused::IdempotencyConflict => Self::idempotency_conflict(),
            Refused::UnknownAccount => Self::unknown_account("named"),
        }
    }

    pub fn unknown_event_type(key: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "unknown_event_type",
            format!("“{key}” is not in the event catalog."),
        )
    }

    pub fn archived_event_type(key: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "archived_event_type",
            format!(
                "“{key}” is archived: it is kept for earlier deliveries but no longer published. \
                 Restore it with PATCH /api/v1/event-types/{key} {{\"archived\": false}} to publish it again."
            ),
        )
    }

    pub fn catalog_full(limit: usize) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "catalog_full",
            format!(
                "The catalog holds {limit} event types that are not archived, the most it can. \
                 Archive types no longer published (PATCH /api/v1/event-types/{{key}} \
                 {{\"archived\": true}}) to make room."
            ),
        )
    }

    pub fn reserved_event_type(key: &EventTypeKey) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "reserved_event_type",
            key.why_the_consoles_own(),
        )
    }

    /// The database did not take the request: down, not answering within the wait, or
    /// out of disk space. Nothing was changed unless the message says otherwise.
    pub fn unavailable(outage: &Outage) -> Self {
        let (status, code, message) = match outage {
            Outage::Unreachable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "The database is unreachable; nothing was accepted. Try again after Retry-After.",
            ),
            Outage::DiskFull => (
                StatusCode::INSUFFICIENT_STORAGE,
                "insufficient_storage",
                "The database's disk is full; nothing was accepted. Try again after Retry-After.",
            ),
        };
        Self {
            retry_after: Some(RETRY_AFTER),
            ..Self::new(status, code, message)
        }
    }

    /// The event could not be stored, for a reason that is not the database's state.
    pub fn not_stored() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "The event could not be stored; nothing was accepted. Try again.",
        )
    }

    /// The event was not stored in time: the database took longer than the wait. A retry
    /// with the same `Idempotency-Key` stores it once, whatever became of this try.
    pub fn not_stored_in_time(wait: Duration) -> Self {
        Self {
            retry_after: Some(RETRY_AFTER),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                format!(
                    "The database did not answer within {} s. Try again after Retry-After, \
                     with the same Idempotency-Key so that the event is stored once.",
                    wait.as_secs_f64()
                ),
            )
        }
    }
}
