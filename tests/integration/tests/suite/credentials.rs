//! A stored credential is bound to its Okta domain (issue #19, item 1): moving a
//! connector to another domain needs the credential again, through every surface's
//! path (edit, import with the redacted token, the page's *Test connection* with a typed
//! domain); refused naming the token, nothing stored changes and nothing is sent.

use integration::{CONNECTOR, Env, dump};
use usersync::HarnessError;
use usersync::model::{ConnectorPatch, TokenText};
use usersync::surface::transfer;

const EVIL: &str = "evil.okta.com";

fn env() -> Env {
    Env::generated(5, 1)
}

fn moved(token: Option<&str>) -> ConnectorPatch {
    ConnectorPatch {
        okta_domain: Some(EVIL.into()),
        api_token: token.map(|t| TokenText(t.into())),
        ..Default::default()
    }
}

/// Refused naming `api-token` and saying the domain changes; the stored rows unchanged;
/// the simulator (the connector's real host) saw no request either.
#[track_caller]
fn refused(env: &Env, what: &str, result: Result<(), HarnessError>, before: &[String]) {
    match result {
        Err(HarnessError::InvalidConfig(errors)) => {
            assert_eq!(errors.len(), 1, "{what}: {errors:?}");
            assert_eq!(errors[0].field, "api-token", "{what}: {errors:?}");
            assert!(
                errors[0]
                    .message
                    .contains("the Okta domain changes from acme.okta.com to evil.okta.com"),
                "{what}: {errors:?}"
            );
        }
        other => panic!("{what} must be refused: {other:?}"),
    }
    assert_eq!(
        dump(&env.harness, &["connectors", "secrets"]),
        before,
        "{what}"
    );
}

#[test]
fn a_changed_domain_without_the_credential_is_refused_everywhere() {
    let env = env();
    let before = dump(&env.harness, &["connectors", "secrets"]);
    let requests = env.sim.requests().len();
    let edit = env.harness.update_connector(CONNECTOR, &moved(None));
    refused(&env, "edit", edit.map(drop), &before);
    let redacted = env
        .harness
        .update_connector(CONNECTOR, &moved(Some("********")));
    refused(&env, "edit with ********", redacted.map(drop), &before);
    let test = env.harness.test_settings(Some(CONNECTOR), &moved(None));
    refused(&env, "test connection", test.map(drop), &before);
    let doc = format!(
        r#"[{{"name": "{CONNECTOR}", "oktaDomain": "https://{EVIL}/", "apiToken": "********"}}]"#
    );
    let import = transfer::import(&env.harness, &transfer::parse(&doc).unwrap());
    match import {
        Err(transfer::ImportError::Connector { source, .. }) => {
            refused(&env, "import", Err(source), &before)
        }
        other => panic!("import must be refused: {other:?}"),
    }
    assert_eq!(env.sim.requests().len(), requests, "no request was made");
}

#[test]
fn a_changed_domain_with_a_new_credential_is_saved() {
    let env = env();
    let v = env
        .harness
        .update_connector(CONNECTOR, &moved(Some("new-token-for-evil")))
        .unwrap();
    assert_eq!(v.settings.okta_domain, EVIL);
    // The same domain, spelled as a browser shows it, needs no credential.
    let same = ConnectorPatch {
        okta_domain: Some(format!("https://{}/", EVIL.to_uppercase())),
        ..Default::default()
    };
    env.harness.update_connector(CONNECTOR, &same).unwrap();
}
