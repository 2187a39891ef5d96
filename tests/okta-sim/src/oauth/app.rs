//! The registry's entry for one OAuth service app, and its command-line form.

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet};

use super::DEFAULT_SCOPES;
use super::errors::ClientAuthFailure;

/// The admin role assigned to a service app (Admin Console → the app → Admin roles).
/// Okta scopes alone grant nothing: the app also needs a role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminRole {
    /// A read-only administrator: sees the whole org.
    ReadOnly,
    /// A group administrator of these group ids: sees only those groups (never
    /// `Everyone`) and their members, like a scoped SSWS token.
    Groups(Vec<String>),
    /// No role: every Management API call is refused with 403 E0000006.
    None,
}

/// An API service app: its client id, the public keys its client assertions are
/// checked against, the Okta scopes granted to it, whether it must use DPoP, its
/// admin role and its share of each rate-limit bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthApp {
    /// The client id (`0oa…` in a real org; any string here).
    pub client_id: String,
    /// The app's public keys (RSA, EC P-256 or P-384), found by `kid`.
    pub keys: JwkSet,
    /// Okta scopes granted to the app (Admin Console → Okta API Scopes).
    pub scopes: Vec<String>,
    /// "Require Demonstrating Proof of Possession (DPoP) header in token requests"
    /// (Okta's default for service apps created since 2024).
    pub dpop_required: bool,
    /// The app's admin role.
    pub admin_role: AdminRole,
    /// The percentage of each rate-limit bucket the app may use (Okta's default: 50).
    pub rate_limit_percent: u32,
}

/// Why an app could not be registered.
#[derive(Debug, thiserror::Error)]
pub enum OAuthAppError {
    /// The `--oauth-app` value is not `CLIENT_ID=JWKS_FILE[,OPTION…]`.
    #[error("--oauth-app wants CLIENT_ID=JWKS_FILE[,OPTION…], got {0:?}")]
    Syntax(String),
    /// An option that does not exist or has a bad value.
    #[error("--oauth-app: unknown or bad option {0:?}")]
    Option(String),
    /// The key file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The keys are neither a JWK set (`{"keys": […]}`) nor one JWK.
    #[error("the keys are not a JWK set or a JWK: {0}")]
    Json(serde_json::Error),
    /// No key at all.
    #[error("an OAuth app needs at least one public key")]
    NoKeys,
    /// A key Okta would not take for `private_key_jwt` (not RSA, P-256 or P-384).
    #[error("key {0:?} is not an RSA, P-256 or P-384 public key")]
    UnsupportedKey(String),
}

impl OAuthApp {
    /// An app with these public keys (a JWK set or a single JWK, as JSON), granted
    /// `okta.users.read` and `okta.groups.read`, requiring DPoP, read-only admin,
    /// 50 % of each bucket.
    pub fn new(client_id: &str, keys_json: &str) -> Result<OAuthApp, OAuthAppError> {
        let keys = match serde_json::from_str::<JwkSet>(keys_json) {
            Ok(set) => set,
            Err(_) => JwkSet {
                keys: vec![serde_json::from_str::<Jwk>(keys_json).map_err(OAuthAppError::Json)?],
            },
        };
        OAuthApp::from_keys(client_id, keys)
    }

    /// Like [`OAuthApp::new`], from keys already parsed.
    pub fn from_keys(client_id: &str, keys: JwkSet) -> Result<OAuthApp, OAuthAppError> {
        if keys.keys.is_empty() {
            return Err(OAuthAppError::NoKeys);
        }
        for key in &keys.keys {
            let supported = match &key.algorithm {
                AlgorithmParameters::RSA(_) => true,
                AlgorithmParameters::EllipticCurve(ec) => {
                    matches!(ec.curve, EllipticCurve::P256 | EllipticCurve::P384)
                }
                _ => false,
            };
            if !supported || DecodingKey::from_jwk(key).is_err() {
                let kid = key.common.key_id.clone().unwrap_or_default();
                return Err(OAuthAppError::UnsupportedKey(kid));
            }
        }
        Ok(OAuthApp {
            client_id: client_id.to_string(),
            keys,
            scopes: DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
            dpop_required: true,
            admin_role: AdminRole::ReadOnly,
            rate_limit_percent: 50,
        })
    }

    /// The same app granted exactly these scopes.
    pub fn with_scopes(mut self, scopes: &[&str]) -> OAuthApp {
        self.scopes = scopes.iter().map(|s| s.to_string()).collect();
        self
    }

    /// The same app with DPoP required or not.
    pub fn with_dpop(mut self, required: bool) -> OAuthApp {
        self.dpop_required = required;
        self
    }

    /// The same app with this admin role.
    pub fn with_admin_role(mut self, role: AdminRole) -> OAuthApp {
        self.admin_role = role;
        self
    }

    /// The same app with this share of each rate-limit bucket.
    pub fn with_rate_limit_percent(mut self, percent: u32) -> OAuthApp {
        self.rate_limit_percent = percent;
        self
    }

    /// Parses `CLIENT_ID=JWKS_FILE[,OPTION…]` (the `--oauth-app` value), reading the
    /// file with `read`. Options: `dpop` / `no-dpop`, `scopes=A+B`, `no-admin`,
    /// `groups=G+G` (a group admin of those groups; ids or names, which the caller
    /// resolves), `rate-limit-percent=N`.
    pub fn parse_cli(
        spec: &str,
        read: impl Fn(&str) -> std::io::Result<String>,
    ) -> Result<OAuthApp, OAuthAppError> {
        let (client_id, rest) = spec
            .split_once('=')
            .filter(|(id, _)| !id.is_empty())
            .ok_or_else(|| OAuthAppError::Syntax(spec.to_string()))?;
        let mut parts = rest.split(',');
        let path = parts.next().filter(|p| !p.is_empty());
        let path = path.ok_or_else(|| OAuthAppError::Syntax(spec.to_string()))?;
        let keys = read(path).map_err(|source| OAuthAppError::Read {
            path: path.to_string(),
            source,
        })?;
        let mut app = OAuthApp::new(client_id, &keys)?;
        for option in parts {
            app = app.with_cli_option(option)?;
        }
        Ok(app)
    }

    fn with_cli_option(self, option: &str) -> Result<OAuthApp, OAuthAppError> {
        fn list(v: &str) -> Vec<String> {
            v.split('+')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        }
        let bad = || OAuthAppError::Option(option.to_string());
        Ok(match option.split_once('=') {
            None if option == "dpop" => self.with_dpop(true),
            None if option == "no-dpop" => self.with_dpop(false),
            None if option == "no-admin" => self.with_admin_role(AdminRole::None),
            Some(("scopes", v)) => OAuthApp {
                scopes: list(v),
                ..self
            },
            Some(("groups", v)) if !v.is_empty() => {
                self.with_admin_role(AdminRole::Groups(list(v)))
            }
            Some(("rate-limit-percent", v)) => {
                let percent = v.parse().ok().filter(|p| (1..=100).contains(p));
                self.with_rate_limit_percent(percent.ok_or_else(bad)?)
            }
            _ => return Err(bad()),
        })
    }

    /// The key a client assertion names by `kid`. Without a `kid` only an app with
    /// a single key can tell which one (Okta: "The client_assertion JWT kid is
    /// invalid." when an app has several keys and the header names none).
    pub(crate) fn key_for(&self, kid: Option<&str>) -> Result<&Jwk, ClientAuthFailure> {
        match kid {
            Some(kid) => self.keys.find(kid).ok_or(ClientAuthFailure::Kid),
            None if self.keys.keys.len() == 1 => Ok(&self.keys.keys[0]),
            None => Err(ClientAuthFailure::Kid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWK: &str = r#"{"kty":"EC","crv":"P-256","kid":"k1",
        "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;

    fn parse(spec: &str) -> Result<OAuthApp, OAuthAppError> {
        OAuthApp::parse_cli(spec, |path| match path {
            "keys.json" => Ok(format!(r#"{{"keys":[{JWK}]}}"#)),
            "one.json" => Ok(JWK.to_string()),
            _ => Err(std::io::Error::from(std::io::ErrorKind::NotFound)),
        })
    }

    #[test]
    fn defaults_are_oktas_for_a_new_service_app() {
        let app = parse("0oa1=keys.json").unwrap();
        assert_eq!(app.client_id, "0oa1");
        assert_eq!(app.scopes, ["okta.users.read", "okta.groups.read"]);
        assert!(app.dpop_required);
        assert_eq!(app.admin_role, AdminRole::ReadOnly);
        assert_eq!(app.rate_limit_percent, 50);
        assert!(app.key_for(Some("k1")).is_ok() && app.key_for(None).is_ok());
        assert_eq!(app.key_for(Some("k2")), Err(ClientAuthFailure::Kid));
    }

    #[test]
    fn options() {
        let spec = "c=one.json,no-dpop,scopes=okta.logs.read+okta.users.read,groups=Sales+00g1,rate-limit-percent=20";
        let app = parse(spec).unwrap();
        assert!(!app.dpop_required);
        assert_eq!(app.scopes, ["okta.logs.read", "okta.users.read"]);
        assert_eq!(
            app.admin_role,
            AdminRole::Groups(vec!["Sales".into(), "00g1".into()])
        );
        assert_eq!(app.rate_limit_percent, 20);
        assert_eq!(
            parse("c=one.json,no-admin").unwrap().admin_role,
            AdminRole::None
        );
        assert!(parse("c=one.json,no-dpop,dpop").unwrap().dpop_required);
    }

    #[test]
    fn bad_specs_are_refused() {
        for spec in [
            "c",
            "=keys.json",
            "c=",
            "c=keys.json,wat",
            "c=keys.json,rate-limit-percent=0",
        ] {
            assert!(
                matches!(
                    parse(spec),
                    Err(OAuthAppError::Syntax(_) | OAuthAppError::Option(_))
                ),
                "{spec}"
            );
        }
        assert!(matches!(
            parse("c=missing.json"),
            Err(OAuthAppError::Read { .. })
        ));
        let no_keys = OAuthApp::new("c", r#"{"keys":[]}"#);
        assert!(matches!(no_keys, Err(OAuthAppError::NoKeys)));
        let secret = OAuthApp::new("c", r#"{"kty":"oct","k":"c2VjcmV0"}"#);
        assert!(matches!(secret, Err(OAuthAppError::UnsupportedKey(_))));
    }
}
