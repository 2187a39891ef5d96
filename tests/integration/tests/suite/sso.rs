//! Single sign-on without a browser: the OIDC flow against the simulator's org
//! authorization server, the ID token's every fault refused by name (and nothing
//! synced or opened), JWKS key rotation, the update methods, and the REST API's
//! identity providers. The browser tests are `sso_browser`.

use crate::sso_support::{
    CLIENT_SECRET, START, cookie, last_record, login, memberships, refusal, server,
};
use crate::web_support::{PAGE, REST, call, login as admin_login};
use integration::CONNECTOR;
use okta_sim::OidcFault;
use usersync::model::idp::{Decision, UpdateMethod};

/// An ACTIVE user's login, its Okta id, and its memberships as a first sync makes them.
fn active_user(s: &crate::web_support::Server) -> (String, String, Vec<String>) {
    s.env.sim.with_org(|o| {
        let login = o.first_active_login().expect("an active user");
        let id = o.user_by_login(&login).unwrap().id.clone();
        let groups = memberships(o, &login);
        (login, id, groups)
    })
}

#[test]
fn update_with_usersync_creates_the_user_with_its_groups_and_opens_a_product_session() {
    let s = server(30, 6, UpdateMethod::Usersync);
    let (login_name, okta_id, groups) = active_user(&s);
    assert!(!groups.is_empty(), "the user is in groups");
    assert!(s.env.store().users.is_empty(), "nothing synced yet");
    s.env.sim.clear_requests();
    let l = login(&s, &login_name);
    assert_eq!(l.callback.status, 303, "{}", l.callback.body);
    assert_eq!(l.callback.header("location"), Some("/home"));
    // Exactly the login sync's two requests, by the ID token's `sub`.
    let api: Vec<String> = s
        .env
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/"))
        .map(|r| r.path)
        .collect();
    assert_eq!(
        api,
        [
            format!("/api/v1/users/{okta_id}"),
            format!("/api/v1/users/{okta_id}/groups")
        ]
    );
    // The code exchange authenticated with the client secret, Basic.
    let token = s
        .env
        .sim
        .requests()
        .into_iter()
        .find(|r| r.path == "/oauth2/v1/token")
        .unwrap();
    assert!(token.authorization.unwrap().starts_with("Basic "));
    let store = s.env.store();
    let user = store
        .users
        .iter()
        .find(|u| u.okta_id == okta_id)
        .expect("created");
    assert!(user.active);
    let stored: Vec<String> = store
        .memberships
        .iter()
        .filter(|(u, _)| *u == user.username)
        .map(|(_, g)| g.clone())
        .collect();
    assert_eq!(stored, groups);
    // The product user's page names the user and its groups; the admin page is not theirs.
    let session = l.session.expect("a product session");
    let home = call("GET", s.url("/home"))
        .header("cookie", &session)
        .send();
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(
        home.body.contains(&format!(
            "You are logged in as <span id=\"username\">{}</span> in Jira",
            user.username
        )),
        "{}",
        home.body
    );
    for g in &groups {
        assert!(
            home.body.contains(&format!("<li>{g}</li>")),
            "{g}: {}",
            home.body
        );
    }
    let admin = call("GET", s.url(PAGE)).header("cookie", &session).send();
    assert_eq!(admin.status, 303, "a product session is no admin session");
    let rest = call("GET", s.url(&format!("{REST}/connectors")))
        .header("cookie", &session)
        .send();
    assert_eq!(rest.status, 401);
    // Every step recorded, the login admitted.
    let r = last_record(&s);
    let steps: Vec<(&str, bool)> = r.steps.iter().map(|s| (s.step.as_str(), s.ok)).collect();
    assert_eq!(
        steps,
        [
            ("redirect", true),
            ("callback", true),
            ("token", true),
            ("claims", true),
            ("user-sync", true),
            ("decision", true)
        ]
    );
    assert_eq!(r.decision, Some(Decision::Admitted));
    assert_eq!(r.username.as_deref(), Some(user.username.as_str()));
    assert!(!format!("{r:?}").contains(CLIENT_SECRET));
    // The user's session ends at logout, and with the user deactivated in the store.
    let out = call("POST", s.url("/logout"))
        .header("cookie", &session)
        .send();
    assert_eq!(out.status, 303);
    let home = call("GET", s.url("/home"))
        .header("cookie", &session)
        .send();
    assert_eq!(
        (home.status, home.header("location")),
        (303, Some("/login"))
    );
}

/// Each fault of the simulator, and the sentence the login is refused with.
const FAULTS: [(OidcFault, &str, &str); 10] = [
    (
        OidcFault::WrongAudience,
        "claims",
        "the ID token is refused: its audience is `0oaSomeOtherClient`, not this identity provider's client id `0oaSsoWebApp1`",
    ),
    (
        OidcFault::WrongIssuer,
        "claims",
        "the ID token is refused: its issuer is `https://acme.okta.com/oauth2/default`, not `https://acme.okta.com`",
    ),
    (
        OidcFault::Expired,
        "claims",
        "the ID token is refused: it expired (exp ",
    ),
    (
        OidcFault::IssuedInFuture,
        "claims",
        "the ID token is refused: it was issued 3",
    ),
    (
        OidcFault::BadSignature,
        "claims",
        "the ID token is refused: its signature does not verify with the org's key",
    ),
    (
        OidcFault::UnknownKid,
        "claims",
        "the ID token is refused: its key `unknown-",
    ),
    (
        OidcFault::MissingNonce,
        "claims",
        "the ID token is refused: it carries no nonce, and the login sent one",
    ),
    (
        OidcFault::WrongNonce,
        "claims",
        "the ID token is refused: its nonce is not this login's (a token of another login, replayed)",
    ),
    (
        OidcFault::CodeReplayed,
        "token",
        "Okta refused the code exchange (400 invalid_grant: The authorization code is invalid or has expired.)",
    ),
    (
        OidcFault::StateMismatch,
        "callback",
        "the callback's state does not match a login started in this browser",
    ),
];

#[test]
fn every_id_token_fault_is_refused_by_name_and_nothing_is_synced_or_opened() {
    let s = server(10, 3, UpdateMethod::Usersync);
    let (login_name, _, _) = active_user(&s);
    for (fault, step, message) in FAULTS {
        s.env.sim.add_oidc_fault(None, fault);
        s.env.sim.clear_requests();
        let l = login(&s, &login_name);
        assert_eq!(l.callback.status, 403, "{fault:?}: {}", l.callback.body);
        assert!(l.session.is_none(), "{fault:?}: no session");
        assert!(
            refusal(&l.callback).starts_with(message),
            "{fault:?}: {}",
            refusal(&l.callback)
        );
        assert_eq!(
            s.env.sim.request_count("/api/"),
            0,
            "{fault:?}: no login sync"
        );
        let r = last_record(&s);
        assert_eq!(r.decision, Some(Decision::Refused), "{fault:?}");
        assert!(
            r.reason.as_deref().unwrap().starts_with(message),
            "{fault:?}: {:?}",
            r.reason
        );
        let failed = r.steps.iter().find(|x| !x.ok).unwrap();
        assert_eq!(failed.step, step, "{fault:?}");
        s.env.sim.clear_oidc_faults();
    }
    assert!(s.env.store().users.is_empty(), "no fault synced anyone");
    // The same login, without faults, passes.
    assert_eq!(login(&s, &login_name).callback.status, 303);
}

#[test]
fn a_callback_replayed_or_from_another_browser_is_refused() {
    let s = server(5, 2, UpdateMethod::Usersync);
    let (login_name, _, _) = active_user(&s);
    s.env
        .sim
        .set_oidc_login(okta_sim::OidcLogin::As(login_name));
    let started = call("GET", s.url(START)).send();
    let state = cookie(&started, "usersync_sso_state").unwrap();
    let okta = call("GET", started.header("location").unwrap()).send();
    let back = okta.header("location").unwrap().to_string();
    // Without the browser's state cookie (another browser, a forged link): refused.
    let foreign = call("GET", &back).send();
    assert_eq!(foreign.status, 403);
    assert!(refusal(&foreign).starts_with("the callback's state does not match"));
    // With it: admitted once; the same callback again is refused (the state is used).
    let first = call("GET", &back).header("cookie", &state).send();
    assert_eq!(first.status, 303, "{}", first.body);
    let again = call("GET", &back).header("cookie", &state).send();
    assert_eq!(again.status, 403);
}

#[test]
fn a_rotated_signing_key_is_fetched_once_and_a_key_not_in_the_jwks_refused() {
    let s = server(5, 2, UpdateMethod::Usersync);
    let (login_name, _, _) = active_user(&s);
    assert_eq!(login(&s, &login_name).callback.status, 303);
    s.env.sim.clear_requests();
    assert_eq!(login(&s, &login_name).callback.status, 303);
    assert_eq!(
        s.env.sim.request_count("/oauth2/v1/keys"),
        0,
        "the JWKS is cached"
    );
    // Okta rotates: a token signed by the new key fetches the JWKS once more.
    let kid = s.env.sim.rotate_signing_key();
    s.env.sim.remove_old_signing_keys();
    assert_eq!(s.env.sim.signing_kids(), [kid]);
    s.env.sim.clear_requests();
    assert_eq!(login(&s, &login_name).callback.status, 303);
    assert_eq!(s.env.sim.request_count("/oauth2/v1/keys"), 1);
    // A kid that is not there even after the refetch: refused, after one fetch.
    s.env.sim.add_oidc_fault(None, OidcFault::UnknownKid);
    s.env.sim.clear_requests();
    assert_eq!(login(&s, &login_name).callback.status, 403);
    assert_eq!(s.env.sim.request_count("/oauth2/v1/keys"), 1);
}

#[test]
fn a_user_suspended_in_okta_after_signing_in_is_refused_by_the_login_sync() {
    let s = server(5, 2, UpdateMethod::Usersync);
    let (login_name, okta_id, _) = active_user(&s);
    assert_eq!(
        login(&s, &login_name).callback.status,
        303,
        "active: admitted"
    );
    let id = okta_id.clone();
    s.env
        .sim
        .after_next_code_exchange(move |o| o.set_status(&id, "SUSPENDED"));
    let l = login(&s, &login_name);
    assert_eq!(l.callback.status, 403);
    assert_eq!(
        refusal(&l.callback),
        "the user is not active in Okta (status SUSPENDED)"
    );
    let user = s
        .env
        .store()
        .users
        .into_iter()
        .find(|u| u.okta_id == okta_id)
        .unwrap();
    assert!(!user.active, "the login sync deactivated the user");
    let r = last_record(&s);
    let sync = r.steps.iter().find(|x| x.step == "user-sync").unwrap();
    assert!(
        !sync.ok && sync.detail.contains("inactive in the product"),
        "{}",
        sync.detail
    );
}

#[test]
fn update_method_none_admits_only_existing_active_users() {
    let s = server(8, 2, UpdateMethod::None);
    let (login_name, okta_id, _) = active_user(&s);
    let l = login(&s, &login_name);
    assert_eq!(l.callback.status, 403);
    assert!(refusal(&l.callback).starts_with("the user does not exist in the product"));
    assert!(
        s.env.store().users.is_empty(),
        "nothing synced with method none"
    );
    s.env.harness.sync(CONNECTOR, Default::default()).unwrap();
    s.env.sim.clear_requests();
    assert_eq!(login(&s, &login_name).callback.status, 303);
    assert_eq!(s.env.sim.request_count("/api/"), 0, "no login sync");
    // Suspended in Okta and synced: inactive in the product, refused.
    s.env.sim.with_org(|o| o.set_status(&okta_id, "SUSPENDED"));
    s.env.harness.sync(CONNECTOR, Default::default()).unwrap();
    s.env.sim.with_org(|o| o.set_status(&okta_id, "ACTIVE"));
    let l = login(&s, &login_name);
    assert_eq!(l.callback.status, 403);
    assert!(
        refusal(&l.callback).ends_with("is inactive in the product"),
        "{}",
        refusal(&l.callback)
    );
}

#[test]
fn identity_providers_over_rest_never_show_the_secret_and_name_bad_fields() {
    let s = crate::web_support::Server::start(3, 1);
    let put = |body: &str| {
        call("PUT", s.url(&format!("{REST}/identity-providers/okta")))
            .admin()
            .json(body)
            .send()
    };
    let r = put(r#"{"clientId": "0oaX"}"#);
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["field"], "clientSecret");
    let r =
        put(r#"{"clientId": "0oa x", "clientSecret": "s e", "syncConnector": "nope", "wat": 1}"#);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("wat"), "unknown field named: {}", r.body);
    let r = put(r#"{"clientId": "0oa x", "clientSecret": "s e", "syncConnector": "nope"}"#);
    let fields: Vec<String> = r.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fields, ["clientId", "clientSecret", "syncConnector"]);
    assert!(!r.body.contains("s e"));
    let r = put(
        r#"{"clientId": "0oaX", "clientSecret": "top-secret-1", "updateMethod": "usersync", "redirectToSso": true}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["clientSecret"], "********");
    assert_eq!(v["syncConnector"], "okta");
    assert_eq!(v["redirectToSso"], true);
    let all = call("GET", s.url(&format!("{REST}/identity-providers")))
        .admin()
        .send();
    assert!(!all.body.contains("top-secret-1"), "{}", all.body);
    // The secret is stored encrypted, not in the clear.
    let dump = integration::dump(&s.env.harness, &["identity_providers"]).join("\n");
    assert!(
        !dump.contains("top-secret-1") && dump.contains("v1:"),
        "{dump}"
    );
    // A test login gives its URL and its record.
    let t = call(
        "POST",
        s.url(&format!("{REST}/identity-providers/okta/test-login")),
    )
    .admin()
    .header("x-atlassian-token", "no-check")
    .send();
    assert_eq!(t.status, 201, "{}", t.body);
    let url = t.json()["url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with(&s.url("/plugins/servlet/oidc/test/")),
        "{url}"
    );
    let id = t.json()["loginId"].as_i64().unwrap();
    let rec = call("GET", s.url(&format!("{REST}/sso-logins/{id}")))
        .admin()
        .send()
        .json();
    assert_eq!(rec["test"], true);
    assert_eq!(rec["steps"][0]["step"], "start");
    let gone = call("DELETE", s.url(&format!("{REST}/identity-providers/okta")))
        .admin()
        .send();
    assert_eq!(gone.status, 204);
    let missing = call("GET", s.url(&format!("{REST}/identity-providers/okta")))
        .admin()
        .send();
    assert_eq!(missing.status, 404);
    // The admin page's SSO settings show the redirect URI to register.
    let (cookie, _) = admin_login(&s);
    let page = call("GET", s.url(&format!("{PAGE}/sso")))
        .header("cookie", &cookie)
        .send();
    assert!(
        page.body.contains(&s.url("/plugins/servlet/oidc/callback")),
        "{}",
        page.body
    );
}

#[test]
fn the_command_line_sets_shows_and_removes_an_identity_provider_without_showing_its_secret() {
    let cli = crate::cli_support::Cli::new(okta_sim::GenSpec {
        users: 3,
        groups: 1,
        memberships_per_user: 1,
        seed: 1,
    });
    let secret = cli.path("client-secret");
    std::fs::write(&secret, "cli-client-secret-42\n").unwrap();
    // A command line of words (the temp paths hold no space); SECRET is the secret file.
    let line =
        |l: &str| -> Vec<String> { l.split(' ').map(|w| w.replace("SECRET", &secret)).collect() };
    let run = |l: &str| cli.run(&line(l).iter().map(String::as_str).collect::<Vec<_>>());
    let ok = |l: &str| cli.ok(&line(l).iter().map(String::as_str).collect::<Vec<_>>());
    ok("connector create --name Okta --domain acme.okta.com --token-file TOKEN_FILE");
    // A secret file that does not read is refused, naming it.
    let missing = run("sso set Okta --client-id 0oaCli1 --client-secret-file /nonexistent/secret");
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(
        missing
            .stderr
            .contains("cannot read the file /nonexistent/secret"),
        "{}",
        missing.stderr
    );
    let set = ok(
        "sso set Okta --client-id 0oaCli1 --client-secret-file SECRET --update-method usersync --redirect-to-sso true",
    );
    assert!(set.contains("Client ID:          0oaCli1"), "{set}");
    assert!(set.contains("Client secret:      ********"), "{set}");
    assert!(
        set.contains("User update method: Update with UserSync (connector Okta)"),
        "{set}"
    );
    // Options left out keep their value; the secret is kept without a new one.
    let v: serde_json::Value =
        serde_json::from_str(&ok("--json sso set Okta --redirect-to-sso false")).unwrap();
    let kept = (
        v["clientId"].as_str(),
        v["updateMethod"].as_str(),
        v["redirectToSso"].as_bool(),
    );
    assert_eq!(kept, (Some("0oaCli1"), Some("usersync"), Some(false)));
    let bad = run("sso set Okta --sync-connector Nope");
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("syncConnector: there is no connector named `Nope`"),
        "{}",
        bad.stderr
    );
    assert_eq!(run("sso show Other").code, 3);
    let all = ok("sso show") + &ok("sso logins") + &ok("--json sso show");
    assert!(!all.contains("cli-client-secret"), "{all}");
    ok("sso remove Okta");
    assert_eq!(ok("sso show"), "No identity provider.\n");
    assert_eq!(run("sso login 7").code, 3);
}

#[test]
fn the_sso_page_saves_an_identity_provider_and_keeps_its_secret_when_left_empty() {
    let s = crate::web_support::Server::start(3, 1);
    let (cookie, csrf) = admin_login(&s);
    let save = |fields: &[(&str, &str)]| {
        let mut all = vec![("atl_token", csrf.as_str())];
        all.extend_from_slice(fields);
        call("POST", s.url(&format!("{PAGE}/sso/okta")))
            .header("cookie", &cookie)
            .form(&all)
            .send()
    };
    let r = save(&[
        ("clientId", "0oaPage1"),
        ("clientSecret", "page-secret-1"),
        ("updateMethod", "usersync"),
        ("syncConnector", "okta"),
        ("redirectToSso", "true"),
    ]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.header("location"),
        Some("/plugins/servlet/usersync/sso?msg=saved&c=okta")
    );
    let idp = s.env.harness.identity_provider(CONNECTOR).unwrap();
    assert_eq!(
        (
            idp.client_id.as_str(),
            idp.update_method,
            idp.redirect_to_sso
        ),
        ("0oaPage1", UpdateMethod::Usersync, true)
    );
    // The secret field left empty keeps the secret; the box unticked turns the redirect off.
    let r = save(&[
        ("clientId", "0oaPage2"),
        ("clientSecret", ""),
        ("updateMethod", "none"),
        ("syncConnector", "okta"),
    ]);
    assert_eq!(r.status, 303, "{}", r.body);
    let idp = s.env.harness.identity_provider(CONNECTOR).unwrap();
    assert_eq!(
        (
            idp.client_id.as_str(),
            idp.update_method,
            idp.redirect_to_sso
        ),
        ("0oaPage2", UpdateMethod::None, false)
    );
    let secret = s.env.harness.login_config(CONNECTOR).unwrap().client_secret;
    assert_eq!(secret, "page-secret-1");
    // A bad client id is refused naming it; the page never shows the secret.
    let r = save(&[("clientId", ""), ("updateMethod", "none")]);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("clientId is empty"), "{}", r.body);
    let page = call("GET", s.url(&format!("{PAGE}/sso?msg=saved&c=okta")))
        .header("cookie", &cookie)
        .send();
    assert!(
        page.body.contains("Saved the identity provider of"),
        "{}",
        page.body
    );
    assert!(page.body.contains("value=\"0oaPage2\"") && !page.body.contains("page-secret-1"));
    // Without the CSRF token: refused, nothing changed.
    let forged = call("POST", s.url(&format!("{PAGE}/sso/okta")))
        .header("cookie", &cookie)
        .form(&[("clientId", "0oaEvil")])
        .send();
    assert_eq!(forged.status, 403);
    assert_eq!(
        s.env
            .harness
            .identity_provider(CONNECTOR)
            .unwrap()
            .client_id,
        "0oaPage2"
    );
}
