mod audit;
pub(super) mod confirm;
mod deliveries;
mod events;
mod tokens;
mod users;
mod webhooks;

use actix_web::HttpResponse;

use super::routes::{Access, Page, get};
use super::see_other;

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
    ];
    pages.extend(webhooks::pages());
    pages.extend(deliveries::pages());
    pages.extend(users::pages());
    pages.extend(tokens::pages());
    pages.extend(audit::pages());
    pages
}

async fn default_tab() -> HttpResponse {
    see_other("/settings/webhooks")
}
