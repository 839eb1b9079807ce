//! A real server on a random port with its own database (a SQLite file, or a PostgreSQL
//! database when the suite runs against PostgreSQL), and a browser-like client.

#![allow(dead_code)] // Each test binary uses its own share of these helpers.

pub mod browser;
pub mod database;
pub mod own_postgres;
pub mod process;
pub mod receiver;
pub mod scene;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::LOCATION;
use reqwest::{Response, StatusCode, redirect};
use scraper::{Html, Selector};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use webhook_console::actions::Inbox;
use webhook_console::clock::{Clock, ClockHand, Timestamp};
use webhook_console::config::Settings;
use webhook_console::db::{Db, Reader, WriteTx, event_types, webhooks};
use webhook_console::domain::{AccountKey, MaxWebhooksPerAccount, WebhookInput};
use webhook_console::secret_key::MasterKey;
use webhook_console::startup::Application;

/// The first admin, created from the environment at start.
pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub address: String,
    /// A browser-like client signed in as the admin.
    pub admin: Client,
    pub db: Db,
    pub database_url: String,
    /// The SQLite file, when the suite runs on SQLite.
    pub database_path: std::path::PathBuf,
    pub setup_link: Option<String>,
    /// Moves the server's clock (and `db`'s) ahead: see [`TestApp::advance`].
    clock: ClockHand,
    /// The server's engine, as upkeep and the actions reach it.
    pub engine: Inbox,
    _dir: Arc<TempDir>,
}

impl std::ops::Deref for TestApp {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.admin
    }
}

impl TestApp {
    /// A console whose first admin exists and is signed in on [`TestApp::admin`].
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Like [`TestApp::spawn`], with settings of the test's choosing.
    pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> Self {
        let app = Self::start(true, configure).await;
        app.admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        app
    }

    /// A brand-new console: no user, a one-time setup link.
    pub async fn spawn_without_users() -> Self {
        Self::start(false, |_| {}).await
    }

    async fn start(with_admin: bool, configure: impl FnOnce(&mut Settings)) -> Self {
        // The server's log, shown with a failing test's output.
        let _ = tracing_subscriber::fmt()
            .with_env_filter("warn,webhook_console=info")
            .with_test_writer()
            .try_init();
        // The server owns its directory too: a test that destructures a scene with `..`
        // drops its TestApp at once, and the database file must outlive that while the
        // server runs.
        let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
        let database_path = dir.path().join("console.db");
        let database_url = database::fresh(&database_path).await;
        let (clock, hand) = Clock::movable();
        let mut settings = Settings {
            listen: "127.0.0.1:0".into(),
            database_url: database_url.clone(),
            secret_key: database::shared_secret_key(),
            admin_email: with_admin.then(|| ADMIN_EMAIL.into()),
            admin_password: with_admin.then(|| ADMIN_PASSWORD.parse().unwrap()),
            clock: clock.clone(),
            ..Settings::default()
        };
        configure(&mut settings);
        let application = Application::build(settings).await.expect("server starts");
        let address = format!("http://127.0.0.1:{}", application.port());
        let setup_link = application.setup_link().map(str::to_owned);
        let engine = application.inbox();
        let servers_dir = Arc::clone(&dir);
        tokio::spawn(async move {
            let _dir = servers_dir;
            application.run_until_stopped().await
        });
        let db = Db::open(&database_url)
            .await
            .expect("test's own connection")
            .with_clock(clock);
        Self {
            admin: Client::new(&address),
            address,
            db,
            database_url,
            database_path,
            setup_link,
            clock: hand,
            engine,
            _dir: dir,
        }
    }

    /// The time now, by the server's clock.
    pub fn now(&self) -> Timestamp {
        self.db.now()
    }

    /// Moves the server's clock ahead by `by` and tells the delivery engine to look for
    /// what fell due: what a wait of `by` would bring, at once.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.engine.due_now();
    }

    /// Another browser, with cookies of its own, signed out.
    pub fn visitor(&self) -> Client {
        Client::new(&self.address)
    }

    /// Adds a user through the Users tab and returns a client signed in as them.
    pub async fn user(&self, email: &str, role: &str) -> Client {
        let response = self
            .post_form("/settings/users", &[("email", email), ("role", role)])
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "adding {email}");
        let password = self
            .get_page(&location(&response))
            .await
            .text("#new-password");
        let client = self.visitor();
        client.sign_in(email, &password).await;
        client
    }

    /// A support account for a browser to sign in with: its email and a password the admin
    /// has just reset (the one from [`TestApp::user`] went to that client).
    pub async fn support_account(&self) -> (&'static str, String) {
        let email = "sam@example.com";
        self.user(email, "support").await;
        let users = self.get_page("/settings/users").await;
        let reset = users
            .attr("a[href$='/password']:not([href*='/1/'])", "href")
            .expect("the support user's Reset password");
        let reset = self.confirm(&reset).await;
        let page = self.get_page(&location(&reset)).await;
        (email, page.text("#new-password"))
    }

    /// Creates a webhook through the form, as an admin would, and returns its id.
    pub async fn create_webhook(&self, name: &str, url: &str, events: &[&str]) -> i64 {
        self.create_webhook_with_api_key(name, url, events, "")
            .await
    }

    /// Like [`TestApp::create_webhook`], with an API key (none when empty).
    pub async fn create_webhook_with_api_key(
        &self,
        name: &str,
        url: &str,
        events: &[&str],
        api_key: &str,
    ) -> i64 {
        let mut fields = vec![
            ("name", name),
            ("url", url),
            ("notification_type", "REST"),
            ("api_key", api_key),
        ];
        fields.extend(events.iter().map(|event| ("events", *event)));
        let response = self.post_form("/settings/webhooks", &fields).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "creating {name}");
        let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
        let id = location
            .strip_prefix("/settings/webhooks/")
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("lands on the new webhook's page, not {location}"));
        // Reading the page consumes the confirmation, like the browser would.
        self.get(&location).await;
        id
    }

    /// Stores many webhooks at once through the storage layer, for list and paging tests.
    pub async fn seed_webhooks(&self, count: usize, name: impl Fn(usize) -> String) {
        let catalog = event_types::keys(self.db.reader()).await.unwrap();
        let subscribable: Vec<_> = catalog.iter().filter(|key| key.is_subscribable()).collect();
        // The app's own key, so that what is sealed here opens in the server.
        let secrets = MasterKey::load(database::shared_secret_key().as_ref(), &self.database_url)
            .unwrap()
            .secret_box();
        let mut tx = self.db.begin_write().await.unwrap();
        for i in 0..count {
            let input = WebhookInput {
                name: name(i),
                url: format!("https://receiver-{i}.example.com/hooks"),
                events: vec![subscribable[i % subscribable.len()].to_string()],
                notification_type: "REST".into(),
                ..WebhookInput::default()
            };
            let draft = input.parse(&catalog).expect("valid seed");
            webhooks::create(
                &mut tx,
                &secrets,
                &AccountKey::default_account(),
                MaxWebhooksPerAccount::default(),
                &draft,
                self.now(),
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }

    pub async fn webhook_count(&self) -> i64 {
        webhooks::count(self.db.reader(), &Default::default())
            .await
            .unwrap()
    }

    /// An API token made in the API Tokens tab, and a client that sends it.
    pub async fn api(&self) -> Api {
        self.api_named("test publisher").await
    }

    /// Like [`TestApp::api`], for a token with this name.
    pub async fn api_named(&self, name: &str) -> Api {
        let response = self.post_form("/settings/tokens", &[("name", name)]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "creating a token");
        let token = self.get_page(&location(&response)).await.text("#new-token");
        assert!(token.starts_with("wc_"), "{token}");
        Api::new(&self.address, &token)
    }

    /// Everything the database holds for this console: on SQLite every byte of the database,
    /// its WAL and shared memory; on PostgreSQL every row of every table, as text.
    pub async fn everything_stored(&self) -> Vec<u8> {
        if database::on_postgres() {
            let tables: Vec<String> = sql_scalars(
                &self.db,
                "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'",
            )
            .await;
            let mut bytes = Vec::new();
            for table in tables {
                let rows: Vec<String> =
                    sql_scalars(&self.db, &format!("SELECT t::text FROM {table} t")).await;
                bytes.extend(rows.join("\n").into_bytes());
            }
            return bytes;
        }
        let mut bytes = Vec::new();
        for suffix in ["", "-wal", "-shm"] {
            let path = format!("{}{suffix}", self.database_path.display());
            if let Ok(content) = std::fs::read(path) {
                bytes.extend(content);
            }
        }
        bytes
    }
}

/// A program calling the JSON API with a bearer token.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub address: String,
    pub token: String,
}

impl Api {
    pub fn new(address: &str, token: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            address: address.to_owned(),
            token: token.to_owned(),
        }
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(&self.token)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(reqwest::Method::GET, path)
            .send()
            .await
            .expect("GET")
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> Response {
        self.request(reqwest::Method::POST, path)
            .json(&body)
            .send()
            .await
            .expect("POST")
    }

    /// A POST with no body: an action on what the path names.
    pub async fn post_empty(&self, path: &str) -> Response {
        self.request(reqwest::Method::POST, path)
            .send()
            .await
            .expect("POST")
    }

    pub async fn put(&self, path: &str, body: serde_json::Value) -> Response {
        self.request(reqwest::Method::PUT, path)
            .json(&body)
            .send()
            .await
            .expect("PUT")
    }

    pub async fn patch(&self, path: &str, body: serde_json::Value) -> Response {
        self.request(reqwest::Method::PATCH, path)
            .json(&body)
            .send()
            .await
            .expect("PATCH")
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.request(reqwest::Method::DELETE, path)
            .send()
            .await
            .expect("DELETE")
    }

    /// Publishes an event and returns (status, body).
    pub async fn publish(&self, body: serde_json::Value) -> (StatusCode, serde_json::Value) {
        let response = self.post("/api/v1/events", body).await;
        let status = response.status();
        (status, response.json().await.unwrap_or_default())
    }

    pub async fn create_webhook(&self, name: &str, events: &[&str]) -> i64 {
        let response = self
            .post(
                "/api/v1/webhooks",
                serde_json::json!({"name": name, "url": "https://receiver.example.com/in", "events": events}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "creating {name}");
        response.json::<serde_json::Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    }
}

/// Where a redirect sends the browser.
pub fn location(response: &Response) -> String {
    response.headers()[LOCATION].to_str().unwrap().to_owned()
}

/// One browser: its own cookie jar (session), and the CSRF token of its session.
pub struct Client {
    pub http: reqwest::Client,
    pub address: String,
    cookies: Arc<Jar>,
    csrf_token: Mutex<String>,
}

/// What a raw request got back: the status and where it redirects to, if it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawResponse {
    pub status: u16,
    pub location: Option<String>,
}

impl Client {
    pub fn new(address: &str) -> Self {
        let cookies = Arc::new(Jar::default());
        Self {
            http: reqwest::Client::builder()
                .cookie_provider(cookies.clone())
                .redirect(redirect::Policy::none())
                .build()
                .expect("client"),
            address: address.to_owned(),
            cookies,
            csrf_token: Mutex::new(String::new()),
        }
    }

    /// This browser's cookies as a request header line (`Cookie: ...\r\n`), or nothing.
    pub fn cookie_header(&self) -> String {
        let url = reqwest::Url::parse(&self.address).expect("address");
        self.cookies
            .cookies(&url)
            .map(|value| format!("Cookie: {}\r\n", value.to_str().unwrap()))
            .unwrap_or_default()
    }

    /// Sends the request target exactly as written, with this browser's cookies: HTTP
    /// clients tidy paths (`/./`, `x/../`) before sending, an attacker's does not.
    pub async fn raw(&self, method: &str, target: &str, form_body: &str) -> RawResponse {
        let url = reqwest::Url::parse(&self.address).expect("address");
        let cookie = self.cookie_header();
        let host = url.host_str().unwrap();
        let port = url.port().unwrap();
        let request = format!(
            "{method} {target} HTTP/1.1\r\nHost: {host}:{port}\r\n{cookie}\
             Content-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{form_body}",
            form_body.len()
        );
        let mut stream = TcpStream::connect((host, port)).await.expect("connect");
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.expect("read");
        let head = String::from_utf8_lossy(&response);
        let head = head.split("\r\n\r\n").next().unwrap_or_default();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("{method} {target}: no status in {head:?}"));
        let location = head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("location")
                .then(|| value.trim().to_owned())
        });
        RawResponse { status, location }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn csrf_token(&self) -> String {
        self.csrf_token.lock().unwrap().clone()
    }

    /// Signs in through the form, as a person would, and keeps the session's CSRF token.
    pub async fn sign_in(&self, email: &str, password: &str) -> Response {
        self.refresh_csrf_token("/login").await;
        let response = self
            .post_form("/login", &[("email", email), ("password", password)])
            .await;
        if response.status() == StatusCode::SEE_OTHER {
            self.refresh_csrf_token("/settings/webhooks").await;
        }
        response
    }

    /// Signs in through a proxy that says the request came from `forwarded_for`.
    pub async fn sign_in_via_proxy(
        &self,
        email: &str,
        password: &str,
        forwarded_for: &str,
    ) -> Response {
        self.refresh_csrf_token("/login").await;
        let token = self.csrf_token();
        let fields = [
            ("email", email),
            ("password", password),
            ("csrf_token", &token),
        ];
        self.http
            .post(self.url("/login"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("X-Forwarded-For", forwarded_for)
            .body(serde_html_form::to_string(fields).expect("form"))
            .send()
            .await
            .expect("POST")
    }

    /// Reads the token a page's forms carry.
    pub async fn refresh_csrf_token(&self, path: &str) {
        let page = Page::from(self.get(path).await).await;
        if let Some(token) = page.attr("input[name=csrf_token]", "value") {
            *self.csrf_token.lock().unwrap() = token;
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_page(&self, path: &str) -> Page {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        Page::from(response).await
    }

    /// What htmx sends: the partial, not the page.
    pub async fn get_htmx(&self, path: &str) -> Response {
        self.http
            .get(self.url(path))
            .header("HX-Request", "true")
            .send()
            .await
            .expect("GET")
    }

    /// Follows a link to a confirmation page and presses its confirming button: posts the
    /// page's own form with its hidden fields, as the browser would.
    pub async fn confirm(&self, link: &str) -> Response {
        let page = self.get_page(link).await;
        assert!(page.has(".confirm-card"), "{link} asks first");
        let action = page.attr(".confirm-card form", "action").expect("a form");
        let selector = Selector::parse(".confirm-card form input[type=hidden]").unwrap();
        let fields: Vec<(String, String)> = page
            .html
            .select(&selector)
            .filter_map(|input| {
                let name = input.value().attr("name")?;
                let value = input.value().attr("value").unwrap_or_default();
                (name != "csrf_token").then(|| (name.to_owned(), value.to_owned()))
            })
            .collect();
        let fields: Vec<(&str, &str)> = fields
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        self.post_form(&action, &fields).await
    }

    /// A form post as the browser sends it, with the session's CSRF token.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf_token();
        let mut fields = fields.to_vec();
        fields.push(("csrf_token", &token));
        self.post_form_as_is(path, &fields).await
    }

    /// The session cookie as the browser holds it: `(name, value)`.
    pub fn session_cookie(response: &Response) -> Option<String> {
        response
            .cookies()
            .find(|cookie| cookie.name().ends_with("wc_session"))
            .map(|cookie| format!("{}={}", cookie.name(), cookie.value()))
    }

    /// A request with only this cookie, as a thief who copied it would send.
    pub async fn get_with_cookie(&self, path: &str, cookie: &str) -> Response {
        reqwest::Client::builder()
            .redirect(redirect::Policy::none())
            .build()
            .expect("client")
            .get(self.url(path))
            .header("Cookie", cookie)
            .send()
            .await
            .expect("GET")
    }

    /// A form post with exactly these fields: no token is added.
    pub async fn post_form_as_is(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.http
            .post(self.url(path))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(serde_html_form::to_string(fields).expect("form"))
            .send()
            .await
            .expect("POST")
    }

    /// A post as htmx sends it: the token in the `X-CSRF-Token` header.
    pub async fn post_htmx(&self, path: &str, body: &str) -> Response {
        self.http
            .post(self.url(path))
            .header("HX-Request", "true")
            .header("X-CSRF-Token", self.csrf_token())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
            .send()
            .await
            .expect("POST")
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

/// Asks the database a question no page answers, on whichever backend the test runs.
pub async fn sql_row<T>(db: &Db, sql: &str) -> T
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    match db.reader() {
        Reader::Sqlite(pool) => sqlx::query_as(sql).fetch_one(pool).await,
        Reader::Postgres(pool) => sqlx::query_as(sql).fetch_one(pool).await,
    }
    .unwrap_or_else(|error| panic!("{sql}: {error}"))
}

pub async fn sql_rows<T>(db: &Db, sql: &str) -> Vec<T>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    match db.reader() {
        Reader::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await,
        Reader::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await,
    }
    .unwrap_or_else(|error| panic!("{sql}: {error}"))
}

/// A one-column answer, such as a count.
pub async fn sql_scalar<T>(db: &Db, sql: &str) -> T
where
    (T,): for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    sql_row::<(T,)>(db, sql).await.0
}

/// Runs a statement inside the caller's transaction, as something other than the console
/// would (to show what the database itself allows).
pub async fn sql_execute(tx: &mut WriteTx, sql: &str) -> Result<u64, sqlx::Error> {
    match tx {
        WriteTx::Sqlite(tx) => sqlx::query(sql)
            .execute(&mut **tx)
            .await
            .map(|r| r.rows_affected()),
        WriteTx::Postgres(tx) => sqlx::query(sql)
            .execute(&mut **tx)
            .await
            .map(|r| r.rows_affected()),
    }
}

pub async fn sql_scalars<T>(db: &Db, sql: &str) -> Vec<T>
where
    (T,): for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    sql_rows::<(T,)>(db, sql)
        .await
        .into_iter()
        .map(|(value,)| value)
        .collect()
}
