use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;
use validator::ValidationErrors;

mod events;

use crate::db::StoreError;
use crate::telemetry::error_chain;

/// Every error of the API: `{"error": {"code", "message", "details"?}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, for programs: `validation_failed`, `unknown_event_type`, `malformed_json`,
    /// `payload_too_large`, `unsupported_media_type`, `unauthorized`, `not_found`,
    /// `method_not_allowed`, `conflict`, `reserved_event_type`, `archived_event_type`,
    /// `catalog_full`, `request_timeout`,
    /// `idempotency_conflict`, `unavailable`, `insufficient_storage`, `internal`.
    pub code: String,
    /// For people.
    pub message: String,
    /// With `validation_failed`: the messages for each field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<BTreeMap<String, Vec<String>>>,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Option<BTreeMap<String, Vec<String>>>,
    /// With 405: the methods the path does take.
    allow: Option<&'static str>,
    /// With 503 and 507: when trying again makes sense.
    retry_after: Option<Duration>,
}

/// How soon a client should try again while the database is down or full: the watch
/// looks several times a second, so a short outage is over by then.
const RETRY_AFTER: Duration = Duration::from_secs(2);

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: None,
            allow: None,
            retry_after: None,
        }
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Send a valid API token as `Authorization: Bearer <token>`.",
        )
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("No such {what}."),
        )
    }

    /// For `map_err`: a missing row is a 404 naming `what`; any other failure stays a
    /// storage failure (500), not a pretend 404.
    pub fn or_not_found(what: &'static str) -> impl Fn(StoreError) -> Self {
        move |error| match error {
            StoreError::NotFound => Self::not_found(what),
            other => other.into(),
        }
    }

    /// The request names an account no account has (or could have) as its key.
    pub fn unknown_account(key: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "unknown_account",
            format!("There is no account “{key}”; create it with PUT /api/v1/accounts/{{key}}."),
        )
    }

    /// The account has as many webhooks as `--max-webhooks-per-account` allows.
    pub fn account_full(limit: u32) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "account_full",
            format!(
                "The account has {limit} webhooks, as many as one account may                  (--max-webhooks-per-account): delete one first."
            ),
        )
    }

    /// An account token named another account.
    pub fn other_account() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "This token reaches its own account only.",
        )
    }

    pub fn method_not_allowed(allow: &'static str) -> Self {
        Self {
            allow: Some(allow),
            ..Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("This path takes {allow}."),
            )
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn conflict_in_fields(message: &str, fields: BTreeMap<String, Vec<String>>) -> Self {
        Self {
            details: Some(fields),
            ..Self::conflict(message)
        }
    }

    pub fn malformed_json(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed_json", message)
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("The body is larger than {} KiB.", limit / 1024),
        )
    }

    pub fn idempotency_conflict() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "idempotency_conflict",
            "This Idempotency-Key was already used with a different body; use a new key for a new event.",
        )
    }

    pub fn request_timeout(limit: std::time::Duration) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!(
                "The body did not arrive within {} s; nothing was accepted.",
                limit.as_secs_f64()
            ),
        )
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the body as JSON, with `Content-Type: application/json`.",
        )
    }

    /// A body whose fields do not parse, with one message per field.
    pub fn validation(
        status: StatusCode,
        message: &str,
        fields: BTreeMap<String, Vec<String>>,
    ) -> Self {
        Self {
            details: Some(fields),
            ..Self::new(status, "validation_failed", message)
        }
    }

    /// The messages the console's forms show, field by field.
    pub fn from_validation(errors: &ValidationErrors) -> Self {
        let fields = errors
            .field_errors()
            .into_iter()
            .map(|(field, errors)| {
                let messages = errors
                    .iter()
                    .map(|error| error.message.as_deref().unwrap_or(&error.code).to_owned())
                    .collect();
                (field.to_string(), messages)
            })
            .collect();
        Self::validation(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Some fields are invalid; see details.",
            fields,
        )
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message.clone(),
                details: self.details.clone(),
            },
        };
        let mut response = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        if let Some(allow) = self.allow {
            response.insert_header((header::ALLOW, HeaderValue::from_static(allow)));
        }
        if let Some(after) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, after.as_secs().to_string()));
        }
        response.json(body)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        if let Some(outage) = error.outage() {
            return Self::unavailable(&outage);
        }
        match error {
            StoreError::NotFound => Self::not_found("resource"),
            StoreError::UnknownAccount(key) => Self::unknown_account(&key),
            other => {
                tracing::error!("{}", error_chain(&other));
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Something went wrong on the server; nothing was changed.",
                )
            }
        }
    }
}
