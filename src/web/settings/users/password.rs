//! A password an admin sets for someone: generated readable, shown once on its own page.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::Tab;
use crate::domain::Password;
use crate::secrets::secret_box::{Purpose, SecretBox};
use crate::web::error::AppError;
use crate::web::layout::{Flash, Layout};
use crate::web::session::UserSession;
use crate::web::{render, see_other};

/// A new password, shown on this page only and never stored in clear.
#[derive(Template)]
#[template(path = "settings/users/password.html")]
struct PasswordPage {
    layout: Layout,
    title: String,
    tab: Tab,
    email: String,
    password: String,
    new_user: bool,
}

/// A generated password, in clear for showing once and parsed for storing.
pub(super) fn new_password() -> Result<(String, Password), AppError> {
    let password = readable_password();
    let parsed = Password::parse(&password).map_err(|e| AppError::BadRequest(e.to_string()))?;
    Ok((password, parsed))
}

/// Letters and digits that cannot be mistaken for one another when read aloud or copied by
/// hand: no 0/O/o, 1/l/I.
const UNAMBIGUOUS: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// Five groups of four (about 115 bits), dashes between them for reading out.
fn readable_password() -> String {
    use rand::seq::IndexedRandom;
    let mut rng = rand::rng();
    (0..5)
        .map(|_| {
            (0..4)
                .map(|_| char::from(*UNAMBIGUOUS.choose(&mut rng).expect("not empty")))
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// A new password on its way to the page that shows it, sealed while it waits.
#[derive(serde::Serialize, serde::Deserialize)]
struct PasswordToShow {
    email: String,
    sealed: String,
    new_user: bool,
}

pub(super) const PASSWORD_PAGE: &str = "/settings/users/password";

/// Post/redirect/get: the password waits, sealed, in the session for the page that shows it,
/// so Back or a reload never adds the user or resets the password again.
pub(super) fn show_password_once(
    session: &UserSession,
    secrets: &SecretBox,
    email: String,
    password: &str,
    new_user: bool,
) -> Result<HttpResponse, AppError> {
    session.keep_to_show_once(&PasswordToShow {
        email,
        sealed: secrets.seal(Purpose::ShownOnce, password),
        new_user,
    })?;
    Ok(see_other(PASSWORD_PAGE))
}

pub(super) async fn new_password_page(
    secrets: web::Data<SecretBox>,
    session: UserSession,
    layout: Layout,
) -> Result<HttpResponse, AppError> {
    let shown = session
        .take_shown_once::<PasswordToShow>()
        .and_then(|kept| Some((secrets.open(Purpose::ShownOnce, &kept.sealed).ok()?, kept)));
    let Some((password, kept)) = shown else {
        Flash::info("A new password is shown only once. Reset it again if it was not noted.");
        return Ok(see_other("/settings/users"));
    };
    let page = PasswordPage {
        layout,
        title: "Password".into(),
        tab: Tab::Users,
        email: kept.email,
        password,
        new_user: kept.new_user,
    };
    render(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_avoid_look_alike_characters() {
        for _ in 0..200 {
            let password = readable_password();
            assert_eq!(password.len(), 24);
            assert!(
                !password.contains(['0', 'O', 'o', '1', 'l', 'I']),
                "{password}"
            );
            assert!(Password::parse(&password).is_ok());
        }
    }
}
