//! Nobody can lock a chosen admin out (SPEC §6): a browser that signed in to an account
//! before is never refused by the per-email limit, however many wrong passwords others
//! send for that email from however many addresses.

use reqwest::StatusCode;

use crate::common::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp};

async fn behind_a_proxy() -> TestApp {
    TestApp::spawn_with(|settings| {
        settings.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await
}

/// 100 wrong passwords for the admin's email, five from each of 20 addresses.
async fn spray(app: &TestApp) {
    let attacker = app.visitor();
    for n in 0..100 {
        let address = format!("2001:db8:0:7::{}", n / 5 + 1);
        let sprayed = attacker
            .sign_in_via_proxy(ADMIN_EMAIL, "spray", &address)
            .await;
        assert_eq!(sprayed.status(), StatusCode::UNAUTHORIZED, "spray {n}");
    }
}

#[tokio::test]
async fn a_browser_that_signed_in_before_still_signs_in_after_a_spray_of_failures() {
    let app = behind_a_proxy().await;
    let admins_browser = app.visitor();
    let first = admins_browser
        .sign_in_via_proxy(ADMIN_EMAIL, ADMIN_PASSWORD, "192.0.2.10")
        .await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let known = first
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|cookie| cookie.starts_with("wc_known="))
        .expect("the browser is remembered")
        .to_owned();
    assert!(
        known.contains("HttpOnly") && known.contains("SameSite=Strict"),
        "{known}"
    );
    assert!(known.contains("Max-Age="), "long-lived: {known}");
    assert!(
        !known.contains(&ADMIN_EMAIL.replace('@', "%40")),
        "encrypted: {known}"
    );
    assert!(!known.contains(ADMIN_EMAIL), "encrypted: {known}");
    admins_browser
        .refresh_csrf_token("/settings/webhooks")
        .await;
    let signed_out = admins_browser.post_form("/logout", &[]).await;
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);

    spray(&app).await;

    let new_browser = app.visitor();
    let refused = new_browser
        .sign_in_via_proxy(ADMIN_EMAIL, ADMIN_PASSWORD, "192.0.2.10")
        .await;
    assert_eq!(
        refused.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a browser the account has never seen stays limited"
    );

    let again = admins_browser
        .sign_in_via_proxy(ADMIN_EMAIL, ADMIN_PASSWORD, "192.0.2.10")
        .await;
    assert_eq!(
        again.status(),
        StatusCode::SEE_OTHER,
        "the admin's own browser gets in"
    );
}

#[tokio::test]
async fn a_known_browser_still_meets_the_limit_per_address() {
    let app = behind_a_proxy().await;
    let browser = app.visitor();
    browser
        .sign_in_via_proxy(ADMIN_EMAIL, ADMIN_PASSWORD, "192.0.2.10")
        .await;
    browser.refresh_csrf_token("/settings/webhooks").await;
    browser.post_form("/logout", &[]).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let guess = browser
            .sign_in_via_proxy(ADMIN_EMAIL, "guess", "192.0.2.10")
            .await;
        statuses.push(guess.status());
    }
    assert_eq!(statuses[..5], [StatusCode::UNAUTHORIZED; 5]);
    assert_eq!(statuses[5], StatusCode::TOO_MANY_REQUESTS);
}
