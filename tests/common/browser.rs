//! Headless Chromium driven through chromedriver (Debian's `chromium` and `chromium-driver`).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

/// How long to wait for chromedriver to accept connections, and for an element to appear.
const PATIENCE: Duration = Duration::from_secs(15);

/// WebDriver's codes for keys that are not characters.
pub const TAB: &str = "\u{E004}";
pub const ENTER: &str = "\u{E007}";

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn launch(width: u32, height: u32) -> Self {
        Self::start(width, height, true).await
    }

    /// A browser whose pages run no script at all, as with JavaScript switched off.
    pub async fn launch_without_javascript(width: u32, height: u32) -> Self {
        Self::start(width, height, false).await
    }

    async fn start(width: u32, height: u32, javascript: bool) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("free port")
            .port();
        let driver = Command::new(chromedriver())
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs: install Debian's chromium-driver (scripts/test does)");
        let profile = tempfile::tempdir().expect("profile dir");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium(),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    format!("--user-data-dir={}", profile.path().display()),
                    format!("--window-size={width},{height}"),
                ],
                "prefs": {
                    "profile.managed_default_content_settings.javascript": if javascript { 1 } else { 2 }
                },
                // Headless windows have a minimum width; device metrics give the exact viewport.
                "mobileEmulation": {
                    "deviceMetrics": { "width": width, "height": height, "pixelRatio": 1, "mobile": false, "touch": false }
                },
            }),
        );
        let started = std::time::Instant::now();
        let client = loop {
            // chromedriver listens on loopback: plain HTTP, no TLS stack needed.
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break client,
                Err(error) if started.elapsed() > PATIENCE => panic!("chromedriver: {error}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        Self {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Signs in through the sign-in page as the first admin.
    pub async fn sign_in_as_admin(&self, app: &super::TestApp) {
        self.sign_in(app, super::ADMIN_EMAIL, super::ADMIN_PASSWORD)
            .await;
    }

    /// Signs in through the sign-in page.
    pub async fn sign_in(&self, app: &super::TestApp, email: &str, password: &str) {
        self.open(&app.url("/login")).await;
        self.fill("Email", email).await;
        self.fill("Password", password).await;
        self.click_button("Sign in").await;
        self.wait_for_text(".topbar-email", email).await;
    }

    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("page opens");
    }

    pub async fn click_link(&self, text: &str) {
        self.find(Locator::LinkText(text))
            .await
            .click()
            .await
            .expect("click");
    }

    /// A `<button>` found by its visible text, its accessible name.
    pub async fn click_button(&self, text: &str) {
        let xpath = format!("//button[normalize-space()='{text}']");
        self.find(Locator::XPath(&xpath))
            .await
            .click()
            .await
            .expect("click");
    }

    /// Types into the field whose `<label>` reads `label`.
    pub async fn fill(&self, label: &str, value: &str) {
        let xpath = format!("//input[@id=//label[normalize-space()='{label}']/@for]");
        let field = self.find(Locator::XPath(&xpath)).await;
        field.clear().await.expect("clear");
        field.send_keys(value).await.expect("type");
    }

    pub async fn check(&self, value: &str) {
        let css = format!("input[type=checkbox][value='{value}']");
        self.find(Locator::Css(&css))
            .await
            .click()
            .await
            .expect("check");
    }

    /// Waits until an element matching `css` shows `text`.
    pub async fn wait_for_text(&self, css: &str, text: &str) {
        let started = std::time::Instant::now();
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await
                && element.text().await.is_ok_and(|shown| shown.contains(text))
            {
                return;
            }
            assert!(started.elapsed() < PATIENCE, "{css} never showed {text:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn find(&self, locator: Locator<'_>) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(locator)
            .await
            .expect("element appears")
    }

    /// Sends keys to whatever has focus, as a keyboard would (WebDriver key codes for
    /// Tab, Enter and the like: [`TAB`], [`ENTER`]).
    pub async fn press(&self, keys: &str) {
        self.client
            .active_element()
            .await
            .expect("something has focus")
            .send_keys(keys)
            .await
            .expect("keys");
    }

    /// The focused element as `tag#id[name]` text, to follow focus around.
    pub async fn focused(&self) -> String {
        let value = self
            .client
            .execute(
                "const e = document.activeElement; return `${e.tagName.toLowerCase()}#${e.id}[${e.getAttribute('aria-label') || e.value || ''}]`;",
                vec![],
            )
            .await
            .expect("script runs");
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Presses Tab until `wanted` says the focused element is the one, and returns how many
    /// presses it took (at most 40).
    pub async fn tab_to(&self, wanted: impl Fn(&str) -> bool) -> usize {
        for presses in 1..=40 {
            self.press(TAB).await;
            if wanted(&self.focused().await) {
                return presses;
            }
        }
        panic!(
            "Tab never reached the element; focus is on {}",
            self.focused().await
        );
    }

    pub async fn current_path(&self) -> String {
        let url = self.client.current_url().await.expect("url");
        url.path().to_owned()
    }

    /// Saves what the browser shows to `target/screenshots/NAME.png`, for people to review.
    pub async fn screenshot(&self, name: &str) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// axe-core's serious and critical findings on the page shown, one line each. The script
    /// comes from npm (`scripts/test` installs it; `AXE_CORE_JS` says where).
    pub async fn accessibility_violations(&self) -> Vec<String> {
        let path = std::env::var("AXE_CORE_JS").unwrap_or_else(|_| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/target/axe/node_modules/axe-core/axe.min.js"
            )
            .to_owned()
        });
        let axe = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("axe-core at {path} ({e}): run scripts/test, which installs it")
        });
        self.client.execute(&axe, vec![]).await.expect("axe loads");
        let found = self
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                   axe.run(document, { resultTypes: ["violations"] }).then((results) => done(
                     results.violations
                       .filter((v) => v.impact === "serious" || v.impact === "critical")
                       .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.length} nodes, e.g. ${v.nodes[0].target.join(" ")})`)
                   ));"#,
                vec![],
            )
            .await
            .expect("axe runs");
        serde_json::from_value(found).expect("a list of findings")
    }

    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn chromedriver() -> String {
    std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into())
}

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}
