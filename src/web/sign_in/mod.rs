mod login;
mod setup;

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

/// Where to go after signing in: a path on this console, never another site.
fn safe_next(next: &str) -> &str {
    let is_local = next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\");
    if is_local { next } else { "/settings/webhooks" }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next("/settings/events?x=1"), "/settings/events?x=1");
        for outside in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "",
        ] {
            assert_eq!(safe_next(outside), "/settings/webhooks");
        }
    }
}
