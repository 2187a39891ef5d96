//! Applications: `/api/v1/apps` with Link pagination, `/apps/{id}/users` (individual
//! and group assignments, `scope` USER or GROUP), `/apps/{id}/groups`, and the
//! `application.user_membership.*` events of assignment changes.

mod common;

use common::{assert_okta_error, get, get_as, target_of};
use okta_sim::{GroupType, Org, SimConfig, Simulator};
use serde_json::{Value, json};

const ORIGIN: &str = "https://acme.okta.com";

/// Every page of a list: the items and the self links.
fn walk(sim: &Simulator, target: &str) -> (Vec<Value>, Vec<String>) {
    let (mut items, mut selves) = (Vec::new(), Vec::new());
    let mut target = target.to_string();
    loop {
        let r = get(sim.addr(), &target);
        assert_eq!(r.status, 200, "{}", r.body);
        items.extend(r.json().as_array().unwrap().clone());
        selves.push(r.header_all("link")[0].to_string());
        match r.next_link() {
            Some(n) => target = target_of(&n, ORIGIN),
            None => return (items, selves),
        }
    }
}

fn field<'a>(items: &'a [Value], key: &str) -> Vec<&'a str> {
    items.iter().map(|v| v[key].as_str().unwrap()).collect()
}

#[test]
fn apps_list_in_creation_order_with_link_pagination() {
    let sim = Simulator::start(Org::default(), SimConfig::default());
    let ids: Vec<String> =
        sim.with_org(|o| (0..5).map(|i| o.add_app(&format!("App {i}"))).collect());
    let (apps, selves) = walk(&sim, "/api/v1/apps?limit=2");
    assert_eq!(
        field(&apps, "id"),
        ids.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(selves.len(), 3);
    assert_eq!(
        selves[0],
        format!("<{ORIGIN}/api/v1/apps?limit=2>; rel=\"self\"")
    );
    let r = get(sim.addr(), "/api/v1/apps");
    assert_eq!(
        r.header_all("link"),
        [format!("<{ORIGIN}/api/v1/apps?limit=20>; rel=\"self\"")]
    );
    assert_eq!(r.header("x-rate-limit-limit"), Some("100"));
    let app = &r.json()[0];
    assert_eq!(
        (
            &app["label"],
            &app["name"],
            &app["status"],
            &app["signOnMode"]
        ),
        (
            &json!("App 0"),
            &json!("oidc_client"),
            &json!("ACTIVE"),
            &json!("OPENID_CONNECT")
        )
    );
    let id = &ids[0];
    assert_eq!(
        app["_links"]["users"]["href"],
        format!("{ORIGIN}/api/v1/apps/{id}/users")
    );
    assert_eq!(get(sim.addr(), &format!("/api/v1/apps/{id}")).json(), *app);
}

/// An app with user `a` assigned directly and group `g` (members a, b, c).
fn assigned() -> (Simulator, String, [String; 3], String) {
    let sim = Simulator::start(Org::default(), SimConfig::default());
    let (app, users, g) = sim.with_org(|o| {
        let users =
            ["a", "b", "c"].map(|n| o.add_user(&format!("{n}@example.com"), n, "Z", "ACTIVE"));
        let g = o.add_group("Jira users", GroupType::OktaGroup);
        for u in &users {
            o.add_member(&g, u);
        }
        let app = o.add_app("Jira");
        o.assign_user_to_app(&app, &users[0]);
        o.assign_group_to_app(&app, &g);
        (app, users, g)
    });
    (sim, app, users, g)
}

#[test]
fn app_users_expand_group_assignments_with_their_scope() {
    let (sim, app, users, _) = assigned();
    let (items, selves) = walk(&sim, &format!("/api/v1/apps/{app}/users?limit=2"));
    assert_eq!(selves.len(), 2);
    let mut expected: Vec<(String, &str)> = vec![
        (users[0].clone(), "USER"),
        (users[1].clone(), "GROUP"),
        (users[2].clone(), "GROUP"),
    ];
    expected.sort();
    let got: Vec<(String, &str)> = items
        .iter()
        .map(|v| {
            (
                v["id"].as_str().unwrap().to_string(),
                v["scope"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, expected);
    let a = items.iter().find(|v| v["id"] == users[0].as_str()).unwrap();
    let since = a["created"].clone();
    assert_eq!(
        *a,
        json!({
            "id": users[0], "externalId": null, "created": since, "lastUpdated": since,
            "scope": "USER", "status": "ACTIVE", "statusChanged": since, "passwordChanged": null,
            "syncState": "DISABLED", "credentials": {"userName": "a@example.com"}, "profile": {},
            "_links": {
                "app": {"href": format!("{ORIGIN}/api/v1/apps/{app}")},
                "user": {"href": format!("{ORIGIN}/api/v1/users/{}", users[0])}
            }
        })
    );
    let r = get(sim.addr(), &format!("/api/v1/apps/{app}/users"));
    assert_eq!(
        r.header_all("link"),
        [format!(
            "<{ORIGIN}/api/v1/apps/{app}/users?limit=50>; rel=\"self\""
        )]
    );
}

#[test]
fn app_groups_list_the_assigned_groups() {
    let (sim, app, _, g) = assigned();
    let g2 = sim.with_org(|o| {
        let g2 = o.add_group("More", GroupType::OktaGroup);
        o.assign_group_to_app(&app, &g2);
        g2
    });
    let (items, _) = walk(&sim, &format!("/api/v1/apps/{app}/groups?limit=1"));
    let mut ids = [g.clone(), g2];
    ids.sort();
    assert_eq!(
        field(&items, "id"),
        ids.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(items[1]["priority"], 1);
    assert_eq!(items[0]["profile"], json!({}));
    let first = &ids[0];
    assert_eq!(
        items[0]["_links"],
        json!({
            "app": {"href": format!("{ORIGIN}/api/v1/apps/{app}")},
            "self": {"href": format!("{ORIGIN}/api/v1/apps/{app}/groups/{first}")},
            "group": {"href": format!("{ORIGIN}/api/v1/groups/{first}")}
        })
    );
}

/// The `application.user_membership.*` events: (type, user id).
fn app_events(sim: &Simulator) -> Vec<(String, String)> {
    (sim.log_contents().iter())
        .filter(|e| {
            e["eventType"]
                .as_str()
                .unwrap()
                .starts_with("application.user_membership")
        })
        .map(|e| {
            assert_eq!(e["target"][1]["type"], "AppInstance");
            (
                e["eventType"].as_str().unwrap().into(),
                e["target"][0]["id"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[test]
fn assignment_changes_log_app_membership_events() {
    let (sim, app, users, g) = assigned();
    let add = "application.user_membership.add".to_string();
    let remove = "application.user_membership.remove".to_string();
    // `a` directly, then the group's other members (in id order).
    let mut expected = vec![
        (add.clone(), users[1].clone()),
        (add.clone(), users[2].clone()),
    ];
    expected.sort();
    expected.insert(0, (add, users[0].clone()));
    assert_eq!(app_events(&sim), expected);
    sim.with_org(|o| {
        o.remove_member(&g, &users[2]);
        o.unassign_group_from_app(&app, &g);
        o.unassign_user_from_app(&app, &users[0]);
    });
    let later = app_events(&sim).split_off(3);
    assert_eq!(
        later,
        [
            (remove.clone(), users[2].clone()),
            (remove.clone(), users[1].clone()),
            (remove, users[0].clone())
        ]
    );
    let r = get(sim.addr(), &format!("/api/v1/apps/{app}/users"));
    assert_eq!(r.body, "[]");
}

#[test]
fn unknown_apps_and_scoped_admins_are_refused() {
    let sim = Simulator::start(Org::default(), common::scoped_config("scoped"));
    let r = get(sim.addr(), "/api/v1/apps/0oaNope/users");
    let v = assert_okta_error(&r, 404, "E0000007");
    assert_eq!(
        v["errorSummary"],
        "Not found: Resource not found: 0oaNope (AppInstance)"
    );
    assert_okta_error(
        &get_as(sim.addr(), "/api/v1/apps", "SSWS scoped"),
        403,
        "E0000006",
    );
    assert_okta_error(
        &get(sim.addr(), "/api/v1/apps?after=bogus"),
        400,
        "E0000031",
    );
}

#[test]
fn one_users_assignment_direct_or_through_a_group_or_404() {
    let (sim, app, users, _) = assigned();
    for (user, scope) in [(&users[0], "USER"), (&users[1], "GROUP")] {
        let r = get(sim.addr(), &format!("/api/v1/apps/{app}/users/{user}"));
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            (&r.json()["id"], &r.json()["scope"]),
            (&json!(user), &json!(scope))
        );
    }
    let outsider = sim.with_org(|o| o.add_user("d@example.com", "d", "Z", "ACTIVE"));
    let r = get(sim.addr(), &format!("/api/v1/apps/{app}/users/{outsider}"));
    let v = assert_okta_error(&r, 404, "E0000007");
    assert_eq!(
        v["errorSummary"],
        format!("Not found: Resource not found: {outsider} (AppUser)")
    );
}
