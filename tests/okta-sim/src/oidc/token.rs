//! `POST /oauth2/v1/token` with `grant_type=authorization_code`: client
//! authentication (`client_secret_basic`, `client_secret_post`, or `none` for a
//! public client), then the code: single use, bound to its client, redirect URI
//! and PKCE challenge.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::Utc;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::errors::CodeGrantError;
use super::idtoken::{self, IdTokenInput};
use super::state::{AuthCode, OidcState, UserToken};
use super::{OidcClient, OidcFault, OidcRequest};
use crate::org::Org;
use crate::reply::Reply;

/// The form of a code exchange.
#[derive(Default)]
struct Form {
    client_id: Option<String>,
    client_secret: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
}

impl Form {
    fn parse(body: &[u8]) -> Form {
        let mut form = Form::default();
        crate::oauth::token::read_form(
            body,
            &mut [
                ("client_id", &mut form.client_id),
                ("client_secret", &mut form.client_secret),
                ("code", &mut form.code),
                ("redirect_uri", &mut form.redirect_uri),
                ("code_verifier", &mut form.code_verifier),
            ],
        );
        form
    }
}

/// Whether a token request's body asks for the authorization code grant.
pub(crate) fn is_code_grant(body: &[u8]) -> bool {
    url::form_urlencoded::parse(body).any(|(k, v)| k == "grant_type" && v == "authorization_code")
}

/// Answers a code exchange.
pub(crate) fn handle(
    state: &mut OidcState,
    org: &Org,
    origin: &str,
    req: &OidcRequest<'_>,
) -> Reply {
    if req.method != "POST" {
        return Reply::method_not_allowed("POST");
    }
    exchange(state, org, origin, req).unwrap_or_else(|e| e.reply())
}

fn exchange(
    state: &mut OidcState,
    org: &Org,
    origin: &str,
    req: &OidcRequest<'_>,
) -> Result<Reply, CodeGrantError> {
    let form = Form::parse(req.body);
    let client = authenticate(state, &form, req.authorization)?;
    let code = form.code.as_deref().ok_or(CodeGrantError::MissingCode)?;
    let redirect_uri = form
        .redirect_uri
        .as_deref()
        .ok_or(CodeGrantError::MissingRedirectUri)?;
    let code = state
        .take_code(code)
        .filter(|c| c.client_id == client.client_id && c.expires_at > Utc::now().timestamp())
        .ok_or(CodeGrantError::InvalidCode)?;
    if state.faults.on(&client.client_id, OidcFault::CodeReplayed) {
        return Err(CodeGrantError::InvalidCode);
    }
    if code.redirect_uri != redirect_uri {
        return Err(CodeGrantError::RedirectMismatch);
    }
    check_pkce(&code, form.code_verifier.as_deref())?;
    let user = org.user(&code.user_id).filter(|u| u.status == "ACTIVE");
    let user = user.ok_or(CodeGrantError::UserInactive)?;
    let now = Utc::now().timestamp();
    let lifetime = state.config.token_lifetime.as_secs().max(1);
    let access_token = super::random_token(48);
    let id_token = idtoken::mint(
        state,
        &IdTokenInput {
            code: &code,
            user,
            issuer: origin,
            access_token: &access_token,
            now,
        },
    );
    state.tokens.insert(
        access_token.clone(),
        UserToken {
            user_id: user.id.clone(),
            scopes: code.scopes.clone(),
            expires_at: now + lifetime as i64,
        },
    );
    let body = json!({
        "token_type": "Bearer",
        "expires_in": lifetime,
        "access_token": access_token,
        "scope": code.scopes.join(" "),
        "id_token": id_token,
    });
    Ok(Reply::json(200, body.to_string())
        .with_header("cache-control", "no-store".into())
        .with_header("pragma", "no-cache".into()))
}

/// The client: by `Authorization: Basic` (`client_secret_basic`), by
/// `client_id` + `client_secret` in the body (`client_secret_post`), or by
/// `client_id` alone for a public client.
fn authenticate(
    state: &OidcState,
    form: &Form,
    authorization: Option<&str>,
) -> Result<OidcClient, CodeGrantError> {
    let basic = authorization
        .and_then(|a| a.strip_prefix("Basic "))
        .map(basic_credentials);
    let (client_id, secret) = match (basic, &form.client_secret) {
        (Some(_), Some(_)) => return Err(CodeGrantError::MultipleCredentials),
        (Some(creds), None) => creds.ok_or(CodeGrantError::NoClientAuth)?,
        (None, secret) => {
            let id = form.client_id.clone().ok_or(CodeGrantError::NoClientAuth)?;
            (id, secret.clone())
        }
    };
    let client = state
        .client(&client_id)
        .ok_or(CodeGrantError::UnknownClient)?;
    match (&client.client_secret, secret) {
        (None, _) => Ok(client.clone()),
        (Some(_), None) => Err(CodeGrantError::NoClientAuth),
        (Some(expected), Some(given)) if *expected == given => Ok(client.clone()),
        (Some(_), Some(_)) => Err(CodeGrantError::BadSecret),
    }
}

/// `client_id` and secret from a Basic header's value (each form-urlencoded, RFC
/// 6749 §2.3.1).
fn basic_credentials(value: &str) -> Option<(String, Option<String>)> {
    let decoded = STANDARD.decode(value.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    Some((unescape(id), Some(unescape(secret))))
}

/// RFC 7636 §4.6: base64url(SHA-256(verifier)) must be the code's challenge.
fn check_pkce(code: &AuthCode, verifier: Option<&str>) -> Result<(), CodeGrantError> {
    match (&code.code_challenge, verifier) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(CodeGrantError::MissingVerifier),
        (None, Some(_)) => Err(CodeGrantError::PkceFailed),
        (Some(challenge), Some(verifier)) => {
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if computed == *challenge {
                Ok(())
            } else {
                Err(CodeGrantError::PkceFailed)
            }
        }
    }
}
