//! What htmx tells the server about a request, and the responses that steer it.

use std::convert::Infallible;
use std::future::{Ready, ready};

use actix_web::http::header::{self, HeaderMap};
use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload};

#[derive(Debug, Clone, Copy, Default)]
pub struct Htmx {
    request: bool,
    history_restore: bool,
}

impl Htmx {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let is_true = |name| headers.get(name).is_some_and(|v| v == "true");
        Self {
            request: is_true("HX-Request"),
            history_restore: is_true("HX-History-Restore-Request"),
        }
    }

    /// A history restore needs the whole page, although htmx made the request.
    pub fn wants_partial(self) -> bool {
        self.request && !self.history_restore
    }

    /// After a successful form post: htmx follows `HX-Redirect` with a full page load
    /// (so the flash message shows); a plain browser follows 303 See Other.
    pub fn redirect(self, location: &str) -> HttpResponse {
        if self.request {
            HttpResponse::Ok()
                .insert_header(("HX-Redirect", location))
                .finish()
        } else {
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, location))
                .finish()
        }
    }
}

impl FromRequest for Htmx {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self::from_headers(request.headers())))
    }
}
