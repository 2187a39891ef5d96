//! What the authorization server remembers: the app registry, issued access
//! tokens, used `jti`s, DPoP nonces and the token-endpoint counters.

use std::collections::HashMap;

use rand::RngCore;

use super::app::OAuthApp;
use super::{OAuthConfig, TokenStats};

/// A random URL-safe string of `bytes` random bytes (access tokens, nonces).
pub(crate) fn random_token(bytes: usize) -> String {
    use base64::Engine;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// An access token the server issued.
#[derive(Clone, Debug)]
pub(crate) struct IssuedToken {
    /// The app it was issued to.
    pub client_id: String,
    /// The granted scopes.
    pub scopes: Vec<String>,
    /// When it stops being accepted (epoch milliseconds).
    pub expires_at_ms: i64,
    /// The thumbprint of the DPoP key it is bound to; `None` for a Bearer token.
    pub jkt: Option<String>,
}

/// `jti`s seen, each forgotten once the token carrying it could no longer be
/// accepted anyway.
#[derive(Debug, Default)]
struct SeenJtis(HashMap<String, i64>);

impl SeenJtis {
    /// Records `jti` until `until_ms`; false when it was already there.
    fn first_use(&mut self, jti: &str, now_ms: i64, until_ms: i64) -> bool {
        self.0.retain(|_, until| *until > now_ms);
        self.0.insert(jti.to_string(), until_ms).is_none()
    }
}

/// The server's DPoP nonces, newest last, with the time each was made.
#[derive(Debug, Default)]
struct Nonces(Vec<(String, i64)>);

/// The authorization server's state.
#[derive(Debug)]
pub(crate) struct OAuthState {
    config: OAuthConfig,
    apps: HashMap<String, OAuthApp>,
    tokens: HashMap<String, IssuedToken>,
    assertion_jtis: SeenJtis,
    proof_jtis: SeenJtis,
    nonces: Nonces,
    stats: TokenStats,
}

impl OAuthState {
    /// The state for this configuration, with its apps registered.
    pub fn new(config: OAuthConfig) -> OAuthState {
        let apps = config
            .apps
            .iter()
            .map(|a| (a.client_id.clone(), a.clone()))
            .collect();
        OAuthState {
            config,
            apps,
            tokens: HashMap::new(),
            assertion_jtis: SeenJtis::default(),
            proof_jtis: SeenJtis::default(),
            nonces: Nonces::default(),
            stats: TokenStats::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &OAuthConfig {
        &self.config
    }

    /// Registers `app`, replacing an app with the same client id. Tokens issued
    /// before stay valid with the scopes they were granted; each request is judged
    /// by the app's current admin role and rate-limit share.
    pub fn register(&mut self, app: OAuthApp) {
        self.apps.insert(app.client_id.clone(), app);
    }

    /// The app with this client id.
    pub fn app(&self, client_id: &str) -> Option<&OAuthApp> {
        self.apps.get(client_id)
    }

    /// Counts a request to the token endpoint.
    pub fn count_request(&mut self) {
        self.stats.requests += 1;
    }

    /// The counters.
    pub fn stats(&self) -> TokenStats {
        self.stats
    }

    /// Records a client assertion's `jti` (kept for the assertion's longest
    /// lifetime, one hour); false when it was used before.
    pub fn first_assertion_use(&mut self, jti: &str, now_ms: i64) -> bool {
        self.assertion_jtis
            .first_use(jti, now_ms, now_ms + 3_600_000)
    }

    /// Records a DPoP proof's `jti` (kept while its `iat` is acceptable); false
    /// when it was used before.
    pub fn first_proof_use(&mut self, jti: &str, now_ms: i64) -> bool {
        let keep = 2 * self.config.dpop_iat_window.as_millis() as i64;
        self.proof_jtis.first_use(jti, now_ms, now_ms + keep)
    }

    /// The nonce to hand out now: the newest, or a fresh one once the newest is
    /// older than the rotation period.
    pub fn current_nonce(&mut self, now_ms: i64) -> String {
        let rotation = self.config.nonce_rotation.as_millis() as i64;
        let fresh = self
            .nonces
            .0
            .last()
            .is_some_and(|(_, made)| now_ms - made < rotation);
        if !fresh {
            self.rotate_nonce(now_ms);
        }
        self.nonces
            .0
            .last()
            .map(|(n, _)| n.clone())
            .unwrap_or_default()
    }

    /// Makes a new nonce the current one (older ones stay valid for their time).
    pub fn rotate_nonce(&mut self, now_ms: i64) {
        let validity = self.config.nonce_validity.as_millis() as i64;
        self.nonces.0.retain(|(_, made)| now_ms - made < validity);
        self.nonces.0.push((random_token(24), now_ms));
    }

    /// Whether `nonce` was handed out and is still valid.
    pub fn nonce_valid(&self, nonce: &str, now_ms: i64) -> bool {
        let validity = self.config.nonce_validity.as_millis() as i64;
        self.nonces
            .0
            .iter()
            .any(|(n, made)| n == nonce && now_ms - made < validity)
    }

    /// Issues an access token; returns it and its lifetime in whole seconds.
    pub fn issue(
        &mut self,
        client_id: &str,
        scopes: Vec<String>,
        jkt: Option<String>,
        now_ms: i64,
    ) -> (String, u64) {
        let lifetime = self.config.token_lifetime;
        let token = random_token(48);
        self.tokens.insert(
            token.clone(),
            IssuedToken {
                client_id: client_id.to_string(),
                scopes,
                expires_at_ms: now_ms + lifetime.as_millis() as i64,
                jkt,
            },
        );
        self.stats.issued += 1;
        (token, lifetime.as_secs_f64().ceil().max(1.0) as u64)
    }

    /// The issued token with this value.
    pub fn token(&self, token: &str) -> Option<&IssuedToken> {
        self.tokens.get(token)
    }

    /// Makes every issued token expired now (a test's shortcut to an hour later).
    pub fn expire_tokens(&mut self, now_ms: i64) {
        for t in self.tokens.values_mut() {
            t.expires_at_ms = t.expires_at_ms.min(now_ms);
        }
    }
}
