use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::Tab;
use crate::db::{Db, event_types};
use crate::domain::EventBody;
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
    groups: Vec<GroupView>,
}

struct GroupView {
    name: String,
    types: Vec<EventTypeView>,
}

struct EventTypeView {
    key: String,
    description: String,
    example_body: String,
}

pub async fn catalog(db: web::Data<Db>, layout: Layout) -> Result<HttpResponse, AppError> {
    let mut groups: Vec<GroupView> = Vec::new();
    for event_type in event_types::list(db.reader()).await? {
        let body = EventBody {
            event_time: EXAMPLE_EVENT_TIME,
            event_type: event_type.key.as_str(),
            current_context: &serde_json::json!({}),
            data: &event_type.example_data,
        };
        let view = EventTypeView {
            key: event_type.key.to_string(),
            description: event_type.description,
            example_body: serde_json::to_string_pretty(&body).unwrap_or_default(),
        };
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
            groups,
        },
    )
}
