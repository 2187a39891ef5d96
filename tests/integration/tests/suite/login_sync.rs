//! Sync at login: exactly two requests, that user only, under the connector's settings.

use integration::{CONNECTOR, DIRECTORY_TABLES, Env, connector_input, dump};
use okta_sim::GroupType;
use serde_json::json;
use usersync::model::ChangeAction;

fn env() -> Env {
    let env = Env::generated(300, 10);
    env.harness
        .sync(CONNECTOR, Default::default())
        .expect("initial full sync");
    env.sim.clear_requests();
    env
}

fn rows_except(env: &Env, username: &str) -> Vec<String> {
    dump(&env.harness, DIRECTORY_TABLES)
        .into_iter()
        .filter(|r| !r.contains(username))
        .collect()
}

#[test]
fn a_new_user_is_created_with_its_groups_in_two_requests() {
    let env = env();
    let (id, group) = env.sim.with_org(|o| {
        let id = o.add_user("New.Hire@Example.com", "New", "Hire", "ACTIVE");
        let g = o.add_group("Login Team", GroupType::OktaGroup);
        o.add_member(&g, &id);
        let existing = o
            .groups
            .iter()
            .find(|g| g.group_type == GroupType::OktaGroup && g.name != "Login Team")
            .unwrap()
            .id
            .clone();
        o.add_member(&existing, &id);
        (id, o.group(&existing).unwrap().name.clone())
    });
    let before = rows_except(&env, "new.hire@example.com");
    let r = env
        .harness
        .sync_user(CONNECTOR, "New.Hire@Example.com")
        .unwrap();
    assert!(r.found && r.active);
    assert_eq!(r.username.as_deref(), Some("new.hire@example.com"));
    assert_eq!(r.requests, 2);
    let paths: Vec<String> = env.sim.requests().iter().map(|q| q.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/api/v1/users/New.Hire@Example.com".to_string(),
            format!("/api/v1/users/{id}/groups")
        ]
    );

    let mut actions: Vec<(ChangeAction, String, Option<String>)> = r
        .changes
        .iter()
        .map(|e| (e.action, e.target.clone(), e.group.clone()))
        .collect();
    actions.sort_by_key(|a| format!("{a:?}"));
    let u = "new.hire@example.com".to_string();
    let mut want = vec![
        (ChangeAction::CreateGroup, "Login Team".to_string(), None),
        (ChangeAction::CreateUser, u.clone(), None),
        (
            ChangeAction::AddMembership,
            u.clone(),
            Some("Login Team".into()),
        ),
        (ChangeAction::AddMembership, u.clone(), Some(group)),
    ];
    want.sort_by_key(|a| format!("{a:?}"));
    assert_eq!(actions, want, "Everyone (BUILT_IN) is filtered out");
    let after = rows_except(&env, "new.hire@example.com");
    assert_eq!(
        after.len(),
        before.len() + 3,
        "one group row and the two membership rows (by key)"
    );

    assert!(
        before.iter().all(|r| after.contains(r)),
        "no other user or membership changed"
    );
}

#[test]
fn a_changed_user_is_updated_and_a_suspended_one_deactivated() {
    let env = env();
    let (renamed, suspended) = env.sim.with_org(|o| {
        let active: Vec<_> = o
            .users
            .iter()
            .filter(|u| u.status == "ACTIVE")
            .map(|u| {
                (
                    u.id.clone(),
                    u.profile["login"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        o.set_profile(&active[0].0, "lastName", json!("Changed"));
        o.set_status(&active[1].0, "SUSPENDED");
        (active[0].1.clone(), active[1].1.clone())
    });
    let r = env.harness.sync_user(CONNECTOR, &renamed).unwrap();
    assert_eq!(r.changes.len(), 1);
    assert_eq!(r.changes[0].action, ChangeAction::UpdateUser);
    assert!(
        r.changes[0].fields[0]
            .new
            .as_deref()
            .unwrap()
            .ends_with(" Changed")
    );
    let r = env.harness.sync_user(CONNECTOR, &suspended).unwrap();
    assert!(!r.active);
    assert_eq!(
        r.changes.iter().map(|e| e.action).collect::<Vec<_>>(),
        [ChangeAction::DeactivateUser],
        "memberships kept"
    );
    assert_eq!(env.sim.requests().len(), 4, "two requests per login");
}

#[test]
fn unknown_logins_are_kept_or_denied_per_setting() {
    let env = env();
    let (id, login) = env.sim.with_org(|o| {
        let u = o.users.iter().find(|u| u.status == "ACTIVE").unwrap();
        (
            u.id.clone(),
            u.profile["login"].as_str().unwrap().to_string(),
        )
    });
    env.sim.with_org(|o| o.delete_user(&id));
    let r = env.harness.sync_user(CONNECTOR, &login).unwrap();
    assert!(
        !r.found && r.active && r.changes.is_empty(),
        "kept by default: {r:?}"
    );
    assert_eq!(r.requests, 1);

    let input = usersync::ConnectorPatch {
        unknown_at_login: Some(usersync::model::UnknownAtLogin::Deny),
        ..connector_input()
    };
    env.harness.update_connector(CONNECTOR, &input).unwrap();
    let r = env.harness.sync_user(CONNECTOR, &login).unwrap();
    assert!(!r.found && !r.active);
    assert_eq!(
        r.changes.iter().map(|e| e.action).collect::<Vec<_>>(),
        [ChangeAction::DeactivateUser]
    );
    let r = env
        .harness
        .sync_user(CONNECTOR, "nobody@example.com")
        .unwrap();
    assert!(!r.found && r.username.is_none() && r.changes.is_empty());
}

/// A login sync by Okta id (an ID token's `sub`) admits the user and records its login
/// time (inactivity cleanup judges by it); a refused login records none.
#[test]
fn an_admitted_login_by_okta_id_records_the_login_time() {
    use usersync::host::bindings::wit::UserRef;
    let env = env();
    let (id, login) = env.sim.with_org(|o| {
        let u = o.users.iter().find(|u| u.status == "ACTIVE").unwrap();
        (
            u.id.clone(),
            u.profile["login"].as_str().unwrap().to_string(),
        )
    });
    let last_login = |username: &str| -> Option<i64> {
        env.harness
            .db()
            .lock()
            .query_row(
                "SELECT last_login FROM users WHERE username = ?1 COLLATE NOCASE",
                [username],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(last_login(&login), None, "a sync is no login");
    let before = usersync::product::db::now();
    let r = env
        .harness
        .sync_user_by(CONNECTOR, &UserRef::OktaId(id.clone()))
        .unwrap();
    assert!(r.found && r.refusal.is_none(), "{r:?}");
    assert!(last_login(&login).is_some_and(|t| t >= before));

    env.sim.with_org(|o| o.set_status(&id, "SUSPENDED"));
    env.harness
        .db()
        .lock()
        .execute("UPDATE users SET last_login = NULL", [])
        .unwrap();
    let r = env
        .harness
        .sync_user_by(CONNECTOR, &UserRef::OktaId(id))
        .unwrap();
    assert!(r.refusal.is_some(), "{r:?}");
    assert_eq!(last_login(&login), None, "refused: no login");
}
