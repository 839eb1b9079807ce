use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::safe_next;
use crate::auth::{CurrentUser, UserSession, verify_password};
use crate::db::audit::NewEntry;
use crate::db::sign_in_failures::{self, FailureKey};
use crate::db::{Db, StoreError, now_ms, users};
use crate::domain::{AuditAction, Email};
use crate::error::AppError;
use crate::web::layout::Layout;
use crate::web::{HtmlForm, render, see_other, time_format};

/// Failed sign-ins count for this long.
const FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;
/// Enough for typos, too few for guessing one account's password.
const MAX_FAILURES_PER_EMAIL: i64 = 5;
/// One address may try several accounts (an office behind one NAT), but not many.
const MAX_FAILURES_PER_CLIENT: i64 = 20;
/// Emails longer than this are not emails; the audit log keeps no more.
const MAX_EMAIL_CHARS: usize = 254;

#[derive(Template)]
#[template(path = "sign_in/login.html")]
struct LoginPage {
    layout: Layout,
    title: String,
    signed_out: bool,
    email: String,
    next: String,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginQuery {
    next: String,
    signed_out: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct SignInForm {
    email: String,
    password: String,
    next: String,
}

pub async fn form(
    layout: Layout,
    session: UserSession,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, AppError> {
    if session.user_id().is_some() {
        return Ok(see_other(safe_next(&query.next)));
    }
    let query = query.into_inner();
    let page = LoginPage {
        layout,
        title: "Sign in".into(),
        signed_out: query.signed_out.is_some(),
        email: String::new(),
        next: safe_next(&query.next).to_owned(),
        error: None,
    };
    render(StatusCode::OK, &page)
}

pub async fn sign_in(
    db: web::Data<Db>,
    layout: Layout,
    session: UserSession,
    request: HttpRequest,
    HtmlForm(form): HtmlForm<SignInForm>,
) -> Result<HttpResponse, AppError> {
    let client = request
        .peer_addr()
        .map(|address| address.ip().to_string())
        .unwrap_or_default();
    let typed_email: String = form
        .email
        .trim()
        .to_lowercase()
        .chars()
        .take(MAX_EMAIL_CHARS)
        .collect();
    let retry_at = [
        (
            FailureKey::Email,
            typed_email.as_str(),
            MAX_FAILURES_PER_EMAIL,
        ),
        (FailureKey::Client, client.as_str(), MAX_FAILURES_PER_CLIENT),
    ];
    for (key, value, limit) in retry_at {
        if let Some(until) =
            sign_in_failures::blocked_until(db.reader(), key, value, limit, FAILURE_WINDOW_MS)
                .await?
        {
            return refuse(
                layout,
                form,
                StatusCode::TOO_MANY_REQUESTS,
                throttled(until),
            );
        }
    }

    let account = match Email::parse(&form.email) {
        Ok(email) => users::find_by_email(db.reader(), &email).await?,
        Err(_) => None,
    };
    let (user, hash) = account.map_or((None, None), |(user, hash)| (Some(user), Some(hash)));
    let password_matches = verify_password(form.password.clone(), hash).await;
    let user = user.filter(|user| password_matches && !user.disabled);

    let mut tx = db.begin_write().await?;
    let Some(user) = user else {
        sign_in_failures::record(&mut tx, &typed_email, &client, FAILURE_WINDOW_MS).await?;
        NewEntry::new(
            &typed_email,
            AuditAction::SignInFailed,
            "user",
            &typed_email,
            format!("wrong email or password, from {client}"),
        )
        .record(&mut tx)
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        return refuse(
            layout,
            form,
            StatusCode::UNAUTHORIZED,
            "Email or password is wrong.".into(),
        );
    };
    NewEntry::new(
        &user.email,
        AuditAction::SignIn,
        "user",
        &user.email,
        format!("from {client}"),
    )
    .record(&mut tx)
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    session.sign_in(user.id)?;
    Ok(see_other(safe_next(&form.next)))
}

pub async fn sign_out(
    db: web::Data<Db>,
    user: CurrentUser,
    session: UserSession,
) -> Result<HttpResponse, AppError> {
    let mut tx = db.begin_write().await?;
    NewEntry::new(
        &user.email,
        AuditAction::SignOut,
        "user",
        &user.email,
        String::new(),
    )
    .record(&mut tx)
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    session.sign_out();
    Ok(see_other("/login?signed_out=1"))
}

/// The form again, with the typed email kept and the password not.
fn refuse(
    layout: Layout,
    form: SignInForm,
    status: StatusCode,
    error: String,
) -> Result<HttpResponse, AppError> {
    let page = LoginPage {
        layout,
        title: "Sign in".into(),
        signed_out: false,
        email: form.email,
        next: form.next,
        error: Some(error),
    };
    render(status, &page)
}

fn throttled(until_ms: i64) -> String {
    let minutes = ((until_ms - now_ms()) as f64 / 60_000.0).ceil().max(1.0) as i64;
    format!(
        "Too many failed sign-ins. Try again in {minutes} minute{} (after {}).",
        if minutes == 1 { "" } else { "s" },
        time_format::absolute(until_ms)
    )
}
