use actix_web::{HttpResponse, web};

use super::detail_href;
use crate::db::audit::NewEntry;
use crate::db::{Db, StoreError, webhooks};
use crate::domain::{AuditAction, WebhookStatus};
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
    let change = Change {
        status: WebhookStatus::Disabled,
        action: AuditAction::WebhookDisabled,
        done: "disabled",
    };
    change.apply(&db, &user, htmx, id.into_inner()).await
}

pub async fn enable(
    db: web::Data<Db>,
    user: CurrentUser,
    htmx: Htmx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let change = Change {
        status: WebhookStatus::Active,
        action: AuditAction::WebhookEnabled,
        done: "enabled",
    };
    change.apply(&db, &user, htmx, id.into_inner()).await
}

struct Change {
    status: WebhookStatus,
    action: AuditAction,
    done: &'static str,
}

impl Change {
    async fn apply(
        self,
        db: &Db,
        user: &CurrentUser,
        htmx: Htmx,
        id: i64,
    ) -> Result<HttpResponse, AppError> {
        let mut tx = db.begin_write().await?;
        let name = webhooks::set_status(&mut tx, id, self.status).await?;
        NewEntry::new(
            &user.email,
            self.action,
            "webhook",
            &name,
            format!("status → {}", self.status.label()),
        )
        .record(&mut tx)
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Flash::success(format!("Webhook \"{name}\" {}", self.done));
        Ok(htmx.redirect(&detail_href(id)))
    }
}
