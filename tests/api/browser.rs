//! A real headless Chromium, driven through its chromedriver (both from
//! Debian, installed by scripts/setup.sh), with axe-core (npm) injected
//! into pages for the accessibility checks. Each test starts its own
//! driver on a free port and a fresh profile.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::smtp::free_port;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Chromium and axe-core are there; without them the browser tests skip
/// loudly, unless `MEELOOP_REQUIRE_BROWSER=1` (CI), which fails them.
pub fn browser_available() -> bool {
    let missing: Vec<String> = [CHROMIUM.into(), CHROMEDRIVER.into(), axe_path()]
        .into_iter()
        .filter(|p: &PathBuf| !p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let why = format!("missing {}: run scripts/setup.sh", missing.join(", "));
    if std::env::var("MEELOOP_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
        panic!("MEELOOP_REQUIRE_BROWSER=1 but the browser tests cannot run: {why}");
    }
    eprintln!("SKIPPED: browser test ({why})");
    false
}

fn axe_path() -> PathBuf {
    let tools = std::env::var("MEELOOP_TOOLS").unwrap_or_else(|_| {
        format!(
            "{}/.cache/meeloop",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    PathBuf::from(tools).join("axe/node_modules/axe-core/axe.min.js")
}

pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: tempfile::TempDir,
    /// The app's address, for relative paths.
    base: String,
}

/// One accessibility problem axe-core found.
#[derive(Debug, serde::Deserialize)]
pub struct Violation {
    pub id: String,
    pub impact: Option<String>,
    pub help: String,
    pub nodes: Vec<String>,
}

impl Browser {
    pub async fn start(base: &str) -> Browser {
        // lettre links rustls with ring, fantoccini with aws-lc-rs: say which.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        let status = reqwest::Client::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let ready = match status.get(format!("{url}/status")).send().await {
                Ok(r) => r
                    .json::<Value>()
                    .await
                    .is_ok_and(|v| v["value"]["ready"] == true),
                Err(_) => false,
            };
            if ready {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "chromedriver did not get ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=1280,900", "--lang=nl",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let client = ClientBuilder::rustls()
            .expect("a TLS setup")
            .capabilities(caps.as_object().unwrap().clone())
            .connect(&url)
            .await
            .expect("a Chromium session");
        Browser {
            client,
            driver,
            profile,
            base: base.to_string(),
        }
    }

    pub async fn goto(&self, path: &str) {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        self.client.goto(&url).await.expect("navigates");
    }

    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    pub async fn find(&self, css: &str) -> Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(e) => e,
            Err(e) => panic!("no '{css}' on {}: {e}", self.path().await),
        }
    }

    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap()
    }

    /// The visible text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    /// Types into a field, replacing what was there.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Sets a field's value directly (date inputs take keystrokes in the
    /// browser's locale; the value is what the form sends).
    pub async fn set_value(&self, css: &str, value: &str) {
        let field = self.find(css).await;
        self.client
            .execute(
                "arguments[0].value = arguments[1];",
                vec![serde_json::to_value(&field).unwrap(), json!(value)],
            )
            .await
            .unwrap();
    }

    /// Clicks something that stays on the page (a radio, a summary).
    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap();
    }

    /// Clicks a link or submit button and waits for the next page.
    pub async fn go(&self, css: &str) {
        let target = self.find(css).await;
        self.follow(target).await;
    }

    /// As [`Self::go`], for the first `css` whose text contains `text`.
    pub async fn go_text(&self, css: &str, text: &str) {
        for e in self.find_all(css).await {
            if e.text().await.unwrap_or_default().contains(text) {
                self.follow(e).await;
                return;
            }
        }
        panic!("no '{css}' with text '{text}' on {}", self.path().await);
    }

    /// Marks the current document, clicks, and waits until a new document
    /// has loaded (a click that submits a form returns before that).
    pub async fn follow(&self, target: Element) {
        self.client
            .execute("window.__meeloopOld = true;", vec![])
            .await
            .unwrap();
        target.click().await.unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let loaded = self
                .client
                .execute(
                    "return window.__meeloopOld !== true && document.readyState === 'complete';",
                    vec![],
                )
                .await
                .map(|v| v == Value::Bool(true))
                .unwrap_or(false);
            if loaded {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no new page after the click on {}",
                self.path().await
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Presses keys as a person would (to whatever has the focus).
    pub async fn press(&self, keys: &str) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let mut actions = KeyActions::new("keyboard".into());
        for key in keys.chars() {
            actions = actions
                .then(KeyAction::Down { value: key })
                .then(KeyAction::Up { value: key });
        }
        self.client.perform_actions(actions).await.unwrap();
    }

    /// The focused element: its tag, text or value, and whether it shows a
    /// focus outline of at least 2 px.
    pub async fn focused(&self) -> (String, String, bool) {
        let v = self
            .client
            .execute(
                r#"const e = document.activeElement; const s = getComputedStyle(e);
                return [e.tagName.toLowerCase() + (e.id ? '#' + e.id : ''),
                        (e.value || e.innerText || '').trim(),
                        s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2];"#,
                vec![],
            )
            .await
            .unwrap();
        (
            v[0].as_str().unwrap_or_default().to_string(),
            v[1].as_str().unwrap_or_default().to_string(),
            v[2].as_bool().unwrap_or(false),
        )
    }

    /// Injects axe-core and runs the WCAG 2.1 A and AA rules on the page.
    pub async fn axe(&self) -> Vec<Violation> {
        // WebDriver scripts are not subject to the page's CSP (which allows
        // no script at all); axe is gone again after each navigation.
        let axe = std::fs::read_to_string(axe_path()).expect("axe-core (scripts/setup.sh)");
        self.client.execute(&axe, vec![]).await.expect("axe loads");
        let result = self
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
                  .then(r => done(JSON.stringify(r.violations.map(v => ({
                      id: v.id, impact: v.impact, help: v.help,
                      nodes: v.nodes.map(n => n.target.join(' ') + ' ' + n.html.slice(0, 120))})))))
                  .catch(e => done('ERR ' + e));"#,
                vec![],
            )
            .await
            .expect("axe runs");
        let text = result.as_str().unwrap_or_default();
        assert!(!text.starts_with("ERR"), "axe failed: {text}");
        serde_json::from_str(text).unwrap()
    }

    /// Saves a screenshot when `MEELOOP_SCREENSHOTS` names a directory
    /// (scripts/screenshots.sh fills docs/screenshots this way).
    pub async fn screenshot(&self, name: &str) {
        self.screenshot_at(name, "body").await
    }

    /// As [`Self::screenshot`], with `css` scrolled to the top.
    pub async fn screenshot_at(&self, name: &str, css: &str) {
        let Ok(dir) = std::env::var("MEELOOP_SCREENSHOTS") else {
            return;
        };
        let target = self.find(css).await;
        self.client
            .execute(
                "arguments[0].scrollIntoView();",
                vec![serde_json::to_value(&target).unwrap()],
            )
            .await
            .unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(PathBuf::from(dir).join(format!("{name}.png")), png).unwrap();
    }

    /// The value of a cookie the browser holds for the app.
    pub async fn cookie(&self, name: &str) -> Option<fantoccini::cookies::Cookie<'static>> {
        self.client.get_named_cookie(name).await.ok()
    }

    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A failed test never reaches close(): leave neither the driver nor
        // its Chromium (which outlives the driver) behind. The profile
        // directory names this session's processes.
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = Command::new("pkill")
            .arg("-f")
            .arg(self.profile.path())
            .status();
    }
}
