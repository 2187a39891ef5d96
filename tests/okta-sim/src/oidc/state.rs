//! What the OpenID provider remembers: clients, passwords, the sign-in mode,
//! issued codes and access tokens, the signing keys and the faults switched on.

use std::collections::HashMap;

use super::faults::FaultSwitches;
use super::keys::KeyRing;
use super::{OidcClient, OidcConfig, OidcLogin};

/// An authorization code, from the redirect until it is exchanged (once).
#[derive(Clone, Debug)]
pub(crate) struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    /// The Okta user id of who signed in.
    pub user_id: String,
    pub nonce: Option<String>,
    pub scopes: Vec<String>,
    /// When the user signed in (epoch seconds).
    pub auth_time: i64,
    /// When the code stops being accepted (epoch seconds).
    pub expires_at: i64,
}

/// An access token for `/oauth2/v1/userinfo`.
#[derive(Clone, Debug)]
pub(crate) struct UserToken {
    pub user_id: String,
    pub scopes: Vec<String>,
    pub expires_at: i64,
}

/// A change an admin makes to the org right after Okta issued a user's tokens.
pub type AfterExchange = Box<dyn FnOnce(&mut crate::org::Org) + Send>;

/// The OpenID provider's state.
pub(crate) struct OidcState {
    pub config: OidcConfig,
    clients: HashMap<String, OidcClient>,
    /// Passwords by lower-cased login.
    passwords: HashMap<String, String>,
    pub login: OidcLogin,
    /// Issued codes; a code is removed at its first exchange.
    codes: HashMap<String, AuthCode>,
    pub tokens: HashMap<String, UserToken>,
    pub keys: KeyRing,
    pub faults: FaultSwitches,
    /// Applied to the org after the next successful code exchange (a race: the user
    /// is suspended between Okta's sign-in and the relying party's login sync).
    pub after_exchange: Option<AfterExchange>,
}

impl std::fmt::Debug for OidcState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcState")
            .field("clients", &self.clients.len())
            .field("login", &self.login)
            .field("codes", &self.codes.len())
            .field("keys", &self.keys)
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}

impl OidcState {
    /// The state for this configuration, its clients registered.
    pub fn new(config: OidcConfig) -> OidcState {
        let mut state = OidcState {
            clients: HashMap::new(),
            passwords: HashMap::new(),
            login: OidcLogin::default(),
            codes: HashMap::new(),
            tokens: HashMap::new(),
            keys: KeyRing::default(),
            faults: FaultSwitches::default(),
            after_exchange: None,
            config: config.clone(),
        };
        config.clients.into_iter().for_each(|c| state.register(c));
        for (login, password) in config.passwords {
            state.set_password(&login, &password);
        }
        state
    }

    /// Registers `client`, replacing one with its id.
    pub fn register(&mut self, client: OidcClient) {
        self.clients.insert(client.client_id.clone(), client);
    }

    /// The client with this id.
    pub fn client(&self, client_id: &str) -> Option<&OidcClient> {
        self.clients.get(client_id)
    }

    /// Sets the password of the user with this login.
    pub fn set_password(&mut self, login: &str, password: &str) {
        self.passwords
            .insert(login.to_lowercase(), password.to_string());
    }

    /// Whether `password` is the password of `login`.
    pub fn password_matches(&self, login: &str, password: &str) -> bool {
        let expected = self.passwords.get(&login.to_lowercase());
        expected.unwrap_or(&self.config.default_password) == password
    }

    /// Stores a code; returns it.
    pub fn issue_code(&mut self, code: AuthCode) -> String {
        let value = super::random_token(32);
        self.codes.retain(|_, c| c.expires_at > code.auth_time);
        self.codes.insert(value.clone(), code);
        value
    }

    /// Takes the code out (single use): whatever the exchange's outcome, it
    /// cannot be exchanged again.
    pub fn take_code(&mut self, code: &str) -> Option<AuthCode> {
        self.codes.remove(code)
    }

    /// Makes every ID and access token issued so far, and every code, expired.
    pub fn expire_all(&mut self, now: i64) {
        self.tokens.values_mut().for_each(|t| t.expires_at = now);
        self.codes.values_mut().for_each(|c| c.expires_at = now);
    }
}
