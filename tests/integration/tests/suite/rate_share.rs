//! The rate-limit share (`rate-limit-percent`): the client uses only its share of each
//! Okta bucket, so that it never meets a 429 when Okta gives its token only part of a
//! bucket, and another integration of the org keeps the rest.

use integration::{CONNECTOR, Env};
use okta_sim::{GenSpec, Org, RateLimits, SimConfig};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use usersync::SyncRequest;
use usersync::model::ConnectorPatch;

/// 1,000 users (5 user pages), 30 groups (31 group requests) against Okta's default
/// limits enforced in a window of 1 s, with 20 user pages and 40 group requests a window.
fn env(token_share: Option<u32>) -> Env {
    let limits = RateLimits {
        users: 20,
        groups: 40,
        token_share,
        ..RateLimits::okta_defaults(Duration::from_secs(1))
    };
    let org = Org::generate(&GenSpec {
        users: 1000,
        groups: 30,
        memberships_per_user: 2,
        seed: 4,
    });
    let config = SimConfig {
        rate_limits: limits,
        tokens: vec![integration::TOKEN.into(), "other-integration".into()],
        ..SimConfig::default()
    };
    Env::new(org, config)
}

fn share(env: &Env, percent: u32) {
    let patch = ConnectorPatch {
        rate_limit_percent: Some(percent),
        ..Default::default()
    };
    env.harness.update_connector(CONNECTOR, &patch).unwrap();
}

/// Statuses of the requests the simulator served with the connector's token.
fn ours(env: &Env) -> Vec<u16> {
    let sync_token = format!("SSWS {}", integration::TOKEN);
    let requests = env.sim.requests();
    let of_sync = requests
        .iter()
        .filter(|r| r.authorization.as_deref() == Some(sync_token.as_str()));
    of_sync.map(|r| r.status).collect()
}

#[test]
fn a_token_given_half_of_each_bucket_syncs_without_a_429() {
    let env = env(Some(50));
    // The token may use 10 user pages and 20 group requests a window; the client is
    // told so by `X-Rate-Limit-Limit` and paces itself to all of it.
    share(&env, 100);
    let o = env.harness.sync(CONNECTOR, SyncRequest::default()).unwrap();
    let statuses = ours(&env);
    assert_eq!(o.report.rate_limited, 0);
    assert_eq!(statuses.len(), o.report.requests as usize);
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(o.report.requests, 5 + 1 + 30);
    // At the default 50 % of what the token is given, too.
    share(&env, 50);
    env.sim.clear_requests();
    let o = env.harness.sync(CONNECTOR, SyncRequest::default()).unwrap();
    assert_eq!(o.report.rate_limited, 0);
    assert!(ours(&env).iter().all(|s| *s == 200));
}

#[test]
fn another_integration_keeps_the_part_of_the_bucket_the_sync_leaves_it() {
    // The token has the whole bucket; the connector takes half (the default), and
    // another integration of the org lists groups at 8 requests a window meanwhile.
    let env = env(None);
    let url = format!("http://{}/api/v1/groups?limit=1", env.sim.addr());
    let done = AtomicBool::new(false);
    let (o, other) = std::thread::scope(|s| {
        let other = s.spawn(|| {
            let mut statuses = Vec::new();
            while !done.load(Ordering::Relaxed) {
                let answer = ureq::get(&url)
                    .header("Authorization", "SSWS other-integration")
                    .call();
                statuses.push(match answer {
                    Ok(r) => r.status().as_u16(),
                    Err(ureq::Error::StatusCode(code)) => code,
                    Err(e) => panic!("the other integration's request failed: {e}"),
                });
                std::thread::sleep(Duration::from_millis(125));
            }
            statuses
        });
        let o = env.harness.sync(CONNECTOR, SyncRequest::default());
        done.store(true, Ordering::Relaxed);
        (o.unwrap(), other.join().unwrap())
    });
    assert_eq!(o.report.rate_limited, 0);
    assert!(ours(&env).iter().all(|s| *s == 200));
    assert!(
        other.len() >= 8,
        "the other integration ran along: {other:?}"
    );
    assert!(
        other.iter().all(|s| *s == 200),
        "the other integration met a 429: {other:?}"
    );
}
