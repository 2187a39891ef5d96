//! The relying party of the OIDC tests: authorize URLs with PKCE, the login form
//! read and posted as a browser would, code exchanges, and ID tokens verified
//! with `jsonwebtoken` against the simulator's JWKS.

use std::net::SocketAddr;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Resp, enc, request, send};

pub const ISSUER: &str = "https://acme.okta.com";
pub const WEB: &str = "0oaWebApp";
pub const SECRET: &str = "web-app-secret";
pub const SPA: &str = "0oaSpaApp";
pub const CALLBACK: &str = "https://jira.example.com/plugins/servlet/okta/callback";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K1-dBjftJeZ4CVP-mJ92K1-dBjftJeZ4CVP";

/// base64url(SHA-256(verifier)).
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The authorize request of `client` with PKCE (S256 of [`VERIFIER`]), scopes
/// `openid profile email`, state `st-1` and nonce `n-1`, with `extra` pairs
/// replacing or adding parameters (an empty value drops one).
pub fn authorize_target(client: &str, extra: &[(&str, &str)]) -> String {
    let challenge = challenge(VERIFIER);
    let mut params: Vec<(&str, &str)> = vec![
        ("client_id", client),
        ("response_type", "code"),
        ("scope", "openid profile email"),
        ("redirect_uri", CALLBACK),
        ("state", "st-1"),
        ("nonce", "n-1"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        params.retain(|(name, _)| name != k);
        if !v.is_empty() {
            params.push((k, v));
        }
    }
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    format!("/oauth2/v1/authorize?{}", query.join("&"))
}

/// `GET target`.
pub fn get(addr: SocketAddr, target: &str) -> Resp {
    request(addr, "GET", target, &[])
}

/// `POST path` with a form body and these headers.
pub fn post_form(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    form: &[(&str, &str)],
) -> Resp {
    let body: Vec<String> = form
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    let mut headers = headers.to_vec();
    headers.push(("Content-Type", "application/x-www-form-urlencoded"));
    send(addr, "POST", path, &headers, body.join("&").as_bytes())
}

/// The `name`/`value` pairs of the hidden inputs of an HTML page, unescaped.
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let attr = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let len = tag[start..].find('"')?;
        Some(unescape(&tag[start..start + len]))
    };
    html.split("<input")
        .skip(1)
        .map(|t| &t[..t.find('>').unwrap_or(t.len())])
        .filter(|t| t.contains("type=\"hidden\""))
        .filter_map(|t| Some((attr(t, "name")?, attr(t, "value")?)))
        .collect()
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Posts the login form of `page` (a 200 from authorize) with these credentials,
/// as a browser submitting it would.
pub fn submit_login(addr: SocketAddr, page: &Resp, username: &str, password: &str) -> Resp {
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("action=\"/oauth2/v1/authorize\""),
        "{}",
        page.body
    );
    let mut form = hidden_inputs(&page.body);
    form.push(("username".into(), username.into()));
    form.push(("password".into(), password.into()));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    post_form(addr, "/oauth2/v1/authorize", &[], &form)
}

/// The query parameters of a 302's `Location`, after checking it goes to `CALLBACK`.
pub fn redirect_params(r: &Resp) -> Vec<(String, String)> {
    assert_eq!(r.status, 302, "{}", r.body);
    let location = url::Url::parse(r.header("location").unwrap()).unwrap();
    let base = format!(
        "{}{}",
        location.origin().ascii_serialization(),
        location.path()
    );
    assert_eq!(base, CALLBACK);
    location
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The value of `name` in `pairs`.
pub fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Signs `login` in through the form of `client`'s authorize request; the code.
pub fn login_code(addr: SocketAddr, client: &str, login: &str, password: &str) -> String {
    let page = get(addr, &authorize_target(client, &[]));
    let back = redirect_params(&submit_login(addr, &page, login, password));
    assert_eq!(param(&back, "state"), Some("st-1"));
    param(&back, "code").expect("a code").to_string()
}

/// `Authorization: Basic` for `client_secret_basic`.
pub fn basic(client: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{client}:{secret}")))
}

/// Exchanges `code` as [`WEB`] with `client_secret_basic` and [`VERIFIER`].
pub fn exchange(addr: SocketAddr, code: &str) -> Resp {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
    ];
    post_form(
        addr,
        "/oauth2/v1/token",
        &[("Authorization", &basic(WEB, SECRET))],
        &form,
    )
}

/// The JWKS the simulator publishes.
pub fn jwks(addr: SocketAddr) -> JwkSet {
    serde_json::from_str(&get(addr, "/oauth2/v1/keys").body).unwrap()
}

/// Verifies an ID token as a relying party must (RS256, `kid` in the JWKS,
/// signature, `iss`, `aud` = `client`, `exp`, `iat` not in the future, `nonce`);
/// the claims, or what was wrong.
pub fn verify_id_token(
    addr: SocketAddr,
    token: &str,
    client: &str,
    nonce: &str,
) -> Result<Value, String> {
    verify_id_token_of(addr, ISSUER, token, client, nonce)
}

/// [`verify_id_token`] for a simulator whose issuer is `issuer`.
pub fn verify_id_token_of(
    addr: SocketAddr,
    issuer: &str,
    token: &str,
    client: &str,
    nonce: &str,
) -> Result<Value, String> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    let kid = header.kid.ok_or("no kid")?;
    let keys = jwks(addr);
    let jwk = keys.find(&kid).ok_or("unknown kid")?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[client]);
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map_err(|e| format!("{:?}", e.kind()))?
        .claims;
    let now = chrono::Utc::now().timestamp();
    if claims["iat"].as_i64().ok_or("no iat")? > now + 60 {
        return Err("iat in the future".into());
    }
    if claims["nonce"].as_str() != Some(nonce) {
        return Err("nonce".into());
    }
    Ok(claims)
}
