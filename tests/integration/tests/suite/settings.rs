//! Connector settings, one test per setting, against the simulator, asserting the store
//! afterwards (including the unchanged cases: guard refused, keep, dry run).

use integration::{CONNECTOR, DIRECTORY_TABLES, Env, connector_input, dump};
use okta_sim::{GenSpec, GroupType, Org, SimConfig};
use serde_json::json;
use usersync::model::{
    ConnectorPatch, FieldMapping, GroupSettings, LifecycleSettings, MigrateExisting, MissingUsers,
    NoMatch, Patch, SyncError, UserSettings,
};
use usersync::{HarnessError, SyncRequest};

/// A field made by `template` alone.
fn mapping(template: &str) -> FieldMapping {
    FieldMapping {
        template: template.into(),
        pattern: String::new(),
        replacement: String::new(),
        on_no_match: NoMatch::UseRaw,
    }
}

fn users() -> UserSettings {
    UserSettings {
        import_users: true,
        update_users: true,
        sync_status: true,
        create_staged: false,
        username: mapping("{login}"),
        lowercase_username: true,
        display_name: mapping("{firstName} {lastName}"),
        email: mapping("{email}"),
        attributes: vec![],
        migrate: MigrateExisting::ByUsername,
    }
}

fn lifecycle() -> LifecycleSettings {
    LifecycleSettings {
        missing_users: MissingUsers::Disable,
        remove_memberships_of_missing: true,
        guard_percent: 10,
        guard_min_users: 5,
        inactivity: None,
    }
}

/// The default group settings without the product's default groups (as
/// `integration::groups_without_defaults`, whole).
fn groups() -> GroupSettings {
    GroupSettings {
        types: vec!["OKTA_GROUP".into(), "APP_GROUP".into()],
        include_patterns: vec![],
        exclude_patterns: vec![],
        required: vec![],
        prefix: String::new(),
        suffix: String::new(),
        pattern: String::new(),
        replacement: String::new(),
        default_groups: Some(vec![]),
    }
}

fn env() -> Env {
    Env::new(
        Org::generate(&GenSpec {
            users: 200,
            groups: 6,
            memberships_per_user: 2,
            seed: 21,
        }),
        SimConfig::default(),
    )
}

fn set(env: &Env, f: impl FnOnce(&mut ConnectorPatch)) {
    let mut input = connector_input();
    f(&mut input);
    env.harness
        .update_connector(CONNECTOR, &input)
        .expect("settings saved");
}

fn sync(env: &Env) -> usersync::harness::SyncOutcome {
    env.harness
        .sync(CONNECTOR, SyncRequest::default())
        .expect("sync")
}

fn active_ids(env: &Env) -> Vec<String> {
    env.sim.with_org(|o| {
        o.users
            .iter()
            .filter(|u| u.status == "ACTIVE")
            .map(|u| u.id.clone())
            .collect()
    })
}

fn row(env: &Env, id: &str) -> Option<integration::UserRow> {
    env.store().users.into_iter().find(|u| u.okta_id == id)
}

#[test]
fn import_update_and_status_switches() {
    let env = env();
    sync(&env);
    let ids = active_ids(&env);
    set(&env, |i| {
        i.users = Some(
            UserSettings {
                import_users: false,
                update_users: false,
                sync_status: false,
                ..users()
            }
            .into_patch(),
        )
    });
    let new = env.sim.with_org(|o| {
        o.set_profile(&ids[0], "firstName", json!("Renamed"));
        o.set_status(&ids[1], "SUSPENDED");
        o.add_user("new.person@example.com", "New", "Person", "ACTIVE")
    });
    let o = sync(&env);
    assert_eq!(o.report.writes, 0, "{:?}", env.changes(o.run_id));
    assert!(row(&env, &new).is_none(), "import off: not created");
    assert!(
        !row(&env, &ids[0])
            .unwrap()
            .display_name
            .starts_with("Renamed"),
        "update off"
    );
    assert!(
        row(&env, &ids[1]).unwrap().active,
        "status off: stays active"
    );

    set(&env, |i| i.users = Some(users().into_patch()));
    let o = sync(&env);
    let c = &o.report.counts;
    assert_eq!(
        (c.users_created, c.users_updated, c.users_deactivated),
        (1, 1, 1)
    );
}

#[test]
fn staged_users_are_created_inactive_when_asked() {
    let env = env();
    let staged = env
        .sim
        .with_org(|o| o.add_user("staged.one@example.com", "Staged", "One", "STAGED"));
    sync(&env);
    assert!(row(&env, &staged).is_none(), "not created by default");
    set(&env, |i| {
        i.users = Some(
            UserSettings {
                create_staged: true,
                ..users()
            }
            .into_patch(),
        )
    });
    sync(&env);
    assert!(!row(&env, &staged).unwrap().active);
}

#[test]
fn usernames_from_another_attribute_a_regex_and_case() {
    let env = env();
    set(&env, |i| {
        i.users = Some(
            UserSettings {
                username: FieldMapping {
                    pattern: "(.*)@.*".into(),
                    replacement: "$1".into(),
                    ..mapping("{email}")
                },
                lowercase_username: false,
                display_name: mapping("{lastName}, {firstName}"),
                ..users()
            }
            .into_patch(),
        )
    });
    let (a, b) = env.sim.with_org(|o| {
        let a = o.add_user("x1@example.com", "Ada", "Lovelace", "ACTIVE");
        o.set_profile(&a, "email", json!("Ada.L@example.com"));
        let b = o.add_user("x2@example.com", "Ada", "Other", "ACTIVE");
        o.set_profile(&b, "email", json!("Ada.L@other.example"));
        (a, b)
    });
    let o = sync(&env);
    let ada = row(&env, &a).unwrap();
    assert_eq!(
        (ada.username.as_str(), ada.display_name.as_str()),
        ("Ada.L", "Lovelace, Ada")
    );
    assert!(
        row(&env, &b).is_none(),
        "the second user mapping to Ada.L does not overwrite the first"
    );
    assert!(
        o.report
            .warnings
            .iter()
            .any(|w| w.contains(&b) && w.contains("`Ada.L`")),
        "{:?}",
        o.report.warnings
    );
}

#[test]
fn group_filters_types_and_name_mapping() {
    let env = env();
    env.sim.with_org(|o| {
        let u = o
            .users
            .iter()
            .find(|u| u.status == "ACTIVE")
            .unwrap()
            .id
            .clone();
        let eng = o.add_group("eng-backend", GroupType::OktaGroup);
        let test = o.add_group("eng-backend-test", GroupType::OktaGroup);
        let app = o.add_group("eng-app", GroupType::AppGroup);
        for g in [&eng, &test, &app] {
            o.add_member(g, &u);
        }
    });
    set(&env, |i| {
        i.groups = Some(
            GroupSettings {
                types: vec!["OKTA_GROUP".into()],
                include_patterns: vec!["^eng-".into()],
                exclude_patterns: vec!["-test$".into()],
                prefix: "okta-".into(),
                pattern: "^eng-(.*)".into(),
                replacement: "$1".into(),
                ..groups()
            }
            .into_patch(),
        )
    });
    sync(&env);
    let groups: Vec<String> = env.store().groups.into_iter().collect();
    assert_eq!(
        groups,
        ["okta-backend"],
        "only OKTA_GROUPs matching ^eng- and not -test$, renamed"
    );
    assert_eq!(env.store().memberships.len(), 1);
}

#[test]
fn only_members_of_required_groups_are_synced() {
    let env = env();
    let (members, required) = env.sim.with_org(|o| {
        let g = o
            .groups
            .iter()
            .find(|g| g.group_type == GroupType::OktaGroup)
            .unwrap();
        (g.members.clone(), g.name.clone())
    });
    set(&env, |i| {
        i.groups = Some(
            GroupSettings {
                required: vec![required.clone()],
                ..groups()
            }
            .into_patch(),
        )
    });
    let o = sync(&env);
    let store = env.store();
    assert!(!store.users.is_empty());
    assert!(
        store.users.iter().all(|u| members.contains(&u.okta_id)),
        "only members of {required}"
    );
    assert!(
        o.report
            .warnings
            .iter()
            .any(|w| w.contains("in none of the required groups"))
    );
}

#[test]
fn default_groups_per_product_and_editable() {
    let env = env();
    let mut input = connector_input();
    input.groups = Some(
        GroupSettings {
            default_groups: None,
            ..groups()
        }
        .into_patch(),
    );
    env.harness.update_connector(CONNECTOR, &input).unwrap();
    sync(&env);
    let store = env.store();
    let synced: Vec<&String> = store.users.iter().map(|u| &u.username).collect();
    let in_default: Vec<&String> = store
        .memberships
        .iter()
        .filter(|(_, g)| g == "jira-software-users")
        .map(|(u, _)| u)
        .collect();
    assert_eq!(
        in_default.len(),
        synced.len(),
        "every synced user gets Jira's default group"
    );

    input.groups = Some(
        GroupSettings {
            default_groups: Some(vec!["okta-users".into()]),
            ..groups()
        }
        .into_patch(),
    );
    env.harness.update_connector(CONNECTOR, &input).unwrap();
    let o = sync(&env);
    assert_eq!(o.report.counts.memberships_added as usize, synced.len());
    assert!(env.store().groups.contains("okta-users"));
    assert_eq!(sync(&env).report.writes, 0, "stable");
}

#[test]
fn missing_users_are_disabled_deleted_or_kept() {
    for (missing, remove, expect_row, expect_active, expect_memberships) in [
        (MissingUsers::Disable, true, true, false, false),
        (MissingUsers::Disable, false, true, false, true),
        (MissingUsers::Keep, false, true, true, true),
        (MissingUsers::Delete, true, false, false, false),
    ] {
        let env = env();
        set(&env, |i| {
            i.lifecycle = Some(
                LifecycleSettings {
                    missing_users: missing,
                    remove_memberships_of_missing: remove,
                    ..lifecycle()
                }
                .into_patch(),
            )
        });
        sync(&env);
        let id = env.sim.with_org(|o| {
            let g = o
                .groups
                .iter()
                .find(|g| g.group_type == GroupType::OktaGroup && !g.members.is_empty())
                .unwrap();
            let id = g
                .members
                .iter()
                .find(|m| o.user(m).is_some_and(|u| u.status == "ACTIVE"))
                .unwrap()
                .clone();
            o.delete_user(&id);
            id
        });
        let before = row(&env, &id).unwrap();
        sync(&env);
        let after = row(&env, &id);
        let what = format!("{missing:?} remove={remove}");
        assert_eq!(after.is_some(), expect_row, "{what}");
        if let Some(after) = after {
            assert_eq!(after.active, expect_active, "{what}");
        }
        let has = env
            .store()
            .memberships
            .iter()
            .any(|(u, _)| *u == before.username);
        assert_eq!(has, expect_memberships, "{what}");
    }
}

#[test]
fn the_mass_deactivation_guard_refuses_then_force_proceeds() {
    let env = env();
    sync(&env);
    let ids = active_ids(&env);
    env.sim.with_org(|o| {
        for id in &ids[..30] {
            o.set_status(id, "SUSPENDED");
        }
    });
    let before = dump(&env.harness, DIRECTORY_TABLES);
    let err = env
        .harness
        .sync(CONNECTOR, SyncRequest::default())
        .unwrap_err();
    let HarnessError::Sync(SyncError::Guard(g)) = &err else {
        panic!("{err:?}")
    };
    assert_eq!((g.would_remove, g.percent, g.min_users), (30, 10, 5));
    assert!(err.to_string().contains("sync once with --force"), "{err}");
    assert_eq!(
        dump(&env.harness, DIRECTORY_TABLES),
        before,
        "guard refused: nothing written"
    );

    let dry = env.dry_run();
    assert_eq!(dry.report.counts.users_deactivated, 30);
    assert!(
        dry.report
            .warnings
            .iter()
            .any(|w| w.starts_with("a real sync would be refused"))
    );
    assert_eq!(
        dump(&env.harness, DIRECTORY_TABLES),
        before,
        "dry run wrote nothing"
    );

    let forced = env
        .harness
        .sync(
            CONNECTOR,
            SyncRequest {
                force: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(forced.report.counts.users_deactivated, 30);
}

#[test]
fn bad_settings_are_refused_naming_the_setting_and_the_stored_config_stays() {
    let env = env();
    let stored = env.harness.connector(CONNECTOR).unwrap().settings;
    let cases: Vec<(ConnectorPatch, &str, &str)> = vec![
        (
            ConnectorPatch {
                users: Some(
                    UserSettings {
                        username: FieldMapping {
                            pattern: "(".into(),
                            ..mapping("{login}")
                        },
                        ..users()
                    }
                    .into_patch(),
                ),
                ..connector_input()
            },
            "users.username.pattern",
            "is not a valid regular expression",
        ),
        (
            ConnectorPatch {
                users: Some(
                    UserSettings {
                        display_name: mapping("{firstName"),
                        ..users()
                    }
                    .into_patch(),
                ),
                ..connector_input()
            },
            "users.display-name.template",
            "without",
        ),
        (
            ConnectorPatch {
                users: Some(
                    UserSettings {
                        username: mapping("{first name}"),
                        ..users()
                    }
                    .into_patch(),
                ),
                ..connector_input()
            },
            "users.username.template",
            "not an Okta profile attribute",
        ),
        (
            ConnectorPatch {
                groups: Some(
                    GroupSettings {
                        include_patterns: vec!["[".into()],
                        ..groups()
                    }
                    .into_patch(),
                ),
                ..connector_input()
            },
            "groups.include-patterns",
            "not a valid regular expression",
        ),
        (
            ConnectorPatch {
                groups: Some(
                    GroupSettings {
                        types: vec!["BUILT_IN".into()],
                        ..groups()
                    }
                    .into_patch(),
                ),
                ..connector_input()
            },
            "groups.types",
            "include-built-in-groups",
        ),
        (
            ConnectorPatch {
                lifecycle: Some(
                    LifecycleSettings {
                        guard_percent: 150,
                        ..lifecycle()
                    }
                    .into_patch(),
                ),
                ..connector_input()
            },
            "lifecycle.guard-percent",
            "out of range",
        ),
    ];
    for (input, field, needle) in cases {
        let err = env.harness.update_connector(CONNECTOR, &input).unwrap_err();
        let HarnessError::InvalidConfig(errors) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(errors[0].field, field, "{errors:?}");
        assert!(
            errors[0].message.contains(needle),
            "{field}: {}",
            errors[0].message
        );
        assert_eq!(
            env.harness.connector(CONNECTOR).unwrap().settings,
            stored,
            "a rejected config leaves the stored one"
        );
    }
}

#[test]
fn a_renamed_okta_login_keeps_the_user_key_and_its_history() {
    let env = env();
    sync(&env);
    let id = active_ids(&env)[0].clone();
    let (key, old_name) = {
        let conn = env.harness.db().lock();
        let (key, name): (String, String) = conn
            .query_row(
                "SELECT key, username FROM users WHERE okta_id = ?1",
                [&id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        for text in ["created PROJ-1", "commented on PROJ-2"] {
            conn.execute(
                "INSERT INTO history (user_key, at, text) VALUES (?1, 0, ?2)",
                [&key, text],
            )
            .unwrap();
        }
        (key, name)
    };
    env.sim
        .with_org(|o| o.set_profile(&id, "login", json!("Renamed.Login@example.com")));
    let o = sync(&env);
    let e = env
        .changes(o.run_id)
        .into_iter()
        .find(|e| e.target == "renamed.login@example.com")
        .expect("a rename entry");
    assert_eq!(e.fields[0].field, "username");
    assert_eq!(e.fields[0].old.as_deref(), Some(old_name.as_str()));
    let conn = env.harness.db().lock();
    let (now_key, name): (String, String) = conn
        .query_row(
            "SELECT key, username FROM users WHERE okta_id = ?1",
            [&id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (now_key.as_str(), name.as_str()),
        (key.as_str(), "renamed.login@example.com")
    );
    let history: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM history WHERE user_key = ?1",
            [&key],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(history, 2, "the history still points at the user");
}

/// Users created straight in a directory, as the product's own admin would.
fn insert_users(env: &Env, directory: i64, logins: &[String]) -> Vec<String> {
    let conn = env.harness.db().lock();
    logins
        .iter()
        .enumerate()
        .map(|(i, login)| {
            let key = format!("LEGACY{i}");
            conn.execute(
                "INSERT INTO users (key, directory_id, username, display_name, email, active, attributes) VALUES (?1, ?2, ?3, 'Old Name', ?3, 1, '{}')",
                rusqlite::params![key, directory, login],
            )
            .unwrap();
            conn.execute("INSERT INTO history (user_key, at, text) VALUES (?1, 0, 'worked on PROJ-7')", [&key]).unwrap();
            key
        })
        .collect()
}

#[test]
fn existing_internal_users_are_migrated_with_their_keys_and_history() {
    let env = env();
    let logins: Vec<String> = env.sim.with_org(|o| {
        o.users
            .iter()
            .filter(|u| u.status == "ACTIVE")
            .take(100)
            .map(|u| u.profile["login"].as_str().unwrap().to_lowercase())
            .collect()
    });
    let keys = insert_users(&env, 1, &logins);
    let okta_dir = env.harness.connector(CONNECTOR).unwrap().directory_id;
    let o = sync(&env);
    assert_eq!(o.report.counts.users_migrated, 100);
    let conn = env.harness.db().lock();
    for (key, login) in keys.iter().zip(&logins) {
        let (dir, name, okta_id, display): (i64, String, Option<String>, String) = conn
            .query_row(
                "SELECT directory_id, username, okta_id, display_name FROM users WHERE key = ?1",
                [key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(
            (dir, name.as_str()),
            (okta_dir, login.as_str()),
            "same key, now owned by the connector"
        );
        assert!(
            okta_id.is_some() && display != "Old Name",
            "then synced from Okta"
        );
    }
    let orphans: i64 = conn
        .query_row("SELECT COUNT(*) FROM history h LEFT JOIN users u ON u.key = h.user_key WHERE u.key IS NULL", [], |r| r.get(0))
        .unwrap();
    let history: i64 = conn
        .query_row("SELECT COUNT(*) FROM history", [], |r| r.get(0))
        .unwrap();
    assert_eq!((orphans, history), (0, 100), "nothing orphaned");
    let dupes: i64 = conn
        .query_row("SELECT COUNT(*) FROM (SELECT username FROM users GROUP BY username COLLATE NOCASE HAVING COUNT(*) > 1)", [], |r| r.get(0))
        .unwrap();
    assert_eq!(dupes, 0, "no second account");
}

#[test]
fn without_migration_a_username_of_an_earlier_directory_is_not_overwritten() {
    let env = env();
    set(&env, |i| {
        i.users = Some(
            UserSettings {
                migrate: MigrateExisting::Off,
                ..users()
            }
            .into_patch(),
        )
    });
    let login = env
        .sim
        .with_org(|o| o.first_active_login().unwrap())
        .to_lowercase();
    let key = insert_users(&env, 1, std::slice::from_ref(&login)).remove(0);
    let o = sync(&env);
    assert!(o.report.warnings.iter().any(|w| {
        w.contains(&format!("username `{login}` is held by directory 1")) && w.contains("conflict")
    }));
    assert!(
        !env.store().users.iter().any(|u| u.username == login),
        "not created in the Okta directory"
    );
    let conn = env.harness.db().lock();
    let (dir, display): (i64, String) = conn
        .query_row(
            "SELECT directory_id, display_name FROM users WHERE key = ?1",
            [&key],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (dir, display.as_str()),
        (1, "Old Name"),
        "the internal user is untouched"
    );
}

#[test]
fn a_second_connector_never_overwrites_the_first_ones_users() {
    let env = env();
    sync(&env);
    let second = ConnectorPatch {
        name: Some("second".into()),
        ..connector_input()
    };
    env.harness.create_connector(&second).unwrap();
    let before = dump(&env.harness, DIRECTORY_TABLES);
    let o = env.harness.sync("second", SyncRequest::default()).unwrap();
    assert_eq!(
        o.report.counts.users_created + o.report.counts.users_migrated,
        0
    );
    assert!(
        o.report
            .warnings
            .iter()
            .filter(|w| w.contains("earlier in the directory order"))
            .count()
            > 100
    );
    let after = dump(&env.harness, DIRECTORY_TABLES);
    let users = |d: &[String]| {
        d.iter()
            .filter(|r| r.starts_with("users:"))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        users(&after),
        users(&before),
        "no user of the first connector changed"
    );
}

/// The `json` block after `marker` in the README.
fn readme_json(marker: &str) -> String {
    let readme = include_str!("../../../../README.md");
    let at = readme.find(marker).expect("the README's marker") + marker.len();
    let start = at + readme[at..].find("```json\n").unwrap() + "```json\n".len();
    let end = start + readme[start..].find("```").unwrap();
    readme[start..end].to_string()
}

#[test]
fn the_readme_shows_the_plugins_defaults_and_a_patch_the_harness_takes() {
    let env = env();
    let shown: usersync::ConnectorSettings = serde_json::from_str(&readme_json(
        "these are they for Jira, with `name` and `oktaDomain` to set:",
    ))
    .expect("the README's settings parse");
    let mut defaults = env.harness.defaults().unwrap();
    defaults.name = "Okta".into();
    defaults.okta_domain = "acme.okta.com".into();
    assert_eq!(shown, defaults, "the README shows the plugin's defaults");

    let patch: ConnectorPatch = serde_json::from_str(&readme_json(
        "A settings file or a body may hold only what changes",
    ))
    .expect("the README's patch parses");
    let v = env.harness.update_connector(CONNECTOR, &patch).unwrap();
    assert_eq!(v.settings.users.username.pattern, "(.*)@.*");
    assert_eq!(v.settings.groups.include_patterns, ["^eng-"]);
    assert_eq!(v.settings.lifecycle.guard_percent, 20);
    assert_eq!(v.settings.lifecycle.guard_min_users, 5, "the rest kept");
}
