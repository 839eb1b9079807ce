use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::known_browser::KnownBrowser;
use super::safe_next;
use crate::actions;
use crate::clock::Timestamp;
use crate::db::sign_in_failures::Attempt;
use crate::db::{Db, users};
use crate::domain::Email;
use crate::secrets::password::verify_password;
use crate::web::client::ClientAddress;
use crate::web::error::AppError;
use crate::web::layout::Layout;
use crate::web::session::{CurrentUser, UserSession};
use crate::web::{HtmlForm, render, see_other};

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
    ClientAddress(client): ClientAddress,
    known: KnownBrowser,
    HtmlForm(form): HtmlForm<SignInForm>,
) -> Result<HttpResponse, AppError> {
    let known_here = known.knows(&form.email);
    let attempt =
        match actions::sign_in::count_attempt(&db, &form.email, &client, known_here).await? {
            Attempt::Counted { id } => id,
            Attempt::Blocked { until } => return refuse(layout, form, throttled(until, db.now())),
        };
    let email = Email::parse(&form.email).ok();
    let credentials = match &email {
        Some(email) => users::find_by_email(db.reader(), email).await?,
        None => None,
    };
    let (user, hash) = credentials.map_or((None, None), |c| (Some(c.user), Some(c.password_hash)));
    let Ok(password_matches) = verify_password(form.password.clone(), hash).await else {
        actions::sign_in::uncount_attempt(&db, attempt).await?;
        return refuse(layout, form, Refusal::busy());
    };
    let Some(user) = user.filter(|user| password_matches && !user.disabled) else {
        let email = email.as_ref().map(Email::as_str);
        actions::sign_in::failed(&db, email, &client).await?;
        return refuse(layout, form, Refusal::wrong_password());
    };
    actions::sign_in::succeeded(&db, attempt, &user.email, &client).await?;
    session.sign_in(user.id)?;
    let mut response = see_other(safe_next(&form.next));
    if let Some(cookie) = known.remembering(&user.email) {
        // A cookie that cannot be set leaves the browser unknown, nothing worse.
        let _ = response.add_cookie(&cookie);
    }
    Ok(response)
}

pub async fn sign_out(
    db: web::Data<Db>,
    user: CurrentUser,
    session: UserSession,
) -> Result<HttpResponse, AppError> {
    actions::sign_in::signed_out(&db, &user.email).await?;
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

fn throttled(until: Timestamp, now: Timestamp) -> Refusal {
    let seconds = (now.until(until).as_millis() as i64 + 999) / 1000;
    let minutes = ((seconds + 59) / 60).max(1);
    Refusal {
        status: StatusCode::TOO_MANY_REQUESTS,
        message: format!(
            "Too many failed sign-ins. Try again in {minutes} minute{} (after {}).",
            if minutes == 1 { "" } else { "s" },
            until.absolute()
        ),
        retry_after_seconds: Some(seconds),
    }
}
