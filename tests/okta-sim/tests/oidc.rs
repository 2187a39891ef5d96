//! OpenID Connect end to end, as a relying party runs it: discovery, the
//! authorize request with PKCE, the login form read and posted like a browser,
//! the code exchange, the ID token verified with `jsonwebtoken` against the JWKS;
//! key rotation; every refusal with its exact status, body or redirect; each
//! fault producing exactly its defect.

mod common;

use common::oidc::*;
use okta_sim::{GenSpec, OidcClient, OidcConfig, OidcFault, OidcLogin, Org, SimConfig, Simulator};
use serde_json::{Value, json};

/// The org, with one user of each status a sign-in test needs.
struct Users {
    active: String,
    suspended: String,
    deprovisioned: String,
}

fn org() -> (Org, Users) {
    let mut org = Org::generate(&GenSpec {
        users: 30,
        groups: 2,
        memberships_per_user: 1,
        seed: 7,
    });
    let ids: Vec<String> = org
        .users
        .iter()
        .filter(|u| u.status == "ACTIVE")
        .map(|u| u.id.clone())
        .collect();
    org.set_status(&ids[1], "SUSPENDED");
    org.set_status(&ids[2], "DEPROVISIONED");
    let login = |id: &str| {
        org.user(id).unwrap().profile["login"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let users = Users {
        active: login(&ids[0]),
        suspended: login(&ids[1]),
        deprovisioned: login(&ids[2]),
    };
    (org, users)
}

/// A simulator with the web app [`WEB`] (secret, PKCE required) and the public
/// client [`SPA`], both redirecting to [`CALLBACK`].
fn sim() -> (Simulator, Users) {
    let (org, users) = org();
    let oidc = OidcConfig {
        clients: vec![
            OidcClient::new(WEB, SECRET).with_redirect_uri(CALLBACK),
            OidcClient::public(SPA).with_redirect_uri(CALLBACK),
        ],
        ..OidcConfig::default()
    };
    (
        Simulator::start(
            org,
            SimConfig {
                oidc,
                ..SimConfig::default()
            },
        ),
        users,
    )
}

fn user_id(sim: &Simulator, login: &str) -> String {
    sim.with_org(|org| org.user_by_login(login).unwrap().id.clone())
}

#[test]
fn discovery_names_the_org_authorization_server() {
    let (sim, _) = sim();
    let r = get(sim.addr(), "/.well-known/openid-configuration");
    assert_eq!(r.status, 200);
    let d = r.json();
    assert_eq!(d["issuer"], ISSUER);
    assert_eq!(sim.issuer(), ISSUER);
    for (field, path) in [
        ("authorization_endpoint", "authorize"),
        ("token_endpoint", "token"),
        ("userinfo_endpoint", "userinfo"),
        ("jwks_uri", "keys"),
    ] {
        assert_eq!(d[field], format!("{ISSUER}/oauth2/v1/{path}"));
    }
    assert_eq!(d["response_types_supported"], json!(["code"]));
    assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(d["id_token_signing_alg_values_supported"], json!(["RS256"]));
    assert_eq!(
        d["grant_types_supported"],
        json!(["authorization_code", "client_credentials"])
    );
    for scope in ["openid", "profile", "email"] {
        assert!(
            d["scopes_supported"]
                .as_array()
                .unwrap()
                .contains(&json!(scope))
        );
    }
    for claim in [
        "sub",
        "nonce",
        "preferred_username",
        "email",
        "name",
        "auth_time",
    ] {
        assert!(
            d["claims_supported"]
                .as_array()
                .unwrap()
                .contains(&json!(claim))
        );
    }
}

#[test]
fn the_whole_code_flow_with_pkce_gives_a_verifiable_id_token() {
    let (sim, users) = sim();
    let addr = sim.addr();
    let page = get(addr, &authorize_target(WEB, &[]));
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(page.body.contains("name=\"username\"") && page.body.contains("name=\"password\""));
    let back = redirect_params(&submit_login(
        addr,
        &page,
        &users.active,
        okta_sim::oidc::DEFAULT_PASSWORD,
    ));
    assert_eq!(param(&back, "state"), Some("st-1"));
    let r = exchange(addr, param(&back, "code").unwrap());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let t = r.json();
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 3600);
    assert_eq!(t["scope"], "openid profile email");
    let claims = verify_id_token(addr, t["id_token"].as_str().unwrap(), WEB, "n-1").unwrap();
    let sub = user_id(&sim, &users.active);
    assert_eq!(claims["sub"], sub.as_str());
    assert_eq!(claims["preferred_username"], users.active.as_str());
    assert_eq!(claims["email"], users.active.as_str());
    assert!(claims["name"].as_str().is_some_and(|n| n.contains(' ')));
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert_eq!(exp - iat, 3600);
    assert!(claims["auth_time"].as_i64().unwrap() <= iat);
    let header = jsonwebtoken::decode_header(t["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(sim.signing_kids(), [header.kid.unwrap()]);
    let bearer = format!("Bearer {}", t["access_token"].as_str().unwrap());
    let info = common::request(
        addr,
        "GET",
        "/oauth2/v1/userinfo",
        &[("Authorization", &bearer)],
    );
    assert_eq!(info.status, 200, "{}", info.body);
    assert_eq!(info.json()["sub"], sub.as_str());
    assert_eq!(info.json()["preferred_username"], users.active.as_str());
}

#[test]
fn client_secret_post_and_a_public_client_exchange_codes() {
    let (sim, users) = sim();
    let addr = sim.addr();
    let pw = okta_sim::oidc::DEFAULT_PASSWORD;
    let code = login_code(addr, WEB, &users.active, pw);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
        ("client_id", WEB),
        ("client_secret", SECRET),
    ];
    assert_eq!(post_form(addr, "/oauth2/v1/token", &[], &form).status, 200);
    let code = login_code(addr, SPA, &users.active, pw);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
        ("client_id", SPA),
    ];
    let r = post_form(addr, "/oauth2/v1/token", &[], &form);
    assert_eq!(r.status, 200, "{}", r.body);
    verify_id_token(addr, r.json()["id_token"].as_str().unwrap(), SPA, "n-1").unwrap();
}

/// Asserts an RFC 6749 error body.
fn assert_oauth_error(r: &common::Resp, status: u16, error: &str, description: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(
        r.json(),
        json!({ "error": error, "error_description": description }),
        "{error}"
    );
}

#[test]
fn a_code_is_single_use() {
    let (sim, users) = sim();
    let code = login_code(
        sim.addr(),
        WEB,
        &users.active,
        okta_sim::oidc::DEFAULT_PASSWORD,
    );
    assert_eq!(exchange(sim.addr(), &code).status, 200);
    let again = exchange(sim.addr(), &code);
    assert_oauth_error(
        &again,
        400,
        "invalid_grant",
        "The authorization code is invalid or has expired.",
    );
}
