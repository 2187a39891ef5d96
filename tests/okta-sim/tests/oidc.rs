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

/// Code-exchange refusals: (what, client authentication header, form, status, error, description).
type TokenCase = (
    &'static str,
    Option<String>,
    Vec<(&'static str, String)>,
    u16,
    &'static str,
    &'static str,
);

fn token_cases(code: &str) -> Vec<TokenCase> {
    let form = |extra: &[(&'static str, &str)], drop: &str| {
        let mut f: Vec<(&'static str, String)> = vec![
            ("grant_type", "authorization_code".into()),
            ("code", code.into()),
            ("redirect_uri", CALLBACK.into()),
            ("code_verifier", VERIFIER.into()),
        ];
        f.retain(|(k, _)| *k != drop);
        f.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        f
    };
    let web = Some(basic(WEB, SECRET));
    let post = [("client_id", WEB), ("client_secret", SECRET)];
    let client_auth =
        "Client authentication failed. Either the client or the client credentials are invalid.";
    vec![
        (
            "no client authentication",
            None,
            form(&[], ""),
            401,
            "invalid_client",
            client_auth,
        ),
        (
            "client_id without secret",
            None,
            form(&[("client_id", WEB)], ""),
            401,
            "invalid_client",
            client_auth,
        ),
        (
            "wrong secret",
            Some(basic(WEB, "nope")),
            form(&[], ""),
            401,
            "invalid_client",
            "The client secret supplied for a confidential client is invalid.",
        ),
        (
            "header and body",
            web.clone(),
            form(&post, ""),
            401,
            "invalid_request",
            "Cannot supply multiple client credentials. Use one of the following: credentials in the Authorization header, credentials in the post body, or a client_assertion in the post body.",
        ),
        (
            "no code",
            web.clone(),
            form(&[], "code"),
            400,
            "invalid_request",
            "The 'code' parameter is required.",
        ),
        (
            "no redirect_uri",
            web.clone(),
            form(&[], "redirect_uri"),
            400,
            "invalid_request",
            "The 'redirect_uri' parameter is required.",
        ),
        (
            "unknown code",
            web.clone(),
            form(&[("code", "nope")], "code"),
            400,
            "invalid_grant",
            "The authorization code is invalid or has expired.",
        ),
    ]
}

#[test]
fn code_exchange_refusals_are_oktas() {
    let (sim, users) = sim();
    let addr = sim.addr();
    let code = login_code(addr, WEB, &users.active, okta_sim::oidc::DEFAULT_PASSWORD);
    for (what, auth, form, status, error, description) in token_cases(&code) {
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = post_form(addr, "/oauth2/v1/token", &headers, &form);
        assert_eq!(r.status, status, "{what}: {}", r.body);
        assert_eq!(
            r.json(),
            json!({ "error": error, "error_description": description }),
            "{what}"
        );
    }
    // None of those consumed the code (they failed before it was looked up).
    assert_eq!(exchange(addr, &code).status, 200);
    let unknown = post_form(
        addr,
        "/oauth2/v1/token",
        &[("Authorization", &basic("0oaNobody", "x"))],
        &[
            ("grant_type", "authorization_code"),
            ("code", "c"),
            ("redirect_uri", CALLBACK),
        ],
    );
    let v = common::assert_okta_error(&unknown, 401, "invalid_client");
    assert_eq!(
        v["errorSummary"],
        "Invalid value for 'client_id' parameter."
    );
}

#[test]
fn a_code_is_bound_to_its_client_redirect_uri_and_verifier() {
    let (sim, users) = sim();
    let addr = sim.addr();
    let pw = okta_sim::oidc::DEFAULT_PASSWORD;
    let exchange_with = |code: &str, client: &str, redirect: &str, verifier: Option<&str>| {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect),
            ("client_id", client),
        ];
        form.extend(verifier.map(|v| ("code_verifier", v)));
        post_form(addr, "/oauth2/v1/token", &[], &form)
    };
    let code = login_code(addr, WEB, &users.active, pw);
    let r = exchange_with(&code, SPA, CALLBACK, Some(VERIFIER));
    assert_oauth_error(
        &r,
        400,
        "invalid_grant",
        "The authorization code is invalid or has expired.",
    );
    let code = login_code(addr, SPA, &users.active, pw);
    let r = exchange_with(&code, SPA, "https://jira.example.com/other", Some(VERIFIER));
    assert_oauth_error(
        &r,
        400,
        "invalid_grant",
        "The 'redirect_uri' does not match the redirection URI used in the authorization request.",
    );
    let code = login_code(addr, SPA, &users.active, pw);
    let r = exchange_with(
        &code,
        SPA,
        CALLBACK,
        Some("wrong-verifier-wrong-verifier-wrong-verifier-x"),
    );
    assert_oauth_error(&r, 400, "invalid_grant", "PKCE verification failed.");
    let code = login_code(addr, SPA, &users.active, pw);
    let r = exchange_with(&code, SPA, CALLBACK, None);
    assert_oauth_error(
        &r,
        400,
        "invalid_request",
        "PKCE code verifier is required when the parameter code_challenge was provided in the authorize request.",
    );
    // A failed exchange used the code up.
    let r = exchange_with(&code, SPA, CALLBACK, Some(VERIFIER));
    assert_oauth_error(
        &r,
        400,
        "invalid_grant",
        "The authorization code is invalid or has expired.",
    );
    let code = login_code(addr, SPA, &users.active, pw);
    sim.expire_oidc_grants();
    let r = exchange_with(&code, SPA, CALLBACK, Some(VERIFIER));
    assert_oauth_error(
        &r,
        400,
        "invalid_grant",
        "The authorization code is invalid or has expired.",
    );
}

#[test]
fn a_bad_client_or_redirect_uri_is_an_error_page_never_a_redirect() {
    let (sim, _) = sim();
    for (extra, summary, code) in [
        (
            ("client_id", "0oaNobody"),
            "Invalid value for 'client_id' parameter.",
            "invalid_client",
        ),
        (
            ("client_id", ""),
            "Invalid value for 'client_id' parameter.",
            "invalid_client",
        ),
        (
            ("redirect_uri", "https://evil.example.com/cb"),
            "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings.",
            "invalid_request",
        ),
        (
            ("redirect_uri", &format!("{CALLBACK}/")),
            "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings.",
            "invalid_request",
        ),
    ] {
        let r = get(sim.addr(), &authorize_target(WEB, &[extra]));
        assert_eq!(r.status, 400, "{extra:?}");
        assert!(r.header("location").is_none());
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
        let expected = format!("<p id=\"okta-sim-error-summary\">{summary}</p>");
        assert!(r.body.contains(&expected), "{extra:?}: {}", r.body);
        assert!(
            r.body
                .contains(&format!("<span id=\"okta-sim-error-code\">{code}</span>"))
        );
    }
}

#[test]
fn other_authorize_errors_are_redirected_with_state() {
    let (sim, _) = sim();
    let plain = "Invalid value for 'code_challenge_method' parameter.";
    for (extra, error, description) in [
        (
            vec![("response_type", "token")],
            "unsupported_response_type",
            "The response type is not supported by the authorization server. Configured response types: [code].",
        ),
        (
            vec![("scope", "")],
            "invalid_scope",
            "The authorization server resource does not have any configured default scopes, 'scope' must be provided.",
        ),
        (
            vec![("scope", "profile email")],
            "invalid_scope",
            "The 'openid' scope is required.",
        ),
        (
            vec![("scope", "openid photos")],
            "invalid_scope",
            "One or more scopes are not configured for the authorization server resource.",
        ),
        (
            vec![("state", ""), ("nonce", "x")],
            "invalid_request",
            "The 'state' parameter is required.",
        ),
        (
            vec![("code_challenge", "")],
            "invalid_request",
            "PKCE code challenge is required by the application.",
        ),
        (
            vec![("code_challenge_method", "plain")],
            "invalid_request",
            plain,
        ),
        (
            vec![("code_challenge_method", "")],
            "invalid_request",
            plain,
        ),
        (
            vec![("code_challenge", "short")],
            "invalid_request",
            "Invalid value for 'code_challenge' parameter.",
        ),
        (
            vec![("prompt", "none")],
            "login_required",
            "The client specified not to prompt, but the user is not logged in.",
        ),
    ] {
        let back = redirect_params(&get(sim.addr(), &authorize_target(WEB, &extra)));
        assert_eq!(param(&back, "error"), Some(error), "{extra:?}");
        assert_eq!(
            param(&back, "error_description"),
            Some(description),
            "{extra:?}"
        );
        let state = if extra[0].0 == "state" {
            None
        } else {
            Some("st-1")
        };
        assert_eq!(param(&back, "state"), state, "{extra:?}");
        assert!(param(&back, "code").is_none());
    }
}

/// Posts the form for `login` / `password`; asserts the form comes back 401 with
/// `message`.
fn assert_refused(sim: &Simulator, login: &str, password: &str, message: &str) {
    let page = get(sim.addr(), &authorize_target(WEB, &[]));
    let r = submit_login(sim.addr(), &page, login, password);
    assert_eq!(r.status, 401, "{login}: {}", r.body);
    assert!(r.header("location").is_none());
    assert!(
        r.body.contains(&format!(
            "<p id=\"okta-sim-error\" role=\"alert\">{message}</p>"
        )),
        "{}",
        r.body
    );
    assert!(
        r.body.contains(&format!("value=\"{login}\"")),
        "username kept"
    );
    assert_eq!(
        hidden_inputs(&r.body),
        hidden_inputs(&page.body),
        "the request carried on"
    );
}

#[test]
fn wrong_passwords_and_inactive_users_are_refused_at_the_form() {
    let (sim, users) = sim();
    let pw = okta_sim::oidc::DEFAULT_PASSWORD;
    assert_refused(&sim, &users.active, "wrong", "Unable to sign in");
    assert_refused(&sim, "nobody@example.com", pw, "Unable to sign in");
    assert_refused(&sim, &users.suspended, pw, "Unable to sign in");
    assert_refused(&sim, &users.deprovisioned, pw, "Unable to sign in");
    let locked = user_id(&sim, &users.active);
    sim.with_org(|org| org.set_status(&locked, "LOCKED_OUT"));
    assert_refused(
        &sim,
        &users.active,
        pw,
        "Your account is locked. Please contact your administrator.",
    );
    sim.with_org(|org| org.set_status(&locked, "ACTIVE"));
    sim.set_password(&users.active, "n3w-Passw0rd");
    assert_refused(&sim, &users.active, pw, "Unable to sign in");
    login_code(
        sim.addr(),
        WEB,
        &users.active.to_uppercase(),
        "n3w-Passw0rd",
    );
}

#[test]
fn a_user_suspended_after_signing_in_gets_no_tokens() {
    let (sim, users) = sim();
    let code = login_code(
        sim.addr(),
        WEB,
        &users.active,
        okta_sim::oidc::DEFAULT_PASSWORD,
    );
    let id = user_id(&sim, &users.active);
    sim.with_org(|org| org.set_status(&id, "SUSPENDED"));
    let r = exchange(sim.addr(), &code);
    assert_oauth_error(
        &r,
        400,
        "invalid_grant",
        "The authorization code is invalid or has expired.",
    );
}

#[test]
fn a_change_after_the_next_code_exchange_lands_once_the_tokens_are_issued() {
    let (sim, users) = sim();
    let id = user_id(&sim, &users.active);
    let suspended = id.clone();
    sim.after_next_code_exchange(move |org| org.set_status(&suspended, "SUSPENDED"));
    sim.set_oidc_login(OidcLogin::As(users.active.clone()));
    let r = signed_in_exchange(&sim);
    assert_eq!(r.status, 200, "issued while the user was active");
    let status = sim.with_org(|org| org.user(&id).unwrap().status.clone());
    assert_eq!(status, "SUSPENDED", "then changed");
    sim.with_org(|org| org.set_status(&id, "ACTIVE"));
    assert_eq!(signed_in_exchange(&sim).status, 200);
    let status = sim.with_org(|org| org.user(&id).unwrap().status.clone());
    assert_eq!(status, "ACTIVE", "once only");
}

#[test]
fn tests_can_sign_users_in_without_the_form() {
    let (sim, users) = sim();
    let hint = authorize_target(WEB, &[("login_hint", &users.active)]);
    assert_eq!(get(sim.addr(), &hint).status, 200, "the form by default");
    sim.set_oidc_login(OidcLogin::LoginHint);
    let back = redirect_params(&get(sim.addr(), &hint));
    let r = exchange(sim.addr(), param(&back, "code").unwrap());
    let claims = verify_id_token(
        sim.addr(),
        r.json()["id_token"].as_str().unwrap(),
        WEB,
        "n-1",
    )
    .unwrap();
    assert_eq!(claims["preferred_username"], users.active.as_str());
    assert_eq!(
        get(sim.addr(), &authorize_target(WEB, &[])).status,
        200,
        "no hint: the form"
    );
    let suspended = authorize_target(WEB, &[("login_hint", &users.suspended)]);
    assert_eq!(
        get(sim.addr(), &suspended).status,
        401,
        "refused like at the form"
    );
    sim.set_oidc_login(OidcLogin::As(users.active.clone()));
    let back = redirect_params(&get(
        sim.addr(),
        &authorize_target(WEB, &[("prompt", "none")]),
    ));
    assert!(param(&back, "code").is_some());
}

/// With a user signed in by the test ([`OidcLogin::As`]): the authorize request
/// redirects at once; the exchange of its code.
fn signed_in_exchange(sim: &Simulator) -> common::Resp {
    let back = redirect_params(&get(sim.addr(), &authorize_target(WEB, &[])));
    exchange(sim.addr(), param(&back, "code").unwrap())
}

#[test]
fn keys_rotate_the_old_one_kept_until_removed() {
    let (sim, users) = sim();
    sim.set_oidc_login(OidcLogin::As(users.active.clone()));
    let id_token = |sim: &Simulator| {
        let r = signed_in_exchange(sim);
        r.json()["id_token"].as_str().unwrap().to_string()
    };
    let kid_of = |t: &str| jsonwebtoken::decode_header(t).unwrap().kid.unwrap();
    let old = id_token(&sim);
    let first = sim.signing_kids();
    let second = sim.rotate_signing_key();
    assert_ne!(first[0], second);
    assert_eq!(sim.signing_kids(), [first[0].clone(), second.clone()]);
    let published: Vec<_> = jwks(sim.addr())
        .keys
        .iter()
        .map(|k| k.common.key_id.clone().unwrap())
        .collect();
    assert_eq!(published, sim.signing_kids());
    let new = id_token(&sim);
    assert_eq!(kid_of(&new), second);
    verify_id_token(sim.addr(), &old, WEB, "n-1").expect("the old key still verifies");
    verify_id_token(sim.addr(), &new, WEB, "n-1").unwrap();
    sim.remove_old_signing_keys();
    assert_eq!(sim.signing_kids(), [second]);
    assert_eq!(
        verify_id_token(sim.addr(), &old, WEB, "n-1"),
        Err("unknown kid".into())
    );
    verify_id_token(sim.addr(), &new, WEB, "n-1").unwrap();
    let jwk = &jwks(sim.addr()).keys[0];
    let v: Value = serde_json::to_value(jwk).unwrap();
    assert_eq!(
        (v["kty"].as_str(), v["alg"].as_str(), v["use"].as_str()),
        (Some("RSA"), Some("RS256"), Some("sig"))
    );
}

#[test]
fn each_fault_produces_exactly_its_defect() {
    let (sim, users) = sim();
    sim.set_oidc_login(OidcLogin::As(users.active.clone()));
    for (fault, defect) in [
        (OidcFault::WrongAudience, "InvalidAudience"),
        (OidcFault::WrongIssuer, "InvalidIssuer"),
        (OidcFault::Expired, "ExpiredSignature"),
        (OidcFault::IssuedInFuture, "iat in the future"),
        (OidcFault::BadSignature, "InvalidSignature"),
        (OidcFault::UnknownKid, "unknown kid"),
        (OidcFault::MissingNonce, "nonce"),
        (OidcFault::WrongNonce, "nonce"),
    ] {
        sim.add_oidc_fault(Some(WEB), fault);
        let r = signed_in_exchange(&sim);
        let token = r.json()["id_token"].as_str().unwrap().to_string();
        assert_eq!(
            verify_id_token(sim.addr(), &token, WEB, "n-1"),
            Err(defect.to_string()),
            "{fault:?}"
        );
        sim.clear_oidc_faults();
        // The only defect: the token is otherwise what it would be.
        let claims: Value = jsonwebtoken::dangerous::insecure_decode_claims(&token).unwrap();
        assert_eq!(
            claims["sub"],
            user_id(&sim, &users.active).as_str(),
            "{fault:?}"
        );
    }
}

#[test]
fn flow_faults_replay_the_code_or_change_the_state_for_one_client_or_all() {
    let (sim, users) = sim();
    sim.set_oidc_login(OidcLogin::As(users.active.clone()));
    sim.add_oidc_fault(Some(SPA), OidcFault::CodeReplayed);
    assert_eq!(
        signed_in_exchange(&sim).status,
        200,
        "another client's fault"
    );
    sim.add_oidc_fault(None, OidcFault::CodeReplayed);
    let r = signed_in_exchange(&sim);
    assert_oauth_error(
        &r,
        400,
        "invalid_grant",
        "The authorization code is invalid or has expired.",
    );
    sim.clear_oidc_faults();
    sim.add_oidc_fault(Some(WEB), OidcFault::StateMismatch);
    let back = redirect_params(&get(sim.addr(), &authorize_target(WEB, &[])));
    assert_eq!(param(&back, "state"), Some("st-1-tampered"));
    assert!(param(&back, "code").is_some());
}

#[test]
fn userinfo_refuses_unknown_and_expired_tokens() {
    let (sim, users) = sim();
    let challenge = "Bearer authorization_uri=\"https://acme.okta.com/oauth2/v1/authorize\", realm=\"https://acme.okta.com\", scope=\"openid\", error=\"invalid_token\", error_description=\"The access token is invalid.\", resource=\"\"";
    let code = login_code(
        sim.addr(),
        WEB,
        &users.active,
        okta_sim::oidc::DEFAULT_PASSWORD,
    );
    let token = exchange(sim.addr(), &code).json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let bearer = format!("Bearer {token}");
    for auth in [Some("Bearer nope"), None] {
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", *a)).collect();
        let r = common::request(sim.addr(), "GET", "/oauth2/v1/userinfo", &headers);
        assert_eq!((r.status, r.body.as_str()), (401, ""));
        assert_eq!(r.header("www-authenticate"), Some(challenge));
    }
    let r = post_form(
        sim.addr(),
        "/oauth2/v1/userinfo",
        &[("Authorization", &bearer)],
        &[],
    );
    assert_eq!(r.status, 200);
    let api = common::request(
        sim.addr(),
        "GET",
        "/api/v1/users",
        &[("Authorization", &bearer)],
    );
    assert_eq!(
        api.status, 401,
        "an OIDC access token is no Management API token"
    );
    sim.expire_oidc_grants();
    let r = common::request(
        sim.addr(),
        "GET",
        "/oauth2/v1/userinfo",
        &[("Authorization", &bearer)],
    );
    assert_eq!(r.status, 401);
}

#[test]
fn the_form_carries_any_state_escaped_and_prompt_login_shows_it() {
    let (sim, users) = sim();
    let odd = "a\"<b>&c d'e";
    let page = get(sim.addr(), &authorize_target(WEB, &[("state", odd)]));
    assert!(!page.body.contains("<b>"), "escaped");
    let r = submit_login(
        sim.addr(),
        &page,
        &users.active,
        okta_sim::oidc::DEFAULT_PASSWORD,
    );
    assert_eq!(param(&redirect_params(&r), "state"), Some(odd));
    sim.set_oidc_login(OidcLogin::As(users.active.clone()));
    let again = get(sim.addr(), &authorize_target(WEB, &[("prompt", "login")]));
    assert_eq!(again.status, 200, "the form, although a user is signed in");
}
