//! OpenID Connect as Okta's org authorization server does it (issuer
//! `https://{org}`, endpoints under `/oauth2/v1/`): discovery, the JWKS with key
//! rotation, the authorization code flow with PKCE behind an HTML login form, ID
//! tokens signed RS256, userinfo; plus switchable faults that make the simulator
//! hand a client exactly one defect it must refuse.
//!
//! Texts quoted from Okta are listed with their sources in the crate README
//! ("OpenID Connect"); the others are best guesses in Okta's style.

mod authorize;
mod client;
mod control;
mod discovery;
mod errors;
mod faults;
mod idtoken;
mod keys;
mod page;
mod state;
mod token;

use std::time::Duration;

pub use client::{OidcClient, OidcClientError};
pub use errors::{AuthorizeError, CodeGrantError};
pub use faults::OidcFault;
pub(crate) use state::OidcState;

pub(crate) use crate::oauth::random_token;
use crate::reply::Reply;
use crate::server::{Shared, lock};

/// Discovery document path.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// The authorization endpoint (GET with the query, or POST form-encoded).
pub const AUTHORIZE_PATH: &str = "/oauth2/v1/authorize";
/// The JWKS.
pub const KEYS_PATH: &str = "/oauth2/v1/keys";
/// The userinfo endpoint.
pub const USERINFO_PATH: &str = "/oauth2/v1/userinfo";

/// The password every user has unless one was set ([`OidcConfig::passwords`],
/// `Simulator::set_password`).
pub const DEFAULT_PASSWORD: &str = "Okta-Sim-Passw0rd!";

/// How the OpenID Connect side behaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcConfig {
    /// The registered OIDC web (or native) apps.
    pub clients: Vec<OidcClient>,
    /// The password of users without one of their own.
    pub default_password: String,
    /// `(login, password)` pairs: users with their own password.
    pub passwords: Vec<(String, String)>,
    /// ID and access token lifetime (Okta: one hour).
    pub token_lifetime: Duration,
    /// How long an authorization code can be exchanged (best guess for Okta: 5 min).
    pub code_lifetime: Duration,
}

impl Default for OidcConfig {
    /// No clients; every user's password is [`DEFAULT_PASSWORD`]; one-hour
    /// tokens; five-minute codes.
    fn default() -> Self {
        OidcConfig {
            clients: Vec::new(),
            default_password: DEFAULT_PASSWORD.to_string(),
            passwords: Vec::new(),
            token_lifetime: Duration::from_secs(3600),
            code_lifetime: Duration::from_secs(300),
        }
    }
}

/// How `/oauth2/v1/authorize` signs a user in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum OidcLogin {
    /// The HTML login form, as a browser sees it (the default).
    #[default]
    Form,
    /// The user named by the request's `login_hint` is signed in without the form
    /// (as if an Okta session existed); without a hint, the form.
    LoginHint,
    /// This login is signed in on every authorize request, without the form.
    As(String),
}

/// A request to one of the OIDC endpoints.
pub(crate) struct OidcRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub authorization: Option<&'a str>,
    pub body: &'a [u8],
}

/// Whether a request to `path` needs its body read (forms).
pub(crate) fn reads_body(path: &str) -> bool {
    path == AUTHORIZE_PATH || path == USERINFO_PATH
}

/// Answers the request if it is an OIDC one: discovery, keys, authorize,
/// userinfo, and `POST /oauth2/v1/token` with `grant_type=authorization_code`
/// (every other token request is the service apps' ([`crate::oauth`])).
pub(crate) fn serve(shared: &Shared, req: &OidcRequest<'_>) -> Option<Reply> {
    let origin = shared.config.public_origin.trim_end_matches('/');
    Some(match req.path {
        DISCOVERY_PATH => discovery::configuration(origin),
        KEYS_PATH => discovery::keys(&mut lock(&shared.oidc)),
        AUTHORIZE_PATH => {
            let org = lock(&shared.org);
            authorize::handle(&mut lock(&shared.oidc), &org, req)
        }
        USERINFO_PATH => {
            let org = lock(&shared.org);
            discovery::userinfo(&lock(&shared.oidc), &org, origin, req)
        }
        crate::oauth::TOKEN_PATH if token::is_code_grant(req.body) => {
            let mut org = lock(&shared.org);
            let mut oidc = lock(&shared.oidc);
            let reply = token::handle(&mut oidc, &org, origin, req);
            if reply.status == 200
                && let Some(change) = oidc.after_exchange.take()
            {
                change(&mut org);
            }
            reply
        }
        _ => return None,
    })
}
