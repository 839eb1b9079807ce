use actix_web::HttpResponse;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{deliveries, error, event_types, events, webhooks};

/// The API's description, generated from the handlers' and types' annotations.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Webhook Console API",
        description = "Publish events and manage webhooks. Every route but this document needs `Authorization: Bearer <API token>`; create tokens in Settings → API Tokens or with `webhook-console token create`."
    ),
    paths(
        events::publish,
        event_types::list,
        event_types::register,
        webhooks::list,
        webhooks::create,
        webhooks::show,
        webhooks::update,
        webhooks::delete,
        webhooks::secret,
        deliveries::list,
        deliveries::redeliver,
    ),
    components(schemas(error::ErrorBody, error::ErrorDetail)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
