use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::safe_next;
use crate::db::audit::NewEntry;
use crate::db::sign_in_failures::{self, Attempt, Limits};
use crate::db::{Db, StoreError, now_ms, users};
use crate::domain::{AuditAction, Email};
use crate::password::verify_password;
use crate::web::error::AppError;
use crate::web::layout::Layout;
use crate::web::session::{CurrentUser, UserSession};
use crate::web::{HtmlForm, render, see_other, time_format};

/// Failed sign-ins count for 15 minutes. Five per email are enough for typos and too few
/// for guessing one account's password; one address may try several accounts (an office
/// behind one NAT), but not many.
const LIMITS: Limits = Limits {
    window_ms: 15 * 60 * 1000,
    per_email: 5,
    per_client: 20,
};
/// What the audit log names for a failed sign-in whose email was no email address.
const NOT_AN_EMAIL: &str = "(not an email address)";
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
    let email = Email::parse(&form.email).ok();
    let attempt = match count_attempt(&db, &form.email, &client).await? {
        Attempt::Counted { id } => id,
        Attempt::Blocked { until } => return refuse(layout, form, throttled(until)),
    };
    let account = match &email {
        Some(email) => users::find_by_email(db.reader(), email).await?,
        None => None,
    };
    let (user, hash) = account.map_or((None, None), |(user, hash)| (Some(user), Some(hash)));
    let Ok(password_matches) = verify_password(form.password.clone(), hash).await else {
        let mut tx = db.begin_write().await?;
        sign_in_failures::forget(&mut tx, attempt).await?;
        tx.commit().await.map_err(StoreError::from)?;
        return refuse(layout, form, Refusal::busy());
    };
    let user = user.filter(|user| password_matches && !user.disabled);

    let mut tx = db.begin_write().await?;
    let Some(user) = user else {
        // Only a real email address is written down: the log shows no arbitrary typed text.
        let who = email.as_ref().map_or(NOT_AN_EMAIL, Email::as_str);
        NewEntry::new(
            who,
            AuditAction::SignInFailed,
            "user",
            who,
            format!("wrong email or password, from {client}"),
        )
        .record(&mut tx)
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        return refuse(layout, form, Refusal::wrong_password());
    };
    sign_in_failures::forget(&mut tx, attempt).await?;
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

/// Counts the attempt against the typed email and the client's address before any
/// password is checked (see [`sign_in_failures::count_attempt`]).
async fn count_attempt(db: &Db, typed_email: &str, client: &str) -> Result<Attempt, AppError> {
    let typed_email: String = typed_email
        .trim()
        .to_lowercase()
        .chars()
        .take(MAX_EMAIL_CHARS)
        .collect();
    let mut tx = db.begin_write().await?;
    let attempt =
        sign_in_failures::count_attempt(&mut tx, &typed_email, client, LIMITS, now_ms()).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(attempt)
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

/// Why the form comes back, and when to try again if that is the point.
struct Refusal {
    status: StatusCode,
    message: String,
    retry_after_seconds: Option<i64>,
}

impl Refusal {
    fn wrong_password() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            message: "Email or password is wrong.".into(),
            retry_after_seconds: None,
        }
    }

    fn busy() -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: "Many people are signing in right now. Please try again in a moment.".into(),
            retry_after_seconds: Some(BUSY_RETRY_AFTER_SECONDS),
        }
    }
}

/// A moment is enough: hashes take tens of milliseconds each.
const BUSY_RETRY_AFTER_SECONDS: i64 = 2;

/// The form again, with the typed email kept and the password not.
fn refuse(layout: Layout, form: SignInForm, refusal: Refusal) -> Result<HttpResponse, AppError> {
    let page = LoginPage {
        layout,
        title: "Sign in".into(),
        signed_out: false,
        email: form.email,
        next: safe_next(&form.next).to_owned(),
        error: Some(refusal.message),
    };
    let mut response = render(refusal.status, &page)?;
    if let Some(seconds) = refusal.retry_after_seconds {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(seconds.max(1)),
        );
    }
    Ok(response)
}

fn throttled(until_ms: i64) -> Refusal {
    let seconds = ((until_ms - now_ms()).max(0) + 999) / 1000;
    let minutes = ((seconds + 59) / 60).max(1);
    Refusal {
        status: StatusCode::TOO_MANY_REQUESTS,
        message: format!(
            "Too many failed sign-ins. Try again in {minutes} minute{} (after {}).",
            if minutes == 1 { "" } else { "s" },
            time_format::absolute(until_ms)
        ),
        retry_after_seconds: Some(seconds),
    }
}
