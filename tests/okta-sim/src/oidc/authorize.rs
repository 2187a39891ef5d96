//! `/oauth2/v1/authorize`: the request's checks in Okta's order (client and
//! redirect URI on an error page; the rest redirected), the sign-in (form,
//! `login_hint` or a user signed in by the test), then the redirect with `code`
//! and `state`.

use chrono::Utc;

use super::errors::AuthorizeError;
use super::page;
use super::state::{AuthCode, OidcState};
use super::{OidcClient, OidcFault, OidcLogin, OidcRequest};
use crate::org::{OktaUser, Org};
use crate::reply::Reply;

/// The scopes of the org authorization server an OIDC app may ask for (besides
/// `okta.*` Management API scopes).
const OIDC_SCOPES: [&str; 7] = [
    "openid",
    "profile",
    "email",
    "address",
    "phone",
    "offline_access",
    "groups",
];

/// The refusal shown (401, form again) for a wrong password, an unknown user and
/// one who may not sign in (SUSPENDED, DEPROVISIONED, STAGED, …): Okta Identity
/// Engine's sign-in widget says the same for all, telling nothing about the account.
pub const UNABLE_TO_SIGN_IN: &str = "Unable to sign in";

/// The authorize request's parameters (query for GET, form body for POST).
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(req: &OidcRequest<'_>) -> Params {
        let query = url::form_urlencoded::parse(req.query.unwrap_or_default().as_bytes());
        let body = url::form_urlencoded::parse(if req.method == "POST" { req.body } else { b"" });
        Params(
            query
                .chain(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn scopes(&self) -> Vec<String> {
        let scope = self.get("scope").unwrap_or_default();
        scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    }

    /// The parameters the form carries on (all but the credentials).
    fn hidden(&self) -> Vec<(&str, &str)> {
        let kept = self
            .0
            .iter()
            .filter(|(k, _)| k != "username" && k != "password");
        kept.map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }
}

/// Answers an authorize request.
pub(crate) fn handle(state: &mut OidcState, org: &Org, req: &OidcRequest<'_>) -> Reply {
    if req.method != "GET" && req.method != "POST" {
        return Reply::method_not_allowed("GET, POST");
    }
    let params = Params::parse(req);
    let client = match known_client(state, &params) {
        Ok(client) => client,
        Err(e) => return page::error_page(&e.to_string(), e.code()),
    };
    let redirect_uri = params.get("redirect_uri").unwrap_or_default().to_string();
    let state_param = params.get("state").map(str::to_string);
    let back = |pairs: &[(&str, &str)]| redirect(&redirect_uri, pairs, state_param.as_deref());
    if let Err(e) = check_request(&client, &params) {
        return back(&[("error", e.code()), ("error_description", &e.to_string())]);
    }
    let user = match sign_in(state, org, &params) {
        SignIn::User(user) => user,
        SignIn::Form { status, error } => {
            let username = params.get("username").unwrap_or_default();
            return page::login_form(status, &params.hidden(), username, error);
        }
        SignIn::Refused(e) => {
            return back(&[("error", e.code()), ("error_description", &e.to_string())]);
        }
    };
    let now = Utc::now().timestamp();
    let code = state.issue_code(AuthCode {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.clone(),
        code_challenge: params.get("code_challenge").map(str::to_string),
        user_id: user.id.clone(),
        nonce: params.get("nonce").map(str::to_string),
        scopes: params.scopes(),
        auth_time: now,
        expires_at: now + state.config.code_lifetime.as_secs() as i64,
    });
    let tampered = state.faults.on(&client.client_id, OidcFault::StateMismatch);
    let returned_state =
        tampered.then(|| format!("{}-tampered", state_param.as_deref().unwrap_or_default()));
    redirect(
        &redirect_uri,
        &[("code", &code)],
        returned_state.as_deref().or(state_param.as_deref()),
    )
}

/// The client, if `client_id` names one and `redirect_uri` is one of its sign-in
/// redirect URIs (else the error page: the redirect URI cannot be trusted).
fn known_client(state: &OidcState, params: &Params) -> Result<OidcClient, AuthorizeError> {
    let client = params.get("client_id").and_then(|id| state.client(id));
    let client = client.ok_or(AuthorizeError::InvalidClient)?;
    match params.get("redirect_uri") {
        Some(uri) if client.allows_redirect(uri) => Ok(client.clone()),
        _ => Err(AuthorizeError::RedirectUri),
    }
}

/// The checks whose failures are redirected: response type, scopes, state, PKCE.
fn check_request(client: &OidcClient, params: &Params) -> Result<(), AuthorizeError> {
    if params.get("response_type") != Some("code") {
        return Err(AuthorizeError::ResponseType);
    }
    let scopes = params.scopes();
    if scopes.is_empty() {
        return Err(AuthorizeError::MissingScope);
    }
    let known = |s: &String| OIDC_SCOPES.contains(&s.as_str()) || s.starts_with("okta.");
    if !scopes.iter().all(known) {
        return Err(AuthorizeError::UnknownScope);
    }
    if !scopes.iter().any(|s| s == "openid") {
        return Err(AuthorizeError::NoOpenid);
    }
    if params.get("state").is_none_or(str::is_empty) {
        return Err(AuthorizeError::MissingState);
    }
    match params.get("code_challenge") {
        None if client.pkce_required => Err(AuthorizeError::PkceRequired),
        None => Ok(()),
        Some(_) if params.get("code_challenge_method") != Some("S256") => {
            Err(AuthorizeError::ChallengeMethod)
        }
        Some(c) if c.len() != 43 || !c.bytes().all(is_base64url) => Err(AuthorizeError::Challenge),
        Some(_) => Ok(()),
    }
}

fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// The outcome of the sign-in step.
enum SignIn<'o> {
    /// Signed in.
    User(&'o OktaUser),
    /// The form (again), with this status and refusal message.
    Form {
        status: u16,
        error: Option<&'static str>,
    },
    /// Redirected with an error (`prompt=none` and nobody signed in).
    Refused(AuthorizeError),
}

/// Who signs in: the form's credentials when posted, else the test's sign-in
/// mode ([`OidcLogin`]), else nobody yet (the form, or `login_required` for
/// `prompt=none`).
fn sign_in<'o>(state: &OidcState, org: &'o Org, params: &Params) -> SignIn<'o> {
    if let Some(username) = params.get("username") {
        let password = params.get("password").unwrap_or_default();
        let user = org
            .user_by_login(username)
            .filter(|_| state.password_matches(username, password));
        return admit(user);
    }
    let auto = match &state.login {
        // `prompt=login` asks for the credentials again, whoever is signed in.
        _ if params.get("prompt") == Some("login") => None,
        OidcLogin::As(login) => Some(login.as_str()),
        OidcLogin::LoginHint => params.get("login_hint"),
        OidcLogin::Form => None,
    };
    match auto {
        Some(login) => admit(org.user_by_login(login)),
        None if params.get("prompt") == Some("none") => {
            SignIn::Refused(AuthorizeError::LoginRequired)
        }
        None => SignIn::Form {
            status: 200,
            error: None,
        },
    }
}

/// An ACTIVE user signs in; anyone else sees the form again with Okta's refusal.
fn admit(user: Option<&OktaUser>) -> SignIn<'_> {
    let refusal = match user.map(|u| u.status.as_str()) {
        Some("ACTIVE") => return SignIn::User(user.expect("a user")),
        Some("LOCKED_OUT") => "Your account is locked. Please contact your administrator.",
        Some("PASSWORD_EXPIRED") => "Your password has expired. Please contact your administrator.",
        _ => UNABLE_TO_SIGN_IN,
    };
    SignIn::Form {
        status: 401,
        error: Some(refusal),
    }
}

/// 302 to `uri` with `pairs` and `state` added to its query.
fn redirect(uri: &str, pairs: &[(&str, &str)], state: Option<&str>) -> Reply {
    let location = match url::Url::parse(uri) {
        Ok(mut url) => {
            let mut query = url.query_pairs_mut();
            query.extend_pairs(pairs);
            query.extend_pairs(state.map(|s| ("state", s)));
            drop(query);
            url.to_string()
        }
        Err(_) => uri.to_string(),
    };
    Reply {
        content_type: "text/html; charset=utf-8",
        ..Reply::json(302, String::new())
    }
    .with_header("location", location)
}
