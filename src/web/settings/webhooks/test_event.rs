//! Sending a webhook.test event to one webhook, after asking.

use actix_web::{HttpResponse, web};

use super::super::Tab;
use super::super::confirm::{self, Confirmation};
use super::detail_href;
use crate::actions;
use crate::actions::Inbox;
use crate::db::webhooks;
use crate::db::{Db, StoreError};
use crate::web::error::AppError;
use crate::web::htmx::Htmx;
use crate::web::layout::{Flash, Layout};
use crate::web::session::CurrentUser;

pub async fn confirm_test_event(
    db: web::Data<Db>,
    layout: Layout,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let webhook = webhooks::find(db.reader(), id.into_inner(), db.now()).await?;
    if !webhook.status.is_active() {
        return Err(StoreError::WebhookDisabled.into());
    }
    confirm::ask(
        layout,
        Tab::Webhooks,
        Confirmation {
            question: format!("Send a test event to {}?", webhook.name),
            consequence: "A webhook.test event, signed like every delivery, is POSTed to".into(),
            url: Some(webhook.url),
            danger: false,
            notes: vec![
                "No other webhook gets it. It shows in the delivery log moments later.".into(),
            ],
            action: format!("{}/test-event", detail_href(webhook.id)),
            fields: Vec::new(),
            confirm: "Send test event".into(),
            cancel_href: detail_href(webhook.id),
        },
    )
}

/// Sends a `webhook.test` event to this webhook only; the log shows it moments later.
pub async fn send_test_event(
    db: web::Data<Db>,
    engine: web::Data<Inbox>,
    user: CurrentUser,
    htmx: Htmx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let delivery = actions::deliveries::send_test_event(&db, &engine, &user.actor(), id).await?;
    Flash::success(format!("Test event sent (delivery {delivery})"));
    Ok(htmx.redirect(&format!("{}#delivery-log", detail_href(id))))
}
