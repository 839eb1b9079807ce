use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::Tab;
use super::detail_href;
use crate::actions;
use crate::db::webhooks::Webhook;
use crate::db::{Db, webhooks};
use crate::web::error::AppError;
use crate::web::htmx::Htmx;
use crate::web::layout::{Flash, Layout};
use crate::web::render;
use crate::web::session::CurrentUser;

#[derive(Template)]
#[template(path = "settings/webhooks/delete.html")]
struct ConfirmPage {
    layout: Layout,
    title: String,
    tab: Tab,
    webhook: Webhook,
    cancel_href: String,
}

pub async fn confirm(
    db: web::Data<Db>,
    layout: Layout,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let webhook = webhooks::find(db.reader(), id.into_inner(), db.now()).await?;
    let page = ConfirmPage {
        layout,
        title: format!("Delete {}", webhook.name),
        tab: Tab::Webhooks,
        cancel_href: detail_href(webhook.id),
        webhook,
    };
    render(StatusCode::OK, &page)
}

pub async fn delete(
    db: web::Data<Db>,
    user: CurrentUser,
    htmx: Htmx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let name = actions::webhooks::delete(&db, &user.actor(), id.into_inner()).await?;
    Flash::success(format!("Webhook \"{name}\" deleted"));
    Ok(htmx.redirect("/settings/webhooks"))
}
