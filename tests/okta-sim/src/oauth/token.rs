//! `POST /oauth2/v1/token`: the client-credentials grant with `private_key_jwt`
//! and DPoP.
//!
//! Order of the checks, as far as Okta's behaviour shows it: the grant type, the
//! client assertion (its `jti` is consumed even when the answer is a nonce
//! challenge, okta-sdk-python `oauth.py`), the DPoP proof and nonce, then the
//! scopes.

use serde_json::json;

use super::errors::{ClientAuthFailure, ProofFailure, TokenError};
use super::jose::{self, ProofTarget};
use super::state::OAuthState;
use super::{OAuthApp, TOKEN_PATH};
use crate::reply::Reply;

/// The `client_assertion_type` of `private_key_jwt` (RFC 7523).
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A token request as it arrived.
pub(crate) struct TokenRequest<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// The form-encoded body.
    pub body: &'a [u8],
    /// The values of the `DPoP` header (more than one is refused).
    pub dpop: &'a [String],
    /// The public origin of the org (`aud` and `htu` are on it).
    pub origin: &'a str,
    /// The simulated now (Unix ms): what the assertion's and proof's times are judged by.
    pub now_ms: i64,
}

/// The form parameters a token request may carry.
#[derive(Default)]
struct Form {
    grant_type: Option<String>,
    scope: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
}

impl Form {
    fn parse(body: &[u8]) -> Form {
        let mut form = Form::default();
        read_form(
            body,
            &mut [
                ("grant_type", &mut form.grant_type),
                ("scope", &mut form.scope),
                ("client_assertion_type", &mut form.client_assertion_type),
                ("client_assertion", &mut form.client_assertion),
            ],
        );
        form
    }
}

/// Fills each `(name, slot)` with the form field of that name (the last one wins;
/// other fields are ignored).
pub(crate) fn read_form(body: &[u8], slots: &mut [(&str, &mut Option<String>)]) {
    for (k, v) in url::form_urlencoded::parse(body) {
        if let Some((_, slot)) = slots.iter_mut().find(|(name, _)| *name == k) {
            **slot = Some(v.into_owned());
        }
    }
}

/// Answers a token request; counts it.
pub(crate) fn handle(state: &mut OAuthState, req: &TokenRequest<'_>) -> Reply {
    state.count_request();
    if req.method != "POST" {
        return Reply::method_not_allowed("POST");
    }
    match grant(state, req) {
        Ok(reply) => reply,
        Err(e) => e.reply(),
    }
}

fn grant(state: &mut OAuthState, req: &TokenRequest<'_>) -> Result<Reply, TokenError> {
    let now_ms = req.now_ms;
    let form = Form::parse(req.body);
    match form.grant_type.as_deref() {
        None => {
            return Err(TokenError::InvalidRequest(
                "The 'grant_type' parameter is required.",
            ));
        }
        Some("client_credentials") => {}
        Some(_) => return Err(TokenError::UnsupportedGrantType),
    }
    let token_url = format!("{}{TOKEN_PATH}", req.origin);
    let app = authenticate_client(state, &form, &token_url, now_ms)?;
    let jkt = check_dpop(state, &app, req, &token_url, now_ms)?;
    let scopes = granted_scopes(&app, form.scope.as_deref())?;
    let scope = scopes.join(" ");
    let token_type = if jkt.is_some() { "DPoP" } else { "Bearer" };
    let (token, expires_in) = state.issue(&app.client_id, scopes, jkt, now_ms);
    let body = json!({
        "token_type": token_type,
        "expires_in": expires_in,
        "access_token": token,
        "scope": scope,
    });
    Ok(Reply::json(200, body.to_string()))
}

/// The app the client assertion authenticates; consumes the assertion's `jti`.
fn authenticate_client(
    state: &mut OAuthState,
    form: &Form,
    token_url: &str,
    now_ms: i64,
) -> Result<OAuthApp, TokenError> {
    let fail = TokenError::InvalidClient;
    let Some(assertion) = form.client_assertion.as_deref() else {
        return Err(fail(match form.client_assertion_type {
            Some(_) => ClientAuthFailure::Malformed,
            None => ClientAuthFailure::Missing,
        }));
    };
    if form.client_assertion_type.as_deref() != Some(JWT_BEARER) {
        return Err(fail(ClientAuthFailure::AssertionType));
    }
    let client_id = jose::assertion_subject(assertion).map_err(fail)?;
    let app = state
        .app(&client_id)
        .cloned()
        .ok_or(fail(ClientAuthFailure::UnknownClient))?;
    let jti = jose::verify_assertion(&app, assertion, token_url, now_ms / 1000).map_err(fail)?;
    if let Some(jti) = jti
        && !state.first_assertion_use(&jti, now_ms)
    {
        return Err(fail(ClientAuthFailure::Replayed));
    }
    Ok(app)
}

/// The thumbprint to bind the token to: `None` without a proof (allowed only when
/// the app does not require DPoP). A proof without a valid nonce gets the
/// `use_dpop_nonce` challenge.
fn check_dpop(
    state: &mut OAuthState,
    app: &OAuthApp,
    req: &TokenRequest<'_>,
    token_url: &str,
    now_ms: i64,
) -> Result<Option<String>, TokenError> {
    let invalid = TokenError::InvalidDpopProof;
    let proof = match req.dpop {
        [] if app.dpop_required => return Err(invalid(ProofFailure::Missing)),
        [] => return Ok(None),
        [proof] => proof,
        _ => return Err(invalid(ProofFailure::Malformed)),
    };
    let target = ProofTarget {
        method: "POST",
        url: token_url,
        now: now_ms / 1000,
        iat_window: state.config().dpop_iat_window.as_secs() as i64,
    };
    let proof = jose::verify_proof(proof, &target).map_err(invalid)?;
    if !state.first_proof_use(&proof.jti, now_ms) {
        return Err(invalid(ProofFailure::Replayed));
    }
    match proof.nonce {
        Some(nonce) if state.nonce_valid(&nonce, now_ms) => Ok(Some(proof.jkt)),
        _ => Err(TokenError::UseDpopNonce(state.current_nonce(now_ms))),
    }
}

/// The requested scopes, all of which must be granted to the app (Okta scopes
/// have no defaults: `scope` is required).
fn granted_scopes(app: &OAuthApp, scope: Option<&str>) -> Result<Vec<String>, TokenError> {
    let requested: Vec<String> = scope
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    if requested.is_empty() {
        return Err(TokenError::MissingScope);
    }
    let refused: Vec<&str> = requested
        .iter()
        .filter(|s| !app.scopes.contains(s))
        .map(String::as_str)
        .collect();
    if !refused.is_empty() {
        return Err(TokenError::ScopeNotGranted(refused.join(" ")));
    }
    Ok(requested)
}
