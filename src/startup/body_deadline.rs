//! A deadline for request bodies, on the console and the API alike.

use std::cell::Cell;
use std::future::Future;
use std::io::ErrorKind;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpMessage, HttpResponse};
use futures_core::Stream;
use tokio::time::Sleep;

use crate::api::ApiError;
use crate::web::error::AppError;

/// How long a client has to send a whole request body, from the end of its headers.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

/// A body still arriving after [`BodyTimeout`] is cut off: whatever the handler made of the
/// part it got is replaced by 408, and the server closes the connection (it never read
/// the rest). Without this, one byte every few seconds holds a connection for ever.
pub async fn body_deadline<B: MessageBody + 'static>(
    mut request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let Some(&BodyTimeout(timeout)) = request.app_data::<BodyTimeout>() else {
        return Ok(next.call(request).await?.map_into_left_body());
    };
    let expired = Rc::new(Cell::new(false));
    let body = Deadline {
        body: request.take_payload(),
        timer: Box::pin(tokio::time::sleep(timeout)),
        expired: expired.clone(),
    };
    let body: Pin<Box<dyn Stream<Item = _>>> = Box::pin(body);
    request.set_payload(Payload::from(body));
    let response = next.call(request).await?;
    if !expired.get() {
        return Ok(response.map_into_left_body());
    }
    let (request, _) = response.into_parts();
    let answer = if request.match_info().as_str().starts_with("/api/") {
        HttpResponse::from_error(ApiError::request_timeout(timeout))
    } else {
        HttpResponse::from_error(AppError::RequestTimeout)
    };
    Ok(ServiceResponse::new(request, answer).map_into_right_body())
}

struct Deadline {
    body: Payload,
    timer: Pin<Box<Sleep>>,
    expired: Rc<Cell<bool>>,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Poll::Ready(chunk) = Pin::new(&mut self.body).poll_next(cx) {
            return Poll::Ready(chunk);
        }
        if self.timer.as_mut().poll(cx).is_ready() {
            self.expired.set(true);
            let late = std::io::Error::new(ErrorKind::TimedOut, "the request body came too slowly");
            return Poll::Ready(Some(Err(PayloadError::Io(late))));
        }
        Poll::Pending
    }
}
