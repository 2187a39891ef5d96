//! OAuth 2.0 for Okta API service apps, as a sync client meets it instead of an
//! SSWS token: `private_key_jwt` client assertions at `POST /oauth2/v1/token`,
//! DPoP-bound (or Bearer) access tokens, per-endpoint Okta scopes, the app's admin
//! role and its share of each rate-limit bucket.
//!
//! The behaviour and the error texts follow `okta-oauth-events.md` §1 and Okta's
//! support articles; where Okta's exact answer is not known the simulator's choice
//! is listed in the crate README ("OAuth service apps") as a best guess.

mod app;
mod errors;
mod jose;
pub(crate) mod resource;
mod state;
pub(crate) mod token;

use std::time::Duration;

pub use app::{AdminRole, OAuthApp, OAuthAppError};
pub use errors::{ClientAuthFailure, ProofFailure, ResourceError, TokenError};
pub(crate) use state::{OAuthState, random_token};

/// The org authorization server's token endpoint (the only one for Okta scopes).
pub const TOKEN_PATH: &str = "/oauth2/v1/token";

/// The Okta scopes of a freshly registered app.
pub const DEFAULT_SCOPES: [&str; 2] = ["okta.users.read", "okta.groups.read"];

/// How OAuth behaves, besides the registered apps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthConfig {
    /// The registered service apps.
    pub apps: Vec<OAuthApp>,
    /// Lifetime of an access token (`expires_in`). Okta fixes it at one hour; tests
    /// compress it to see a client renew its token.
    pub token_lifetime: Duration,
    /// How far a DPoP proof's `iat` may be from now, either way (Okta's value is
    /// not published; 5 minutes is a common clock-skew allowance).
    pub dpop_iat_window: Duration,
    /// A DPoP nonce is replaced after this long (Okta: 24 h).
    pub nonce_rotation: Duration,
    /// A DPoP nonce is accepted this long after it was first handed out (Okta:
    /// the previous nonce stays valid for 3 days).
    pub nonce_validity: Duration,
}

impl Default for OAuthConfig {
    /// No apps; Okta's one-hour tokens, 24 h nonce rotation, 3-day nonce validity;
    /// a DPoP `iat` window of 5 minutes.
    fn default() -> Self {
        OAuthConfig {
            apps: Vec::new(),
            token_lifetime: Duration::from_secs(3600),
            dpop_iat_window: Duration::from_secs(300),
            nonce_rotation: Duration::from_secs(24 * 3600),
            nonce_validity: Duration::from_secs(72 * 3600),
        }
    }
}

/// What the token endpoint has done so far, for tests that count token fetches
/// ("one token per hour of syncing").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenStats {
    /// Every request that reached `/oauth2/v1/token`, whatever its answer (a DPoP
    /// nonce challenge and its retry count as two; one answered by an injected
    /// fault or a 429 did not reach it).
    pub requests: usize,
    /// Access tokens issued.
    pub issued: usize,
}
