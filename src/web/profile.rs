//! Your profile: who you are signed in as, and changing your own password. The current
//! password is asked for (a borrowed session cannot lock its owner out), and a wrong one
//! counts like a failed sign-in, so the form is no way around the sign-in limits.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::actions;
use crate::db::sign_in_failures::Attempt;
use crate::db::{Db, users};
use crate::domain::{Email, Password};
use crate::secrets::password::verify_password;
use crate::web::client::ClientAddress;
use crate::web::error::AppError;
use crate::web::layout::{Flash, Layout};
use crate::web::routes::{Access, Page, get, post};
use crate::web::session::{CurrentUser, UserSession};
use crate::web::{HtmlForm, render, see_other};

pub fn pages() -> Vec<Page> {
    vec![
        get("/profile", Access::SignedIn, show),
        post("/profile/password", Access::SignedIn, change_password),
    ]
}

#[derive(Template)]
#[template(path = "profile/show.html")]
struct ProfilePage {
    layout: Layout,
    title: String,
    errors: PasswordErrors,
}

#[derive(Default)]
struct PasswordErrors {
    current_password: Option<String>,
    new_password: Option<String>,
    new_password_confirm: Option<String>,
}

impl PasswordErrors {
    fn any(&self) -> bool {
        self.current_password.is_some()
            || self.new_password.is_some()
            || self.new_password_confirm.is_some()
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    new_password_confirm: String,
}

async fn show(layout: Layout) -> Result<HttpResponse, AppError> {
    page(StatusCode::OK, layout, PasswordErrors::default())
}

fn page(
    status: StatusCode,
    layout: Layout,
    errors: PasswordErrors,
) -> Result<HttpResponse, AppError> {
    let page = ProfilePage {
        layout,
        title: "Your profile".into(),
        errors,
    };
    render(status, &page)
}

async fn change_password(
    db: web::Data<Db>,
    user: CurrentUser,
    layout: Layout,
    session: UserSession,
    ClientAddress(client): ClientAddress,
    HtmlForm(form): HtmlForm<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let parsed = Password::parse(&form.new_password);
    let mut errors = PasswordErrors {
        current_password: form
            .current_password
            .is_empty()
            .then(|| "Enter your current password.".to_owned()),
        new_password: parsed.as_ref().err().map(ToString::to_string),
        new_password_confirm: (form.new_password != form.new_password_confirm)
            .then(|| "The two new passwords differ.".to_owned()),
    };
    if errors.new_password.is_none() && form.new_password == form.current_password {
        errors.new_password = Some("Choose a password other than the current one.".to_owned());
    }
    let new_password = match parsed {
        Ok(password) if !errors.any() => password,
        _ => return page(StatusCode::UNPROCESSABLE_ENTITY, layout, errors),
    };
    let attempt = match actions::sign_in::count_attempt(&db, &user.email, &client, true).await? {
        Attempt::Counted { id } => id,
        Attempt::Blocked { until } => {
            errors.current_password = Some(format!(
                "Too many wrong passwords. Try again after {}.",
                until.absolute()
            ));
            return page(StatusCode::TOO_MANY_REQUESTS, layout, errors);
        }
    };
    let hash = match Email::parse(&user.email) {
        Ok(email) => users::find_by_email(db.reader(), &email)
            .await?
            .map(|found| found.password_hash),
        Err(_) => None,
    };
    let Ok(matches) = verify_password(form.current_password, hash).await else {
        actions::sign_in::uncount_attempt(&db, attempt).await?;
        errors.current_password =
            Some("Many people are signing in right now. Try again in a moment.".to_owned());
        return page(StatusCode::SERVICE_UNAVAILABLE, layout, errors);
    };
    if !matches {
        actions::sign_in::failed(&db, Some(&user.email), &client).await?;
        errors.current_password = Some("That is not your current password.".to_owned());
        return page(StatusCode::UNPROCESSABLE_ENTITY, layout, errors);
    }
    actions::sign_in::uncount_attempt(&db, attempt).await?;
    actions::users::change_own_password(&db, user.id, &user.email, new_password).await?;
    // Every session was deleted with the old password; this browser gets a new one.
    session.sign_in(user.id)?;
    Flash::success("Password changed. Your other sessions were signed out.");
    Ok(see_other("/profile"))
}
