//! Faults a relying party must catch: each one puts exactly one defect into an
//! otherwise correct answer (an ID token, a redirect, a code exchange).

/// One defect, switched on for one client or for all (`Simulator::add_oidc_fault`)
/// until cleared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OidcFault {
    /// The ID token's `aud` is another client's id (`0oaSomeOtherClient`).
    WrongAudience,
    /// The ID token's `iss` is `{origin}/oauth2/default` (a custom authorization
    /// server's issuer, not the org's).
    WrongIssuer,
    /// The ID token expired an hour ago (`iat` two hours ago).
    Expired,
    /// The ID token's `iat` (and `auth_time`) is an hour in the future.
    IssuedInFuture,
    /// The ID token's signature does not verify (one byte of it flipped).
    BadSignature,
    /// The ID token's `kid` names no key in the JWKS (signed by the current key).
    UnknownKid,
    /// The ID token has no `nonce` claim although the request had one.
    MissingNonce,
    /// The ID token's `nonce` is not the request's.
    WrongNonce,
    /// The first exchange of every code is refused `invalid_grant` as if the
    /// code had been redeemed already (an intercepted code replayed first).
    CodeReplayed,
    /// The redirect after login carries a `state` other than the request's.
    StateMismatch,
}

/// The faults switched on: per client id, or for every client (`None`).
#[derive(Debug, Default)]
pub(crate) struct FaultSwitches(Vec<(Option<String>, OidcFault)>);

impl FaultSwitches {
    /// Switches `fault` on for `client_id`, or for all clients.
    pub fn add(&mut self, client_id: Option<&str>, fault: OidcFault) {
        self.0.push((client_id.map(str::to_string), fault));
    }

    /// Switches every fault off.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Whether `fault` is on for `client_id`.
    pub fn on(&self, client_id: &str, fault: OidcFault) -> bool {
        self.0
            .iter()
            .any(|(c, f)| *f == fault && c.as_deref().is_none_or(|c| c == client_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_client_and_global() {
        let mut s = FaultSwitches::default();
        s.add(Some("a"), OidcFault::Expired);
        s.add(None, OidcFault::WrongNonce);
        assert!(s.on("a", OidcFault::Expired) && !s.on("b", OidcFault::Expired));
        assert!(s.on("a", OidcFault::WrongNonce) && s.on("b", OidcFault::WrongNonce));
        s.clear();
        assert!(!s.on("a", OidcFault::WrongNonce));
    }
}
