//! The API Tokens tab: tokens for the event API, shown once and stored hashed.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::Tab;
use crate::api_tokens::{self as tokens, TokenCache, TokenError};
use crate::db::audit::NewEntry;
use crate::db::{Db, StoreError, api_tokens};
use crate::domain::AuditAction;
use crate::web::error::AppError;
use crate::web::layout::{Flash, Layout};
use crate::web::routes::{Access, Page, get, post};
use crate::web::session::CurrentUser;
use crate::web::{HtmlForm, render, see_other, time_format};

pub fn pages() -> Vec<Page> {
    vec![
        get("/settings/tokens", Access::Admin, list),
        post("/settings/tokens", Access::Admin, create),
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
    admin: CurrentUser,
    layout: Layout,
    HtmlForm(form): HtmlForm<TokenForm>,
) -> Result<HttpResponse, AppError> {
    match tokens::create(&db, &form.name, &admin.email).await {
        Ok(token) => {
            let page = tokens_page(&db, layout, String::new(), None, Some(token)).await?;
            render(StatusCode::OK, &page)
        }
        Err(TokenError::Store(error)) => Err(error.into()),
        Err(invalid) => {
            let page = tokens_page(&db, layout, form.name, Some(invalid.to_string()), None).await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

async fn revoke(
    db: web::Data<Db>,
    cache: web::Data<TokenCache>,
    admin: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let mut tx = db.begin_write().await?;
    let name = api_tokens::revoke(&mut tx, id.into_inner()).await?;
    NewEntry::new(
        &admin.email,
        AuditAction::TokenRevoked,
        "token",
        &name,
        "requests with it are refused from now on",
    )
    .record(&mut tx)
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
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
            created_at: time_format::absolute(token.created_at),
            last_used: token
                .last_used_at
                .map_or_else(|| "Never".to_owned(), time_format::absolute),
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
