//! The client side of the OAuth tests: keys generated here, client assertions and
//! DPoP proofs signed with `jsonwebtoken`, token and resource requests.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Resp, send};

pub const ORIGIN: &str = "https://acme.okta.com";
pub const TOKEN_URL: &str = "https://acme.okta.com/oauth2/v1/token";
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A private key with its public JWK.
#[derive(Clone)]
pub struct Key {
    pub alg: Algorithm,
    pub private: EncodingKey,
    /// The public key, with `kid`.
    pub jwk: Jwk,
}

impl Key {
    fn from_pem(pem: &str, alg: Algorithm, kid: &str) -> Key {
        let private = match alg {
            Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
            _ => EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
        };
        let mut jwk = Jwk::from_encoding_key(&private, alg).unwrap();
        jwk.common.key_id = Some(kid.to_string());
        Key { alg, private, jwk }
    }

    /// The same key under another `kid`.
    pub fn with_kid(&self, kid: &str) -> Key {
        let mut key = self.clone();
        key.jwk.common.key_id = Some(kid.to_string());
        key
    }

    /// Signs `claims` with this header.
    pub fn sign(&self, header: &Header, claims: &Value) -> String {
        jsonwebtoken::encode(header, claims, &self.private).unwrap()
    }
}

/// `claims` signed HS256 with a shared secret (what a client-secret client would
/// send; refused here).
pub fn hs256(header: &Header, claims: &Value) -> String {
    let secret = EncodingKey::from_secret(&[7u8; 32]).unwrap();
    jsonwebtoken::encode(header, claims, &secret).unwrap()
}

/// Two 2048-bit RSA keys, each generated once per test binary when first used:
/// key generation is slow in a debug build.
fn rsa_pem(n: usize) -> &'static str {
    static PEMS: [OnceLock<String>; 2] = [OnceLock::new(), OnceLock::new()];
    PEMS[n].get_or_init(|| {
        use rsa::pkcs8::{EncodePrivateKey, LineEnding};
        let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).unwrap();
        key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string()
    })
}

/// An RSA key (RS256); `n` = 0 or 1 picks one of two distinct keys.
pub fn rsa_key(n: usize, kid: &str) -> Key {
    Key::from_pem(rsa_pem(n), Algorithm::RS256, kid)
}

/// A fresh P-256 key (ES256).
pub fn ec_key(kid: &str) -> Key {
    use p256::pkcs8::{EncodePrivateKey, LineEnding};
    use rsa::Generate;
    let pem = p256::SecretKey::generate()
        .to_pkcs8_pem(LineEnding::LF)
        .unwrap();
    Key::from_pem(&pem, Algorithm::ES256, kid)
}

/// A JWK set of these keys' public halves, as JSON.
pub fn jwks(keys: &[&Key]) -> String {
    let keys: Vec<&Jwk> = keys.iter().map(|k| &k.jwk).collect();
    json!({ "keys": keys }).to_string()
}

/// A unique `jti`.
pub fn jti() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "jti-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The claims of a good client assertion of `client_id`.
pub fn assertion_claims(client_id: &str) -> Value {
    json!({
        "iss": client_id, "sub": client_id, "aud": TOKEN_URL,
        "iat": now(), "exp": now() + 300, "jti": jti(),
    })
}

/// A client assertion signed by `key` (header `kid` = the key's) with `claims`.
pub fn assertion_with(key: &Key, claims: &Value) -> String {
    let mut header = Header::new(key.alg);
    header.kid = key.jwk.common.key_id.clone();
    key.sign(&header, claims)
}

/// A good client assertion of `client_id` signed by `key`.
pub fn assertion(key: &Key, client_id: &str) -> String {
    assertion_with(key, &assertion_claims(client_id))
}

/// The claims of a good DPoP proof for `htm` `htu`.
pub fn proof_claims(htm: &str, htu: &str, nonce: Option<&str>, token: Option<&str>) -> Value {
    let mut claims = json!({ "htm": htm, "htu": htu, "iat": now(), "jti": jti() });
    if let Some(nonce) = nonce {
        claims["nonce"] = json!(nonce);
    }
    if let Some(token) = token {
        claims["ath"] = json!(ath(token));
    }
    claims
}

/// The header of a DPoP proof by `key`: `typ: dpop+jwt`, the public `jwk`.
pub fn proof_header(key: &Key) -> Header {
    let mut header = Header::new(key.alg);
    header.typ = Some("dpop+jwt".into());
    let mut jwk = key.jwk.clone();
    jwk.common = Default::default();
    header.jwk = Some(jwk);
    header
}

/// A DPoP proof by `key` with these claims.
pub fn proof_with(key: &Key, claims: &Value) -> String {
    key.sign(&proof_header(key), claims)
}

/// A good DPoP proof by `key`.
pub fn proof(key: &Key, htm: &str, htu: &str, nonce: Option<&str>, token: Option<&str>) -> String {
    proof_with(key, &proof_claims(htm, htu, nonce, token))
}

/// base64url(SHA-256(token)).
pub fn ath(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// A form body.
pub fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// `POST /oauth2/v1/token` with this form and optional `DPoP` header.
pub fn token_post(addr: SocketAddr, body: &str, dpop: Option<&str>) -> Resp {
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    headers.extend(dpop.map(|p| ("DPoP", p)));
    send(addr, "POST", "/oauth2/v1/token", &headers, body.as_bytes())
}

/// A client-credentials request with this assertion and scope.
pub fn token_request(addr: SocketAddr, assertion: &str, scope: &str, dpop: Option<&str>) -> Resp {
    let body = form(&[
        ("grant_type", "client_credentials"),
        ("scope", scope),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ]);
    token_post(addr, &body, dpop)
}

/// A token request of `client` (assertion by `key`, scopes `okta.users.read
/// okta.groups.read`) with a proof by `dpop_key` for the token URL.
pub fn dpop_request(
    addr: SocketAddr,
    key: &Key,
    client: &str,
    dpop_key: &Key,
    nonce: Option<&str>,
) -> Resp {
    let p = proof(dpop_key, "POST", TOKEN_URL, nonce, None);
    token_request(
        addr,
        &assertion(key, client),
        "okta.users.read okta.groups.read",
        Some(&p),
    )
}

/// The OAuth error body `{"error", "error_description"}` with this status.
pub fn assert_oauth_error(r: &Resp, status: u16, error: &str, description: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.json(),
        json!({ "error": error, "error_description": description }),
        "{}",
        r.body
    );
}

/// A DPoP token for `client_id` through the nonce dance: the first proof is
/// answered `use_dpop_nonce`, the retry with the nonce gets the token.
pub fn dpop_token(
    addr: SocketAddr,
    key: &Key,
    dpop_key: &Key,
    client_id: &str,
    scope: &str,
) -> String {
    let first = dpop_request(addr, key, client_id, dpop_key, None);
    assert_eq!(first.status, 400, "{}", first.body);
    let nonce = first.header("dpop-nonce").expect("DPoP-Nonce").to_string();
    let retry = proof(dpop_key, "POST", TOKEN_URL, Some(&nonce), None);
    let r = token_request(addr, &assertion(key, client_id), scope, Some(&retry));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["token_type"], "DPoP");
    r.json()["access_token"].as_str().unwrap().to_string()
}

/// `GET target` with `Authorization: DPoP <token>` and a fresh proof by `key`.
pub fn dpop_get(addr: SocketAddr, target: &str, token: &str, key: &Key) -> Resp {
    let path = target.split('?').next().unwrap();
    let p = proof(key, "GET", &format!("{ORIGIN}{path}"), None, Some(token));
    get_with(addr, target, &format!("DPoP {token}"), Some(&p))
}

/// `GET target` with this Authorization and optional `DPoP` header.
pub fn get_with(addr: SocketAddr, target: &str, authorization: &str, dpop: Option<&str>) -> Resp {
    let mut headers = vec![("Authorization", authorization)];
    headers.extend(dpop.map(|p| ("DPoP", p)));
    send(addr, "GET", target, &headers, b"")
}
