//! JWS checks with `jsonwebtoken`: client assertions against an app's registered
//! keys, DPoP proofs against the key they embed; JWK thumbprints (RFC 7638) and
//! access-token hashes (`ath`, RFC 9449 §4.2).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::app::OAuthApp;
use super::errors::{ClientAuthFailure, ProofFailure};

/// The accepted signature algorithms as named in a DPoP challenge's `algs`
/// parameter (Okta: RS256/384/512, ES256/384/512; `jsonwebtoken` has no ES512).
pub(crate) const ALG_NAMES: &str = "RS256 RS384 RS512 ES256 ES384";

/// Verifies the signature of `token` by `key` with the header's algorithm and
/// returns the claims. Claims are checked by the callers, for Okta's messages.
fn verify<T: DeserializeOwned>(token: &str, header: &Header, key: &Jwk) -> Option<T> {
    let key = DecodingKey::from_jwk(key).ok()?;
    let mut validation = Validation::new(header.alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    jsonwebtoken::decode::<T>(token, &key, &validation)
        .ok()
        .map(|data| data.claims)
}

/// Whether `alg` is one of [`ALG_NAMES`] and fits the key's type (an RSA
/// algorithm for an RSA key, ECDSA for an EC key): HS256 and `none` never do.
fn alg_fits(alg: Algorithm, key: &Jwk) -> bool {
    match &key.algorithm {
        AlgorithmParameters::RSA(_) => {
            matches!(alg, Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512)
        }
        AlgorithmParameters::EllipticCurve(_) => {
            matches!(alg, Algorithm::ES256 | Algorithm::ES384)
        }
        _ => false,
    }
}

/// The claims of a client assertion.
#[derive(Deserialize)]
struct AssertionClaims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<serde_json::Value>,
    exp: Option<i64>,
    iat: Option<i64>,
    jti: Option<String>,
}

/// The client id a client assertion claims to come from (`sub`), read before its
/// signature can be checked (the key depends on it).
pub(crate) fn assertion_subject(assertion: &str) -> Result<String, ClientAuthFailure> {
    jsonwebtoken::decode_header(assertion).map_err(|_| ClientAuthFailure::Malformed)?;
    // Only to find the app whose keys then verify it (`verify_assertion`).
    let claims: AssertionClaims = jsonwebtoken::dangerous::insecure_decode_claims(assertion)
        .map_err(|_| ClientAuthFailure::Malformed)?;
    claims.sub.ok_or(ClientAuthFailure::UnknownClient)
}

/// Checks a client assertion from `app`: `kid`, `alg`, signature, `iss` = `sub` =
/// client id, `aud` = `token_url`, `exp` present, not passed and at most an hour
/// after `iat`. Returns its `jti` for the replay check.
pub(crate) fn verify_assertion(
    app: &OAuthApp,
    assertion: &str,
    token_url: &str,
    now: i64,
) -> Result<Option<String>, ClientAuthFailure> {
    let header =
        jsonwebtoken::decode_header(assertion).map_err(|_| ClientAuthFailure::Malformed)?;
    let key = app.key_for(header.kid.as_deref())?;
    if !alg_fits(header.alg, key) {
        return Err(ClientAuthFailure::Alg);
    }
    let claims: AssertionClaims =
        verify(assertion, &header, key).ok_or(ClientAuthFailure::Signature)?;
    let client = Some(app.client_id.as_str());
    if claims.iss.as_deref() != client || claims.sub.as_deref() != client {
        return Err(ClientAuthFailure::IssuerSubject);
    }
    let aud_ok = match &claims.aud {
        Some(serde_json::Value::String(aud)) => aud == token_url,
        Some(serde_json::Value::Array(auds)) => auds.iter().any(|a| a == token_url),
        _ => false,
    };
    if !aud_ok {
        return Err(ClientAuthFailure::Audience);
    }
    let exp = claims.exp.ok_or(ClientAuthFailure::MissingExp)?;
    if exp <= now {
        return Err(ClientAuthFailure::Expired);
    }
    if exp > claims.iat.unwrap_or(now) + 3600 {
        return Err(ClientAuthFailure::ExpTooFar);
    }
    Ok(claims.jti)
}

/// The claims of a DPoP proof.
#[derive(Deserialize)]
struct ProofClaims {
    htm: Option<String>,
    htu: Option<String>,
    iat: Option<i64>,
    jti: Option<String>,
    nonce: Option<String>,
    ath: Option<String>,
}

/// A DPoP proof whose signature, `typ`, `htm`, `htu` and `iat` were checked.
#[derive(Debug)]
pub(crate) struct Proof {
    /// The thumbprint of the proof's key (the token binding, `cnf.jkt`).
    pub jkt: String,
    /// Its `jti`, for the replay check.
    pub jti: String,
    /// Its `nonce`, if any.
    pub nonce: Option<String>,
    /// Its `ath`, if any.
    pub ath: Option<String>,
}

/// What a proof must match: the request's method and URL (without query), now
/// and the accepted `iat` distance, in seconds.
pub(crate) struct ProofTarget<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub now: i64,
    pub iat_window: i64,
}

/// Checks a DPoP proof's header (`typ`, `alg`, public `jwk`), its signature by
/// that key and its `htm`, `htu`, `iat` and `jti` claims.
pub(crate) fn verify_proof(proof: &str, target: &ProofTarget<'_>) -> Result<Proof, ProofFailure> {
    let header = jsonwebtoken::decode_header(proof).map_err(|_| ProofFailure::Malformed)?;
    if header.typ.as_deref() != Some("dpop+jwt") {
        return Err(ProofFailure::Typ);
    }
    let jwk = header.jwk.as_ref().ok_or(ProofFailure::Jwk)?;
    if !matches!(
        jwk.algorithm,
        AlgorithmParameters::RSA(_) | AlgorithmParameters::EllipticCurve(_)
    ) {
        return Err(ProofFailure::Jwk);
    }
    if !alg_fits(header.alg, jwk) {
        return Err(ProofFailure::Alg);
    }
    let claims: ProofClaims = verify(proof, &header, jwk).ok_or(ProofFailure::Signature)?;
    if claims.htm.as_deref() != Some(target.method) {
        return Err(ProofFailure::Htm);
    }
    let htu = claims
        .htu
        .as_deref()
        .map(|u| u.split(['?', '#']).next().unwrap_or(u));
    if htu != Some(target.url) {
        return Err(ProofFailure::Htu);
    }
    let iat = claims.iat.ok_or(ProofFailure::Iat)?;
    if (iat - target.now).abs() > target.iat_window {
        return Err(ProofFailure::Iat);
    }
    let jti = claims
        .jti
        .filter(|j| !j.is_empty())
        .ok_or(ProofFailure::Jti)?;
    let jkt = jwk
        .thumbprint(ThumbprintHash::SHA256)
        .map_err(|_| ProofFailure::Jwk)?;
    Ok(Proof {
        jkt,
        jti,
        nonce: claims.nonce,
        ath: claims.ath,
    })
}

/// base64url(SHA-256(token)): a proof's `ath` for this access token.
pub(crate) fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}
