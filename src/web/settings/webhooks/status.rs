use actix_web::{HttpResponse, web};

use super::detail_href;
use crate::db::{Db, StoreError, webhooks};
use crate::domain::WebhookStatus;
use crate::error::AppError;
use crate::htmx::Htmx;
use crate::web::layout::Flash;

pub async fn disable(
    db: web::Data<Db>,
    htmx: Htmx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    change(
        &db,
        htmx,
        id.into_inner(),
        WebhookStatus::Disabled,
        "disabled",
    )
    .await
}

pub async fn enable(
    db: web::Data<Db>,
    htmx: Htmx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    change(&db, htmx, id.into_inner(), WebhookStatus::Active, "enabled").await
}

async fn change(
    db: &Db,
    htmx: Htmx,
    id: i64,
    status: WebhookStatus,
    done: &str,
) -> Result<HttpResponse, AppError> {
    let mut tx = db.begin_write().await?;
    let name = webhooks::set_status(&mut tx, id, status).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Flash::success(format!("Webhook \"{name}\" {done}"));
    Ok(htmx.redirect(&detail_href(id)))
}
