//! Delivery lists: a webhook's log on its page, refreshed in place, and the rows, filters and
//! pager the Deliveries tab shares with it. Filters live in the URL; pages are read from a
//! delivery id, so a deep page costs what the first does.

mod row;

pub use row::{DeliveryRow, duration_label};

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::detail_href;
use crate::clock::Timestamp;
use crate::db::deliveries::{self, Cursor, DeliverySearch};
use crate::db::{Db, StoreError, event_types};
use crate::delivery::retry::RetrySchedule;
use crate::domain::paging::PAGE_SIZE;
use crate::domain::{DeliveryStatus, Quote};
use crate::web::error::AppError;
use crate::web::htmx::Htmx;
use crate::web::pagination::Pagination;
use crate::web::{render, see_other};

/// How far back "Recover failed deliveries" looks unless told otherwise.
pub const RECOVER_BY_DEFAULT: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);
/// The log counts its deliveries this far, then says "more than".
const COUNTED_UP_TO: i64 = 10_000;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct LogQuery {
    status: String,
    event: String,
    before: String,
    after: String,
}

impl LogQuery {
    pub fn status(&self) -> Option<DeliveryStatus> {
        status_filter(&self.status)
    }

    pub fn event_type(&self) -> Option<String> {
        event_type_filter(&self.event)
    }

    pub fn cursor(&self) -> Cursor {
        cursor(&self.before, &self.after)
    }

    pub fn is_filtered(&self) -> bool {
        self.status().is_some() || self.event_type().is_some()
    }

    /// `path` with these filters and the given position as its query.
    pub fn href(&self, path: &str, cursor: Cursor, anchor: &str) -> String {
        let mut params = url::form_urlencoded::Serializer::new(String::new());
        if let Some(status) = self.status() {
            params.append_pair("status", status.key());
        }
        if let Some(event) = self.event_type() {
            params.append_pair("event", &event);
        }
        if let Some((key, id)) = position(cursor) {
            params.append_pair(key, &id.to_string());
        }
        let params = params.finish();
        let separator = if params.is_empty() { "" } else { "?" };
        format!("{path}{separator}{params}{anchor}")
    }
}

/// What `?status=` asks for; anything else shows every outcome.
pub fn status_filter(text: &str) -> Option<DeliveryStatus> {
    DeliveryStatus::from_key(text.trim())
}

/// What `?event=` asks for; empty shows every event type.
pub fn event_type_filter(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|event| !event.is_empty())
}

/// Where `?before=` or `?after=` asks a list to start.
pub fn cursor(before: &str, after: &str) -> Cursor {
    let id = |text: &str| text.trim().parse::<i64>().ok();
    match (id(before), id(after)) {
        (Some(before), _) => Cursor::OlderThan(before),
        (None, Some(after)) => Cursor::NewerThan(after),
        (None, None) => Cursor::Newest,
    }
}

/// A position as the URL parameter that asks for it.
pub fn position(cursor: Cursor) -> Option<(&'static str, i64)> {
    match cursor {
        Cursor::Newest => None,
        Cursor::OlderThan(id) => Some(("before", id)),
        Cursor::NewerThan(id) => Some(("after", id)),
    }
}

/// The outcome and event type choices of a delivery filter, as the form shows them.
pub struct FilterChoices {
    /// (key, label, selected)
    pub statuses: Vec<(&'static str, &'static str, bool)>,
    /// (key, selected)
    pub event_types: Vec<(String, bool)>,
}

impl FilterChoices {
    pub async fn load(
        db: &Db,
        status: Option<DeliveryStatus>,
        event: Option<String>,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            statuses: DeliveryStatus::ALL
                .into_iter()
                .map(|s| (s.key(), s.label(), Some(s) == status))
                .collect(),
            event_types: event_types::keys(db.reader())
                .await?
                .into_iter()
                .map(|key| {
                    let key = key.to_string();
                    let selected = event.as_deref() == Some(key.as_str());
                    (key, selected)
                })
                .collect(),
        })
    }
}

/// One page of a delivery list: its rows and the links to newer and older pages.
pub struct Results {
    pub rows: Vec<DeliveryRow>,
    pub pagination: Pagination,
}

impl Results {
    /// `href` gives the address of the page at a cursor, the filters kept.
    /// With a `quote`, each row says where the quote matched it. `tries` is how many tries
    /// a delivery gets, for "attempt 2 of 8".
    pub async fn load(
        db: &Db,
        tries: &RetrySchedule,
        search: &DeliverySearch,
        quote: Option<&Quote>,
        cursor: Cursor,
        now: Timestamp,
        href: impl Fn(Cursor) -> String,
    ) -> Result<Self, StoreError> {
        let page = deliveries::search(db.reader(), search, cursor, PAGE_SIZE).await?;
        let mut matched = match quote {
            Some(quote) => deliveries::where_matched(db.reader(), quote, &page.deliveries).await?,
            None => Default::default(),
        };
        let newer = page
            .deliveries
            .first()
            .filter(|_| page.newer)
            .map(|first| href(Cursor::NewerThan(first.id)));
        let older = page
            .deliveries
            .last()
            .filter(|_| page.older)
            .map(|last| href(Cursor::OlderThan(last.id)));
        Ok(Self {
            rows: page
                .deliveries
                .into_iter()
                .map(|delivery| {
                    let matched = matched.remove(&delivery.id).unwrap_or_default();
                    DeliveryRow {
                        matched: matched.iter().take(2).map(ToString::to_string).collect(),
                        ..DeliveryRow::new(delivery, tries.max_attempts(), now)
                    }
                })
                .collect(),
            pagination: Pagination::steps(newer, older).labelled("← Newer", "Older →"),
        })
    }
}

/// A webhook's delivery log: the filters, a count, and the refreshable results.
pub struct DeliveryLog {
    pub filters: FilterChoices,
    pub results: LogResults,
    /// What the recovery form offers by default: a day ago.
    pub recover_since: String,
}

/// The part of the log that refreshes itself: summary, rows and pager.
pub struct LogResults {
    pub list: Results,
    /// "1,204 deliveries", or "More than 10,000 deliveries"; none when filtered by type.
    pub summary: Option<String>,
    pub filtered: bool,
    /// The address this part reloads itself from.
    pub refresh_href: String,
}

impl DeliveryLog {
    pub async fn load(
        db: &Db,
        tries: &RetrySchedule,
        webhook_id: i64,
        query: &LogQuery,
        now: Timestamp,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            filters: FilterChoices::load(db, query.status(), query.event_type()).await?,
            results: LogResults::load(db, tries, webhook_id, query, now).await?,
            recover_since: now.minus(RECOVER_BY_DEFAULT).utc_minutes(),
        })
    }
}

impl LogResults {
    async fn load(
        db: &Db,
        tries: &RetrySchedule,
        webhook_id: i64,
        query: &LogQuery,
        now: Timestamp,
    ) -> Result<Self, StoreError> {
        let search = DeliverySearch {
            webhook_id: Some(webhook_id),
            status: query.status(),
            event_type: query.event_type(),
            ..DeliverySearch::default()
        };
        let page_path = detail_href(webhook_id);
        let results = Results::load(db, tries, &search, None, query.cursor(), now, |at| {
            query.href(&page_path, at, "#delivery-log")
        })
        .await?;
        // A count by type would join every delivery to its event; by outcome it reads one index.
        let summary = match search.event_type {
            Some(_) => None,
            None => {
                let counted = deliveries::count_up_to(db.reader(), &search, COUNTED_UP_TO).await?;
                Some(match counted {
                    1 => "1 delivery".to_owned(),
                    n if n > COUNTED_UP_TO => format!("More than {COUNTED_UP_TO} deliveries"),
                    n => format!("{n} deliveries"),
                })
            }
        };
        Ok(Self {
            list: results,
            summary,
            filtered: query.is_filtered(),
            refresh_href: query.href(&format!("{page_path}/deliveries"), query.cursor(), ""),
        })
    }
}

#[derive(Template)]
#[template(path = "settings/webhooks/_delivery_log_results.html")]
struct ResultsPartial {
    log_results: LogResults,
}

/// The log's results alone, for the page's live refresh; a browser without htmx that
/// follows the address gets the webhook's page instead.
pub async fn refresh(
    db: web::Data<Db>,
    tries: web::Data<RetrySchedule>,
    htmx: Htmx,
    id: web::Path<i64>,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    if !htmx.wants_partial() {
        let page = query.href(&detail_href(id), query.cursor(), "#delivery-log");
        return Ok(see_other(&page));
    }
    // Polled every few seconds: only whether the webhook is still there, not its figures.
    crate::db::webhooks::ensure_exists(db.reader(), id).await?;
    let log = LogResults::load(&db, &tries, id, &query, db.now()).await?;
    render(StatusCode::OK, &ResultsPartial { log_results: log })
}
