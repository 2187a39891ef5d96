//! OAuth service apps end to end: token requests with client assertions and DPoP
//! proofs signed here with `jsonwebtoken`, then Management API requests with the
//! tokens. Every answer is checked for its exact status, body and challenge.

mod common;

use std::time::Duration;

use common::oauth::*;
use common::{assert_okta_error, get_as, request};
use jsonwebtoken::{Algorithm, Header};
use okta_sim::{
    AdminRole, GenSpec, OAuthApp, OAuthConfig, Org, RateLimits, SimConfig, Simulator, TokenStats,
};
use serde_json::json;

const SCOPES: &str = "okta.users.read okta.groups.read";

fn org() -> Org {
    Org::generate(&GenSpec {
        users: 30,
        groups: 4,
        memberships_per_user: 1,
        seed: 7,
    })
}

/// The default configuration with these apps.
fn config(apps: Vec<OAuthApp>) -> SimConfig {
    SimConfig {
        oauth: OAuthConfig {
            apps,
            ..OAuthConfig::default()
        },
        ..SimConfig::default()
    }
}

/// A simulator of [`org`] with these apps.
fn sim(apps: Vec<OAuthApp>) -> Simulator {
    Simulator::start(org(), config(apps))
}

/// App `bearer` (RSA key `k1`, no DPoP) and app `dpop` (RSA key `k1`, DPoP required).
fn two_apps(key: &Key) -> Vec<OAuthApp> {
    let keys = jwks(&[key]);
    vec![
        OAuthApp::new("bearer", &keys).unwrap().with_dpop(false),
        OAuthApp::new("dpop", &keys).unwrap(),
    ]
}

fn bearer_token(sim: &Simulator, key: &Key, client: &str, scope: &str) -> String {
    let r = token_request(sim.addr(), &assertion(key, client), scope, None);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["access_token"].as_str().unwrap().to_string()
}

/// Asserts Okta's challenge for this scheme, scope, error and description at
/// `resource` in the response's `WWW-Authenticate`.
fn assert_challenge(
    r: &common::Resp,
    scheme: &str,
    scope: &str,
    error: &str,
    description: &str,
    resource: &str,
) {
    let expected = challenge(scheme, scope, error, description, resource);
    assert_eq!(
        r.header("www-authenticate"),
        Some(expected.as_str()),
        "{}",
        r.body
    );
}

/// Okta's challenge for this scheme, scope, error and description at `resource`.
fn challenge(scheme: &str, scope: &str, error: &str, description: &str, resource: &str) -> String {
    let algs = if scheme == "DPoP" {
        "algs=\"RS256 RS384 RS512 ES256 ES384\", "
    } else {
        ""
    };
    format!(
        "{scheme} authorization_uri=\"{ORIGIN}/oauth2/v1/authorize\", realm=\"{ORIGIN}\", {algs}scope=\"{scope}\", error=\"{error}\", error_description=\"{description}\", resource=\"{resource}\""
    )
}

#[test]
fn a_bearer_app_gets_a_one_hour_token_and_lists_users_and_groups() {
    let key = rsa_key(0, "k1");
    let sim = sim(two_apps(&key));
    let r = token_request(sim.addr(), &assertion(&key, "bearer"), SCOPES, None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body = r.json();
    let token = body["access_token"].as_str().unwrap().to_string();
    assert!(token.len() >= 43, "{token}");
    assert_eq!(
        body,
        json!({ "token_type": "Bearer", "expires_in": 3600, "access_token": token, "scope": SCOPES })
    );
    let users = get_as(
        sim.addr(),
        "/api/v1/users?limit=5",
        &format!("Bearer {token}"),
    );
    assert_eq!(users.status, 200, "{}", users.body);
    assert_eq!(users.json().as_array().unwrap().len(), 5);
    // The app's share of the 600/min users bucket: 50 %.
    assert_eq!(users.header("x-rate-limit-limit"), Some("300"));
    assert_eq!(users.header("x-rate-limit-remaining"), Some("299"));
    let groups = get_as(sim.addr(), "/api/v1/groups", &format!("Bearer {token}"));
    assert_eq!(groups.status, 200, "{}", groups.body);
    assert_eq!(groups.json().as_array().unwrap().len(), 5, "Everyone + 4");
    assert_eq!(
        sim.token_stats(),
        TokenStats {
            requests: 1,
            issued: 1
        }
    );
    assert_eq!(sim.token_url(), TOKEN_URL);
}

#[test]
fn an_es256_key_and_the_right_one_of_several_keys_authenticate() {
    let (ec, rsa) = (ec_key("ec1"), rsa_key(0, "rsa1"));
    let app = OAuthApp::new("c", &jwks(&[&rsa, &ec]))
        .unwrap()
        .with_dpop(false);
    let sim = sim(vec![app]);
    for key in [&ec, &rsa] {
        let r = token_request(sim.addr(), &assertion(key, "c"), "okta.users.read", None);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["scope"], "okta.users.read");
    }
}

/// Client assertions of app `bearer` (or `two-keys`) that are wrong in one way,
/// what is wrong, and Okta's description of it.
fn bad_assertions(key: &Key, other: &Key) -> Vec<(&'static str, String, &'static str)> {
    let claims = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut c = assertion_claims("bearer");
        f(&mut c);
        assertion_with(key, &c)
    };
    let mut no_kid = Header::new(Algorithm::RS256);
    no_kid.kid = None;
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some("k1".into());
    vec![
        (
            "unknown client",
            assertion(key, "0oaNope"),
            "Invalid value for 'client_id' parameter.",
        ),
        (
            "iss is not sub",
            claims(&|c| c["iss"] = json!("other")),
            "The 'iss' and 'sub' claims of the client_assertion must both be the client_id.",
        ),
        (
            "unknown kid",
            assertion(&key.with_kid("k9"), "bearer"),
            "The client_assertion JWT kid is invalid.",
        ),
        (
            "no kid, several keys",
            key.sign(&no_kid, &assertion_claims("two-keys")),
            "The client_assertion JWT kid is invalid.",
        ),
        (
            "HS256",
            hs256(&hs, &assertion_claims("bearer")),
            "The client_assertion JWT alg is not supported for the client's key.",
        ),
        (
            "another key",
            assertion(other, "bearer"),
            "The client_assertion signature is invalid.",
        ),
        (
            "wrong aud",
            claims(&|c| c["aud"] = json!("https://acme.okta.com/oauth2/default/v1/token")),
            "The audience claim for client_assertion must be the endpoint invoked for the request.",
        ),
        (
            "no exp",
            claims(&|c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
            "The client_assertion token must have an expiration claim.",
        ),
        (
            "expired",
            claims(&|c| c["exp"] = json!(now() - 5)),
            "The client_assertion token is expired.",
        ),
        (
            "exp over an hour after iat",
            claims(&|c| c["exp"] = json!(now() + 3601)),
            "The client_assertion token has an expiration too far in the future.",
        ),
        (
            "not a JWT",
            "not-a-jwt".to_string(),
            "The client_assertion is not a valid JWT.",
        ),
    ]
}

#[test]
fn client_assertion_failures_are_401_invalid_client() {
    let key = rsa_key(0, "k1");
    let other = rsa_key(1, "k1");
    let mut apps = two_apps(&key);
    apps.push(OAuthApp::new("two-keys", &jwks(&[&key, &other.with_kid("k2")])).unwrap());
    let sim = sim(apps);
    for (what, assertion, description) in bad_assertions(&key, &other) {
        let r = token_request(sim.addr(), &assertion, SCOPES, None);
        assert_eq!(r.status, 401, "{what}: {}", r.body);
        assert_oauth_error(&r, 401, "invalid_client", description);
    }
    // Without `client_assertion`, and with another assertion type.
    let r = token_post(
        sim.addr(),
        &form(&[("grant_type", "client_credentials"), ("scope", SCOPES)]),
        None,
    );
    assert_oauth_error(
        &r,
        401,
        "invalid_client",
        "Client authentication failed. Either the client or the client credentials are invalid.",
    );
    let wrong_type = form(&[
        ("grant_type", "client_credentials"),
        ("scope", SCOPES),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
        ),
        ("client_assertion", &assertion(&key, "bearer")),
    ]);
    let r = token_post(sim.addr(), &wrong_type, None);
    assert_oauth_error(
        &r,
        401,
        "invalid_client",
        "The client_assertion_type is invalid.",
    );
    assert_eq!(
        sim.token_stats(),
        TokenStats {
            requests: 13,
            issued: 0
        }
    );
}

#[test]
fn a_client_assertion_is_good_for_one_token_request() {
    let key = rsa_key(0, "k1");
    let sim = sim(two_apps(&key));
    let a = assertion(&key, "bearer");
    assert_eq!(token_request(sim.addr(), &a, SCOPES, None).status, 200);
    let again = token_request(sim.addr(), &a, SCOPES, None);
    assert_oauth_error(
        &again,
        401,
        "invalid_client",
        "The client_assertion token has already been used.",
    );
    // A nonce challenge consumes the assertion too (as Okta does).
    let first = dpop_request(sim.addr(), &key, "dpop", &key, None);
    assert_eq!(first.json()["error"], "use_dpop_nonce");
}

#[test]
fn grant_type_scope_and_method_failures() {
    let key = rsa_key(0, "k1");
    let sim = sim(two_apps(&key));
    let with = |grant: Option<&str>, scope: Option<&str>| {
        let a = assertion(&key, "bearer");
        let mut pairs = vec![
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", a.as_str()),
        ];
        pairs.extend(grant.map(|g| ("grant_type", g)));
        pairs.extend(scope.map(|s| ("scope", s)));
        token_post(sim.addr(), &form(&pairs), None)
    };
    let r = with(None, Some(SCOPES));
    assert_oauth_error(
        &r,
        400,
        "invalid_request",
        "The 'grant_type' parameter is required.",
    );
    let r = with(Some("password"), Some(SCOPES));
    assert_oauth_error(
        &r,
        400,
        "unsupported_grant_type",
        "The authorization grant type is not supported by the authorization server. Configured grant types: [client_credentials].",
    );
    let r = with(Some("client_credentials"), None);
    assert_oauth_error(
        &r,
        400,
        "invalid_scope",
        "The authorization server resource does not have any configured default scopes, 'scope' must be provided.",
    );
    let r = with(
        Some("client_credentials"),
        Some("okta.users.read okta.logs.read okta.apps.read"),
    );
    assert_oauth_error(
        &r,
        400,
        "invalid_scope",
        "The following scopes are not granted to the client: okta.logs.read okta.apps.read.",
    );
    let r = request(sim.addr(), "GET", "/oauth2/v1/token", &[]);
    assert_okta_error(&r, 405, "E0000022");
    assert_eq!(r.header("allow"), Some("POST"));
}

#[test]
fn the_dpop_nonce_dance_gives_a_token_bound_to_the_proof_key() {
    let key = rsa_key(0, "k1");
    let dpop_key = ec_key("dpop");
    let sim = sim(two_apps(&key));
    let r = token_request(sim.addr(), &assertion(&key, "dpop"), SCOPES, None);
    assert_oauth_error(
        &r,
        400,
        "invalid_dpop_proof",
        "The DPoP proof JWT header is missing.",
    );

    let first = dpop_request(sim.addr(), &key, "dpop", &dpop_key, None);
    assert_oauth_error(
        &first,
        400,
        "use_dpop_nonce",
        "Authorization server requires nonce in DPoP proof.",
    );
    let nonce = first.header("dpop-nonce").unwrap().to_string();
    assert!(nonce.len() >= 16, "{nonce}");

    // The retry: the same key, a fresh jti, the nonce; `htu` may carry a query.
    let retry = proof(
        &dpop_key,
        "POST",
        &format!("{TOKEN_URL}?ignored=1"),
        Some(&nonce),
        None,
    );
    let r = token_request(sim.addr(), &assertion(&key, "dpop"), SCOPES, Some(&retry));
    assert_eq!(r.status, 200, "{}", r.body);
    let token = r.json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        r.json(),
        json!({ "token_type": "DPoP", "expires_in": 3600, "access_token": token, "scope": SCOPES })
    );
    assert_eq!(
        sim.token_stats(),
        TokenStats {
            requests: 3,
            issued: 1
        }
    );

    for target in ["/api/v1/users?limit=3", "/api/v1/groups"] {
        let r = dpop_get(sim.addr(), target, &token, &dpop_key);
        assert_eq!(r.status, 200, "{target}: {}", r.body);
    }
    // A DPoP proof on an app that does not require DPoP binds its token as well.
    let t = dpop_token(sim.addr(), &key, &dpop_key, "bearer", SCOPES);
    assert_eq!(
        dpop_get(sim.addr(), "/api/v1/groups", &t, &dpop_key).status,
        200
    );
}

/// Token-request proofs by `dpop_key` with the server's `nonce` that are wrong in
/// one way, and Okta's description of it.
fn bad_proofs(dpop_key: &Key, stranger: &Key, nonce: &str) -> Vec<(String, &'static str)> {
    let good = || proof_claims("POST", TOKEN_URL, Some(nonce), None);
    let tweak = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut c = good();
        f(&mut c);
        proof_with(dpop_key, &c)
    };
    let mut typ = proof_header(dpop_key);
    typ.typ = Some("JWT".into());
    let mut no_jwk = proof_header(dpop_key);
    no_jwk.jwk = None;
    let mut hs = proof_header(dpop_key);
    hs.alg = Algorithm::HS256;
    vec![
        (
            dpop_key.sign(&typ, &good()),
            "'typ' header in the DPoP proof JWT is invalid.",
        ),
        (
            dpop_key.sign(&no_jwk, &good()),
            "'jwk' header in the DPoP proof JWT is invalid.",
        ),
        (
            hs256(&hs, &good()),
            "'alg' header in the DPoP proof JWT is invalid.",
        ),
        (
            stranger.sign(&proof_header(dpop_key), &good()),
            "The DPoP proof JWT signature is invalid.",
        ),
        (
            tweak(&|c| c["htm"] = json!("GET")),
            "'htm' claim in the DPoP proof JWT is invalid.",
        ),
        (
            tweak(&|c| c["htu"] = json!(format!("{ORIGIN}/oauth2/default/v1/token"))),
            "'htu' claim in the DPoP proof JWT is invalid.",
        ),
        (
            tweak(&|c| c["iat"] = json!(now() - 400)),
            "'iat' claim in the DPoP proof JWT is invalid.",
        ),
        (
            tweak(&|c| c["iat"] = json!(now() + 400)),
            "'iat' claim in the DPoP proof JWT is invalid.",
        ),
        (
            tweak(&|c| {
                c.as_object_mut().unwrap().remove("jti");
            }),
            "'jti' claim in the DPoP proof JWT is invalid.",
        ),
        ("not.a.jwt".to_string(), "The DPoP proof JWT is malformed."),
    ]
}

#[test]
fn bad_proofs_at_the_token_endpoint_are_invalid_dpop_proof() {
    let key = rsa_key(0, "k1");
    let (dpop_key, stranger) = (ec_key("d"), ec_key("s"));
    let sim = sim(two_apps(&key));
    let first = dpop_request(sim.addr(), &key, "dpop", &dpop_key, None);
    let nonce = first.header("dpop-nonce").unwrap().to_string();
    for (p, description) in bad_proofs(&dpop_key, &stranger, &nonce) {
        let r = token_request(sim.addr(), &assertion(&key, "dpop"), SCOPES, Some(&p));
        assert_eq!(r.status, 400, "{description} {p}: {}", r.body);
        assert_oauth_error(&r, 400, "invalid_dpop_proof", description);
    }
    let once = proof(&dpop_key, "POST", TOKEN_URL, Some(&nonce), None);
    assert_eq!(
        token_request(sim.addr(), &assertion(&key, "dpop"), SCOPES, Some(&once)).status,
        200
    );
    let r = token_request(sim.addr(), &assertion(&key, "dpop"), SCOPES, Some(&once));
    assert_oauth_error(
        &r,
        400,
        "invalid_dpop_proof",
        "'jti' claim in the DPoP proof JWT has already been used.",
    );
    // An unknown nonce is a new challenge, with the current nonce.
    let r = dpop_request(sim.addr(), &key, "dpop", &dpop_key, Some("made-up"));
    assert_oauth_error(
        &r,
        400,
        "use_dpop_nonce",
        "Authorization server requires nonce in DPoP proof.",
    );
    assert_eq!(r.header("dpop-nonce"), Some(nonce.as_str()));
}

#[test]
fn nonces_rotate_and_the_previous_one_stays_valid() {
    let key = rsa_key(0, "k1");
    let dpop_key = ec_key("d");
    let sim = sim(two_apps(&key));
    let first = dpop_request(sim.addr(), &key, "dpop", &dpop_key, None);
    let old = first.header("dpop-nonce").unwrap().to_string();
    sim.rotate_dpop_nonce();
    let r = dpop_request(sim.addr(), &key, "dpop", &dpop_key, Some(&old));
    assert_eq!(r.status, 200, "{}", r.body);
    let r = dpop_request(sim.addr(), &key, "dpop", &dpop_key, None);
    let new = r.header("dpop-nonce").unwrap();
    assert_ne!(new, old);
}

#[test]
fn resource_requests_need_a_fresh_proof_by_the_bound_key() {
    let key = rsa_key(0, "k1");
    let (dpop_key, stranger) = (ec_key("d"), ec_key("s"));
    let sim = sim(two_apps(&key));
    let token = dpop_token(sim.addr(), &key, &dpop_key, "dpop", SCOPES);
    let users = format!("{ORIGIN}/api/v1/users");
    let auth = format!("DPoP {token}");
    let refused = |p: Option<&str>, description: &str| {
        let r = get_with(sim.addr(), "/api/v1/users", &auth, p);
        assert_oauth_error(&r, 400, "invalid_dpop_proof", description);
        assert_challenge(
            &r,
            "DPoP",
            "okta.users.read",
            "invalid_dpop_proof",
            description,
            "/api/v1/users",
        );
    };
    refused(None, "The DPoP proof JWT header is missing.");
    refused(
        Some(&proof(&dpop_key, "GET", &users, None, None)),
        "'ath' claim in the DPoP proof JWT is invalid.",
    );
    refused(
        Some(&proof(
            &dpop_key,
            "GET",
            &users,
            None,
            Some("another-token"),
        )),
        "'ath' claim in the DPoP proof JWT is invalid.",
    );
    refused(
        Some(&proof(&stranger, "GET", &users, None, Some(&token))),
        "The DPoP proof JWT key does not match the access token's key binding.",
    );
    refused(
        Some(&proof(&dpop_key, "POST", &users, None, Some(&token))),
        "'htm' claim in the DPoP proof JWT is invalid.",
    );
    refused(
        Some(&proof(&dpop_key, "GET", TOKEN_URL, None, Some(&token))),
        "'htu' claim in the DPoP proof JWT is invalid.",
    );
    let once = proof(&dpop_key, "GET", &users, None, Some(&token));
    assert_eq!(
        get_with(sim.addr(), "/api/v1/users", &auth, Some(&once)).status,
        200
    );
    refused(
        Some(&once),
        "'jti' claim in the DPoP proof JWT has already been used.",
    );

    // A nonce is optional on resource requests; a made-up one is challenged.
    let made_up = proof(&dpop_key, "GET", &users, Some("made-up"), Some(&token));
    let r = get_with(sim.addr(), "/api/v1/users", &auth, Some(&made_up));
    assert_oauth_error(
        &r,
        401,
        "use_dpop_nonce",
        "Resource server requires nonce in DPoP proof.",
    );
    assert!(r.header("dpop-nonce").is_some_and(|n| n.len() >= 16));

    // A Bearer token with the DPoP scheme.
    let bearer = bearer_token(&sim, &key, "bearer", SCOPES);
    let r = dpop_get(sim.addr(), "/api/v1/users", &bearer, &dpop_key);
    assert_okta_error(&r, 401, "E0000011");
    assert_challenge(
        &r,
        "DPoP",
        "okta.users.read",
        "invalid_token",
        "The access token was presented with the wrong authorization scheme.",
        "/api/v1/users",
    );

    // The DPoP-bound token as a Bearer token.
    let r = get_with(
        sim.addr(),
        "/api/v1/users",
        &format!("Bearer {token}"),
        None,
    );
    assert_okta_error(&r, 401, "E0000011");
    assert_challenge(
        &r,
        "Bearer",
        "okta.users.read",
        "invalid_token",
        "The access token was presented with the wrong authorization scheme.",
        "/api/v1/users",
    );
}

#[test]
fn htu_is_compared_with_the_decoded_path_as_okta_does() {
    let key = rsa_key(0, "k1");
    let dpop_key = ec_key("d");
    let org = org();
    let login = org.users[0].profile["login"].as_str().unwrap().to_string();
    let sim = Simulator::start(org, config(two_apps(&key)));
    let token = dpop_token(sim.addr(), &key, &dpop_key, "dpop", SCOPES);
    let encoded = format!("/api/v1/users/{}", login.replace('@', "%40"));
    let with_htu = |htu: &str| {
        let p = proof(&dpop_key, "GET", htu, None, Some(&token));
        get_with(sim.addr(), &encoded, &format!("DPoP {token}"), Some(&p))
    };
    let r = with_htu(&format!("{ORIGIN}/api/v1/users/{login}"));
    assert_eq!(r.status, 200, "{}", r.body);
    let r = with_htu(&format!("{ORIGIN}{encoded}"));
    assert_oauth_error(
        &r,
        400,
        "invalid_dpop_proof",
        "'htu' claim in the DPoP proof JWT is invalid.",
    );
}

#[test]
fn each_endpoint_needs_its_scope() {
    let key = rsa_key(0, "k1");
    let keys = jwks(&[&key]);
    let app = |id: &str, scopes: &[&str]| {
        OAuthApp::new(id, &keys)
            .unwrap()
            .with_dpop(false)
            .with_scopes(scopes)
    };
    let sim = sim(vec![
        app("users", &["okta.users.read"]),
        app("manage", &["okta.groups.manage", "okta.logs.read"]),
    ]);
    let users_only = format!(
        "Bearer {}",
        bearer_token(&sim, &key, "users", "okta.users.read")
    );
    assert_eq!(get_as(sim.addr(), "/api/v1/users", &users_only).status, 200);
    for (path, scope) in [
        ("/api/v1/groups", "okta.groups.read"),
        ("/api/v1/logs", "okta.logs.read"),
        ("/api/v1/apps", "okta.apps.read"),
    ] {
        let r = get_as(sim.addr(), path, &users_only);
        assert_okta_error(&r, 403, "E0000006");
        assert_challenge(
            &r,
            "Bearer",
            scope,
            "insufficient_scope",
            "The access token provided does not contain the required scopes.",
            path,
        );
    }
    // `.manage` includes `.read`; `okta.logs.read` opens the System Log.
    let manage = format!(
        "Bearer {}",
        bearer_token(&sim, &key, "manage", "okta.groups.manage okta.logs.read")
    );
    assert_eq!(get_as(sim.addr(), "/api/v1/groups", &manage).status, 200);
    let logs = get_as(sim.addr(), "/api/v1/logs", &manage);
    assert_eq!((logs.status, logs.body.as_str()), (200, "[]"));
    assert_okta_error(
        &get_as(sim.addr(), "/api/v1/users", &manage),
        403,
        "E0000006",
    );
}

#[test]
fn admin_roles_decide_what_an_app_sees() {
    let key = rsa_key(0, "k1");
    let keys = jwks(&[&key]);
    let org = org();
    let group = org
        .groups
        .iter()
        .find(|g| g.name != "Everyone")
        .unwrap()
        .id
        .clone();
    let apps = vec![
        OAuthApp::new("none", &keys)
            .unwrap()
            .with_dpop(false)
            .with_admin_role(AdminRole::None),
        OAuthApp::new("scoped", &keys)
            .unwrap()
            .with_dpop(false)
            .with_admin_role(AdminRole::Groups(vec![group.clone()])),
    ];
    let sim = Simulator::start(org, config(apps));
    let none = format!("Bearer {}", bearer_token(&sim, &key, "none", SCOPES));
    for path in ["/api/v1/users", "/api/v1/groups"] {
        let r = get_as(sim.addr(), path, &none);
        let v = assert_okta_error(&r, 403, "E0000006");
        assert_eq!(
            v["errorSummary"],
            "You do not have permission to perform the requested action"
        );
        assert_eq!(r.header("www-authenticate"), None);
    }
    let scoped = format!("Bearer {}", bearer_token(&sim, &key, "scoped", SCOPES));
    let groups = get_as(sim.addr(), "/api/v1/groups", &scoped).json();
    let ids: Vec<&str> = groups
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [group.as_str()]);

    // Re-registering the app changes what its live tokens may do.
    sim.register_oauth_app(OAuthApp::new("none", &keys).unwrap().with_dpop(false));
    assert_eq!(get_as(sim.addr(), "/api/v1/users", &none).status, 200);
}

#[test]
fn expired_and_unknown_tokens_are_401_and_a_new_token_works() {
    let key = rsa_key(0, "k1");
    let mut config = config(two_apps(&key));
    config.oauth.token_lifetime = Duration::from_millis(800);
    let sim = Simulator::start(org(), config);
    let r = token_request(sim.addr(), &assertion(&key, "bearer"), SCOPES, None);
    assert_eq!(r.json()["expires_in"], 1);
    let auth = format!("Bearer {}", r.json()["access_token"].as_str().unwrap());
    assert_eq!(get_as(sim.addr(), "/api/v1/users", &auth).status, 200);
    std::thread::sleep(Duration::from_millis(900));
    let r = get_as(sim.addr(), "/api/v1/users", &auth);
    assert_okta_error(&r, 401, "E0000011");
    assert_challenge(
        &r,
        "Bearer",
        "okta.users.read",
        "invalid_token",
        "The token has expired.",
        "/api/v1/users",
    );

    let fresh = format!("Bearer {}", bearer_token(&sim, &key, "bearer", SCOPES));
    assert_eq!(get_as(sim.addr(), "/api/v1/users", &fresh).status, 200);
    sim.expire_access_tokens();
    assert_okta_error(
        &get_as(sim.addr(), "/api/v1/users", &fresh),
        401,
        "E0000011",
    );
    assert_eq!(
        sim.token_stats(),
        TokenStats {
            requests: 2,
            issued: 2
        }
    );

    let r = get_as(sim.addr(), "/api/v1/groups", "Bearer made-up");
    assert_okta_error(&r, 401, "E0000011");
    assert_challenge(
        &r,
        "Bearer",
        "okta.groups.read",
        "invalid_token",
        "The access token is invalid.",
        "/api/v1/groups",
    );
    // SSWS is unchanged.
    assert_eq!(
        get_as(sim.addr(), "/api/v1/users", "SSWS test-token").status,
        200
    );
}

#[test]
fn an_app_gets_half_of_each_bucket_and_ssws_the_rest() {
    let key = rsa_key(0, "k1");
    let mut config = config(two_apps(&key));
    config.rate_limits = RateLimits {
        users: 10,
        ..RateLimits::okta_defaults(Duration::from_secs(60))
    };
    let sim = Simulator::start(org(), config);
    let auth = format!("Bearer {}", bearer_token(&sim, &key, "bearer", SCOPES));
    for remaining in (0..5).rev() {
        let r = get_as(sim.addr(), "/api/v1/users", &auth);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.header("x-rate-limit-limit"), Some("5"));
        assert_eq!(
            r.header("x-rate-limit-remaining"),
            Some(remaining.to_string().as_str())
        );
    }
    let r = get_as(sim.addr(), "/api/v1/users", &auth);
    assert_okta_error(&r, 429, "E0000047");
    assert_eq!(r.header("x-rate-limit-remaining"), Some("0"));
    let ssws = get_as(sim.addr(), "/api/v1/users", "SSWS test-token");
    assert_eq!(ssws.status, 200);
    assert_eq!(ssws.header("x-rate-limit-limit"), Some("10"));
    assert_eq!(
        ssws.header("x-rate-limit-remaining"),
        Some("3"),
        "the app's six requests count in the org's bucket"
    );
}

#[test]
fn faults_hit_the_token_endpoint_like_any_path() {
    let key = rsa_key(0, "k1");
    let sim = sim(two_apps(&key));
    sim.add_fault(okta_sim::Fault {
        path_prefix: "/oauth2/v1/token".into(),
        nth: 1,
        times: 1,
        kind: okta_sim::FaultKind::Status(503),
    });
    let r = token_request(sim.addr(), &assertion(&key, "bearer"), SCOPES, None);
    assert_eq!(r.status, 503);
    let r = token_request(sim.addr(), &assertion(&key, "bearer"), SCOPES, None);
    assert_eq!(r.status, 200, "{}", r.body);
    // The faulted request never reached the endpoint: recorded, not in the stats.
    assert_eq!(sim.request_count("/oauth2/v1/token"), 2);
    assert_eq!(
        sim.token_stats(),
        TokenStats {
            requests: 1,
            issued: 1
        }
    );
}
