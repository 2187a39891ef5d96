//! Group marks and the deep reconcile: a full sync re-reads only the member lists of the
//! groups whose `lastMembershipUpdated` changed since they were last read (exact request
//! counts), leaves the others' memberships as the store holds them, and the deep
//! reconcile (due every `deep-reconcile-days`, or asked for) re-reads every list and
//! repairs what was changed in the store by hand.

use integration::{CONNECTOR, DIRECTORY_TABLES, Env, dump, first_sync_projection};
use okta_sim::{GenSpec, GroupType, Org, SimConfig};
use usersync::SyncRequest;
use usersync::harness::SyncOutcome;
use usersync::model::{ConnectorPatch, LifecyclePatch, MissingUsers};

/// 600 users (some DEPROVISIONED, members of groups like any other), 8 groups.
fn env() -> Env {
    Env::new(
        Org::generate(&GenSpec {
            users: 600,
            groups: 8,
            memberships_per_user: 2,
            seed: 21,
        }),
        SimConfig::default(),
    )
}

fn sync(env: &Env, deep_reconcile: bool) -> SyncOutcome {
    env.sim.clear_requests();
    let o = env
        .harness
        .sync(
            CONNECTOR,
            SyncRequest {
                deep_reconcile,
                ..Default::default()
            },
        )
        .expect("sync");
    assert_eq!(env.sim.requests().len(), o.report.requests as usize);
    assert!(env.sim.requests().iter().all(|r| r.status == 200));
    o
}

/// Pages of `n` items, `size` a page (an empty list is one page).
fn pages(n: usize, size: usize) -> usize {
    n.div_ceil(size).max(1)
}

/// Requests of a full sync that reads the member lists of `read` groups (by name), and
/// lists the DEPROVISIONED users apart when it skips any.
fn requests(env: &Env, read: &[&str]) -> usize {
    env.sim.with_org(|o| {
        let listed = o.users.iter().filter(|u| u.status != "DEPROVISIONED");
        let deprovisioned = o.users.len() - listed.clone().count();
        let synced = o
            .groups
            .iter()
            .filter(|g| g.group_type != GroupType::BuiltIn);
        let members: usize = synced
            .clone()
            .filter(|g| read.contains(&g.name.as_str()))
            .map(|g| pages(g.members.len(), 1000))
            .sum();
        let skipped = synced.count() > read.len();
        pages(listed.count(), 200)
            + 1
            + members
            + if skipped {
                pages(deprovisioned, 200)
            } else {
                0
            }
    })
}

/// Requests of a full sync that reads every member list (a deep reconcile).
fn every_list(env: &Env) -> usize {
    let all: Vec<String> = env.sim.with_org(|o| {
        let synced = o
            .groups
            .iter()
            .filter(|g| g.group_type != GroupType::BuiltIn);
        synced.map(|g| g.name.clone()).collect()
    });
    requests(env, &all.iter().map(String::as_str).collect::<Vec<_>>())
}

/// The first two synced groups, and a user of the first that is not in the second.
fn two_groups_and_a_user(env: &Env) -> (String, String, String, String) {
    env.sim.with_org(|o| {
        let mut synced = o
            .groups
            .iter()
            .filter(|g| g.group_type != GroupType::BuiltIn);
        let (a, b) = (synced.next().unwrap(), synced.next().unwrap());
        let user = o
            .users
            .iter()
            .find(|u| {
                u.status == "ACTIVE" && a.members.contains(&u.id) && !b.members.contains(&u.id)
            })
            .unwrap();
        (
            a.id.clone(),
            a.name.clone(),
            b.name.clone(),
            user.id.clone(),
        )
    })
}

#[test]
fn a_full_sync_rereads_only_the_member_lists_of_groups_okta_changed() {
    let env = env();
    // Users Okta no longer has are deleted: a DEPROVISIONED member of a skipped group
    // taken for one would be deleted, and the deep reconcile at the end would differ.
    let delete = ConnectorPatch {
        lifecycle: Some(LifecyclePatch {
            missing_users: Some(MissingUsers::Delete),
            ..Default::default()
        }),
        ..Default::default()
    };
    env.harness.update_connector(CONNECTOR, &delete).unwrap();
    let first = sync(&env, false);
    assert!(
        first.report.deep_reconcile,
        "no marks yet: every list is read"
    );
    assert_eq!(first.report.requests as usize, every_list(&env));

    // Nothing changed: the users pages, the DEPROVISIONED users, the groups page.
    let before = dump(&env.harness, DIRECTORY_TABLES);
    let same = sync(&env, false);
    assert!(!same.report.deep_reconcile);
    assert_eq!(same.report.requests as usize, requests(&env, &[]));
    assert_eq!((same.report.requests, same.report.writes), (5, 0));
    assert_eq!(dump(&env.harness, DIRECTORY_TABLES), before);

    // Okta adds a member to one group and removes one from another: those two are read.
    let (_, a, b, user) = two_groups_and_a_user(&env);
    env.sim.with_org(|o| {
        let a_id = o.group_by_name(&a).unwrap().id.clone();
        let b_id = o.group_by_name(&b).unwrap().id.clone();
        o.remove_member(&a_id, &user);
        o.add_member(&b_id, &user);
    });
    let changed = sync(&env, false);
    assert_eq!(changed.report.requests as usize, requests(&env, &[&a, &b]));
    assert_eq!(
        (
            changed.report.counts.memberships_added,
            changed.report.counts.memberships_removed
        ),
        (1, 1)
    );
    assert_eq!(env.store(), env.sim.with_org(|o| first_sync_projection(o)));
    // What the marked syncs left is what a deep reconcile finds: nothing to change (the
    // DEPROVISIONED members of unread groups were kept as members, inactive).
    let deep = sync(&env, true);
    assert!(deep.report.deep_reconcile);
    assert_eq!(deep.report.requests as usize, every_list(&env));
    assert_eq!(deep.report.writes, 0, "{:?}", deep.report.counts);
}

#[test]
fn the_deep_reconcile_finds_a_membership_added_by_hand_in_the_store() {
    let env = env();
    sync(&env, false);
    let (_, _, b, user) = two_groups_and_a_user(&env);
    let username = env.sim.with_org(|o| {
        o.user(&user).unwrap().profile["login"]
            .as_str()
            .unwrap()
            .to_lowercase()
    });
    let added = env
        .harness
        .db()
        .lock()
        .execute(
            "INSERT INTO memberships (group_id, user_key)
             SELECT g.id, u.key FROM groups g, users u WHERE g.name = ?1 AND u.username = ?2",
            [&b, &username],
        )
        .unwrap();
    assert_eq!(added, 1);
    let by_hand = env.store();
    assert!(by_hand.memberships.contains(&(username.clone(), b.clone())));

    // A normal full sync trusts the unchanged mark of the group: the drift stays.
    let normal = sync(&env, false);
    assert_eq!(normal.report.requests as usize, requests(&env, &[]));
    assert_eq!(normal.report.writes, 0);
    assert_eq!(env.store(), by_hand);

    // The deep reconcile re-reads every list and removes it.
    let deep = sync(&env, true);
    assert!(deep.report.deep_reconcile);
    assert_eq!(deep.report.requests as usize, every_list(&env));
    assert_eq!(deep.report.counts.memberships_removed, 1);
    assert_eq!(deep.report.writes, 1);
    assert_eq!(env.store(), env.sim.with_org(|o| first_sync_projection(o)));
}

#[test]
fn a_deep_reconcile_runs_by_itself_when_due_and_a_group_renamed_is_reread() {
    let env = env();
    sync(&env, false);
    // The last deep reconcile is more than `deep-reconcile-days` (7) old.
    env.harness
        .db()
        .lock()
        .execute(
            "UPDATE connector_state SET document = json_set(document, '$.lastDeepReconcile', 0)",
            [],
        )
        .unwrap();
    let due = sync(&env, false);
    assert!(due.report.deep_reconcile);
    assert_eq!(due.report.requests as usize, every_list(&env));

    // A group renamed in Okta (its membership unchanged) gets a new name in the product:
    // its members are read again rather than trusted to a group the store does not hold
    // under that name.
    let (a_id, a, _, _) = two_groups_and_a_user(&env);
    env.sim
        .with_org(|o| o.rename_group(&a_id, "Renamed in Okta"));
    let renamed = sync(&env, false);
    assert!(!renamed.report.deep_reconcile);
    assert_eq!(
        renamed.report.requests as usize,
        requests(&env, &["Renamed in Okta"])
    );
    let store = env.store();
    let projection = env.sim.with_org(|o| first_sync_projection(o));
    let of = |s: &integration::StoreState, group: &str| -> Vec<String> {
        let members = s.memberships.iter().filter(|(_, g)| g == group);
        members.map(|(u, _)| u.clone()).collect()
    };
    assert_eq!(
        of(&store, "Renamed in Okta"),
        of(&projection, "Renamed in Okta")
    );
    assert!(!of(&store, "Renamed in Okta").is_empty());
    assert!(
        of(&store, &a).is_empty(),
        "the old name is no longer Okta's"
    );
    let deep = sync(&env, true);
    assert_eq!(deep.report.requests as usize, every_list(&env));
    assert_eq!(deep.report.writes, 0, "{:?}", deep.report.counts);
}
