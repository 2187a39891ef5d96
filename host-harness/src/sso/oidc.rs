//! The OpenID Connect relying party against an Okta org's authorization server:
//! discovery, the authorize URL (code flow with PKCE, `state`, `nonce`), the code
//! exchange (`client_secret_basic`) and the ID token's verification with
//! `jsonwebtoken`: RS256 by a key of the org's JWKS (an unknown `kid` fetches the JWKS
//! once more: Okta rotates its keys), `iss`, `aud`, `exp` and `iat` with a minute of
//! skew, and the `nonce` of the login.
//!
//! Every request goes to `https://{okta domain}` only (the discovery document's
//! endpoints must be on that host), through the harness's `--resolve` overrides, so
//! that the client secret reaches nowhere else.

use super::SsoError;
use crate::host::http::Resolve;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use http::{Method, Request, StatusCode, Uri};
use jsonwebtoken::errors::ErrorKind as JwtKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use wasmtime_wasi_http::RequestOptions;

/// Clock skew allowed on `exp` and `iat`.
pub const SKEW: Duration = Duration::from_secs(60);

/// How long a discovery document and a JWKS are used before they are fetched again.
const CACHED: Duration = Duration::from_secs(3600);

/// Timeouts of the host's requests to Okta during a login.
const TIMEOUTS: RequestOptions = RequestOptions {
    connect_timeout: Some(Duration::from_secs(10)),
    first_byte_timeout: Some(Duration::from_secs(15)),
    between_bytes_timeout: Some(Duration::from_secs(15)),
};

/// What the discovery document says (the parts used).
#[derive(Clone, Debug, Deserialize)]
pub struct Discovery {
    /// The issuer: `https://{okta domain}` for the org authorization server.
    pub issuer: String,
    /// Where the browser signs in.
    pub authorization_endpoint: String,
    /// The code exchange.
    pub token_endpoint: String,
    /// The signing keys.
    pub jwks_uri: String,
}

/// The claims of an ID token that a login reads.
#[derive(Clone, Debug, Deserialize)]
pub struct Claims {
    /// The Okta user id.
    pub sub: String,
    /// The Okta login (`profile` scope).
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// The email (`email` scope).
    #[serde(default)]
    pub email: Option<String>,
    /// The login's nonce.
    #[serde(default)]
    pub nonce: Option<String>,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires (Unix seconds).
    pub exp: i64,
}

/// What an ID token must be: from this issuer, for this client, with this nonce.
pub struct Expected<'a> {
    /// The issuer.
    pub issuer: &'a str,
    /// The client id (`aud`).
    pub client_id: &'a str,
    /// The nonce of the authorize request.
    pub nonce: &'a str,
}

/// The org's discovery documents and JWKS, cached per domain.
#[derive(Default)]
pub struct Providers {
    discovery: Mutex<HashMap<String, (Instant, Discovery)>>,
    keys: Mutex<HashMap<String, (Instant, JwkSet)>>,
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Providers")
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The URI to connect to for `url` on `domain` (a loopback override over http), or
/// why `url` may not be reached: another host than the org's, or not https.
pub fn route(url: &str, domain: &str, resolve: &Resolve) -> Result<Uri, SsoError> {
    let refused = || SsoError::OffHost(url.to_string());
    let uri: Uri = url.parse().map_err(|_| refused())?;
    let host = uri.host().unwrap_or_default().to_ascii_lowercase();
    if uri.scheme_str() != Some("https")
        || host != domain.to_ascii_lowercase()
        || uri.port_u16().is_some_and(|p| p != 443)
    {
        return Err(refused());
    }
    let Some(addr) = resolve.get(&host) else {
        return Ok(uri);
    };
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    format!("http://{addr}{path}")
        .parse()
        .map_err(|_| refused())
}

/// GET `url` of the org at `domain`: the body of a 200.
async fn get(url: &str, domain: &str, resolve: &Resolve) -> Result<Bytes, SsoError> {
    let uri = route(url, domain, resolve)?;
    let request = Request::get(uri)
        .header("accept", "application/json")
        .body(Bytes::new())
        .expect("a GET request");
    let unreachable = |e: String| SsoError::Unreachable {
        url: url.to_string(),
        reason: e,
    };
    let (status, _, body) = crate::host::oauth::send_whole(request, Some(TIMEOUTS))
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    if status != StatusCode::OK {
        return Err(unreachable(format!("it answered {status}")));
    }
    Ok(body)
}

impl Providers {
    /// The discovery document of the org at `domain` (cached an hour); its issuer must be
    /// `https://{domain}` and its endpoints on that host.
    pub async fn discovery(&self, domain: &str, resolve: &Resolve) -> Result<Discovery, SsoError> {
        if let Some((at, d)) = lock(&self.discovery).get(domain)
            && at.elapsed() < CACHED
        {
            return Ok(d.clone());
        }
        let url = format!("https://{domain}/.well-known/openid-configuration");
        let body = get(&url, domain, resolve).await?;
        let d: Discovery = serde_json::from_slice(&body).map_err(|e| SsoError::Unreachable {
            url: url.clone(),
            reason: format!("its answer is not a discovery document: {e}"),
        })?;
        let issuer = format!("https://{domain}");
        if d.issuer.trim_end_matches('/') != issuer {
            return Err(SsoError::DiscoveryIssuer {
                expected: issuer,
                got: d.issuer,
            });
        }
        for endpoint in [&d.authorization_endpoint, &d.token_endpoint, &d.jwks_uri] {
            route(endpoint, domain, resolve)?;
        }
        lock(&self.discovery).insert(domain.to_string(), (Instant::now(), d.clone()));
        Ok(d)
    }

    /// The JWKS of `d`, cached an hour, or fetched anew with `fresh`.
    async fn keys(
        &self,
        d: &Discovery,
        domain: &str,
        resolve: &Resolve,
        fresh: bool,
    ) -> Result<JwkSet, SsoError> {
        if !fresh
            && let Some((at, k)) = lock(&self.keys).get(domain)
            && at.elapsed() < CACHED
        {
            return Ok(k.clone());
        }
        let body = get(&d.jwks_uri, domain, resolve).await?;
        let keys: JwkSet = serde_json::from_slice(&body).map_err(|e| SsoError::Unreachable {
            url: d.jwks_uri.clone(),
            reason: format!("its answer is not a JWKS: {e}"),
        })?;
        lock(&self.keys).insert(domain.to_string(), (Instant::now(), keys.clone()));
        Ok(keys)
    }

    /// The ID token's claims once it is verified: signed RS256 by a key of the JWKS (an
    /// unknown `kid` fetches the JWKS once more), and [`check_claims`].
    pub async fn verify(
        &self,
        d: &Discovery,
        domain: &str,
        resolve: &Resolve,
        token: &str,
        expected: &Expected<'_>,
    ) -> Result<Claims, SsoError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| SsoError::IdToken(format!("it is not a JWT ({e})")))?;
        if header.alg != Algorithm::RS256 {
            return Err(SsoError::IdToken(format!(
                "it is signed with {:?}, not RS256 as Okta signs",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| SsoError::IdToken("its header names no key (`kid`)".into()))?;
        let mut keys = self.keys(d, domain, resolve, false).await?;
        if keys.find(&kid).is_none() {
            keys = self.keys(d, domain, resolve, true).await?;
        }
        let jwk = keys
            .find(&kid)
            .ok_or_else(|| SsoError::UnknownKid(kid.clone()))?;
        let key = DecodingKey::from_jwk(jwk)
            .map_err(|e| SsoError::IdToken(format!("key {kid} of the JWKS is not usable ({e})")))?;
        let claims = decode(token, &key, expected)?;
        check_claims(&claims, expected, chrono::Utc::now().timestamp())?;
        Ok(claims)
    }

    /// Exchange `code` at the token endpoint (`client_secret_basic`, the PKCE
    /// verifier, the redirect URI of the authorize request): the ID token.
    pub async fn exchange(
        &self,
        d: &Discovery,
        domain: &str,
        resolve: &Resolve,
        x: &Exchange<'_>,
    ) -> Result<String, SsoError> {
        let uri = route(&d.token_endpoint, domain, resolve)?;
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", x.code)
            .append_pair("redirect_uri", x.redirect_uri)
            .append_pair("code_verifier", x.verifier)
            .finish();
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let basic = STANDARD.encode(format!("{}:{}", enc(x.client_id), enc(x.client_secret)));
        let mut authorization =
            http::HeaderValue::try_from(format!("Basic {basic}")).expect("base64 is a header");
        authorization.set_sensitive(true);
        let request = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .header("authorization", authorization)
            .body(Bytes::from(form))
            .expect("a token request");
        let (status, _, body) = crate::host::oauth::send_whole(request, Some(TIMEOUTS))
            .await
            .map_err(|e| SsoError::Unreachable {
                url: d.token_endpoint.clone(),
                reason: e.to_string(),
            })?;
        let answer: TokenAnswer = serde_json::from_slice(&body).unwrap_or_default();
        match answer.id_token {
            Some(token) if status.is_success() => Ok(token),
            _ => Err(SsoError::Token {
                status: status.as_u16(),
                error: answer.error.unwrap_or_else(|| "no id_token".into()),
                description: answer.error_description.or(answer.error_summary),
            }),
        }
    }
}

/// A code exchange: the client's credentials, the code and what binds it (PKCE
/// verifier, redirect URI of the authorize request). Its `Debug` shows no secret.
pub struct Exchange<'a> {
    /// The client id.
    pub client_id: &'a str,
    /// The client secret.
    pub client_secret: &'a str,
    /// The authorization code.
    pub code: &'a str,
    /// The PKCE code verifier.
    pub verifier: &'a str,
    /// The redirect URI of the authorize request.
    pub redirect_uri: &'a str,
}

/// The token endpoint's answer (success or refusal, the parts used).
#[derive(Default, Deserialize)]
struct TokenAnswer {
    id_token: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    #[serde(rename = "errorSummary")]
    error_summary: Option<String>,
}

/// The claims of `token` if its signature verifies under `key`, its `iss` and `aud`
/// are the expected ones and it has not expired (a minute of skew).
fn decode(token: &str, key: &DecodingKey, expected: &Expected<'_>) -> Result<Claims, SsoError> {
    let mut v = Validation::new(Algorithm::RS256);
    v.leeway = SKEW.as_secs();
    v.set_issuer(&[expected.issuer]);
    v.set_audience(&[expected.client_id]);
    v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    let claim = |name: &str| claim_of(token, name);
    jsonwebtoken::decode::<Claims>(token, key, &v)
        .map(|d| d.claims)
        .map_err(|e| match e.kind() {
            JwtKind::InvalidSignature => SsoError::BadSignature,
            JwtKind::ExpiredSignature => SsoError::Expired(claim("exp")),
            JwtKind::InvalidIssuer => SsoError::WrongIssuer {
                expected: expected.issuer.to_string(),
                got: claim("iss"),
            },
            JwtKind::InvalidAudience => SsoError::WrongAudience {
                expected: expected.client_id.to_string(),
                got: claim("aud"),
            },
            _ => SsoError::IdToken(e.to_string()),
        })
}

/// A claim of `token`'s payload as text, for an error message (not verified).
fn claim_of(token: &str, name: &str) -> String {
    let payload = token.split('.').nth(1).unwrap_or_default();
    let value = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.get(name).cloned());
    match value {
        Some(serde_json::Value::String(s)) => s,
        Some(v) => v.to_string(),
        None => "none".into(),
    }
}

/// The checks `jsonwebtoken` leaves to us: `iat` not in the future (beyond the skew),
/// and the login's `nonce`.
pub fn check_claims(claims: &Claims, expected: &Expected<'_>, now: i64) -> Result<(), SsoError> {
    if claims.iat > now + SKEW.as_secs() as i64 {
        return Err(SsoError::IssuedInFuture(claims.iat - now));
    }
    match claims.nonce.as_deref() {
        None => Err(SsoError::MissingNonce),
        Some(n) if !crate::surface::web::auth::same_secret(n, expected.nonce) => {
            Err(SsoError::WrongNonce)
        }
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(iat: i64, nonce: Option<&str>) -> Claims {
        Claims {
            sub: "00u1".into(),
            preferred_username: None,
            email: None,
            nonce: nonce.map(str::to_string),
            iat,
            exp: iat + 3600,
        }
    }

    const EXPECTED: Expected<'static> = Expected {
        issuer: "https://acme.okta.com",
        client_id: "0oaApp",
        nonce: "n-1",
    };

    #[test]
    fn iat_in_the_future_and_the_nonce_are_checked() {
        let now = 1_800_000_000;
        assert!(check_claims(&claims(now, Some("n-1")), &EXPECTED, now).is_ok());
        assert!(check_claims(&claims(now + 60, Some("n-1")), &EXPECTED, now).is_ok());
        let future = check_claims(&claims(now + 3600, Some("n-1")), &EXPECTED, now);
        assert!(
            matches!(future, Err(SsoError::IssuedInFuture(3600))),
            "{future:?}"
        );
        let missing = check_claims(&claims(now, None), &EXPECTED, now);
        assert!(matches!(missing, Err(SsoError::MissingNonce)));
        let wrong = check_claims(&claims(now, Some("n-2")), &EXPECTED, now);
        assert!(matches!(wrong, Err(SsoError::WrongNonce)));
    }

    #[test]
    fn requests_go_to_the_org_only_and_a_resolved_org_to_its_loopback_address() {
        let mut resolve = Resolve::default();
        resolve.insert("acme.okta.com", "127.0.0.1:8089".parse().unwrap());
        let routed = route(
            "https://acme.okta.com/oauth2/v1/keys",
            "acme.okta.com",
            &resolve,
        );
        assert_eq!(
            routed.unwrap().to_string(),
            "http://127.0.0.1:8089/oauth2/v1/keys"
        );
        let direct = route("https://beta.okta.com/x", "beta.okta.com", &resolve).unwrap();
        assert_eq!(direct.to_string(), "https://beta.okta.com/x");
        for off in [
            "https://evil.example/oauth2/v1/token",
            "http://acme.okta.com/oauth2/v1/token",
            "https://acme.okta.com:8443/oauth2/v1/token",
            "https://acme.okta.com.evil.example/",
        ] {
            assert!(
                matches!(
                    route(off, "acme.okta.com", &resolve),
                    Err(SsoError::OffHost(_))
                ),
                "{off}"
            );
        }
    }
}
