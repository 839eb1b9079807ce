//! The one way the console asks before an action that cannot be taken back or that reaches
//! a customer: a page that says what will happen (and where, for a delivery), whose own form
//! performs the action. It works without JavaScript; the button that led here is a link.

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
    /// What happens. With a `url`, the sentence ends where it goes: "… is POSTed to".
    pub consequence: String,
    pub url: Option<String>,
    /// Styled as a destructive action.
    pub danger: bool,
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
