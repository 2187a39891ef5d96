//! The approval of a plan the guard refused, in headless Chromium (issue 16): the run's
//! page shows the plan and its changes, *Approve and apply* re-checks and applies it, and
//! the Approvals and Alerts pages show what happened. Screenshots go to
//! `target/artifacts/approval-*.png` and `alerts-page.png`.

use crate::browser::{connect, css, screenshot, start_driver, text_until};
use crate::web_support::{self, PAGE, Server};
use integration::CONNECTOR;
use usersync::SyncRequest;

async fn approve_flow(c: &fantoccini::Client, s: &Server, run: i64) {
    c.goto(&s.url(PAGE)).await.unwrap();
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

    c.goto(&s.url(&format!("{PAGE}/runs/{run}"))).await.unwrap();
    text_until(c, "#plan .title", |t| t == "Plan: Waiting for approval").await;
    let rows = c
        .find_all(fantoccini::Locator::Css("#run-changes tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 8, "the plan's changes are listed");
    screenshot(c, "approval-pending.png").await;
    c.execute("window.confirm = function() { return true; };", vec![])
        .await
        .unwrap();
    css(c, "#approve-plan").await.click().await.unwrap();
    text_until(c, "#run-status", |t| t.to_lowercase().contains("succeeded")).await;
    text_until(c, "#run-done", |t| t.contains("8 changes applied")).await;
    screenshot(c, "approval-applied.png").await;

    css(c, "#nav-approvals").await.click().await.unwrap();
    text_until(c, "#plans tbody", |t| {
        t.contains("Approved and applied") && t.contains("admin (admin page)")
    })
    .await;
    screenshot(c, "approval-list.png").await;
    css(c, "#nav-alerts").await.click().await.unwrap();
    text_until(c, "h1", |t| t == "Alerts and approvals").await;
    screenshot(c, "alerts-page.png").await;
}

#[test]
fn an_admin_approves_a_plan_the_guard_stopped_in_chromium() {
    let server = std::sync::Arc::new(Server::start(30, 2));
    server
        .env
        .harness
        .sync(CONNECTOR, SyncRequest::default())
        .unwrap();
    server.env.sim.with_org(|o| {
        let ids: Vec<String> = o
            .users
            .iter()
            .filter(|u| u.status == "ACTIVE")
            .take(8)
            .map(|u| u.id.clone())
            .collect();
        ids.iter().for_each(|id| o.set_status(id, "SUSPENDED"));
    });
    server
        .env
        .harness
        .sync(CONNECTOR, SyncRequest::default())
        .unwrap_err();
    let run = server.env.harness.runs(None, 1).unwrap()[0].id;
    let (driver, chromium) = start_driver();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = connect(&driver, &chromium).await;
        c.set_window_size(1400, 1000).await.unwrap();
        let flow = tokio::spawn({
            let (c, server) = (c.clone(), server.clone());
            async move { approve_flow(&c, &server, run).await }
        })
        .await;
        if flow.is_err() {
            screenshot(&c, "approval-failure.png").await;
        }
        let _ = c.close().await;
        if let Err(e) = flow {
            std::panic::resume_unwind(e.into_panic());
        }
    });
    let inactive = server
        .env
        .store()
        .users
        .iter()
        .filter(|u| !u.active)
        .count();
    assert_eq!(inactive, 8, "the approved plan is in the store");
}
