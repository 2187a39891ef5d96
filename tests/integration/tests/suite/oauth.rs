//! A connector authenticating as an OAuth 2.0 service app (issue #13): the host signs
//! the client assertion, answers the DPoP nonce challenge, caches the token and sends a
//! fresh proof with every request; the plugin never sees any of it. Against the
//! simulator's OAuth registry: syncs of every kind with the number of tokens fetched,
//! renewal after expiry, each failure an admin can meet with its exact message, and the
//! CLI, REST and export surfaces.

use integration::{CONNECTOR, Env, dump, first_sync_projection, generated_org};
use okta_sim::{AdminRole, OAuthApp, OAuthConfig, SimConfig};
use std::time::Duration;
use usersync::HarnessError;
use usersync::harness::SyncRequest;
use usersync::host::oauth::ClientKey;
use usersync::model::{ConnectorPatch, Credential, TokenText};

const CLIENT: &str = "0oaUserSync";

/// The connector's credential: the app `CLIENT` with DPoP, default scopes.
fn credential(key_id: Option<&str>, scopes: &[&str], dpop: bool) -> Credential {
    Credential::OauthServiceApp {
        client_id: CLIENT.into(),
        key_id: key_id.map(String::from),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        dpop,
    }
}

/// A patch that switches the connector to `credential` with `key`.
fn switch(credential: Credential, key: &ClientKey) -> ConnectorPatch {
    ConnectorPatch {
        credential: Some(credential),
        private_key: Some(TokenText(key.expose().into())),
        ..Default::default()
    }
}

/// The app as registered in Okta: `key`'s public JWK (kid = its thumbprint).
fn app(client_id: &str, key: &ClientKey) -> OAuthApp {
    OAuthApp::new(client_id, &key.public_jwk(None).to_string()).expect("an app")
}

/// An env whose simulator knows `registered` and whose connector is the service app
/// `CLIENT` with `key` (and `credential`).
fn env_with(
    registered: OAuthApp,
    key: &ClientKey,
    credential: Credential,
    lifetime: Duration,
) -> Env {
    let config = SimConfig {
        oauth: OAuthConfig {
            apps: vec![registered],
            token_lifetime: lifetime,
            ..OAuthConfig::default()
        },
        ..SimConfig::default()
    };
    let env = Env::new(generated_org(40, 4), config);
    env.harness
        .update_connector(CONNECTOR, &switch(credential, key))
        .expect("the connector becomes a service app");
    env
}

/// The default: a DPoP app with the connector's key, one-hour tokens.
fn env() -> (Env, ClientKey) {
    let key = ClientKey::generate();
    let env = env_with(
        app(CLIENT, &key),
        &key,
        credential(None, &[], true),
        Duration::from_secs(3600),
    );
    (env, key)
}

fn sync(env: &Env, incremental: bool) -> usersync::harness::SyncOutcome {
    env.harness
        .sync(
            CONNECTOR,
            SyncRequest {
                incremental,
                ..Default::default()
            },
        )
        .expect("the sync succeeds")
}

#[test]
fn full_incremental_and_login_syncs_through_a_dpop_service_app() {
    let (env, _key) = env();
    let full = sync(&env, false);
    assert!(full.report.writes > 0);
    let want = env.sim.with_org(|o| first_sync_projection(o));
    assert_eq!(env.store(), want);

    let login = env.sim.with_org(|o| {
        let u = o
            .users
            .iter()
            .find(|u| u.status == "ACTIVE")
            .unwrap()
            .clone();
        o.set_profile(&u.id, "firstName", "Renamed".into());
        u.profile["login"].as_str().unwrap().to_string()
    });
    let inc = sync(&env, true);
    assert_eq!(inc.report.counts.users_updated, 1, "{:?}", inc.report);
    let user = env
        .harness
        .sync_user(CONNECTOR, &login)
        .expect("login sync");
    assert!(user.refusal.is_none(), "{user:?}");

    // One token for all three calls: the nonce challenge and its retry, then the cache.
    let stats = env.sim.token_stats();
    assert_eq!((stats.requests, stats.issued), (2, 1), "{stats:?}");
    let api: Vec<_> = env
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/v1/"))
        .collect();
    assert!(!api.is_empty());
    for r in &api {
        let auth = r.authorization.as_deref().unwrap_or_default();
        assert!(auth.starts_with("DPoP "), "{} {auth}", r.path);
        assert!(r.dpop.is_some(), "a proof with {}", r.path);
        assert_eq!(r.status, 200, "{}", r.path);
    }
    let proofs: std::collections::HashSet<_> = api.iter().map(|r| r.dpop.clone()).collect();
    assert_eq!(proofs.len(), api.len(), "a fresh proof per request");
}

#[test]
fn an_expired_token_is_renewed_without_failing_a_sync() {
    let key = ClientKey::generate();
    // Renewed a quarter of its life before expiry: at 3 s. Room for a slow first sync.
    let lifetime = Duration::from_secs(4);
    let env = env_with(
        app(CLIENT, &key),
        &key,
        credential(None, &[], true),
        lifetime,
    );
    sync(&env, false);
    assert_eq!(env.sim.token_stats().issued, 1);
    // Past the renewal point (a quarter of the life before expiry): a new token first.
    std::thread::sleep(Duration::from_millis(3100));
    sync(&env, true);
    assert_eq!(env.sim.token_stats().issued, 2);
    // Revoked behind the host's back: the first request gets 401, the host fetches a new
    // token once and the sync goes on.
    env.sim.expire_access_tokens();
    let again = sync(&env, false);
    assert_eq!(again.report.writes, 0);
    assert_eq!(env.sim.token_stats().issued, 3);
}

#[test]
fn bearer_tokens_for_an_app_without_dpop() {
    let key = ClientKey::generate();
    let mut registered = app(CLIENT, &key);
    registered.dpop_required = false;
    let env = env_with(
        registered,
        &key,
        credential(None, &[], false),
        Duration::from_secs(3600),
    );
    sync(&env, false);
    let r = env
        .sim
        .requests()
        .into_iter()
        .find(|r| r.path == "/api/v1/users")
        .expect("a users request");
    assert!(r.authorization.unwrap().starts_with("Bearer "));
    assert!(r.dpop.is_none());
    assert_eq!(
        env.sim.token_stats().requests,
        1,
        "no nonce dance without DPoP"
    );
}

/// `connector test` and a dry run fail with exactly `message`; nothing is written.
#[track_caller]
fn fails_with(env: &Env, message: &str) {
    let before = dump(
        &env.harness,
        &["users", "groups", "memberships", "connector_state"],
    );
    match env.harness.test_connection(CONNECTOR) {
        Err(HarnessError::Credential(e)) => assert_eq!(e.to_string(), message),
        other => panic!("connector test: {other:?}"),
    }
    let dry = env.harness.sync(
        CONNECTOR,
        SyncRequest {
            dry_run: true,
            ..Default::default()
        },
    );
    match dry {
        Err(e @ HarnessError::Credential(_)) => assert_eq!(e.to_string(), message),
        other => panic!("dry run: {other:?}"),
    }
    let after = dump(
        &env.harness,
        &["users", "groups", "memberships", "connector_state"],
    );
    assert_eq!(before, after, "nothing written");
    let run = &env.harness.runs(Some(CONNECTOR), 1).unwrap()[0];
    let failure = run.failure.as_ref().expect("a failed run");
    assert_eq!(failure.kind, usersync::model::FailureKind::Okta);
    assert_eq!(failure.message, message);
}

/// The connector (`connector`, with a new key) against the app registered with that
/// key and then changed by `registered`: it fails with exactly `message`.
fn refused(registered: impl FnOnce(&mut OAuthApp), connector: Credential, message: &str) {
    let key = ClientKey::generate();
    let mut app = app(CLIENT, &key);
    registered(&mut app);
    let env = env_with(app, &key, connector, Duration::from_secs(3600));
    fails_with(&env, message);
}

#[test]
fn an_unknown_client_id_is_named() {
    refused(
        |a| a.client_id = "0oaSomeOtherApp".into(),
        credential(None, &[], true),
        "Okta does not know the client id `0oaUserSync`: copy the Client ID of the API service app (Okta Admin Console › Applications › the app › General)",
    );
}

#[test]
fn a_key_id_okta_does_not_have_is_named() {
    refused(
        |_| {},
        credential(Some("rotated-2026"), &[], true),
        "the service app has no public key with key id `rotated-2026`: add the connector's public key (`usersync connector show`, `publicKey`) to the app (General › Public keys), or set the key id Okta shows for it",
    );
}

#[test]
fn a_wrong_private_key_is_a_refused_signature() {
    let registered = ClientKey::generate();
    let wrong = ClientKey::generate();
    let kid = registered.thumbprint();
    let env = env_with(
        app(CLIENT, &registered),
        &wrong,
        credential(Some(&kid), &[], true),
        Duration::from_secs(3600),
    );
    fails_with(
        &env,
        &format!(
            "Okta refused the client assertion's signature: the private key is not the one whose public key is registered under key id `{kid}`"
        ),
    );
}

#[test]
fn a_clock_off_by_minutes_is_named() {
    let (env, _key) = env();
    // Okta's clock ten minutes ahead: the five-minute assertion has expired on arrival.
    env.sim.advance_clock(Duration::from_secs(600));
    fails_with(
        &env,
        "Okta refused the time of the request (Okta said: The client_assertion token is expired.); check this machine's clock (it must be within a few minutes of the real time, e.g. with NTP)",
    );
}

#[test]
fn a_scope_not_granted_to_the_app_is_named() {
    refused(
        |a| a.scopes = vec!["okta.users.read".into()],
        credential(None, &[], true),
        "the service app is not granted the scope okta.groups.read: grant it in the Okta Admin Console (Applications › the app › Okta API Scopes)",
    );
}

#[test]
fn a_scope_missing_from_the_token_names_the_scope_and_the_endpoint() {
    refused(
        |_| {},
        credential(None, &["okta.users.read"], true),
        "the access token lacks the scope okta.groups.read that /api/v1/groups needs: grant it to the service app (Okta API Scopes) and add it to the connector's scopes",
    );
}

#[test]
fn an_app_that_requires_dpop_is_named_when_the_connector_sends_none() {
    refused(
        |_| {},
        credential(None, &[], false),
        "the service app requires DPoP (\"Require Demonstrating Proof of Possession (DPoP) header in token requests\") but the connector sends none: turn DPoP on in the connector's credential",
    );
}

#[test]
fn an_app_without_an_admin_role_is_named() {
    refused(
        |a| a.admin_role = AdminRole::None,
        credential(None, &[], true),
        "Okta refused GET /api/v1/users (403): the service app has no admin role; assign it one (Applications › the app › Admin roles, e.g. Read-only Administrator, or a Group Administrator role for a scoped sync)",
    );
}

#[test]
fn the_private_key_is_never_shown_and_the_public_key_is() {
    let (env, key) = env();
    let pem_line = key.expose().lines().nth(1).unwrap().to_string();
    let view = env.harness.connector(CONNECTOR).unwrap();
    let json = serde_json::to_value(&view).unwrap();
    assert_eq!(json["privateKey"], "********");
    assert!(json.get("apiToken").is_none(), "{json}");
    assert_eq!(json["credential"]["type"], "oauth-service-app");
    assert_eq!(json["credential"]["clientId"], CLIENT);
    assert_eq!(json["publicKey"], key.public_jwk(None));
    let export = usersync::surface::transfer::export(&env.harness, false).unwrap();
    let text = serde_json::to_string(&export).unwrap();
    assert!(text.contains(r#""privateKey":"********""#), "{text}");
    let with = usersync::surface::transfer::export(&env.harness, true).unwrap();
    assert!(serde_json::to_string(&with).unwrap().contains(&pem_line));
    // Nothing else holds it: the settings, the runs and their logs.
    sync(&env, false);
    let rows = dump(
        &env.harness,
        &["connectors", "runs", "run_log", "connector_state"],
    );
    assert!(rows.iter().all(|r| !r.contains(&pem_line)), "{rows:?}");
    assert!(!format!("{:?}", switch(credential(None, &[], true), &key)).contains(&pem_line));
    assert!(!usersync::surface::report::connector(&view).contains(&pem_line));
}

#[test]
fn switching_credential_kind_needs_the_new_secret() {
    let (env, _key) = env();
    let back = ConnectorPatch {
        credential: Some(Credential::ApiToken),
        ..Default::default()
    };
    match env.harness.update_connector(CONNECTOR, &back) {
        Err(HarnessError::InvalidConfig(e)) => {
            assert_eq!(e[0].field, "api-token");
            assert_eq!(
                e[0].message,
                "the credential changes from an OAuth service app to an API token: give the API token"
            );
        }
        other => panic!("{other:?}"),
    }
    let token_for_app = ConnectorPatch {
        api_token: Some(TokenText("test-token".into())),
        ..Default::default()
    };
    match env.harness.update_connector(CONNECTOR, &token_for_app) {
        Err(HarnessError::InvalidConfig(e)) => assert_eq!(
            e[0].message,
            "the connector authenticates with an OAuth service app: give its private key, not `apiToken`"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_cli_creates_a_service_app_connector_with_a_generated_key() {
    let sim = okta_sim::Simulator::start(generated_org(10, 2), SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db").display().to_string();
    let resolve = format!("acme.okta.com={}", sim.addr());
    let cli = |args: &[&str]| {
        let mut all = vec!["--db", &db, "--resolve", &resolve];
        all.extend_from_slice(args);
        integration::run_cli(&all)
    };
    let created = cli(&[
        "--json",
        "connector",
        "create",
        "--name",
        "Okta",
        "--domain",
        "acme.okta.com",
        "--auth",
        "oauth",
        "--client-id",
        CLIENT,
        "--generate-key",
    ]);
    assert_eq!(created.code, 0, "{}", created.stderr);
    let v: serde_json::Value = serde_json::from_str(&created.stdout).unwrap();
    let jwk = &v["publicKey"];
    assert_eq!(jwk["kty"], "EC");
    assert!(!created.stdout.contains("PRIVATE KEY"));
    // Register the printed public key in "Okta", then the connector works.
    let failed = cli(&["connector", "test", "Okta"]);
    assert_eq!(failed.code, 1, "{}", failed.stdout);
    assert!(
        failed
            .stderr
            .contains("Okta does not know the client id `0oaUserSync`"),
        "{}",
        failed.stderr
    );
    sim.register_oauth_app(OAuthApp::new(CLIENT, &jwk.to_string()).unwrap());
    let test = cli(&["connector", "test", "Okta"]);
    assert_eq!(test.code, 0, "{}", test.stderr);
    let synced = cli(&["sync", "Okta"]);
    assert_eq!(synced.code, 0, "{}", synced.stderr);
    let show = cli(&["connector", "show", "Okta"]);
    assert!(
        show.stdout
            .contains("Credential:         OAuth service app 0oaUserSync (DPoP-bound tokens)"),
        "{}",
        show.stdout
    );
    assert!(
        show.stdout
            .contains("Scopes:             okta.users.read okta.groups.read")
    );
    let refused = cli(&[
        "connector",
        "create",
        "--name",
        "B",
        "--domain",
        "acme.okta.com",
        "--auth",
        "oauth",
        "--client-id",
        CLIENT,
    ]);
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains(
            "a service app needs its private key: --private-key-file FILE, or --generate-key"
        ),
        "{}",
        refused.stderr
    );
}

#[test]
fn the_rest_api_and_the_page_make_a_service_app_connector() {
    use crate::web_support::{PAGE, REST, Server, call, login};
    let s = Server::start(10, 2);
    let rest = |method: &str, path: &str, body: &str| {
        call(method, s.url(&format!("{REST}{path}")))
            .admin()
            .json(body)
            .send()
    };
    let missing = rest(
        "POST",
        "/connectors",
        r#"{"name": "App", "oktaDomain": "acme.okta.com",
            "credential": {"type": "oauth-service-app", "clientId": "0oaUserSync"}}"#,
    );
    assert_eq!(missing.status, 400, "{}", missing.body);
    assert_eq!(missing.json()["field"], "privateKey");
    let created = rest(
        "POST",
        "/connectors",
        r#"{"name": "App", "oktaDomain": "acme.okta.com", "generateKey": true,
            "credential": {"type": "oauth-service-app", "clientId": "0oaUserSync"}}"#,
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let c = created.json();
    assert_eq!(c["privateKey"], "********");
    assert_eq!(c["credential"]["dpop"], true, "the default");
    assert!(!created.body.contains("PRIVATE KEY"));
    s.env
        .sim
        .register_oauth_app(OAuthApp::new(CLIENT, &c["publicKey"].to_string()).unwrap());
    let test = rest("POST", "/connectors/App/test", "{}");
    assert_eq!(test.status, 200, "{}", test.body);

    // The page shows the public key of the saved app, never its private key, and saves
    // a pasted key.
    let (cookie, csrf) = login(&s);
    let form = call("GET", s.url(&format!("{PAGE}/connectors/App")))
        .header("cookie", &cookie)
        .send();
    assert!(
        form.body
            .contains(r#"<option value="oauth-service-app" selected>"#),
        "{}",
        form.body
    );
    assert!(form.body.contains(r#"id="public-key""#));
    assert!(!form.body.contains("PRIVATE KEY"));
    let key = ClientKey::generate();
    let saved = call("POST", s.url(&format!("{PAGE}/connectors/App")))
        .header("cookie", &cookie)
        .form(&[
            ("atl_token", csrf.as_str()),
            ("existing", "App"),
            ("name", "App"),
            ("okta_domain", "acme.okta.com"),
            ("auth", "oauth-service-app"),
            ("client_id", CLIENT),
            ("private_key", key.expose()),
            ("key_id", "page-key"),
            ("dpop", "on"),
            ("schedule", "0 0 * * * ?"),
            ("action", "save"),
        ])
        .send();
    assert_eq!(saved.status, 303, "{}", saved.body);
    let v = s.env.harness.connector("App").unwrap();
    assert_eq!(v.public_key, Some(key.public_jwk(Some("page-key"))));
    assert_eq!(
        v.settings.credential,
        credential(Some("page-key"), &[], true)
    );
}
