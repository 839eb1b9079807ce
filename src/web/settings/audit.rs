//! The Audit Log tab: who did what and when, newest first.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::Tab;
use crate::db::{Db, audit};
use crate::paging::{LOG_PAGE_SIZE, Pager};
use crate::web::error::AppError;
use crate::web::layout::Layout;
use crate::web::pagination::Pagination;
use crate::web::render;
use crate::web::routes::{Access, Page, get};

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
    pagination: Pagination,
}

struct EntryRow {
    at: String,
    actor: String,
    action: &'static str,
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
    let pager = Pager::parse(&query.page, LOG_PAGE_SIZE).within(total);
    let entries = audit::list(db.reader(), search, pager)
        .await?
        .into_iter()
        .map(|entry| EntryRow {
            at: entry.at.absolute_seconds(),
            actor: entry.actor,
            action: entry.action.label(),
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
        pagination: Pagination::new(pager, total, href).labelled("← Newer", "Older →"),
    };
    render(StatusCode::OK, &audit_page)
}
