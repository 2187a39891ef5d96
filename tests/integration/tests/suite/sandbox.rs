//! The sandbox with a real guest (the `test-faults` build): requests to any host but the
//! connector's Okta domain are denied, so neither the guest's forged `Authorization` nor
//! the token (which only the host holds) goes there; to the Okta domain the host replaces
//! the guest's header with the real one; a guest that
//! panics, loops or allocates without bound ends its own call with a clear error, and
//! the host keeps serving other connectors.

use integration::{CONNECTOR, DOMAIN, Env, TOKEN, faulty_runtime};
use okta_sim::{GenSpec, Org, SimConfig, Simulator};
use std::time::{Duration, Instant};
use usersync::host::runtime::{GuestError, Limits};
use usersync::model::{ConnectorPatch, TokenText};
use usersync::{HarnessError, SyncRequest};

fn env() -> Env {
    let org = Org::generate(&GenSpec {
        users: 50,
        groups: 5,
        memberships_per_user: 2,
        seed: 1,
    });
    let limits = Limits {
        memory_bytes: 64 << 20,
        timeout: Duration::from_secs(2),
    };
    Env::build(org, SimConfig::default(), faulty_runtime(), limits)
}

fn faulty_connector(env: &Env, name: &str) {
    let input = ConnectorPatch {
        name: Some(name.into()),
        okta_domain: Some(DOMAIN.into()),
        api_token: Some(TokenText(TOKEN.into())),
        ..Default::default()
    };
    env.harness.create_connector(&input).expect("created");
}

fn run_log(h: &usersync::Harness, connector: &str) -> String {
    let run = h.runs(Some(connector), 1).unwrap().remove(0);
    let (_, log) = h.run(run.id).unwrap();
    log.iter()
        .map(|l| l.message.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn requests_to_other_hosts_are_denied_and_never_carry_the_token() {
    let env = env();
    // A second server posing as a foreign host, reachable if the policy let it through.
    let foreign = Simulator::start(Org::default(), SimConfig::default());
    let h = {
        let mut resolve = usersync::host::http::Resolve::default();
        resolve.insert(DOMAIN, env.sim.addr());
        resolve.insert("evil.example.com", foreign.addr());
        let options = usersync::Options {
            resolve,
            ..Default::default()
        };
        usersync::Harness::with(env.harness.db().clone(), faulty_runtime(), options).unwrap()
    };
    let targets = [
        (
            "https://evil.example.com/api/v1/users",
            "only the connector's Okta host acme.okta.com may be reached",
        ),
        (
            &format!("http://{}/api/v1/users", foreign.addr()) as &str,
            "only https is allowed",
        ),
        ("http://acme.okta.com/api/v1/users", "only https is allowed"),
        (
            "https://acme.okta.com:8443/api/v1/users",
            "only the https port 443 is allowed",
        ),
    ];
    for (i, (url, reason)) in targets.iter().enumerate() {
        let name = format!("fault:fetch:{url}");
        let input = ConnectorPatch {
            name: Some(name.clone()),
            okta_domain: Some(DOMAIN.into()),
            api_token: Some(TokenText(TOKEN.into())),
            ..Default::default()
        };
        h.create_connector(&input)
            .unwrap_or_else(|e| panic!("{i}: {e}"));
        let err = h.sync(&name, SyncRequest::default()).unwrap_err();
        assert!(
            err.to_string().contains("HttpRequestDenied"),
            "{url}: {err}"
        );
        let log = run_log(&h, &name);
        assert!(log.contains(reason), "{url}: {log}");
    }
    assert!(
        foreign.requests().is_empty(),
        "the foreign server saw {:?}",
        foreign.requests()
    );
    assert!(env.sim.requests().is_empty());

    // Control: the same guest call to the connector's own host goes through, and the
    // host has replaced the guest's forged header with the connector's token.
    let own = "fault:fetch:https://acme.okta.com/api/v1/users?limit=1";
    faulty_connector(&env, own);
    env.harness.sync(own, SyncRequest::default()).unwrap_err();
    let seen = env.sim.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].authorization.as_deref(), Some("SSWS test-token"));
    assert_eq!(seen[0].status, 200, "the host's token is accepted");
    assert_eq!(
        seen[0].host.as_deref(),
        Some(DOMAIN),
        "the Host header names the Okta domain"
    );
}

#[test]
fn a_panicking_looping_or_hoarding_guest_ends_its_own_call_and_the_host_keeps_serving() {
    let env = env();
    for name in ["fault:panic", "fault:loop", "fault:alloc"] {
        faulty_connector(&env, name);
    }
    let err = env
        .harness
        .sync("fault:panic", SyncRequest::default())
        .unwrap_err();
    assert!(
        matches!(&err, HarnessError::Guest(GuestError::Trap(m)) if m.contains("unreachable")),
        "{err:?}"
    );

    let started = Instant::now();
    let err = env
        .harness
        .sync("fault:loop", SyncRequest::default())
        .unwrap_err();
    assert!(
        matches!(err, HarnessError::Guest(GuestError::Timeout(2))),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped near its 2 s budget"
    );
    assert_eq!(
        err.to_string(),
        "the sync plugin exceeded its time budget of 2 s and was stopped"
    );

    let err = env
        .harness
        .sync("fault:alloc", SyncRequest::default())
        .unwrap_err();
    assert!(
        matches!(err, HarnessError::Guest(GuestError::OutOfMemory(64))),
        "{err:?}"
    );

    for name in ["fault:panic", "fault:loop", "fault:alloc"] {
        let run = env.harness.runs(Some(name), 1).unwrap().remove(0);
        assert_eq!(run.status.as_str(), "failed", "{name}");
    }
    // The host keeps serving: a normal connector syncs on the same runtime.
    let ok = env
        .harness
        .sync(CONNECTOR, SyncRequest::default())
        .expect("a healthy connector still syncs");
    assert!(ok.report.counts.users_created > 0);
}
