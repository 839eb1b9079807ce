//! What htmx tells the server about a request, and the responses that steer it.

use std::convert::Infallible;
use std::future::{Ready, ready};

use actix_web::http::header::{self, HeaderMap};
use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload};

#[derive(Debug, Clone, Copy, Default)]
pub struct Htmx {
    request: bool,
    history_restore: bool,
    /// The page that sent the request is a form's own page (`…/new`, `…/edit`), not a
    /// list the form was opened on: what comes back keeps that page's heading level.
    from_form_page: bool,
}

impl Htmx {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let is_true = |name| headers.get(name).is_some_and(|v| v == "true");
        let current_path = headers
            .get("HX-Current-URL")
            .and_then(|value| value.to_str().ok())
            .and_then(|url| url::Url::parse(url).ok())
            .map(|url| url.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        Self {
            request: is_true("HX-Request"),
            history_restore: is_true("HX-History-Restore-Request"),
            from_form_page: current_path.ends_with("/new") || current_path.ends_with("/edit"),
        }
    }

    pub fn from_form_page(self) -> bool {
        self.from_form_page
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
