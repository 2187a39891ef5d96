//! The OIDC failures and Okta's answers for them.
//!
//! At `/oauth2/v1/authorize`, a bad client or redirect URI is shown on an error
//! page (never redirected: the redirect URI cannot be trusted); every other error
//! goes back to the redirect URI as `error` and `error_description` (RFC 6749
//! §4.1.2.1). At the token endpoint the body is RFC 6749 §5.2's, except an
//! unknown client id, which Okta answers with its own error object.

use serde_json::json;

use crate::ids;
use crate::reply::Reply;

/// A refusal at `/oauth2/v1/authorize`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizeError {
    /// Error page, 400: no `client_id`, or no such OIDC app.
    #[error("Invalid value for 'client_id' parameter.")]
    InvalidClient,
    /// Error page, 400: `redirect_uri` missing or not a sign-in redirect URI.
    #[error(
        "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings."
    )]
    RedirectUri,
    /// Redirected `unsupported_response_type`: not `code`.
    #[error(
        "The response type is not supported by the authorization server. Configured response types: [code]."
    )]
    ResponseType,
    /// Redirected `invalid_scope`: no `scope`.
    #[error(
        "The authorization server resource does not have any configured default scopes, 'scope' must be provided."
    )]
    MissingScope,
    /// Redirected `invalid_scope`: no `openid` among the scopes.
    #[error("The 'openid' scope is required.")]
    NoOpenid,
    /// Redirected `invalid_scope`: a scope the org authorization server does not have.
    #[error("One or more scopes are not configured for the authorization server resource.")]
    UnknownScope,
    /// Redirected `invalid_request`: no `state`.
    #[error("The 'state' parameter is required.")]
    MissingState,
    /// Redirected `invalid_request`: PKCE required and no `code_challenge`.
    #[error("PKCE code challenge is required by the application.")]
    PkceRequired,
    /// Redirected `invalid_request`: `code_challenge_method` missing or not `S256`.
    #[error("Invalid value for 'code_challenge_method' parameter.")]
    ChallengeMethod,
    /// Redirected `invalid_request`: a `code_challenge` that is not 43 base64url characters.
    #[error("Invalid value for 'code_challenge' parameter.")]
    Challenge,
    /// Redirected `login_required`: `prompt=none` and nobody signed in.
    #[error("The client specified not to prompt, but the user is not logged in.")]
    LoginRequired,
}

impl AuthorizeError {
    /// The OAuth `error` code.
    pub fn code(&self) -> &'static str {
        match self {
            AuthorizeError::InvalidClient => "invalid_client",
            AuthorizeError::RedirectUri => "invalid_request",
            AuthorizeError::ResponseType => "unsupported_response_type",
            AuthorizeError::MissingScope
            | AuthorizeError::NoOpenid
            | AuthorizeError::UnknownScope => "invalid_scope",
            AuthorizeError::LoginRequired => "login_required",
            _ => "invalid_request",
        }
    }

    /// Whether the error is shown on a page instead of redirected.
    pub fn shown_on_page(&self) -> bool {
        matches!(
            self,
            AuthorizeError::InvalidClient | AuthorizeError::RedirectUri
        )
    }
}

/// A refusal of `grant_type=authorization_code` at `POST /oauth2/v1/token`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodeGrantError {
    /// 401 Okta error object `invalid_client`: the `client_id` names no OIDC app.
    #[error("Invalid value for 'client_id' parameter.")]
    UnknownClient,
    /// 401 `invalid_client`: no client authentication (or only a `client_id` for a
    /// confidential client).
    #[error(
        "Client authentication failed. Either the client or the client credentials are invalid."
    )]
    NoClientAuth,
    /// 401 `invalid_client`: the secret is wrong.
    #[error("The client secret supplied for a confidential client is invalid.")]
    BadSecret,
    /// 401 `invalid_request`: credentials both in the header and the body.
    #[error(
        "Cannot supply multiple client credentials. Use one of the following: credentials in the Authorization header, credentials in the post body, or a client_assertion in the post body."
    )]
    MultipleCredentials,
    /// 400 `invalid_request`: no `code`.
    #[error("The 'code' parameter is required.")]
    MissingCode,
    /// 400 `invalid_request`: no `redirect_uri`.
    #[error("The 'redirect_uri' parameter is required.")]
    MissingRedirectUri,
    /// 400 `invalid_grant`: unknown, used, expired or another client's code.
    #[error("The authorization code is invalid or has expired.")]
    InvalidCode,
    /// 400 `invalid_grant`: not the authorize request's `redirect_uri`.
    #[error(
        "The 'redirect_uri' does not match the redirection URI used in the authorization request."
    )]
    RedirectMismatch,
    /// 400 `invalid_request`: the code has a challenge and no `code_verifier` came.
    #[error(
        "PKCE code verifier is required when the parameter code_challenge was provided in the authorize request."
    )]
    MissingVerifier,
    /// 400 `invalid_grant`: the verifier does not hash to the challenge (or a
    /// verifier came for a code without challenge).
    #[error("PKCE verification failed.")]
    PkceFailed,
    /// 400 `invalid_grant`: the user was suspended or deactivated after signing in.
    #[error("The authorization code is invalid or has expired.")]
    UserInactive,
}

impl CodeGrantError {
    /// The OAuth `error` code.
    pub fn code(&self) -> &'static str {
        match self {
            CodeGrantError::UnknownClient
            | CodeGrantError::NoClientAuth
            | CodeGrantError::BadSecret => "invalid_client",
            CodeGrantError::MultipleCredentials
            | CodeGrantError::MissingCode
            | CodeGrantError::MissingRedirectUri
            | CodeGrantError::MissingVerifier => "invalid_request",
            _ => "invalid_grant",
        }
    }

    /// The response: 401 for client authentication, 400 otherwise; an unknown
    /// client gets Okta's `errorCode` object (as Okta's support article shows it).
    pub(crate) fn reply(&self) -> Reply {
        let status = match self.code() {
            "invalid_client" => 401,
            _ if *self == CodeGrantError::MultipleCredentials => 401,
            _ => 400,
        };
        let body = match self {
            CodeGrantError::UnknownClient => json!({
                "errorCode": "invalid_client",
                "errorSummary": self.to_string(),
                "errorLink": "invalid_client",
                "errorId": ids::error_id(),
                "errorCauses": [],
            }),
            _ => json!({ "error": self.code(), "error_description": self.to_string() }),
        };
        Reply::json(status, body.to_string()).with_header("cache-control", "no-store".into())
    }
}
