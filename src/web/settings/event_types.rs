//! Admins keep the Event Catalog from the console as the API does: register a type, give it
//! a schema or change it, archive it and restore it, with the API's checks and words
//! (`catalog_input`). The console's own types (`webhook.test`, the operational events) are
//! listed but never changed. Keys in paths are dotted lower-case words; the handler parses
//! them, and one that is no key is no page.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::Tab;
use super::confirm::{self, Confirmation};
use crate::actions;
use crate::catalog_input::{NewEventType, Problems, checked_schema, example_refusal};
use crate::db::event_types::{self, EventType};
use crate::db::{Db, StoreError};
use crate::domain::EventTypeKey;
use crate::ingest::Ingestor;
use crate::web::error::AppError;
use crate::web::layout::{Flash, Layout};
use crate::web::routes::{Access, Page, get, post};
use crate::web::session::CurrentUser;
use crate::web::{HtmlForm, render, see_other};

pub fn pages() -> Vec<Page> {
    use Access::Admin;
    vec![
        get("/settings/events/new", Admin, new_form),
        post("/settings/events", Admin, register),
        get(
            "/settings/events/{key:[a-z0-9_.]+}/schema",
            Admin,
            schema_form,
        ),
        post(
            "/settings/events/{key:[a-z0-9_.]+}/schema",
            Admin,
            change_schema,
        ),
        get(
            "/settings/events/{key:[a-z0-9_.]+}/archive",
            Admin,
            confirm_archive,
        ),
        post("/settings/events/{key:[a-z0-9_.]+}/archive", Admin, archive),
        post("/settings/events/{key:[a-z0-9_.]+}/restore", Admin, restore),
    ]
}

/// Where the catalog shows a type.
fn entry_href(key: &EventTypeKey) -> String {
    format!("/settings/events#event-{key}")
}

#[derive(Template)]
#[template(path = "settings/event_types/new.html")]
struct NewPage {
    layout: Layout,
    title: String,
    tab: Tab,
    form: NewEventTypeForm,
    /// The catalog's groups, offered as the group's suggestions.
    groups: Vec<String>,
    errors: FieldErrors,
}

/// Each field's message, and all of them in order for the summary at the top.
#[derive(Default)]
struct FieldErrors {
    fields: Problems,
}

impl FieldErrors {
    fn of(&self, field: &str) -> Option<String> {
        self.fields.get(field).map(|messages| messages.join(" "))
    }

    fn summary(&self) -> Vec<(String, String)> {
        self.fields
            .iter()
            .map(|(field, messages)| (field.clone(), messages.join(" ")))
            .collect()
    }

    fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct NewEventTypeForm {
    key: String,
    group: String,
    description: String,
    /// JSON text; empty: made from the schema.
    example: String,
    /// JSON text; empty: no schema.
    schema: String,
}

async fn new_form(db: web::Data<Db>, layout: Layout) -> Result<HttpResponse, AppError> {
    new_page(
        &db,
        StatusCode::OK,
        layout,
        NewEventTypeForm::default(),
        FieldErrors::default(),
    )
    .await
}

async fn new_page(
    db: &Db,
    status: StatusCode,
    layout: Layout,
    form: NewEventTypeForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let mut groups: Vec<String> = event_types::current(db.reader())
        .await?
        .into_iter()
        .filter(|event_type| !event_type.key.is_the_consoles_own())
        .map(|event_type| event_type.group)
        .collect();
    groups.dedup();
    let page = NewPage {
        layout,
        title: "Register an event type".into(),
        tab: Tab::Events,
        form,
        groups,
        errors,
    };
    render(status, &page)
}

/// JSON typed into a form: none when left empty, else the value or why it is not JSON.
fn json_field(text: &str, field: &str, problems: &mut Problems) -> Option<serde_json::Value> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    match serde_json::from_str(text) {
        Ok(value) => Some(value),
        Err(error) => {
            problems.insert(
                field.to_owned(),
                vec![format!("This is not JSON: {error}.")],
            );
            None
        }
    }
}

async fn register(
    db: web::Data<Db>,
    ingestor: web::Data<Ingestor>,
    user: CurrentUser,
    layout: Layout,
    HtmlForm(form): HtmlForm<NewEventTypeForm>,
) -> Result<HttpResponse, AppError> {
    let mut not_json = Problems::new();
    let example = json_field(&form.example, "example", &mut not_json);
    let schema = json_field(&form.schema, "schema", &mut not_json);
    let input = NewEventType {
        key: form.key.clone(),
        group: form.group.clone(),
        description: form.description.clone(),
        example,
        schema,
    };
    let parsed = input.parse().await;
    let refused = |mut problems: Problems| {
        problems.extend(not_json.clone());
        FieldErrors { fields: problems }
    };
    let event_type = match parsed {
        Ok(event_type) if not_json.is_empty() => event_type,
        Ok(_) => return new_page(&db, UNPROCESSABLE, layout, form, refused(Problems::new())).await,
        Err(problems) => {
            return new_page(&db, UNPROCESSABLE, layout, form, refused(problems)).await;
        }
    };
    match actions::event_types::register(&db, &user.actor(), &event_type).await {
        Ok(()) => {}
        Err(StoreError::EventTypeTaken) => {
            let taken = format!("The event type “{}” exists already.", event_type.key);
            let errors = refused([("key".to_owned(), vec![taken])].into());
            return new_page(&db, StatusCode::CONFLICT, layout, form, errors).await;
        }
        Err(StoreError::GroupLooksAlike { existing }) => {
            let message = format!(
                "“{}” looks like the existing group “{existing}”. Use “{existing}” to add the \
                 type to it, or a clearly different name.",
                event_type.group
            );
            let errors = refused([("group".to_owned(), vec![message])].into());
            return new_page(&db, StatusCode::CONFLICT, layout, form, errors).await;
        }
        Err(StoreError::CatalogFull) => {
            let message = format!(
                "The catalog holds at most {} event types: archive one you no longer publish.",
                EventTypeKey::CATALOG_LIMIT
            );
            let errors = refused([("key".to_owned(), vec![message])].into());
            return new_page(&db, UNPROCESSABLE, layout, form, errors).await;
        }
        Err(other) => return Err(other.into()),
    }
    ingestor.catalog_changed();
    Flash::success(format!("Event type “{}” registered", event_type.key));
    Ok(see_other(&entry_href(&event_type.key)))
}

const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

/// The type named in the path, if it is one the console lets people change.
async fn changeable(db: &Db, key: &str) -> Result<EventType, AppError> {
    let key = EventTypeKey::parse(key).map_err(|_| AppError::NotFound)?;
    let event_type = event_types::list(db.reader())
        .await?
        .into_iter()
        .find(|event_type| event_type.key == key)
        .ok_or(AppError::NotFound)?;
    if key.is_the_consoles_own() {
        return Err(AppError::BadRequest(key.why_the_consoles_own()));
    }
    Ok(event_type)
}

#[derive(Template)]
#[template(path = "settings/event_types/schema.html")]
struct SchemaPage {
    layout: Layout,
    title: String,
    tab: Tab,
    key: String,
    version: i64,
    schema: String,
    error: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct SchemaForm {
    schema: String,
}

async fn schema_form(
    db: web::Data<Db>,
    layout: Layout,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let event_type = changeable(&db, &key).await?;
    let schema = event_type
        .schema
        .as_ref()
        .map(|schema| serde_json::to_string_pretty(schema.source()).unwrap_or_default())
        .unwrap_or_default();
    schema_page(StatusCode::OK, layout, &event_type, schema, None)
}

fn schema_page(
    status: StatusCode,
    layout: Layout,
    event_type: &EventType,
    schema: String,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let page = SchemaPage {
        layout,
        title: format!("Schema of {}", event_type.key),
        tab: Tab::Events,
        key: event_type.key.to_string(),
        version: event_type.schema_version,
        schema,
        error,
    };
    render(status, &page)
}

async fn change_schema(
    db: web::Data<Db>,
    ingestor: web::Data<Ingestor>,
    user: CurrentUser,
    layout: Layout,
    key: web::Path<String>,
    HtmlForm(form): HtmlForm<SchemaForm>,
) -> Result<HttpResponse, AppError> {
    let event_type = changeable(&db, &key).await?;
    let mut not_json = Problems::new();
    let source = json_field(&form.schema, "schema", &mut not_json);
    if let Some(message) = not_json.remove("schema") {
        return schema_page(
            UNPROCESSABLE,
            layout,
            &event_type,
            form.schema,
            Some(message.join(" ")),
        );
    }
    let schema = match source {
        Some(source) => match checked_schema(source).await {
            Ok(schema) => Some(schema),
            Err(message) => {
                return schema_page(
                    UNPROCESSABLE,
                    layout,
                    &event_type,
                    form.schema,
                    Some(message),
                );
            }
        },
        None => None,
    };
    if let Some(schema) = &schema
        && let Some(message) = example_refusal(schema, &event_type.example_data).await
    {
        let message = format!("The type's example no longer fits: {message}");
        return schema_page(
            UNPROCESSABLE,
            layout,
            &event_type,
            form.schema,
            Some(message),
        );
    }
    let version =
        actions::event_types::change_schema(&db, &user.actor(), &event_type.key, schema.as_ref())
            .await?;
    ingestor.catalog_changed();
    Flash::success(match schema {
        Some(_) => format!("Schema of “{}” saved as version {version}", event_type.key),
        None => format!("Schema of “{}” removed", event_type.key),
    });
    Ok(see_other(&entry_href(&event_type.key)))
}

async fn confirm_archive(
    db: web::Data<Db>,
    layout: Layout,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let event_type = changeable(&db, &key).await?;
    let key = &event_type.key;
    confirm::ask(
        layout,
        Tab::Events,
        Confirmation {
            question: format!("Archive the event type “{key}”?"),
            consequence: "It leaves the pickers, and publishing it is refused until it is \
                          restored. Webhooks subscribed to it keep their choice, and deliveries \
                          that name it are kept."
                .into(),
            url: None,
            notes: Vec::new(),
            action: format!("/settings/events/{key}/archive"),
            fields: Vec::new(),
            confirm: "Archive event type".into(),
            danger: true,
            cancel_href: entry_href(key),
        },
    )
}

async fn archive(
    db: web::Data<Db>,
    user: CurrentUser,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    set_archived(&db, &user, &key, true).await
}

async fn restore(
    db: web::Data<Db>,
    user: CurrentUser,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    set_archived(&db, &user, &key, false).await
}

async fn set_archived(
    db: &Db,
    user: &CurrentUser,
    key: &str,
    archived: bool,
) -> Result<HttpResponse, AppError> {
    let event_type = changeable(db, key).await?;
    let key = &event_type.key;
    match actions::event_types::set_archived(db, &user.actor(), key, archived).await {
        Err(StoreError::CatalogFull) => {
            return Err(AppError::BadRequest(format!(
                "The catalog holds at most {} event types: archive another first.",
                EventTypeKey::CATALOG_LIMIT
            )));
        }
        done => done?,
    }
    Flash::success(match archived {
        true => format!("Event type “{key}” archived"),
        false => format!("Event type “{key}” restored"),
    });
    Ok(see_other(&entry_href(key)))
}
