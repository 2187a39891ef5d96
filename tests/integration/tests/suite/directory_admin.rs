//! The product's user management over HTTP, after real syncs from the simulator: the
//! Users, Groups and User directories data on the REST API (keyset pages followed to
//! their end, searches, a user's history by run, a directory's move and the usernames it
//! changes), and the connector form's fields for every setting, their inline errors and
//! the live preview of the mapping on Okta samples.

use crate::web_support::{PAGE, REST, Resp, Server, call, login};
use integration::CONNECTOR;
use serde_json::Value;
use usersync::SyncRequest;

fn get(s: &Server, path: &str) -> Resp {
    call("GET", s.url(&format!("{REST}{path}"))).admin().send()
}

/// Every item of a listing, following its `next` links; and how many pages it took.
fn all_pages(s: &Server, first: &str) -> (Vec<Value>, usize) {
    let (mut items, mut pages) = (Vec::new(), 0);
    let mut next = Some(format!("{REST}{first}"));
    while let Some(path) = next {
        let r = call("GET", s.url(&path)).admin().send();
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        let page = r.json();
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        next = page["next"].as_str().map(str::to_string);
        pages += 1;
    }
    (items, pages)
}

/// `s` with the regex metacharacters escaped.
fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let meta = "\\.+*?()|[]{}^$".contains(c);
            meta.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

/// A user `local-1` of the Internal Directory named `username` (as an admin of the
/// product would have made by hand).
pub(crate) fn add_local_user(s: &Server, username: &str) {
    s.env
        .harness
        .db()
        .lock()
        .execute(
            "INSERT INTO users (key, directory_id, username, display_name, email, active) \
             VALUES ('local-1', 1, ?1, 'Local', 'local@example.com', 1)",
            [username],
        )
        .unwrap();
}

fn synced(users: usize, groups: usize) -> Server {
    let s = Server::start(users, groups);
    s.env
        .harness
        .sync(CONNECTOR, SyncRequest::default())
        .expect("the first sync");
    s
}

fn strings(items: &[Value], key: &str) -> Vec<String> {
    items
        .iter()
        .map(|i| i[key].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn users_page_to_their_end_and_are_searched_by_username_email_and_okta_id() {
    let s = synced(40, 4);
    let store = s.env.store();
    let (items, pages) = all_pages(&s, "/users?limit=7");
    let names = strings(&items, "username");
    let mut expected: Vec<String> = store.users.iter().map(|u| u.username.clone()).collect();
    expected.sort_by_key(|u| u.to_lowercase());
    assert_eq!(names, expected, "every user once, by username");
    assert_eq!(pages, expected.len().div_ceil(7));

    let inactive = all_pages(&s, "/users?active=false").0;
    assert_eq!(
        inactive.len(),
        store.users.iter().filter(|u| !u.active).count()
    );
    assert!(inactive.iter().all(|u| u["active"] == false));

    let one = store.users.iter().next().unwrap();
    let prefix = &one.username[..3];
    let found = all_pages(&s, &format!("/users?q={}&limit=2", prefix.to_uppercase())).0;
    assert!(!found.is_empty());
    assert!(
        strings(&found, "username")
            .iter()
            .all(|u| u.starts_with(prefix))
    );
    let by_email = get(&s, &format!("/users?by=email&q={}", one.email)).json();
    assert_eq!(by_email["items"][0]["username"], one.username.as_str());
    let by_id = get(&s, &format!("/users?by=okta-id&q={}", one.okta_id)).json();
    assert_eq!(by_id["items"].as_array().unwrap().len(), 1);
    assert_eq!(by_id["items"][0]["oktaId"], one.okta_id.as_str());
    assert!(by_id["next"].is_null());

    for (query, field, message) in [
        (
            "by=name",
            "by",
            "`by` is username, email or okta-id, not `name`",
        ),
        (
            "active=yes",
            "active",
            "`active` is true, false or all, not `yes`",
        ),
        (
            "cursor=abc",
            "",
            "`cursor` is not one this server handed out",
        ),
        ("limit=0", "limit", "`limit` must be at least 1"),
        (
            "sort=name",
            "sort",
            "unknown parameter `sort`: use q, by, active, directory, cursor, limit",
        ),
    ] {
        let r = get(&s, &format!("/users?{query}"));
        assert_eq!(r.status, 400, "{query}: {}", r.body);
        assert_eq!(r.json()["error"], message, "{query}");
        if !field.is_empty() {
            assert_eq!(r.json()["field"], field);
        }
    }
}

#[test]
fn a_user_shows_its_groups_and_its_history_by_run_and_groups_page_their_members() {
    let s = synced(20, 3);
    let okta_id = s.env.sim.with_org(|o| {
        o.users
            .iter()
            .find(|u| u.status == "ACTIVE")
            .map(|u| u.id.clone())
            .unwrap()
    });
    let key = get(&s, &format!("/users?by=okta-id&q={okta_id}")).json()["items"][0]["key"]
        .as_str()
        .unwrap()
        .to_string();
    s.env.sim.with_org(|o| {
        o.set_profile(&okta_id, "firstName", "Renamed".into());
    });
    let second = s
        .env
        .harness
        .sync(CONNECTOR, SyncRequest::default())
        .unwrap();
    let r = get(&s, &format!("/users/{key}"));
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let store = s.env.store();
    let username = v["user"]["username"].as_str().unwrap().to_string();
    let mut groups: Vec<String> = store
        .memberships
        .iter()
        .filter(|(u, _)| *u == username)
        .map(|(_, g)| g.clone())
        .collect();
    groups.sort_by_key(|g| g.to_lowercase());
    assert_eq!(v["groups"], serde_json::json!(groups));
    let history = v["history"]["items"].as_array().unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[0]["runId"], second.run_id);
    assert_eq!(history[0]["change"]["action"], "update-user");
    assert!(
        history[0]["change"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["new"].as_str().is_some_and(|n| n.starts_with("Renamed ")))
    );
    assert_eq!(history[1]["change"]["action"], "create-user");
    // A dry run is not history.
    s.env.dry_run();
    let again = get(&s, &format!("/users/{key}/history?limit=1")).json();
    assert_eq!(again["items"][0]["runId"], second.run_id);
    let rest = call("GET", s.url(again["next"].as_str().unwrap()))
        .admin()
        .send();
    assert_eq!(rest.json()["items"][0]["change"]["action"], "create-user");
    assert!(rest.json()["next"].is_null());
    assert_eq!(get(&s, "/users/NOBODY").status, 404);

    let (listed, _) = all_pages(&s, "/groups?limit=2");
    let mut names = strings(&listed, "name");
    names.sort();
    assert_eq!(names, store.groups.iter().cloned().collect::<Vec<_>>());
    let big = listed
        .iter()
        .max_by_key(|g| g["members"].as_u64().unwrap())
        .unwrap();
    let id = big["id"].as_i64().unwrap();
    let mut members = Vec::new();
    let mut next = Some(format!("{REST}/groups/{id}?limit=3"));
    while let Some(path) = next {
        let page = call("GET", s.url(&path)).admin().send().json();
        members.extend(strings(
            page["members"]["items"].as_array().unwrap(),
            "username",
        ));
        next = page["members"]["next"].as_str().map(str::to_string);
    }
    let name = big["name"].as_str().unwrap();
    let expected = store.memberships.iter().filter(|(_, g)| g == name).count();
    assert_eq!(members.len(), expected);
    assert_eq!(big["members"], expected as u64);
}

#[test]
fn moving_a_directory_names_the_usernames_whose_user_changes_then_reorders() {
    let s = synced(10, 2);
    let username = s.env.store().users.iter().next().unwrap().username.clone();
    add_local_user(&s, &username);
    let dirs = get(&s, "/directories").json();
    assert_eq!(dirs[0]["name"], "Internal Directory");
    let okta = dirs[1]["id"].as_i64().unwrap();
    assert_eq!(dirs[1]["connector"], CONNECTOR);
    let plan = get(&s, &format!("/directories/{okta}/move?direction=up")).json();
    assert_eq!(plan["total"], 1, "{plan}");
    assert_eq!(plan["switches"][0]["username"], username.as_str());
    assert_eq!(plan["switches"][0]["fromKey"], "local-1");
    assert_eq!(plan["swappedWith"]["name"], "Internal Directory");
    assert_eq!(
        get(&s, "/directories").json(),
        dirs,
        "a plan writes nothing"
    );

    let moved = call("POST", s.url(&format!("{REST}/directories/{okta}/move")))
        .admin()
        .json(r#"{"direction": "up"}"#)
        .send();
    assert_eq!(moved.status, 200, "{}", moved.body);
    let after = get(&s, "/directories").json();
    assert_eq!(after[0]["id"], okta);
    assert_eq!(after[1]["name"], "Internal Directory");
    let first = get(&s, &format!("/directories/{okta}/move?direction=up")).json();
    assert!(first["swappedWith"].is_null() && first["total"] == 0);

    let bad = call("POST", s.url(&format!("{REST}/directories/{okta}/move")))
        .admin()
        .json(r#"{"direction": "sideways"}"#)
        .send();
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["field"], "direction");
    assert_eq!(get(&s, "/directories/99/move?direction=up").status, 404);
}

/// The fields a browser posts for the default user, group and cleanup settings, with
/// `changes` over them.
fn section_fields<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f: Vec<(&str, &str)> = vec![
        ("sections", "on"),
        ("users.import-users", "on"),
        ("users.update-users", "on"),
        ("users.sync-status", "on"),
        ("users.lowercase-username", "on"),
        ("users.username.template", "{login}"),
        ("users.username.on-no-match", "use-raw"),
        ("users.display-name.template", "{firstName} {lastName}"),
        ("users.display-name.on-no-match", "use-raw"),
        ("users.email.template", "{email}"),
        ("users.email.on-no-match", "use-raw"),
        ("users.migrate", "by-username"),
        ("groups.types.okta-group", "on"),
        ("groups.types.app-group", "on"),
        ("groups.product-default-groups", "on"),
        ("lifecycle.missing-users", "disable"),
        ("lifecycle.remove-memberships-of-missing", "on"),
        ("lifecycle.guard-percent", "10"),
        ("lifecycle.guard-min-users", "5"),
    ];
    for (k, v) in changes {
        f.retain(|(name, _)| name != k);
        f.push((k, v));
    }
    f
}

#[test]
fn the_form_has_a_field_for_every_setting_inline_errors_and_a_live_preview() {
    let s = synced(12, 3);
    let (cookie, csrf) = login(&s);
    let page = call("GET", s.url(&format!("{PAGE}/connectors/okta")))
        .header("cookie", &cookie)
        .send();
    for field in [
        "users.username.pattern",
        "users.display-name.template",
        "users.attributes[0].name",
        "users.migrate",
        "groups.include-patterns",
        "groups.default-groups",
        "lifecycle.missing-users",
        "lifecycle.guard-min-users",
        "lifecycle.inactivity.days",
        "change_feed",
        "app_scope",
        "rate_limit_percent",
    ] {
        assert!(
            page.body.contains(&format!("name=\"{field}\"")),
            "no field {field}"
        );
    }
    assert!(
        page.body
            .contains(r#"Default: <code>{login}, no regex, use-raw</code>"#),
        "the plugin's default is shown"
    );
    let base = [
        ("atl_token", csrf.as_str()),
        ("name", "okta"),
        ("okta_domain", "acme.okta.com"),
        ("tab", "tab-users"),
        ("existing", "okta"),
    ];
    let post = |path: &str, changes: &[(&str, &str)]| {
        let mut fields = base.to_vec();
        fields.extend(section_fields(changes));
        call("POST", s.url(&format!("{PAGE}{path}")))
            .header("cookie", &cookie)
            .form(&fields)
            .send()
    };
    let refused = post("/connectors/okta", &[("users.username.pattern", "(")]);
    assert_eq!(refused.status, 400);
    let error = refused
        .body
        .split(r#"<div class="error" data-field="users.username.pattern">"#)
        .nth(1)
        .expect("the error is under its field")
        .split("</div>")
        .next()
        .unwrap();
    assert!(
        error.contains("is not a valid regular expression"),
        "{error}"
    );
    assert!(
        refused
            .body
            .contains(r#"<div class="tabs-pane active-pane" id="tab-users">"#)
    );
    assert!(
        refused.body.contains(r#"value="(""#),
        "the form comes back as typed"
    );

    // The live preview: the mapping as typed, on Okta's first users and groups.
    let chosen = s.env.sim.with_org(|o| o.groups[1].name.clone());
    let include = format!("^{}$", regex_escape(&chosen));
    let typed = [
        ("users.username.pattern", "(.*)@.*"),
        ("users.username.replacement", "$1"),
        ("groups.include-patterns", include.as_str()),
        ("groups.prefix", "okta-"),
    ];
    let r = post("/preview", &typed);
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["ok"], true, "{v}");
    let users = v["users"].as_array().unwrap();
    assert!(!users.is_empty());
    for u in users {
        let login = u["oktaLogin"].as_str().unwrap();
        if let Some(name) = u["username"].as_str() {
            assert_eq!(name, login.split('@').next().unwrap().to_lowercase());
        }
    }
    for g in v["groups"].as_array().unwrap() {
        let okta = g["oktaName"].as_str().unwrap();
        match g["name"].as_str() {
            Some(name) => assert_eq!(name, format!("okta-{okta}")),
            None => assert_ne!(okta, chosen, "{g}"),
        }
    }
    let bad = post("/preview", &[("users.username.pattern", "(")]).json();
    assert_eq!(bad["ok"], false);
    assert_eq!(bad["errors"][0]["field"], "users.username.pattern");

    // Saved through the fields.
    let saved = post(
        "/connectors/okta",
        &[
            ("users.username.pattern", "(.*)@.*"),
            ("users.username.replacement", "$1"),
            ("lifecycle.guard-percent", "30"),
            ("lifecycle.missing-users", "keep"),
            ("groups.exclude-patterns", "-test$\n^tmp-"),
        ],
    );
    assert_eq!(saved.status, 303, "{}", saved.body);
    let c = s.env.harness.connector(CONNECTOR).unwrap().settings;
    assert_eq!(c.users.username.pattern, "(.*)@.*");
    assert_eq!(c.lifecycle.guard_percent, 30);
    assert_eq!(
        c.lifecycle.missing_users,
        usersync::model::MissingUsers::Keep
    );
    assert_eq!(c.groups.exclude_patterns, ["-test$", "^tmp-"]);
    assert!(c.users.import_users && c.groups.default_groups.is_none());
}
