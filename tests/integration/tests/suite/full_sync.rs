//! The foundation slice end to end: a generated org → full sync → the store equals Okta;
//! a second sync writes nothing; exact changes after edits in Okta; a failing Okta
//! changes nothing.

use integration::{CONNECTOR, DIRECTORY_TABLES, Env, dump, first_sync_projection};
use okta_sim::{Fault, FaultKind, GroupType};
use serde_json::json;
use usersync::model::{ChangeAction, SyncError};
use usersync::{HarnessError, SyncRequest};

fn sync(env: &Env) -> usersync::harness::SyncOutcome {
    env.harness
        .sync(CONNECTOR, SyncRequest::default())
        .expect("sync succeeds")
}

#[test]
fn full_sync_mirrors_okta_then_writes_nothing_then_exactly_the_changes() {
    let env = Env::generated(1000, 50);
    let org = env.sim.with_org(|o| o.clone());
    let expected = first_sync_projection(&org);
    assert!(
        expected.users.len() > 850 && expected.memberships.len() > 2000,
        "a realistic org"
    );

    let first = sync(&env);
    assert_eq!(env.store(), expected, "the store equals Okta's projection");
    let c = &first.report.counts;
    assert_eq!(c.users_created as usize, expected.users.len());
    assert_eq!(c.groups_created as usize, expected.groups.len());
    assert_eq!(c.memberships_added as usize, expected.memberships.len());
    assert!(first.report.writes > 0);

    env.sim.clear_requests();
    let second = sync(&env);
    assert_eq!(
        second.report.writes, 0,
        "no change in Okta: zero store writes"
    );
    assert!(
        env.changes(second.run_id).is_empty(),
        "{:?}",
        env.changes(second.run_id)
    );
    assert_eq!(env.store(), expected);

    // Edit Okta: one of each kind of change.
    let active: Vec<String> = expected.users.iter().map(|u| u.okta_id.clone()).collect();
    let (renamed, suspended, deprovisioned, deleted) =
        (&active[0], &active[1], &active[2], &active[3]);
    let (member_group, member_user, new_group) = env.sim.with_org(|o| {
        o.set_profile(renamed, "firstName", json!("Renamed"));
        o.set_status(suspended, "SUSPENDED");
        o.set_status(deprovisioned, "DEPROVISIONED");
        o.delete_user(deleted);
        let g = o
            .groups
            .iter()
            .find(|g| {
                g.group_type == GroupType::OktaGroup
                    && g.members.iter().any(|m| active[4..].contains(m))
            })
            .unwrap();
        let (gid, gname) = (g.id.clone(), g.name.clone());
        let uid = g
            .members
            .iter()
            .find(|m| active[4..].contains(m))
            .unwrap()
            .clone();
        o.remove_member(&gid, &uid);
        let new_gid = o.add_group("New Team", GroupType::OktaGroup);
        o.add_member(&new_gid, &active[5]);
        (gname, uid, "New Team".to_string())
    });
    let name_of = |id: &str| {
        expected
            .users
            .iter()
            .find(|u| u.okta_id == id)
            .unwrap()
            .username
            .clone()
    };
    let deleted_groups: Vec<String> = expected
        .memberships
        .iter()
        .filter(|(u, _)| *u == name_of(deleted))
        .map(|(_, g)| g.clone())
        .collect();

    let third = sync(&env);
    assert!(
        third.report.warnings.is_empty(),
        "{:?}",
        third.report.warnings
    );
    let mut got: Vec<(ChangeAction, String, Option<String>)> = third
        .report
        .changes
        .iter()
        .map(|e| (e.action, e.target.clone(), e.group.clone()))
        .collect();
    got.sort_by_key(|(a, t, g)| (format!("{a:?}"), t.clone(), g.clone()));
    let mut want = vec![
        (ChangeAction::UpdateUser, name_of(renamed), None),
        (ChangeAction::DeactivateUser, name_of(suspended), None),
        (ChangeAction::DeactivateUser, name_of(deprovisioned), None),
        (ChangeAction::DeactivateUser, name_of(deleted), None),
        (
            ChangeAction::RemoveMembership,
            name_of(&member_user),
            Some(member_group.clone()),
        ),
        (ChangeAction::CreateGroup, new_group.clone(), None),
        (
            ChangeAction::AddMembership,
            name_of(&active[5]),
            Some(new_group.clone()),
        ),
    ];
    want.extend(deleted_groups.iter().map(|g| {
        (
            ChangeAction::RemoveMembership,
            name_of(deleted),
            Some(g.clone()),
        )
    }));
    want.sort_by_key(|(a, t, g)| (format!("{a:?}"), t.clone(), g.clone()));
    assert_eq!(got, want);

    assert_eq!(
        env.changes(third.run_id).len(),
        third.report.changes.len(),
        "the report's changes are the run's recorded changes"
    );
    let renamed_entry = third
        .report
        .changes
        .into_iter()
        .find(|e| e.action == ChangeAction::UpdateUser)
        .unwrap();
    let field = &renamed_entry.fields[0];
    assert_eq!(field.field, "display-name");
    assert!(field.new.as_deref().unwrap().starts_with("Renamed "));

    let after = env.store();
    let row = |id: &str| {
        after
            .users
            .iter()
            .find(|u| u.okta_id == id)
            .unwrap()
            .clone()
    };
    assert!(!row(suspended).active && !row(deprovisioned).active && !row(deleted).active);
    assert!(row(&active[6]).active);
    let kept: Vec<_> = expected
        .memberships
        .iter()
        .filter(|(u, _)| *u == name_of(deprovisioned))
        .collect();
    assert!(
        kept.iter().all(|m| after.memberships.contains(*m)),
        "a deprovisioned user keeps its memberships"
    );
    assert!(after.groups.contains(&new_group));

    // And once more: nothing left to do.
    let fourth = sync(&env);
    assert_eq!(fourth.report.writes, 0);
}

#[test]
fn a_failing_okta_leaves_the_store_exactly_as_before() {
    let env = Env::generated(1000, 20);
    sync(&env);
    env.sim.with_org(|o| {
        let id = o.users[0].id.clone();
        o.set_status(&id, "SUSPENDED");
        o.add_group("Would be created", GroupType::OktaGroup);
    });
    let before = dump(&env.harness, DIRECTORY_TABLES);
    env.sim.clear_requests();
    env.sim.add_fault(Fault {
        path_prefix: "/api/v1/users".into(),
        nth: 3,
        times: 100,
        kind: FaultKind::Status(500),
    });

    let err = env
        .harness
        .sync(CONNECTOR, SyncRequest::default())
        .unwrap_err();
    let HarnessError::Sync(SyncError::Okta(okta)) = &err else {
        panic!("expected an Okta error, got {err:?}")
    };
    assert_eq!(okta.status, 500);
    assert!(okta.path.starts_with("/api/v1/users?"), "{}", okta.path);
    assert!(err.to_string().ends_with("nothing was changed"), "{err}");
    assert_eq!(
        env.sim.request_count("/api/v1/users"),
        2 + 5,
        "two pages, then five tries of the third"
    );
    assert!(
        okta.summary.ends_with("(gave up after 5 attempts)"),
        "{}",
        okta.summary
    );

    assert_eq!(
        env.sim.request_count("/api/v1/groups"),
        0,
        "nothing fetched after the failure"
    );
    assert_eq!(
        dump(&env.harness, DIRECTORY_TABLES),
        before,
        "store unchanged"
    );

    let runs = env.harness.runs(Some(CONNECTOR), 1).unwrap();
    assert_eq!(runs[0].status.as_str(), "failed");
    assert!(
        runs[0]
            .failure
            .as_ref()
            .unwrap()
            .message
            .contains("HTTP 500")
    );
}

#[test]
fn names_longer_than_the_product_stores_are_reported_and_never_stored() {
    let env = Env::generated(60, 6);
    sync(&env);
    let before = env.store();
    let (group_id, long_group) = env.sim.with_org(|o| {
        let g = o
            .groups
            .iter()
            .find(|g| g.group_type == GroupType::OktaGroup && !g.members.is_empty())
            .expect("a synced group with members")
            .id
            .clone();
        let name = format!("Engineering {}", "x".repeat(60_000));
        o.rename_group(&g, &name);
        let long_login = format!("{}@example.com", "l".repeat(300));
        o.add_user(&long_login, "Long", "Login", "ACTIVE");
        (g, name)
    });

    let outcome = sync(&env);
    // The group keeps its old name and every membership; the user is not created.
    assert_eq!(env.store(), before);
    let warnings = outcome.report.warnings.join("\n");
    assert!(
        warnings.contains(&format!(
            "group {group_id}: the group name `Engineering xxx"
        )) && warnings.contains("is 60012 characters, longer than the product's 255; skipped"),
        "{warnings}"
    );
    assert!(
        warnings.contains("the username `lllll") && warnings.contains("is 312 characters"),
        "{warnings}"
    );
    assert!(
        !warnings.contains(&long_group[..1000]),
        "a warning quotes at most 200 characters"
    );
}
