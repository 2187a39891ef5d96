//! The ID token: the claims Okta's org authorization server puts in one, and the
//! faults that spoil exactly one of them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::OidcFault;
use super::state::{AuthCode, OidcState};
use crate::org::OktaUser;

/// `aud` of an ID token under [`OidcFault::WrongAudience`].
pub const OTHER_AUDIENCE: &str = "0oaSomeOtherClient";

/// The profile claims a scope releases: `profile` → `name`,
/// `preferred_username` (the login), `given_name`, `family_name`, `locale`,
/// `zoneinfo`, `updated_at`; `email` → `email`, `email_verified`.
pub(crate) fn profile_claims(user: &OktaUser, scopes: &[String]) -> Map<String, Value> {
    let p = |k: &str| user.profile.get(k).cloned().unwrap_or(Value::Null);
    let mut claims = Map::new();
    if scopes.iter().any(|s| s == "profile") {
        let name = match (p("firstName"), p("lastName")) {
            (Value::String(f), Value::String(l)) => json!(format!("{f} {l}")),
            _ => p("displayName"),
        };
        claims.insert("name".into(), name);
        claims.insert("preferred_username".into(), p("login"));
        claims.insert("given_name".into(), p("firstName"));
        claims.insert("family_name".into(), p("lastName"));
        claims.insert("locale".into(), json!("en_US"));
        claims.insert("zoneinfo".into(), json!("America/Los_Angeles"));
        claims.insert("updated_at".into(), json!(user.last_updated.timestamp()));
    }
    if scopes.iter().any(|s| s == "email") {
        claims.insert("email".into(), p("email"));
        claims.insert("email_verified".into(), json!(true));
    }
    claims
}

/// What goes into one ID token.
pub(crate) struct IdTokenInput<'a> {
    pub code: &'a AuthCode,
    pub user: &'a OktaUser,
    pub issuer: &'a str,
    pub access_token: &'a str,
    pub now: i64,
}

/// The signed ID token, with the client's faults applied.
pub(crate) fn mint(state: &mut OidcState, input: &IdTokenInput<'_>) -> String {
    let client = input.code.client_id.as_str();
    let on = |f| state.faults.on(client, f);
    let lifetime = state.config.token_lifetime.as_secs() as i64;
    let (iat, auth_time) = if on(OidcFault::Expired) {
        (
            input.now - 2 * lifetime.max(3600),
            input.now - 2 * lifetime.max(3600),
        )
    } else if on(OidcFault::IssuedInFuture) {
        (input.now + 3600, input.now + 3600)
    } else {
        (input.now, input.code.auth_time)
    };
    let expires = if on(OidcFault::Expired) {
        input.now - 3600
    } else {
        iat + lifetime
    };
    let mut claims = json!({
        "sub": input.user.id,
        "ver": 1,
        "iss": if on(OidcFault::WrongIssuer) { format!("{}/oauth2/default", input.issuer) } else { input.issuer.to_string() },
        "aud": if on(OidcFault::WrongAudience) { OTHER_AUDIENCE } else { client },
        "iat": iat,
        "exp": expires,
        "jti": format!("ID.{}", super::random_token(32)),
        "amr": ["pwd"],
        "idp": "00oSimulatedOrgIdp",
        "auth_time": auth_time,
        "at_hash": half_hash(input.access_token),
    });
    let nonce = match &input.code.nonce {
        _ if on(OidcFault::MissingNonce) => None,
        Some(n) if on(OidcFault::WrongNonce) => Some(format!("{n}-not-yours")),
        None if on(OidcFault::WrongNonce) => Some("not-your-nonce".to_string()),
        n => n.clone(),
    };
    let map = claims.as_object_mut().expect("an object");
    map.extend(nonce.map(|n| ("nonce".to_string(), json!(n))));
    map.extend(profile_claims(input.user, &input.code.scopes));
    let kid = on(OidcFault::UnknownKid).then(|| format!("unknown-{}", super::random_token(16)));
    let token = state.keys.sign(&claims, kid);
    if on(OidcFault::BadSignature) {
        flip_signature(&token)
    } else {
        token
    }
}

/// OIDC Core §3.1.3.6 `at_hash`: base64url of the left half of SHA-256(token).
fn half_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// The same JWS with one byte of its signature changed.
fn flip_signature(token: &str) -> String {
    let (signed, signature) = token.rsplit_once('.').expect("a JWS");
    let mut bytes = URL_SAFE_NO_PAD
        .decode(signature)
        .expect("base64url signature");
    bytes[0] ^= 0x01;
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(bytes))
}
