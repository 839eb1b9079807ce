//! How a failed request looks to the person who made it. Handlers return [`AppError`];
//! [`render_error_page`] turns every error response (also those of the framework, such as
//! an unknown path) into a page in the console's layout, or a small message for htmx.

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError, web};
use askama::Template;

use crate::db::{Db, StoreError};
use crate::telemetry::error_chain;
use crate::web::htmx::Htmx;
use crate::web::layout::Layout;
use crate::web::session::SessionWriteFailed;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden for this role")]
    Forbidden,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("missing or wrong CSRF token, or a cross-site request")]
    CsrfRejected,
    #[error("the session could not be updated")]
    Session(#[from] SessionWriteFailed),
    #[error("{0}")]
    BadRequest(String),
    #[error("the body is not a form")]
    UnsupportedMediaType,
    #[error("the body is too large")]
    PayloadTooLarge,
    #[error("the body came too slowly")]
    RequestTimeout,
    #[error("storage failed")]
    Store(#[source] StoreError),
    #[error("template failed")]
    Template(#[from] askama::Error),
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::NotFound,
            StoreError::WebhookDisabled => Self::BadRequest(
                "Enable the webhook first: a disabled webhook gets nothing.".into(),
            ),
            StoreError::NoActiveAdminLeft => {
                Self::BadRequest("The console needs at least one active admin.".into())
            }
            other => Self::Store(other),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Forbidden | Self::CsrfRejected => StatusCode::FORBIDDEN,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::Store(_) | Self::Template(_) | Self::Session(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl AppError {
    fn user_message(&self) -> Option<String> {
        match self {
            Self::BadRequest(message) => Some(message.clone()),
            Self::CsrfRejected => Some(
                "This form has expired or did not come from this console. Reload the page and try again."
                    .into(),
            ),
            _ => None,
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    title: String,
    message: String,
}

#[derive(Template)]
#[template(path = "_error.html")]
struct ErrorToast {
    title: String,
    message: String,
    /// The database's outage: a live part that recovers clears it.
    outage: bool,
}

/// Error middleware: error responses get a readable body, those of the framework too
/// (an unknown path, a method a route does not take). Responses that chose their own
/// error status and body (a form shown again with 422) pass untouched.
pub fn render_error_page<B: MessageBody>(
    response: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    if answers_for_itself(&response) {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }
    let status = response.status();
    let error = response.response().error();
    let app_error = error.and_then(|error| error.as_error::<AppError>());
    // The outage middleware outside turns this into the page that names the outage.
    if let (Some(AppError::Store(error)), Some(db)) =
        (app_error, response.request().app_data::<web::Data<Db>>())
    {
        db.saw(error);
    }
    if status.is_server_error() {
        log_server_error(status, app_error, error);
    }
    let (title, default_message) = wording(status);
    let message = app_error
        .and_then(AppError::user_message)
        .unwrap_or_else(|| default_message.to_owned());
    let htmx = Htmx::from_headers(response.request().headers());
    let mut builder = HttpResponse::build(status);
    builder
        .content_type(mime_html())
        .insert_header((header::VARY, "HX-Request"));
    let body = if htmx.wants_partial() {
        retarget_to_toasts(&mut builder);
        toast(title, &message, false)
    } else {
        ErrorPage {
            layout: Layout::for_error(response.request()),
            title: title.into(),
            message,
        }
        .render()
    };
    let body = body.unwrap_or_else(|_| format!("{title}: {default_message}"));
    let (request, _) = response.into_parts();
    let response = ServiceResponse::new(request, builder.body(body));
    Ok(ErrorHandlerResponse::Response(
        response.map_into_right_body(),
    ))
}

/// The API answers its errors in JSON itself, and a response that chose its own error
/// body (a form shown again with 422) keeps it.
fn answers_for_itself<B: MessageBody>(response: &ServiceResponse<B>) -> bool {
    // The path as the router decoded it: the API's routes were chosen by that spelling.
    let api = response
        .request()
        .match_info()
        .as_str()
        .starts_with("/api/");
    let has_body = !matches!(
        response.response().body().size(),
        BodySize::Sized(0) | BodySize::None
    );
    api || (response.response().error().is_none() && has_body)
}

fn log_server_error(
    status: StatusCode,
    app_error: Option<&AppError>,
    error: Option<&actix_web::Error>,
) {
    match (app_error, error) {
        (Some(app_error), _) => tracing::error!("{}", error_chain(app_error)),
        (None, Some(error)) => tracing::error!("{error}"),
        (None, None) => tracing::error!("request failed with {status}"),
    }
}

/// The message goes to the page's toast area, whatever an htmx request aimed at.
pub(super) fn retarget_to_toasts(builder: &mut actix_web::HttpResponseBuilder) {
    builder
        .insert_header(("HX-Retarget", "#toasts"))
        .insert_header(("HX-Reswap", "innerHTML"));
}

pub(super) fn toast(title: &str, message: &str, outage: bool) -> askama::Result<String> {
    ErrorToast {
        title: title.into(),
        message: message.into(),
        outage,
    }
    .render()
}

fn wording(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        400 => (
            "Request not understood",
            "The request could not be read. Check the address or the form and try again.",
        ),
        403 => (
            "Not allowed",
            "Your role does not allow this. Support accounts read webhooks, deliveries and the audit log, but change nothing and never see secrets. Ask an admin to do this for you.",
        ),
        404 => (
            "Page not found",
            "We could not find that page. It may have been deleted, or the address may be mistyped.",
        ),
        405 => (
            "Not allowed here",
            "That action is not available at this address.",
        ),
        408 => (
            "Took too long",
            "What you sent arrived too slowly, and nothing was saved. Please try again.",
        ),
        413 => (
            "Too large",
            "What you sent is larger than the console accepts.",
        ),
        415 => (
            "Unsupported content",
            "The console could not read what was sent in this format.",
        ),
        429 => ("Too many requests", "Please wait a moment and try again."),
        s if s >= 500 => (
            "Something went wrong",
            "The console could not finish this request. Nothing you entered was lost; please try again in a moment.",
        ),
        _ => ("Request failed", "The request could not be completed."),
    }
}

pub fn mime_html() -> HeaderValue {
    HeaderValue::from_static("text/html; charset=utf-8")
}
