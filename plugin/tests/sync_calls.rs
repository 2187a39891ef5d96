//! A sync's calls end to end against a scripted Okta, the in-memory store and host:
//! store reads that fail, report changes streamed batch by batch, the plan digest and
//! approvals, the typed sync state and the mode it chooses, field mappings, settings
//! this version refuses, and login syncs by login or Okta id.

mod common;

use common::{Routes, cfg, ctx, user};
use plugin::config::{self, ConnectorConfig};
use plugin::memory::{MemoryHost, MemoryStore};
use plugin::settings::{FieldMapping, NoMatch};
use plugin::state::ConnectorState;
use plugin::store::{DirectorySnapshot, Membership, StoreError, StoreGroup, StoreUser};
use plugin::sync::{self, APPLY_BATCH, Mode, Options, Report, SyncError, UserRef};
use serde_json::{Value, json};

fn synced(key: &str, name: &str, okta: &str) -> StoreUser {
    StoreUser {
        key: key.into(),
        directory: "2".into(),
        username: name.into(),
        display_name: "Old".into(),
        email: name.into(),
        active: true,
        okta_id: Some(okta.into()),
        ..Default::default()
    }
}

fn run(
    cfg: &ConnectorConfig,
    opts: Options,
    routes: &mut Routes,
    store: &mut MemoryStore,
    host: &mut MemoryHost,
) -> Result<Report, SyncError> {
    sync::sync(cfg, &ctx(), opts, routes, store, host)
}

fn one_user_org() -> Routes {
    Routes::org(json!([user("00u1", "ACTIVE", "a@x.com")]), json!([]), &[])
}

#[test]
fn a_failed_store_read_fails_the_sync_with_its_kind_and_changes_nothing() {
    for error in [
        StoreError::Busy("database is locked".into()),
        StoreError::Failure("disk I/O error".into()),
    ] {
        let before = DirectorySnapshot {
            users: vec![synced("K1", "old@x.com", "00uOld")],
            ..Default::default()
        };
        let mut store = MemoryStore::new(before.clone()).failing_reads(error.clone());
        let mut host = MemoryHost::default();
        let r = run(
            &cfg(),
            Options::default(),
            &mut one_user_org(),
            &mut store,
            &mut host,
        );
        assert_eq!(r, Err(SyncError::Store(error)));
        assert_eq!(store.snapshot, before, "nothing applied");
        assert!(store.batches.is_empty() && host.changes.is_empty());
        assert_eq!(host.state, None, "no state saved");
    }
}

#[test]
fn a_failed_state_read_fails_the_sync_before_any_request() {
    let mut routes = one_user_org();
    let mut host = MemoryHost {
        load_error: Some(StoreError::Busy("locked".into())),
        ..Default::default()
    };
    let r = run(
        &cfg(),
        Options::default(),
        &mut routes,
        &mut MemoryStore::default(),
        &mut host,
    );
    assert_eq!(r, Err(SyncError::Store(StoreError::Busy("locked".into()))));
    assert!(routes.asked.is_empty());
}

/// `n` Okta users, all members of the group `Eng`.
fn big_org(n: usize) -> Routes {
    let users: Vec<Value> = (0..n)
        .map(|i| user(&format!("00u{i}"), "ACTIVE", &format!("u{i}@x.com")))
        .collect();
    let ids: Vec<Value> = (0..n)
        .map(|i| user(&format!("00u{i}"), "ACTIVE", &format!("u{i}@x.com")))
        .collect();
    Routes::org(
        Value::Array(users),
        json!([{"id": "00gEng", "type": "OKTA_GROUP", "profile": {"name": "Eng"}}]),
        &[("00gEng", Value::Array(ids))],
    )
}

#[test]
fn each_batch_s_changes_are_recorded_with_it_and_the_report_has_counts() {
    let n = APPLY_BATCH / 2 + 500;
    let mut store = MemoryStore::default();
    let mut host = MemoryHost::default();
    let r = run(
        &cfg(),
        Options::default(),
        &mut big_org(n),
        &mut store,
        &mut host,
    )
    .unwrap();
    let changes = 2 * n + 1;
    assert_eq!(store.batches, [APPLY_BATCH, changes - APPLY_BATCH]);
    assert_eq!(
        host.batches, store.batches,
        "one report line per change here"
    );
    assert_eq!(host.changes.len(), changes);
    assert_eq!(r.counts.users_created as usize, n);
    assert_eq!(r.counts.memberships_added as usize, n);
    assert_eq!(r.writes as usize, changes);
}

#[test]
fn a_dry_run_records_every_change_in_batches_and_writes_nothing() {
    let n = APPLY_BATCH / 2 + 500;
    let mut store = MemoryStore::default();
    let mut host = MemoryHost::default();
    let opts = Options {
        dry_run: true,
        ..Default::default()
    };
    let r = run(&cfg(), opts, &mut big_org(n), &mut store, &mut host).unwrap();
    assert!(r.dry_run && r.writes == 0);
    assert_eq!(host.batches, [APPLY_BATCH, 2 * n + 1 - APPLY_BATCH]);
    assert!(store.batches.is_empty() && store.snapshot.users.is_empty());
    assert_eq!(host.state, None, "a dry run saves no state");
}

/// A directory of ten synced users Okta no longer returns (`Everyone` is there, so the
/// token is org-wide: the guard judges the whole directory).
fn ten_gone() -> (Routes, MemoryStore) {
    let users = (0..10)
        .map(|i| synced(&format!("K{i}"), &format!("u{i}@x.com"), &format!("00u{i}")))
        .collect();
    let store = MemoryStore::new(DirectorySnapshot {
        users,
        ..Default::default()
    });
    (Routes::org(json!([]), json!([]), &[]), store)
}

#[test]
fn an_approved_plan_is_applied_only_while_it_is_the_plan() {
    let (mut routes, mut store) = ten_gone();
    let before = store.snapshot.clone();
    let mut host = MemoryHost::default();
    let Err(SyncError::Guard(g)) = run(
        &cfg(),
        Options::default(),
        &mut routes,
        &mut store,
        &mut host,
    ) else {
        panic!("the guard refuses");
    };
    assert_eq!((g.would_remove, g.active_users), (10, 10));
    assert_eq!(g.counts.users_deactivated, 10);
    assert_eq!(g.plan_digest.len(), 64, "hex SHA-256");
    assert_eq!(
        host.changes.len(),
        10,
        "the refused plan's changes are recorded for the approval"
    );
    assert!(store.batches.is_empty(), "and none applied");
    let dry = Options {
        dry_run: true,
        ..Default::default()
    };
    let r = run(&cfg(), dry, &mut routes, &mut store, &mut host).unwrap();
    assert_eq!(
        r.plan_digest, g.plan_digest,
        "the same plan, the same digest"
    );

    let other = Options {
        approved_plan: Some("0".repeat(64)),
        ..Default::default()
    };
    let Err(SyncError::PlanChanged(now)) = run(&cfg(), other, &mut routes, &mut store, &mut host)
    else {
        panic!("another plan was approved");
    };
    assert_eq!(now, g, "the new plan is described");
    assert_eq!(store.snapshot, before, "nothing applied");

    let approved = Options {
        approved_plan: Some(g.plan_digest.clone()),
        ..Default::default()
    };
    let r = run(&cfg(), approved, &mut routes, &mut store, &mut host).unwrap();
    assert_eq!(r.counts.users_deactivated, 10);
    assert!(store.snapshot.users.iter().all(|u| !u.active));
}

#[test]
fn the_state_is_typed_and_incremental_syncs_use_it() {
    let mut store = MemoryStore::default();
    let mut host = MemoryHost::default();
    let incremental = Options {
        mode: Mode::Incremental,
        ..Default::default()
    };
    let r = run(
        &cfg(),
        incremental.clone(),
        &mut one_user_org(),
        &mut store,
        &mut host,
    )
    .unwrap();
    assert_eq!(r.mode, Mode::Full);
    assert_eq!(
        r.mode_reason.as_deref(),
        Some("ran a full sync instead of an incremental one: no full sync has completed yet")
    );
    let state = host.state.clone().expect("saved");
    let now = ctx().now;
    assert_eq!(state.last_full_sync, now);
    assert_eq!(state.last_deep_reconcile, Some(now));
    assert!(
        state.okta_cursor.starts_with("2027-01-15T08:00:00"),
        "{}",
        state.okta_cursor
    );

    let mut routes = Routes::default();
    routes.json_prefix("/api/v1/users?filter=", &json!([]));
    routes.json_prefix("/api/v1/groups?filter=", &json!([]));
    let r = run(
        &cfg(),
        incremental.clone(),
        &mut routes,
        &mut store,
        &mut host,
    )
    .unwrap();
    assert_eq!((r.mode, r.mode_reason.clone()), (Mode::Incremental, None));
    assert!(!r.deep_reconcile);
    assert!(
        routes.asked[0].contains("2027-01-15T07%3A58%3A00.000Z"),
        "{}",
        routes.asked[0]
    );

    host.state = Some(ConnectorState {
        last_deep_reconcile: Some(now - 8 * 86_400),
        ..state
    });
    let r = run(
        &cfg(),
        incremental,
        &mut one_user_org(),
        &mut store,
        &mut host,
    )
    .unwrap();
    assert_eq!(r.mode, Mode::Full);
    assert!(
        r.mode_reason
            .unwrap()
            .contains("a deep reconcile is due (every 7 days)")
    );
    assert!(r.deep_reconcile);
}

#[test]
fn a_leave_mapping_keeps_an_existing_users_field_and_skip_user_skips() {
    let mut cfg = cfg();
    cfg.users.display_name = FieldMapping {
        template: "{nickName|firstName} {lastName}".into(),
        pattern: "^Dr\\. (.*)$".into(),
        replacement: "$1".into(),
        on_no_match: NoMatch::Leave,
    };
    cfg.users.username = FieldMapping {
        template: "{login}".into(),
        pattern: "^(.*)@x\\.com$".into(),
        replacement: "$1".into(),
        on_no_match: NoMatch::SkipUser,
    };
    let doctor = json!({"id": "00u3", "status": "ACTIVE", "profile": {"login": "c@x.com", "nickName": "Dr. C", "lastName": "See"}});
    let mut routes = Routes::org(
        json!([
            user("00u1", "ACTIVE", "a@x.com"),
            user("00u2", "ACTIVE", "b@y.com"),
            doctor
        ]),
        json!([]),
        &[],
    );
    let mut store = MemoryStore::new(DirectorySnapshot {
        users: vec![synced("K1", "a", "00u1")],
        ..Default::default()
    });
    let r = run(
        &cfg,
        Options::default(),
        &mut routes,
        &mut store,
        &mut MemoryHost::default(),
    )
    .unwrap();
    let names: Vec<(&str, &str)> = store
        .snapshot
        .users
        .iter()
        .map(|u| (u.username.as_str(), u.display_name.as_str()))
        .collect();
    assert_eq!(
        names,
        [("a", "Old"), ("c", "C See")],
        "a keeps its name; b is skipped"
    );
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("00u2") && w.contains("users.username")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn settings_this_version_does_not_build_are_refused_by_name() {
    let mut c = cfg();
    c.change_feed = true;
    let errors = config::configure(&c).unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["change-feed"]);
    assert!(
        errors[0]
            .message
            .ends_with("is not supported by this plugin version yet"),
        "{}",
        errors[0]
    );
}

#[test]
fn schedule_time_zones_are_iana_names() {
    let mut c = cfg();
    c.schedule_time_zone = " europe/BERLIN".into();
    assert_eq!(
        config::configure(&c).unwrap().schedule_time_zone,
        "Europe/Berlin"
    );
    c.schedule_time_zone = "CEST".into();
    let e = config::configure(&c).unwrap_err();
    assert_eq!(e[0].field, "schedule-time-zone");
    assert!(
        e[0].message.contains("not an IANA time zone name"),
        "{}",
        e[0].message
    );
}

#[test]
fn the_default_config_is_valid_once_named_and_keeps_every_default() {
    let d = config::default_config("jira");
    assert_eq!(
        d.groups.default_groups,
        Some(vec!["jira-software-users".to_string()])
    );
    assert_eq!((d.rate_limit_percent, d.deep_reconcile_days), (50, 7));
    assert_eq!(d.users.username.template, "{login}");
    let named = ConnectorConfig {
        name: "okta".into(),
        okta_domain: "acme.okta.com".into(),
        ..d
    };
    assert_eq!(config::configure(&named), Ok(named.clone()));
    let e = config::configure(&ConnectorConfig {
        rate_limit_percent: 101,
        ..named
    })
    .unwrap_err();
    assert_eq!(e[0].field, "rate-limit-percent");
}

fn login_routes(status: &str) -> Routes {
    let mut r = Routes::default();
    r.json("/api/v1/users/00u1", &user("00u1", status, "a@x.com"));
    r.json(
        "/api/v1/users/00u1/groups",
        &json!([{"id": "00gEng", "type": "OKTA_GROUP", "profile": {"name": "Eng"}}]),
    );
    r
}

#[test]
fn a_login_sync_by_okta_id_admits_an_active_user_and_says_why_not_otherwise() {
    let mut store = MemoryStore::default();
    let mut host = MemoryHost::default();
    let who = UserRef::OktaId("00u1".into());
    let r = sync::sync_user(
        &cfg(),
        &ctx(),
        &who,
        &mut login_routes("ACTIVE"),
        &mut store,
        &mut host,
    )
    .unwrap();
    assert!(r.found && r.active);
    assert_eq!((r.username.as_deref(), r.refusal), (Some("a@x.com"), None));
    assert_eq!(
        store.snapshot.memberships,
        [Membership {
            username: "a@x.com".into(),
            group: "Eng".into()
        }]
    );
    assert_eq!(
        store.snapshot.groups[0],
        StoreGroup {
            name: "Eng".into(),
            description: String::new(),
            okta_id: Some("00gEng".into()),
        }
    );
    assert_eq!(
        host.changes.len(),
        r.entries.len(),
        "recorded with the apply"
    );

    let r = sync::sync_user(
        &cfg(),
        &ctx(),
        &who,
        &mut login_routes("SUSPENDED"),
        &mut store,
        &mut host,
    )
    .unwrap();
    assert!(!r.active);
    assert_eq!(
        r.refusal.as_deref(),
        Some("not active in Okta (status SUSPENDED)")
    );

    let r = sync::sync_user(
        &cfg(),
        &ctx(),
        &UserRef::Login("nobody@x.com".into()),
        &mut Routes::default(),
        &mut store,
        &mut host,
    )
    .unwrap();
    assert!(!r.found);
    assert_eq!(r.refusal.as_deref(), Some("not known to Okta"));
}

#[test]
fn users_denied_a_seat_are_offered_one_again_by_an_incremental_sync() {
    let licensed = |seat_limit, seats_used| sync::Context {
        product: "jira".into(),
        licensing: Some(plugin::seats::Licensing {
            seat_limit,
            access_groups: vec!["jira-software-users".into()],
            seats_used,
        }),
        ..ctx()
    };
    let mut store = MemoryStore::default();
    let mut host = MemoryHost::default();
    let mut org = Routes::org(
        json!([
            user("00u1", "ACTIVE", "a@x.com"),
            user("00u2", "ACTIVE", "b@x.com")
        ]),
        json!([]),
        &[],
    );
    let full = sync::sync(
        &cfg(),
        &licensed(1, 0),
        Options::default(),
        &mut org,
        &mut store,
        &mut host,
    )
    .unwrap();
    assert_eq!(full.seats_denied, ["b@x.com"]);
    assert_eq!(host.state.as_ref().unwrap().seats_denied, ["b@x.com"]);

    let incremental = Options {
        mode: Mode::Incremental,
        ..Default::default()
    };
    let nothing_changed = || {
        let mut r = Routes::default();
        r.json_prefix("/api/v1/users?filter=", &json!([]));
        r.json_prefix("/api/v1/groups?filter=", &json!([]));
        r.json("/api/v1/users/00u2", &user("00u2", "ACTIVE", "b@x.com"));
        r
    };
    let seated = |store: &MemoryStore| {
        store
            .snapshot
            .memberships
            .iter()
            .filter(|m| m.group == "jira-software-users")
            .map(|m| m.username.clone())
            .collect::<Vec<_>>()
    };
    // No seat free: b is not asked about, and stays denied.
    let mut routes = nothing_changed();
    let r = sync::sync(
        &cfg(),
        &licensed(1, 1),
        incremental.clone(),
        &mut routes,
        &mut store,
        &mut host,
    )
    .unwrap();
    assert_eq!(r.mode, Mode::Incremental);
    assert_eq!(routes.count("/api/v1/users/00u2"), 0);
    assert_eq!(host.state.as_ref().unwrap().seats_denied, ["b@x.com"]);
    // A seat free: b gets it, though nothing changed in Okta.
    let mut routes = nothing_changed();
    let r = sync::sync(
        &cfg(),
        &licensed(2, 1),
        incremental,
        &mut routes,
        &mut store,
        &mut host,
    )
    .unwrap();
    assert_eq!((r.mode, r.seats_denied.len()), (Mode::Incremental, 0));
    assert_eq!(routes.count("/api/v1/users/00u2"), 1);
    assert_eq!(seated(&store), ["a@x.com", "b@x.com"]);
    assert!(host.state.unwrap().seats_denied.is_empty());
}

#[test]
fn a_preview_maps_one_page_of_users_and_groups_and_writes_nothing() {
    let mut routes = Routes::default();
    routes.json(
        "/api/v1/users?limit=3",
        &json!([
            user("00u1", "ACTIVE", "Ann@X.com"),
            {"id": "00u2", "status": "ACTIVE", "profile": {"email": "b@x.com"}},
            user("00u3", "STAGED", "c@x.com"),
        ]),
    );
    routes.json(
        "/api/v1/groups?limit=3",
        &json!([
            {"id": "00gEveryone", "type": "BUILT_IN", "profile": {"name": "Everyone"}},
            {"id": "00gEng", "type": "OKTA_GROUP", "profile": {"name": "Eng"}},
        ]),
    );
    let p = plugin::preview::preview(&cfg(), &ctx(), 3, &mut routes).unwrap();
    let users: Vec<(Option<&str>, Option<&str>)> = p
        .users
        .iter()
        .map(|u| (u.username.as_deref(), u.note.as_deref()))
        .collect();
    assert_eq!(
        users,
        [
            (Some("ann@x.com"), None),
            (None, Some("user 00u2 has no login; skipped")),
            (Some("c@x.com"), Some("status STAGED: not created")),
        ]
    );
    assert_eq!(p.users[0].display_name, "F L");
    let groups: Vec<Option<&str>> = p.groups.iter().map(|g| g.name.as_deref()).collect();
    assert_eq!(groups, [None, Some("Eng")]);
    assert!(p.groups[0].note.as_deref().unwrap().contains("BUILT_IN"));
    assert_eq!(routes.asked.len(), 2, "one page of each");
}
