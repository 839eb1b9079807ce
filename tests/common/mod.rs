//! A real server on a random port with its own SQLite file, and a browser-like client.

#![allow(dead_code)] // Each test binary uses its own share of these helpers.

pub mod browser;

use reqwest::header::LOCATION;
use reqwest::{Response, StatusCode, redirect};
use scraper::{Html, Selector};
use tempfile::TempDir;
use webhook_console::config::Settings;
use webhook_console::db::{Db, event_types, webhooks};
use webhook_console::domain::WebhookInput;
use webhook_console::startup::Application;

pub struct TestApp {
    pub address: String,
    /// Keeps cookies (flash messages) and does not follow redirects, so tests see them.
    pub client: reqwest::Client,
    pub db: Db,
    _dir: TempDir,
}

impl TestApp {
    pub async fn spawn() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = format!("sqlite://{}", dir.path().join("console.db").display());
        let settings = Settings {
            listen: "127.0.0.1:0".into(),
            database_url: database_url.clone(),
            secret_key: None,
        };
        let application = Application::build(settings).await.expect("server starts");
        let address = format!("http://127.0.0.1:{}", application.port());
        tokio::spawn(application.run_until_stopped());
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(redirect::Policy::none())
            .build()
            .expect("client");
        let db = Db::open(&database_url)
            .await
            .expect("test's own connection");
        Self {
            address,
            client,
            db,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_page(&self, path: &str) -> Page {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        Page::from(response).await
    }

    /// What htmx sends: the partial, not the page.
    pub async fn get_htmx(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .header("HX-Request", "true")
            .send()
            .await
            .expect("GET")
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url(path))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(serde_html_form::to_string(fields).expect("form"))
            .send()
            .await
            .expect("POST")
    }

    /// Creates a webhook through the form, as an admin would, and returns its id.
    pub async fn create_webhook(&self, name: &str, url: &str, events: &[&str]) -> i64 {
        let mut fields = vec![("name", name), ("url", url), ("notification_type", "REST")];
        fields.extend(events.iter().map(|event| ("events", *event)));
        let response = self.post_form("/settings/webhooks", &fields).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "creating {name}");
        let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
        let id = location
            .rsplit("#webhook-")
            .next()
            .unwrap()
            .parse()
            .unwrap();
        // Reading the list consumes the confirmation, like the browser would.
        self.get(&location).await;
        id
    }

    /// Stores many webhooks at once through the storage layer, for list and paging tests.
    pub async fn seed_webhooks(&self, count: usize, name: impl Fn(usize) -> String) {
        let catalog = event_types::keys(self.db.reader()).await.unwrap();
        let mut tx = self.db.begin_write().await.unwrap();
        for i in 0..count {
            let input = WebhookInput {
                name: name(i),
                url: format!("https://receiver-{i}.example.com/hooks"),
                events: vec![catalog[i % catalog.len()].to_string()],
                notification_type: "REST".into(),
                ..WebhookInput::default()
            };
            let draft = input.parse(&catalog).expect("valid seed");
            webhooks::create(&mut tx, &draft).await.unwrap();
        }
        tx.commit().await.unwrap();
    }

    pub async fn webhook_count(&self) -> i64 {
        webhooks::count(self.db.reader(), &Default::default())
            .await
            .unwrap()
    }
}

/// A parsed HTML response.
pub struct Page {
    pub status: StatusCode,
    pub html: Html,
}

impl Page {
    pub async fn from(response: Response) -> Self {
        let status = response.status();
        let body = response.text().await.expect("body");
        Self {
            status,
            html: Html::parse_document(&body),
        }
    }

    pub fn texts(&self, selector: &str) -> Vec<String> {
        let selector = Selector::parse(selector).expect("selector");
        self.html
            .select(&selector)
            .map(|element| element.text().collect::<String>().trim().to_owned())
            .collect()
    }

    pub fn text(&self, selector: &str) -> String {
        self.texts(selector).join(" ")
    }

    pub fn attr(&self, selector: &str, name: &str) -> Option<String> {
        let selector = Selector::parse(selector).expect("selector");
        self.html
            .select(&selector)
            .next()
            .and_then(|element| element.value().attr(name))
            .map(str::to_owned)
    }

    pub fn has(&self, selector: &str) -> bool {
        !self.texts(selector).is_empty()
    }

    /// The names in the webhook table, in order.
    pub fn webhook_names(&self) -> Vec<String> {
        self.texts("table.data-table tbody .row-link")
    }
}
