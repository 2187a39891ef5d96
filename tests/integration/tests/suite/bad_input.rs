//! The bad-input matrix (tests/README.md), through the real component and host:
//! connector settings refused with the exact error and the stored connector unchanged;
//! Okta responses that cannot be trusted failing the sync with nothing applied, and odd
//! but legal ones (unknown statuses, nulls, wrong-typed attributes, a 10 MB attribute,
//! duplicate logins) synced and reported; store states where another directory already
//! has the username or the group name.

use integration::{
    CONNECTOR, DIRECTORY_TABLES, DOMAIN, Env, connector_input, dump, first_sync_projection,
};
use okta_sim::{Fault, FaultKind, GroupType, Org, SimConfig};
use serde_json::{Value, json};
use usersync::HarnessError;
use usersync::model::{
    ConnectorPatch, ConnectorSettings, FailureKind, OktaErrorKind, Patch, RunStatus, SyncError,
    TokenText,
};

fn env() -> Env {
    Env::generated(40, 4)
}

/// The rows that define a connector: its settings and its token.
fn stored(env: &Env) -> Vec<String> {
    dump(&env.harness, &["connectors", "secrets", "directories"])
}

/// `input` is refused with exactly one error on `field` whose message contains
/// `needle`, on create and on edit; the stored connector is unchanged after each.
#[track_caller]
fn refused(env: &Env, input: &ConnectorPatch, field: &str, needle: &str) {
    refused_on(env, input, field, needle, true);
}

#[track_caller]
fn refused_on(env: &Env, input: &ConnectorPatch, field: &str, needle: &str, edit: bool) {
    let before = stored(env);
    let check = |what: &str, result: Result<_, HarnessError>| {
        match result {
            Err(HarnessError::InvalidConfig(errors)) => {
                let got: Vec<(&str, &str)> = errors
                    .iter()
                    .map(|e| (e.field.as_str(), e.message.as_str()))
                    .collect();
                assert_eq!(errors.len(), 1, "{what} {input:?}: {got:?}");
                assert_eq!(errors[0].field, field, "{what} {input:?}: {got:?}");
                assert!(
                    errors[0].message.contains(needle),
                    "{what} {input:?}: {got:?} lacks {needle:?}"
                );
            }
            other => panic!("{what} {input:?} should be refused on {field}: {other:?}"),
        }
        assert_eq!(
            stored(env),
            before,
            "{what}: the stored connector is unchanged"
        );
    };
    check("create", env.harness.create_connector(input));
    if edit {
        check("edit", env.harness.update_connector(CONNECTOR, input));
    }
}

fn with(f: impl FnOnce(&mut ConnectorPatch)) -> ConnectorPatch {
    let mut i = connector_input();
    i.name = Some("second".into());
    f(&mut i);
    i
}

// ---------------------------------------------------------------- connector settings

#[test]
fn names_empty_blank_huge_or_with_control_characters_are_refused() {
    let env = env();
    refused(
        &env,
        &with(|i| i.name = Some(String::new())),
        "name",
        "the connector name is empty",
    );
    refused(
        &env,
        &with(|i| i.name = Some(" \t\n ".into())),
        "name",
        "the connector name is empty",
    );
    refused(
        &env,
        &with(|i| i.name = Some("x".repeat(101))),
        "name",
        "longer than 100 characters",
    );
    refused(
        &env,
        &with(|i| i.name = Some("é".repeat(10_000))),
        "name",
        "longer than 100 characters",
    );
    refused(
        &env,
        &with(|i| i.name = Some("two\nlines".into())),
        "name",
        "control characters",
    );
    refused(
        &env,
        &with(|i| i.name = Some("nul\0".into())),
        "name",
        "control characters",
    );
}

#[test]
fn unicode_and_padded_names_are_accepted_trimmed() {
    let env = env();
    let v = env
        .harness
        .create_connector(&with(|i| i.name = Some("  Okta 日本 — Zoë 😀 ".into())))
        .unwrap();
    assert_eq!(v.settings.name, "Okta 日本 — Zoë 😀");
    assert_eq!(
        env.harness
            .connector("Okta 日本 — Zoë 😀")
            .unwrap()
            .settings
            .name,
        v.settings.name
    );
    let hundred = "ü".repeat(100);
    let v = env
        .harness
        .create_connector(&with(|i| i.name = Some(hundred.clone())))
        .unwrap();
    assert_eq!(
        v.settings.name, hundred,
        "100 characters, 200 bytes: accepted"
    );
}

#[test]
fn duplicate_names_are_refused_on_create_and_on_rename() {
    let env = env();
    let before = stored(&env);
    for name in ["okta", "OKTA", "  Okta  "] {
        let e = env
            .harness
            .create_connector(&with(|i| i.name = Some(name.into())))
            .unwrap_err();
        assert!(
            matches!(&e, HarnessError::DuplicateName(n) if n.eq_ignore_ascii_case("okta")),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            format!("a connector named `{}` already exists", name.trim())
        );
    }
    assert_eq!(stored(&env), before);
    env.harness.create_connector(&with(|_| {})).unwrap();
    let before = stored(&env);
    let e = env
        .harness
        .update_connector("second", &with(|i| i.name = Some("Okta".into())))
        .unwrap_err();
    assert!(matches!(e, HarnessError::DuplicateName(_)), "{e:?}");
    assert_eq!(stored(&env), before, "the renamed connector is unchanged");
}

#[test]
fn domains_empty_huge_unicode_admin_ip_port_scheme_path_userinfo_are_refused() {
    let env = env();
    let d = |d: &str| with(|i| i.okta_domain = Some(d.into()));
    refused(&env, &d(""), "okta-domain", "the Okta domain is empty");
    refused(
        &env,
        &d("   \t "),
        "okta-domain",
        "the Okta domain is empty",
    );
    let huge = format!("{}.okta.com", "a".repeat(300));
    refused(&env, &d(&huge), "okta-domain", "is not a valid domain name");
    let long_label = format!("{}.okta.com", "a".repeat(64));
    refused(
        &env,
        &d(&long_label),
        "okta-domain",
        "is not a valid domain name",
    );
    refused(&env, &d("exämple.okta.com"), "okta-domain", "punycode");
    refused(&env, &d("ａｃｍｅ.okta.com"), "okta-domain", "punycode");
    refused(
        &env,
        &d("acme-admin.okta.com"),
        "okta-domain",
        "is the Admin Console host, not the API host; use acme.okta.com",
    );
    refused(
        &env,
        &d("https://ACME-admin.oktapreview.com/"),
        "okta-domain",
        "use acme.oktapreview.com",
    );
    refused(&env, &d("10.0.0.1"), "okta-domain", "is an IP address");
    refused(&env, &d("127.0.0.1"), "okta-domain", "is an IP address");
    refused(&env, &d("[::1]"), "okta-domain", "is an IP address");
    refused(
        &env,
        &d("https://[2001:db8::1]/"),
        "okta-domain",
        "is an IP address",
    );
    refused(&env, &d("acme.okta.com:8443"), "okta-domain", "has a port");
    refused(&env, &d("acme.okta.com:443"), "okta-domain", "has a port");
    refused(
        &env,
        &d("http://acme.okta.com"),
        "okta-domain",
        "uses http://",
    );
    refused(&env, &d("ftp://acme.okta.com"), "okta-domain", "https only");
    refused(
        &env,
        &d("https://acme.okta.com/api/v1"),
        "okta-domain",
        "has a path or query",
    );
    refused(
        &env,
        &d("acme.okta.com?x=1"),
        "okta-domain",
        "has a path or query",
    );
    refused(
        &env,
        &d("admin@acme.okta.com"),
        "okta-domain",
        "contains user info",
    );
    refused(
        &env,
        &d("{yourOktaDomain}"),
        "okta-domain",
        "is a placeholder",
    );
    refused(
        &env,
        &d("localhost"),
        "okta-domain",
        "is not a valid domain name",
    );
    refused(
        &env,
        &d("acme..okta.com"),
        "okta-domain",
        "is not a valid domain name",
    );
    refused(
        &env,
        &d("-acme.okta.com"),
        "okta-domain",
        "is not a valid domain name",
    );
    refused(
        &env,
        &d("acme.okta.com.com"),
        "okta-domain",
        "ends in .com.com",
    );
}

#[test]
fn pasted_domains_are_normalized() {
    let env = env();
    for (i, pasted) in [
        " https://ACME.okta.com/ ",
        "HTTPS://acme.okta.com",
        "acme.okta.com/\n",
    ]
    .iter()
    .enumerate()
    {
        let v = env
            .harness
            .create_connector(&with(|c| {
                c.name = Some(format!("pasted {i}"));
                c.okta_domain = Some(pasted.to_string());
            }))
            .unwrap();
        assert_eq!(v.settings.okta_domain, DOMAIN, "{pasted:?}");
    }
}

#[test]
fn bad_schedules_are_refused_naming_the_cron_field() {
    let env = env();
    let s = |s: &str| with(|i| i.schedule = Some(s.into()));
    refused(
        &env,
        &s("0 61 * * * ?"),
        "schedule",
        "the minutes field `61` is not valid",
    );
    refused(
        &env,
        &s("0 0 25 * * ?"),
        "schedule",
        "the hours field `25` is not valid",
    );
    refused(
        &env,
        &s("* * * * FOO"),
        "schedule",
        "the day of week field `FOO` is not valid",
    );
    refused(&env, &s("* * *"), "schedule", "found 3");
    refused(&env, &s("1 2 3 4 5 6 7 8"), "schedule", "found 8");
    refused(
        &env,
        &s("@sometimes"),
        "schedule",
        "unknown macro @sometimes",
    );
    refused(&env, &s("0 9 1 * 1"), "schedule", "crontab runs on either");
    refused(
        &env,
        &s("0 0 0 30 2 ?"),
        "schedule",
        "never fires: no such date from now on",
    );
}

#[test]
fn bad_user_attribute_names_are_refused() {
    let env = env();
    for bad in [
        "bad attr",
        "",
        "  ",
        "a-b",
        "dépt",
        "x;DROP TABLE users",
        &"a".repeat(101),
    ] {
        refused(
            &env,
            &with(|i| i.user_attributes = Some(vec!["department".into(), bad.to_string()])),
            "user-attributes",
            "is not an Okta profile attribute name",
        );
    }
}

#[test]
fn out_of_range_thresholds_are_refused() {
    let env = env();
    refused(
        &env,
        &with(|i| i.full_sync_interval_hours = Some(721)),
        "full-sync-interval-hours",
        "out of range; use 1 to 720",
    );
    refused(
        &env,
        &with(|i| i.full_sync_interval_hours = Some(u32::MAX)),
        "full-sync-interval-hours",
        "out of range",
    );
    refused(
        &env,
        &with(|i| i.member_concurrency = Some(17)),
        "member-concurrency",
        "out of range; use 1 to 16",
    );
}

/// The stored connector's settings, changed by `f`, as a patch for a second connector.
fn from_stored(env: &Env, f: impl FnOnce(&mut ConnectorSettings)) -> ConnectorPatch {
    let mut s = env.harness.connector(CONNECTOR).unwrap().settings;
    s.name = "second".into();
    f(&mut s);
    ConnectorPatch {
        api_token: Some(TokenText("test-token".into())),
        ..s.into_patch()
    }
}

#[test]
fn bad_regular_expressions_are_refused_naming_the_setting() {
    let env = env();
    let groups =
        |f: &dyn Fn(&mut usersync::model::GroupSettings)| from_stored(&env, |i| f(&mut i.groups));
    refused(
        &env,
        &groups(&|g| g.include_patterns = vec!["eng-.*".into(), "(unclosed".into()]),
        "groups.include-patterns",
        "`(unclosed` is not a valid regular expression",
    );
    refused(
        &env,
        &groups(&|g| g.exclude_patterns = vec!["[z-a]".into()]),
        "groups.exclude-patterns",
        "is not a valid regular expression",
    );
    refused(
        &env,
        &groups(&|g| g.pattern = "*star".into()),
        "groups.pattern",
        "is not a valid regular expression",
    );
    refused(
        &env,
        &groups(&|g| g.exclude_patterns = vec![format!("{}", "(a".repeat(10_000))]),
        "groups.exclude-patterns",
        "is not a valid regular expression",
    );
    // Valid syntax, but compiled it would exceed the regex size limit.
    refused(
        &env,
        &groups(&|g| g.include_patterns = vec!["(a{1000}){1000}".into()]),
        "groups.include-patterns",
        "is not a valid regular expression",
    );
    refused(
        &env,
        &from_stored(&env, |i| i.users.username.pattern = "^(?P<user>.*@".into()),
        "users.username.pattern",
        "is not a valid regular expression",
    );
    refused(
        &env,
        &groups(&|g| g.types = vec!["BUILT_IN".into()]),
        "groups.types",
        "is not a group type to choose",
    );
    refused(
        &env,
        // (Blank names are normalized away; a name too long for the product is not.)
        &groups(&|g| g.required = vec!["x".repeat(256)]),
        "groups.required",
        "is not a usable group name",
    );
    refused(
        &env,
        &groups(&|g| g.default_groups = Some(vec!["x".repeat(256)])),
        "groups.default-groups",
        "is not a usable group name",
    );
}

#[test]
fn out_of_range_guard_thresholds_are_refused() {
    let env = env();
    refused(
        &env,
        &from_stored(&env, |i| i.lifecycle.guard_percent = 101),
        "lifecycle.guard-percent",
        "101 is out of range; use 0 to 100",
    );
    refused(
        &env,
        &from_stored(&env, |i| i.lifecycle.guard_min_users = u32::MAX),
        "lifecycle.guard-min-users",
        "is out of range; use 0 to 1000000",
    );
}

#[test]
fn bad_provisioning_policies_are_refused_naming_the_setting() {
    use usersync::model::{FieldMapping, InactivityPolicy, NoMatch};
    let env = env();
    for app in [
        "Jira app",
        "https://acme.okta.com/0oa1",
        "00g1abc",
        "0oa1/users",
    ] {
        refused(
            &env,
            &from_stored(&env, |i| i.app_scope = Some(app.into())),
            "app-scope",
            "is not an Okta application id (`0oa` and letters and digits",
        );
    }
    let inactivity = |days: u32, exempt: &[&str]| {
        from_stored(&env, |i| {
            i.lifecycle.inactivity = Some(InactivityPolicy {
                days,
                include_never_logged_in: true,
                exempt_groups: exempt.iter().map(|g| g.to_string()).collect(),
            })
        })
    };
    for days in [0, 3_651, u32::MAX] {
        refused(
            &env,
            &inactivity(days, &[]),
            "lifecycle.inactivity.days",
            &format!("{days} days is out of range; use 1 to 3650"),
        );
    }
    let long = "g".repeat(256);
    for group in ["  ", long.as_str(), "admins\n"] {
        refused(
            &env,
            &inactivity(30, &[group]),
            "lifecycle.inactivity.exempt-groups",
            "is not a usable group name",
        );
    }
    refused(
        &env,
        &from_stored(&env, |i| i.schedule_time_zone = "CEST".into()),
        "schedule-time-zone",
        "`CEST` is not an IANA time zone name; use e.g. UTC or Europe/Berlin",
    );
    refused(
        &env,
        &from_stored(&env, |i| i.users.username.on_no_match = NoMatch::Clear),
        "users.username.on-no-match",
        "`clear` would leave a user without a username",
    );
    refused(
        &env,
        &from_stored(&env, |i| {
            i.users.display_name = FieldMapping {
                template: "{nick name|firstName}".into(),
                ..i.users.display_name.clone()
            }
        }),
        "users.display-name.template",
        "`{nick name}` is not an Okta profile attribute",
    );
    // The command line refuses unknown values and options without what they qualify.
    let out = integration::run_cli(&["connector", "edit", CONNECTOR, "--missing-users", "forget"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("`forget` is not one of disable, delete, anonymize, keep"),
        "{}",
        out.stderr
    );
    let out = integration::run_cli(&[
        "connector",
        "edit",
        CONNECTOR,
        "--inactivity-never-logged-in",
        "true",
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--inactivity-days"), "{}", out.stderr);
}

#[test]
fn bad_tokens_are_refused_and_never_echoed() {
    let env = env();
    // Empty: as no token (the page's empty field, the REST API's absent one); on edit it
    // keeps the stored token.
    refused_on(
        &env,
        &with(|i| i.api_token = Some(TokenText(String::new()))),
        "api-token",
        "the API token is empty",
        false,
    );
    refused(
        &env,
        &with(|i| i.api_token = Some(TokenText("SSWS ".into()))),
        "api-token",
        "the API token is empty",
    );
    // No token: refused on create; on edit it means "keep the stored token".
    refused_on(
        &env,
        &with(|i| i.api_token = None),
        "api-token",
        "the API token is empty",
        false,
    );
    let spaced = "00abc def-SECRET";
    refused(
        &env,
        &with(|i| i.api_token = Some(TokenText(spaced.into()))),
        "api-token",
        "contains spaces",
    );
    refused(
        &env,
        &with(|i| i.api_token = Some(TokenText("abcd€x".into()))),
        "api-token",
        "characters an Okta token never has",
    );
    refused(
        &env,
        &with(|i| i.api_token = Some(TokenText("x".repeat(513)))),
        "api-token",
        "longer than 512",
    );
    let e = env
        .harness
        .create_connector(&with(|i| i.api_token = Some(TokenText(spaced.into()))))
        .unwrap_err();
    assert!(!e.to_string().contains("SECRET") && !format!("{e:?}").contains("SECRET"));
}

#[test]
fn every_bad_field_is_named_at_once() {
    let env = env();
    let before = stored(&env);
    let input = ConnectorPatch {
        name: Some(String::new()),
        okta_domain: Some("http://x".into()),
        schedule: Some("0 99 * * * ?".into()),
        user_attributes: Some(vec!["bad attr".into()]),
        full_sync_interval_hours: Some(9999),
        ..Default::default()
    };
    let Err(HarnessError::InvalidConfig(errors)) = env.harness.create_connector(&input) else {
        panic!("refused")
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    for f in [
        "name",
        "okta-domain",
        "api-token",
        "schedule",
        "user-attributes",
        "full-sync-interval-hours",
    ] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    assert_eq!(stored(&env), before);
}

// ---------------------------------------------------------------- Okta responses

/// A deep reconcile: every member list is read, so a fault on any of them is met.
fn sync(env: &Env) -> Result<usersync::harness::SyncOutcome, HarnessError> {
    env.deep_sync()
}

/// A sync that fails with an Okta error of `kind` on `path`; the store and the
/// connector's sync state stay as they were; the run is recorded failed.
#[track_caller]
fn fails_with(env: &Env, kind: OktaErrorKind, path: &str, needle: &str) {
    let before = dump(
        &env.harness,
        &[DIRECTORY_TABLES, &["connector_state"]].concat(),
    );
    let err = sync(env).unwrap_err();
    let HarnessError::Sync(SyncError::Okta(o)) = &err else {
        panic!("expected an Okta error, got {err:?}")
    };
    assert_eq!(o.kind, kind, "{err}");
    assert!(o.path.starts_with(path), "{}", o.path);
    assert!(o.summary.contains(needle), "{}", o.summary);
    assert!(err.to_string().ends_with("nothing was changed"), "{err}");
    assert_eq!(
        dump(
            &env.harness,
            &[DIRECTORY_TABLES, &["connector_state"]].concat()
        ),
        before,
        "nothing applied"
    );
    let run = env.harness.runs(Some(CONNECTOR), 1).unwrap().remove(0);
    assert_eq!(run.status, RunStatus::Failed);
    let failure = run.failure.unwrap();
    assert_eq!(failure.kind, FailureKind::Okta);
    assert!(failure.message.ends_with("nothing was changed"));
}

#[test]
fn malformed_json_from_okta_fails_the_sync_and_changes_nothing() {
    let env = Env::generated(300, 6);
    sync(&env).unwrap();
    env.sim.with_org(|o| {
        let id = o.users[0].id.clone();
        o.set_status(&id, "SUSPENDED");
    });
    // Every try of the second users page is cut in half (the client retries bad bodies).
    env.sim.add_fault(Fault {
        path_prefix: "/api/v1/users".into(),
        nth: 2,
        times: 1000,
        kind: FaultKind::MalformedJson,
    });
    fails_with(
        &env,
        OktaErrorKind::BadResponse,
        "/api/v1/users?",
        "not the expected JSON",
    );
}

#[test]
fn a_truncated_body_fails_the_sync_and_changes_nothing() {
    let env = Env::generated(300, 6);
    sync(&env).unwrap();
    env.sim.with_org(|o| {
        let g = o
            .groups
            .iter()
            .find(|g| g.group_type == GroupType::OktaGroup)
            .unwrap()
            .id
            .clone();
        let u = o.users[1].id.clone();
        o.remove_member(&g, &u);
    });
    env.sim.add_fault(Fault {
        path_prefix: "/api/v1/groups/".into(),
        nth: 1,
        times: 1000,
        kind: FaultKind::TruncatedBody,
    });
    // `Content-Length` announced, half the body sent: the response never completes.
    fails_with(&env, OktaErrorKind::Transport, "/api/v1/groups/", "");
}

/// An org loaded from JSON with odd profiles.
fn odd_org() -> Org {
    let mut org = Org::generate(&okta_sim::GenSpec {
        users: 20,
        groups: 2,
        memberships_per_user: 1,
        seed: 3,
    });
    let ids: Vec<String> = org.users.iter().map(|u| u.id.clone()).collect();
    for id in &ids {
        org.set_status(id, "ACTIVE");
    }
    let set = |org: &mut Org, i: usize, k: &str, v: Value| org.set_profile(&ids[i], k, v);
    // Null profile fields.
    for k in [
        "firstName",
        "lastName",
        "displayName",
        "email",
        "department",
    ] {
        set(&mut org, 0, k, Value::Null);
    }
    // Wrong types: numbers, arrays, objects where Okta sends text.
    set(&mut org, 1, "firstName", json!(42));
    set(&mut org, 1, "lastName", json!(["a", "b"]));
    set(&mut org, 1, "department", json!({"name": "R&D"}));
    set(&mut org, 2, "login", json!(12345));
    set(&mut org, 3, "login", Value::Null);
    // Unknown status.
    org.set_status(&ids[4], "FUTURE_STATUS");
    // A 10 MB attribute.
    set(&mut org, 5, "department", json!("d".repeat(10 << 20)));
    // Duplicate login (another case) of user 6.
    let login6 = org.users[6].profile["login"]
        .as_str()
        .unwrap()
        .to_uppercase();
    set(&mut org, 7, "login", json!(login6));
    // Unicode and padding.
    set(&mut org, 8, "login", json!("  Zoë.Ünïcödé@Example.COM "));
    set(&mut org, 8, "firstName", json!("Zoë"));
    set(&mut org, 8, "lastName", json!("日本"));
    Org::from_json(&org.to_json()).expect("the odd org loads from JSON")
}

#[test]
fn odd_but_legal_okta_data_is_synced_and_reported() {
    let org = odd_org();
    let ids: Vec<String> = org.users.iter().map(|u| u.id.clone()).collect();
    let env = Env::new(org, SimConfig::default());
    let out = sync(&env).expect("syncs");
    let w = out.report.warnings.join("\n");
    let store = env.store();
    let row = |id: &str| store.users.iter().find(|u| u.okta_id == id).cloned();

    // Nulls: the login stands in for the display name; no email.
    let u0 = row(&ids[0]).expect("null fields: synced");
    assert_eq!(u0.display_name, u0.username);
    assert_eq!(u0.email, "");
    // Wrong-typed attributes are copied as JSON text.
    let u1 = row(&ids[1]).expect("wrong-typed names: synced");
    assert_eq!(u1.display_name, r#"42 ["a","b"]"#);
    let attrs = |id: &str| {
        let dir = env.harness.connector(CONNECTOR).unwrap().directory_id;
        let snap =
            usersync::product::db::directory::snapshot(&env.harness.db().lock(), dir).unwrap();
        let u = snap
            .users
            .into_iter()
            .find(|u| u.okta_id.as_deref() == Some(id))
            .unwrap();
        u.attributes
    };
    assert_eq!(attrs(&ids[1])[0].value, r#"{"name":"R&D"}"#);
    // A login that is not text, or null: skipped and reported.
    assert!(row(&ids[2]).is_none() && row(&ids[3]).is_none());
    assert!(
        w.contains(&format!("user {} has no login; skipped", ids[2])),
        "{w}"
    );
    assert!(
        w.contains(&format!("user {} has no login; skipped", ids[3])),
        "{w}"
    );
    // Unknown status: not created, reported.
    assert!(row(&ids[4]).is_none());
    assert!(
        w.contains("has unknown status `FUTURE_STATUS`; left unchanged"),
        "{w}"
    );
    // The 10 MB attribute went through the component intact.
    let big = attrs(&ids[5]);
    assert_eq!(big[0].name, "department");
    assert_eq!(big[0].value.len(), 10 << 20);
    // Two Okta users with one login (in two cases): the first is synced, the other reported.
    assert!(row(&ids[6]).is_some() && row(&ids[7]).is_none());
    assert!(
        w.contains("which another Okta user already has; skipped"),
        "{w}"
    );
    // Unicode logins are trimmed and lowercased.
    assert_eq!(row(&ids[8]).unwrap().username, "zoë.ünïcödé@example.com");
    assert_eq!(row(&ids[8]).unwrap().display_name, "Zoë 日本");

    // The user of unknown status, once synced, is left alone while unknown.
    env.sim.with_org(|o| o.set_status(&ids[4], "ACTIVE"));
    sync(&env).unwrap();
    env.sim.with_org(|o| o.set_status(&ids[4], "FUTURE_STATUS"));
    let again = sync(&env).unwrap();
    assert!(
        env.changes(again.run_id).is_empty(),
        "{:?}",
        env.changes(again.run_id)
    );
    assert!(
        env.store()
            .users
            .iter()
            .any(|u| u.okta_id == ids[4] && u.active)
    );
}

// ---------------------------------------------------------------- store states

#[test]
fn a_username_held_in_the_internal_directory_is_taken_over_with_its_key() {
    let env = Env::generated(50, 3);
    let org = env.sim.with_org(|o| o.clone());
    let want = first_sync_projection(&org);
    let taken = want.users.iter().next().unwrap().username.clone();
    // The Internal Directory (id 1) already has a user of that name (other case), in a group.
    env.harness
        .db()
        .lock()
        .execute_batch(&format!(
            "INSERT INTO users (key, directory_id, username, display_name, email, active) \
             VALUES ('INTERNAL1', 1, '{}', 'Local Admin', 'local@x.com', 1); \
             INSERT INTO groups (directory_id, name) VALUES (1, 'jira-administrators'); \
             INSERT INTO memberships (group_id, user_key) VALUES (last_insert_rowid(), 'INTERNAL1');",
            taken.to_uppercase()
        ))
        .unwrap();
    let o = sync(&env).unwrap();
    assert_eq!(o.report.counts.users_migrated, 1);
    assert_eq!(
        env.store(),
        want,
        "one user of that name, owned by the connector, named as Okta maps it"
    );
    let conn = env.harness.db().lock();
    let (key, dir): (String, i64) = conn
        .query_row(
            "SELECT key, directory_id FROM users WHERE username = ?1 COLLATE NOCASE",
            [&taken],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(key, "INTERNAL1", "the same key: its history stays its own");
    assert_ne!(dir, 1);
    drop(conn);
    assert_eq!(sync(&env).unwrap().report.writes, 0);
}

#[test]
fn a_group_name_held_by_a_group_of_another_directory_is_not_touched() {
    let env = Env::generated(50, 3);
    let org = env.sim.with_org(|o| o.clone());
    let want = first_sync_projection(&org);
    let name = want.groups.iter().next().unwrap().clone();
    env.harness
        .db()
        .lock()
        .execute_batch(&format!(
            "INSERT INTO users (key, directory_id, username, display_name, email, active) \
             VALUES ('INTERNAL1', 1, 'local', 'Local', 'local@x.com', 1); \
             INSERT INTO groups (directory_id, name, description) VALUES (1, '{}', 'a local group'); \
             INSERT INTO memberships (group_id, user_key) VALUES (last_insert_rowid(), 'INTERNAL1');",
            name.to_lowercase()
        ))
        .unwrap();
    let internal = |env: &Env| {
        let conn = env.harness.db().lock();
        format!(
            "{:?}",
            usersync::product::db::directory::snapshot(&conn, 1).unwrap()
        )
    };
    let before = internal(&env);
    sync(&env).unwrap();
    assert_eq!(env.store(), want);
    assert_eq!(
        internal(&env),
        before,
        "the other directory's group is untouched"
    );
}

#[test]
fn a_non_synced_group_of_the_okta_directory_with_an_okta_name_is_adopted() {
    let env = Env::generated(50, 3);
    let org = env.sim.with_org(|o| o.clone());
    let want = first_sync_projection(&org);
    let name = want.groups.iter().next().unwrap().clone();
    let dir = env.harness.connector(CONNECTOR).unwrap().directory_id;
    env.harness
        .db()
        .lock()
        .execute(
            "INSERT INTO groups (directory_id, name, description) VALUES (?1, ?2, 'made by hand')",
            rusqlite::params![dir, name.to_uppercase()],
        )
        .unwrap();
    let out = sync(&env).unwrap();
    assert!(
        env.changes(out.run_id)
            .iter()
            .any(|c| c.target.eq_ignore_ascii_case(&name)
                && c.fields.iter().any(|f| f.field == "okta-id")),
        "adopted: {:?}",
        env.changes(out.run_id)
    );
    let okta_id: Option<String> = env
        .harness
        .db()
        .lock()
        .query_row(
            "SELECT okta_id FROM groups WHERE directory_id = ?1 AND name = ?2 COLLATE NOCASE",
            rusqlite::params![dir, name],
            |r| r.get(0),
        )
        .unwrap();
    assert!(okta_id.is_some(), "now synced from Okta");
    assert_eq!(sync(&env).unwrap().report.writes, 0);
}

#[test]
fn a_user_of_the_okta_directory_without_an_okta_id_is_adopted_by_username() {
    let env = Env::generated(50, 3);
    let org = env.sim.with_org(|o| o.clone());
    let want = first_sync_projection(&org);
    let u = want.users.iter().next().unwrap().clone();
    let dir = env.harness.connector(CONNECTOR).unwrap().directory_id;
    env.harness
        .db()
        .lock()
        .execute(
            "INSERT INTO users (key, directory_id, username, display_name, email, active) \
             VALUES ('JIRAUSER1', ?1, ?2, 'Old Name', 'old@x.com', 0)",
            rusqlite::params![dir, u.username.to_uppercase()],
        )
        .unwrap();
    sync(&env).unwrap();
    assert_eq!(env.store(), want);
    let key: String = env
        .harness
        .db()
        .lock()
        .query_row(
            "SELECT key FROM users WHERE okta_id = ?1",
            [&u.okta_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(key, "JIRAUSER1", "the product's key (its history) is kept");
}
