use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::super::Tab;
use super::detail_href;
use super::view::{self, Backlog, Badge, Outcome};
use crate::clock::Timestamp;
use crate::db::webhooks::{Webhook, WebhookFilter};
use crate::db::{Db, event_types, webhooks};
use crate::domain::paging::{PAGE_SIZE, Pager};
use crate::domain::{AccountKey, WebhookStatus};
use crate::web::error::AppError;
use crate::web::htmx::Htmx;
use crate::web::pagination::Pagination;
use crate::web::{layout::Layout, render};

/// The list's query string; anything unrecognised reads as "no filter".
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    q: String,
    status: String,
    event: String,
    sort: String,
    page: String,
}

/// The status filter's value for Failing, which is not a stored status.
const FAILING: &str = "failing";
/// The sort that puts Failing webhooks first.
const BY_HEALTH: &str = "health";

#[derive(Template)]
#[template(path = "settings/webhooks/list.html")]
struct ListPage {
    layout: Layout,
    title: String,
    tab: Tab,
    filters: Filters,
    table: Table,
}

/// Swapped into the page by htmx when the search, a filter or the page changes.
#[derive(Template)]
#[template(path = "settings/webhooks/_table.html")]
struct TablePartial {
    table: Table,
}

struct Filters {
    q: String,
    status: String,
    event: String,
    sort: String,
    statuses: Vec<(&'static str, &'static str)>,
    event_types: Vec<String>,
}

struct Table {
    /// Admins are offered to create a webhook from the empty state.
    admin: bool,
    rows: Vec<Row>,
    total: i64,
    first_item: i64,
    last_item: i64,
    filtered: bool,
    pagination: Pagination,
}

struct Row {
    id: i64,
    href: String,
    name: String,
    url: String,
    /// The URL as the list shows it: the host whole, then the path's end.
    url_host: String,
    url_path: String,
    events: Vec<String>,
    /// At most [`CHIPS_SHOWN`] of them; the rest are counted.
    shown_events: Vec<String>,
    more_events: usize,
    notification_type: &'static str,
    status: Badge,
    last_delivery: Option<Outcome>,
    success_rate: String,
    backlog: Backlog,
    status_reason: Option<String>,
}

pub async fn list(
    db: web::Data<Db>,
    layout: Layout,
    htmx: Htmx,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let filter = query.filter();
    let total = webhooks::count(db.reader(), &filter).await?;
    let pager = Pager::parse(&query.page, PAGE_SIZE).within(total);
    let now = db.now();
    let rows = webhooks::list(db.reader(), &filter, pager, now).await?;
    let mut table = Table::new(&query, &filter, rows, total, pager, now);
    table.admin = layout.is_admin();
    if htmx.wants_partial() {
        return render(StatusCode::OK, &TablePartial { table });
    }
    let event_types = event_types::keys(db.reader())
        .await?
        .iter()
        .filter(|key| key.is_subscribable())
        .map(ToString::to_string)
        .collect();
    let filters = Filters {
        statuses: std::iter::once((WebhookStatus::Active.key(), WebhookStatus::Active.label()))
            .chain([(FAILING, "Failing")])
            .chain(
                WebhookStatus::ALL
                    .into_iter()
                    .filter(|s| *s != WebhookStatus::Active)
                    .map(|s| (s.key(), s.label())),
            )
            .collect(),
        event_types,
        q: query.q,
        status: query.status,
        event: query.event,
        sort: query.sort,
    };
    render(
        StatusCode::OK,
        &ListPage {
            layout,
            title: "Webhook Settings".into(),
            tab: Tab::Webhooks,
            filters,
            table,
        },
    )
}

impl ListQuery {
    fn filter(&self) -> WebhookFilter {
        let non_empty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        WebhookFilter {
            // Staff's own Webhook Settings are the default account's (SPEC §8).
            account: Some(AccountKey::default_account()),
            search: non_empty(&self.q),
            status: WebhookStatus::from_key(self.status.trim()),
            event_type: non_empty(&self.event),
            failing: self.status.trim() == FAILING,
            by_health: self.sort.trim() == BY_HEALTH,
        }
    }

    fn href(&self, page: i64) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("q", &self.q),
            ("status", &self.status),
            ("event", &self.event),
            ("sort", &self.sort),
        ] {
            if !value.trim().is_empty() {
                query.append_pair(key, value.trim());
            }
        }
        if page > 1 {
            query.append_pair("page", &page.to_string());
        }
        let query = query.finish();
        if query.is_empty() {
            "/settings/webhooks".to_owned()
        } else {
            format!("/settings/webhooks?{query}")
        }
    }
}

impl Table {
    fn new(
        query: &ListQuery,
        filter: &WebhookFilter,
        rows: Vec<Webhook>,
        total: i64,
        pager: Pager,
        now: Timestamp,
    ) -> Self {
        let first_item = pager.offset() + 1;
        Self {
            admin: false,
            first_item,
            last_item: first_item + rows.len() as i64 - 1,
            rows: rows
                .into_iter()
                .map(|webhook| Row::new(webhook, now))
                .collect(),
            total,
            filtered: filter.search.is_some()
                || filter.status.is_some()
                || filter.event_type.is_some()
                || filter.failing,
            pagination: Pagination::new(pager, total, |page| query.href(page))
                .swapping("#webhook-table"),
        }
    }
}

/// Event chips a row shows before "+N more", so every row stays one or two lines tall.
const CHIPS_SHOWN: usize = 2;
/// Characters of a URL's path kept at its end: enough for the path's last parts.
const URL_TAIL: usize = 32;

/// A URL as (scheme, host and port; path and query shortened to its end): the two parts a person
/// tells receivers apart by.
fn url_parts(url: &str) -> (String, String) {
    let Ok(parsed) = url::Url::parse(url) else {
        return (url.to_owned(), String::new());
    };
    let host = match (parsed.host_str(), parsed.port()) {
        (Some(host), Some(port)) => format!("{}://{host}:{port}", parsed.scheme()),
        (Some(host), None) => format!("{}://{host}", parsed.scheme()),
        (None, _) => String::new(),
    };
    let path = match parsed.query() {
        Some(query) => format!("{}?{query}", parsed.path()),
        None => parsed.path().to_owned(),
    };
    let path = match path.char_indices().rev().nth(URL_TAIL - 1) {
        Some((at, _)) if at > 0 => format!("…{}", &path[at..]),
        _ => path,
    };
    (host, path)
}

impl Row {
    fn new(webhook: Webhook, now: Timestamp) -> Self {
        let events = view::event_keys(&webhook.events);
        let (url_host, url_path) = url_parts(&webhook.url);
        Self {
            url_host,
            url_path,
            shown_events: events.iter().take(CHIPS_SHOWN).cloned().collect(),
            more_events: events.len().saturating_sub(CHIPS_SHOWN),
            href: detail_href(webhook.id),
            id: webhook.id,
            events,
            notification_type: webhook.notification_type.label(),
            status: Badge::webhook(&webhook),
            last_delivery: webhook
                .last_delivery
                .as_ref()
                .map(|last| Outcome::of(last, now)),
            success_rate: view::success_rate(webhook.succeeded_24h, webhook.failed_24h),
            backlog: Backlog::of(&webhook),
            status_reason: view::status_reason(&webhook, now),
            name: webhook.name,
            url: webhook.url,
        }
    }
}
