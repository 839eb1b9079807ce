use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, http::StatusCode, web};
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// Bodies above this are refused with 413: events are notifications, not file transfers.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// A JSON body, with the API's own answers for a wrong content type (415), a body over
/// the limit (413), broken JSON (400 `malformed_json`) and JSON of the wrong shape
/// (400 `validation_failed`).
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let mime = request.mime_type().ok().flatten();
        let is_json = mime.is_some_and(|mime| {
            mime.type_() == "application"
                && (mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"))
        });
        let payload = web::Payload::from_request(request, payload).into_inner();
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::unsupported_media_type());
            }
            let payload =
                payload.map_err(|_| ApiError::malformed_json("The body could not be read."))?;
            let body = payload
                .to_bytes_limited(MAX_BODY_BYTES)
                .await
                .map_err(|_| ApiError::payload_too_large(MAX_BODY_BYTES))?
                .map_err(|_| ApiError::malformed_json("The body could not be read."))?;
            let value: serde_json::Value = serde_json::from_slice(&body).map_err(|error| {
                ApiError::malformed_json(format!("The body is not valid JSON: {error}."))
            })?;
            // Every body is an object; serde would also take a list for a struct.
            if !value.is_object() {
                return Err(shape_error("the body must be a JSON object"));
            }
            serde_json::from_value(value).map(Json).map_err(|error| {
                match unknown_field(&error.to_string()) {
                    Some(field) => unknown_field_error(field, &error.to_string()),
                    None => shape_error(&error.to_string()),
                }
            })
        })
    }
}

/// The field serde names in "unknown field `filtr`, expected one of …".
fn unknown_field(message: &str) -> Option<&str> {
    message.strip_prefix("unknown field `")?.split('`').next()
}

/// A field the API does not have: a typo would otherwise do nothing, silently.
fn unknown_field_error(field: &str, message: &str) -> ApiError {
    let message = format!("The body has a field the API does not know: {message}.");
    let details = [(field.to_owned(), vec![message.clone()])].into();
    ApiError::validation(StatusCode::UNPROCESSABLE_ENTITY, &message, details)
}

fn shape_error(reason: &str) -> ApiError {
    ApiError::validation(
        StatusCode::BAD_REQUEST,
        &format!("The JSON does not have the expected shape: {reason}."),
        Default::default(),
    )
}
