//! What the console shows while its database cannot serve: a page that says so, at once,
//! instead of a wait and a generic error. The API answers for itself (`api::auth`).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::db::{Db, Outage};
use crate::web::SECURITY_HEADERS;
use crate::web::error::{mime_html, retarget_to_toasts, toast};
use crate::web::htmx::Htmx;
use crate::web::layout::Layout;

/// When a client may try again: the database is looked at several times a second.
const RETRY_AFTER_SECONDS: u64 = 5;

#[derive(Template)]
#[template(path = "unavailable.html")]
struct UnavailablePage {
    layout: Layout,
    title: &'static str,
    message: &'static str,
    /// Offer the same address again: only where that repeats nothing (GET).
    reload: Option<String>,
}

/// Refuses console requests at once while the database is known to be unreachable, and
/// turns a server error during any outage (a session that could not be read, a write the
/// full disk refused) into the page that names it.
pub async fn database_outage<B: MessageBody + 'static>(
    request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let Some(db) = request.app_data::<web::Data<Db>>().cloned() else {
        return Ok(next.call(request).await?.map_into_left_body());
    };
    if !is_console_page(request.path()) {
        return Ok(next.call(request).await?.map_into_left_body());
    }
    if let Some(outage @ Outage::Unreachable(_)) = db.outage() {
        let page = page(request.request(), Layout::default(), &outage);
        return Ok(request.into_response(page).map_into_right_body());
    }
    // What the page needs, kept before the request goes on: an error from the session
    // layer comes back without it.
    let asked = Asked::of(request.request());
    match next.call(request).await {
        Ok(response) if response.status().is_server_error() => match db.outage() {
            Some(outage) => {
                let layout = Layout::for_error(response.request());
                let page = asked.page(layout, &outage);
                let (request, _) = response.into_parts();
                Ok(ServiceResponse::new(request, page).map_into_right_body())
            }
            None => Ok(response.map_into_left_body()),
        },
        Ok(response) => Ok(response.map_into_left_body()),
        // An error from the session layer passes the middleware outside as an error, which
        // adds no headers: its page carries the security headers itself.
        Err(error) => {
            let mut page = match db.outage() {
                Some(outage) => asked.page(Layout::default(), &outage),
                None => {
                    tracing::error!("a console request failed outside its handler: {error}");
                    asked.failed()
                }
            };
            for (name, value) in SECURITY_HEADERS {
                page.headers_mut().insert(
                    header::HeaderName::from_static(name),
                    header::HeaderValue::from_static(value),
                );
            }
            Err(InternalError::from_response(error, page).into())
        }
    }
}

/// The parts of a request the outage page depends on.
struct Asked {
    /// Offer the same address again: only where that repeats nothing (GET).
    reload: Option<String>,
    partial: bool,
}

impl Asked {
    fn of(request: &HttpRequest) -> Self {
        Self {
            // Path and query only: an absolute-form target never becomes a link elsewhere.
            reload: (request.method() == Method::GET).then(|| {
                request
                    .uri()
                    .path_and_query()
                    .map_or_else(|| request.path().to_owned(), ToString::to_string)
            }),
            partial: Htmx::from_headers(request.headers()).wants_partial(),
        }
    }

    fn page(self, layout: Layout, outage: &Outage) -> HttpResponse {
        let (status, title, message) = wording(outage);
        self.answer(layout, status, title, message)
    }

    /// A failure that no outage explains.
    fn failed(self) -> HttpResponse {
        self.answer(
            Layout::default(),
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "The console could not finish this request. Try again in a moment; if it keeps \
             happening, the server's log says why.",
        )
    }

    fn answer(
        self,
        layout: Layout,
        status: StatusCode,
        title: &'static str,
        message: &'static str,
    ) -> HttpResponse {
        let mut response = HttpResponse::build(status);
        response
            .content_type(mime_html())
            .insert_header((header::VARY, "HX-Request"))
            .insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS.to_string()))
            .insert_header((header::CACHE_CONTROL, "no-store"));
        let body = if self.partial {
            retarget_to_toasts(&mut response);
            toast(title, message, status != StatusCode::INTERNAL_SERVER_ERROR)
        } else {
            UnavailablePage {
                layout,
                title,
                message,
                reload: self.reload,
            }
            .render()
        };
        response.body(body.unwrap_or_else(|_| format!("{title}: {message}")))
    }
}

/// Health checks, metrics and assets need no database page; the API answers in JSON.
fn is_console_page(path: &str) -> bool {
    !(path.starts_with("/api/")
        || path.starts_with("/static/")
        || matches!(path, "/healthz" | "/readyz" | "/metrics"))
}

/// The page for a request that failed because of `outage`.
fn page(request: &HttpRequest, layout: Layout, outage: &Outage) -> HttpResponse {
    Asked::of(request).page(layout, outage)
}

fn wording(outage: &Outage) -> (StatusCode, &'static str, &'static str) {
    match outage {
        Outage::Unreachable(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Database unreachable",
            "The console cannot reach its database right now, so nothing can be shown or saved. \
             Nothing that was saved before is lost, and deliveries resume by themselves when \
             the database is back.",
        ),
        Outage::DiskFull => (
            StatusCode::INSUFFICIENT_STORAGE,
            "Database disk full",
            "The database's disk is full, so this change was not saved. Everything stored can \
             still be read. Ask whoever runs the console to free disk space; saving works again \
             by itself.",
        ),
    }
}
