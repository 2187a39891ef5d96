//! The approval of a plan the guard refused, in headless Chromium (issue 16): the run's
//! page shows the plan and its changes, *Approve and apply* re-checks and applies it, and
//! the Approvals and Alerts pages show what happened. Screenshots go to
//! `target/artifacts/approval-*.png` and `alerts-page.png`.

use crate::browser::{css, in_chromium, log_in, screenshot, text_until};
use crate::web_support::{PAGE, Server};
use integration::CONNECTOR;
use usersync::SyncRequest;

async fn approve_flow(c: &fantoccini::Client, s: &Server, run: i64) {
    c.goto(&s.url(PAGE)).await.unwrap();
    log_in(c).await;

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
    crate::approvals::suspend(&server.env.sim, 8);
    server
        .env
        .harness
        .sync(CONNECTOR, SyncRequest::default())
        .unwrap_err();
    let run = server.env.harness.runs(None, 1).unwrap()[0].id;
    let s = server.clone();
    in_chromium("approval-failure.png", move |c| async move {
        approve_flow(&c, &s, run).await
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
