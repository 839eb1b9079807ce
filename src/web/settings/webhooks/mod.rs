mod chart;
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

pub fn pages() -> Vec<Page> {
    use Access::{Admin, SignedIn};
    vec![
        get("/settings/webhooks", SignedIn, list::list),
        post("/settings/webhooks", Admin, form::create),
        get("/settings/webhooks/new", Admin, form::new),
        get("/settings/webhooks/{id:[0-9]+}", SignedIn, detail::show),
        get("/settings/webhooks/{id:[0-9]+}/edit", Admin, form::edit),
        post("/settings/webhooks/{id:[0-9]+}/edit", Admin, form::update),
        get(
            "/settings/webhooks/{id:[0-9]+}/disable",
            Admin,
            status::confirm_disable,
        ),
        post(
            "/settings/webhooks/{id:[0-9]+}/disable",
            Admin,
            status::disable,
        ),
        post(
            "/settings/webhooks/{id:[0-9]+}/enable",
            Admin,
            status::enable,
        ),
        get(
            "/settings/webhooks/{id:[0-9]+}/delete",
            Admin,
            delete::confirm,
        ),
        post(
            "/settings/webhooks/{id:[0-9]+}/delete",
            Admin,
            delete::delete,
        ),
        post(
            "/settings/webhooks/{id:[0-9]+}/secret",
            Admin,
            secret::reveal,
        ),
        get(
            "/settings/webhooks/{id:[0-9]+}/verify",
            SignedIn,
            verify::form,
        ),
        post(
            "/settings/webhooks/{id:[0-9]+}/verify",
            SignedIn,
            verify::check,
        ),
        get(
            "/settings/webhooks/{id:[0-9]+}/rotate-secret",
            Admin,
            secret::confirm_rotate,
        ),
        post(
            "/settings/webhooks/{id:[0-9]+}/rotate-secret",
            Admin,
            secret::rotate,
        ),
        get(
            "/settings/webhooks/{id:[0-9]+}/recover",
            Admin,
            recover::confirm_recover,
        ),
        post(
            "/settings/webhooks/{id:[0-9]+}/recover",
            Admin,
            recover::recover_failed,
        ),
        get(
            "/settings/webhooks/{id:[0-9]+}/test-event",
            Admin,
            test_event::confirm_test_event,
        ),
        post(
            "/settings/webhooks/{id:[0-9]+}/test-event",
            Admin,
            test_event::send_test_event,
        ),
        get(
            "/settings/webhooks/{id:[0-9]+}/deliveries",
            SignedIn,
            log::refresh,
        ),
        get(
            "/settings/webhooks/{id:[0-9]+}/deliveries/{delivery_id:[0-9]+}",
            SignedIn,
            delivery::show,
        ),
        get(
            "/settings/webhooks/{id:[0-9]+}/deliveries/{delivery_id:[0-9]+}/redeliver",
            Admin,
            delivery::confirm_redeliver,
        ),
        post(
            "/settings/webhooks/{id:[0-9]+}/deliveries/{delivery_id:[0-9]+}/redeliver",
            Admin,
            delivery::redeliver,
        ),
    ]
}

fn detail_href(id: i64) -> String {
    format!("/settings/webhooks/{id}")
}
