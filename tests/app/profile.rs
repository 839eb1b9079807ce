//! Sam from support was given a generated password. From the name in the top bar they open
//! their profile and choose their own: the old one stops working, a session left open on
//! another machine ends, and this one stays signed in.

use reqwest::StatusCode;

use crate::common::{Page, TestApp, location};

const CHOSEN: &str = "correct horse battery staple";

#[tokio::test]
async fn a_user_changes_their_own_password_and_their_other_sessions_end() {
    let app = TestApp::spawn().await;
    let (email, given) = app.support_account().await;
    let here = app.visitor();
    here.sign_in(email, &given).await;
    let elsewhere = app.visitor();
    elsewhere.sign_in(email, &given).await;

    let home = here.get_page("/settings/webhooks").await;
    assert_eq!(
        home.attr(".topbar-email", "href").as_deref(),
        Some("/profile")
    );
    let profile = here.get_page("/profile").await;
    assert_eq!(profile.status, StatusCode::OK);
    assert!(profile.text("main").contains(email));

    let changed = here
        .post_form(
            "/profile/password",
            &[
                ("current_password", &given),
                ("new_password", CHOSEN),
                ("new_password_confirm", CHOSEN),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&changed), "/profile");
    let after = here.get_page("/profile").await;
    assert_eq!(after.status, StatusCode::OK, "this session stays signed in");
    assert!(after.text("#toasts").contains("Password changed"));

    let gone = elsewhere.get("/settings/webhooks").await;
    assert_eq!(
        gone.status(),
        StatusCode::SEE_OTHER,
        "the other session ended"
    );
    assert!(location(&gone).starts_with("/login"));

    let old = app.visitor().sign_in(email, &given).await;
    assert_ne!(
        old.status(),
        StatusCode::SEE_OTHER,
        "the old password no longer signs in"
    );
    let new = app.visitor().sign_in(email, CHOSEN).await;
    assert_eq!(new.status(), StatusCode::SEE_OTHER, "the new one does");

    let audit = app.get_page("/settings/audit").await;
    assert!(
        audit.text("main").contains("Own password changed"),
        "audited"
    );
}

#[tokio::test]
async fn a_wrong_current_password_or_a_mismatch_changes_nothing_and_says_why() {
    let app = TestApp::spawn().await;
    let (email, given) = app.support_account().await;
    let sam = app.visitor();
    sam.sign_in(email, &given).await;

    let wrong = Page::from(
        sam.post_form(
            "/profile/password",
            &[
                ("current_password", "not my password at all"),
                ("new_password", CHOSEN),
                ("new_password_confirm", CHOSEN),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong
            .text("#current_password-error")
            .contains("not your current password")
    );

    let mismatch = Page::from(
        sam.post_form(
            "/profile/password",
            &[
                ("current_password", &given),
                ("new_password", CHOSEN),
                ("new_password_confirm", "correct horse battery stapler"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        mismatch
            .text("#new_password_confirm-error")
            .contains("differ")
    );

    let short = Page::from(
        sam.post_form(
            "/profile/password",
            &[
                ("current_password", &given),
                ("new_password", "short"),
                ("new_password_confirm", "short"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        short
            .text("#new_password-error")
            .contains("at least 12 characters")
    );

    let still = app.visitor().sign_in(email, &given).await;
    assert_eq!(
        still.status(),
        StatusCode::SEE_OTHER,
        "the password is unchanged"
    );
}
