//! The Audit Log tab: who did what and when, newest first.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::Tab;
use crate::db::{Db, audit};
use crate::domain::AuditAction;
use crate::web::error::AppError;
use crate::web::layout::Layout;
use crate::web::routes::{Access, Page, get};
use crate::web::{page_within, render, time_format};

/// Entries per page.
const PAGE_SIZE: i64 = 50;

pub fn pages() -> Vec<Page> {
    vec![get("/settings/audit", Access::SignedIn, list)]
}

#[derive(Template)]
#[template(path = "settings/audit.html")]
struct AuditPage {
    layout: Layout,
    title: String,
    tab: Tab,
    q: String,
    entries: Vec<EntryRow>,
    total: i64,
    previous_href: Option<String>,
    next_href: Option<String>,
}

struct EntryRow {
    at: String,
    actor: String,
    action: String,
    target_type: String,
    target: String,
    summary: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    q: String,
    page: String,
}

async fn list(
    db: web::Data<Db>,
    layout: Layout,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let search = Some(query.q.trim()).filter(|q| !q.is_empty());
    let total = audit::count(db.reader(), search).await?;
    let (page, pages) = page_within(&query.page, total, PAGE_SIZE);
    let entries = audit::list(db.reader(), search, (page - 1) * PAGE_SIZE, PAGE_SIZE)
        .await?
        .into_iter()
        .map(|entry| EntryRow {
            at: time_format::absolute_seconds(entry.at),
            actor: entry.actor,
            action: AuditAction::from_db(&entry.action)
                .map_or(entry.action.clone(), |action| action.label().to_owned()),
            target_type: entry.target_type,
            target: entry.target,
            summary: entry.summary,
        })
        .collect();
    let href = |page: i64| {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", search.unwrap_or_default())
            .append_pair("page", &page.to_string())
            .finish();
        format!("/settings/audit?{query}")
    };
    let audit_page = AuditPage {
        layout,
        title: "Audit Log".into(),
        tab: Tab::Audit,
        q: query.q.clone(),
        entries,
        total,
        previous_href: (page > 1).then(|| href(page - 1)),
        next_href: (page < pages).then(|| href(page + 1)),
    };
    render(StatusCode::OK, &audit_page)
}
