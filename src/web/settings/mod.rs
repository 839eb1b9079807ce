mod audit;
mod catalog_document;
pub(super) mod confirm;
mod deliveries;
mod event_types;
mod events;
mod tokens;
mod users;
mod webhooks;

use actix_web::HttpResponse;

use super::routes::{Access, Page, get};
use super::see_other;
use crate::clock::Timestamp;

/// The tabs of the Settings screen, in the order they are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Webhooks,
    Deliveries,
    Events,
    Users,
    Tokens,
    Audit,
}

pub fn pages() -> Vec<Page> {
    let mut pages = vec![
        get("/settings", Access::SignedIn, default_tab),
        get("/settings/events", Access::SignedIn, events::catalog),
        get(
            "/settings/events/webhooks.json",
            Access::SignedIn,
            catalog_document::download,
        ),
    ];
    pages.extend(event_types::pages());
    pages.extend(webhooks::pages());
    pages.extend(deliveries::pages());
    pages.extend(users::pages());
    pages.extend(tokens::pages());
    pages.extend(audit::pages());
    pages
}

/// A filter's time as typed in a `datetime-local` field (UTC): none when left empty, and when
/// it cannot be read, none with the reason added to `problems`.
fn time_filter(text: &str, which: &str, problems: &mut Vec<String>) -> Option<Timestamp> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let parsed = Timestamp::parse_utc_minutes(text);
    if parsed.is_none() {
        problems.push(format!(
            "Enter the {which} time like 2026-11-28T09:00 (UTC)."
        ));
    }
    parsed
}

async fn default_tab() -> HttpResponse {
    see_other("/settings/webhooks")
}
