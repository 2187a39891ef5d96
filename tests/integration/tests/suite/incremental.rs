//! Incremental sync: after a full sync, only what changed is fetched, and the result is
//! what a full sync would give.

use integration::{CONNECTOR, Env};
use okta_sim::GroupType;
use serde_json::json;
use usersync::SyncRequest;
use usersync::model::SyncMode;

const INCREMENTAL: SyncRequest = SyncRequest {
    incremental: true,
    dry_run: false,
    trigger: usersync::model::Trigger::Schedule,
    force: false,
    deep_reconcile: false,
};

fn pages(n: usize, size: usize) -> usize {
    n.div_ceil(size).max(1)
}

#[test]
fn only_the_changes_are_fetched_and_the_store_ends_as_a_full_sync_would_leave_it() {
    let env = Env::generated(10_000, 60);
    env.harness
        .sync(CONNECTOR, SyncRequest::default())
        .expect("full sync");

    let (a_members, b_members) = env.sim.with_org(|o| {
        let active: Vec<String> = o
            .users
            .iter()
            .filter(|u| u.status == "ACTIVE")
            .map(|u| u.id.clone())
            .collect();
        for id in &active[0..4] {
            o.set_profile(id, "firstName", json!("Changed"));
        }
        for id in &active[4..7] {
            o.set_status(id, "SUSPENDED");
        }
        for id in &active[7..9] {
            o.set_status(id, "DEPROVISIONED");
        }
        o.set_profile(&active[9], "email", json!("moved@example.org"));
        let groups: Vec<String> = o
            .groups
            .iter()
            .filter(|g| g.group_type == GroupType::OktaGroup)
            .map(|g| g.id.clone())
            .collect();
        o.add_member(&groups[0], &active[100]);
        let leaving = o.group(&groups[1]).unwrap().members[0].clone();
        o.remove_member(&groups[1], &leaving);
        (
            o.group(&groups[0]).unwrap().members.len(),
            o.group(&groups[1]).unwrap().members.len(),
        )
    });
    env.sim.clear_requests();
    let inc = env
        .harness
        .sync(CONNECTOR, INCREMENTAL)
        .expect("incremental sync");
    assert_eq!(inc.report.mode, SyncMode::Incremental);
    assert_eq!(
        env.sim.request_count("/api/v1/users"),
        1,
        "10 changed users: one page"
    );
    let group_requests = env.sim.request_count("/api/v1/groups");
    assert_eq!(
        group_requests,
        1 + pages(a_members, 1000) + pages(b_members, 1000),
        "changed groups + their members only"
    );
    assert_eq!(inc.report.requests as usize, 1 + group_requests);
    let q = env.sim.requests()[0].query.clone().unwrap();
    assert!(q.starts_with("filter=lastUpdated%20gt%20%22"), "{q}");
    let c = &inc.report.counts;
    assert_eq!(
        (
            c.users_updated,
            c.users_deactivated,
            c.memberships_added,
            c.memberships_removed
        ),
        (5, 5, 1, 1)
    );

    // A full sync now finds nothing to do: the incremental sync left the same store.
    let full = env.harness.sync(CONNECTOR, SyncRequest::default()).unwrap();
    assert_eq!(full.report.writes, 0, "{:?}", env.changes(full.run_id));
}

#[test]
fn with_no_change_an_incremental_sync_makes_two_requests_and_no_writes() {
    let env = Env::generated(2_000, 20);
    env.harness.sync(CONNECTOR, SyncRequest::default()).unwrap();
    env.sim.clear_requests();
    let inc = env.harness.sync(CONNECTOR, INCREMENTAL).unwrap();
    assert_eq!(inc.report.mode, SyncMode::Incremental);
    assert_eq!(env.sim.requests().len(), 2);
    assert_eq!(inc.report.writes, 0);
    let runs = env.harness.runs(Some(CONNECTOR), 1).unwrap();
    assert_eq!(
        runs[0].kind.as_str(),
        "incremental",
        "the run says which kind ran"
    );
}

#[test]
fn without_a_previous_full_sync_incremental_runs_full_and_says_why() {
    let env = Env::generated(100, 5);
    let r = env.harness.sync(CONNECTOR, INCREMENTAL).unwrap();
    assert_eq!(r.report.mode, SyncMode::Full);
    assert_eq!(
        r.report.mode_reason.as_deref(),
        Some("ran a full sync instead of an incremental one: no full sync has completed yet")
    );
}

/// The guard judges an incremental sync against the whole directory: a tenth of the
/// active users suspended in Okta (more than 5) is what the default guard (more than
/// 10 % and more than 5 users) allows; one more is refused. (An incremental sync once
/// counted 0 active users and refused any 6.)
#[test]
fn the_guard_counts_the_whole_directory_in_an_incremental_sync() {
    let env = Env::generated(80, 3);
    env.harness
        .sync(CONNECTOR, SyncRequest::default())
        .expect("full sync");
    let active = env.store().users.iter().filter(|u| u.active).count();
    assert!(
        active / 10 > 5,
        "{active} active users: over the guard's minimum"
    );
    let suspend = |n: usize| {
        env.sim.with_org(|o| {
            let ids: Vec<String> = o
                .users
                .iter()
                .filter(|u| u.status == "ACTIVE")
                .take(n)
                .map(|u| u.id.clone())
                .collect();
            for id in ids {
                o.set_status(&id, "SUSPENDED");
            }
        })
    };
    suspend(active / 10);
    let out = env.harness.sync(CONNECTOR, INCREMENTAL).expect("allowed");
    assert_eq!(out.report.mode, SyncMode::Incremental);
    assert_eq!(out.report.counts.users_deactivated as usize, active / 10);
    suspend(active / 10 + 1);
    match env.harness.sync(CONNECTOR, INCREMENTAL) {
        Err(e) => assert!(
            e.to_string().contains(&format!(
                "would deactivate or delete {} of {} active users",
                active / 10 + 1,
                active - active / 10
            )),
            "{e}"
        ),
        Ok(o) => panic!("refused by the guard: {:?}", o.report.counts),
    }
}
