//! The Audit Log tab: who did what and when, newest first.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Tab, time_filter};
use crate::db::audit::{AuditFilter, Entry as AuditEntry};
use crate::db::{Db, audit};
use crate::domain::AuditAction;
use crate::domain::paging::{LOG_PAGE_SIZE, Pager};
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
    query: AuditQuery,
    /// (value, label, selected): "changes" first, then every action.
    actions: Vec<(String, String, bool)>,
    /// (actor, selected)
    actors: Vec<(String, bool)>,
    problems: Vec<String>,
    filtered: bool,
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
    /// Where the target can be seen, while the console still has it.
    target_href: Option<String>,
    summary: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    q: String,
    actor: String,
    action: String,
    from: String,
    until: String,
    page: String,
}

/// The action filter's choice that leaves out sign-ins and sign-outs.
const CHANGES_ONLY: &str = "changes";

impl AuditQuery {
    /// The filter this query asks for, or what is wrong with it.
    fn filter(&self) -> (AuditFilter, Vec<String>) {
        let text = |value: &str| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
        let mut problems = Vec::new();
        let filter = AuditFilter {
            search: text(&self.q),
            actor: text(&self.actor),
            action: AuditAction::from_key(self.action.trim()),
            changes_only: self.action.trim() == CHANGES_ONLY,
            from: time_filter(&self.from, "From", &mut problems),
            until: time_filter(&self.until, "Until", &mut problems),
        };
        (filter, problems)
    }

    fn href(&self, page: i64) -> String {
        let mut params = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("q", &self.q),
            ("actor", &self.actor),
            ("action", &self.action),
            ("from", &self.from),
            ("until", &self.until),
        ] {
            if !value.trim().is_empty() {
                params.append_pair(key, value.trim());
            }
        }
        params.append_pair("page", &page.to_string());
        format!("/settings/audit?{}", params.finish())
    }
}

/// Where an entry's target can be looked at: a webhook by its name in the list, a user or a
/// token on their tab, an event type in the catalog.
fn target_href(target_type: &str, target: &str) -> Option<String> {
    let query = |path: &str| {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", target)
            .finish();
        format!("{path}?{q}")
    };
    match target_type {
        "webhook" => Some(query("/settings/webhooks")),
        "event type" => Some(query("/settings/events")),
        "user" => Some("/settings/users".to_owned()),
        "token" => Some("/settings/tokens".to_owned()),
        _ => None,
    }
}

async fn list(
    db: web::Data<Db>,
    layout: Layout,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let (filter, problems) = query.filter();
    let total = audit::count(db.reader(), &filter).await?;
    let pager = Pager::parse(&query.page, LOG_PAGE_SIZE).within(total);
    let entries = audit::list(db.reader(), &filter, pager)
        .await?
        .into_iter()
        .map(EntryRow::new)
        .collect();
    let actions = action_choices(&filter);
    let actors = audit::actors(db.reader())
        .await?
        .into_iter()
        .map(|actor| {
            let selected = filter.actor.as_deref() == Some(actor.as_str());
            (actor, selected)
        })
        .collect();
    let pagination =
        Pagination::new(pager, total, |page| query.href(page)).labelled("← Newer", "Older →");
    let status = match problems.is_empty() {
        true => StatusCode::OK,
        false => StatusCode::BAD_REQUEST,
    };
    let audit_page = AuditPage {
        layout,
        title: "Audit Log".into(),
        tab: Tab::Audit,
        filtered: filter.is_narrowed(),
        query,
        actions,
        actors,
        problems,
        entries,
        total,
        pagination,
    };
    render(status, &audit_page)
}

/// The action filter's choices: changes only, then each action; the chosen one marked.
fn action_choices(filter: &AuditFilter) -> Vec<(String, String, bool)> {
    std::iter::once((
        CHANGES_ONLY.to_owned(),
        "Changes only (no sign-ins)".to_owned(),
        filter.changes_only,
    ))
    .chain(AuditAction::ALL.into_iter().map(|action| {
        (
            action.key().to_owned(),
            action.label().to_owned(),
            Some(action) == filter.action,
        )
    }))
    .collect()
}

impl EntryRow {
    fn new(entry: AuditEntry) -> Self {
        Self {
            at: entry.at.absolute_seconds(),
            actor: entry.actor,
            action: entry.action.label(),
            target_href: target_href(&entry.target_type, &entry.target),
            target_type: entry.target_type,
            target: entry.target,
            summary: entry.summary,
        }
    }
}
