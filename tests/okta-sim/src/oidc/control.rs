//! The test-facing controls of the OpenID provider on [`Simulator`].

use super::{OidcClient, OidcFault, OidcLogin, OidcState};
use crate::server::{Simulator, lock};

impl Simulator {
    fn oidc(&self) -> std::sync::MutexGuard<'_, OidcState> {
        lock(&self.shared().oidc)
    }

    /// The issuer (`iss` of ID tokens): the public origin, as for Okta's org
    /// authorization server.
    pub fn issuer(&self) -> String {
        self.shared()
            .config
            .public_origin
            .trim_end_matches('/')
            .to_string()
    }

    /// Registers an OIDC app (or replaces the one with its client id).
    pub fn register_oidc_client(&self, client: OidcClient) {
        self.oidc().register(client);
    }

    /// Sets the password of the user with this login (others keep the default,
    /// [`super::DEFAULT_PASSWORD`] unless configured otherwise).
    pub fn set_password(&self, login: &str, password: &str) {
        self.oidc().set_password(login, password);
    }

    /// How `/oauth2/v1/authorize` signs users in from now on: the form (default),
    /// the `login_hint`'s user, or always this user, without the form.
    pub fn set_oidc_login(&self, login: OidcLogin) {
        self.oidc().login = login;
    }

    /// Switches `fault` on for `client_id`, or for every client with `None`,
    /// until [`Simulator::clear_oidc_faults`].
    pub fn add_oidc_fault(&self, client_id: Option<&str>, fault: OidcFault) {
        self.oidc().faults.add(client_id, fault);
    }

    /// Switches every OIDC fault off.
    pub fn clear_oidc_faults(&self) {
        self.oidc().faults.clear();
    }

    /// Adds a new signing key to the JWKS and signs with it from now on; the old
    /// keys stay published until [`Simulator::remove_old_signing_keys`]. Returns
    /// the new `kid`.
    pub fn rotate_signing_key(&self) -> String {
        self.oidc().keys.rotate()
    }

    /// Removes every signing key but the current one from the JWKS.
    pub fn remove_old_signing_keys(&self) {
        self.oidc().keys.retire_old();
    }

    /// The published `kid`s, oldest first, the signing one last (generating the
    /// first key if none was needed yet).
    pub fn signing_kids(&self) -> Vec<String> {
        let mut oidc = self.oidc();
        oidc.keys.current();
        oidc.keys.kids()
    }

    /// Applies `change` to the org right after the next successful code exchange: the
    /// tokens were issued while the user could sign in, and the org has changed by the
    /// time the relying party looks the user up (e.g. an admin suspended them).
    pub fn after_next_code_exchange(
        &self,
        change: impl FnOnce(&mut crate::org::Org) + Send + 'static,
    ) {
        self.oidc().after_exchange = Some(Box::new(change));
    }

    /// Expires every authorization code and OIDC access token issued so far.
    pub fn expire_oidc_grants(&self) {
        self.oidc().expire_all(chrono::Utc::now().timestamp());
    }
}
