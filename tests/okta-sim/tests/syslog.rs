//! The System Log: each change's event and its shape, polling with stored `next`
//! links, late-stored events, retention, the 180-day refusal, filters and auth.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{assert_okta_error, enc, get, get_as, target_of};
use okta_sim::{EventType, GroupType, NewEvent, Org, SimConfig, Simulator, Target};
use serde_json::{Value, json};

const ORIGIN: &str = "https://acme.okta.com";
const DAY: Duration = Duration::from_secs(86_400);

fn sim() -> Simulator {
    Simulator::start(Org::default(), SimConfig::default())
}

/// Every event from `target` on, following `next` links until an empty page;
/// returns them and the last (empty page's) `next` target.
fn poll(sim: &Simulator, target: &str) -> (Vec<Value>, String) {
    let mut target = target.to_string();
    let mut events = Vec::new();
    loop {
        let r = get(sim.addr(), &target);
        assert_eq!(r.status, 200, "{}", r.body);
        let page = r.json().as_array().unwrap().clone();
        let links = r.header_all("link");
        assert_eq!(links.len(), 2, "self and next on every page: {links:?}");
        assert!(
            links[0].starts_with(&format!("<{ORIGIN}/api/v1/logs?")),
            "{links:?}"
        );
        assert!(links[0].ends_with("; rel=\"self\""), "{links:?}");
        target = target_of(&r.next_link().expect("next"), ORIGIN);
        if page.is_empty() {
            return (events, target);
        }
        events.extend(page);
    }
}

fn types(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect()
}

/// The `target` array as `(type, id)` pairs.
fn targets(e: &Value) -> Vec<(String, String)> {
    (e["target"].as_array().unwrap().iter())
        .map(|t| {
            (
                t["type"].as_str().unwrap().into(),
                t["id"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[test]
fn each_change_logs_its_event_type() {
    let sim = sim();
    let (u, g, app) = sim.with_org(|o| {
        let u = o.add_user("ann.lee@example.com", "Ann", "Lee", "ACTIVE");
        for s in [
            "SUSPENDED",
            "ACTIVE",
            "DEPROVISIONED",
            "ACTIVE",
            "LOCKED_OUT",
            "ACTIVE",
        ] {
            o.set_status(&u, s);
        }
        o.set_profile(&u, "title", json!("Boss"));
        let g = o.add_group("Engineers", GroupType::OktaGroup);
        o.add_member(&g, &u);
        o.rename_group(&g, "Engineering");
        o.remove_member(&g, &u);
        let app = o.add_app("Jira");
        o.assign_user_to_app(&app, &u);
        o.unassign_user_from_app(&app, &u);
        o.delete_group(&g);
        let staged = o.add_user("bo.kim@example.com", "Bo", "Kim", "STAGED");
        o.set_status(&staged, "ACTIVE");
        o.delete_user(&u);
        (u, g, app)
    });
    let (events, _) = poll(&sim, "/api/v1/logs");
    let everyone = sim.with_org(|o| o.everyone().unwrap().id.clone());
    let user = ("User".to_string(), u.clone());
    let group = ("UserGroup".to_string(), g.clone());
    let app_t = ("AppInstance".to_string(), app.clone());
    let expected: Vec<(&str, Vec<(String, String)>)> = vec![
        ("user.lifecycle.create", vec![user.clone()]),
        ("user.lifecycle.activate", vec![user.clone()]),
        (
            "group.lifecycle.create",
            vec![("UserGroup".into(), everyone.clone())],
        ),
        (
            "group.user_membership.add",
            vec![user.clone(), ("UserGroup".into(), everyone)],
        ),
        ("user.lifecycle.suspend", vec![user.clone()]),
        ("user.lifecycle.unsuspend", vec![user.clone()]),
        ("user.lifecycle.deactivate", vec![user.clone()]),
        ("user.lifecycle.reactivate", vec![user.clone()]),
        ("user.account.lock", vec![user.clone()]),
        ("user.account.unlock", vec![user.clone()]),
        ("user.account.update_profile", vec![user.clone()]),
        ("group.lifecycle.create", vec![group.clone()]),
        (
            "group.user_membership.add",
            vec![user.clone(), group.clone()],
        ),
        ("group.profile.update", vec![group.clone()]),
        (
            "group.user_membership.remove",
            vec![user.clone(), group.clone()],
        ),
        ("application.lifecycle.create", vec![app_t.clone()]),
        (
            "application.user_membership.add",
            vec![user.clone(), app_t.clone()],
        ),
        (
            "application.user_membership.remove",
            vec![user.clone(), app_t],
        ),
        ("group.lifecycle.delete", vec![group]),
    ];
    let got: Vec<(&str, Vec<(String, String)>)> = events
        .iter()
        .map(|e| (e["eventType"].as_str().unwrap(), targets(e)))
        .collect();
    assert_eq!(got[..expected.len()], expected[..]);
    let rest = types(&events[expected.len()..]);
    assert_eq!(
        rest,
        [
            "user.lifecycle.create",
            "group.user_membership.add",
            "user.lifecycle.activate",
            "user.lifecycle.deactivate",
            "user.lifecycle.delete.initiated",
            "user.lifecycle.delete.completed",
        ]
    );
}

#[test]
fn an_event_has_okta_shape() {
    let sim = sim();
    let (u, g) = sim.with_org(|o| {
        let u = o.add_user("ann.lee@example.com", "Ann", "Lee", "STAGED");
        let g = o.add_group("Engineers", GroupType::OktaGroup);
        o.add_member(&g, &u);
        (u, g)
    });
    let r = get(
        sim.addr(),
        "/api/v1/logs?filter=eventType+eq+%22group.user_membership.add%22",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let events = r.json();
    let events = events.as_array().unwrap();
    let e = events.iter().find(|e| targets(e)[1].1 == g).unwrap();
    let uuid = e["uuid"].as_str().unwrap();
    assert!(
        uuid.len() == 36 && uuid.chars().nth(14) == Some('4'),
        "{uuid}"
    );
    let published = okta_sim::dates::parse(e["published"].as_str().unwrap()).unwrap();
    assert_eq!(okta_sim::dates::format(&published), e["published"]);
    assert!((sim.now() - published).num_seconds().abs() < 5);
    assert_eq!(e["outcome"], json!({"result": "SUCCESS", "reason": null}));
    assert_eq!(e["displayMessage"], "Add user to group membership");
    assert_eq!(
        (e["severity"].as_str(), e["version"].as_str()),
        (Some("INFO"), Some("0"))
    );
    assert_eq!(
        e["actor"],
        json!({"id": "00uSimAdmin000000000", "type": "User", "alternateId": "admin@example.com",
               "displayName": "Okta Admin", "detailEntry": null})
    );
    assert_eq!(
        e["target"],
        json!([
            {"id": u, "type": "User", "alternateId": "ann.lee@example.com", "displayName": "Ann Lee", "detailEntry": null},
            {"id": g, "type": "UserGroup", "alternateId": "unknown", "displayName": "Engineers", "detailEntry": null}
        ])
    );
}

#[test]
fn failure_events_carry_their_outcome() {
    let sim = sim();
    let u = Target::user("00uX", "x@example.com", "X Y");
    let g = Target::group("00gX", "G");
    let failed =
        NewEvent::success(EventType::GroupMemberAdd, vec![u, g], sim.now()).failed("INVALID_INPUT");
    sim.log_events(&[failed]);
    let r = get(sim.addr(), "/api/v1/logs");
    let e = &r.json()[0];
    assert_eq!(e["eventType"], "group.user_membership.add");
    assert_eq!(
        e["outcome"],
        json!({"result": "FAILURE", "reason": "INVALID_INPUT"})
    );
    let filtered = get(
        sim.addr(),
        "/api/v1/logs?filter=outcome.result+eq+%22SUCCESS%22",
    );
    assert_eq!(filtered.body, "[]");
}

fn churn(sim: &Simulator, n: usize) {
    sim.with_org(|o| {
        for i in 0..n {
            let u = o.add_user(
                &format!("u{i}.{}@example.com", o.users.len()),
                "U",
                "V",
                "STAGED",
            );
            o.set_profile(&u, "title", json!(i));
        }
    });
}

#[test]
fn a_stored_next_link_sees_every_event_exactly_once() {
    let sim = sim();
    churn(&sim, 40);
    let (first, cursor) = poll(&sim, "/api/v1/logs?limit=7");
    assert!(cursor.starts_with("/api/v1/logs?after="), "{cursor}");
    assert!(cursor.ends_with("&limit=7"), "since is not kept: {cursor}");
    churn(&sim, 10);
    // Events stored late: published now, visible only after later ones.
    sim.store_next_events_late(9);
    churn(&sim, 3);
    let (none, _) = poll(&sim, &cursor);
    assert_eq!(none.len(), 10 * 3, "the held events are not visible yet");
    sim.advance_clock(Duration::from_secs(1));
    churn(&sim, 2);
    let (second, cursor2) = poll(&sim, &cursor);
    let (third, _) = poll(&sim, &cursor2);
    assert!(third.is_empty());
    let all: Vec<Value> = first.into_iter().chain(second).collect();
    let uuids: Vec<&str> = all.iter().map(|e| e["uuid"].as_str().unwrap()).collect();
    let unique: HashSet<&str> = uuids.iter().copied().collect();
    assert_eq!(unique.len(), uuids.len(), "no duplicates");
    let stored: Vec<Value> = sim.log_contents();
    assert_eq!(all, stored, "every stored event, in storage order");
    // Per user: create, the Everyone membership, the profile update; and Everyone's creation.
    assert_eq!(all.len(), 3 * (40 + 10 + 3 + 2) + 1);
    let published: Vec<&str> = all
        .iter()
        .map(|e| e["published"].as_str().unwrap())
        .collect();
    let mut sorted = published.clone();
    sorted.sort();
    assert_ne!(published, sorted, "late events are out of published order");
}

#[test]
fn an_empty_page_has_a_next_link_that_waits_for_new_events() {
    let sim = sim();
    let r = get(sim.addr(), "/api/v1/logs");
    assert_eq!((r.status, r.body.as_str()), (200, "[]"));
    let links = r.header_all("link");
    assert_eq!(
        links[0],
        format!("<{ORIGIN}/api/v1/logs?limit=100>; rel=\"self\"")
    );
    let next = target_of(&r.next_link().unwrap(), ORIGIN);
    let again = get(sim.addr(), &next);
    assert_eq!((again.status, again.body.as_str()), (200, "[]"));
    assert_eq!(
        target_of(&again.next_link().unwrap(), ORIGIN),
        next,
        "same position"
    );
    churn(&sim, 1);
    assert_eq!(
        types(get(sim.addr(), &next).json().as_array().unwrap()).len(),
        4
    );
    assert_eq!(r.header("x-rate-limit-limit"), Some("120"));
}

#[test]
fn events_are_kept_90_days_and_since_reaches_back_180() {
    let sim = sim();
    churn(&sim, 1);
    sim.age_events(DAY * 89);
    churn(&sim, 1);
    let since = |days: u32| {
        let t = sim.now() - chrono::Duration::days(days.into());
        format!("/api/v1/logs?since={}", enc(&okta_sim::dates::format(&t)))
    };
    // 4 events (Everyone's creation among them), then 3.
    assert_eq!(
        get(sim.addr(), &since(100))
            .json()
            .as_array()
            .unwrap()
            .len(),
        7
    );
    sim.advance_clock(DAY * 2);
    // The aged events are now 91 days old: gone; a since of 179 days still works.
    let kept = get(sim.addr(), &since(179));
    assert_eq!(kept.status, 200);
    assert_eq!(kept.json().as_array().unwrap().len(), 3);
    assert_eq!(sim.log_contents().len(), 3);
    let refused = get(sim.addr(), &since(181));
    let body = assert_okta_error(&refused, 400, "E0000053");
    assert_eq!(
        body["errorSummary"],
        "Invalid parameter: The since parameter is over 180 days prior to the current day."
    );
    sim.advance_clock(DAY * 90);
    assert_eq!(sim.log_contents().len(), 0);
}

#[test]
fn bad_parameters_are_refused_with_okta_errors() {
    let sim = sim();
    let r = get(sim.addr(), "/api/v1/logs?until=yesterday");
    let v = assert_okta_error(&r, 400, "E0000001");
    assert_eq!(
        v["errorSummary"],
        "Api validation failed: 'until': The date format in your query is not recognized. Please enter dates using ISO8601 string format. 'until': must be a valid date-time or empty."
    );
    assert_eq!(
        v["errorCauses"],
        json!([
            {"errorSummary": "until: The date format in your query is not recognized. Please enter dates using ISO8601 string format."},
            {"errorSummary": "until: must be a valid date-time or empty."}
        ])
    );
    let bad_filter = get(sim.addr(), "/api/v1/logs?filter=eventType+eqq+%22x%22");
    assert_okta_error(&bad_filter, 400, "E0000053");
    let published = get(
        sim.addr(),
        "/api/v1/logs?filter=published+gt+%222020-01-01T00:00:00Z%22",
    );
    assert_okta_error(&published, 400, "E0000053");
    assert_okta_error(
        &get(sim.addr(), "/api/v1/logs?after=garbage"),
        400,
        "E0000031",
    );
    assert_okta_error(
        &get(sim.addr(), "/api/v1/logs?sortOrder=UP"),
        400,
        "E0000001",
    );
}

#[test]
fn bounded_and_descending_requests_page_by_published() {
    let sim = sim();
    churn(&sim, 5);
    let from = enc(&okta_sim::dates::format(
        &(sim.now() - chrono::Duration::days(1)),
    ));
    let until = enc(&okta_sim::dates::format(
        &(sim.now() + chrono::Duration::seconds(5)),
    ));
    let mut target = format!("/api/v1/logs?since={from}&until={until}&limit=6");
    let mut seen = Vec::new();
    loop {
        let r = get(sim.addr(), &target);
        seen.extend(r.json().as_array().unwrap().clone());
        match r.next_link() {
            Some(n) => target = target_of(&n, ORIGIN),
            None => break,
        }
    }
    let uuids = |v: &[Value]| -> HashSet<String> {
        v.iter()
            .map(|e| e["uuid"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(seen.len(), sim.log_contents().len());
    assert_eq!(uuids(&seen), uuids(&sim.log_contents()));
    let published: Vec<&str> = seen
        .iter()
        .map(|e| e["published"].as_str().unwrap())
        .collect();
    assert!(
        published.windows(2).all(|w| w[0] <= w[1]),
        "ordered by published"
    );
    let desc = get(sim.addr(), "/api/v1/logs?sortOrder=DESCENDING&limit=3");
    let desc = desc.json();
    let desc = desc.as_array().unwrap();
    assert_eq!(desc.len(), 3);
    let last = sim.log_contents().last().unwrap()["published"].clone();
    assert_eq!(desc[0]["published"], last, "newest first");
    let q = get(sim.addr(), "/api/v1/logs?q=u3.");
    assert_eq!(q.json().as_array().unwrap().len(), 3, "{}", q.body);
}

#[test]
fn logs_need_a_full_org_admin() {
    let sim = Simulator::start(Org::default(), common::scoped_config("scoped"));
    assert_okta_error(
        &get_as(sim.addr(), "/api/v1/logs", "SSWS scoped"),
        403,
        "E0000006",
    );
    assert_okta_error(
        &get_as(sim.addr(), "/api/v1/logs", "SSWS nope"),
        401,
        "E0000011",
    );
    assert_okta_error(
        &common::request(sim.addr(), "GET", "/api/v1/logs", &[]),
        403,
        "E0000005",
    );
}

#[test]
fn changes_before_start_are_the_logs_history() {
    let mut org = Org::default();
    org.add_user("ann.lee@example.com", "Ann", "Lee", "STAGED");
    let sim = Simulator::start(org, SimConfig::default());
    assert_eq!(
        types(&sim.log_contents()),
        [
            "user.lifecycle.create",
            "group.lifecycle.create",
            "group.user_membership.add"
        ]
    );
    assert!(sim.with_org(|o| o.take_events()).is_empty());
}
