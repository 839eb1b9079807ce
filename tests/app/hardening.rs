//! The holes an attacker's probe found, each tried again: none may open.

use reqwest::StatusCode;

use crate::common::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp};

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn no_next_address_leads_off_the_site_or_breaks_the_redirect() {
    let app = TestApp::spawn().await;
    let visitor = app.visitor();
    let tricks = [
        "/%09/evil.example/p",
        "/%0a/evil.example",
        "/%0d%0a/evil.example",
        "/%00/evil.example",
        "//evil.example",
        "/%5Cevil.example",
        "%5C%5Cevil.example",
        "https://evil.example",
        "/%20/evil.example",
        "/%E3%80%80/evil.example",
    ];

    for next in tricks {
        let response = app.get(&format!("/login?next={next}")).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "next={next}");
        assert_eq!(location(&response), "/settings/webhooks", "next={next}");

        visitor.refresh_csrf_token("/login").await;
        let decoded = url::form_urlencoded::parse(format!("n={next}").as_bytes())
            .next()
            .unwrap()
            .1
            .into_owned();
        let signed_in = visitor
            .post_form(
                "/login",
                &[
                    ("email", ADMIN_EMAIL),
                    ("password", ADMIN_PASSWORD),
                    ("next", &decoded),
                ],
            )
            .await;
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER, "next={next}");
        assert_eq!(location(&signed_in), "/settings/webhooks", "next={next}");
        visitor.refresh_csrf_token("/settings/webhooks").await;
        visitor.post_form("/logout", &[]).await;
    }
}
