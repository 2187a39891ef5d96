//! Provisioning policies against the simulator, each asserting the store: reversible
//! anonymisation of missing users, inactivity cleanup, scope by Okta application
//! assignment, the field-mapping cases, and seats re-offered by an incremental sync.

use integration::{CONNECTOR, Env, UserRow};
use okta_sim::{GroupType, Org, SimConfig};
use serde_json::{Value, json};
use usersync::SyncRequest;
use usersync::model::{ChangeAction, ConnectorPatch, SyncMode};

/// An org of `logins` (first name = the login's part before `@`, last name `Z`), all
/// ACTIVE members of the group `engineering`.
fn org(logins: &[&str]) -> Org {
    let mut o = Org::default();
    let g = o.add_group("engineering", GroupType::OktaGroup);
    for login in logins {
        let first = login.split('@').next().unwrap_or(login);
        let id = o.add_user(login, first, "Z", "ACTIVE");
        o.add_member(&g, &id);
    }
    o
}

/// An env around `org` whose connector also has `settings` (camelCase, as the REST API
/// takes them).
fn env_with(org: Org, settings: Value) -> Env {
    let env = Env::new(org, SimConfig::default());
    configure(&env, settings);
    env
}

fn configure(env: &Env, settings: Value) {
    let patch: ConnectorPatch = serde_json::from_value(settings).expect("a settings patch");
    env.harness
        .update_connector(CONNECTOR, &patch)
        .expect("settings saved");
}

fn full(env: &Env) -> usersync::harness::SyncOutcome {
    env.harness
        .sync(CONNECTOR, SyncRequest::default())
        .expect("full sync")
}

fn incremental(env: &Env) -> usersync::harness::SyncOutcome {
    let o = env
        .harness
        .sync(
            CONNECTOR,
            SyncRequest {
                incremental: true,
                ..Default::default()
            },
        )
        .expect("incremental sync");
    assert_eq!(o.report.mode, SyncMode::Incremental);
    o
}

fn okta_id(env: &Env, login: &str) -> String {
    env.sim.with_org(|o| {
        o.users
            .iter()
            .find(|u| u.profile["login"] == login)
            .unwrap_or_else(|| panic!("{login} is in the org"))
            .id
            .clone()
    })
}

fn group_id(env: &Env, name: &str) -> String {
    env.sim
        .with_org(|o| o.group_by_name(name).expect("the group").id.clone())
}

/// The store's user synced from an Okta id.
fn row(env: &Env, okta_id: &str) -> UserRow {
    env.store()
        .users
        .into_iter()
        .find(|u| u.okta_id == okta_id)
        .unwrap_or_else(|| panic!("{okta_id} is in the store"))
}

/// (key, history rows) of the user synced from an Okta id.
fn key_and_history(env: &Env, okta_id: &str) -> (String, Vec<String>) {
    let conn = env.harness.db().lock();
    let key: String = conn
        .query_row("SELECT key FROM users WHERE okta_id = ?1", [okta_id], |r| {
            r.get(0)
        })
        .expect("the user's key");
    let mut st = conn
        .prepare("SELECT text FROM history WHERE user_key = ?1 ORDER BY id")
        .unwrap();
    let history = st
        .query_map([&key], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    (key, history)
}

/// (username, active) of every user of the directory, by username.
fn usernames(env: &Env) -> Vec<(String, bool)> {
    let mut all: Vec<(String, bool)> = env
        .store()
        .users
        .into_iter()
        .map(|u| (u.username, u.active))
        .collect();
    all.sort();
    all
}

#[test]
fn anonymized_users_keep_key_and_history_and_come_back_intact() {
    let env = env_with(
        org(&["ann@example.com", "bob@example.com", "cy@example.com"]),
        json!({"lifecycle": {"missingUsers": "anonymize", "guardMinUsers": 10}}),
    );
    full(&env);
    let bob = okta_id(&env, "bob@example.com");
    let before = row(&env, &bob);
    let (key, history) = key_and_history(&env, &bob);
    // Bob leaves: deactivated in Okta (the users list leaves DEPROVISIONED users out)
    // and out of the group.
    let eng = group_id(&env, "engineering");
    env.sim.with_org(|o| {
        o.set_status(&bob, "DEPROVISIONED");
        o.remove_member(&eng, &bob);
    });
    let o = full(&env);
    assert_eq!(o.report.counts.users_anonymized, 1);
    let anon = row(&env, &bob);
    assert!(
        anon.username.starts_with("anon-") && anon.username.len() == 21,
        "{anon:?}"
    );
    let hex = &anon.username["anon-".len()..];
    assert_eq!(anon.email, format!("anon-{hex}@anonymized.invalid"));
    assert_eq!(anon.display_name, format!("Anonymized user {hex}"));
    assert!(!anon.active);
    let (same_key, later) = key_and_history(&env, &bob);
    assert_eq!(same_key, key, "the key stays");
    assert_eq!(later[..history.len()], history[..], "the history stays");
    let entry = o
        .report
        .changes
        .iter()
        .find(|c| c.action == ChangeAction::AnonymizeUser)
        .expect("an anonymize-user change");
    assert_eq!(entry.target, "bob@example.com");
    assert!(
        entry
            .fields
            .iter()
            .filter(|f| f.field != "active")
            .all(|f| f.old.is_none()),
        "the report keeps none of the old values: {entry:?}"
    );
    assert!(
        !env.store()
            .memberships
            .iter()
            .any(|(u, _)| *u == anon.username || *u == before.username),
        "memberships of missing users are removed by default"
    );
    let again = full(&env);
    assert_eq!(again.report.writes, 0, "an anonymized user stays as it is");
    // Bob comes back: the same Okta user, active and in the group again.
    env.sim.with_org(|o| {
        o.set_status(&bob, "ACTIVE");
        o.add_member(&eng, &bob);
    });
    full(&env);
    assert_eq!(row(&env, &bob), before, "names, email and status come back");
    assert_eq!(key_and_history(&env, &bob).0, key);
    assert!(
        env.store()
            .memberships
            .contains(&("bob@example.com".to_string(), "engineering".to_string()))
    );
}

/// Set a user's last login to `days` days ago (what SSO logins record).
fn logged_in_days_ago(env: &Env, username: &str, days: i64) {
    let at = usersync::product::db::now() - days * 86_400;
    env.harness
        .db()
        .lock()
        .execute(
            "UPDATE users SET last_login = ?2 WHERE username = ?1 COLLATE NOCASE",
            rusqlite::params![username, at],
        )
        .unwrap();
}

#[test]
fn inactivity_cleanup_spares_exempt_groups_and_is_undone_by_a_login() {
    let logins = [
        "stale@example.com",
        "fresh@example.com",
        "admin@example.com",
        "never@example.com",
        "newbie@example.com",
    ];
    let mut o = org(&logins);
    let admins = o.add_group("jira-admins", GroupType::OktaGroup);
    let admin = o.users[2].id.clone();
    o.add_member(&admins, &admin);
    // `never` has had its Okta account for a year; `newbie` for a day.
    let year_ago = chrono::Utc::now() - chrono::Duration::days(365);
    for u in o
        .users
        .iter_mut()
        .filter(|u| u.profile["login"] != "newbie@example.com")
    {
        u.created = year_ago;
        u.activated = Some(year_ago);
    }
    let env = env_with(o, json!({}));
    full(&env);
    logged_in_days_ago(&env, "stale@example.com", 45);
    logged_in_days_ago(&env, "fresh@example.com", 5);
    logged_in_days_ago(&env, "admin@example.com", 400);
    configure(
        &env,
        json!({"lifecycle": {"guardMinUsers": 10, "inactivity": {
            "days": 30, "includeNeverLoggedIn": true, "exemptGroups": ["Jira-Admins"]}}}),
    );
    let out = full(&env);
    assert_eq!(
        usernames(&env),
        [
            ("admin@example.com".to_string(), true),
            ("fresh@example.com".to_string(), true),
            ("never@example.com".to_string(), false),
            ("newbie@example.com".to_string(), true),
            ("stale@example.com".to_string(), false),
        ]
    );
    assert!(
        out.report.warnings.iter().any(|w| w
            == "inactivity cleanup: 2 users have not logged in for 30 days (or never did) and are deactivated until their next login: never@example.com, stale@example.com"),
        "{:?}",
        out.report.warnings
    );
    // Later syncs, full or incremental, do not reactivate them although Okta says ACTIVE.
    let stale = okta_id(&env, "stale@example.com");
    env.sim
        .with_org(|o| o.set_profile(&stale, "department", json!("Sales")));
    incremental(&env);
    assert!(!row(&env, &stale).active, "an incremental sync judges too");
    assert_eq!(full(&env).report.writes, 0);
    // A login brings the user back, and records the login.
    let r = env
        .harness
        .sync_user(CONNECTOR, "stale@example.com")
        .unwrap();
    assert!(r.active && r.refusal.is_none(), "{r:?}");
    assert!(row(&env, &stale).active);
    full(&env);
    assert!(
        row(&env, &stale).active,
        "the recorded login keeps it active"
    );
}

#[test]
fn app_scope_syncs_exactly_the_assigned_users_direct_and_via_groups() {
    let mut o = org(&[
        "direct@example.com",
        "member1@example.com",
        "member2@example.com",
        "outsider@example.com",
    ]);
    let ids: Vec<String> = o.users.iter().map(|u| u.id.clone()).collect();
    let jira_users = o.add_group("jira-users", GroupType::OktaGroup);
    o.add_member(&jira_users, &ids[1]);
    o.add_member(&jira_users, &ids[2]);
    let app = o.add_app("Jira");
    o.assign_user_to_app(&app, &ids[0]);
    o.assign_group_to_app(&app, &jira_users);
    let env = env_with(
        o,
        json!({"appScope": app, "lifecycle": {"guardMinUsers": 10}}),
    );
    let out = full(&env);
    let names: Vec<String> = usernames(&env).into_iter().map(|u| u.0).collect();
    assert_eq!(
        names,
        [
            "direct@example.com",
            "member1@example.com",
            "member2@example.com"
        ]
    );
    let store = env.store();
    assert_eq!(
        store.groups.into_iter().collect::<Vec<_>>(),
        ["jira-users"],
        "only the assigned groups"
    );
    assert_eq!(out.report.okta_users, 3);
    // An incremental sync sees a new direct assignment and a newly assigned group.
    let (newcomer, qa) = env.sim.with_org(|o| {
        let newcomer = o.add_user("newcomer@example.com", "New", "Comer", "ACTIVE");
        let qa = o.add_group("qa", GroupType::OktaGroup);
        o.add_member(&qa, &ids[3]);
        (newcomer, qa)
    });
    incremental(&env);
    assert_eq!(env.store().users.len(), 3, "not assigned yet: not synced");
    env.sim.with_org(|o| {
        o.assign_user_to_app(&app, &newcomer);
        o.assign_group_to_app(&app, &qa);
    });
    incremental(&env);
    let store = env.store();
    assert!(store.users.iter().any(|u| u.okta_id == newcomer));
    assert!(store.users.iter().any(|u| u.okta_id == ids[3]));
    assert!(
        store
            .memberships
            .contains(&("outsider@example.com".into(), "qa".into()))
    );
    // A login of an unassigned user is refused; an assigned one admitted.
    let stranger = env
        .sim
        .with_org(|o| o.add_user("stranger@example.com", "S", "Z", "ACTIVE"));
    let r = env
        .harness
        .sync_user(CONNECTOR, "stranger@example.com")
        .unwrap();
    assert_eq!(
        r.refusal.as_deref(),
        Some(format!("not assigned to the Okta application {app}").as_str())
    );
    assert!(!env.store().users.iter().any(|u| u.okta_id == stranger));
    let r = env
        .harness
        .sync_user(CONNECTOR, "member1@example.com")
        .unwrap();
    assert!(r.active && r.refusal.is_none(), "{r:?}");
    // Unassigned: the next full sync treats them as missing (deactivated).
    env.sim.with_org(|o| {
        o.unassign_user_from_app(&app, &ids[0]);
        o.unassign_group_from_app(&app, &qa);
    });
    full(&env);
    assert!(!row(&env, &ids[0]).active);
    assert!(!row(&env, &ids[3]).active);
    assert!(row(&env, &ids[1]).active);
}

#[test]
fn an_unknown_app_fails_the_sync_and_the_test_naming_it() {
    let env = env_with(
        org(&["ann@example.com"]),
        json!({"appScope": "0oaNoSuchApp"}),
    );
    let e = env
        .harness
        .sync(CONNECTOR, SyncRequest::default())
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("/api/v1/apps/0oaNoSuchApp/users") && text.contains("E0000007"),
        "{text}"
    );
    assert!(env.store().users.is_empty(), "nothing was applied");
    let e = env.harness.test_connection(CONNECTOR).unwrap_err();
    assert!(e.to_string().contains("0oaNoSuchApp"), "{e}");
}

/// The attributes of a user, as stored (JSON object text).
fn attributes(env: &Env, okta_id: &str) -> Value {
    let text: String = env
        .harness
        .db()
        .lock()
        .query_row(
            "SELECT attributes FROM users WHERE okta_id = ?1",
            [okta_id],
            |r| r.get(0),
        )
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn each_mapping_policy_case() {
    let mut o = org(&[
        "ann@example.com",
        "bob@partner.org",
        "cy@example.com",
        "dee@partner.org",
    ]);
    o.users[0].profile.insert("nickName".into(), json!("Annie"));
    o.users[0]
        .profile
        .insert("employeeNumber".into(), json!("E100"));
    o.users[0]
        .profile
        .insert("costCenter".into(), json!("CC-7"));
    let env = env_with(o, json!({}));
    let ids: Vec<String> = [
        "ann@example.com",
        "bob@partner.org",
        "cy@example.com",
        "dee@partner.org",
    ]
    .iter()
    .map(|l| okta_id(&env, l))
    .collect();
    full(&env);
    assert_eq!(row(&env, &ids[3]).email, "dee@partner.org");
    configure(
        &env,
        json!({"users": {
            // Fallbacks: the nickname, else the first name; combined with the last name.
            "displayName": {"template": "{nickName|firstName} {lastName}"},
            // A username template combining attributes, its pattern skipping others.
            "username": {"template": "{login}", "pattern": "^(.*)@example\\.com$",
                         "replacement": "$1", "onNoMatch": "use-raw"},
            // Email: partners' addresses are cleared.
            "email": {"template": "{email}", "pattern": "@example\\.com$", "replacement": "@example.com",
                      "onNoMatch": "clear"},
            "attributes": [
                {"name": "badge", "mapping": {"template": "{employeeNumber|login}-{costCenter}",
                 "pattern": "", "replacement": "", "onNoMatch": "use-raw"}},
                {"name": "team", "mapping": {"template": "{department}", "pattern": "^Eng.*",
                 "replacement": "Engineering", "onNoMatch": "leave"}}
            ]
        }, "lifecycle": {"guardMinUsers": 10}}),
    );
    full(&env);
    let ann = row(&env, &ids[0]);
    assert_eq!(
        (
            ann.username.as_str(),
            ann.display_name.as_str(),
            ann.email.as_str()
        ),
        ("ann", "Annie Z", "ann@example.com")
    );
    let bob = row(&env, &ids[1]);
    assert_eq!(
        (
            bob.username.as_str(),
            bob.display_name.as_str(),
            bob.email.as_str()
        ),
        ("bob@partner.org", "bob Z", ""),
        "use-raw keeps the unmatched username; clear empties the email"
    );
    assert_eq!(attributes(&env, &ids[0])["badge"], "E100-CC-7");
    assert_eq!(
        attributes(&env, &ids[1])["badge"],
        "bob@partner.org-",
        "the fallback, and an empty part"
    );
    assert_eq!(
        attributes(&env, &ids[2]).get("team"),
        None,
        "no department: nothing"
    );
    // leave: a value the pattern does not match keeps the stored one.
    env.sim
        .with_org(|o| o.set_profile(&ids[2], "department", json!("Eng-East")));
    full(&env);
    assert_eq!(attributes(&env, &ids[2])["team"], "Engineering");
    env.sim
        .with_org(|o| o.set_profile(&ids[2], "department", json!("Sales")));
    full(&env);
    assert_eq!(
        attributes(&env, &ids[2])["team"],
        "Engineering",
        "left as it was"
    );
    assert_eq!(attributes(&env, &ids[2])["department"], "Sales");
    // skip-user: partners are skipped, reported, and left as they are.
    configure(
        &env,
        json!({"users": {"username": {"onNoMatch": "skip-user"}}}),
    );
    let before = row(&env, &ids[1]);
    env.sim
        .with_org(|o| o.set_profile(&ids[1], "lastName", json!("Changed")));
    let out = full(&env);
    assert_eq!(
        row(&env, &ids[1]),
        before,
        "a skipped user is left as it is"
    );
    assert!(
        out.report
            .warnings
            .iter()
            .any(|w| w.contains(&ids[1]) && w.contains("users.username")),
        "{:?}",
        out.report.warnings
    );
}

#[test]
fn an_incremental_sync_reoffers_seats_denied_earlier() {
    let env = Env::product(
        org(&["a@example.com", "b@example.com", "c@example.com"]),
        "jira",
        Some(2),
    );
    configure(&env, json!({"groups": {"defaultGroups": null}}));
    let first = full(&env);
    assert_eq!(first.report.seats_denied, ["c@example.com"]);
    // A seat frees up: a's deactivation, seen by an incremental sync.
    let a = okta_id(&env, "a@example.com");
    env.sim.with_org(|o| o.set_status(&a, "SUSPENDED"));
    incremental(&env);
    // Nothing about c changed in Okta; the next incremental sync offers it the seat.
    let o = incremental(&env);
    assert!(o.report.seats_denied.is_empty(), "{:?}", o.report);
    let c = okta_id(&env, "c@example.com");
    assert!(
        env.store()
            .memberships
            .contains(&("c@example.com".into(), "jira-software-users".into())),
        "c holds a seat now"
    );
    assert!(row(&env, &c).active);
}

#[test]
fn the_policies_are_set_by_the_command_line_and_survive_export_and_import() {
    let env = env_with(org(&["ann@example.com"]), json!({}));
    let db = env.dir.path().join("usersync.db");
    let db = db.to_str().unwrap();
    let cli = |args: &[&str]| {
        let all: Vec<&str> = ["--db", db].iter().chain(args).copied().collect();
        let out = integration::run_cli(&all);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        out.stdout
    };
    cli(&[
        "connector",
        "edit",
        CONNECTOR,
        "--app-scope",
        " 0oa1b2c3d4EXAMPLE ",
        "--missing-users",
        "anonymize",
        "--inactivity-days",
        "90",
        "--inactivity-never-logged-in",
        "true",
        "--inactivity-exempt-groups",
        "jira-administrators,site-admins",
        "--schedule",
        "daily at 02:30",
        "--schedule-time-zone",
        "europe/berlin",
        "--schedule-enabled",
        "true",
    ]);
    let shown: Value =
        serde_json::from_str(&cli(&["--json", "connector", "show", CONNECTOR])).unwrap();
    assert_eq!(shown["appScope"], "0oa1b2c3d4EXAMPLE");
    assert_eq!(shown["scheduleTimeZone"], "Europe/Berlin");
    assert_eq!(
        shown["lifecycle"]["inactivity"],
        json!({"days": 90, "includeNeverLoggedIn": true,
               "exemptGroups": ["jira-administrators", "site-admins"]})
    );
    assert_eq!(shown["lifecycle"]["missingUsers"], "anonymize");
    let text = cli(&["connector", "show", CONNECTOR]);
    assert!(
        text.lines().any(|l| l.contains("Next runs:")
            && (l.contains(" CET (") || l.contains(" CEST ("))
            && l.contains(" UTC)")),
        "next runs in Berlin time and UTC: {text}"
    );
    // Export, change, import: the policies come back as exported.
    let exported = cli(&["export"]);
    cli(&[
        "connector",
        "edit",
        CONNECTOR,
        "--app-scope",
        "",
        "--inactivity-days",
        "0",
        "--missing-users",
        "keep",
    ]);
    let cleared = env.harness.connector(CONNECTOR).unwrap().settings;
    assert_eq!(
        (cleared.app_scope, cleared.lifecycle.inactivity),
        (None, None)
    );
    let file = env.dir.path().join("export.json");
    std::fs::write(&file, exported).unwrap();
    cli(&["import", file.to_str().unwrap()]);
    let back: Value =
        serde_json::from_str(&cli(&["--json", "connector", "show", CONNECTOR])).unwrap();
    for key in ["appScope", "lifecycle", "scheduleTimeZone"] {
        assert_eq!(back[key], shown[key], "{key}");
    }
}
