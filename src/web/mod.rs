//! The HTML console. Every page is listed with its [`Access`] in one table ([`pages`]);
//! the guard in [`guard`] applies it to every request.

mod assets;
pub mod client;
pub mod error;
mod form;
pub mod guard;
pub mod htmx;
pub mod layout;
pub mod outage;
mod pagination;
mod profile;
pub mod routes;
pub mod session;
mod settings;
pub mod sign_in;

use std::time::Duration;

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::db::{Db, Outage};
use crate::delivery;
use crate::http::get_or_head;
use crate::metrics;
use crate::web::error::{AppError, mime_html};
pub use form::HtmlForm;
use routes::{Access, Page};

/// Routes outside the guard: health checks, metrics and static assets.
pub fn public(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", get_or_head().to(healthz))
        .route("/readyz", get_or_head().to(readyz))
        .route("/metrics", get_or_head().to(metrics::scrape))
        .route("/static/{file}", get_or_head().to(assets::serve));
}

/// Registers every console page, each behind the guard for its access, and the 404 page.
pub fn pages(cfg: &mut web::ServiceConfig) {
    routes::register(cfg, page_table());
}

/// Every registered page as (method, path, access), for tests and audits of the rules.
pub fn route_table() -> Vec<(Method, &'static str, Access)> {
    page_table()
        .into_iter()
        .map(|page| (page.method, page.path, page.access))
        .collect()
}

fn page_table() -> Vec<Page> {
    let mut pages = vec![routes::get("/", Access::SignedIn, home)];
    pages.extend(sign_in::pages());
    pages.extend(profile::pages());
    pages.extend(settings::pages());
    pages
}

/// Sent with every answer. htmx is configured by a meta tag, so pages need no inline script
/// or style; responses that set their own caching (static assets) keep it, everything else
/// is never stored. Names in lower case, as HTTP/2 and `HeaderName::from_static` want them.
pub const SECURITY_HEADERS: [(&str, &str); 4] = [
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; \
         form-action 'self'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("cache-control", "no-store"),
];

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// Ready when the database serves and the delivery worker runs; a load balancer's check
/// gets its answer within [`READY_WAIT`], whatever the database does.
async fn readyz(db: web::Data<Db>, engine: web::Data<delivery::Health>) -> HttpResponse {
    if !engine.is_running() {
        return not_ready("delivery worker stopped".into());
    }
    let outage = match db.outage() {
        Some(outage) => Some(outage),
        None => db.look(READY_WAIT).await,
    };
    // Anyone may ask: the part that fails is named, the driver's words (hosts, users,
    // paths) stay in the log.
    match outage {
        None => HttpResponse::Ok().content_type("text/plain").body("ready"),
        Some(Outage::Unreachable(_)) => not_ready("database unreachable".into()),
        Some(Outage::DiskFull) => not_ready("database disk full: writes are refused".into()),
    }
}

/// Under the one second a load balancer is promised.
const READY_WAIT: Duration = Duration::from_millis(800);

fn not_ready(why: String) -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .content_type("text/plain")
        .body(why)
}

async fn home() -> HttpResponse {
    see_other("/settings/webhooks")
}

/// Responses vary on `HX-Request`: the same URL answers a page or a partial.
fn render(status: StatusCode, template: &impl Template) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::build(status)
        .content_type(mime_html())
        .insert_header((header::VARY, "HX-Request"))
        .body(template.render()?))
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}
