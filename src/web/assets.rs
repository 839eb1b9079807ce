//! Static files compiled into the binary, so the console is one file to deploy.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::web::error::AppError;

const HTMX: &[u8] = include_bytes!("../../static/htmx-2.0.11.min.js");
const CONSOLE_JS: &[u8] = include_bytes!("../../static/console.js");
const APP_CSS: &[u8] = include_bytes!("../../static/app.css");
const FAVICON: &[u8] = include_bytes!("../../static/favicon.svg");

/// htmx's file name carries its version, so browsers may keep it for good; the
/// stylesheet and script change with releases, so they are revalidated after a short while.
pub async fn serve(file: web::Path<String>) -> Result<HttpResponse, AppError> {
    let (body, content_type, cache) = match file.as_str() {
        "htmx-2.0.11.min.js" => (
            HTMX,
            "text/javascript; charset=utf-8",
            "public, max-age=31536000, immutable",
        ),
        "console.js" => (
            CONSOLE_JS,
            "text/javascript; charset=utf-8",
            "public, max-age=300",
        ),
        "app.css" => (APP_CSS, "text/css; charset=utf-8", "public, max-age=300"),
        "favicon.svg" => (FAVICON, "image/svg+xml", "public, max-age=86400"),
        _ => return Err(AppError::NotFound),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, cache))
        .body(body))
}
