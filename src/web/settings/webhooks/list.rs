use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::super::Tab;
use super::{PAGE_SIZE, detail_href, view};
use crate::db::webhooks::{Webhook, WebhookFilter};
use crate::db::{Db, event_types, now_ms, webhooks};
use crate::domain::WebhookStatus;
use crate::htmx::Htmx;
use crate::web::error::AppError;
use crate::web::{layout::Layout, page_within, render, time_format};

/// The list's query string; anything unrecognised reads as "no filter".
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    q: String,
    status: String,
    event: String,
    page: String,
}

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
    previous_href: Option<String>,
    next_href: Option<String>,
    pages: Vec<PageLink>,
}

struct Row {
    id: i64,
    href: String,
    name: String,
    url: String,
    events: Vec<String>,
    notification_type: &'static str,
    status: (&'static str, &'static str),
    last_delivery: Option<(bool, String)>,
    success_rate: String,
}

struct PageLink {
    number: i64,
    href: String,
    current: bool,
    /// Pages were skipped before this link.
    gap_before: bool,
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
    let (page, pages) = page_within(&query.page, total, PAGE_SIZE);
    let offset = (page - 1) * PAGE_SIZE;
    let rows = webhooks::list(db.reader(), &filter, offset, PAGE_SIZE).await?;
    let mut table = Table::new(&query, &filter, rows, total, page, pages);
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
        statuses: WebhookStatus::ALL
            .into_iter()
            .map(|s| (s.as_db(), s.label()))
            .collect(),
        event_types,
        q: query.q,
        status: query.status,
        event: query.event,
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
            search: non_empty(&self.q),
            status: WebhookStatus::from_db(self.status.trim()),
            event_type: non_empty(&self.event),
        }
    }

    fn href(&self, page: i64) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("q", &self.q),
            ("status", &self.status),
            ("event", &self.event),
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
        page: i64,
        pages: i64,
    ) -> Self {
        let now = now_ms();
        let first_item = (page - 1) * PAGE_SIZE + 1;
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
                || filter.event_type.is_some(),
            previous_href: (page > 1).then(|| query.href(page - 1)),
            next_href: (page < pages).then(|| query.href(page + 1)),
            pages: page_numbers(page, pages)
                .into_iter()
                .scan(0, |previous, number| {
                    let link = PageLink {
                        number,
                        href: query.href(number),
                        current: number == page,
                        gap_before: number > *previous + 1 && *previous > 0,
                    };
                    *previous = number;
                    Some(link)
                })
                .collect(),
        }
    }
}

/// The first and last page, and two on each side of the current one.
fn page_numbers(page: i64, pages: i64) -> Vec<i64> {
    let mut numbers: Vec<i64> = [1, pages]
        .into_iter()
        .chain((page - 2).max(1)..=(page + 2).min(pages))
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    numbers
}

impl Row {
    fn new(webhook: Webhook, now: i64) -> Self {
        Self {
            href: detail_href(webhook.id),
            id: webhook.id,
            events: view::event_keys(&webhook.events),
            notification_type: webhook.notification_type.label(),
            status: view::status_badge(webhook.status),
            last_delivery: webhook
                .last_delivery
                .map(|last| (last.succeeded, time_format::relative(last.at, now))),
            success_rate: view::success_rate(webhook.succeeded_24h, webhook.failed_24h),
            name: webhook.name,
            url: webhook.url,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_keep_the_ends_and_the_neighbourhood() {
        assert_eq!(page_numbers(1, 1), vec![1]);
        assert_eq!(page_numbers(1, 10), vec![1, 2, 3, 10]);
        assert_eq!(
            page_numbers(200, 400),
            vec![1, 198, 199, 200, 201, 202, 400]
        );
    }
}
