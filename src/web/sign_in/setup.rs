//! First run: a one-time link lets the first admin choose their email and password.

use std::sync::Mutex;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::actions::{self, Actor};
use crate::db::Db;
use crate::domain::{Email, Password};
use crate::web::error::AppError;
use crate::web::layout::{Flash, Layout};
use crate::web::session::UserSession;
use crate::web::{HtmlForm, render, see_other};

/// The token of the one-time setup link; `None` once it has been used, or when the console
/// already had users at start.
#[derive(Debug, Default)]
pub struct SetupToken(Mutex<Option<String>>);

impl SetupToken {
    pub fn new(token: Option<String>) -> Self {
        Self(Mutex::new(token))
    }

    fn matches(&self, offered: &str) -> bool {
        self.0
            .lock()
            .map(|token| {
                token
                    .as_deref()
                    .is_some_and(|token| bool::from(token.as_bytes().ct_eq(offered.as_bytes())))
            })
            .unwrap_or(false)
    }

    fn consume(&self) {
        if let Ok(mut token) = self.0.lock() {
            *token = None;
        }
    }
}

#[derive(Template)]
#[template(path = "sign_in/setup.html")]
struct SetupPage {
    layout: Layout,
    title: String,
    token: String,
    email: String,
    errors: SetupErrors,
}

#[derive(Default)]
struct SetupErrors {
    email: Option<String>,
    password: Option<String>,
    password_confirm: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SetupQuery {
    token: String,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct SetupForm {
    token: String,
    email: String,
    password: String,
    password_confirm: String,
}

pub async fn form(
    setup: web::Data<SetupToken>,
    layout: Layout,
    query: web::Query<SetupQuery>,
) -> Result<HttpResponse, AppError> {
    if !setup.matches(&query.token) {
        return Err(AppError::NotFound);
    }
    let page = SetupPage {
        layout,
        title: "Set up Webhook Console".into(),
        token: query.into_inner().token,
        email: String::new(),
        errors: SetupErrors::default(),
    };
    render(StatusCode::OK, &page)
}

pub async fn create_first_admin(
    db: web::Data<Db>,
    setup: web::Data<SetupToken>,
    layout: Layout,
    session: UserSession,
    HtmlForm(form): HtmlForm<SetupForm>,
) -> Result<HttpResponse, AppError> {
    if !setup.matches(&form.token) {
        return Err(AppError::NotFound);
    }
    let email = Email::parse(&form.email);
    let password = Password::parse(&form.password);
    let confirmed = form.password == form.password_confirm;
    let (Ok(email), Ok(password), true) = (&email, &password, confirmed) else {
        let errors = SetupErrors {
            email: email.err().map(|e| e.to_string()),
            password: password.err().map(|e| e.to_string()),
            password_confirm: (!confirmed).then(|| "The two passwords differ.".to_owned()),
        };
        let page = SetupPage {
            layout,
            title: "Set up Webhook Console".into(),
            token: form.token,
            email: form.email,
            errors,
        };
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let actor = Actor::User(email.to_string());
    let how = "through the one-time setup link";
    let created =
        actions::users::create_first_admin(&db, &actor, email, password.clone(), how).await?;
    let Some(id) = created else {
        setup.consume();
        return Err(AppError::NotFound);
    };
    setup.consume();
    session.sign_in(id)?;
    Flash::success("Welcome! Your admin account is ready.");
    Ok(see_other("/settings/webhooks"))
}
