//! The `usersync` command line, in process: each command's output and exit code,
//! including the errors admins meet.

use super::cli_support::Cli;
use okta_sim::GenSpec;

/// The org of these tests.
fn cli() -> Cli {
    Cli::new(GenSpec {
        users: 120,
        groups: 6,
        memberships_per_user: 2,
        seed: 3,
    })
}

const CREATE: &[&str] = &[
    "connector",
    "create",
    "--name",
    "Okta",
    "--domain",
    "https://acme.okta.com/",
    "--token-file",
    "TOKEN_FILE",
];

#[test]
fn create_show_list_test_sync_runs_log() {
    let cli = cli();
    let out = cli.ok(CREATE);
    assert!(out.contains("Okta domain:        acme.okta.com"), "{out}");
    assert!(out.contains("API token:          ********"));
    assert!(!out.contains("test-token"));

    let list = cli.ok(&["connector", "list"]);
    assert!(list.lines().nth(1).unwrap().starts_with("Okta "), "{list}");
    let json = cli.ok(&["--json", "connector", "show", "Okta"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["oktaDomain"], "acme.okta.com");
    assert_eq!(v["apiToken"], "********");
    assert_eq!(
        v["lifecycle"]["guardPercent"], 10,
        "camelCase, every setting"
    );
    assert!(!json.contains("test-token"));

    let test = cli.ok(&["connector", "test", "Okta"]);
    assert!(
        test.starts_with("Connection to https://acme.okta.com works"),
        "{test}"
    );

    let dry = cli.ok(&["sync", "Okta", "--dry-run"]);
    assert!(dry.starts_with("Dry run (nothing written)"), "{dry}");
    let sync = cli.ok(&["--json", "sync", "Okta"]);
    let v: serde_json::Value = serde_json::from_str(&sync).unwrap();
    assert!(v["report"]["counts"]["usersCreated"].as_u64().unwrap() > 100);
    let run_id = v["runId"].as_i64().unwrap();

    let runs = cli.ok(&["runs", "Okta"]);
    assert_eq!(runs.lines().count(), 3, "header + sync + dry run: {runs}");
    assert!(runs.contains("succeeded"));
    let log = cli.ok(&["log", &run_id.to_string()]);
    assert!(
        log.contains("applied") && log.contains("create user"),
        "{log}"
    );
    // Every change, read a chunk at a time: in `--json sync` and in `log`, text and JSON.
    let changes = v["report"]["changes"].as_array().unwrap();
    let created = changes
        .iter()
        .filter(|c| c["action"] == "create-user")
        .count();
    assert_eq!(v["report"]["counts"]["usersCreated"], created);
    let logged: serde_json::Value =
        serde_json::from_str(&cli.ok(&["--json", "log", &run_id.to_string()])).unwrap();
    assert_eq!(logged["run"]["report"]["changes"].as_array(), Some(changes));
    let listed = |text: &str| {
        let after = text.split("  Changes:\n").nth(1).unwrap_or_default();
        after.lines().take_while(|l| l.starts_with("    ")).count()
    };
    assert_eq!(listed(&log), changes.len(), "{log}");
    // The text of a sync shows its first 20 and how many more.
    assert_eq!(listed(&dry), 21, "{dry}");
    assert!(
        dry.contains(&format!("    … and {} more\n", changes.len() - 20)),
        "{dry}"
    );

    let login = cli.org_login();
    let user = cli.ok(&["sync-user", "Okta", &login]);
    assert!(user.contains("(active), 0 changes, 2 requests"), "{user}");

    let edited = cli.ok(&[
        "connector",
        "edit",
        "Okta",
        "--schedule",
        "*/30 * * * *",
        "--schedule-enabled",
        "true",
    ]);
    assert!(
        edited.contains("Schedule (UTC):     0 */30 * * * * (enabled)"),
        "{edited}"
    );
    cli.ok(&["connector", "delete", "Okta"]);
    assert_eq!(cli.run(&["connector", "show", "Okta"]).code, 3);
}

#[test]
fn control_characters_from_okta_never_reach_the_terminal() {
    let cli = cli();
    cli.sim.with_org(|o| {
        o.add_group("Evil\u{1b}[2J\u{7}", okta_sim::GroupType::OktaGroup);
    });
    cli.ok(CREATE);
    let sync = cli.ok(&["--json", "sync", "Okta"]);
    let run_id = serde_json::from_str::<serde_json::Value>(&sync).unwrap()["runId"]
        .as_i64()
        .unwrap();
    let log = cli.ok(&["log", &run_id.to_string()]);
    assert!(log.contains("Evil\\u{1b}[2J\\u{7}"), "{log}");
    assert!(!log.contains('\u{1b}') && !log.contains('\u{7}'));
    let json = cli.ok(&["--json", "log", &run_id.to_string()]);
    assert!(
        json.contains("Evil\\u001b[2J\\u0007"),
        "JSON escapes them itself"
    );
}

impl Cli {
    fn org_login(&self) -> String {
        self.sim.with_org(|o| {
            let u = o.users.iter().find(|u| u.status == "ACTIVE").unwrap();
            u.profile["login"].as_str().unwrap().to_string()
        })
    }
}

#[test]
fn errors_are_one_sentence_with_documented_exit_codes() {
    let cli = cli();
    let o = cli.run(&["connector", "show", "nope"]);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (3, "error: there is no connector named `nope`\n")
    );
    let o = cli.run(&["sync", "nope"]);
    assert_eq!(o.code, 3);

    let o = cli.run(&[
        "connector",
        "create",
        "--name",
        "X",
        "--domain",
        "http://acme.okta.com",
        "--token-file",
        "TOKEN_FILE",
    ]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.starts_with(
            "error: invalid connector settings: okta-domain: `http://acme.okta.com` uses http://"
        ),
        "{}",
        o.stderr
    );
    assert_eq!(o.stderr.lines().count(), 1);

    let o = cli.run(&[
        "connector",
        "create",
        "--name",
        "X",
        "--domain",
        "acme-admin.okta.com",
        "--token-file",
        "TOKEN_FILE",
    ]);
    assert!(
        o.stderr
            .contains("is the Admin Console host, not the API host; use acme.okta.com"),
        "{}",
        o.stderr
    );

    let o = cli.run(&[
        "connector",
        "create",
        "--name",
        "X",
        "--domain",
        "acme.okta.com",
        "--schedule",
        "0 61 * * * ?",
        "--token-file",
        "TOKEN_FILE",
    ]);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (
            2,
            "error: invalid connector settings: schedule: the minutes field `61` is not valid\n"
        )
    );

    cli.ok(CREATE);
    let o = cli.run(CREATE);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (2, "error: a connector named `Okta` already exists\n")
    );

    let o = cli.run(&["--product", "jora", "connector", "list"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("unknown product `jora`"));

    let o = cli.run(&[
        "--resolve",
        "acme.okta.com=10.1.1.1:80",
        "connector",
        "list",
    ]);
    assert!(o.stderr.contains("not a loopback address"), "{}", o.stderr);

    let o = cli.run(&["log", "999"]);
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (3, "error: there is no run #999\n")
    );
}

#[test]
fn a_failed_sync_exits_1_and_says_nothing_changed() {
    let cli = cli();
    cli.ok(CREATE);
    cli.sim.add_fault(okta_sim::Fault {
        path_prefix: "/api/v1/groups".into(),
        nth: 1,
        times: 10,
        kind: okta_sim::FaultKind::RevokedToken,
    });
    let o = cli.run(&["sync", "Okta"]);
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        "error: Okta request /api/v1/groups?limit=10000 failed: Invalid token provided (HTTP 401, E0000011); nothing was changed\n"
    );
    let runs = cli.ok(&["runs"]);
    assert!(runs.contains("failed"), "{runs}");
}

#[test]
fn a_settings_file_holds_any_camel_case_settings_and_the_options_override_it() {
    let cli = cli();
    let file = cli.dir.path().join("settings.json");
    std::fs::write(
        &file,
        r#"{"memberConcurrency": 2, "users": {"username": {"pattern": "(.*)@.*", "replacement": "$1"}},
            "lifecycle": {"guardPercent": 25}, "unknownAtLogin": "deny"}"#,
    )
    .unwrap();
    let path = file.display().to_string();
    let create = [CREATE, &["--settings", &path, "--member-concurrency", "8"]].concat();
    cli.ok(&create);
    let v: serde_json::Value =
        serde_json::from_str(&cli.ok(&["--json", "connector", "show", "Okta"])).unwrap();
    assert_eq!(v["memberConcurrency"], 8, "the option wins");
    assert_eq!(v["users"]["username"]["pattern"], "(.*)@.*");
    assert_eq!(
        v["users"]["username"]["template"], "{login}",
        "the rest: the defaults"
    );
    assert_eq!(v["lifecycle"]["guardPercent"], 25);
    assert_eq!(v["lifecycle"]["guardMinUsers"], 5);
    assert_eq!(v["unknownAtLogin"], "deny");

    // An edit's file changes what it holds only.
    std::fs::write(&file, r#"{"lifecycle": {"guardMinUsers": 9}}"#).unwrap();
    cli.ok(&["connector", "edit", "Okta", "--settings", &path]);
    let v: serde_json::Value =
        serde_json::from_str(&cli.ok(&["--json", "connector", "show", "Okta"])).unwrap();
    assert_eq!(
        (
            &v["lifecycle"]["guardPercent"],
            &v["lifecycle"]["guardMinUsers"]
        ),
        (&25.into(), &9.into())
    );

    // The old snake_case shape, and a token in the file, are refused naming the field.
    std::fs::write(&file, r#"{"lifecycle": {"guard_percent": 9}}"#).unwrap();
    let o = cli.run(&["connector", "edit", "Okta", "--settings", &path]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("unknown field `guard_percent`") && o.stderr.contains("lifecycle"),
        "{}",
        o.stderr
    );
    std::fs::write(&file, r#"{"apiToken": "x"}"#).unwrap();
    let o = cli.run(&["connector", "edit", "Okta", "--settings", &path]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("holds an apiToken"), "{}", o.stderr);
}
