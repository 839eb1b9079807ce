use actix_web::{HttpResponse, web};

use super::detail_href;
use crate::actions;
use crate::db::Db;
use crate::htmx::Htmx;
use crate::secret_box::SecretBox;
use crate::web::error::AppError;
use crate::web::layout::Flash;
use crate::web::session::CurrentUser;

pub async fn rotate(
    db: web::Data<Db>,
    secrets: web::Data<SecretBox>,
    user: CurrentUser,
    htmx: Htmx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    actions::webhooks::rotate_secret(&db, &secrets, &user.actor(), id).await?;
    Flash::success("Signing secret rotated; the previous one keeps signing for 24 hours");
    Ok(htmx.redirect(&detail_href(id)))
}
