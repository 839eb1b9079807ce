mod events;
mod webhooks;

use actix_web::{HttpResponse, web};

use super::see_other;

/// The tabs of the Settings screen, in the order they are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Webhooks,
    Events,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings", web::get().to(default_tab))
        .configure(webhooks::routes)
        .route("/settings/events", web::get().to(events::catalog));
}

async fn default_tab() -> HttpResponse {
    see_other("/settings/webhooks")
}
