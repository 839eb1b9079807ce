use actix_web::{HttpResponse, web};

use super::super::Tab;
use super::super::confirm::{self, Confirmation};
use super::detail_href;
use crate::actions;
use crate::actions::Inbox;
use crate::db::{Db, webhooks};
use crate::domain::WebhookStatus;
use crate::web::error::AppError;
use crate::web::htmx::Htmx;
use crate::web::layout::{Flash, Layout};
use crate::web::session::CurrentUser;

pub async fn confirm_disable(
    db: web::Data<Db>,
    layout: Layout,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let webhook = webhooks::find(db.reader(), id.into_inner(), db.now()).await?;
    confirm::ask(
        layout,
        Tab::Webhooks,
        Confirmation {
            question: format!("Disable webhook “{}”?", webhook.name),
            consequence: "Nothing is sent to it until it is enabled again. Events published \
                          meanwhile are not delivered to it; deliveries already waiting are kept \
                          for when it is back."
                .into(),
            url: None,
            notes: Vec::new(),
            action: format!("{}/disable", detail_href(webhook.id)),
            fields: Vec::new(),
            confirm: "Disable webhook".into(),
            danger: true,
            cancel_href: detail_href(webhook.id),
        },
    )
}

pub async fn disable(
    db: web::Data<Db>,
    inbox: web::Data<Inbox>,
    user: CurrentUser,
    htmx: Htmx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    set_status(&db, &inbox, &user, htmx, id, WebhookStatus::Disabled).await
}

pub async fn enable(
    db: web::Data<Db>,
    inbox: web::Data<Inbox>,
    user: CurrentUser,
    htmx: Htmx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    set_status(&db, &inbox, &user, htmx, id, WebhookStatus::Active).await
}

async fn set_status(
    db: &Db,
    inbox: &Inbox,
    user: &CurrentUser,
    htmx: Htmx,
    id: i64,
    status: WebhookStatus,
) -> Result<HttpResponse, AppError> {
    let name = actions::webhooks::set_status(db, inbox, &user.actor(), id, status).await?;
    let done = if status.is_active() {
        "enabled"
    } else {
        "disabled"
    };
    Flash::success(format!("Webhook \"{name}\" {done}"));
    Ok(htmx.redirect(&detail_href(id)))
}
