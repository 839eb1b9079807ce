//! A browser that signed in to an account before is known to it: a long-lived cookie,
//! encrypted and signed with the console's cookie key, names the accounts (by email) this
//! browser signed in to. The per-email limit on failed sign-ins never refuses a known
//! browser, so nobody can lock an admin out by spraying wrong passwords for their email;
//! the limits per address still apply to it. (OWASP's "device cookies".)

use std::convert::Infallible;
use std::future::{Ready, ready};

use actix_web::cookie::{Cookie, CookieJar, Key, SameSite, time::Duration};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

/// Long enough that an admin who signs in a few times a year stays known.
const KNOWN_FOR: Duration = Duration::days(400);
/// Accounts remembered per browser: a shared admin workstation, not a directory.
const EMAILS_AT_MOST: usize = 5;

/// How the console writes and reads the cookie.
#[derive(Clone)]
pub struct KnownBrowsers {
    key: Key,
    secure: bool,
}

impl KnownBrowsers {
    pub fn new(key: Key, secure: bool) -> Self {
        Self { key, secure }
    }

    /// `__Host-` makes browsers keep it only when Secure, host-only and for the whole site.
    fn cookie_name(&self) -> &'static str {
        match self.secure {
            true => "__Host-wc_known",
            false => "wc_known",
        }
    }
}

/// The accounts this browser signed in to before, as its cookie says (none when the
/// cookie is missing, altered or from another installation).
pub struct KnownBrowser {
    emails: Vec<String>,
    settings: Option<KnownBrowsers>,
}

impl KnownBrowser {
    /// Whether this browser signed in to `email` before (as typed: case and spaces aside).
    pub fn knows(&self, email: &str) -> bool {
        let email = normalised(email);
        self.emails.contains(&email)
    }

    /// The cookie to set after signing in to `email`: it first, then the others it knew.
    pub fn remembering(&self, email: &str) -> Option<Cookie<'static>> {
        let settings = self.settings.as_ref()?;
        let email = normalised(email);
        let emails: Vec<&str> = std::iter::once(email.as_str())
            .chain(
                self.emails
                    .iter()
                    .map(String::as_str)
                    .filter(|e| *e != email),
            )
            .take(EMAILS_AT_MOST)
            .collect();
        let cookie = Cookie::build(settings.cookie_name(), emails.join("\n"))
            .path("/")
            .http_only(true)
            .secure(settings.secure)
            .same_site(SameSite::Strict)
            .max_age(KNOWN_FOR)
            .finish();
        let mut jar = CookieJar::new();
        jar.private_mut(&settings.key).add(cookie);
        jar.delta().next().cloned()
    }
}

fn normalised(email: &str) -> String {
    email.trim().to_lowercase()
}

impl FromRequest for KnownBrowser {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let settings = request
            .app_data::<web::Data<KnownBrowsers>>()
            .map(|data| data.get_ref().clone());
        let emails = settings
            .as_ref()
            .and_then(|settings| {
                let sent = request.cookie(settings.cookie_name())?;
                let mut jar = CookieJar::new();
                jar.add_original(sent);
                jar.private(&settings.key).get(settings.cookie_name())
            })
            .map(|cookie| cookie.value().lines().map(str::to_owned).collect())
            .unwrap_or_default();
        ready(Ok(Self { emails, settings }))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn read(settings: &KnownBrowsers, cookie: Cookie<'static>) -> KnownBrowser {
        let request = TestRequest::default()
            .app_data(web::Data::new(settings.clone()))
            .cookie(cookie)
            .to_http_request();
        KnownBrowser::from_request(&request, &mut Payload::None)
            .into_inner()
            .unwrap()
    }

    #[test]
    fn only_a_cookie_this_console_sealed_makes_a_browser_known() {
        let settings = KnownBrowsers::new(Key::generate(), false);
        let unknown = read(&settings, Cookie::new("wc_known", "x"));
        assert!(!unknown.knows("ada@example.com"), "plain text is no proof");
        let sealed = unknown.remembering(" Ada@Example.com").unwrap();
        assert!(!sealed.value().contains("ada"), "the emails are encrypted");
        let known = read(&settings, sealed.clone());
        assert!(known.knows("ada@example.com"));
        assert!(!known.knows("bob@example.com"));
        let elsewhere = KnownBrowsers::new(Key::generate(), false);
        assert!(
            !read(&elsewhere, sealed).knows("ada@example.com"),
            "another key"
        );
    }

    #[test]
    fn a_browser_remembers_its_latest_accounts_first() {
        let settings = KnownBrowsers::new(Key::generate(), false);
        let mut cookie = read(&settings, Cookie::new("other", ""))
            .remembering("a0@x.io")
            .unwrap();
        for n in 1..=EMAILS_AT_MOST {
            cookie = read(&settings, cookie)
                .remembering(&format!("a{n}@x.io"))
                .unwrap();
        }
        let known = read(&settings, cookie);
        assert!(known.knows(&format!("a{EMAILS_AT_MOST}@x.io")));
        assert!(!known.knows("a0@x.io"), "the oldest is forgotten");
    }
}
