use actix_web::{HttpResponse, web};

use super::detail_href;
use crate::actions;
use crate::db::Db;
use crate::domain::WebhookStatus;
use crate::htmx::Htmx;
use crate::web::error::AppError;
use crate::web::layout::Flash;
use crate::web::session::CurrentUser;

pub async fn disable(
    db: web::Data<Db>,
    user: CurrentUser,
    htmx: Htmx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    set_status(&db, &user, htmx, id.into_inner(), WebhookStatus::Disabled).await
}

pub async fn enable(
    db: web::Data<Db>,
    user: CurrentUser,
    htmx: Htmx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    set_status(&db, &user, htmx, id.into_inner(), WebhookStatus::Active).await
}

async fn set_status(
    db: &Db,
    user: &CurrentUser,
    htmx: Htmx,
    id: i64,
    status: WebhookStatus,
) -> Result<HttpResponse, AppError> {
    let name = actions::webhooks::set_status(db, &user.actor(), id, status).await?;
    let done = if status.is_active() {
        "enabled"
    } else {
        "disabled"
    };
    Flash::success(format!("Webhook \"{name}\" {done}"));
    Ok(htmx.redirect(&detail_href(id)))
}
