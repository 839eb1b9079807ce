//! `/api/v1/accounts`: the host makes an account for each of its customers (SPEC §8). Staff
//! tokens manage every account; an account token reads its own and nothing else.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Caller;
use super::body::Json;
use super::error::{ApiError, ErrorBody};
use crate::actions;
use crate::api_tokens::TokenCache;
use crate::db::accounts::{self, Account};
use crate::db::{Db, StoreError};
use crate::domain::{AccountKey, Label};

/// Account names are labels, like webhook names.
const MAX_NAME_CHARS: usize = 200;

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountBody {
    #[schema(example = "acme")]
    pub key: String,
    #[schema(example = "Acme Corporation")]
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
    /// Its webhooks, of any status.
    pub webhooks: i64,
    /// Its active webhooks that are Failing.
    pub failing_webhooks: i64,
    /// Tries made to its webhooks in the last 24 hours.
    pub deliveries_24h: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountList {
    pub data: Vec<AccountBody>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PutAccount {
    #[schema(required = true, example = "Acme Corporation", max_length = 200)]
    pub name: String,
}

impl From<Account> for AccountBody {
    fn from(account: Account) -> Self {
        Self {
            key: account.key.to_string(),
            name: account.name,
            created_at: account.created_at.rfc3339(),
            updated_at: account.updated_at.rfc3339(),
            webhooks: account.webhooks,
            failing_webhooks: account.failing,
            deliveries_24h: account.deliveries_24h,
        }
    }
}

/// The account in the path, if this caller reaches it: an account token reaches its own
/// alone, and any other key is not found, as if it did not exist.
fn reached(caller: &Caller, key: &str) -> Result<AccountKey, ApiError> {
    let key = AccountKey::parse(key).map_err(|_| ApiError::not_found("account"))?;
    match caller.sees(&key) {
        true => Ok(key),
        false => Err(ApiError::not_found("account")),
    }
}

/// Only staff tokens make, rename and delete accounts.
fn staff_only(caller: &Caller) -> Result<(), ApiError> {
    match caller.account {
        None => Ok(()),
        Some(_) => Err(ApiError::other_account()),
    }
}

#[utoipa::path(
    get, path = "/api/v1/accounts", operation_id = "listAccounts", tag = "accounts",
    responses((status = 200, description = "By key; an account token sees its own alone", body = AccountList), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list(caller: Caller, db: web::Data<Db>) -> Result<HttpResponse, ApiError> {
    let data = accounts::list(db.reader(), caller.account.as_ref(), db.now())
        .await?
        .into_iter()
        .map(AccountBody::from)
        .collect();
    Ok(HttpResponse::Ok().json(AccountList { data }))
}

#[utoipa::path(
    get, path = "/api/v1/accounts/{key}", operation_id = "getAccount", tag = "accounts",
    params(("key" = String, Path, description = "The account's key, e.g. `acme`")),
    responses((status = 200, body = AccountBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn show(
    caller: Caller,
    db: web::Data<Db>,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let key = reached(&caller, &key)?;
    let account = accounts::find(db.reader(), &key, db.now())
        .await
        .map_err(ApiError::or_not_found("account"))?;
    Ok(HttpResponse::Ok().json(AccountBody::from(account)))
}

#[utoipa::path(
    put, path = "/api/v1/accounts/{key}", operation_id = "putAccount", tag = "accounts",
    params(("key" = String, Path, description = "The account's key: `^[a-z0-9][a-z0-9._-]{0,63}$`, chosen by the host")),
    request_body = PutAccount,
    responses(
        (status = 201, description = "Created", body = AccountBody),
        (status = 200, description = "Renamed", body = AccountBody),
        (status = 400, description = "Malformed JSON, or not an object", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "An account token: only staff tokens make accounts", body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "An invalid key or name", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn put(
    caller: Caller,
    db: web::Data<Db>,
    key: web::Path<String>,
    Json(body): Json<PutAccount>,
) -> Result<HttpResponse, ApiError> {
    staff_only(&caller)?;
    let mut invalid = std::collections::BTreeMap::new();
    let key = AccountKey::parse(&key).map_err(|error| {
        invalid.insert(
            "key".to_owned(),
            vec![error.message.unwrap_or_default().into_owned()],
        );
    });
    let name =
        Label::parse(&body.name, MAX_NAME_CHARS, "Give the account a name.").map_err(|error| {
            invalid.insert(
                "name".to_owned(),
                vec![error.message.unwrap_or_default().into_owned()],
            );
        });
    let (Ok(key), Ok(name)) = (key, name) else {
        return Err(ApiError::validation(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Some fields are invalid; see details.",
            invalid,
        ));
    };
    let created = actions::accounts::put(&db, &caller.actor(), &key, name.as_str()).await?;
    let account = accounts::find(db.reader(), &key, db.now()).await?;
    let status = match created {
        true => StatusCode::CREATED,
        false => StatusCode::OK,
    };
    Ok(HttpResponse::build(status).json(AccountBody::from(account)))
}

#[utoipa::path(
    delete, path = "/api/v1/accounts/{key}", operation_id = "deleteAccount", tag = "accounts",
    params(("key" = String, Path, description = "The account's key")),
    responses(
        (status = 204, description = "Deleted, with its events, tokens and people"),
        (status = 401, body = ErrorBody),
        (status = 403, description = "An account token: only staff tokens delete accounts", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "It still has webhooks, or it is `default`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn delete(
    caller: Caller,
    db: web::Data<Db>,
    tokens: web::Data<TokenCache>,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    staff_only(&caller)?;
    let key = reached(&caller, &key)?;
    actions::accounts::delete(&db, &caller.actor(), &key)
        .await
        .map_err(|error| match error {
            StoreError::AccountInUse if key.is_default() => {
                ApiError::conflict("The default account always exists.")
            }
            StoreError::AccountInUse => ApiError::conflict(format!(
                "The account “{key}” still has webhooks: delete them first."
            )),
            other => ApiError::or_not_found("account")(other),
        })?;
    // Its tokens went with it: none is trusted from memory either.
    tokens.forget_all();
    Ok(HttpResponse::NoContent().finish())
}
