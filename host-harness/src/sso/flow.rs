//! Logins on their way through Okta: from the redirect to Okta until the callback. Each
//! has its `state` (also in the browser's cookie: a callback is taken only by the
//! browser that started the login), its `nonce` (the ID token must carry it) and its
//! PKCE verifier (the code is useless without it). A callback takes its login out:
//! a `state` works once.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a login may stay at Okta's sign-in.
pub const PENDING: Duration = Duration::from_secs(600);

/// Most logins pending at once (the oldest goes), so that starting logins in a loop
/// cannot grow them without end.
pub const MAX_PENDING: usize = 10_000;

/// One login between the redirect and the callback.
#[derive(Clone)]
pub struct Pending {
    /// The `state` parameter.
    pub state: String,
    /// The `nonce` parameter.
    pub nonce: String,
    /// The PKCE code verifier (its S256 challenge went to Okta).
    pub verifier: String,
    /// The identity provider's connector.
    pub connector: String,
    /// Its record (`sso_logins`).
    pub record: i64,
    /// Started by the login tracker.
    pub test: bool,
    /// Where the browser goes once logged in (a path of this host).
    pub next: String,
    started: Instant,
}

/// The values are credentials of the login: never in logs.
impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("connector", &self.connector)
            .field("record", &self.record)
            .field("test", &self.test)
            .finish_non_exhaustive()
    }
}

/// 32 random bytes, base64url (43 characters: a PKCE verifier's length too).
pub fn random() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

impl Pending {
    /// A new login for `connector`'s provider, recorded as `record`.
    pub fn new(connector: &str, record: i64, test: bool, next: &str) -> Pending {
        Pending {
            state: random(),
            nonce: random(),
            verifier: random(),
            connector: connector.to_string(),
            record,
            test,
            next: next.to_string(),
            started: Instant::now(),
        }
    }

    /// The PKCE S256 challenge of the verifier.
    pub fn challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.verifier.as_bytes()))
    }
}

/// The pending logins, by `state`.
#[derive(Default)]
pub struct Flows(Mutex<HashMap<String, Pending>>);

impl Flows {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keep `login` until its callback.
    pub fn insert(&self, login: Pending) {
        let mut map = self.lock();
        map.retain(|_, p| p.started.elapsed() < PENDING);
        if map.len() >= MAX_PENDING {
            let oldest = map
                .iter()
                .min_by_key(|(_, p)| p.started)
                .map(|(k, _)| k.clone());
            oldest.map(|k| map.remove(&k));
        }
        map.insert(login.state.clone(), login);
    }

    /// The login of `state`, taken out (a state works once), if it is still pending.
    pub fn take(&self, state: &str) -> Option<Pending> {
        self.lock()
            .remove(state)
            .filter(|p| p.started.elapsed() < PENDING)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_works_once_and_the_challenge_is_s256_of_the_verifier() {
        let flows = Flows::default();
        let p = Pending::new("okta", 1, false, "/");
        assert_eq!(p.verifier.len(), 43);
        let expected = URL_SAFE_NO_PAD.encode(Sha256::digest(p.verifier.as_bytes()));
        assert_eq!(p.challenge(), expected);
        let state = p.state.clone();
        assert!(!format!("{p:?}").contains(&state));
        flows.insert(p);
        assert!(flows.take("another").is_none());
        assert_eq!(flows.take(&state).map(|p| p.record), Some(1));
        assert!(flows.take(&state).is_none(), "used");
    }
}
