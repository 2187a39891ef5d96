//! The ID-token signing keys: RSA 2048, the newest signs, older ones stay in the
//! JWKS until removed (how Okta rotates: a new key appears, tokens signed by the
//! old one keep verifying for a while, then the old key is gone).
//!
//! RSA key generation takes seconds in a debug build, so keys come from a
//! process-wide pool generated on first use and shared by every simulator of a
//! test binary; each ring takes them in order.

use std::sync::{Mutex, OnceLock};

use jsonwebtoken::jwk::{Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::Value;

/// One signing key.
#[derive(Clone)]
pub(crate) struct SigningKey {
    /// The `kid` (the public key's RFC 7638 thumbprint, like Okta's 43-character kids).
    pub kid: String,
    private: EncodingKey,
    /// The public key as published: `kty`, `alg` RS256, `use` sig, `kid`, `n`, `e`.
    pub jwk: Jwk,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish()
    }
}

/// The `n`-th key of the process-wide pool (generated when first asked for).
fn pooled(n: usize) -> SigningKey {
    static POOL: OnceLock<Mutex<Vec<SigningKey>>> = OnceLock::new();
    let mut pool = POOL
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    while pool.len() <= n {
        pool.push(generate());
    }
    pool[n].clone()
}

fn generate() -> SigningKey {
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).expect("RSA key generation");
    let pem = key.to_pkcs8_pem(LineEnding::LF).expect("PKCS#8 PEM");
    let private = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("RSA PEM");
    let mut jwk = Jwk::from_encoding_key(&private, Algorithm::RS256).expect("RSA JWK");
    let kid = jwk
        .thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
        .expect("thumbprint");
    jwk.common.key_id = Some(kid.clone());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    jwk.common.key_algorithm = Some(KeyAlgorithm::RS256);
    SigningKey { kid, private, jwk }
}

/// The published keys, oldest first; the last one signs.
#[derive(Debug, Default)]
pub(crate) struct KeyRing {
    keys: Vec<SigningKey>,
    /// How many keys this ring has taken from the pool.
    taken: usize,
}

impl KeyRing {
    /// The signing key, making the first one on first use.
    pub fn current(&mut self) -> &SigningKey {
        if self.keys.is_empty() {
            self.rotate();
        }
        self.keys.last().expect("a key")
    }

    /// Adds a new key that signs from now on; the others stay published.
    pub fn rotate(&mut self) -> String {
        let key = pooled(self.taken);
        self.taken += 1;
        let kid = key.kid.clone();
        self.keys.push(key);
        kid
    }

    /// Removes every key but the signing one from the JWKS.
    pub fn retire_old(&mut self) {
        let keep = self.keys.len().saturating_sub(1);
        self.keys.drain(..keep);
    }

    /// The `kid`s published, oldest first (none before the first use).
    pub fn kids(&self) -> Vec<String> {
        self.keys.iter().map(|k| k.kid.clone()).collect()
    }

    /// The JWKS document.
    pub fn jwks(&mut self) -> Value {
        self.current();
        serde_json::json!({ "keys": self.keys.iter().map(|k| &k.jwk).collect::<Vec<_>>() })
    }

    /// `claims` signed RS256 by the current key; the header's `kid` is `kid`
    /// when given (a fault), else the key's.
    pub fn sign(&mut self, claims: &Value, kid: Option<String>) -> String {
        let key = self.current();
        let header = Header {
            kid: Some(kid.unwrap_or_else(|| key.kid.clone())),
            ..Header::new(Algorithm::RS256)
        };
        jsonwebtoken::encode(&header, claims, &key.private).expect("RS256 signing")
    }
}
