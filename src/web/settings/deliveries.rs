//! The Deliveries tab: find a delivery from a support ticket across every webhook, by what
//! the customer quotes (a delivery id, the `webhook-id` a receiver got; an event id; an
//! `Idempotency-Key`; any value inside the event), webhook, event type, outcome and time.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::webhooks::log::{self, FilterChoices, Results};
use super::{Tab, time_filter};
use crate::db::deliveries::{self, Cursor, DeliverySearch};
use crate::db::{Db, webhooks};
use crate::delivery::retry::RetrySchedule;
use crate::domain::{DeliveryStatus, Quote};
use crate::web::error::AppError;
use crate::web::layout::Layout;
use crate::web::render;
use crate::web::routes::{Access, Page, get};

pub fn pages() -> Vec<Page> {
    vec![get("/settings/deliveries", Access::SignedIn, search)]
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchQuery {
    q: String,
    webhook: String,
    status: String,
    event: String,
    from: String,
    until: String,
    before: String,
    after: String,
}

#[derive(Template)]
#[template(path = "settings/deliveries.html")]
struct SearchPage {
    layout: Layout,
    title: String,
    tab: Tab,
    query: SearchQuery,
    filters: FilterChoices,
    /// (id, name, selected) of each webhook, for the webhook filter.
    webhooks: Vec<(i64, String, bool)>,
    /// What could not be understood, said in words; nothing is searched then.
    problems: Vec<String>,
    results: Option<Results>,
    searched: bool,
}

async fn search(
    db: web::Data<Db>,
    tries: web::Data<RetrySchedule>,
    layout: Layout,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let status = log::status_filter(&query.status);
    let event = log::event_type_filter(&query.event);
    let filters = FilterChoices::load(&db, status, event.clone()).await?;
    let (mut search, problems) = query.parse(status, event);
    let quote = Quote::parse(&query.q);
    if let Some(quote) = &quote {
        search.any_of = Some(deliveries::any_of(db.reader(), quote).await?);
    }
    let results = match problems.is_empty() {
        true => Some(
            Results::load(
                &db,
                &tries,
                &search,
                quote.as_ref(),
                log::cursor(&query.before, &query.after),
                db.now(),
                |cursor| query.href(cursor),
            )
            .await?,
        ),
        false => None,
    };
    let webhooks = webhooks::names(db.reader())
        .await?
        .into_iter()
        .map(|(id, name)| (id, name, search.webhook_id == Some(id)))
        .collect();
    let page = SearchPage {
        layout,
        title: "Deliveries".into(),
        tab: Tab::Deliveries,
        searched: query.href(Cursor::Newest) != "/settings/deliveries",
        query,
        filters,
        webhooks,
        problems,
        results,
    };
    let status = match page.problems.is_empty() {
        true => StatusCode::OK,
        false => StatusCode::BAD_REQUEST,
    };
    render(status, &page)
}

impl SearchQuery {
    /// The search this query asks for, or what is wrong with it.
    fn parse(
        &self,
        status: Option<DeliveryStatus>,
        event_type: Option<String>,
    ) -> (DeliverySearch, Vec<String>) {
        let mut problems = Vec::new();
        let mut search = DeliverySearch {
            status,
            event_type,
            ..DeliverySearch::default()
        };
        let webhook = self.webhook.trim();
        if !webhook.is_empty() {
            match webhook.parse() {
                Ok(id) => search.webhook_id = Some(id),
                Err(_) => problems.push("Choose a webhook from the list.".into()),
            }
        }
        search.created_from = time_filter(&self.from, "From", &mut problems);
        search.created_before = time_filter(&self.until, "Until", &mut problems);
        (search, problems)
    }

    /// This search's address at a position.
    fn href(&self, cursor: Cursor) -> String {
        let mut params = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("q", &self.q),
            ("webhook", &self.webhook),
            ("status", &self.status),
            ("event", &self.event),
            ("from", &self.from),
            ("until", &self.until),
        ] {
            if !value.trim().is_empty() {
                params.append_pair(key, value.trim());
            }
        }
        if let Some((key, id)) = log::position(cursor) {
            params.append_pair(key, &id.to_string());
        }
        let params = params.finish();
        match params.is_empty() {
            true => "/settings/deliveries".to_owned(),
            false => format!("/settings/deliveries?{params}"),
        }
    }
}
