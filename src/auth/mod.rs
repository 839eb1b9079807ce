//! Who is signed in: passwords, the session, and the current user.

mod password;
mod session;

pub use password::{Busy, hash_password, verify_password};
pub use session::UserSession;

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload};

use crate::domain::Role;
use crate::error::AppError;

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
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            request
                .extensions()
                .get::<CurrentUser>()
                .cloned()
                .ok_or(AppError::Forbidden),
        )
    }
}
