//! The API Tokens tab: tokens for the event API, shown once and stored hashed.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::Tab;
use super::confirm::{self, Confirmation};
use crate::actions;
use crate::actions::tokens::TokenError;
use crate::api_tokens::TokenCache;
use crate::clock::Timestamp;
use crate::db::{Db, api_tokens};
use crate::secrets::secret_box::{Purpose, SecretBox};
use crate::web::error::AppError;
use crate::web::layout::{Flash, Layout};
use crate::web::routes::{Access, Page, get, post};
use crate::web::session::{CurrentUser, UserSession};
use crate::web::{HtmlForm, render, see_other};

pub fn pages() -> Vec<Page> {
    vec![
        get("/settings/tokens", Access::Admin, list),
        post("/settings/tokens", Access::Admin, create),
        get("/settings/tokens/new", Access::Admin, new_token_page),
        get(
            "/settings/tokens/{id:[0-9]+}/revoke",
            Access::Admin,
            confirm_revoke,
        ),
        post("/settings/tokens/{id:[0-9]+}/revoke", Access::Admin, revoke),
    ]
}

#[derive(Template)]
#[template(path = "settings/tokens.html")]
struct TokensPage {
    layout: Layout,
    title: String,
    tab: Tab,
    tokens: Vec<TokenRow>,
    name: String,
    name_error: Option<String>,
    /// Just created: shown this once.
    new_token: Option<String>,
}

struct TokenRow {
    id: i64,
    name: String,
    prefix: String,
    created_at: String,
    last_used: String,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct TokenForm {
    name: String,
}

async fn list(db: web::Data<Db>, layout: Layout) -> Result<HttpResponse, AppError> {
    let page = tokens_page(&db, layout, String::new(), None, None).await?;
    render(StatusCode::OK, &page)
}

async fn create(
    db: web::Data<Db>,
    secrets: web::Data<SecretBox>,
    admin: CurrentUser,
    session: UserSession,
    layout: Layout,
    HtmlForm(form): HtmlForm<TokenForm>,
) -> Result<HttpResponse, AppError> {
    match actions::tokens::create(&db, &admin.actor(), &form.name, None).await {
        // Post/redirect/get: the token waits, sealed, in the session for the page that
        // shows it once, so Back or a reload never makes a second token.
        Ok(token) => {
            session.keep_to_show_once(&secrets.seal(Purpose::ShownOnce, &token))?;
            Ok(see_other(NEW_TOKEN_PAGE))
        }
        Err(TokenError::Store(error)) => Err(error.into()),
        Err(invalid) => {
            let page = tokens_page(&db, layout, form.name, Some(invalid.to_string()), None).await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

const NEW_TOKEN_PAGE: &str = "/settings/tokens/new";

async fn new_token_page(
    db: web::Data<Db>,
    secrets: web::Data<SecretBox>,
    session: UserSession,
    layout: Layout,
) -> Result<HttpResponse, AppError> {
    let token = session
        .take_shown_once::<String>()
        .and_then(|sealed| secrets.open(Purpose::ShownOnce, &sealed).ok());
    let Some(token) = token else {
        Flash::info("A new token is shown only once. Create another if it was not copied.");
        return Ok(see_other("/settings/tokens"));
    };
    let page = tokens_page(&db, layout, String::new(), None, Some(token)).await?;
    render(StatusCode::OK, &page)
}

async fn confirm_revoke(
    db: web::Data<Db>,
    layout: Layout,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let token = api_tokens::find(db.reader(), id.into_inner()).await?;
    confirm::ask(
        layout,
        Tab::Tokens,
        Confirmation {
            question: format!("Revoke token “{}”?", token.name),
            consequence: format!(
                "Every program using {}… gets 401 from its next request on. This cannot be undone; \
                 a program that still needs access needs a new token.",
                token.prefix
            ),
            url: None,
            notes: Vec::new(),
            action: format!("/settings/tokens/{}/revoke", token.id),
            fields: Vec::new(),
            confirm: "Revoke token".into(),
            danger: true,
            cancel_href: "/settings/tokens".into(),
        },
    )
}

async fn revoke(
    db: web::Data<Db>,
    cache: web::Data<TokenCache>,
    admin: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let name = actions::tokens::revoke(&db, &admin.actor(), id.into_inner()).await?;
    cache.forget_all();
    Flash::success(format!("Token \"{name}\" revoked"));
    Ok(see_other("/settings/tokens"))
}

async fn tokens_page(
    db: &Db,
    layout: Layout,
    name: String,
    name_error: Option<String>,
    new_token: Option<String>,
) -> Result<TokensPage, AppError> {
    let tokens = api_tokens::list_active(db.reader())
        .await?
        .into_iter()
        .map(|token| TokenRow {
            id: token.id,
            name: token.name,
            prefix: token.prefix,
            created_at: token.created_at.absolute(),
            last_used: token
                .last_used_at
                .map_or_else(|| "Never".to_owned(), Timestamp::absolute),
        })
        .collect();
    Ok(TokensPage {
        layout,
        title: "API Tokens".into(),
        tab: Tab::Tokens,
        tokens,
        name,
        name_error,
        new_token,
    })
}
