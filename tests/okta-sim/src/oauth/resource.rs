//! Management API requests made with an OAuth access token:
//! `Authorization: DPoP <token>` plus a fresh `DPoP` proof, or `Bearer <token>`
//! for an app without DPoP; the endpoint's Okta scope and the app's admin role.

use std::sync::Mutex;

use percent_encoding::percent_decode_str;

use super::AdminRole;
use super::errors::{Challenge, ProofFailure, ResourceError};
use super::jose::{self, ProofTarget};
use super::state::{IssuedToken, OAuthState};
use crate::auth::Principal;
use crate::reply::Reply;
use crate::server::lock;

/// How an access token was presented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// `Authorization: DPoP <token>`.
    Dpop,
    /// `Authorization: Bearer <token>`.
    Bearer,
}

impl Scheme {
    fn name(self) -> &'static str {
        match self {
            Scheme::Dpop => "DPoP",
            Scheme::Bearer => "Bearer",
        }
    }
}

/// The scheme and token of an `Authorization` header using an OAuth scheme
/// (names case-insensitive, RFC 9110 §11.1); `None` for SSWS and anything else.
pub(crate) fn presented(authorization: Option<&str>) -> Option<(Scheme, &str)> {
    let (scheme, token) = authorization?.trim().split_once(' ')?;
    let scheme = if scheme.eq_ignore_ascii_case("DPoP") {
        Scheme::Dpop
    } else if scheme.eq_ignore_ascii_case("Bearer") {
        Scheme::Bearer
    } else {
        return None;
    };
    Some((scheme, token.trim()))
}

/// The Okta scope a Management API path requires (`.manage` implies `.read`).
pub(crate) fn required_scope(path: &str) -> Option<&'static str> {
    let rest = path.strip_prefix("/api/v1/")?;
    let first = rest.split('/').next().unwrap_or_default();
    match first {
        "users" => Some("okta.users.read"),
        "groups" => Some("okta.groups.read"),
        "logs" => Some("okta.logs.read"),
        "apps" => Some("okta.apps.read"),
        _ => None,
    }
}

/// A resource request as it arrived.
pub(crate) struct ResourceRequest<'a> {
    pub method: &'a str,
    /// The path, still percent-encoded.
    pub path: &'a str,
    /// The values of the `DPoP` header.
    pub dpop: &'a [String],
    /// The org's public origin.
    pub origin: &'a str,
    /// The simulated now (Unix ms): what a token's expiry and a proof's `iat` are judged by.
    pub now_ms: i64,
}

/// The caller behind an access token, or the refusal. The state is locked only
/// to look things up and record the proof's `jti`, not while signatures are
/// checked (concurrent requests of one client stay concurrent).
pub(crate) fn authenticate(
    state: &Mutex<OAuthState>,
    (scheme, token): (Scheme, &str),
    req: &ResourceRequest<'_>,
) -> Result<Principal, Reply> {
    let scope = required_scope(req.path);
    check(state, scheme, token, req, scope).map_err(|e| {
        e.reply(&Challenge {
            scheme: scheme.name(),
            origin: req.origin,
            path: req.path,
            scope,
        })
    })
}

fn check(
    state: &Mutex<OAuthState>,
    scheme: Scheme,
    token: &str,
    req: &ResourceRequest<'_>,
    scope: Option<&'static str>,
) -> Result<Principal, ResourceError> {
    let now_ms = req.now_ms;
    let (issued, app) = {
        let state = lock(state);
        let issued = state.token(token).cloned();
        let app = issued
            .as_ref()
            .and_then(|t| state.app(&t.client_id).cloned());
        (issued, app)
    };
    let issued = issued.ok_or(ResourceError::InvalidToken)?;
    if issued.expires_at_ms <= now_ms {
        return Err(ResourceError::Expired);
    }
    let app = app.ok_or(ResourceError::InvalidToken)?;
    match (&issued.jkt, scheme) {
        (Some(jkt), Scheme::Dpop) => check_proof(state, token, jkt, req, now_ms)?,
        (None, Scheme::Bearer) => {}
        _ => return Err(ResourceError::WrongScheme),
    }
    if let Some(needed) = scope
        && !has_scope(&issued, needed)
    {
        return Err(ResourceError::InsufficientScope(needed));
    }
    match app.admin_role {
        AdminRole::ReadOnly => Ok(Principal::Full),
        AdminRole::Groups(groups) => Ok(Principal::Scoped(groups.into_iter().collect())),
        AdminRole::None => Err(ResourceError::NoAdminRole),
    }
}

/// Whether the token carries `needed` or the `.manage` scope that includes it.
fn has_scope(issued: &IssuedToken, needed: &str) -> bool {
    let manage = needed.strip_suffix(".read").map(|s| format!("{s}.manage"));
    issued
        .scopes
        .iter()
        .any(|s| s == needed || Some(s) == manage.as_ref())
}

/// Checks the request's DPoP proof: signed, for this method and URL, fresh,
/// not replayed, by the key the token is bound to, with `ath` = the token's hash;
/// a nonce, when present, must be one the server handed out. Okta compares `htu`
/// with the percent-decoded path (okta-sdk-python#541: `…/users/a%40b.com` in
/// `htu` was refused, `…/users/a@b.com` accepted).
fn check_proof(
    state: &Mutex<OAuthState>,
    token: &str,
    jkt: &str,
    req: &ResourceRequest<'_>,
    now_ms: i64,
) -> Result<(), ResourceError> {
    let invalid = ResourceError::Proof;
    let proof = match req.dpop {
        [] => return Err(invalid(ProofFailure::Missing)),
        [proof] => proof,
        _ => return Err(invalid(ProofFailure::Malformed)),
    };
    let path = percent_decode_str(req.path).decode_utf8_lossy();
    let url = format!("{}{path}", req.origin);
    let target = ProofTarget {
        method: req.method,
        url: &url,
        now: now_ms / 1000,
        iat_window: lock(state).config().dpop_iat_window.as_secs() as i64,
    };
    let proof = jose::verify_proof(proof, &target).map_err(invalid)?;
    if proof.ath.as_deref() != Some(jose::access_token_hash(token).as_str()) {
        return Err(invalid(ProofFailure::Ath));
    }
    if proof.jkt != jkt {
        return Err(invalid(ProofFailure::KeyBinding));
    }
    let mut state = lock(state);
    if !state.first_proof_use(&proof.jti, now_ms) {
        return Err(invalid(ProofFailure::Replayed));
    }
    match proof.nonce {
        Some(nonce) if !state.nonce_valid(&nonce, now_ms) => {
            Err(ResourceError::UseDpopNonce(state.current_nonce(now_ms)))
        }
        _ => Ok(()),
    }
}

/// The app and its bucket share when `authorization` carries one of its
/// access tokens (checked properly later; this only picks the rate-limit counter).
pub(crate) fn rate_share(state: &OAuthState, authorization: Option<&str>) -> Option<(String, u32)> {
    let (_, token) = presented(authorization)?;
    let client_id = &state.token(token)?.client_id;
    let app = state.app(client_id)?;
    Some((app.client_id.clone(), app.rate_limit_percent))
}
