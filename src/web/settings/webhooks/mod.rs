mod delete;
mod detail;
mod form;
mod list;
mod status;
mod view;

use actix_web::web;

/// Rows per page of the webhook list.
const PAGE_SIZE: i64 = 25;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/webhooks", web::get().to(list::list))
        .route("/settings/webhooks", web::post().to(form::create))
        .route("/settings/webhooks/new", web::get().to(form::new))
        .route("/settings/webhooks/{id}", web::get().to(detail::show))
        .route("/settings/webhooks/{id}/edit", web::get().to(form::edit))
        .route("/settings/webhooks/{id}/edit", web::post().to(form::update))
        .route(
            "/settings/webhooks/{id}/disable",
            web::post().to(status::disable),
        )
        .route(
            "/settings/webhooks/{id}/enable",
            web::post().to(status::enable),
        )
        .route(
            "/settings/webhooks/{id}/delete",
            web::get().to(delete::confirm),
        )
        .route(
            "/settings/webhooks/{id}/delete",
            web::post().to(delete::delete),
        );
}

fn detail_href(id: i64) -> String {
    format!("/settings/webhooks/{id}")
}
