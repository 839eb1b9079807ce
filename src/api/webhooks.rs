mod types;

use actix_web::{HttpResponse, web};

use super::auth::Caller;
use super::body::Json;
use super::error::{ApiError, ErrorBody};
use crate::actions;
use crate::actions::Inbox;
use crate::db::webhooks::WebhookFilter;
use crate::db::{Db, StoreError, webhooks};
use crate::domain::paging::{PAGE_SIZE, Pager};
use crate::domain::{MaxWebhooksPerAccount, WebhookInput, WebhookStatus, name_taken_message};
use crate::secrets::secret_box::SecretBox;
pub use types::{
    CreateWebhook, ListQuery, SecretBody, StatusChoice, UpdateWebhook, WebhookBody, WebhookPage,
};

/// Webhooks per page of `GET /api/v1/webhooks`.

#[utoipa::path(
    get, path = "/api/v1/webhooks", operation_id = "listWebhooks", tag = "webhooks",
    params(ListQuery),
    responses(
        (status = 200, body = WebhookPage),
        (status = 400, description = "Query cannot be read", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "An account token asked for another account", body = ErrorBody),
        (status = 404, description = "No account has the key asked for (`unknown_account`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    caller: Caller,
    db: web::Data<Db>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = WebhookFilter {
        account: caller.listing(query.account.as_deref())?,
        search: query
            .q
            .clone()
            .map(|q| q.trim().to_owned())
            .filter(|q| !q.is_empty()),
        ..WebhookFilter::default()
    };
    let total = webhooks::count(db.reader(), &filter).await?;
    let pager = Pager::new(query.page.unwrap_or(1), PAGE_SIZE);
    let now = db.now();
    let rows = webhooks::list(db.reader(), &filter, pager, now).await?;
    Ok(HttpResponse::Ok().json(WebhookPage {
        data: rows
            .into_iter()
            .map(|row| WebhookBody::new(row, now))
            .collect(),
        page: pager.number(),
        per_page: pager.size(),
        total,
    }))
}

#[utoipa::path(
    post, path = "/api/v1/webhooks", operation_id = "createWebhook", tag = "webhooks",
    request_body = CreateWebhook,
    responses(
        (status = 201, body = WebhookBody),
        (status = 400, description = "Malformed JSON or wrong field types", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "An account token named another account", body = ErrorBody),
        (status = 404, description = "No account has the key named in `account` (`unknown_account`)", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 409, description = "The name is taken in the account (ignoring case), a chosen event type is archived, or the account has as many webhooks as it may (`account_full`)", body = ErrorBody),
        (status = 422, description = "Invalid fields, with a message per field", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    caller: Caller,
    db: web::Data<Db>,
    secrets: web::Data<SecretBox>,
    limit: web::Data<MaxWebhooksPerAccount>,
    Json(body): Json<CreateWebhook>,
) -> Result<HttpResponse, ApiError> {
    let account = caller.acting_in(body.account.as_deref())?;
    let input = WebhookInput {
        name: body.name,
        events: body.events,
        notification_type: body.notification_type.unwrap_or_else(|| "REST".into()),
        url: body.url,
        api_key: body.api_key.unwrap_or_default(),
        remove_api_key: None,
        max_per_second: types::cap_as_text(body.max_per_second),
        ..WebhookInput::default()
    }
    .with_header_rows(&types::header_rows(body.headers.unwrap_or_default())?);
    let draft = input
        .parse(&super::event_types::keys_to_subscribe(&db, &input.events).await?)
        .map_err(|errors| ApiError::from_validation(&errors))?;
    let id = actions::webhooks::create(&db, &secrets, &caller.actor(), &account, **limit, &draft)
        .await
        .map_err(|error| name_taken(error, draft.name.as_str()))?;
    let now = db.now();
    let webhook = webhooks::find(db.reader(), id, now).await?;
    Ok(HttpResponse::Created().json(WebhookBody::new(webhook, now)))
}

#[utoipa::path(
    get, path = "/api/v1/webhooks/{id}", operation_id = "getWebhook", tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook id")),
    responses((status = 200, body = WebhookBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn show(
    _caller: Caller,
    db: web::Data<Db>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let now = db.now();
    let webhook = webhooks::find(db.reader(), id.into_inner(), now)
        .await
        .map_err(ApiError::or_not_found("webhook"))?;
    Ok(HttpResponse::Ok().json(WebhookBody::new(webhook, now)))
}

#[utoipa::path(
    patch, path = "/api/v1/webhooks/{id}", operation_id = "updateWebhook", tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook id")),
    request_body = UpdateWebhook,
    responses(
        (status = 200, body = WebhookBody),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 409, description = "The name is taken (ignoring case), a chosen event type is archived, or a header asks to keep a secret value that is not stored", body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn update(
    caller: Caller,
    db: web::Data<Db>,
    secrets: web::Data<SecretBox>,
    inbox: web::Data<Inbox>,
    id: web::Path<i64>,
    Json(body): Json<UpdateWebhook>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let before = webhooks::find(db.reader(), id, db.now())
        .await
        .map_err(ApiError::or_not_found("webhook"))?;
    let stored_secrets = before.secret_header_names();
    if let Some(headers) = &body.headers {
        refuse_keeping_what_is_not_there(headers, &stored_secrets)?;
    }
    let (api_key, remove_api_key) = match body.api_key {
        None => (String::new(), None),
        Some(None) => (String::new(), Some("on".to_owned())),
        Some(Some(key)) => (key, None),
    };
    let input = WebhookInput {
        name: body.name.unwrap_or_else(|| before.name.clone()),
        events: body.events.unwrap_or_else(|| before.events.to_input()),
        notification_type: body
            .notification_type
            .unwrap_or_else(|| before.notification_type.label().to_owned()),
        url: body.url.unwrap_or_else(|| before.url.clone()),
        api_key,
        remove_api_key,
        max_per_second: match body.max_per_second {
            None => before
                .max_per_second
                .map(|cap| cap.to_string())
                .unwrap_or_default(),
            Some(cap) => types::cap_as_text(cap),
        },
        ..WebhookInput::default()
    }
    .with_header_rows(&match body.headers {
        Some(headers) => types::header_rows(headers)?,
        None => before.header_rows(),
    });
    let draft = input
        .parse_editing(
            &super::event_types::keys_to_subscribe(&db, &input.events).await?,
            &stored_secrets,
        )
        .map_err(|errors| ApiError::from_validation(&errors))?;
    let status = body.status.map(|status| match status {
        StatusChoice::Active => WebhookStatus::Active,
        StatusChoice::Disabled => WebhookStatus::Disabled,
    });
    actions::webhooks::update(&db, &secrets, &inbox, &caller.actor(), id, &draft, status)
        .await
        .map_err(|error| name_taken(error, draft.name.as_str()))?;
    let now = db.now();
    let webhook = webhooks::find(db.reader(), id, now).await?;
    Ok(HttpResponse::Ok().json(WebhookBody::new(webhook, now)))
}

#[utoipa::path(
    delete, path = "/api/v1/webhooks/{id}", operation_id = "deleteWebhook", tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook id")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn delete(
    caller: Caller,
    db: web::Data<Db>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    actions::webhooks::delete(&db, &caller.actor(), id.into_inner())
        .await
        .map_err(ApiError::or_not_found("webhook"))?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    get, path = "/api/v1/webhooks/{id}/secret", operation_id = "getWebhookSecret", tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook id")),
    responses((status = 200, body = SecretBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn secret(
    caller: Caller,
    db: web::Data<Db>,
    secrets: web::Data<SecretBox>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let secret = actions::webhooks::reveal_secret(&db, &secrets, &caller.actor(), id.into_inner())
        .await
        .map_err(ApiError::or_not_found("webhook"))?;
    Ok(HttpResponse::Ok().json(SecretBody { secret }))
}

#[utoipa::path(
    post, path = "/api/v1/webhooks/{id}/secret/rotate", operation_id = "rotateWebhookSecret", tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "The new secret; the previous one keeps signing beside it for 24 hours", body = SecretBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn rotate_secret(
    caller: Caller,
    db: web::Data<Db>,
    secrets: web::Data<SecretBox>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let secret = actions::webhooks::rotate_secret(&db, &secrets, &caller.actor(), id.into_inner())
        .await
        .map_err(ApiError::or_not_found("webhook"))?;
    Ok(HttpResponse::Ok().json(SecretBody { secret }))
}

/// `{"secret": true}` without a value keeps a stored secret: for a header with none stored,
/// the request conflicts with what is stored (409), naming the header.
fn refuse_keeping_what_is_not_there(
    headers: &std::collections::BTreeMap<String, types::HeaderGiven>,
    stored_secrets: &[String],
) -> Result<(), ApiError> {
    for (name, given) in headers {
        let keeps = matches!(
            given,
            types::HeaderGiven::Marked(types::MarkedValue { value: None, .. })
        );
        if keeps && !stored_secrets.iter().any(|s| s.eq_ignore_ascii_case(name)) {
            let message = format!("“{name}” has no stored secret value to keep: give its value.");
            let fields = [("headers".to_owned(), vec![message.clone()])].into();
            return Err(ApiError::conflict_in_fields(&message, fields));
        }
    }
    Ok(())
}

/// A taken name is a conflict with what is stored, not malformed input: 409, with the
/// form's message for the field.
fn name_taken(error: StoreError, typed: &str) -> ApiError {
    match error {
        StoreError::WebhookNameTaken { existing } => {
            let message = name_taken_message("webhook", typed, &existing);
            let mut fields = std::collections::BTreeMap::new();
            fields.insert("name".to_owned(), vec![message.clone()]);
            ApiError::conflict_in_fields(&message, fields)
        }
        StoreError::NotFound => ApiError::not_found("webhook"),
        StoreError::UnknownAccount(key) => ApiError::unknown_account(&key),
        StoreError::AccountFull { limit } => ApiError::account_full(limit),
        other => other.into(),
    }
}
