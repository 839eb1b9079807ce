mod chart;
mod curl;
mod delete;
mod delivery;
mod detail;
mod form;
mod form_view;
mod list;
pub(super) mod log;
mod recover;
mod secret;
mod status;
mod test_event;
mod verify;
mod view;

use crate::web::routes::{Access, Page, get, post};

/// A path under one webhook's page.
macro_rules! one {
    ($tail:literal) => {
        concat!("/settings/webhooks/{id:[0-9]+}", $tail)
    };
}

pub fn pages() -> Vec<Page> {
    use Access::{Admin, SignedIn};
    vec![
        get("/settings/webhooks", SignedIn, list::list),
        post("/settings/webhooks", Admin, form::create),
        get("/settings/webhooks/new", Admin, form::new),
        get(one!(""), SignedIn, detail::show),
        get(one!("/edit"), Admin, form::edit),
        post(one!("/edit"), Admin, form::update),
        get(one!("/disable"), Admin, status::confirm_disable),
        post(one!("/disable"), Admin, status::disable),
        post(one!("/enable"), Admin, status::enable),
        get(one!("/delete"), Admin, delete::confirm),
        post(one!("/delete"), Admin, delete::delete),
        post(one!("/secret"), Admin, secret::reveal),
        get(one!("/verify"), SignedIn, verify::form),
        post(one!("/verify"), SignedIn, verify::check),
        get(one!("/rotate-secret"), Admin, secret::confirm_rotate),
        post(one!("/rotate-secret"), Admin, secret::rotate),
        get(one!("/recover"), Admin, recover::confirm_recover),
        post(one!("/recover"), Admin, recover::recover_failed),
        get(one!("/test-event"), Admin, test_event::confirm_test_event),
        post(one!("/test-event"), Admin, test_event::send_test_event),
        get(one!("/deliveries"), SignedIn, log::refresh),
        get(
            one!("/deliveries/{delivery_id:[0-9]+}"),
            SignedIn,
            delivery::show,
        ),
        get(
            one!("/deliveries/{delivery_id:[0-9]+}/redeliver"),
            Admin,
            delivery::confirm_redeliver,
        ),
        post(
            one!("/deliveries/{delivery_id:[0-9]+}/redeliver"),
            Admin,
            delivery::redeliver,
        ),
    ]
}

fn detail_href(id: i64) -> String {
    format!("/settings/webhooks/{id}")
}
