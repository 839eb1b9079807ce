//! The signing secret in the console: an admin reveals it (audited), sees a new one once
//! right after Create and after Rotate, and is asked before rotating. Support never sees it:
//! every route here is for admins, and the detail page offers it to admins only.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::Tab;
use super::super::confirm::{self, Confirmation};
use super::detail_href;
use crate::actions::{self, webhooks::PREVIOUS_SECRET_SIGNS_FOR};
use crate::db::{Db, webhooks};
use crate::secrets::secret_box::{Purpose, SecretBox};
use crate::web::error::AppError;
use crate::web::htmx::Htmx;
use crate::web::layout::{Flash, Layout};
use crate::web::render;
use crate::web::session::{CurrentUser, UserSession};

/// The secret field of the detail page: hidden until Reveal, then the secret and Copy.
#[derive(Template)]
#[template(path = "settings/webhooks/_signing_secret.html")]
pub struct SecretField {
    pub webhook_id: i64,
    pub secret: Option<String>,
    pub csrf_token: String,
}

/// The revealed secret on a page of its own, for a browser without JavaScript.
#[derive(Template)]
#[template(path = "settings/webhooks/secret.html")]
struct SecretPage {
    layout: Layout,
    title: String,
    tab: Tab,
    webhook_id: i64,
    webhook_name: String,
    field: SecretField,
}

pub async fn reveal(
    db: web::Data<Db>,
    secrets: web::Data<SecretBox>,
    user: CurrentUser,
    layout: Layout,
    htmx: Htmx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let secret = actions::webhooks::reveal_secret(&db, &secrets, &user.actor(), id).await?;
    let field = SecretField {
        webhook_id: id,
        secret: Some(secret),
        csrf_token: layout.csrf_token.clone(),
    };
    if htmx.wants_partial() {
        return render(StatusCode::OK, &field);
    }
    let webhook = webhooks::find(db.reader(), id, db.now()).await?;
    render(
        StatusCode::OK,
        &SecretPage {
            layout,
            title: format!("Signing secret of {}", webhook.name),
            tab: Tab::Webhooks,
            webhook_id: id,
            webhook_name: webhook.name,
            field,
        },
    )
}

pub async fn confirm_rotate(
    db: web::Data<Db>,
    layout: Layout,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let now = db.now();
    let webhook = webhooks::find(db.reader(), id.into_inner(), now).await?;
    confirm::ask(
        layout,
        Tab::Webhooks,
        Confirmation {
            question: format!("Rotate the signing secret of “{}”?", webhook.name),
            consequence: format!(
                "A new secret signs every delivery from now on. The current one keeps signing \
                 beside it until {}, so the receiver has until then to switch to the new one.",
                now.plus(PREVIOUS_SECRET_SIGNS_FOR).absolute()
            ),
            url: None,
            notes: vec!["The new secret is shown once, on the next page.".into()],
            action: format!("{}/rotate-secret", detail_href(webhook.id)),
            fields: Vec::new(),
            confirm: "Rotate secret".into(),
            danger: false,
            cancel_href: detail_href(webhook.id),
        },
    )
}

pub async fn rotate(
    db: web::Data<Db>,
    secrets: web::Data<SecretBox>,
    user: CurrentUser,
    session: UserSession,
    htmx: Htmx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let secret = actions::webhooks::rotate_secret(&db, &secrets, &user.actor(), id).await?;
    show_once(&session, &secrets, id, &secret)?;
    Flash::success("Signing secret rotated; the previous one keeps signing for 24 hours");
    Ok(htmx.redirect(&detail_href(id)))
}

/// Keeps a new secret for the webhook's page to show once (sealed in the session, so it is
/// in no URL and a reload does not show it again).
pub fn show_once(
    session: &UserSession,
    secrets: &SecretBox,
    webhook_id: i64,
    secret: &str,
) -> Result<(), AppError> {
    session.keep_to_show_once(&(webhook_id, secrets.seal(Purpose::ShownOnce, secret)))?;
    Ok(())
}

/// The new secret kept for this webhook's page, taken out of the session.
pub fn take_new_secret(
    session: &UserSession,
    secrets: &SecretBox,
    webhook_id: i64,
) -> Option<String> {
    let (kept_for, sealed) = session.take_shown_once::<(i64, String)>()?;
    (kept_for == webhook_id)
        .then(|| secrets.open(Purpose::ShownOnce, &sealed).ok())
        .flatten()
}
