//! The JSON API under `/api/v1`: bearer tokens, event ingestion, webhooks, deliveries.

mod accounts;
pub mod auth;
mod body;
mod deliveries;
pub mod error;
mod event_types;
mod events;
pub mod openapi;
mod webhooks;

use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, Resource, web};

pub use error::ApiError;

use crate::http::get_or_head;

pub fn routes(cfg: &mut web::ServiceConfig) {
    // The one public document of the API, before the scope that admits only callers.
    cfg.service(
        resource("/api/v1/openapi.json", "GET, HEAD").route(get_or_head().to(openapi::document)),
    );
    cfg.service(
        web::scope("/api/v1")
            .wrap(from_fn(auth::authenticate))
            .app_data(path_config())
            .app_data(query_config())
            .service(resource("/events", "POST").post(events::publish))
            .service(resource("/accounts", "GET, HEAD").route(get_or_head().to(accounts::list)))
            .service(
                resource("/accounts/{key}", "GET, HEAD, PUT, DELETE")
                    .route(get_or_head().to(accounts::show))
                    .put(accounts::put)
                    .delete(accounts::delete),
            )
            .service(
                resource("/event-types", "GET, HEAD, POST")
                    .route(get_or_head().to(event_types::list))
                    .post(event_types::register),
            )
            .service(resource("/event-types/{key}", "PATCH").patch(event_types::change))
            .service(
                resource("/deliveries", "GET, HEAD")
                    .route(get_or_head().to(deliveries::search::find)),
            )
            .service(
                resource("/webhooks", "GET, HEAD, POST")
                    .route(get_or_head().to(webhooks::list))
                    .post(webhooks::create),
            )
            .service(
                web::scope("/webhooks/{id}")
                    .wrap(from_fn(auth::webhook_in_reach))
                    .service(
                        resource("", "GET, HEAD, PATCH, DELETE")
                            .route(get_or_head().to(webhooks::show))
                            .patch(webhooks::update)
                            .delete(webhooks::delete),
                    )
                    .service(
                        resource("/secret", "GET, HEAD").route(get_or_head().to(webhooks::secret)),
                    )
                    .service(resource("/secret/rotate", "POST").post(webhooks::rotate_secret))
                    .service(resource("/test-event", "POST").post(deliveries::send_test_event))
                    .service(resource("/recover", "POST").post(deliveries::recover))
                    .service(
                        resource("/deliveries", "GET, HEAD")
                            .route(get_or_head().to(deliveries::list)),
                    )
                    .service(
                        resource("/deliveries/{delivery_id}/redeliver", "POST")
                            .post(deliveries::redeliver),
                    )
                    .default_service(web::to(not_found)),
            )
            .default_service(web::to(not_found)),
    );
}

/// A path naming something that cannot exist (an id that is not a number) is not found.
fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_, _| ApiError::not_found("resource").into())
}

fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _| {
        ApiError::validation(
            actix_web::http::StatusCode::BAD_REQUEST,
            &format!("The query string cannot be read: {error}."),
            Default::default(),
        )
        .into()
    })
}

/// A resource that answers other methods than `allow` with the API's 405.
fn resource(path: &str, allow: &'static str) -> Resource {
    web::resource(path).default_service(web::to(move || async move {
        Err::<HttpResponse, _>(ApiError::method_not_allowed(allow))
    }))
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("route"))
}
