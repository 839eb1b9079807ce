use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use validator::{ValidationError, ValidationErrors};

use super::super::Tab;
use super::{PAGE_SIZE, detail_href};
use crate::auth::CurrentUser;
use crate::db::audit::NewEntry;
use crate::db::event_types::EventType;
use crate::db::webhooks::Webhook;
use crate::db::{Db, StoreError, event_types, webhooks};
use crate::domain::{
    ApiKeyChange, AuditAction, EventSelection, EventTypeKey, NotificationType, WebhookDraft,
    WebhookInput,
};
use crate::error::AppError;
use crate::htmx::Htmx;
use crate::secret_box::SecretBox;
use crate::web::layout::{Flash, Layout};
use crate::web::{HtmlForm, render};

#[derive(Template)]
#[template(path = "settings/webhooks/form.html")]
struct FormPage {
    layout: Layout,
    title: String,
    tab: Tab,
    form: FormView,
}

/// The form alone: opened in place on the list, and shown again after invalid input.
#[derive(Template)]
#[template(path = "settings/webhooks/_form.html")]
struct FormPartial {
    form: FormView,
}

struct FormView {
    /// The partial is rendered without the page frame, so it carries its own token.
    csrf_token: String,
    heading: String,
    /// Shown as a page of its own (its heading is the page's), not in place on the list.
    standalone: bool,
    action: String,
    submit_label: &'static str,
    cancel_href: String,
    input: WebhookInput,
    all_events: bool,
    groups: Vec<EventGroup>,
    notification_types: Vec<(&'static str, &'static str)>,
    /// Editing only: the stored key, masked.
    stored_api_key: Option<String>,
    errors: FieldErrors,
}

struct EventGroup {
    name: String,
    types: Vec<EventOption>,
}

struct EventOption {
    key: String,
    description: String,
    checked: bool,
}

#[derive(Default)]
struct FieldErrors {
    name: Option<String>,
    events: Option<String>,
    notification_type: Option<String>,
    url: Option<String>,
    api_key: Option<String>,
}

enum Mode {
    Create,
    Edit {
        id: i64,
        stored_api_key: Option<String>,
    },
}

pub async fn new(db: web::Data<Db>, layout: Layout, htmx: Htmx) -> Result<HttpResponse, AppError> {
    let catalog = event_types::list(db.reader()).await?;
    let input = WebhookInput {
        notification_type: NotificationType::Rest.label().to_owned(),
        ..WebhookInput::default()
    };
    let form = FormView::new(
        Mode::Create,
        input,
        &catalog,
        FieldErrors::default(),
        &layout,
    );
    show(StatusCode::OK, htmx, layout, form)
}

pub async fn create(
    db: web::Data<Db>,
    secrets: web::Data<SecretBox>,
    user: CurrentUser,
    layout: Layout,
    htmx: Htmx,
    HtmlForm(input): HtmlForm<WebhookInput>,
) -> Result<HttpResponse, AppError> {
    let catalog = event_types::list(db.reader()).await?;
    let draft = match input.parse(&keys(&catalog)) {
        Ok(draft) => draft,
        Err(errors) => {
            let form = FormView::new(Mode::Create, input, &catalog, errors.into(), &layout);
            return show(StatusCode::UNPROCESSABLE_ENTITY, htmx, layout, form);
        }
    };
    let mut tx = db.begin_write().await?;
    let id = match webhooks::create(&mut tx, &secrets, &draft).await {
        Err(StoreError::WebhookNameTaken) => {
            let form = FormView::new(
                Mode::Create,
                input,
                &catalog,
                FieldErrors::name_taken(),
                &layout,
            );
            return show(StatusCode::UNPROCESSABLE_ENTITY, htmx, layout, form);
        }
        created => created?,
    };
    NewEntry::new(
        &user.email,
        AuditAction::WebhookCreated,
        "webhook",
        draft.name.as_str(),
        describe_new(&draft),
    )
    .record(&mut tx)
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Flash::success(format!("Webhook \"{}\" created", draft.name.as_str()));
    // Land on the page that holds the new row, whatever the name order puts before it.
    let position = webhooks::position_in_list(db.reader(), id).await?;
    let page = position / PAGE_SIZE + 1;
    Ok(htmx.redirect(&format!("/settings/webhooks?page={page}#webhook-{id}")))
}

pub async fn edit(
    db: web::Data<Db>,
    secrets: web::Data<SecretBox>,
    layout: Layout,
    htmx: Htmx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let webhook = webhooks::find(db.reader(), id).await?;
    let stored_api_key = webhooks::api_key(db.reader(), &secrets, id)
        .await?
        .map(|key| key.masked());
    let catalog = event_types::list(db.reader()).await?;
    let input = WebhookInput {
        events: match &webhook.events {
            EventSelection::All => vec![EventSelection::ALL.to_owned()],
            EventSelection::Only(keys) => keys.iter().map(ToString::to_string).collect(),
        },
        name: webhook.name,
        notification_type: webhook.notification_type.label().to_owned(),
        url: webhook.url,
        ..WebhookInput::default()
    };
    let mode = Mode::Edit { id, stored_api_key };
    let form = FormView::new(mode, input, &catalog, FieldErrors::default(), &layout);
    show(StatusCode::OK, htmx, layout, form)
}

pub async fn update(
    db: web::Data<Db>,
    secrets: web::Data<SecretBox>,
    user: CurrentUser,
    layout: Layout,
    htmx: Htmx,
    id: web::Path<i64>,
    HtmlForm(input): HtmlForm<WebhookInput>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let before = webhooks::find(db.reader(), id).await?;
    let catalog = event_types::list(db.reader()).await?;
    let stored_api_key = webhooks::api_key(db.reader(), &secrets, id)
        .await?
        .map(|key| key.masked());
    let mode = Mode::Edit { id, stored_api_key };
    let draft: WebhookDraft = match input.parse(&keys(&catalog)) {
        Ok(draft) => draft,
        Err(errors) => {
            let form = FormView::new(mode, input, &catalog, errors.into(), &layout);
            return show(StatusCode::UNPROCESSABLE_ENTITY, htmx, layout, form);
        }
    };
    let mut tx = db.begin_write().await?;
    match webhooks::update(&mut tx, &secrets, id, &draft).await {
        Err(StoreError::WebhookNameTaken) => {
            let form = FormView::new(mode, input, &catalog, FieldErrors::name_taken(), &layout);
            return show(StatusCode::UNPROCESSABLE_ENTITY, htmx, layout, form);
        }
        updated => updated?,
    }
    NewEntry::new(
        &user.email,
        AuditAction::WebhookUpdated,
        "webhook",
        draft.name.as_str(),
        describe_changes(&before, &draft),
    )
    .record(&mut tx)
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Flash::success(format!("Webhook \"{}\" saved", draft.name.as_str()));
    Ok(htmx.redirect(&detail_href(id)))
}

/// The audit log's summary of a new webhook; never the API key itself.
fn describe_new(draft: &WebhookDraft) -> String {
    format!(
        "URL {}; events {}; {}; API key {}",
        draft.url.as_str(),
        describe_events(&draft.events),
        draft.notification_type.label(),
        if matches!(draft.api_key, ApiKeyChange::Set(_)) {
            "set"
        } else {
            "not set"
        },
    )
}

/// What an edit changed, field by field; the API key only as "changed" or "removed".
fn describe_changes(before: &Webhook, after: &WebhookDraft) -> String {
    let mut changes = Vec::new();
    if before.name != after.name.as_str() {
        changes.push(format!(
            "name “{}” → “{}”",
            before.name,
            after.name.as_str()
        ));
    }
    if before.url != after.url.as_str() {
        changes.push(format!("URL {} → {}", before.url, after.url.as_str()));
    }
    if before.events != after.events {
        changes.push(format!(
            "events {} → {}",
            describe_events(&before.events),
            describe_events(&after.events)
        ));
    }
    if before.notification_type != after.notification_type {
        changes.push(format!(
            "notification type → {}",
            after.notification_type.label()
        ));
    }
    match after.api_key {
        ApiKeyChange::Keep => {}
        ApiKeyChange::Remove => changes.push("API key removed".into()),
        ApiKeyChange::Set(_) => changes.push("API key changed".into()),
    }
    if changes.is_empty() {
        "no changes".into()
    } else {
        changes.join("; ")
    }
}

fn describe_events(events: &EventSelection) -> String {
    match events {
        EventSelection::All => "all".into(),
        EventSelection::Only(keys) => keys
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn show(
    status: StatusCode,
    htmx: Htmx,
    layout: Layout,
    form: FormView,
) -> Result<HttpResponse, AppError> {
    if htmx.wants_partial() {
        render(status, &FormPartial { form })
    } else {
        let form = FormView {
            standalone: true,
            ..form
        };
        let title = form.heading.clone();
        render(
            status,
            &FormPage {
                layout,
                title,
                tab: Tab::Webhooks,
                form,
            },
        )
    }
}

/// The event types a webhook can subscribe to.
fn keys(catalog: &[EventType]) -> Vec<EventTypeKey> {
    catalog
        .iter()
        .map(|event_type| event_type.key.clone())
        .filter(EventTypeKey::is_subscribable)
        .collect()
}

impl FormView {
    fn new(
        mode: Mode,
        input: WebhookInput,
        catalog: &[EventType],
        errors: FieldErrors,
        layout: &Layout,
    ) -> Self {
        let all_events = input.events.iter().any(|key| key == EventSelection::ALL);
        let mut groups: Vec<EventGroup> = Vec::new();
        for event_type in catalog.iter().filter(|t| t.key.is_subscribable()) {
            let option = EventOption {
                key: event_type.key.to_string(),
                description: event_type.description.clone(),
                checked: input
                    .events
                    .iter()
                    .any(|key| key == event_type.key.as_str()),
            };
            match groups.last_mut() {
                Some(group) if group.name == event_type.group => group.types.push(option),
                _ => groups.push(EventGroup {
                    name: event_type.group.clone(),
                    types: vec![option],
                }),
            }
        }
        let (heading, action, submit_label, cancel_href, stored_api_key) = match mode {
            Mode::Create => (
                "Create Webhook".to_owned(),
                "/settings/webhooks".to_owned(),
                "Create",
                "/settings/webhooks".to_owned(),
                None,
            ),
            Mode::Edit { id, stored_api_key } => (
                "Edit Webhook".to_owned(),
                format!("{}/edit", detail_href(id)),
                "Save",
                detail_href(id),
                stored_api_key,
            ),
        };
        Self {
            csrf_token: layout.csrf_token.clone(),
            heading,
            standalone: false,
            action,
            submit_label,
            cancel_href,
            all_events,
            groups,
            notification_types: NotificationType::ALL
                .into_iter()
                .map(|kind| (kind.label(), kind.description()))
                .collect(),
            stored_api_key,
            errors,
            input,
        }
    }

    /// Plain http exposes the payload and the API key on the way.
    fn plain_http(&self) -> bool {
        self.errors.url.is_none()
            && self
                .input
                .url
                .trim()
                .to_ascii_lowercase()
                .starts_with("http://")
    }
}

impl FieldErrors {
    fn name_taken() -> Self {
        Self {
            name: Some("A webhook with this name already exists. Choose another name.".into()),
            ..Self::default()
        }
    }
}

impl From<ValidationErrors> for FieldErrors {
    fn from(errors: ValidationErrors) -> Self {
        let fields = errors.field_errors();
        let message = |field: &str| {
            fields
                .get(field)
                .and_then(|errors| errors.first())
                .map(message_of)
        };
        Self {
            name: message("name"),
            events: message("events"),
            notification_type: message("notification_type"),
            url: message("url"),
            api_key: message("api_key"),
        }
    }
}

fn message_of(error: &ValidationError) -> String {
    error
        .message
        .as_ref()
        .map_or_else(|| error.code.to_string(), ToString::to_string)
}
