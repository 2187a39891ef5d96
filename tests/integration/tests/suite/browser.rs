//! The admin page in a real browser: headless Chromium driven over WebDriver
//! (chromedriver + fantoccini), under the page's Content-Security-Policy (scripts and
//! styles from its own files only). An admin logs in, creates an Okta connector against
//! the simulator (a refused domain first), tests the connection, enables a schedule
//! through the interval dialog, saves, previews a dry run, clicks Sync in the Actions
//! column and reads the results table, whose counts must be the sync's real counts, then
//! logs out. A screenshot of every page goes to `target/artifacts/admin-*.png`.
//!
//! Needs the Debian packages `chromium` and `chromium-driver`: `integration::chromium`
//! installs them on a Debian machine where it runs as root, and otherwise says how.

use crate::web_support;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use web_support::{PAGE, Server};

/// chromedriver, ended when dropped.
pub(crate) struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn start_driver() -> (Driver, PathBuf) {
    let integration::chromium::Browser {
        chromium,
        chromedriver,
    } = integration::chromium::locate();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", chromedriver.display()));
    let driver = Driver {
        child,
        port,
        _profile: tempfile::tempdir().unwrap(),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (driver, chromium)
}

pub(crate) async fn connect(driver: &Driver, chromium: &Path) -> Client {
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        &format!("--user-data-dir={}", driver._profile.path().display()),
    ];
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({"binary": chromium, "args": args}),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session with headless Chromium")
}

pub(crate) fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(crate) async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(artifacts().join(name), png).unwrap();
}

pub(crate) async fn css(c: &Client, selector: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("no `{selector}` on the page: {e}"))
}

/// Wait until the element's text satisfies `ok`; returns the text.
pub(crate) async fn text_until(c: &Client, selector: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = css(c, selector).await.text().await.unwrap_or_default();
        if ok(&text) {
            return text;
        }
        assert!(Instant::now() < deadline, "`{selector}` still says: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether the stylesheet applied (the page's policy lets only its own files style it).
pub(crate) async fn styled(c: &Client) -> bool {
    let colour = c
        .execute(
            "return getComputedStyle(document.querySelector('.aui-header')).backgroundColor;",
            vec![],
        )
        .await
        .unwrap();
    colour == "rgb(7, 71, 166)"
}

async fn admin_flow(c: &Client, s: &Server) {
    c.goto(&s.url(PAGE)).await.unwrap();
    // Not logged in: the login form.
    css(c, "#login-submit").await;
    assert!(styled(c).await, "the stylesheet applies");
    screenshot(c, "admin-login.png").await;
    log_in(c).await;
    // The harness's own test connector is there already; remove it through the page so
    // that the admin starts from an empty list.
    c.execute("window.confirm = function() { return true; };", vec![])
        .await
        .unwrap();
    css(c, r#"tr[data-connector="okta"] button.delete-action"#)
        .await
        .click()
        .await
        .unwrap();
    text_until(c, "#notice", |t| t.contains("Deleted connector")).await;

    // Create Connector → Okta.
    css(c, "#create-connector").await.click().await.unwrap();
    css(c, "#type-okta").await;
    screenshot(c, "admin-create-connector.png").await;
    css(c, "#type-okta").await.click().await.unwrap();
    text_until(c, "h1", |t| t == "Create Okta connector").await;
    // A plain-http domain is refused, the field marked; the token is typed again.
    type_into(c, "#connector-name", "Okta").await;
    type_into(c, "#okta-domain", "http://acme.okta.com").await;
    type_into(c, "#api-token", "test-token").await;
    css(c, "#save").await.click().await.unwrap();
    text_until(c, "#form-errors", |t| {
        t.contains("The connector was not saved.")
    })
    .await;
    css(c, r#".error[data-field="okta-domain"]"#).await;
    screenshot(c, "admin-form-errors.png").await;
    type_into(c, "#okta-domain", "acme.okta.com").await;
    type_into(c, "#api-token", "test-token").await;
    css(c, "#test-connection").await.click().await.unwrap();
    let result = text_until(c, "#test-result", |t| {
        t.starts_with("Connection works") || t.contains("fail") || t.contains("error")
    })
    .await;
    assert!(
        result.starts_with("Connection works: https://acme.okta.com"),
        "{result}"
    );
    screenshot(c, "admin-new-connector.png").await;

    // Sync Settings: enable a schedule through the interval dialog.
    css(c, "#tab-sync-link").await.click().await.unwrap();
    assert!(
        !css(c, "#schedule-enabled")
            .await
            .is_selected()
            .await
            .unwrap()
    );
    css(c, "#set-interval").await.click().await.unwrap();
    assert!(
        css(c, "#interval-dialog")
            .await
            .is_displayed()
            .await
            .unwrap()
    );
    css(c, "#interval-kind")
        .await
        .select_by_value("hours")
        .await
        .unwrap();
    css(c, "#interval-n")
        .await
        .select_by_value("2")
        .await
        .unwrap();
    screenshot(c, "admin-interval-dialog.png").await;
    css(c, "#interval-apply").await.click().await.unwrap();
    assert!(
        !css(c, "#interval-dialog")
            .await
            .is_displayed()
            .await
            .unwrap()
    );
    let cron = css(c, "#schedule").await.prop("value").await.unwrap();
    assert_eq!(cron.as_deref(), Some("0 0 */2 * * *"));
    assert!(
        css(c, "#schedule-enabled")
            .await
            .is_selected()
            .await
            .unwrap()
    );
    let next = text_until(c, "#next-runs", |t| t.matches("UTC").count() == 5).await;
    assert!(next.lines().all(|l| l.ends_with(":00:00 UTC")), "{next}");
    css(c, "#save").await.click().await.unwrap();
    text_until(c, "#notice", |t| t == "Saved connector \"Okta\".").await;
    let v = s.env.harness.connector("Okta").expect("saved");
    assert!(v.settings.schedule_enabled);
    assert_eq!(v.settings.schedule, "0 0 */2 * * *");
    // Saved with the Sync Settings tab still open, the normalized schedule and its runs.
    assert!(css(c, "#tab-sync").await.is_displayed().await.unwrap());
    text_until(c, "#next-runs", |t| t.matches("UTC").count() == 5).await;
    screenshot(c, "admin-connector-form.png").await;
    // The token is masked after save.
    let token = css(c, "#api-token").await;
    assert_eq!(
        token.attr("placeholder").await.unwrap().as_deref(),
        Some("********")
    );
    assert_eq!(token.prop("value").await.unwrap().as_deref(), Some(""));
    css(c, "#tab-connector-link").await.click().await.unwrap();
    assert!(token.is_displayed().await.unwrap());
    screenshot(c, "admin-edit-connector.png").await;

    // Dry-run preview: the changes a sync would make, nothing written.
    css(c, "#dry-run").await.click().await.unwrap();
    let done = text_until(c, "#run-done", |t| !t.is_empty()).await;
    assert!(done.starts_with("Preview: nothing was written."), "{done}");
    css(c, "#apply-preview").await;
    let dir = s.env.harness.connector("Okta").unwrap().directory_id;
    let snap = usersync::product::db::directory::snapshot(&s.env.harness.db().lock(), dir).unwrap();
    assert!(snap.users.is_empty(), "a preview writes nothing");
    screenshot(c, "admin-dry-run-preview.png").await;

    // Back to the list; Sync in the Actions column.
    c.goto(&s.url(PAGE)).await.unwrap();
    css(c, r#"tr[data-connector="Okta"] button.sync-action"#)
        .await
        .click()
        .await
        .unwrap();
    let counts = c
        .wait()
        .at_most(Duration::from_secs(90))
        .for_element(Locator::Css("#run-counts"))
        .await
        .expect("the results table");
    let _ = counts;
    let url = c.current_url().await.unwrap();
    let run_id: i64 = url
        .path()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .expect("the results page of a run");
    let (run, _) = s.env.harness.run(run_id).unwrap();
    assert_eq!(run.status.as_str(), "succeeded");
    let report = run.report.unwrap();
    // The page's `data-count` keys, and the report's counts by them.
    let counts = serde_json::to_value(report.counts).unwrap();
    for key in [
        "users_created",
        "users_updated",
        "users_activated",
        "users_deactivated",
        "groups_created",
        "groups_updated",
        "memberships_added",
        "memberships_removed",
    ] {
        let shown = css(c, &format!(r#"td[data-count="{key}"]"#))
            .await
            .text()
            .await
            .unwrap();
        let camel = usersync::model::stored::camel_case(key);
        assert_eq!(shown, counts[&camel].to_string(), "{key}");
    }
    // ... and they are what the store holds now.
    let dir = s.env.harness.connector("Okta").unwrap().directory_id;
    let snap = usersync::product::db::directory::snapshot(&s.env.harness.db().lock(), dir).unwrap();
    assert_eq!(report.counts.users_created as usize, snap.users.len());
    assert_eq!(report.counts.groups_created as usize, snap.groups.len());
    assert_eq!(
        report.counts.memberships_added as usize,
        snap.memberships.len()
    );
    assert!(snap.users.len() > 50);
    let changes = css(c, "#run-changes").await.text().await.unwrap();
    assert!(changes.contains("create user"), "{changes}");
    assert!(css(c, "#download-csv").await.is_displayed().await.unwrap());
    screenshot(c, "admin-run-results.png").await;

    // The list with the connector, its schedule and its last run.
    c.goto(&s.url(PAGE)).await.unwrap();
    let last = text_until(c, r#"tr[data-connector="Okta"] td.last-run"#, |t| {
        !t.is_empty()
    })
    .await;
    assert!(
        last.contains(&format!("#{run_id}")) && last.contains("SUCCEEDED"),
        "{last}"
    );
    screenshot(c, "admin-page.png").await;

    // A run that does not exist: the message page.
    c.goto(&s.url(&format!("{PAGE}/runs/999"))).await.unwrap();
    text_until(c, "h1", |t| t == "Not found").await;
    screenshot(c, "admin-not-found.png").await;
    // Log out: back to the login form; the page needs a login again.
    c.goto(&s.url(PAGE)).await.unwrap();
    css(c, "#logout").await.click().await.unwrap();
    css(c, "#login-submit").await;
    c.goto(&s.url(PAGE)).await.unwrap();
    text_until(c, "h1", |t| t == "Administrator access").await;
}

/// Log in on the login form shown, as the admin; the connector list follows.
pub(crate) async fn log_in(c: &Client) {
    css(c, "#login-username")
        .await
        .send_keys(web_support::USER)
        .await
        .unwrap();
    css(c, "#login-password")
        .await
        .send_keys(web_support::PASSWORD)
        .await
        .unwrap();
    css(c, "#login-submit").await.click().await.unwrap();
    text_until(c, "h1", |t| t == "User Sync").await;
}

/// Replace the text of an input.
pub(crate) async fn type_into(c: &Client, selector: &str, text: &str) {
    let input = css(c, selector).await;
    input.clear().await.unwrap();
    input.send_keys(text).await.unwrap();
}

/// Run `flow` in one headless Chromium session; a failed assertion still closes the
/// session and leaves a screenshot of where it stopped (`failure`).
pub(crate) fn in_chromium<F, Fut>(failure: &str, flow: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (driver, chromium) = start_driver();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = connect(&driver, &chromium).await;
        c.set_window_size(1400, 1000).await.unwrap();
        // Run the flow as a task so that a failed assertion still closes the browser.
        let result = tokio::spawn(flow(c.clone())).await;
        if result.is_err() {
            screenshot(&c, failure).await;
        }
        let _ = c.close().await;
        if let Err(e) = result {
            std::panic::resume_unwind(e.into_panic());
        }
    });
}

#[test]
fn an_admin_creates_a_connector_schedules_it_and_syncs_in_chromium() {
    let server = std::sync::Arc::new(Server::start(150, 8));
    in_chromium("admin-page-failure.png", |c| async move {
        admin_flow(&c, &server).await
    });
}
