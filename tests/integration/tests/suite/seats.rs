//! Licence seats (`--seats`): against the simulator, the store afterwards holds at most
//! the limit of licensed users (active members of the product's access group), the
//! others exist without access, are reported, and get seats as seats free up.

use integration::{
    CONNECTOR, DIRECTORY_TABLES, DOMAIN, Env, TOKEN, connector_input, dump,
    groups_without_defaults, run_cli, runtime,
};
use okta_sim::{GroupType, Org, SimConfig, Simulator};
use std::collections::BTreeSet;
use usersync::model::GroupPatch;
use usersync::product::profile::SeatsError;
use usersync::{Harness, HarnessError, Options, SyncRequest};

const JIRA_ACCESS: &str = "jira-software-users";

/// `n` ACTIVE users `user01@example.com`... in one Okta group `engineering`.
fn org(n: usize) -> Org {
    let mut o = Org::default();
    let g = o.add_group("engineering", GroupType::OktaGroup);
    for i in 1..=n {
        let id = o.add_user(
            &format!("user{i:02}@example.com"),
            "User",
            &format!("{i:02}"),
            "ACTIVE",
        );
        o.add_member(&g, &id);
    }
    o
}

/// A harness playing `product` with `seats`, whose connector gives every user the
/// product's default groups (its access group).
fn env(users: usize, product: &str, seats: Option<u32>) -> Env {
    let env = Env::product(org(users), product, seats);
    let mut input = connector_input();
    input.groups = Some(GroupPatch {
        default_groups: Some(None),
        ..groups_without_defaults()
    });
    env.harness
        .update_connector(CONNECTOR, &input)
        .expect("settings saved");
    env
}

fn sync(env: &Env) -> usersync::harness::SyncOutcome {
    env.harness
        .sync(CONNECTOR, SyncRequest::default())
        .expect("sync")
}

fn user(i: usize) -> String {
    format!("user{i:02}@example.com")
}

fn users(range: std::ops::RangeInclusive<usize>) -> Vec<String> {
    range.map(user).collect()
}

/// Usernames of the connector's directory holding a seat: active and in `group`.
fn licensed(env: &Env, group: &str) -> Vec<String> {
    let store = env.store();
    store
        .users
        .iter()
        .filter(|u| {
            u.active
                && store
                    .memberships
                    .contains(&(u.username.clone(), group.to_string()))
        })
        .map(|u| u.username.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn okta_id(env: &Env, login: &str) -> String {
    env.sim
        .with_org(|o| o.user_by_login(login).expect("an Okta user").id.clone())
}

fn used(env: &Env) -> u32 {
    env.harness.seats().unwrap().expect("a seat limit").used
}

#[test]
fn a_seat_limit_licenses_that_many_users_in_username_order_and_reports_the_others() {
    let env = env(15, "jira", Some(10));
    let o = sync(&env);
    assert_eq!(o.report.seats_denied, users(11..=15));
    assert!(
        o.report
            .warnings
            .iter()
            .any(|w| w.contains("seat limit of 10 is reached: 5 users did not get a seat")),
        "{:?}",
        o.report.warnings
    );
    assert_eq!(licensed(&env, JIRA_ACCESS), users(1..=10));
    let store = env.store();
    assert_eq!(store.users.len(), 15, "the denied users are created too");
    assert!(store.users.iter().all(|u| u.active));
    for u in users(11..=15) {
        assert!(
            store
                .memberships
                .contains(&(u.clone(), "engineering".into())),
            "{u} keeps its other groups"
        );
    }
    assert_eq!(used(&env), 10);
    assert_eq!(o.report.counts.memberships_added, 15 + 10);

    // Nothing changed: nothing is written, the same users are reported.
    let before = dump(&env.harness, DIRECTORY_TABLES);
    let again = sync(&env);
    assert_eq!(again.report.writes, 0, "{:?}", env.changes(again.run_id));
    assert_eq!(again.report.seats_denied, users(11..=15));
    assert_eq!(dump(&env.harness, DIRECTORY_TABLES), before);

    // Two licensed users leave: exactly the next two in line get their seats.
    env.sim.with_org(|o| {
        for i in [1, 2] {
            let id = o.user_by_login(&user(i)).unwrap().id.clone();
            o.set_status(&id, "SUSPENDED");
        }
    });
    let o = sync(&env);
    assert_eq!(o.report.counts.users_deactivated, 2);
    assert_eq!(o.report.seats_denied, users(13..=15));
    assert_eq!(licensed(&env, JIRA_ACCESS), users(3..=12));
    assert_eq!(used(&env), 10);
}

#[test]
fn seats_held_by_users_of_another_directory_are_counted() {
    let env = env(15, "jira", Some(10));
    {
        let conn = env.harness.db().lock();
        conn.execute(
            "INSERT INTO groups (directory_id, name) VALUES (1, 'jira-software-users')",
            [],
        )
        .unwrap();
        // Four active internal users hold seats; a fifth is inactive and holds none.
        for (i, active) in [(1, true), (2, true), (3, true), (4, true), (5, false)] {
            let key = format!("INTERNAL{i}");
            conn.execute(
                "INSERT INTO users (key, directory_id, username, display_name, email, active) VALUES (?1, 1, ?2, 'Admin', '', ?3)",
                rusqlite::params![key, format!("admin{i}"), active],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO memberships (group_id, user_key) SELECT id, ?1 FROM groups WHERE directory_id = 1",
                [&key],
            )
            .unwrap();
        }
    }
    assert_eq!(used(&env), 4);
    let o = sync(&env);
    assert_eq!(o.report.seats_denied, users(7..=15));
    assert_eq!(licensed(&env, JIRA_ACCESS), users(1..=6));
    assert_eq!(used(&env), 10);
}

#[test]
fn without_a_limit_everyone_is_licensed() {
    let env = env(15, "jira", None);
    let o = sync(&env);
    assert!(o.report.seats_denied.is_empty());
    assert_eq!(licensed(&env, JIRA_ACCESS), users(1..=15));
    assert_eq!(env.harness.seats().unwrap(), None);
}

#[test]
fn each_product_limits_the_members_of_its_own_access_group_and_bamboo_has_none() {
    for (product, group) in [
        ("jira", "jira-software-users"),
        ("confluence", "confluence-users"),
        ("bitbucket", "stash-users"),
    ] {
        let env = env(5, product, Some(3));
        let o = sync(&env);
        assert_eq!(o.report.seats_denied, users(4..=5), "{product}");
        assert_eq!(licensed(&env, group), users(1..=3), "{product}");
        let seats = env.harness.seats().unwrap().unwrap();
        assert_eq!(
            (seats.used, seats.access_groups),
            (3, vec![group.to_string()])
        );
    }
    // Bamboo is licensed by agents: no access group, no seats, every user synced.
    let env = env(5, "bamboo", None);
    let o = sync(&env);
    assert!(o.report.seats_denied.is_empty());
    let store = env.store();
    assert_eq!(store.users.len(), 5);
    assert_eq!(store.groups, BTreeSet::from(["engineering".to_string()]));
}

#[test]
fn a_dry_run_writes_nothing_and_reports_who_would_not_get_a_seat() {
    let env = env(15, "jira", Some(10));
    let before = dump(&env.harness, DIRECTORY_TABLES);
    let o = env.dry_run();
    assert!(o.report.dry_run);
    assert_eq!(o.report.seats_denied, users(11..=15));
    assert_eq!(o.report.counts.users_created, 15);
    assert_eq!(o.report.counts.memberships_added, 15 + 10);
    assert_eq!(
        dump(&env.harness, DIRECTORY_TABLES),
        before,
        "nothing written"
    );
}

#[test]
fn a_reactivation_that_would_take_a_seat_is_held_back_until_one_frees_up() {
    let env = env(10, "jira", Some(10));
    sync(&env);
    let five = okta_id(&env, &user(5));
    env.sim.with_org(|o| o.set_status(&five, "SUSPENDED"));
    sync(&env);
    // The freed seat goes to a newcomer; then user05 returns in Okta.
    env.sim.with_org(|o| {
        let g = o.group_by_name("engineering").unwrap().id.clone();
        let id = o.add_user(&user(11), "User", "11", "ACTIVE");
        o.add_member(&g, &id);
    });
    assert!(sync(&env).report.seats_denied.is_empty());
    env.sim.with_org(|o| o.set_status(&five, "ACTIVE"));
    let o = sync(&env);
    assert_eq!(o.report.seats_denied, [user(5)]);
    assert_eq!(o.report.counts.users_activated, 0);
    let row = env
        .store()
        .users
        .into_iter()
        .find(|u| u.username == user(5))
        .unwrap();
    assert!(!row.active, "not reactivated");
    assert!(
        env.store()
            .memberships
            .contains(&(user(5), JIRA_ACCESS.into())),
        "it keeps its groups"
    );
    assert_eq!(used(&env), 10);

    // Someone leaves: user05 is reactivated into the free seat.
    let one = okta_id(&env, &user(1));
    env.sim.with_org(|o| o.set_status(&one, "DEPROVISIONED"));
    let o = sync(&env);
    assert!(o.report.seats_denied.is_empty());
    assert_eq!(o.report.counts.users_activated, 1);
    let mut expect = users(2..=11);
    expect.sort();
    assert_eq!(licensed(&env, JIRA_ACCESS), expect);
}

#[test]
fn a_login_sync_honours_the_limit() {
    let env = env(10, "jira", Some(10));
    sync(&env);
    let newcomer = "aaa.newcomer@example.com";
    env.sim.with_org(|o| {
        let g = o.group_by_name("engineering").unwrap().id.clone();
        let id = o.add_user(newcomer, "New", "Comer", "ACTIVE");
        o.add_member(&g, &id);
    });
    let r = env.harness.sync_user(CONNECTOR, newcomer).unwrap();
    assert!(r.seat_denied && r.active, "{r:?}");
    assert!(!licensed(&env, JIRA_ACCESS).contains(&newcomer.to_string()));
    assert!(
        env.store()
            .memberships
            .contains(&(newcomer.into(), "engineering".into()))
    );
    assert_eq!(used(&env), 10);

    // A seat frees up (a login sync of a deprovisioned user): the next login gets it.
    let one = okta_id(&env, &user(1));
    env.sim.with_org(|o| o.set_status(&one, "DEPROVISIONED"));
    assert!(!env.harness.sync_user(CONNECTOR, &user(1)).unwrap().active);
    let r = env.harness.sync_user(CONNECTOR, newcomer).unwrap();
    assert!(!r.seat_denied, "{r:?}");
    assert!(licensed(&env, JIRA_ACCESS).contains(&newcomer.to_string()));
    assert_eq!(used(&env), 10);
}

#[test]
fn bad_seat_limits_are_refused_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let open = |product: &str, seats| {
        let db = usersync::product::db::Db::open(&dir.path().join("u.db")).unwrap();
        let options = Options {
            product: product.parse().unwrap(),
            seats,
            ..Options::default()
        };
        Harness::with(db, runtime(), options).map(|_| ())
    };
    let err = open("jira", Some(0)).unwrap_err();
    assert!(
        matches!(err, HarnessError::Seats(SeatsError::Zero)),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with("seats: a seat limit of 0"),
        "{err}"
    );
    let err = open("bamboo", Some(10)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "seats: Bamboo is licensed by remote agents, not by users; it has no user seats to limit"
    );
    assert!(open("bamboo", None).is_ok());

    // The command line: exit code 2, the option named, nothing created.
    let db = dir.path().join("cli.db");
    for (args, needle) in [
        (
            vec!["--seats", "ten"],
            "seats: `ten` is not a number of seats",
        ),
        (
            vec!["--seats", "-5"],
            "seats: `-5` is not a number of seats",
        ),
        (vec!["--seats", "0"], "seats: a seat limit of 0"),
        (
            vec!["--product", "bamboo", "--seats", "10"],
            "seats: Bamboo is licensed by remote agents",
        ),
    ] {
        let db = db.display().to_string();
        let argv = [&["--db", db.as_str()], &args[..], &["connector", "list"]].concat();
        let o = run_cli(&argv);
        assert_eq!(o.code, 2, "{args:?}: {}", o.stderr);
        assert!(o.stderr.contains(needle), "{args:?}: {}", o.stderr);
    }
    assert!(!db.exists(), "refused before the database is opened");
}

#[test]
fn the_command_line_syncs_within_the_limit_and_shows_the_seats() {
    let sim = Simulator::start(org(4), SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), TOKEN).unwrap();
    let db = dir.path().join("u.db").display().to_string();
    let resolve = format!("{DOMAIN}={}", sim.addr());
    let run = |args: &[&str]| {
        let options = ["--db", db.as_str(), "--resolve", &resolve, "--seats", "3"];
        let o = run_cli(&[&options[..], args].concat());
        assert_eq!(o.code, 0, "{args:?}: {}", o.stderr);
        o.stdout
    };
    let token = dir.path().join("token").display().to_string();
    run(&[
        "connector",
        "create",
        "--name",
        "okta",
        "--domain",
        DOMAIN,
        "--token-file",
        &token,
    ]);
    let out = run(&["sync", "okta"]);
    assert!(
        out.contains("1 users did not get a seat (`user04@example.com`)"),
        "{out}"
    );
    let out = run(&["connector", "show", "okta"]);
    assert!(
        out.contains("Licence seats:      3 of 3 used (members of jira-software-users)"),
        "{out}"
    );
}

#[test]
fn an_incremental_sync_keeps_the_limit() {
    let env = env(10, "jira", Some(10));
    sync(&env);
    env.sim.with_org(|o| {
        let g = o.group_by_name("engineering").unwrap().id.clone();
        let id = o.add_user(&user(11), "User", "11", "ACTIVE");
        o.add_member(&g, &id);
    });
    let incremental = SyncRequest {
        incremental: true,
        ..Default::default()
    };
    let o = env.harness.sync(CONNECTOR, incremental).unwrap();
    assert_eq!(o.report.mode, usersync::model::SyncMode::Incremental);
    assert_eq!(o.report.counts.users_created, 1);
    assert_eq!(o.report.seats_denied, [user(11)]);
    assert_eq!(licensed(&env, JIRA_ACCESS), users(1..=10));
    assert_eq!(used(&env), 10);
}
