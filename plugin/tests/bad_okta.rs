//! Bad Okta responses, end to end through `sync::sync` with a scripted transport and the
//! in-memory store. A response a sync cannot trust (unparsable, wrongly shaped, missing
//! required fields, not UTF-8, a pagination loop) fails the whole sync with an Okta
//! `bad-response` error and nothing is applied: skipping the unreadable user instead
//! would deactivate it. What Okta may legitimately send (unknown statuses and group
//! types, nulls, huge values and pages, a user listed twice) is tolerated, reported, and
//! synced.

use plugin::host::Level;
use plugin::memory::{MemoryHost, MemoryStore};
mod common;

use common::{Routes, USERS, cfg, ctx, user};
use plugin::okta::OktaErrorKind;
use plugin::store::{
    ApplyResult, Change, Directory, DirectorySnapshot, Membership, Page, Store, StoreError,
    StoreGroup, StoreUser,
};
use plugin::sync::{self, Context, Options, Report, SyncError, UserRef};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

/// A directory that already holds one synced user and one group.
fn existing() -> DirectorySnapshot {
    DirectorySnapshot {
        users: vec![StoreUser {
            key: "JIRAUSER1".into(),
            directory: "2".into(),
            username: "old@x.com".into(),
            display_name: "Old".into(),
            email: "old@x.com".into(),
            active: true,
            okta_id: Some("00uOld".into()),
            attributes: BTreeMap::new(),
            last_login: None,
        }],
        groups: vec![StoreGroup {
            name: "Eng".into(),
            description: String::new(),
            okta_id: Some("00gEng".into()),
        }],
        memberships: vec![plugin::store::Membership {
            username: "old@x.com".into(),
            group: "Eng".into(),
        }],
    }
}

fn run(routes: &mut Routes, store: &mut impl Store) -> (Result<Report, SyncError>, MemoryHost) {
    let mut log = MemoryHost::default();
    let r = sync::sync(&cfg(), &ctx(), Options::default(), routes, store, &mut log);
    (r, log)
}

/// The sync fails with a bad-response error on `path`, and the store is untouched.
fn assert_bad_response(routes: &mut Routes, path_start: &str, needle: &str) {
    let mut store = MemoryStore::new(existing());
    let (r, log) = run(routes, &mut store);
    let err = r.unwrap_err();
    let SyncError::Okta(e) = &err else {
        panic!("expected an Okta error, got {err:?}")
    };
    assert_eq!(e.kind, OktaErrorKind::BadResponse, "{err}");
    assert!(e.path.starts_with(path_start), "{}", e.path);
    assert!(e.summary.contains(needle), "{}", e.summary);
    assert_eq!(store.snapshot, existing(), "nothing applied");
    assert_eq!(store.writes, 0);
    assert!(log.state.is_none(), "no state written");
}

#[test]
fn malformed_json_fails_the_sync_after_retries_and_applies_nothing() {
    let mut routes = Routes::org(json!([]), json!([]), &[]);
    let body = json!([
        user("00u1", "ACTIVE", "a@x.com"),
        user("00u2", "ACTIVE", "b@x.com")
    ])
    .to_string();
    routes.raw(USERS, body.as_bytes()[..body.len() / 2].to_vec(), &[]);
    assert_bad_response(&mut routes, "/api/v1/users", "not the expected JSON");
    assert_eq!(routes.count(USERS), 5, "retried, then gave up");
    assert_eq!(routes.slept.len(), 4, "with a backoff between tries");
}

#[test]
fn a_truncated_body_or_an_empty_body_or_html_fails_the_sync() {
    for body in [
        &b""[..],
        b"[",
        b"[{\"id\":\"00u1\",\"status\":\"ACTIVE\",\"profile\":{\"login\":\"a@x.com\"}}",
        b"<html><body>Bad gateway</body></html>",
        b"null",
    ] {
        let mut routes = Routes::org(json!([]), json!([]), &[]);
        routes.raw(USERS, body.to_vec(), &[]);
        assert_bad_response(&mut routes, "/api/v1/users", "not the expected JSON");
    }
}

#[test]
fn an_object_instead_of_a_list_fails_the_sync() {
    let mut routes = Routes::org(
        json!({"errorCode": "E0000009", "errorSummary": "oops"}),
        json!([]),
        &[],
    );
    assert_bad_response(&mut routes, "/api/v1/users", "expected a sequence");
}

#[test]
fn wrong_types_fail_the_sync_rather_than_skip_and_deactivate_a_user() {
    for bad in [
        json!({"id": 42, "status": "ACTIVE", "profile": {"login": "a@x.com"}}),
        json!({"id": "00u1", "status": 7, "profile": {"login": "a@x.com"}}),
        json!({"id": "00u1", "status": "ACTIVE", "profile": "a@x.com"}),
        json!({"id": "00u1", "status": "ACTIVE", "profile": ["a@x.com"]}),
        json!("00u1"),
    ] {
        let mut routes = Routes::org(
            json!([user("00uOld", "ACTIVE", "old@x.com"), bad]),
            json!([]),
            &[],
        );
        assert_bad_response(&mut routes, "/api/v1/users", "not the expected JSON");
    }
    let mut routes = Routes::org(
        json!([]),
        json!([{"id": "00gEng", "type": "OKTA_GROUP", "profile": {"name": ["Eng"]}}]),
        &[],
    );
    assert_bad_response(&mut routes, "/api/v1/groups", "not the expected JSON");
}

#[test]
fn missing_required_fields_fail_the_sync() {
    let mut routes = Routes::org(
        json!([user("00uOld", "ACTIVE", "old@x.com"), {"status": "ACTIVE", "profile": {"login": "a@x.com"}}]),
        json!([]),
        &[],
    );
    assert_bad_response(&mut routes, "/api/v1/users", "missing field `id`");
    let mut routes = Routes::org(
        json!([user("00uOld", "ACTIVE", "old@x.com")]),
        json!([{"id": "00gEng", "type": "OKTA_GROUP", "profile": {"description": "no name"}}]),
        &[],
    );
    assert_bad_response(&mut routes, "/api/v1/groups", "missing field `name`");
    let mut routes = Routes::org(
        json!([user("00uOld", "ACTIVE", "old@x.com")]),
        json!([{"id": "00gEng", "type": "OKTA_GROUP"}]),
        &[],
    );
    assert_bad_response(&mut routes, "/api/v1/groups", "missing field `profile`");
}

#[test]
fn non_utf8_bytes_fail_the_sync() {
    let mut body = br#"[{"id":"00u1","status":"ACTIVE","profile":{"login":"a"#.to_vec();
    body.extend([0xff, 0xfe, 0xc3]);
    body.extend(br#"@x.com"}}]"#);
    let mut routes = Routes::org(json!([]), json!([]), &[]);
    routes.raw(USERS, body, &[]);
    assert_bad_response(&mut routes, "/api/v1/users", "not the expected JSON");
    // A lone surrogate escape is not a character either.
    let mut routes = Routes::org(json!([]), json!([]), &[]);
    routes.raw(
        USERS,
        br#"[{"id":"00u1","status":"ACTIVE","profile":{"login":"\udc00@x.com"}}]"#.to_vec(),
        &[],
    );
    assert_bad_response(&mut routes, "/api/v1/users", "not the expected JSON");
}

#[test]
fn a_cursor_loop_fails_the_sync() {
    // Page 1 → page 2 → page 1 again.
    let mut routes = Routes::org(json!([]), json!([]), &[]);
    let p1 = json!([user("00u1", "ACTIVE", "a@x.com")])
        .to_string()
        .into_bytes();
    let p2 = json!([user("00u2", "ACTIVE", "b@x.com")])
        .to_string()
        .into_bytes();
    routes.raw(USERS, p1, &["/api/v1/users?after=00u1&limit=200"]);
    routes.raw(
        "/api/v1/users?after=00u1&limit=200",
        p2,
        &["/api/v1/users?after=00u1&limit=200"],
    );
    assert_bad_response(&mut routes, "/api/v1/users?after=00u1", "pagination loop");
    assert_eq!(routes.asked.len(), 2, "stopped at the repeated link");
    // A page whose next link is itself.
    let mut routes = Routes::org(json!([]), json!([]), &[]);
    routes.raw(
        "/api/v1/groups?limit=10000",
        b"[]".to_vec(),
        &["/api/v1/groups?limit=10000"],
    );
    let mut store = MemoryStore::new(existing());
    let (r, _) = run(&mut routes, &mut store);
    // The first URL of a listing is not in `seen`; the loop is caught on the second visit.
    assert!(
        matches!(r, Err(SyncError::Okta(ref e)) if e.summary.contains("pagination loop")),
        "{r:?}"
    );
    assert_eq!(store.snapshot, existing());
}

#[test]
fn a_user_listed_twice_across_pages_is_synced_once_and_reported() {
    let mut routes = Routes::org(json!([]), json!([]), &[]);
    let p1 = json!([
        user("00u1", "ACTIVE", "a@x.com"),
        user("00u2", "ACTIVE", "b@x.com")
    ]);
    let p2 = json!([
        user("00u2", "ACTIVE", "b@x.com"),
        user("00u3", "ACTIVE", "c@x.com")
    ]);
    routes.raw(
        USERS,
        p1.to_string().into_bytes(),
        &["/api/v1/users?after=00u2&limit=200"],
    );
    routes.raw(
        "/api/v1/users?after=00u2&limit=200",
        p2.to_string().into_bytes(),
        &[],
    );
    let mut store = MemoryStore::default();
    let (r, _) = run(&mut routes, &mut store);
    let report = r.unwrap();
    assert_eq!(report.counts.users_created, 3);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("00u2 was listed twice")),
        "{:?}",
        report.warnings
    );
}

#[test]
fn unknown_status_and_group_type_are_tolerated_and_reported() {
    let mut routes = Routes::org(
        json!([
            user("00uOld", "FUTURE_STATUS", "old@x.com"),
            user("00u1", "ACTIVE", "a@x.com"),
            user("00u2", "", "b@x.com"),
        ]),
        json!([
            {"id": "00gEng", "type": "OKTA_GROUP", "profile": {"name": "Eng"}},
            {"id": "00gNew", "type": "SOME_NEW_KIND", "profile": {"name": "Newfangled"}},
        ]),
        &[
            ("00gEng", json!([user("00u1", "ACTIVE", "a@x.com")])),
            ("00gNew", json!([user("00u1", "ACTIVE", "a@x.com")])),
        ],
    );
    let mut store = MemoryStore::new(existing());
    let (r, log) = run(&mut routes, &mut store);
    let report = r.unwrap();
    let w = report.warnings.join("\n");
    assert!(
        w.contains("user 00uOld has unknown status `FUTURE_STATUS`; left unchanged"),
        "{w}"
    );
    assert!(w.contains("user 00u2 has unknown status ``"), "{w}");
    assert!(
        w.contains(
            "group `Newfangled` has unknown type `SOME_NEW_KIND`; synced like an Okta group"
        ),
        "{w}"
    );
    assert!(
        log.lines
            .iter()
            .any(|(l, m)| *l == Level::Warn && m.contains("FUTURE_STATUS"))
    );
    let s = &store.snapshot;
    let old = s.users.iter().find(|u| u.key == "JIRAUSER1").unwrap();
    assert_eq!(
        old,
        &existing().users[0],
        "the unknown-status user is untouched"
    );
    assert!(
        s.memberships
            .iter()
            .any(|m| m.username == "old@x.com" && m.group == "Eng"),
        "and keeps its memberships"
    );
    assert!(s.users.iter().any(|u| u.username == "a@x.com"));
    assert!(
        !s.users.iter().any(|u| u.username == "b@x.com"),
        "not created"
    );
    assert!(s.groups.iter().any(|g| g.name == "Newfangled"));
}

#[test]
fn null_profile_fields_are_tolerated() {
    let mut routes = Routes::org(
        json!([
            {"id": "00u1", "status": "ACTIVE", "profile": {"login": "a@x.com", "email": null, "firstName": null, "lastName": null, "displayName": null, "department": null}},
            {"id": "00u2", "status": "ACTIVE", "profile": null},
            {"id": "00u3", "status": null, "profile": {"login": "c@x.com"}},
            {"id": "00u4", "status": "ACTIVE", "profile": {"login": null}},
            {"id": "00u5", "status": "ACTIVE", "profile": {"login": "e@x.com"}, "lastUpdated": null, "credentials": null, "_links": null},
        ]),
        json!([{"id": "00gEng", "type": "OKTA_GROUP", "profile": {"name": "Eng", "description": null}}]),
        &[("00gEng", json!([]))],
    );
    let mut store = MemoryStore::default();
    let (r, _) = run(&mut routes, &mut store);
    let report = r.unwrap();
    let users: BTreeMap<&str, &StoreUser> = store
        .snapshot
        .users
        .iter()
        .map(|u| (u.username.as_str(), u))
        .collect();
    assert_eq!(
        users.keys().copied().collect::<Vec<_>>(),
        ["a@x.com", "e@x.com"]
    );
    assert_eq!(
        users["a@x.com"].display_name, "a@x.com",
        "falls back to the login"
    );
    assert_eq!(users["a@x.com"].email, "");
    assert!(users["a@x.com"].attributes.is_empty());
    let w = report.warnings.join("\n");
    assert!(w.contains("user 00u2 has no login; skipped"), "{w}");
    assert!(w.contains("user 00u4 has no login; skipped"), "{w}");
    assert!(w.contains("user 00u3 has unknown status"), "{w}");
    assert_eq!(store.snapshot.groups[0].description, "");
}

#[test]
fn a_10_mb_profile_attribute_is_parsed_and_copied_intact() {
    let big = "x".repeat(10 << 20);
    let mut routes = Routes::org(
        json!([
            {"id": "00u1", "status": "ACTIVE", "profile": {"login": "a@x.com", "department": big, "notes": big}},
            user("00u2", "ACTIVE", "b@x.com"),
        ]),
        json!([]),
        &[],
    );
    let started = std::time::Instant::now();
    let mut store = MemoryStore::default();
    let (r, _) = run(&mut routes, &mut store);
    r.unwrap();
    let a = store
        .snapshot
        .users
        .iter()
        .find(|u| u.username == "a@x.com")
        .unwrap();
    assert_eq!(a.attributes["department"].len(), 10 << 20);
    assert!(
        !a.attributes.contains_key("notes"),
        "only configured attributes"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

/// A store that accepts any batch and only counts it (the in-memory store checks every
/// username linearly, too slow for 100,000 creates).
#[derive(Default)]
struct Counting {
    creates: usize,
    empty: MemoryStore,
}

/// Reads answer as an empty store does.
impl Store for Counting {
    fn directories(&mut self) -> Result<Vec<Directory>, StoreError> {
        self.empty.directories()
    }
    fn list_users(
        &mut self,
        d: &str,
        a: Option<&str>,
        n: u32,
    ) -> Result<Page<StoreUser>, StoreError> {
        self.empty.list_users(d, a, n)
    }
    fn list_groups(
        &mut self,
        d: &str,
        a: Option<&str>,
        n: u32,
    ) -> Result<Page<StoreGroup>, StoreError> {
        self.empty.list_groups(d, a, n)
    }
    fn list_memberships(
        &mut self,
        d: &str,
        a: Option<&str>,
        n: u32,
    ) -> Result<Page<Membership>, StoreError> {
        self.empty.list_memberships(d, a, n)
    }
    fn find_by_okta_id(&mut self, id: &str) -> Result<Option<StoreUser>, StoreError> {
        self.empty.find_by_okta_id(id)
    }
    fn find_by_username(&mut self, name: &str) -> Result<Vec<StoreUser>, StoreError> {
        self.empty.find_by_username(name)
    }
    fn find_by_email(&mut self, email: &str) -> Result<Vec<StoreUser>, StoreError> {
        self.empty.find_by_email(email)
    }
    fn user_memberships(&mut self, d: &str, name: &str) -> Result<Vec<String>, StoreError> {
        self.empty.user_memberships(d, name)
    }
    fn find_groups(&mut self, d: &str, names: &[String]) -> Result<Vec<StoreGroup>, StoreError> {
        self.empty.find_groups(d, names)
    }
    fn apply(&mut self, _: &str, changes: Vec<Change>, _: bool) -> Result<ApplyResult, StoreError> {
        self.creates += changes
            .iter()
            .filter(|c| matches!(c, Change::CreateUser(_)))
            .count();
        Ok(ApplyResult {
            writes: changes.len() as u32,
            created: vec![],
        })
    }
}

#[test]
fn a_100k_item_page_is_synced() {
    let users: Vec<Value> = (0..100_000)
        .map(|i| user(&format!("00u{i}"), "ACTIVE", &format!("user{i}@x.com")))
        .collect();
    let mut routes = Routes::org(Value::Array(users), json!([]), &[]);
    let started = std::time::Instant::now();
    let mut store = Counting::default();
    let (r, _) = run(&mut routes, &mut store);
    let report = r.unwrap();
    assert_eq!(report.okta_users, 100_000);
    assert_eq!(report.counts.users_created, 100_000);
    assert_eq!(store.creates, 100_000);
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_licence_without_seats_or_access_groups_refuses_every_sync_before_any_request() {
    let licensing = plugin::seats::Licensing {
        seat_limit: 0,
        access_groups: vec![],
        seats_used: 3,
    };
    let ctx = Context {
        licensing: Some(licensing),
        ..ctx()
    };
    let mut routes = Routes::default();
    let mut store = MemoryStore::new(existing());
    let mut log = MemoryHost::default();
    let fields = |e: SyncError| match e {
        SyncError::InvalidConfig(es) => es.into_iter().map(|e| e.field).collect::<Vec<_>>(),
        other => panic!("expected invalid-config, got {other:?}"),
    };
    let full = sync::sync(
        &cfg(),
        &ctx,
        Options::default(),
        &mut routes,
        &mut store,
        &mut log,
    );
    assert_eq!(fields(full.unwrap_err()), ["seat-limit", "access-groups"]);
    let login = sync::sync_user(
        &cfg(),
        &ctx,
        &UserRef::Login("old@x.com".into()),
        &mut routes,
        &mut store,
        &mut log,
    );
    assert_eq!(fields(login.unwrap_err()), ["seat-limit", "access-groups"]);
    assert!(routes.asked.is_empty(), "no request: {:?}", routes.asked);
    assert_eq!(store.snapshot, existing(), "nothing applied");
}
