//! The page that asks before an action reaches a customer's receiver: it says what will be
//! sent where, and only its own form performs the action.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;

use super::Tab;
use crate::web::error::AppError;
use crate::web::layout::Layout;
use crate::web::render;

pub struct Confirmation {
    /// The heading, a question: "Send a test event to Orders?"
    pub question: String,
    /// What happens, ending where it goes: "… is POSTed to".
    pub consequence: String,
    pub url: String,
    pub notes: Vec<String>,
    /// Where the confirming form posts, with these hidden fields.
    pub action: String,
    pub fields: Vec<(&'static str, String)>,
    pub confirm: String,
    pub cancel_href: String,
}

#[derive(Template)]
#[template(path = "settings/confirm.html")]
struct ConfirmPage {
    layout: Layout,
    title: String,
    tab: Tab,
    confirmation: Confirmation,
}

pub fn ask(layout: Layout, tab: Tab, confirmation: Confirmation) -> Result<HttpResponse, AppError> {
    render(
        StatusCode::OK,
        &ConfirmPage {
            layout,
            title: confirmation.question.clone(),
            tab,
            confirmation,
        },
    )
}
