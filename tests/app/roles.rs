//! Every registered route, tried by a signed-out visitor, support staff and an admin.

use actix_web::http::Method;
use reqwest::StatusCode;
use webhook_console::web::route_table;
use webhook_console::web::routes::Access;

use crate::common::{Client, TestApp};

/// Writes a support user tries must change nothing: these are compared before and after.
/// (What the delivery engine changes on its own, the last delivery, is left out.)
async fn snapshot(app: &TestApp) -> (String, String, String, String) {
    let list = app.get_page("/settings/webhooks").await;
    let webhooks = [".row-link", "td[data-label=URL]", "td[data-label=Status]"]
        .map(|cells| list.text(&format!("tbody {cells}")))
        .join(" | ");
    let page = app.get_page("/settings/webhooks/1").await;
    let detail = [".page-header", ".properties dd:nth-of-type(-n+4)"]
        .map(|part| page.text(part))
        .join(" | ");
    let users = app.get_page("/settings/users").await.text("tbody");
    let catalog = app.get_page("/settings/events").await.text("main");
    (webhooks, detail, users, catalog)
}

async fn request(client: &Client, method: &Method, path: &str) -> reqwest::Response {
    if method == Method::GET {
        client.get(path).await
    } else {
        client.post_form(path, &[]).await
    }
}

/// A console with one webhook, its admin, a support user and a signed-out visitor.
struct Cast {
    app: TestApp,
    webhook: i64,
    support: Client,
    visitor: Client,
}

impl Cast {
    async fn assemble() -> Self {
        let app = TestApp::spawn().await;
        let webhook = app
            .create_webhook("CRM", "https://crm.example.com/in", &["*"])
            .await;
        let support = app.user("sam@example.com", "support").await;
        let visitor = app.visitor();
        visitor.refresh_csrf_token("/login").await;
        // One delivery (id 1) for the routes that show or redeliver one.
        let (status, _) = app
            .api()
            .await
            .publish(serde_json::json!({"event_type": "user.signed_up", "data": {}}))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        Self {
            app,
            webhook,
            support,
            visitor,
        }
    }

    /// The route's path for real ids: routes on a user act on the support account (id 2),
    /// never the admin; the rest on the webhook.
    fn path(&self, pattern: &str) -> String {
        let id = if pattern.starts_with("/settings/users") {
            2
        } else {
            self.webhook
        };
        pattern
            .replace("{id:[0-9]+}", &id.to_string())
            .replace("{delivery_id:[0-9]+}", "1")
            .replace("{key:[a-z0-9_.]+}", "order.purchased")
    }
}

#[tokio::test]
async fn every_route_lets_in_exactly_the_roles_it_names() {
    let cast = Cast::assemble().await;
    let Cast {
        app,
        support,
        visitor,
        ..
    } = &cast;
    let mut routes = route_table();
    // Signing out ends the support session the other routes are tried with: try it last.
    routes.sort_by_key(|(_, pattern, _)| *pattern == "/logout");
    assert!(routes.len() >= 20, "the table lists the console's routes");
    let before = snapshot(app).await;

    for (method, pattern, access) in &routes {
        let path = cast.path(pattern);

        let signed_out = request(visitor, method, &path).await.status();
        let as_support = request(support, method, &path).await.status();
        let label = format!("{method} {pattern}");
        match access {
            Access::Public => {
                assert_ne!(signed_out, StatusCode::FORBIDDEN, "{label}: open to all");
            }
            Access::SignedIn => {
                assert_eq!(
                    signed_out,
                    StatusCode::SEE_OTHER,
                    "{label}: signed out → sign in"
                );
                // 422: past the guard, and the empty form it was sent is refused.
                assert!(
                    as_support.is_success()
                        || as_support.is_redirection()
                        || as_support == StatusCode::UNPROCESSABLE_ENTITY,
                    "{label}: support may look ({as_support})"
                );
            }
            Access::Admin => {
                assert_eq!(
                    signed_out,
                    StatusCode::SEE_OTHER,
                    "{label}: signed out → sign in"
                );
                assert_eq!(
                    as_support,
                    StatusCode::FORBIDDEN,
                    "{label}: support is refused"
                );
                assert!(*method == Method::GET || *method == Method::POST, "{label}");
            }
        }
        if *method != Method::GET {
            assert_eq!(snapshot(app).await, before, "{label}: nothing changed");
        }
    }

    // Admins pass the guard everywhere (reads only here: the writes are covered elsewhere).
    for (method, pattern, access) in routes
        .iter()
        .filter(|(m, _, a)| *m == Method::GET && *a != Access::Public)
    {
        let path = cast.path(pattern);
        let status = app.get(&path).await.status();
        assert!(
            status.is_success() || status.is_redirection(),
            "{method} {pattern} ({access:?}) as admin: {status}"
        );
    }
    assert_eq!(
        support.get("/settings/webhooks").await.status(),
        StatusCode::SEE_OTHER,
        "the last route tried, POST /logout, signed support out"
    );
}

#[tokio::test]
async fn support_staff_see_lists_and_details_but_no_controls_and_no_secrets() {
    let app = TestApp::spawn().await;
    app.create_webhook_with_api_key(
        "CRM",
        "https://crm.example.com/in",
        &["*"],
        "sk_live_0123456789abcdef",
    )
    .await;
    let support = app.user("sam@example.com", "support").await;

    let list = support.get_page("/settings/webhooks").await;
    assert_eq!(list.webhook_names(), ["CRM"]);
    assert!(!list.text(".page-header").contains("Create Webhook"));
    assert!(!list.texts(".settings-tabs a").contains(&"Users".to_owned()));
    assert_eq!(list.text(".role-badge"), "Support");

    let body = support
        .get("/settings/webhooks/1")
        .await
        .text()
        .await
        .unwrap();
    let detail = crate::common::Page {
        status: StatusCode::OK,
        html: scraper::Html::parse_document(&body),
    };
    assert!(!detail.has(".header-actions"), "no Edit, Disable or Delete");
    assert!(detail.text(".properties").contains("Set"));
    assert!(
        !body.contains("••••") && !body.contains("cdef"),
        "not even masked characters"
    );
}

#[tokio::test]
async fn an_admin_cannot_lock_themselves_out() {
    let app = TestApp::spawn().await;

    let response = app.post_form("/settings/users/1/disable", &[]).await;

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.get("/settings/users").await.status(), StatusCode::OK);
}

/// Ways to write a path that a server might read as the same page: percent-encoded letters
/// (lower and upper case hex), `%2F`, dot segments plain and encoded, doubled and trailing
/// slashes, another case. Each must answer as the plain path or 404.
fn spellings(path: &str) -> Vec<String> {
    let encode_alphanumerics = |upper: bool| {
        path.chars()
            .map(|c| match (c.is_ascii_alphanumeric(), upper) {
                (true, false) => format!("%{:02x}", c as u8),
                (true, true) => format!("%{:02X}", c as u8),
                (false, _) => c.to_string(),
            })
            .collect::<String>()
    };
    let (parent, last) = path.rsplit_once('/').unwrap();
    let mut last_chars = last.chars();
    let first = last_chars
        .next()
        .map_or(String::new(), |c| format!("%{:02x}", c as u8));
    let mut spelled = vec![
        format!("{parent}/{first}{}", last_chars.as_str()),
        encode_alphanumerics(false),
        encode_alphanumerics(true),
        format!("{parent}%2F{last}"),
        format!("{parent}%2f{last}"),
        format!("{parent}/./{last}"),
        format!("{parent}/%2e/{last}"),
        format!("{parent}/x/../{last}"),
        format!("{parent}/x/%2E%2E/{last}"),
        format!("{parent}//{last}"),
        format!("/{path}"),
        format!("{path}/"),
        format!("{path}//"),
        path.to_uppercase(),
        path.replace('/', "\\"),
    ];
    // Only origin-form targets: anything else is not a path at all (400).
    spelled.retain(|s| s != path && s.starts_with('/'));
    spelled
}

#[tokio::test]
async fn no_spelling_of_a_path_gets_past_the_guard() {
    let cast = Cast::assemble().await;
    let Cast {
        app,
        support,
        visitor,
        ..
    } = &cast;
    let before = snapshot(app).await;

    for (method, pattern, access) in route_table() {
        if pattern == "/logout" {
            continue; // signing out is walked by the test above
        }
        let path = cast.path(pattern);
        // Public forms are tried without a token (their guard is CSRF); everything else with
        // the caller's own, so that only the role can refuse.
        let mut callers = vec![("signed out", visitor), ("support", support)];
        if method == Method::GET {
            callers.push(("admin", &app.admin));
        }
        for (who, client) in callers {
            let body = if method == Method::GET || access == Access::Public {
                String::new()
            } else {
                format!("csrf_token={}", client.csrf_token())
            };
            let plain = client.raw(method.as_str(), &path, &body).await;
            if method == Method::GET {
                let head = client.raw("HEAD", &path, "").await;
                assert_eq!(head, plain, "HEAD {path} as {who} answers as GET");
            }
            for spelled in spellings(&path) {
                let answer = client.raw(method.as_str(), &spelled, &body).await;
                assert!(
                    answer.status == plain.status || answer.status == 404,
                    "{method} {spelled} as {who}: {answer:?}, but {path} answers {plain:?}"
                );
                if let Some(location) = &answer.location {
                    assert!(
                        location.starts_with('/') && !location.starts_with("//"),
                        "{method} {spelled} as {who} stays on the site: {location}"
                    );
                }
            }
        }
    }
    assert_eq!(snapshot(app).await, before, "no spelling changed anything");
}

#[tokio::test]
async fn a_percent_encoded_admin_page_is_still_an_admin_page() {
    let Cast {
        app,
        support,
        visitor,
        ..
    } = Cast::assemble().await;

    let signed_out = visitor.raw("GET", "/settings/%75sers", "").await;
    assert_eq!(signed_out.status, 303);
    assert!(signed_out.location.unwrap().starts_with("/login"));
    let token = format!("csrf_token={}", support.csrf_token());
    for target in ["/settings/%74okens", "/settings/%75sers"] {
        let answer = support.raw("POST", target, &token).await;
        assert_eq!(answer.status, 403, "POST {target} as support");
    }
    assert_eq!(
        support
            .raw("GET", "/settings/webhooks/1/%65dit", "")
            .await
            .status,
        403
    );
    assert_eq!(app.raw("GET", "/settings/%75sers", "").await.status, 200);
}
