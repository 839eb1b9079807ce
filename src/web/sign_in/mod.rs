mod known_browser;
mod login;
mod setup;

pub use known_browser::KnownBrowsers;
pub use setup::SetupToken;

use super::routes::{Access, Page, get, post};

pub fn pages() -> Vec<Page> {
    vec![
        get("/login", Access::Public, login::form),
        post("/login", Access::Public, login::sign_in),
        post("/logout", Access::SignedIn, login::sign_out),
        get("/setup", Access::Public, setup::form),
        post("/setup", Access::Public, setup::create_first_admin),
    ]
}

/// Where to go after signing in: a path on this console, never another site. Only an
/// absolute path of visible ASCII is taken (no scheme, no `//` authority, no backslash, no
/// whitespace or control character, which browsers drop or bend into another host), and it
/// must resolve on this console's own origin; anything else goes to the webhook list.
/// What passes is always a valid `Location` header.
fn safe_next(next: &str) -> &str {
    const FALLBACK: &str = "/settings/webhooks";
    let visible_ascii = next.chars().all(|c| c.is_ascii_graphic() && c != '\\');
    let path_absolute = next.starts_with('/') && !next.starts_with("//");
    if !(visible_ascii && path_absolute) {
        return FALLBACK;
    }
    let origin = url::Url::parse("http://console.invalid/").expect("a valid base");
    match origin.join(next) {
        Ok(target) if target.origin() == origin.origin() => next,
        _ => FALLBACK,
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        for local in [
            "/settings/events?x=1",
            "/settings/%75sers",
            "/settings/webhooks/1#top",
        ] {
            assert_eq!(safe_next(local), local);
        }
        for outside in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "/\t/evil.example/p",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/\0/evil.example",
            "/ /evil.example",
            "/\u{3000}/evil.example",
            "/é",
            "javascript:alert(1)",
            "settings",
            "",
        ] {
            assert_eq!(safe_next(outside), "/settings/webhooks", "{outside:?}");
        }
    }
}
