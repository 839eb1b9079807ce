//! Bearer tokens: without a valid one, nothing.

use reqwest::{Method, StatusCode};

use super::{error_code, order};
use crate::common::{Api, TestApp};

#[tokio::test]
async fn without_a_valid_token_every_route_answers_401_in_json() {
    let app = TestApp::spawn().await;
    let api = app.api().await;

    for token in ["", "wc_not_a_real_token"] {
        let anonymous = Api::new(&app.address, token);
        for (method, path) in [
            (Method::POST, "/api/v1/events"),
            (Method::GET, "/api/v1/webhooks"),
            (Method::GET, "/api/v1/event-types"),
            (Method::PATCH, "/api/v1/event-types/order.purchased"),
        ] {
            let response = anonymous
                .request(method.clone(), path)
                .json(&order())
                .send()
                .await
                .unwrap();
            assert_eq!(response.headers()["www-authenticate"], "Bearer");
            assert_eq!(
                error_code(response).await,
                (StatusCode::UNAUTHORIZED, "unauthorized".into()),
                "{method} {path}"
            );
        }
    }
    let plain = reqwest::Client::new()
        .get(app.url("/api/v1/webhooks"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(plain).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(api.get("/api/v1/webhooks").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_bad_token_is_refused_before_the_body_is_looked_at() {
    let app = TestApp::spawn().await;
    app.api().await;
    let anonymous = Api::new(&app.address, "wc_not_a_real_token");

    for (method, path, content_type, body) in [
        (Method::POST, "/api/v1/events", "text/plain", "x"),
        (Method::POST, "/api/v1/events", "application/json", "{"),
        (Method::POST, "/api/v1/webhooks", "application/json", "[1]"),
        (
            Method::PATCH,
            "/api/v1/event-types/order.purchased",
            "application/json",
            "{}",
        ),
        (Method::GET, "/api/v1/no/such/route", "application/json", ""),
        (Method::PUT, "/api/v1/webhooks", "application/json", "{}"),
    ] {
        let response = anonymous
            .request(method.clone(), path)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_code(response).await,
            (StatusCode::UNAUTHORIZED, "unauthorized".into()),
            "{method} {path} {content_type} {body}"
        );
    }
    let document = reqwest::get(app.url("/api/v1/openapi.json")).await.unwrap();
    assert_eq!(
        document.status(),
        StatusCode::OK,
        "the API's description stays public"
    );
}

#[tokio::test]
async fn a_revoked_token_stops_working_at_once() {
    let app = TestApp::spawn().await;
    let api = app.api().await;
    assert_eq!(api.get("/api/v1/webhooks").await.status(), StatusCode::OK);

    let tokens = app.get_page("/settings/tokens").await;
    assert!(tokens.text("tbody").contains("test publisher"));
    assert!(
        !tokens.text("main").contains(&api.token),
        "never shown again"
    );
    let revoke = tokens.attr("a[href$='/revoke']", "href").unwrap();
    app.confirm(&revoke).await;

    assert_eq!(
        api.get("/api/v1/webhooks").await.status(),
        StatusCode::UNAUTHORIZED
    );
}
