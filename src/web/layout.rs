//! What every page's frame shows besides its own content.

use std::convert::Infallible;
use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload};
use actix_web_flash_messages::{FlashMessage, IncomingFlashMessages, Level};

use crate::web::session::{CurrentUser, UserSession};

/// Extracted by every page handler; the frame of `base.html` reads it.
#[derive(Debug, Default)]
pub struct Layout {
    /// `None` on the sign-in and setup pages.
    pub user: Option<CurrentUser>,
    /// Goes into every form and, through `hx-headers`, into every htmx request.
    pub csrf_token: String,
    pub flashes: Vec<Flash>,
}

/// A one-time confirmation carried over a redirect.
#[derive(Debug)]
pub struct Flash {
    pub kind: &'static str,
    pub text: String,
}

impl Flash {
    pub fn success(text: impl Into<String>) {
        FlashMessage::success(text.into()).send();
    }

    pub fn info(text: impl Into<String>) {
        FlashMessage::info(text.into()).send();
    }
}

impl Layout {
    /// The frame of an error page: it consumes no confirmation and creates no session, so
    /// a stray request for a missing page costs no write. A signed-in user's session has
    /// its token from sign-in.
    pub fn for_error(request: &HttpRequest) -> Self {
        Self {
            user: current_user(request),
            csrf_token: UserSession::of(request)
                .existing_csrf_token()
                .unwrap_or_default(),
            flashes: Vec::new(),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(CurrentUser::is_admin)
    }
}

impl FromRequest for Layout {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let flashes = IncomingFlashMessages::from_request(request, payload)
            .into_inner()
            .map(|messages| {
                messages
                    .iter()
                    .map(|message| Flash {
                        kind: match message.level() {
                            Level::Error => "error",
                            Level::Warning => "warning",
                            Level::Success => "success",
                            Level::Info | Level::Debug => "info",
                        },
                        text: message.content().to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        ready(Ok(Self {
            user: current_user(request),
            csrf_token: UserSession::of(request).csrf_token(),
            flashes,
        }))
    }
}

/// Read on its own: the session needs the request's extensions mutably afterwards.
fn current_user(request: &HttpRequest) -> Option<CurrentUser> {
    request.extensions().get::<CurrentUser>().cloned()
}
