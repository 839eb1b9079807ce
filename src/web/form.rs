use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use serde::de::DeserializeOwned;

use crate::web::error::AppError;

/// A form body decoded like a browser encodes it, repeated fields (`events=a&events=b`)
/// included, which `web::Form` cannot read into a list.
pub struct HtmlForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for HtmlForm<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_form = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
        let body = web::Bytes::from_request(request, payload);
        Box::pin(async move {
            if !is_form {
                return Err(AppError::UnsupportedMediaType);
            }
            let body = body.await.map_err(|_| AppError::PayloadTooLarge)?;
            serde_html_form::from_bytes(&body)
                .map(HtmlForm)
                .map_err(|_| {
                    AppError::BadRequest(
                        "The form could not be read. Reload the page and try again.".into(),
                    )
                })
        })
    }
}
