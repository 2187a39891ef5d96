//! The admin's console in headless Chromium (the helpers of [`crate::browser`], one
//! browser launch): after a real sync from the simulator, an admin edits settings through
//! their fields (a bad regex refused under its field, then fixed), previews the username
//! mapping and the group filter on Okta samples, saves; searches users and opens one with
//! its history; pages groups and a group's members; moves a user directory after the
//! confirmation naming the username whose user changes. A screenshot of each page goes to
//! `target/artifacts/console-*.png`.

use crate::browser::{css, in_chromium, screenshot, styled, text_until, type_into};
use crate::web_support::{self, PAGE, Server};
use fantoccini::{Client, Locator};
use integration::CONNECTOR;
use usersync::SyncRequest;

async fn log_in(c: &Client, s: &Server) {
    c.goto(&s.url(PAGE)).await.unwrap();
    type_into(c, "#login-username", web_support::USER).await;
    type_into(c, "#login-password", web_support::PASSWORD).await;
    css(c, "#login-submit").await.click().await.unwrap();
    text_until(c, "h1", |t| t == "User Sync").await;
    assert!(styled(c).await, "the stylesheet applies");
}

/// Scroll the element into view (before a screenshot of it).
async fn show(c: &Client, selector: &str) {
    let el = css(c, selector).await;
    c.execute(
        "arguments[0].scrollIntoView({block: 'center'});",
        vec![serde_json::to_value(&el).unwrap()],
    )
    .await
    .unwrap();
}

async fn click(c: &Client, selector: &str) {
    css(c, selector).await.click().await.unwrap();
}

/// The User settings and Group settings tabs: an inline error, the previews, the save.
async fn settings(c: &Client, s: &Server) {
    c.goto(&s.url(&format!("{PAGE}/connectors/{CONNECTOR}")))
        .await
        .unwrap();
    click(c, "#tab-users-link").await;
    let default = css(c, "#users-username .default")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(default, "Default: {login}, no regex, use-raw");
    type_into(c, "#users-username-pattern", "(").await;
    click(c, "#save").await;
    let error = text_until(c, r#".error[data-field="users.username.pattern"]"#, |t| {
        !t.is_empty()
    })
    .await;
    assert!(error.contains("not a valid regular expression"), "{error}");
    assert!(css(c, "#tab-users").await.is_displayed().await.unwrap());
    show(c, "#users-username").await;
    screenshot(c, "console-settings-error.png").await;

    type_into(c, "#users-username-pattern", "(.*)@.*").await;
    type_into(c, "#users-username-replacement", "$1").await;
    click(c, "#preview-users-button").await;
    let table = text_until(c, "#preview-users", |t| t.contains("Okta login")).await;
    // Each sample's username is its login's local part (the row: login, username, ...).
    let mapped: Vec<(&str, &str)> = table
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(' '))
        .filter(|(_, rest)| !rest.starts_with("(skipped)"))
        .collect();
    assert!(!mapped.is_empty(), "{table}");
    for (login, rest) in mapped {
        let local = login.split('@').next().unwrap().to_lowercase();
        assert!(rest.starts_with(&format!("{local} ")), "{login}: {rest}");
    }
    show(c, "#preview-users").await;
    screenshot(c, "console-settings-users.png").await;

    click(c, "#tab-groups-link").await;
    let chosen = s.env.sim.with_org(|o| o.groups[1].name.clone());
    type_into(c, "#groups-prefix", "okta-").await;
    click(c, "#preview-groups-button").await;
    text_until(c, "#preview-groups", |t| {
        t.contains(&format!("okta-{chosen}"))
    })
    .await;
    show(c, "#preview-groups").await;
    screenshot(c, "console-settings-groups.png").await;
    click(c, "#tab-cleanup-link").await;
    css(c, "#lifecycle-guard-percent").await;
    screenshot(c, "console-settings-cleanup.png").await;
    click(c, "#tab-advanced-link").await;
    screenshot(c, "console-settings-advanced.png").await;
    click(c, "#save").await;
    text_until(c, "#notice", |t| t.starts_with("Saved connector")).await;
    let saved = s.env.harness.connector(CONNECTOR).unwrap().settings;
    assert_eq!(saved.users.username.pattern, "(.*)@.*");
    assert_eq!(saved.groups.prefix, "okta-");
}

/// Users: a search, a user's page with its history.
async fn users(c: &Client, s: &Server) {
    click(c, "#nav-users").await;
    text_until(c, "h1", |t| t == "Users").await;
    let one = s.env.store().users.iter().next().unwrap().clone();
    type_into(c, "#search-q", &one.username[..4]).await;
    click(c, "#search-submit").await;
    let rows = text_until(c, "#users tbody", |t| t.contains(&one.username)).await;
    assert!(
        rows.lines().all(|l| l.starts_with(&one.username[..4])),
        "{rows}"
    );
    screenshot(c, "console-users.png").await;
    c.find(Locator::LinkText(&one.username))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    text_until(c, "h1", |t| t.starts_with(&one.username)).await;
    text_until(c, "#user-history", |t| t.contains("create user")).await;
    css(c, "#user-groups").await;
    screenshot(c, "console-user.png").await;
}

/// Groups: a page of two, the next page, a group's members a page at a time.
async fn groups(c: &Client, s: &Server) {
    c.goto(&s.url(&format!("{PAGE}/groups?limit=2")))
        .await
        .unwrap();
    let first = text_until(c, "#groups tbody", |t| !t.is_empty()).await;
    click(c, "#groups-pager .next-page").await;
    let second = text_until(c, "#groups tbody", |t| *t != first).await;
    assert_eq!(second.lines().count(), 2, "{second}");
    screenshot(c, "console-groups.png").await;
    click(c, "#groups tbody a").await;
    text_until(c, "#group-details", |t| t.contains("Members")).await;
    let url = c.current_url().await.unwrap();
    c.goto(&format!("{url}?limit=5")).await.unwrap();
    let members = text_until(c, "#members tbody", |t| !t.is_empty()).await;
    assert_eq!(members.lines().count(), 5, "{members}");
    click(c, "#members-pager .next-page").await;
    text_until(c, "#members tbody", |t| *t != members).await;
    screenshot(c, "console-group.png").await;
}

/// User directories: move the internal directory down after the confirmation.
async fn directories(c: &Client, shared: &str) {
    click(c, "#nav-directories").await;
    text_until(c, "h1", |t| t == "User directories").await;
    screenshot(c, "console-directories.png").await;
    click(c, r#"tr[data-directory="1"] .move-down"#).await;
    let switches = text_until(c, "#move-switches", |t| t.contains(shared)).await;
    assert!(switches.contains("local-1"), "{switches}");
    screenshot(c, "console-directory-move.png").await;
    click(c, "#confirm-move").await;
    text_until(c, "#notice", |t| t.contains("Internal Directory")).await;
    let first = css(c, "#directories tbody tr").await.text().await.unwrap();
    assert!(first.starts_with("1 Okta: okta"), "{first}");
    screenshot(c, "console-directories-moved.png").await;
}

#[test]
fn an_admin_edits_settings_by_field_browses_users_and_groups_and_reorders_directories() {
    let server = std::sync::Arc::new(Server::start(60, 6));
    server
        .env
        .harness
        .sync(CONNECTOR, SyncRequest::default())
        .expect("the first sync");
    let shared = server
        .env
        .store()
        .users
        .iter()
        .next()
        .unwrap()
        .username
        .clone();
    crate::directory_admin::add_local_user(&server, &shared);
    in_chromium("console-failure.png", |c| async move {
        log_in(&c, &server).await;
        settings(&c, &server).await;
        users(&c, &server).await;
        groups(&c, &server).await;
        directories(&c, &shared).await;
    });
}
