//! Okta under real-world conditions: every fault the simulator injects, rate limits on
//! a compressed window, exact request counts, group-scoped tokens, concurrent member
//! fetching. Each sync either succeeds after retries (Okta recovered) or fails with the
//! specific error and leaves the store unchanged.

use integration::{CONNECTOR, DIRECTORY_TABLES, Env, connector_input, dump};
use okta_sim::{Fault, FaultKind, GenSpec, GroupType, Org, RateLimits, ScopedToken, SimConfig};
use std::time::{Duration, Instant};
use usersync::harness::SyncOutcome;
use usersync::model::{OktaErrorKind, SyncError};
use usersync::{HarnessError, SyncRequest};

fn small_env() -> Env {
    small_env_with(SimConfig::default())
}

/// A small org synced once, then changed, so that a sync that applied anything shows.
fn small_env_with(config: SimConfig) -> Env {
    let env = Env::new(
        Org::generate(&GenSpec {
            users: 450,
            groups: 6,
            memberships_per_user: 2,
            seed: 11,
        }),
        config,
    );
    env.harness
        .sync(CONNECTOR, SyncRequest::default())
        .expect("initial sync");
    // A change, so that a sync that applied anything would show.
    env.sim.with_org(|o| {
        let id = o
            .users
            .iter()
            .find(|u| u.status == "ACTIVE")
            .unwrap()
            .id
            .clone();
        o.set_status(&id, "SUSPENDED");
        o.add_group("Added during the fault", GroupType::OktaGroup);
    });
    env.sim.clear_requests();
    env
}

/// An env whose simulator applies `limits` to a generated org.
fn limited_env(
    users: usize,
    groups: usize,
    memberships_per_user: usize,
    limits: RateLimits,
) -> Env {
    let org = Org::generate(&GenSpec {
        users,
        groups,
        memberships_per_user,
        seed: 9,
    });
    Env::new(
        org,
        SimConfig {
            rate_limits: limits,
            ..SimConfig::default()
        },
    )
}

fn fault(env: &Env, path_prefix: &str, nth: usize, times: usize, kind: FaultKind) {
    env.sim.add_fault(Fault {
        path_prefix: path_prefix.into(),
        nth,
        times,
        kind,
    });
}

/// A deep reconcile: every member list is read, so a fault on any of them is met.
fn sync(env: &Env) -> Result<SyncOutcome, HarnessError> {
    env.deep_sync()
}

/// The sync recovers: it applies the change and reports its retries.
fn assert_recovers(env: &Env, what: &str) -> SyncOutcome {
    let o = sync(env).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(o.report.counts.users_deactivated, 1, "{what}");
    assert_eq!(o.report.counts.groups_created, 1, "{what}");
    o
}

/// The sync fails with this kind of Okta error and the store is as before.
fn assert_fails_unchanged(env: &Env, what: &str, kind: OktaErrorKind) -> String {
    let before = dump(&env.harness, DIRECTORY_TABLES);
    let err = sync(env).expect_err(what);
    let HarnessError::Sync(SyncError::Okta(o)) = &err else {
        panic!("{what}: {err:?}")
    };
    assert_eq!(o.kind, kind, "{what}: {err}");
    assert_eq!(
        dump(&env.harness, DIRECTORY_TABLES),
        before,
        "{what}: store unchanged"
    );
    err.to_string()
}

#[test]
fn server_errors_are_retried_and_recovered_from() {
    for code in [500, 502, 503, 504] {
        let env = small_env();
        fault(&env, "/api/v1/users", 2, 2, FaultKind::Status(code));
        let o = assert_recovers(&env, &format!("HTTP {code}"));
        assert_eq!(o.report.retries, 2, "HTTP {code}");
    }
}

#[test]
fn a_persistent_server_error_fails_with_its_status_and_changes_nothing() {
    let env = small_env();
    fault(&env, "/api/v1/groups/", 1, 100, FaultKind::Status(503));
    let msg = assert_fails_unchanged(&env, "503", OktaErrorKind::ServerError);
    assert!(
        msg.contains("(HTTP 503)") && msg.contains("gave up after 5 attempts"),
        "{msg}"
    );
}

#[test]
fn resets_truncated_bodies_and_malformed_json_are_retried() {
    for kind in [
        FaultKind::ConnectionReset,
        FaultKind::TruncatedBody,
        FaultKind::MalformedJson,
    ] {
        let env = small_env();
        fault(&env, "/api/v1/groups/", 2, 1, kind.clone());
        let o = assert_recovers(&env, &format!("{kind:?}"));
        assert_eq!(o.report.retries, 1, "{kind:?}");
    }
}

#[test]
fn persistent_transport_and_body_failures_fail_with_the_specific_error() {
    for (kind, expected) in [
        (FaultKind::ConnectionReset, OktaErrorKind::Transport),
        (FaultKind::TruncatedBody, OktaErrorKind::Transport),
        (FaultKind::MalformedJson, OktaErrorKind::BadResponse),
    ] {
        let env = small_env();
        fault(&env, "/api/v1/users", 1, 100, kind.clone());
        assert_fails_unchanged(&env, &format!("{kind:?}"), expected);
    }
}

#[test]
fn slow_responses_are_waited_for() {
    let env = small_env();
    fault(&env, "/api/v1/users", 1, 2, FaultKind::Delay(400));
    let started = Instant::now();
    let o = assert_recovers(&env, "slow");
    assert!(started.elapsed() >= Duration::from_millis(800));
    assert_eq!(o.report.retries, 0);
}

#[test]
fn rate_limit_answers_are_waited_out() {
    // A compressed window, so that Okta's reset comes within a second or two.
    let limits = RateLimits {
        enforce: false,
        ..RateLimits::okta_defaults(Duration::from_secs(1))
    };
    let env = small_env_with(SimConfig {
        rate_limits: limits,
        ..SimConfig::default()
    });
    fault(&env, "/api/v1/users", 1, 1, FaultKind::Status(429));
    let o = assert_recovers(&env, "429");
    assert_eq!((o.report.rate_limited, o.report.retries), (1, 1));
}

#[test]
fn an_invalid_cursor_or_a_revoked_token_fails_without_retry() {
    let env = small_env();
    fault(&env, "/api/v1/users", 2, 1, FaultKind::InvalidCursor);
    let msg = assert_fails_unchanged(&env, "invalid cursor", OktaErrorKind::BadRequest);
    assert!(
        msg.contains("Invalid search criteria. (Invalid cursor.) (HTTP 400, E0000031)"),
        "{msg}"
    );
    assert_eq!(
        env.sim.request_count("/api/v1/users"),
        2,
        "no retry of a 400"
    );

    let env = small_env();
    fault(&env, "/api/v1/groups/", 3, 100, FaultKind::RevokedToken);
    let msg = assert_fails_unchanged(&env, "revoked mid-sync", OktaErrorKind::InvalidToken);
    assert!(
        msg.contains("Invalid token provided (HTTP 401, E0000011)"),
        "{msg}"
    );
}

#[test]
fn a_next_link_to_another_host_is_refused_as_a_security_error() {
    let env = small_env();
    let foreign = okta_sim::Simulator::start(Org::default(), SimConfig::default());
    fault(
        &env,
        "/api/v1/users",
        1,
        1,
        FaultKind::NextToForeignHost(format!("https://{}", foreign.addr())),
    );
    let before = dump(&env.harness, DIRECTORY_TABLES);
    let err = sync(&env).unwrap_err();
    let HarnessError::Sync(SyncError::Security(msg)) = &err else {
        panic!("{err:?}")
    };
    assert!(
        msg.starts_with("refused to follow a link to another origin than https://acme.okta.com"),
        "{msg}"
    );
    assert_eq!(dump(&env.harness, DIRECTORY_TABLES), before);
    assert!(foreign.requests().is_empty());
    assert_eq!(
        env.sim.requests().len(),
        1,
        "nothing requested after the bad link"
    );
}

#[test]
fn a_next_link_to_an_empty_page_is_followed_and_harmless() {
    let env = small_env();
    // The users list has 3 pages; the last one gets a `next` that returns [].
    fault(&env, "/api/v1/users", 3, 1, FaultKind::EmptyNextPage);
    assert_recovers(&env, "empty next page");
    assert_eq!(env.sim.request_count("/api/v1/users"), 4);
}

#[test]
fn requests_equal_the_lower_bound_exactly() {
    let env = Env::new(
        Org::generate(&GenSpec {
            users: 3000,
            groups: 5,
            memberships_per_user: 3,
            seed: 5,
        }),
        SimConfig::default(),
    );
    let expected = env.sim.with_org(|o| {
        let listed = o
            .users
            .iter()
            .filter(|u| u.status != "DEPROVISIONED")
            .count();
        let members: usize = o
            .groups
            .iter()
            .filter(|g| g.group_type != GroupType::BuiltIn)
            .map(|g| g.members.len().div_ceil(1000).max(1))
            .sum();
        listed.div_ceil(200) + 1 + members
    });
    let o = sync(&env).unwrap();
    assert_eq!(env.sim.requests().len(), expected);
    assert_eq!(o.report.requests as usize, expected);
    assert!(env.sim.requests().iter().all(|r| r.status == 200));
}

#[test]
fn with_okta_rate_limits_on_a_compressed_window_a_5000_user_sync_rarely_meets_a_429() {
    let limits = RateLimits {
        users: 20,
        groups: 40,
        concurrency: Some(6),
        ..RateLimits::okta_defaults(Duration::from_secs(1))
    };
    let env = limited_env(5000, 150, 3, limits);
    let o = sync(&env).expect("the sync succeeds under rate limits");
    let total = env.sim.requests().len();
    let limited = env
        .sim
        .requests()
        .iter()
        .filter(|r| r.status == 429)
        .count();
    assert_eq!(limited as u32, o.report.rate_limited);
    let statuses: Vec<(String, u16)> = env
        .sim
        .requests()
        .iter()
        .map(|r| (r.path.clone(), r.status))
        .filter(|(_, s)| *s != 200)
        .collect();
    assert!(
        limited * 100 <= total,
        "{limited} 429s in {total} requests: {statuses:?}"
    );

    assert!(o.report.counts.users_created > 4000);
}

#[test]
fn a_group_scoped_token_syncs_exactly_what_it_sees() {
    let org = Org::generate(&GenSpec {
        users: 600,
        groups: 8,
        memberships_per_user: 2,
        seed: 4,
    });
    let targets: Vec<String> = org
        .groups
        .iter()
        .filter(|g| g.group_type == GroupType::OktaGroup)
        .take(2)
        .map(|g| g.id.clone())
        .collect();
    let config = SimConfig {
        scoped_tokens: vec![ScopedToken {
            token: "scoped-token".into(),
            target_groups: targets.clone(),
        }],
        ..SimConfig::default()
    };
    let env = Env::new(org.clone(), config);
    let full = sync(&env).unwrap();
    assert!(!full.report.scoped_token);
    let everyone_active = env.store().users.iter().filter(|u| u.active).count();

    // The same connector with a group administrator's token.
    let input = usersync::ConnectorPatch {
        api_token: Some(usersync::model::TokenText("scoped-token".into())),
        ..connector_input()
    };
    env.harness.update_connector(CONNECTOR, &input).unwrap();
    env.sim.clear_requests();
    let scoped = sync(&env).unwrap();
    assert!(scoped.report.scoped_token);
    assert!(
        scoped.report.warnings[0].starts_with("the API token is scoped to 2 groups"),
        "{:?}",
        scoped.report.warnings
    );
    assert_eq!(
        scoped.report.counts.users_deactivated, 0,
        "nobody outside is deactivated because of the scope"
    );
    assert_eq!(
        env.store().users.iter().filter(|u| u.active).count(),
        everyone_active
    );

    // A fresh directory synced with the scoped token holds only the target groups' users.
    let env = Env::new(
        org.clone(),
        SimConfig {
            scoped_tokens: vec![ScopedToken {
                token: "scoped-token".into(),
                target_groups: targets.clone(),
            }],
            ..SimConfig::default()
        },
    );
    env.harness.update_connector(CONNECTOR, &input).unwrap();
    sync(&env).unwrap();
    let store = env.store();
    let names: Vec<&str> = targets
        .iter()
        .map(|id| org.group(id).unwrap().name.as_str())
        .collect();
    assert_eq!(
        store
            .groups
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .len(),
        2
    );
    assert!(store.groups.iter().all(|g| names.contains(&g.as_str())));
    let members: std::collections::HashSet<&str> = targets
        .iter()
        .flat_map(|id| org.group(id).unwrap().members.iter().map(String::as_str))
        .collect();
    assert!(!store.users.is_empty());
    assert!(
        store
            .users
            .iter()
            .all(|u| members.contains(u.okta_id.as_str())),
        "only the target groups' users"
    );
}

#[test]
fn group_members_are_fetched_concurrently() {
    let env = Env::new(
        Org::generate(&GenSpec {
            users: 200,
            groups: 8,
            memberships_per_user: 2,
            seed: 2,
        }),
        SimConfig::default(),
    );
    let input = usersync::ConnectorPatch {
        member_concurrency: Some(8),
        ..connector_input()
    };
    env.harness.update_connector(CONNECTOR, &input).unwrap();
    fault(&env, "/api/v1/groups/", 1, 8, FaultKind::Delay(200));
    let o = sync(&env).unwrap();
    assert_eq!(env.sim.request_count("/api/v1/groups/"), 8);
    assert!(
        o.report.fetch_ms < 800,
        "8 groups × 200 ms fetched in {} ms",
        o.report.fetch_ms
    );
    assert!(o.report.fetch_ms >= 200);
}

#[test]
fn over_the_concurrency_limit_okta_answers_429_and_the_client_recovers() {
    let limits = RateLimits {
        concurrency: Some(2),
        ..RateLimits::okta_defaults(Duration::from_secs(1))
    };
    let env = limited_env(200, 8, 2, limits);
    let input = usersync::ConnectorPatch {
        member_concurrency: Some(8),
        ..connector_input()
    };
    env.harness.update_connector(CONNECTOR, &input).unwrap();
    fault(&env, "/api/v1/groups/", 1, 8, FaultKind::Delay(300));
    let o = sync(&env).expect("recovers from concurrency 429s");
    let limited = env
        .sim
        .requests()
        .iter()
        .filter(|r| r.status == 429)
        .count();
    assert!(limited > 0, "8 in flight over a limit of 2");
    assert_eq!(o.report.rate_limited as usize, limited);
    assert_eq!(o.report.counts.groups_created, 8);
}
