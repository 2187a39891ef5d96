//! Shared by the SSO tests: a server whose connector `okta` has an identity provider
//! (an OIDC web app registered in the simulator, its redirect URI this server's
//! callback), and a login through the whole flow without a browser: the simulator's
//! non-interactive sign-in ([`OidcLogin::As`]) stands in for the form.

use crate::web_support::{Resp, Server, call};
use okta_sim::{OidcClient, OidcLogin};
use usersync::model::idp::{IdpPatch, UpdateMethod};

/// The OIDC app's client id.
pub const CLIENT_ID: &str = "0oaSsoWebApp1";
/// Its client secret.
pub const CLIENT_SECRET: &str = "sso-client-secret-0123456789";
/// Where a login with the test connector's provider starts.
pub const START: &str = "/plugins/servlet/oidc/start/okta";

/// A server of `users` users and `groups` groups whose connector has an identity
/// provider with this update method.
pub fn server(users: usize, groups: usize, method: UpdateMethod) -> Server {
    let s = Server::start(users, groups);
    let callback = s.url("/plugins/servlet/oidc/callback");
    s.env.sim.register_oidc_client(
        OidcClient::new(CLIENT_ID, CLIENT_SECRET).with_redirect_uri(&callback),
    );
    s.env
        .harness
        .set_identity_provider(
            integration::CONNECTOR,
            &IdpPatch {
                client_id: Some(CLIENT_ID.into()),
                client_secret: Some(CLIENT_SECRET.into()),
                update_method: Some(method),
                ..IdpPatch::default()
            },
        )
        .expect("the identity provider is set");
    s
}

/// The `name=value` of the cookie `name` a response sets.
pub fn cookie(r: &Resp, name: &str) -> Option<String> {
    r.headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .map(|(_, v)| v.split(';').next().unwrap_or_default())
        .find(|c| c.starts_with(&format!("{name}=")) && c.len() > name.len() + 1)
        .map(str::to_string)
}

/// What a login through the flow ended with.
pub struct Login {
    /// The callback's answer (303 to /home, or the refusal page).
    pub callback: Resp,
    /// The product user's session cookie, if one was opened.
    pub session: Option<String>,
}

/// A login as `login`, started at `start` (a login's or a test login's URL): the
/// redirect to Okta, Okta signing the user in at once, the callback with the state
/// cookie.
pub fn login_from(s: &Server, start: &str, login: &str) -> Login {
    s.env.sim.set_oidc_login(OidcLogin::As(login.into()));
    let started = call("GET", start).send();
    assert_eq!(started.status, 303, "{}", started.body);
    let state = cookie(&started, "usersync_sso_state").expect("a state cookie");
    let to_okta = started.header("location").expect("to Okta").to_string();
    assert!(
        to_okta.starts_with(&format!("http://{}/oauth2/v1/authorize?", s.env.sim.addr())),
        "{to_okta}"
    );
    let okta = call("GET", to_okta).send();
    assert_eq!(okta.status, 302, "{}", okta.body);
    let back = okta
        .header("location")
        .expect("back to the product")
        .to_string();
    assert!(
        back.starts_with(&s.url("/plugins/servlet/oidc/callback?")),
        "{back}"
    );
    let callback = call("GET", back).header("cookie", &state).send();
    let session = cookie(&callback, usersync::surface::web::sso::USER_COOKIE);
    Login { callback, session }
}

/// A login as `login` with the test connector's provider.
pub fn login(s: &Server, login: &str) -> Login {
    login_from(s, &s.url(START), login)
}

/// The refusal a login's page shows.
pub fn refusal(r: &Resp) -> String {
    let after = r
        .body
        .split("id=\"sso-refusal\">")
        .nth(1)
        .unwrap_or_default();
    after
        .split("</div>")
        .next()
        .unwrap_or_default()
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The latest SSO login's record.
pub fn last_record(s: &Server) -> usersync::model::idp::LoginRecord {
    s.env.harness.sso_logins(1).unwrap().remove(0)
}

/// The groups a first sync gives the Okta user `login` (lower-cased username), by name.
pub fn memberships(org: &okta_sim::Org, login: &str) -> Vec<String> {
    let username = login.to_lowercase();
    integration::first_sync_projection(org)
        .memberships
        .into_iter()
        .filter(|(u, _)| *u == username)
        .map(|(_, g)| g)
        .collect()
}
