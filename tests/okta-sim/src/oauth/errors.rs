//! The OAuth failures and the responses Okta gives for them.
//!
//! The token endpoint answers RFC 6749 §5.2 bodies (`{"error", "error_description"}`);
//! the Management API answers its own `E0000…` bodies plus a `WWW-Authenticate`
//! challenge (RFC 6750 §3, RFC 9449 §7.1). Descriptions quoted from Okta are marked
//! in the README; the others are best guesses in Okta's style.

use serde_json::json;

use crate::reply::Reply;

/// Why a client assertion (`private_key_jwt`) was refused: 401 `invalid_client`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClientAuthFailure {
    /// No `client_assertion` (nor any other client authentication).
    #[error(
        "Client authentication failed. Either the client or the client credentials are invalid."
    )]
    Missing,
    /// `client_assertion_type` is not the JWT-bearer URN.
    #[error("The client_assertion_type is invalid.")]
    AssertionType,
    /// Not a compact JWS with JSON header and claims.
    #[error("The client_assertion is not a valid JWT.")]
    Malformed,
    /// `sub` names no registered app.
    #[error("Invalid value for 'client_id' parameter.")]
    UnknownClient,
    /// `iss` and `sub` are not both the client id.
    #[error("The 'iss' and 'sub' claims of the client_assertion must both be the client_id.")]
    IssuerSubject,
    /// No key of the app has the header's `kid` (or no `kid` and several keys).
    #[error("The client_assertion JWT kid is invalid.")]
    Kid,
    /// `alg` is not RS256/384/512 or ES256/384, or does not fit the key.
    #[error("The client_assertion JWT alg is not supported for the client's key.")]
    Alg,
    /// The signature does not verify with the app's key.
    #[error("The client_assertion signature is invalid.")]
    Signature,
    /// `aud` is not the token endpoint's URL.
    #[error(
        "The audience claim for client_assertion must be the endpoint invoked for the request."
    )]
    Audience,
    /// No `exp`.
    #[error("The client_assertion token must have an expiration claim.")]
    MissingExp,
    /// `exp` has passed.
    #[error("The client_assertion token is expired.")]
    Expired,
    /// `exp` more than one hour after `iat` (or after now, without `iat`).
    #[error("The client_assertion token has an expiration too far in the future.")]
    ExpTooFar,
    /// The `jti` was seen before (Okta consumes it on every token request, even one
    /// answered `use_dpop_nonce`).
    #[error("The client_assertion token has already been used.")]
    Replayed,
}

/// Why a DPoP proof was refused: `invalid_dpop_proof`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofFailure {
    /// No `DPoP` header where one is required.
    #[error("The DPoP proof JWT header is missing.")]
    Missing,
    /// Not a compact JWS with JSON header and claims, or several `DPoP` headers.
    #[error("The DPoP proof JWT is malformed.")]
    Malformed,
    /// `typ` is not `dpop+jwt`.
    #[error("'typ' header in the DPoP proof JWT is invalid.")]
    Typ,
    /// `alg` is not an asymmetric algorithm fitting the `jwk`.
    #[error("'alg' header in the DPoP proof JWT is invalid.")]
    Alg,
    /// No `jwk`, or not an RSA / EC public key.
    #[error("'jwk' header in the DPoP proof JWT is invalid.")]
    Jwk,
    /// The signature does not verify with the embedded `jwk`.
    #[error("The DPoP proof JWT signature is invalid.")]
    Signature,
    /// `htm` is not the request's method.
    #[error("'htm' claim in the DPoP proof JWT is invalid.")]
    Htm,
    /// `htu` is not the request's URL (query and fragment ignored).
    #[error("'htu' claim in the DPoP proof JWT is invalid.")]
    Htu,
    /// `iat` missing or outside the accepted window.
    #[error("'iat' claim in the DPoP proof JWT is invalid.")]
    Iat,
    /// `jti` missing.
    #[error("'jti' claim in the DPoP proof JWT is invalid.")]
    Jti,
    /// `jti` seen before.
    #[error("'jti' claim in the DPoP proof JWT has already been used.")]
    Replayed,
    /// `ath` missing or not base64url(SHA-256(access token)).
    #[error("'ath' claim in the DPoP proof JWT is invalid.")]
    Ath,
    /// The proof's key is not the one the access token is bound to.
    #[error("The DPoP proof JWT key does not match the access token's key binding.")]
    KeyBinding,
}

/// A refusal at `POST /oauth2/v1/token`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// 400 `invalid_request`: a required parameter is missing.
    #[error("{0}")]
    InvalidRequest(&'static str),
    /// 400 `unsupported_grant_type`: anything but `client_credentials`.
    #[error(
        "The authorization grant type is not supported by the authorization server. Configured grant types: [client_credentials]."
    )]
    UnsupportedGrantType,
    /// 401 `invalid_client`.
    #[error(transparent)]
    InvalidClient(ClientAuthFailure),
    /// 400 `invalid_scope`: no `scope` parameter.
    #[error(
        "The authorization server resource does not have any configured default scopes, 'scope' must be provided."
    )]
    MissingScope,
    /// 400 `invalid_scope`: a scope not granted to the app.
    #[error("The following scopes are not granted to the client: {0}.")]
    ScopeNotGranted(String),
    /// 400 `invalid_dpop_proof`.
    #[error(transparent)]
    InvalidDpopProof(ProofFailure),
    /// 400 `use_dpop_nonce` with this nonce in `DPoP-Nonce`.
    #[error("Authorization server requires nonce in DPoP proof.")]
    UseDpopNonce(String),
}

impl TokenError {
    /// The OAuth `error` code.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::InvalidRequest(_) => "invalid_request",
            TokenError::UnsupportedGrantType => "unsupported_grant_type",
            TokenError::InvalidClient(_) => "invalid_client",
            TokenError::MissingScope | TokenError::ScopeNotGranted(_) => "invalid_scope",
            TokenError::InvalidDpopProof(_) => "invalid_dpop_proof",
            TokenError::UseDpopNonce(_) => "use_dpop_nonce",
        }
    }

    /// The response: 401 for client authentication, 400 otherwise.
    pub(crate) fn reply(&self) -> Reply {
        let status = match self {
            TokenError::InvalidClient(_) => 401,
            _ => 400,
        };
        let body = json!({ "error": self.code(), "error_description": self.to_string() });
        let reply = Reply::json(status, body.to_string());
        match self {
            TokenError::UseDpopNonce(nonce) => reply.with_header("dpop-nonce", nonce.clone()),
            _ => reply,
        }
    }
}

/// A refusal of a Management API request made with an access token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResourceError {
    /// 401 E0000011: no such access token.
    #[error("The access token is invalid.")]
    InvalidToken,
    /// 401 E0000011: the token's lifetime is over.
    #[error("The token has expired.")]
    Expired,
    /// 401 E0000011: a DPoP-bound token sent as `Bearer`, or a Bearer token as `DPoP`.
    #[error("The access token was presented with the wrong authorization scheme.")]
    WrongScheme,
    /// 400 `invalid_dpop_proof`.
    #[error(transparent)]
    Proof(ProofFailure),
    /// 401 `use_dpop_nonce`: the proof carries a nonce the server does not know.
    #[error("Resource server requires nonce in DPoP proof.")]
    UseDpopNonce(String),
    /// 403 E0000006 with `insufficient_scope`: the token lacks this scope.
    #[error("The access token provided does not contain the required scopes.")]
    InsufficientScope(&'static str),
    /// 403 E0000006: the app has no admin role.
    #[error("You do not have permission to perform the requested action")]
    NoAdminRole,
}

/// Where a resource error happened, for its `WWW-Authenticate` challenge.
pub(crate) struct Challenge<'a> {
    /// `DPoP` or `Bearer`: the scheme of the presented token.
    pub scheme: &'a str,
    /// The org's public origin.
    pub origin: &'a str,
    /// The request path.
    pub path: &'a str,
    /// The scope the endpoint requires, if any.
    pub scope: Option<&'static str>,
}

impl ResourceError {
    /// The OAuth error named in `WWW-Authenticate`, if any.
    fn oauth_error(&self) -> Option<&'static str> {
        match self {
            ResourceError::InvalidToken | ResourceError::Expired | ResourceError::WrongScheme => {
                Some("invalid_token")
            }
            ResourceError::Proof(_) => Some("invalid_dpop_proof"),
            ResourceError::UseDpopNonce(_) => Some("use_dpop_nonce"),
            ResourceError::InsufficientScope(_) => Some("insufficient_scope"),
            ResourceError::NoAdminRole => None,
        }
    }

    /// The response, with Okta's challenge header (`authorization_uri`, `realm`,
    /// `scope`, `error`, `error_description`, `resource`, as in Okta's
    /// insufficient-scope support article; `algs` for DPoP per RFC 9449).
    pub(crate) fn reply(&self, at: &Challenge<'_>) -> Reply {
        let reply = match self {
            ResourceError::InvalidToken | ResourceError::Expired | ResourceError::WrongScheme => {
                Reply::invalid_token()
            }
            ResourceError::Proof(_) | ResourceError::UseDpopNonce(_) => {
                let status = if matches!(self, ResourceError::Proof(_)) {
                    400
                } else {
                    401
                };
                let code = self.oauth_error().unwrap_or_default();
                let body = json!({ "error": code, "error_description": self.to_string() });
                Reply::json(status, body.to_string())
            }
            ResourceError::InsufficientScope(_) | ResourceError::NoAdminRole => Reply::forbidden(),
        };
        let reply = match self {
            ResourceError::UseDpopNonce(nonce) => reply.with_header("dpop-nonce", nonce.clone()),
            _ => reply,
        };
        match self.oauth_error() {
            Some(error) => reply.with_header("www-authenticate", self.challenge(error, at)),
            None => reply,
        }
    }

    fn challenge(&self, error: &str, at: &Challenge<'_>) -> String {
        let scope = match self {
            ResourceError::InsufficientScope(scope) => Some(*scope),
            _ => at.scope,
        };
        let mut params = vec![
            format!("authorization_uri=\"{}/oauth2/v1/authorize\"", at.origin),
            format!("realm=\"{}\"", at.origin),
        ];
        if at.scheme == "DPoP" {
            params.push(format!("algs=\"{}\"", super::jose::ALG_NAMES));
        }
        params.extend(scope.map(|s| format!("scope=\"{s}\"")));
        params.push(format!("error=\"{error}\""));
        params.push(format!("error_description=\"{self}\""));
        params.push(format!("resource=\"{}\"", at.path));
        format!("{} {}", at.scheme, params.join(", "))
    }
}
