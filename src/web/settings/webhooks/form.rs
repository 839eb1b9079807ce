use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::Tab;
use super::form_view::{FieldErrors, FormView, Mode};
use super::{detail_href, secret};
use crate::actions;
use crate::actions::Inbox;
use crate::db::event_types::EventType;
use crate::db::{Db, StoreError, event_types, webhooks};
use crate::domain::{
    AccountKey, EventTypeKey, MaxWebhooksPerAccount, NotificationType, WebhookDraft, WebhookInput,
    WebhookName,
};
use crate::secrets::secret_box::SecretBox;
use crate::web::error::AppError;
use crate::web::htmx::Htmx;
use crate::web::layout::{Flash, Layout};
use crate::web::session::{CurrentUser, UserSession};
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

pub async fn new(db: web::Data<Db>, layout: Layout, htmx: Htmx) -> Result<HttpResponse, AppError> {
    let catalog = event_types::current(db.reader()).await?;
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
    (secrets, limit): (web::Data<SecretBox>, web::Data<MaxWebhooksPerAccount>),
    user: CurrentUser,
    session: UserSession,
    layout: Layout,
    htmx: Htmx,
    HtmlForm(input): HtmlForm<WebhookInput>,
) -> Result<HttpResponse, AppError> {
    let catalog = event_types::current(db.reader()).await?;
    let draft = match input.parse(&keys(&catalog)) {
        Ok(draft) => draft,
        Err(errors) => {
            let errors = with_name_checked(&db, &input, errors.into(), None).await?;
            let form = FormView::new(Mode::Create, input, &catalog, errors, &layout);
            return show(StatusCode::UNPROCESSABLE_ENTITY, htmx, layout, form);
        }
    };
    let id = match actions::webhooks::create(
        &db,
        &secrets,
        &user.actor(),
        &AccountKey::default_account(),
        **limit,
        &draft,
    )
    .await
    {
        Err(StoreError::WebhookNameTaken { existing }) => {
            let errors = FieldErrors::default().with_name_taken(&input.name, &existing);
            let form = FormView::new(Mode::Create, input, &catalog, errors, &layout);
            return show(StatusCode::UNPROCESSABLE_ENTITY, htmx, layout, form);
        }
        created => created?,
    };
    let secret = webhooks::signing_secret(db.reader(), &secrets, id).await?;
    secret::show_once(&session, &secrets, id, &secret)?;
    Flash::success(format!("Webhook \"{}\" created", draft.name.as_str()));
    // Its own page, where the next step (a test event) waits.
    Ok(htmx.redirect(&detail_href(id)))
}

pub async fn edit(
    db: web::Data<Db>,
    secrets: web::Data<SecretBox>,
    layout: Layout,
    htmx: Htmx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let webhook = webhooks::find(db.reader(), id, db.now()).await?;
    let stored_api_key = webhooks::api_key(db.reader(), &secrets, id)
        .await?
        .map(|key| key.masked());
    let catalog = event_types::current(db.reader()).await?;
    let header_rows = webhook.header_rows();
    let stored_secrets = webhook.secret_header_names();
    let input = WebhookInput {
        events: webhook.events.to_input(),
        name: webhook.name,
        notification_type: webhook.notification_type.label().to_owned(),
        url: webhook.url,
        max_per_second: webhook
            .max_per_second
            .map(|cap| cap.to_string())
            .unwrap_or_default(),
        ..WebhookInput::default()
    }
    .with_header_rows(&header_rows);
    let mode = Mode::Edit {
        id,
        stored_api_key,
        stored_secrets,
    };
    let form = FormView::new(mode, input, &catalog, FieldErrors::default(), &layout);
    show(StatusCode::OK, htmx, layout, form)
}

pub async fn update(
    db: web::Data<Db>,
    (secrets, inbox): (web::Data<SecretBox>, web::Data<Inbox>),
    user: CurrentUser,
    layout: Layout,
    htmx: Htmx,
    id: web::Path<i64>,
    HtmlForm(input): HtmlForm<WebhookInput>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let catalog = event_types::current(db.reader()).await?;
    let stored_api_key = webhooks::api_key(db.reader(), &secrets, id)
        .await?
        .map(|key| key.masked());
    let stored_secrets = webhooks::find(db.reader(), id, db.now())
        .await?
        .secret_header_names();
    let mode = Mode::Edit {
        id,
        stored_api_key,
        stored_secrets: stored_secrets.clone(),
    };
    let draft: WebhookDraft = match input.parse_editing(&keys(&catalog), &stored_secrets) {
        Ok(draft) => draft,
        Err(errors) => {
            let errors = with_name_checked(&db, &input, errors.into(), Some(id)).await?;
            let form = FormView::new(mode, input, &catalog, errors, &layout);
            return show(StatusCode::UNPROCESSABLE_ENTITY, htmx, layout, form);
        }
    };
    match actions::webhooks::update(&db, &secrets, &inbox, &user.actor(), id, &draft, None).await {
        Err(StoreError::WebhookNameTaken { existing }) => {
            let errors = FieldErrors::default().with_name_taken(&input.name, &existing);
            let form = FormView::new(mode, input, &catalog, errors, &layout);
            return show(StatusCode::UNPROCESSABLE_ENTITY, htmx, layout, form);
        }
        updated => updated?,
    }
    Flash::success(format!("Webhook \"{}\" saved", draft.name.as_str()));
    Ok(htmx.redirect(&detail_href(id)))
}

/// Every problem in one round: when other fields are wrong, a valid name is still checked
/// against the other webhooks' names (`except` this one, when editing).
async fn with_name_checked(
    db: &Db,
    input: &WebhookInput,
    errors: FieldErrors,
    except: Option<i64>,
) -> Result<FieldErrors, AppError> {
    let Ok(name) = WebhookName::parse(&input.name) else {
        return Ok(errors);
    };
    if errors.name.is_some() {
        return Ok(errors);
    }
    let account = match except {
        Some(id) => webhooks::account_of(db.reader(), id).await?,
        None => None,
    }
    .unwrap_or_else(AccountKey::default_account);
    Ok(
        match webhooks::look_alike(db.reader(), &account, &name, except).await? {
            Some(existing) => errors.with_name_taken(&input.name, &existing),
            None => errors,
        },
    )
}

fn show(
    status: StatusCode,
    htmx: Htmx,
    layout: Layout,
    form: FormView,
) -> Result<HttpResponse, AppError> {
    if htmx.wants_partial() {
        let form = FormView {
            standalone: htmx.from_form_page(),
            ..form
        };
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
