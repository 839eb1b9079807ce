//! The HTML console. Every page is registered by [`pages`], the one place a guard for
//! signed-in users wraps them all.

mod assets;
mod form;
pub mod layout;
mod settings;
mod time_format;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::error::{AppError, mime_html};
pub use form::HtmlForm;

/// Routes that need no signed-in user: health checks and static assets.
pub fn public(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/static/{file}", web::get().to(assets::serve));
}

/// Every console page.
pub fn pages(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .configure(settings::routes)
        .default_service(web::to(not_found));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

async fn home() -> HttpResponse {
    see_other("/settings/webhooks")
}

async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
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
