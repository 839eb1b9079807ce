use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::Tab;
use crate::db::Db;
use crate::db::event_types::{self, EventType};
use crate::domain::{DataSchema, EventBody, EventTypeKey, Field};
use crate::web::error::AppError;
use crate::web::{layout::Layout, render};

/// When the example body says the event happened.
const EXAMPLE_EVENT_TIME: &str = "2026-01-15T09:30:00.000Z";

#[derive(Template)]
#[template(path = "settings/events.html")]
struct CatalogPage {
    layout: Layout,
    title: String,
    tab: Tab,
    q: String,
    groups: Vec<GroupView>,
    /// Every group's name, for the index at the top (searching or not).
    group_names: Vec<String>,
    shown: usize,
    /// Archived types that match, listed apart and briefly: nothing can use them now.
    archived: Vec<ArchivedView>,
}

struct ArchivedView {
    key: String,
    group: String,
    description: String,
    archived_at: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CatalogQuery {
    q: String,
}

struct GroupView {
    name: String,
    types: Vec<EventTypeView>,
}

struct EventTypeView {
    key: String,
    description: String,
    example_body: String,
    /// Webhooks this type reaches: chosen by key or (the application's types) through
    /// "All events".
    used_by: i64,
    /// The fields its schema describes; empty without a schema.
    fields: Vec<Field>,
    has_schema: bool,
    schema_version: i64,
    /// The console's own (`webhook.test`, the operational events): never changed by people.
    own: bool,
}

pub async fn catalog(
    db: web::Data<Db>,
    layout: Layout,
    query: web::Query<CatalogQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner().q.trim().to_owned();
    let wanted = q.to_lowercase();
    let (chosen, all_events) = event_types::usage(db.reader()).await?;
    let mut groups: Vec<GroupView> = Vec::new();
    let mut group_names: Vec<String> = Vec::new();
    let mut shown = 0;
    let mut archived = Vec::new();
    for event_type in event_types::list(db.reader()).await? {
        let matches = mentions(&event_type, &wanted);
        if let Some(at) = event_type.archived_at {
            if matches {
                archived.push(ArchivedView {
                    key: event_type.key.to_string(),
                    group: event_type.group,
                    description: event_type.description,
                    archived_at: at.absolute(),
                });
            }
            continue;
        }
        if group_names.last() != Some(&event_type.group) {
            group_names.push(event_type.group.clone());
        }
        if !matches {
            continue;
        }
        shown += 1;
        let picked = chosen.get(event_type.key.as_str()).copied().unwrap_or(0);
        let view = EventTypeView::new(&event_type, used_by(&event_type.key, picked, all_events));
        match groups.last_mut() {
            Some(group) if group.name == event_type.group => group.types.push(view),
            _ => groups.push(GroupView {
                name: event_type.group,
                types: vec![view],
            }),
        }
    }
    render(
        StatusCode::OK,
        &CatalogPage {
            layout,
            title: "Event Catalog".into(),
            tab: Tab::Events,
            q,
            groups,
            group_names,
            shown,
            archived,
        },
    )
}

/// How many webhooks a type reaches: those that `picked` it, and (the application's types)
/// the `all_events` ones; the console's own come only when picked, `webhook.test` to none.
fn used_by(key: &EventTypeKey, picked: i64, all_events: i64) -> i64 {
    match (key.is_subscribable(), key.is_the_consoles_own()) {
        (false, _) => 0,
        (true, true) => picked,
        (true, false) => picked + all_events,
    }
}

/// Whether the type's key, description or group holds the (lowercased) search.
fn mentions(event_type: &EventType, wanted: &str) -> bool {
    [
        &event_type.key.to_string(),
        &event_type.description,
        &event_type.group,
    ]
    .iter()
    .any(|text| text.to_lowercase().contains(wanted))
}

impl EventTypeView {
    fn new(event_type: &EventType, used_by: i64) -> Self {
        let body = EventBody {
            event_time: EXAMPLE_EVENT_TIME,
            event_type: event_type.key.as_str(),
            current_context: &serde_json::json!({}),
            data: &event_type.example_data,
        };
        Self {
            used_by,
            key: event_type.key.to_string(),
            description: event_type.description.clone(),
            example_body: serde_json::to_string_pretty(&body).unwrap_or_default(),
            fields: event_type
                .schema
                .as_ref()
                .map(DataSchema::fields)
                .unwrap_or_default(),
            has_schema: event_type.schema.is_some(),
            schema_version: event_type.schema_version,
            own: event_type.key.is_the_consoles_own(),
        }
    }
}
