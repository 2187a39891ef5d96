//! Single sign-on in headless Chromium (one browser for the file): a user logs in
//! through the simulator's Okta sign-in form and is created with its groups; a user
//! suspended in Okta is refused with the reason; with *redirect to SSO* on and SSO
//! broken (a wrong client secret), `/login?nosso` still gives the admin the local
//! login; the login tracker shows a failed test login's cause. Screenshots go to
//! `target/artifacts/sso-*.png`.

use crate::browser::{css, in_chromium, screenshot, text_until, type_into};
use crate::sso_support::{memberships, server};
use crate::web_support::{PAGE, PASSWORD, Server, USER};
use fantoccini::Client;
use integration::CONNECTOR;
use okta_sim::oidc::DEFAULT_PASSWORD;
use usersync::model::idp::{IdpPatch, UpdateMethod};

/// Sign in at the simulator's Okta form as `login`.
async fn okta_sign_in(c: &Client, login: &str) {
    css(c, "#okta-signin-submit").await;
    type_into(c, "#username", login).await;
    type_into(c, "#password", DEFAULT_PASSWORD).await;
    css(c, "#okta-signin-submit").await.click().await.unwrap();
}

/// Two ACTIVE users' logins, and the first one's memberships as a sync makes them.
fn users(s: &Server) -> (String, String, Vec<String>) {
    s.env.sim.with_org(|o| {
        let mut active = o.users.iter().filter(|u| u.status == "ACTIVE");
        let login = |u: &okta_sim::OktaUser| u.profile["login"].as_str().unwrap().to_string();
        let (first, second) = (login(active.next().unwrap()), login(active.next().unwrap()));
        let groups = memberships(o, &first);
        (first, second, groups)
    })
}

async fn sso_flow(c: &Client, s: &Server) {
    let (first, second, groups) = users(s);
    // 1. Log in with Okta through the sign-in form: the user is created with its groups.
    c.goto(&s.url("/login")).await.unwrap();
    screenshot(c, "sso-login-page.png").await;
    css(c, "#sso-okta").await.click().await.unwrap();
    okta_sign_in(c, &first).await;
    let hello = text_until(c, "#logged-in", |t| t.starts_with("You are logged in as")).await;
    let username = first.to_lowercase();
    assert_eq!(hello, format!("You are logged in as {username} in Jira"));
    let shown = css(c, "#groups").await.text().await.unwrap();
    for g in &groups {
        assert!(shown.lines().any(|l| l == g), "{g} in {shown}");
    }
    screenshot(c, "sso-logged-in.png").await;
    let store = s.env.store();
    assert!(
        store
            .users
            .iter()
            .any(|u| u.username == username && u.active)
    );
    let stored: Vec<String> = store
        .memberships
        .iter()
        .filter(|(u, _)| *u == username)
        .map(|(_, g)| g.clone())
        .collect();
    assert_eq!(stored, groups, "created with its groups");
    css(c, "#user-logout").await.click().await.unwrap();
    css(c, "#sso-okta").await;

    // 2. Suspended in Okta right after signing in: the login sync refuses, saying why.
    let id = s
        .env
        .sim
        .with_org(|o| o.user_by_login(&second).unwrap().id.clone());
    s.env
        .sim
        .after_next_code_exchange(move |o| o.set_status(&id, "SUSPENDED"));
    css(c, "#sso-okta").await.click().await.unwrap();
    okta_sign_in(c, &second).await;
    let why = text_until(c, "#sso-refusal", |t| !t.is_empty()).await;
    assert_eq!(why, "the user is not active in Okta (status SUSPENDED)");
    screenshot(c, "sso-refused.png").await;
    // Suspended now, Okta's own sign-in refuses the user too.
    c.goto(&s.url("/login")).await.unwrap();
    css(c, "#sso-okta").await.click().await.unwrap();
    okta_sign_in(c, &second).await;
    text_until(c, "#okta-sim-error", |t| t == "Unable to sign in").await;

    // 3. Redirect to SSO on, and SSO broken (a wrong client secret): `/login` goes to
    // Okta, `/login?nosso` shows the local login, and the admin logs in.
    let broken = IdpPatch {
        client_secret: Some("not-the-app-secret".into()),
        redirect_to_sso: Some(true),
        ..IdpPatch::default()
    };
    s.env
        .harness
        .set_identity_provider(CONNECTOR, &broken)
        .unwrap();
    c.goto(&s.url("/login")).await.unwrap();
    css(c, "#okta-signin-submit").await;
    assert!(
        c.current_url()
            .await
            .unwrap()
            .as_str()
            .starts_with(&format!("http://{}/oauth2/v1/authorize", s.env.sim.addr()))
    );
    c.goto(&s.url("/login?nosso")).await.unwrap();
    type_into(c, "#login-username", USER).await;
    type_into(c, "#login-password", PASSWORD).await;
    screenshot(c, "sso-nosso.png").await;
    css(c, "#login-submit").await.click().await.unwrap();
    text_until(c, "h1", |t| t == "User Sync").await;

    // 4. The tracker: a test login fails at the code exchange, and says why.
    c.goto(&s.url(&format!("{PAGE}/sso"))).await.unwrap();
    css(c, "#test-okta").await.click().await.unwrap();
    let url = text_until(c, "#test-login-url", |t| !t.is_empty()).await;
    let tracker = c.current_url().await.unwrap();
    screenshot(c, "sso-tracker-started.png").await;
    c.goto(&url).await.unwrap();
    okta_sign_in(c, &first).await;
    let why = text_until(c, "#sso-refusal", |t| !t.is_empty()).await;
    assert!(
        why.starts_with("Okta refused the code exchange (401 invalid_client"),
        "{why}"
    );
    let id = s.env.harness.sso_logins(1).unwrap()[0].id;
    c.goto(&s.url(&format!("{PAGE}/sso/logins/{id}")))
        .await
        .unwrap();
    let reason = text_until(c, "#tracker-reason", |t| !t.is_empty()).await;
    assert_eq!(reason, why);
    let failed = css(c, r#"tr[data-step="token"][data-ok="false"] .step-detail"#)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(failed, why);
    for ok in ["start", "redirect", "callback"] {
        css(c, &format!(r#"tr[data-step="{ok}"][data-ok="true"]"#)).await;
    }
    screenshot(c, "sso-tracker-failed.png").await;
    assert!(tracker.as_str().contains("/sso/"), "{tracker}");
}

#[test]
fn users_log_in_with_okta_and_the_tracker_shows_a_failed_login_in_chromium() {
    let s = std::sync::Arc::new(server(40, 6, UpdateMethod::Usersync));
    in_chromium("sso-failure.png", |c| async move { sso_flow(&c, &s).await });
}
