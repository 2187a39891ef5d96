//! End-to-end tests: start the simulator and talk HTTP/1.1 to it.

mod common;

use std::collections::HashSet;

use common::{assert_okta_error, enc, get, get_as, request, target_of};
use okta_sim::{
    Fault, FaultKind, GenSpec, GroupType, Org, OutOfScope, ScopedToken, SimConfig, Simulator,
};
use serde_json::Value;

const ORIGIN: &str = "https://acme.okta.com";

fn org(users: usize) -> Org {
    Org::generate(&GenSpec {
        users,
        groups: 12,
        memberships_per_user: 2,
        seed: 42,
    })
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn pagination_walks_all_users_once_with_okta_links() {
    let org = org(450);
    let expected: Vec<String> = org
        .users
        .iter()
        .filter(|u| u.status != "DEPROVISIONED")
        .map(|u| u.id.clone())
        .collect();
    assert!(expected.len() < 450);
    let sim = Simulator::start(org, SimConfig::default());

    let mut seen = Vec::new();
    let mut target = "/api/v1/users?limit=100".to_string();
    let mut pages = 0;
    loop {
        let r = get(sim.addr(), &target);
        assert_eq!(r.status, 200, "{}", r.body);
        pages += 1;
        let links = r.header_all("link");
        assert!(!links.is_empty() && links.len() <= 2, "{links:?}");
        // Separate header lines: self first, then next.
        assert!(links[0].ends_with("; rel=\"self\""), "{links:?}");
        assert_eq!(links[0], format!("<{ORIGIN}{target}>; rel=\"self\""));
        let page = ids(&r.json());
        seen.extend(page.clone());
        match r.next_link() {
            Some(next) => {
                assert_eq!(links.len(), 2);
                assert!(links[1].ends_with("; rel=\"next\""));
                assert!(
                    next.starts_with(&format!("{ORIGIN}/api/v1/users?after=")),
                    "{next}"
                );
                assert!(next.ends_with("&limit=100"), "{next}");
                assert_eq!(page.len(), 100);
                target = target_of(&next, ORIGIN);
            }
            None => {
                assert_eq!(links.len(), 1);
                break;
            }
        }
    }
    assert_eq!(pages, expected.len().div_ceil(100));
    assert_eq!(seen, expected, "every user exactly once, in creation order");

    // No limit: the default (200) is written into the self link.
    let r = get(sim.addr(), "/api/v1/users");
    assert_eq!(
        r.header_all("link")[0],
        format!("<{ORIGIN}/api/v1/users?limit=200>; rel=\"self\"")
    );
    assert_eq!(r.json().as_array().unwrap().len(), 200);
    // Above the maximum: clamped.
    let r = get(sim.addr(), "/api/v1/users?limit=1000");
    assert_eq!(r.json().as_array().unwrap().len(), 200);
    assert!(r.header_all("link")[0].contains("?limit=200>"));
    let next = r.next_link().unwrap();
    assert!(next.contains("&limit=200"));
}

#[test]
fn exactly_full_last_page_has_no_next_link() {
    let mut org = Org::default();
    for i in 0..4 {
        org.add_user(&format!("u{i}@example.com"), "U", &i.to_string(), "ACTIVE");
    }
    let sim = Simulator::start(org, SimConfig::default());
    let r = get(sim.addr(), "/api/v1/users?limit=2");
    let next = r.next_link().unwrap();
    let r = get(sim.addr(), &target_of(&next, ORIGIN));
    assert_eq!(r.json().as_array().unwrap().len(), 2);
    assert_eq!(r.next_link(), None);
    assert_eq!(r.header_all("link").len(), 1);
}

#[test]
fn deprovisioned_omitted_without_filter_included_with_filter_or_search() {
    let org = org(200);
    let deprovisioned: HashSet<String> = org
        .users
        .iter()
        .filter(|u| u.status == "DEPROVISIONED")
        .map(|u| u.id.clone())
        .collect();
    assert_eq!(deprovisioned.len(), 4);
    let sim = Simulator::start(org, SimConfig::default());

    let all: HashSet<String> = ids(&get(sim.addr(), "/api/v1/users").json())
        .into_iter()
        .collect();
    assert_eq!(all.len(), 196);
    assert!(all.is_disjoint(&deprovisioned));

    let f = enc(r#"status eq "DEPROVISIONED""#);
    let r = get(sim.addr(), &format!("/api/v1/users?filter={f}"));
    let got: HashSet<String> = ids(&r.json()).into_iter().collect();
    assert_eq!(got, deprovisioned);
    // Okta's link form: limit first, then the filter, spaces as '+'.
    assert_eq!(
        r.header_all("link")[0],
        format!(
            "<{ORIGIN}/api/v1/users?limit=200&filter=status+eq+%22DEPROVISIONED%22>; rel=\"self\""
        )
    );

    let s = enc(r#"status eq "deprovisioned""#);
    let got: HashSet<String> = ids(&get(sim.addr(), &format!("/api/v1/users?search={s}")).json())
        .into_iter()
        .collect();
    assert_eq!(got, deprovisioned, "search values are case-insensitive");

    // A lastUpdated filter includes everything changed since, DEPROVISIONED too.
    let since = okta_sim::dates::format(&chrono::Utc::now());
    std::thread::sleep(std::time::Duration::from_millis(5));
    let changed: Vec<String> = deprovisioned.iter().take(1).cloned().collect();
    sim.with_org(|o| o.set_profile(&changed[0], "title", Value::from("Gone")));
    let f = enc(&format!(r#"lastUpdated gt "{since}""#));
    let r = get(sim.addr(), &format!("/api/v1/users?filter={f}"));
    assert_eq!(ids(&r.json()), changed);

    // Unsupported filter attribute → 400 E0000031.
    let f = enc(r#"profile.department eq "IT""#);
    assert_okta_error(
        &get(sim.addr(), &format!("/api/v1/users?filter={f}")),
        400,
        "E0000031",
    );
}

#[test]
fn auth_errors_and_ssws_without_space() {
    let sim = Simulator::start(org(30), SimConfig::default());
    let a = sim.addr();

    let v = assert_okta_error(&get_as(a, "/api/v1/users", "SSWS nope"), 401, "E0000011");
    assert_eq!(v["errorSummary"], "Invalid token provided");
    assert_eq!(v["errorCauses"], serde_json::json!([]));
    let v = assert_okta_error(&request(a, "GET", "/api/v1/users", &[]), 403, "E0000005");
    assert_eq!(v["errorSummary"], "Invalid session");
    assert_okta_error(&get_as(a, "/api/v1/users", "test-token"), 403, "E0000005");
    assert_okta_error(
        &get_as(a, "/api/v1/users", "Bearer test-token"),
        401,
        "E0000011",
    );

    let r = get_as(a, "/api/v1/users?limit=5", "SSWStest-token");
    assert_eq!(r.status, 200);
    assert_eq!(r.json().as_array().unwrap().len(), 5);

    let recorded = sim.requests();
    assert_eq!(recorded.len(), 5);
    assert_eq!(
        recorded.iter().map(|r| r.status).collect::<Vec<_>>(),
        vec![401, 403, 403, 401, 200]
    );
    assert_eq!(recorded[4].authorization.as_deref(), Some("SSWStest-token"));
    assert_eq!(recorded[4].query.as_deref(), Some("limit=5"));
    assert_eq!(recorded[4].host.as_deref(), Some("acme.okta.com"));
    assert_eq!(recorded[1].authorization, None);
    assert_eq!(sim.request_count("/api/v1/users"), 5);
    sim.clear_requests();
    assert!(sim.requests().is_empty());
}

#[test]
fn common_headers_and_rate_limits() {
    let sim = Simulator::start(org(30), SimConfig::default());
    let r1 = get(sim.addr(), "/api/v1/users");
    let r2 = get(sim.addr(), "/api/v1/users");
    for r in [&r1, &r2] {
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert!(r.header("date").unwrap().ends_with(" GMT"));
        assert_eq!(r.header("x-okta-request-id").unwrap().len(), 32);
        assert_eq!(r.header("x-rate-limit-limit"), Some("600"));
    }
    assert_ne!(
        r1.header("x-okta-request-id"),
        r2.header("x-okta-request-id")
    );
    assert_eq!(r1.header("x-rate-limit-remaining"), Some("599"));
    assert_eq!(r2.header("x-rate-limit-remaining"), Some("598"));
    let reset: i64 = r1.header("x-rate-limit-reset").unwrap().parse().unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!(
        reset > now && reset <= now + 61,
        "reset is the window end, rounded up"
    );

    let uid = sim.with_org(|o| o.users[0].id.clone());
    let r = get(sim.addr(), &format!("/api/v1/users/{uid}"));
    assert_eq!(r.header("x-rate-limit-limit"), Some("2000"));
    let r = get(sim.addr(), "/api/v1/groups");
    assert_eq!(r.header("x-rate-limit-limit"), Some("500"));
    let gid = sim.with_org(|o| o.groups[1].id.clone());
    assert_eq!(
        get(sim.addr(), &format!("/api/v1/groups/{gid}/users")).header("x-rate-limit-limit"),
        Some("500")
    );
    assert_eq!(
        get(sim.addr(), &format!("/api/v1/groups/{gid}")).header("x-rate-limit-limit"),
        Some("1000")
    );
}

#[test]
fn single_user_by_id_or_login() {
    let sim = Simulator::start(org(30), SimConfig::default());
    let (id, login, status) = sim.with_org(|o| {
        let u = o.users.iter().find(|u| u.status == "ACTIVE").unwrap();
        (
            u.id.clone(),
            u.profile["login"].as_str().unwrap().to_string(),
            u.status.clone(),
        )
    });
    let r = get(sim.addr(), &format!("/api/v1/users/{id}"));
    let v = r.json();
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["status"], status.as_str());
    assert_eq!(
        v["_links"]["self"]["href"],
        format!("{ORIGIN}/api/v1/users/{id}")
    );
    assert_eq!(v["_links"]["deactivate"]["method"], "POST");
    assert!(v["_links"]["schema"].is_object() && v["_links"]["type"].is_object());
    assert_eq!(v["credentials"]["provider"]["type"], "OKTA");
    assert!(v["type"]["id"].as_str().unwrap().starts_with("oty"));
    for k in [
        "created",
        "lastUpdated",
        "activated",
        "statusChanged",
        "passwordChanged",
    ] {
        let t = v[k].as_str().unwrap();
        assert_eq!(t.len(), 24, "{k}: {t}");
        assert!(t.ends_with('Z') && t.as_bytes()[19] == b'.');
    }
    for k in [
        "login",
        "email",
        "firstName",
        "lastName",
        "displayName",
        "department",
        "title",
        "employeeNumber",
        "costCenter",
    ] {
        assert!(v["profile"][k].is_string(), "{k}");
    }

    let upper = login.to_uppercase().replace('@', "%40");
    let r = get(sim.addr(), &format!("/api/v1/users/{upper}"));
    assert_eq!(r.json()["id"], id.as_str());

    let v = assert_okta_error(
        &get(sim.addr(), "/api/v1/users/nobody%40example.com"),
        404,
        "E0000007",
    );
    assert_eq!(
        v["errorSummary"],
        "Not found: Resource not found: nobody@example.com (User)"
    );

    // Lists carry only the self link.
    let list = get(sim.addr(), "/api/v1/users?limit=1").json();
    let links = list[0]["_links"].as_object().unwrap();
    assert_eq!(links.keys().collect::<Vec<_>>(), vec!["self"]);
}

#[test]
fn groups_members_and_user_groups() {
    let sim = Simulator::start(org(120), SimConfig::default());
    let (everyone, app_groups, g1, g1_members, some_user, user_groups) = sim.with_org(|o| {
        let g1 = o.groups[1].clone();
        let u = g1.members[0].clone();
        let ug: Vec<String> = o
            .groups
            .iter()
            .filter(|g| g.members.contains(&u))
            .map(|g| g.id.clone())
            .collect();
        let apps: Vec<String> = o
            .groups
            .iter()
            .filter(|g| g.group_type == GroupType::AppGroup)
            .map(|g| g.id.clone())
            .collect();
        (
            o.everyone().unwrap().id.clone(),
            apps,
            g1.id.clone(),
            g1.members.clone(),
            u,
            ug,
        )
    });

    let r = get(sim.addr(), "/api/v1/groups");
    assert_eq!(
        r.header_all("link"),
        vec![format!(
            "<{ORIGIN}/api/v1/groups?limit=10000>; rel=\"self\""
        )]
    );
    let groups = r.json();
    assert_eq!(groups.as_array().unwrap().len(), 13);
    assert_eq!(groups[0]["id"], everyone.as_str());
    assert_eq!(groups[0]["type"], "BUILT_IN");
    assert_eq!(groups[0]["profile"]["name"], "Everyone");
    assert_eq!(groups[1]["objectClass"][0], "okta:user_group");
    assert_eq!(
        groups[1]["_links"]["users"]["href"],
        format!("{ORIGIN}/api/v1/groups/{g1}/users")
    );
    assert!(groups[1]["_links"]["logo"].is_array());
    assert!(groups[1].get("lastMembershipUpdated").is_some());

    // Paging groups.
    let r = get(sim.addr(), "/api/v1/groups?limit=5");
    assert_eq!(r.json().as_array().unwrap().len(), 5);
    let r2 = get(sim.addr(), &target_of(&r.next_link().unwrap(), ORIGIN));
    assert_eq!(r2.json()[0]["id"], groups[5]["id"]);

    let f = enc(r#"type eq "APP_GROUP""#);
    assert_eq!(
        ids(&get(sim.addr(), &format!("/api/v1/groups?filter={f}")).json()),
        app_groups
    );
    let r = get(sim.addr(), "/api/v1/groups?q=every");
    assert_eq!(ids(&r.json()), vec![everyone.clone()]);
    assert!(r.header_all("link").is_empty());

    // lastMembershipUpdated filter sees membership changes.
    let since = okta_sim::dates::format(&chrono::Utc::now());
    std::thread::sleep(std::time::Duration::from_millis(5));
    let newcomer = sim.with_org(|o| {
        let id = o.add_user("new.comer@example.com", "New", "Comer", "ACTIVE");
        o.add_member(&g1, &id);
        id
    });
    let f = enc(&format!(r#"lastMembershipUpdated gt "{since}""#));
    let changed: HashSet<String> =
        ids(&get(sim.addr(), &format!("/api/v1/groups?filter={f}")).json())
            .into_iter()
            .collect();
    assert_eq!(changed, HashSet::from([everyone.clone(), g1.clone()]));

    // Members in insertion order, paged by 7.
    let mut expected = g1_members.clone();
    expected.push(newcomer);
    let mut seen = Vec::new();
    let mut target = format!("/api/v1/groups/{g1}/users?limit=7");
    loop {
        let r = get(sim.addr(), &target);
        assert_eq!(r.status, 200);
        seen.extend(ids(&r.json()));
        match r.next_link() {
            Some(n) => target = target_of(&n, ORIGIN),
            None => break,
        }
    }
    assert_eq!(seen, expected);
    let r = get(sim.addr(), &format!("/api/v1/groups/{g1}/users"));
    assert_eq!(
        r.header_all("link"),
        vec![format!(
            "<{ORIGIN}/api/v1/groups/{g1}/users?limit=1000>; rel=\"self\""
        )]
    );

    // A user's groups, Everyone included.
    let r = get(sim.addr(), &format!("/api/v1/users/{some_user}/groups"));
    assert_eq!(
        r.header_all("link"),
        vec![format!(
            "<{ORIGIN}/api/v1/users/{some_user}/groups?limit=200>; rel=\"self\""
        )]
    );
    let got: HashSet<String> = ids(&r.json()).into_iter().collect();
    assert_eq!(got, user_groups.into_iter().collect());
    assert!(got.contains(&everyone));

    let v = assert_okta_error(&get(sim.addr(), "/api/v1/groups/00gnope"), 404, "E0000007");
    assert_eq!(
        v["errorSummary"],
        "Not found: Resource not found: 00gnope (UserGroup)"
    );
}

#[test]
fn scoped_token_sees_only_its_groups() {
    let org = org(100);
    let target = org.groups[2].clone();
    let everyone = org.everyone().unwrap().id.clone();
    let outsider = org
        .users
        .iter()
        .find(|u| !target.members.contains(&u.id))
        .unwrap()
        .id
        .clone();
    let other_group = org.groups[3].id.clone();
    let config = SimConfig {
        scoped_tokens: vec![ScopedToken {
            token: "scoped".into(),
            target_groups: vec![target.id.clone(), everyone.clone()],
        }],
        ..SimConfig::default()
    };
    let sim = Simulator::start(org, config.clone());
    let a = sim.addr();
    let auth = "SSWS scoped";

    assert_eq!(
        ids(&get_as(a, "/api/v1/groups", auth).json()),
        vec![target.id.clone()]
    );
    let f = enc(
        r#"status eq "DEPROVISIONED" or status eq "ACTIVE" or status eq "SUSPENDED" or status eq "STAGED" or status eq "PROVISIONED" or status eq "LOCKED_OUT" or status eq "PASSWORD_EXPIRED""#,
    );
    let users: HashSet<String> = ids(&get_as(a, &format!("/api/v1/users?filter={f}"), auth).json())
        .into_iter()
        .collect();
    assert_eq!(users, target.members.iter().cloned().collect());
    let members = ids(&get_as(a, &format!("/api/v1/groups/{}/users", target.id), auth).json());
    assert_eq!(members, target.members);

    assert_okta_error(
        &get_as(a, &format!("/api/v1/users/{outsider}"), auth),
        404,
        "E0000007",
    );
    assert_okta_error(
        &get_as(a, &format!("/api/v1/groups/{other_group}"), auth),
        404,
        "E0000007",
    );
    assert_okta_error(
        &get_as(a, &format!("/api/v1/groups/{everyone}/users"), auth),
        404,
        "E0000007",
    );
    let insider = &target.members[0];
    assert_eq!(
        get_as(a, &format!("/api/v1/users/{insider}"), auth).status,
        200
    );
    let ug = ids(&get_as(a, &format!("/api/v1/users/{insider}/groups"), auth).json());
    assert_eq!(ug, vec![target.id.clone()]);
    sim.shutdown();

    let sim = Simulator::start(
        org_again(),
        SimConfig {
            out_of_scope: OutOfScope::Forbidden,
            ..config
        },
    );
    let v = assert_okta_error(
        &get_as(sim.addr(), &format!("/api/v1/users/{outsider}"), auth),
        403,
        "E0000006",
    );
    assert_eq!(
        v["errorSummary"],
        "You do not have permission to perform the requested action"
    );
    // Unknown objects stay 404 either way.
    assert_okta_error(
        &get_as(sim.addr(), "/api/v1/users/00unope", auth),
        404,
        "E0000007",
    );
}

fn org_again() -> Org {
    org(100)
}

#[test]
fn faults_fire_on_the_nth_matching_request() {
    let sim = Simulator::start(org(60), SimConfig::default());
    let a = sim.addr();
    get(a, "/api/v1/users"); // before the fault: not counted
    sim.add_fault(Fault {
        path_prefix: "/api/v1/users".into(),
        nth: 2,
        times: 2,
        kind: FaultKind::Status(503),
    });
    let statuses: Vec<u16> = [
        "/api/v1/users",
        "/api/v1/groups",
        "/api/v1/users",
        "/api/v1/users?limit=3",
        "/api/v1/users",
    ]
    .iter()
    .map(|t| get(a, t).status)
    .collect();
    assert_eq!(statuses, vec![200, 200, 503, 503, 200]);
    let recorded: Vec<u16> = sim.requests().iter().map(|r| r.status).collect();
    assert_eq!(recorded, vec![200, 200, 200, 503, 503, 200]);
    sim.clear_faults();

    let fault = |kind| Fault {
        path_prefix: "/api/v1/".into(),
        nth: 1,
        times: 1,
        kind,
    };
    sim.add_fault(fault(FaultKind::Status(500)));
    let v = assert_okta_error(&get(a, "/api/v1/groups"), 500, "E0000009");
    assert_eq!(v["errorSummary"], "Internal Server Error");
    assert_eq!(get(a, "/api/v1/groups").status, 200);

    sim.add_fault(fault(FaultKind::Status(504)));
    let r = get(a, "/api/v1/groups");
    assert_eq!(r.status, 504);
    assert!(r.header("x-rate-limit-reset").is_some() && r.header("date").is_some());

    sim.add_fault(fault(FaultKind::Status(429)));
    let r = get(a, "/api/v1/users");
    assert_okta_error(&r, 429, "E0000047");
    assert_eq!(r.header("x-rate-limit-remaining"), Some("0"));

    sim.add_fault(fault(FaultKind::RevokedToken));
    assert_okta_error(&get(a, "/api/v1/users"), 401, "E0000011");

    sim.add_fault(fault(FaultKind::InvalidCursor));
    let v = assert_okta_error(&get(a, "/api/v1/users"), 400, "E0000031");
    assert_eq!(v["errorCauses"][0]["errorSummary"], "Invalid cursor.");

    sim.add_fault(fault(FaultKind::MalformedJson));
    let r = get(a, "/api/v1/users?limit=2");
    assert_eq!(r.status, 200);
    assert!(serde_json::from_str::<Value>(&r.body).is_err());

    sim.add_fault(fault(FaultKind::NextToForeignHost(
        "https://evil.example".into(),
    )));
    let r = get(a, "/api/v1/users?limit=2");
    let links = r.header_all("link");
    assert!(links[0].starts_with(&format!("<{ORIGIN}/api/v1/users?limit=2>")));
    assert!(
        r.next_link()
            .unwrap()
            .starts_with("https://evil.example/api/v1/users?after=")
    );
    assert!(
        get(a, "/api/v1/users?limit=2")
            .next_link()
            .unwrap()
            .starts_with(ORIGIN)
    );
}

#[test]
fn bad_cursor_method_and_path_errors() {
    let sim = Simulator::start(org(30), SimConfig::default());
    let a = sim.addr();
    let v = assert_okta_error(&get(a, "/api/v1/users?after=garbage"), 400, "E0000031");
    assert_eq!(v["errorSummary"], "Invalid search criteria.");
    assert_eq!(
        v["errorCauses"],
        serde_json::json!([{"errorSummary": "Invalid cursor."}])
    );
    // A groups cursor is not a users cursor.
    let next = get(a, "/api/v1/groups?limit=1").next_link().unwrap();
    let after = next
        .split("after=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    assert_okta_error(
        &get(a, &format!("/api/v1/users?after={after}")),
        400,
        "E0000031",
    );

    let r = request(
        a,
        "POST",
        "/api/v1/users",
        &[
            ("Authorization", "SSWS test-token"),
            ("Content-Length", "0"),
        ],
    );
    assert_okta_error(&r, 405, "E0000022");
    let r = request(
        a,
        "DELETE",
        "/api/v1/groups/00gx",
        &[("Authorization", "SSWS test-token")],
    );
    assert_okta_error(&r, 405, "E0000022");
    assert_okta_error(&get(a, "/api/v1/policies"), 404, "E0000007");
    assert_okta_error(&get(a, "/nothing"), 404, "E0000007");
    assert_okta_error(&get(a, "/api/v1/users?limit=lots"), 400, "E0000001");
}

#[test]
fn cursor_survives_deletion_of_its_user() {
    let sim = Simulator::start(org(50), SimConfig::default());
    let r = get(sim.addr(), "/api/v1/users?limit=10");
    let first = ids(&r.json());
    let next = r.next_link().unwrap();
    sim.with_org(|o| o.delete_user(&first[9]));
    let r = get(sim.addr(), &target_of(&next, ORIGIN));
    assert_eq!(r.status, 200);
    let second = ids(&r.json());
    let expected: Vec<String> = sim.with_org(|o| {
        let pos = o.users.iter().position(|u| u.id == first[8]).unwrap();
        o.users[pos + 1..]
            .iter()
            .filter(|u| u.status != "DEPROVISIONED")
            .take(10)
            .map(|u| u.id.clone())
            .collect()
    });
    assert_eq!(second, expected);
}

#[test]
fn generate_is_deterministic_and_served_identically() {
    let spec = GenSpec {
        users: 80,
        groups: 6,
        memberships_per_user: 2,
        seed: 9,
    };
    let a = Simulator::start(Org::generate(&spec), SimConfig::default());
    let b = Simulator::start(Org::generate(&spec), SimConfig::default());
    let body_a = get(a.addr(), "/api/v1/users").body;
    let body_b = get(b.addr(), "/api/v1/users").body;
    assert_eq!(body_a, body_b);
    let groups_a = get(a.addr(), "/api/v1/groups").body;
    assert_eq!(groups_a, get(b.addr(), "/api/v1/groups").body);
    drop(a);
    b.shutdown();
}

#[test]
fn users_q_is_a_prefix_match_without_paging() {
    let mut org = org(100);
    let dep = org.add_user("zed.zulu@example.com", "Zed", "Zulu", "DEPROVISIONED");
    let act = org.add_user("zed.zebra@example.com", "Zed", "Zebra", "ACTIVE");
    for i in 0..12 {
        org.add_user(&format!("zz{i}@example.com"), "Zz", "Top", "ACTIVE");
    }
    let sim = Simulator::start(org, SimConfig::default());
    let r = get(sim.addr(), "/api/v1/users?q=zed");
    assert_eq!(ids(&r.json()), vec![act], "DEPROVISIONED omitted with q");
    let r = get(sim.addr(), "/api/v1/users?q=ZZ");
    assert_eq!(
        r.json().as_array().unwrap().len(),
        10,
        "q defaults to limit 10"
    );
    assert_eq!(r.next_link(), None);
    let r = get(sim.addr(), "/api/v1/users?q=zz&limit=50");
    assert_eq!(r.json().as_array().unwrap().len(), 12);
    assert!(sim.with_org(|o| o.user(&dep).is_some()));
}

#[tokio::test]
async fn usable_from_inside_a_tokio_runtime() {
    let sim = Simulator::start(org(10), SimConfig::default());
    let addr = sim.addr();
    let r = tokio::task::spawn_blocking(move || get(addr, "/api/v1/users"))
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    drop(sim);
}

#[test]
fn shutdown_does_not_wait_for_idle_keep_alive_connections() {
    use std::io::{Read, Write};
    let sim = Simulator::start(org(10), SimConfig::default());
    let mut s = std::net::TcpStream::connect(sim.addr()).unwrap();
    s.write_all(b"GET /api/v1/users HTTP/1.1\r\nHost: x\r\nAuthorization: SSWS test-token\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 512];
    assert!(s.read(&mut buf).unwrap() > 0);
    let t = std::time::Instant::now();
    sim.shutdown();
    assert!(t.elapsed() < std::time::Duration::from_secs(3));
}

#[test]
fn large_org_walk() {
    let org = Org::generate(&GenSpec {
        users: 10_000,
        groups: 100,
        memberships_per_user: 3,
        seed: 1,
    });
    let expected = org
        .users
        .iter()
        .filter(|u| u.status != "DEPROVISIONED")
        .count();
    let sim = Simulator::start(org, SimConfig::default());
    let mut target = "/api/v1/users".to_string();
    let mut n = 0;
    loop {
        let r = get(sim.addr(), &target);
        n += r.json().as_array().unwrap().len();
        match r.next_link() {
            Some(l) => target = target_of(&l, ORIGIN),
            None => break,
        }
    }
    assert_eq!(n, expected);
}
