//! Who is signed in: the typed browser session and the current user.

use std::convert::Infallible;
use std::future::{Ready, ready};

use actix_session::{Session, SessionExt};
use actix_web::error::ErrorForbidden;
use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload};

use crate::actions::Actor;
use crate::db::sessions::USER_ID;
use crate::domain::Role;
use crate::token::random_token;

const CSRF_TOKEN: &str = "csrf_token";
/// 256 bits: not guessable, and compared in constant time.
const CSRF_TOKEN_BYTES: usize = 32;

/// The session store could not take a change.
#[derive(Debug, thiserror::Error)]
#[error("the session could not be updated")]
pub struct SessionWriteFailed;

/// The browser session, with typed access to what the console keeps in it.
pub struct UserSession(Session);

impl UserSession {
    pub fn of(request: &HttpRequest) -> Self {
        Self(request.get_session())
    }

    pub fn user_id(&self) -> Option<i64> {
        self.0.get::<i64>(USER_ID).ok().flatten()
    }

    /// A new session id at sign-in, so an id planted before it (session fixation) is useless.
    pub fn sign_in(&self, user_id: i64) -> Result<(), SessionWriteFailed> {
        self.0.renew();
        self.0
            .insert(USER_ID, user_id)
            .map_err(|_| SessionWriteFailed)?;
        self.0
            .insert(CSRF_TOKEN, random_token(CSRF_TOKEN_BYTES))
            .map_err(|_| SessionWriteFailed)
    }

    /// Deletes the session on the server, so its cookie is worthless from now on.
    pub fn sign_out(&self) {
        self.0.purge();
    }

    /// The session's synchronizer token, created on first use.
    pub fn csrf_token(&self) -> String {
        if let Ok(Some(token)) = self.0.get::<String>(CSRF_TOKEN) {
            return token;
        }
        let token = random_token(CSRF_TOKEN_BYTES);
        // A string always serializes, so inserting it cannot fail.
        let _ = self.0.insert(CSRF_TOKEN, &token);
        token
    }

    /// The token if the session has one; a session without one cannot have sent a form.
    pub fn existing_csrf_token(&self) -> Option<String> {
        self.0.get::<String>(CSRF_TOKEN).ok().flatten()
    }
}

impl FromRequest for UserSession {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self::of(request)))
    }
}

/// The signed-in user of this request, put in place by the console's guard after it
/// checked the session against the database.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: i64,
    pub email: String,
    pub role: Role,
}

impl CurrentUser {
    pub fn is_admin(&self) -> bool {
        self.role.is_admin()
    }

    /// Who the audit log names for what this user does.
    pub fn actor(&self) -> Actor {
        Actor::User(self.email.clone())
    }
}

impl FromRequest for CurrentUser {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, actix_web::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            request
                .extensions()
                .get::<CurrentUser>()
                .cloned()
                .ok_or_else(|| ErrorForbidden("not signed in")),
        )
    }
}
