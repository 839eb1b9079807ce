//! Who is signed in: the typed browser session and the current user.

use std::convert::Infallible;
use std::future::{Ready, ready};

use actix_session::{Session, SessionExt};
use actix_web::error::ErrorForbidden;
use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload};

use std::time::Duration;

use actix_web::HttpRequest as Request;
use actix_web::dev::ResponseHead;
use actix_web_flash_messages::FlashMessage;
use actix_web_flash_messages::storage::{
    FlashMessageStore, LoadError, SessionMessageStore, StoreError,
};

use crate::actions::Actor;
use crate::clock::Timestamp;
use crate::db::sessions::USER_ID;
use crate::domain::Role;
use crate::secrets::token::random_token;

const CSRF_TOKEN: &str = "csrf_token";
/// When the user last did something; changing it is what extends the session.
const ACTIVE_AT: &str = "active_at";
/// Sent by the console's self-refreshing parts: a poll is not the user doing something.
pub const LIVE_REFRESH_HEADER: &str = "X-Live-Refresh";
/// A new password or token between the POST that made it and the page that shows it.
const SHOWN_ONCE: &str = "shown_once";
/// Where the flash messages framework keeps messages for the next page.
const FLASH_KEY: &str = "_flash";
/// A session's expiry moves at most this often (or every tenth of the idle timeout, if that
/// is shorter), so browsing rarely writes to disk.
const ACTIVITY_STEP: Duration = Duration::from_secs(60);

/// How often activity is written to the session, from the idle timeout.
#[derive(Debug, Clone, Copy)]
pub struct ActivityStep(Duration);

impl ActivityStep {
    pub fn for_idle_timeout(idle: Duration) -> Self {
        Self(ACTIVITY_STEP.min(idle / 10))
    }
}
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

    /// The user did something: the idle timeout starts again. Live refreshes do not call
    /// this, so a forgotten open tab still signs out when its idle time is up.
    /// Only a change of the session extends it, and only a stale mark is changed.
    pub fn note_activity(&self, step: ActivityStep, now: Timestamp) {
        let marked = self.0.get::<i64>(ACTIVE_AT).ok().flatten();
        if marked.is_none_or(|at| Timestamp::from_unix_ms(at).until(now) >= step.0) {
            // A number always serializes, so inserting it cannot fail.
            let _ = self.0.insert(ACTIVE_AT, now.unix_ms());
        }
    }

    /// Keeps a secret (already sealed) for the next page to show once: the form that made it
    /// redirects, so Back or a reload never posts it again, and the secret is not in a URL.
    pub fn keep_to_show_once<T: serde::Serialize>(
        &self,
        secret: &T,
    ) -> Result<(), SessionWriteFailed> {
        self.0
            .insert(SHOWN_ONCE, secret)
            .map_err(|_| SessionWriteFailed)
    }

    /// The secret kept to be shown, taken out of the session: a second look finds nothing.
    pub fn take_shown_once<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        self.0.remove_as::<T>(SHOWN_ONCE).and_then(Result::ok)
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

/// Flash messages kept in the session, which is touched only when there is a message to keep
/// or one to clear. (The library's store clears on every response, which marks every session
/// changed and so writes it, and extends it, on every request, live refreshes included.)
#[derive(Clone, Default)]
pub struct FlashStore(SessionMessageStore);

impl FlashMessageStore for FlashStore {
    fn load(&self, request: &Request) -> Result<Vec<FlashMessage>, LoadError> {
        self.0.load(request)
    }

    fn store(
        &self,
        messages: &[FlashMessage],
        request: Request,
        response: &mut ResponseHead,
    ) -> Result<(), StoreError> {
        if messages.is_empty() && !request.get_session().entries().contains_key(FLASH_KEY) {
            return Ok(());
        }
        self.0.store(messages, request, response)
    }
}
