//! Recovering a webhook's failed deliveries since a time: how many first, then all at once.

use actix_web::{HttpResponse, web};

use super::super::Tab;
use super::super::confirm::{self, Confirmation};
use super::detail_href;
use super::log::RECOVER_BY_DEFAULT;
use crate::actions;
use crate::actions::Inbox;
use crate::clock::Timestamp;
use crate::db::Db;
use crate::db::deliveries::{self, DeliverySearch};
use crate::db::webhooks;
use crate::domain::DeliveryStatus;
use crate::web::HtmlForm;
use crate::web::error::AppError;
use crate::web::htmx::Htmx;
use crate::web::layout::{Flash, Layout};
use crate::web::session::CurrentUser;

#[derive(serde::Deserialize)]
pub struct RecoverForm {
    #[serde(default)]
    since: String,
}

fn recovery_start(form: &RecoverForm) -> Result<Timestamp, AppError> {
    Timestamp::parse_utc_minutes(form.since.trim()).ok_or_else(|| {
        AppError::BadRequest("Enter the time to recover from, like 2026-11-28T09:00 (UTC).".into())
    })
}

/// Says how many failed deliveries a recovery would send again before it does.
pub async fn confirm_recover(
    db: web::Data<Db>,
    layout: Layout,
    id: web::Path<i64>,
    form: web::Query<RecoverForm>,
) -> Result<HttpResponse, AppError> {
    let now = db.now();
    let form = match form.since.trim() {
        "" => RecoverForm {
            since: now.minus(RECOVER_BY_DEFAULT).utc_minutes(),
        },
        _ => form.into_inner(),
    };
    let since = recovery_start(&form)?;
    let webhook = webhooks::find(db.reader(), id.into_inner(), now).await?;
    let search = DeliverySearch {
        webhook_id: Some(webhook.id),
        status: Some(DeliveryStatus::Failed),
        created_from: Some(since),
        ..DeliverySearch::default()
    };
    let failed = deliveries::count(db.reader(), &search).await?;
    let what = match failed {
        1 => "1 failed delivery".to_owned(),
        n => format!("{n} failed deliveries"),
    };
    let mut notes = vec!["Each keeps its webhook-id and gets a fresh retry schedule.".to_owned()];
    if !webhook.status.is_active() {
        notes.push("The webhook is off: they wait until it is enabled again.".into());
    }
    confirm::ask(
        layout,
        Tab::Webhooks,
        Confirmation {
            question: format!("Recover {what} since {}?", since.absolute()),
            consequence: format!("{what} of {} will be POSTed again to", webhook.name),
            url: Some(webhook.url),
            danger: false,
            notes,
            action: format!("{}/recover", detail_href(webhook.id)),
            fields: vec![("since", form.since.trim().to_owned())],
            confirm: if failed == 0 {
                "Recover".into()
            } else {
                format!("Recover {what}")
            },
            cancel_href: format!("{}#delivery-log", detail_href(webhook.id)),
        },
    )
}

/// Queues every failed delivery since the chosen time again.
pub async fn recover_failed(
    db: web::Data<Db>,
    engine: web::Data<Inbox>,
    user: CurrentUser,
    htmx: Htmx,
    id: web::Path<i64>,
    HtmlForm(form): HtmlForm<RecoverForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let since = recovery_start(&form)?;
    let recovered =
        actions::deliveries::recover_failed(&db, &engine, &user.actor(), id, since).await?;
    Flash::success(match recovered {
        0 => format!("No failed deliveries since {}", since.absolute()),
        1 => "1 failed delivery queued again".to_owned(),
        n => format!("{n} failed deliveries queued again"),
    });
    Ok(htmx.redirect(&format!("{}#delivery-log", detail_href(id))))
}
