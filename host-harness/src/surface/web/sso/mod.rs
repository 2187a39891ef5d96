//! Single sign-on's HTTP side: the product's login page with **Log in with Okta**
//! (and *redirect to SSO*, `?nosso` keeping the local login), the OpenID Connect
//! redirect and callback, the product users' sessions (apart from the admin's) with
//! their "logged in as … in Jira" page, the admin's SSO settings page with the login
//! tracker, and the REST API's identity providers. The logic is [`crate::sso`].
//!
//! | path | who | what |
//! |---|---|---|
//! | `/login` | anyone | the product's login page (to Okta at once with *redirect to SSO*, unless `?nosso`) |
//! | `/plugins/servlet/oidc/start/{connector}` | anyone | a login with that connector's identity provider |
//! | `/plugins/servlet/oidc/test/{secret}` | anyone with the URL | the tracker's test login |
//! | `/plugins/servlet/oidc/callback` | Okta's redirect | the login's end: code, ID token, login sync, decision |
//! | `/home`, `/logout` | a product user | the product's stand-in page; end the session |
//! | `{admin page}/sso…` | the admin | settings, test logins, the tracker |

mod admin;
mod login;
pub mod rest;
mod users;
mod views;

use super::App;
use crate::sso::flow::Flows;
use crate::sso::oidc::Providers;
use axum::Router;
use axum::routing::{get, post};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;
pub use users::{USER_COOKIE, UserSessions};

/// Where Okta redirects back (the Sign-in redirect URI to register in the Okta app,
/// after the product's base URL), as Atlassian's SSO names it.
pub const CALLBACK: &str = "/plugins/servlet/oidc/callback";
/// Where a login starts (then the connector's name).
pub const START: &str = "/plugins/servlet/oidc/start";
/// Where a test login starts (then its one-time secret).
pub const TEST: &str = "/plugins/servlet/oidc/test";
/// The product's login page.
pub const LOGIN: &str = "/login";
/// The product user's page.
pub const HOME: &str = "/home";

/// What single sign-on keeps while `serve` runs.
pub struct SsoState {
    /// Discovery documents and JWKS.
    pub providers: Providers,
    /// Logins at Okta.
    pub flows: Flows,
    /// Product users' sessions.
    pub users: UserSessions,
    /// Test logins started by the admin and not opened yet: secret → (record, connector).
    tests: Mutex<HashMap<String, (i64, String, Instant)>>,
    /// `serve` is on TLS: its URLs are https and cookies `Secure`.
    pub tls: bool,
}

impl SsoState {
    /// The state of a server, on TLS or not.
    pub fn new(tls: bool) -> SsoState {
        SsoState {
            providers: Providers::default(),
            flows: Flows::default(),
            users: UserSessions::new(tls),
            tests: Mutex::default(),
            tls,
        }
    }

    fn tests(&self) -> std::sync::MutexGuard<'_, HashMap<String, (i64, String, Instant)>> {
        self.tests.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A one-time secret for the test login `record` of `connector` (good 10 minutes).
    pub fn new_test(&self, record: i64, connector: &str) -> String {
        let secret = crate::sso::flow::random();
        let mut tests = self.tests();
        tests.retain(|_, (_, _, at)| at.elapsed() < crate::sso::flow::PENDING);
        tests.insert(
            secret.clone(),
            (record, connector.to_string(), Instant::now()),
        );
        secret
    }

    /// The test login of `secret`, taken out (it opens once).
    fn take_test(&self, secret: &str) -> Option<(i64, String)> {
        let (record, connector, at) = self.tests().remove(secret)?;
        (at.elapsed() < crate::sso::flow::PENDING).then_some((record, connector))
    }
}

/// The public routes (login page, the OIDC flow, the product user's pages).
pub fn routes() -> Router<App> {
    Router::new()
        .route(LOGIN, get(login::login_page))
        .route(&format!("{START}/{{connector}}"), get(login::start))
        .route(&format!("{TEST}/{{secret}}"), get(login::start_test))
        .route(CALLBACK, get(login::callback))
        .route(HOME, get(users::home))
        .route("/logout", post(users::logout))
}

/// The admin page's SSO routes (behind its guard).
pub fn admin_routes() -> Router<App> {
    Router::new()
        .route("/sso", get(admin::settings_page))
        .route("/sso/logins/{id}", get(admin::tracker_page))
        .route("/sso/{connector}", post(admin::save))
        .route("/sso/{connector}/delete", post(admin::delete))
        .route("/sso/{connector}/test", post(admin::test_login))
}

/// The product's own origin as the browser reached it (`http[s]://host[:port]`): the
/// redirect URI is made from it, and Okta takes only a registered one.
pub fn origin(app: &App, headers: &axum::http::HeaderMap) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("localhost");
    let scheme = if app.sso.tls { "https" } else { "http" };
    format!("{scheme}://{host}")
}
