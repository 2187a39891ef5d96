//! The REST API of `usersync serve` (`/rest/usersync/1.0/`), over real HTTP against the
//! Okta simulator: every endpoint, its errors as one-sentence JSON naming the field,
//! authentication, the XSRF rules, and syncs that run in the background.

use crate::web_support;

use integration::{CONNECTOR, TOKEN};
use okta_sim::{Fault, FaultKind};
use web_support::{PAGE, REST, Resp, Server, call, wait_for_run};

fn get(s: &Server, path: &str) -> Resp {
    call("GET", s.url(&format!("{REST}{path}"))).admin().send()
}

fn send(s: &Server, method: &str, path: &str, body: &str) -> Resp {
    call(method, s.url(&format!("{REST}{path}")))
        .admin()
        .json(body)
        .send()
}

/// A 4xx with `{"error": "...", "field": ...}`.
fn error(r: &Resp, status: u16, field: Option<&str>) -> String {
    assert_eq!(r.status, status, "{}", r.body);
    let v = r.json();
    assert_eq!(v["field"].as_str(), field, "{}", r.body);
    let e = v["error"].as_str().expect("an error sentence").to_string();
    assert!(!e.is_empty() && !e.contains('\n'), "{e}");
    e
}

#[test]
fn authentication_is_required() {
    let s = Server::start(20, 2);
    let url = s.url(&format!("{REST}/connectors"));
    let r = call("GET", &url).send();
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Basic realm=\"usersync\"")
    );
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("authentication required")
    );
    assert_eq!(call("GET", &url).basic("admin", "wrong").send().status, 401);
    assert_eq!(
        call("GET", &url)
            .basic("root", web_support::PASSWORD)
            .send()
            .status,
        401
    );
    let r = call("POST", s.url(&format!("{REST}/connectors/okta/sync"))).send();
    assert_eq!(r.status, 401, "no sync without the credential");
    assert!(s.env.harness.runs(None, 10).unwrap().is_empty());
    assert_eq!(call("GET", &url).admin().send().status, 200);
    // The page sends the browser to its login form.
    let r = call("GET", s.url(PAGE)).send();
    assert_eq!(r.status, 303);
    assert_eq!(
        r.header("location"),
        Some("/plugins/servlet/usersync/login?next=/plugins/servlet/usersync")
    );
}

#[test]
fn connectors_crud() {
    let s = Server::start(20, 2);
    let list = get(&s, "/connectors");
    assert_eq!(list.status, 200);
    let v = list.json();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["name"], CONNECTOR);
    assert_eq!(v[0]["apiToken"], "********");
    assert!(!list.body.contains(TOKEN), "never the token");

    let created = send(
        &s,
        "POST",
        "/connectors",
        r#"{"name": "Second", "oktaDomain": "https://acme.okta.com/", "apiToken": "test-token",
            "userAttributes": ["department"], "scheduleEnabled": true, "schedule": "daily at 02:30"}"#,
    );
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.header("location"),
        Some("/rest/usersync/1.0/connectors/Second")
    );
    let c = created.json();
    assert_eq!(c["oktaDomain"], "acme.okta.com", "normalized");
    assert_eq!(c["schedule"], "0 30 2 * * *", "the preset became cron");
    assert_eq!(c["nextRuns"].as_array().unwrap().len(), 5);
    assert!(c["nextRuns"][0].as_str().unwrap().ends_with("T02:30:00Z"));
    assert!(
        c["nextRunsLocal"][0]
            .as_str()
            .unwrap()
            .ends_with("T02:30:00+00:00"),
        "the runs on the schedule's wall clock (UTC here): {c}"
    );
    let berlin = send(
        &s,
        "PUT",
        "/connectors/Second",
        r#"{"scheduleTimeZone": "Europe/Berlin"}"#,
    )
    .json();
    let local = berlin["nextRunsLocal"][0].as_str().unwrap();
    assert!(
        local.ends_with("T02:30:00+01:00") || local.ends_with("T02:30:00+02:00"),
        "{berlin}"
    );
    assert!(!created.body.contains(TOKEN));

    let one = get(&s, "/connectors/Second");
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["userAttributes"][0], "department");

    let e = error(
        &send(
            &s,
            "POST",
            "/connectors",
            r#"{"name": "second", "oktaDomain": "acme.okta.com", "apiToken": "t"}"#,
        ),
        409,
        Some("name"),
    );
    assert_eq!(e, "a connector named `second` already exists");

    // PUT changes the fields given; the rest (and the token) stay.
    let r = send(
        &s,
        "PUT",
        "/connectors/Second",
        r#"{"schedule": "every 15 minutes", "includeBuiltInGroups": true}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let u = r.json();
    assert_eq!(u["schedule"], "0 */15 * * * *");
    assert_eq!(u["includeBuiltInGroups"], true);
    assert_eq!(u["userAttributes"][0], "department", "kept");
    assert_eq!(
        send(&s, "POST", "/connectors/Second/test", "").status,
        200,
        "the token was kept"
    );
    // Rename.
    let r = send(&s, "PUT", "/connectors/Second", r#"{"name": "Third"}"#);
    assert_eq!(r.json()["name"], "Third");
    error(&get(&s, "/connectors/Second"), 404, None);

    let r = call("DELETE", s.url(&format!("{REST}/connectors/Third")))
        .admin()
        .send();
    assert_eq!(r.status, 204);
    let e = error(&get(&s, "/connectors/Third"), 404, None);
    assert_eq!(e, "there is no connector named `Third`");
    let r = call("DELETE", s.url(&format!("{REST}/connectors/Third")))
        .admin()
        .send();
    error(&r, 404, None);
    error(&send(&s, "PUT", "/connectors/nope", "{}"), 404, None);
    assert_eq!(get(&s, "/connectors").json().as_array().unwrap().len(), 1);
}

#[test]
fn bad_input_is_a_400_naming_the_field() {
    let s = Server::start(20, 2);
    let create = |body: &str| send(&s, "POST", "/connectors", body);

    let e = error(&create(r#"{"name": "x", "oktaDomain": "#), 400, None);
    assert!(e.starts_with("the request body is not valid JSON: "), "{e}");
    let e = error(
        &create(r#"{"name": "x", "color": "red"}"#),
        400,
        Some("color"),
    );
    assert!(e.contains("unknown field `color`"), "{e}");
    let e = error(
        &create(r#"{"name": "x", "scheduleEnabled": "yes"}"#),
        400,
        Some("scheduleEnabled"),
    );
    assert!(e.contains("expected a boolean"), "{e}");
    error(
        &create(r#"{"oktaDomain": "acme.okta.com", "apiToken": "t"}"#),
        400,
        Some("name"),
    );
    error(
        &create(r#"{"name": "x", "oktaDomain": "acme.okta.com"}"#),
        400,
        Some("apiToken"),
    );
    let r = create(r#"{"name": "x", "oktaDomain": "http://acme.okta.com", "apiToken": "t"}"#);
    let e = error(&r, 400, Some("oktaDomain"));
    assert!(e.contains("uses http://"), "{e}");
    assert_eq!(r.json()["errors"][0]["field"], "oktaDomain");
    let e = error(
        &create(r#"{"name": "x", "oktaDomain": "acme-admin.okta.com", "apiToken": "t"}"#),
        400,
        Some("oktaDomain"),
    );
    assert!(e.contains("Admin Console host"), "{e}");
    let e = error(
        &create(
            r#"{"name": "x", "oktaDomain": "acme.okta.com", "apiToken": "t", "schedule": "0 61 * * * ?"}"#,
        ),
        400,
        Some("schedule"),
    );
    assert_eq!(
        e,
        "invalid connector settings: schedule: the minutes field `61` is not valid"
    );
    // A refused edit leaves the connector as it was.
    error(
        &send(
            &s,
            "PUT",
            "/connectors/okta",
            r#"{"schedule": "every 7 minutes"}"#,
        ),
        400,
        Some("schedule"),
    );
    assert_eq!(
        get(&s, "/connectors/okta").json()["schedule"],
        "0 0 * * * ?"
    );
    error(&send(&s, "PUT", "/connectors/okta", "[1, 2]"), 400, None);
    assert_eq!(get(&s, "/connectors").json().as_array().unwrap().len(), 1);

    let e = error(&get(&s, "/nothing/here"), 404, None);
    assert_eq!(e, "there is no such REST resource");
}

#[test]
fn test_connection_reports_okta_failures_as_502() {
    let s = Server::start(20, 2);
    let r = send(&s, "POST", "/connectors/okta/test", "");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["ok"], true);
    assert_eq!(r.json()["orgUrl"], "https://acme.okta.com");
    error(&send(&s, "POST", "/connectors/nope/test", ""), 404, None);
    s.env.sim.add_fault(Fault {
        path_prefix: "/api/v1/".into(),
        nth: 1,
        times: 100,
        kind: FaultKind::RevokedToken,
    });
    let r = send(&s, "POST", "/connectors/okta/test", "");
    assert_eq!(r.status, 502, "{}", r.body);
    assert!(
        r.json()["error"].as_str().unwrap().contains("E0000011"),
        "{}",
        r.body
    );
}

#[test]
fn a_sync_runs_in_the_background_and_a_second_is_refused_with_409() {
    let s = Server::start(150, 6);
    // A slow Okta keeps the first sync running.
    s.env.sim.add_fault(Fault {
        path_prefix: "/api/v1/users".into(),
        nth: 1,
        times: 1,
        kind: FaultKind::Delay(1500),
    });
    let started = std::time::Instant::now();
    let r = send(&s, "POST", "/connectors/okta/sync", r#"{"dryRun": false}"#);
    assert_eq!(r.status, 202, "{}", r.body);
    assert!(
        started.elapsed() < std::time::Duration::from_millis(1200),
        "answered before the sync finished"
    );
    let id = r.json()["runId"].as_i64().unwrap();
    assert_eq!(r.header("location").unwrap(), format!("{REST}/runs/{id}"));

    let e = error(&send(&s, "POST", "/connectors/okta/sync", "{}"), 409, None);
    let holder = format!(
        "a sync of `okta` is already running in process {} on ",
        std::process::id()
    );
    assert!(
        e.starts_with(&holder) && e.ends_with(" UTC; wait for it to finish"),
        "{e}"
    );
    let running = get(&s, &format!("/runs/{id}")).json();
    assert_eq!(running["status"], "running");
    // Deleting a syncing connector is refused too.
    let r = call("DELETE", s.url(&format!("{REST}/connectors/okta")))
        .admin()
        .send();
    error(&r, 409, None);

    let done = wait_for_run(&s, id);
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["trigger"], "api");
    let store = s.env.store();
    assert_eq!(
        done["report"]["counts"]["usersCreated"].as_u64().unwrap() as usize,
        store.users.len()
    );
    assert_eq!(
        done["report"]["counts"]["membershipsAdded"]
            .as_u64()
            .unwrap() as usize,
        store.memberships.len()
    );
    assert!(!done["changes"]["items"].as_array().unwrap().is_empty());
    assert!(!done["log"].as_array().unwrap().is_empty());

    // A dry run writes nothing; an incremental one is recorded as such.
    let r = send(&s, "POST", "/connectors/okta/sync", r#"{"dryRun": true}"#);
    let dry = wait_for_run(&s, r.json()["runId"].as_i64().unwrap());
    assert_eq!(
        (dry["dryRun"].as_bool(), dry["status"].as_str()),
        (Some(true), Some("succeeded"))
    );
    assert_eq!(s.env.store(), store);
    let r = send(
        &s,
        "POST",
        "/connectors/okta/sync",
        r#"{"incremental": true}"#,
    );
    let inc = wait_for_run(&s, r.json()["runId"].as_i64().unwrap());
    assert_eq!(inc["kind"], "incremental", "{inc}");

    let runs = get(&s, "/runs?connector=okta").json();
    assert_eq!(runs.as_array().unwrap().len(), 3);
    assert_eq!(runs[2]["id"], id);
    assert_eq!(
        runs[2]["counts"]["usersCreated"],
        done["report"]["counts"]["usersCreated"]
    );
    assert_eq!(get(&s, "/runs?limit=1").json().as_array().unwrap().len(), 1);
    error(&get(&s, "/runs?limit=many"), 400, Some("limit"));
    error(&get(&s, "/runs?connector=nope"), 404, None);
    assert_eq!(
        error(&get(&s, "/runs/999"), 404, None),
        "there is no run #999"
    );
    error(&get(&s, "/runs/abc"), 400, Some("id"));
    error(&send(&s, "POST", "/connectors/nope/sync", "{}"), 404, None);
    error(
        &send(&s, "POST", "/connectors/okta/sync", r#"{"dryrun": true}"#),
        400,
        Some("dryrun"),
    );
}

#[test]
fn a_failed_background_sync_is_a_failed_run() {
    let s = Server::start(20, 2);
    s.env.sim.add_fault(Fault {
        path_prefix: "/api/v1/groups".into(),
        nth: 1,
        times: 10,
        kind: FaultKind::Status(500),
    });
    let r = send(&s, "POST", "/connectors/okta/sync", "");
    assert_eq!(r.status, 202);
    let run = wait_for_run(&s, r.json()["runId"].as_i64().unwrap());
    assert_eq!(run["status"], "failed");
    assert!(
        run["error"]
            .as_str()
            .unwrap()
            .contains("nothing was changed"),
        "{run}"
    );
    assert!(s.env.store().users.is_empty());
}

#[test]
fn sync_user_is_synchronous() {
    let s = Server::start(30, 2);
    let login = s.env.sim.with_org(|o| {
        let u = o.users.iter().find(|u| u.status == "ACTIVE").unwrap();
        u.profile["login"].as_str().unwrap().to_string()
    });
    let r = send(
        &s,
        "POST",
        "/connectors/okta/sync-user",
        &format!(r#"{{"login": "{login}"}}"#),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["found"], true);
    assert_eq!(v["active"], true);
    assert_eq!(v["username"], login.to_lowercase());
    assert!(
        s.env
            .store()
            .users
            .iter()
            .any(|u| u.username == login.to_lowercase())
    );
    let r = send(
        &s,
        "POST",
        "/connectors/okta/sync-user",
        r#"{"login": "nobody@example.com"}"#,
    );
    assert_eq!(r.json()["found"], false);
    error(
        &send(&s, "POST", "/connectors/okta/sync-user", "{}"),
        400,
        Some("login"),
    );
    error(
        &send(
            &s,
            "POST",
            "/connectors/nope/sync-user",
            r#"{"login": "a"}"#,
        ),
        404,
        None,
    );
}

#[test]
fn export_redacts_the_token_and_import_creates_or_updates() {
    let s = Server::start(20, 2);
    let r = get(&s, "/export");
    assert_eq!(r.status, 200);
    assert!(!r.body.contains(TOKEN), "{}", r.body);
    let mut doc = r.json();
    assert_eq!(doc["secretsIncluded"], false);
    assert_eq!(doc["product"], "Jira");
    assert_eq!(doc["connectors"][0]["apiToken"], "********");
    let with = get(&s, "/export?includeSecrets=true");
    assert_eq!(with.json()["connectors"][0]["apiToken"], TOKEN);
    error(
        &get(&s, "/export?includeSecrets=maybe"),
        400,
        Some("includeSecrets"),
    );

    // A redacted connector that exists is updated, its token kept.
    doc["connectors"][0]["schedule"] = "every 2 hours".into();
    let r = send(&s, "POST", "/import", &doc.to_string());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["updated"][0], "okta");
    assert_eq!(
        get(&s, "/connectors/okta").json()["schedule"],
        "0 0 */2 * * *"
    );
    assert_eq!(send(&s, "POST", "/connectors/okta/test", "").status, 200);

    // A redacted connector that does not exist is refused, naming it; nothing changes.
    let mut two = doc.clone();
    let mut new = doc["connectors"][0].clone();
    new["name"] = "Fresh".into();
    two["connectors"].as_array_mut().unwrap().push(new.clone());
    two["connectors"][0]["schedule"] = "every 4 hours".into();
    let e = error(
        &send(&s, "POST", "/import", &two.to_string()),
        400,
        Some("connectors[1].apiToken"),
    );
    assert!(e.contains("connector `Fresh` does not exist yet"), "{e}");
    assert_eq!(
        get(&s, "/connectors/okta").json()["schedule"],
        "0 0 */2 * * *"
    );
    error(&get(&s, "/connectors/Fresh"), 404, None);

    // With its token it is created.
    two["connectors"][1]["apiToken"] = TOKEN.into();
    let r = send(&s, "POST", "/import", &two.to_string());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["created"][0], "Fresh");
    assert_eq!(get(&s, "/connectors").json().as_array().unwrap().len(), 2);

    // Bad settings in an import: refused, naming the connector and the field.
    two["connectors"][1]["oktaDomain"] = "http://x.okta.com".into();
    let e = error(
        &send(&s, "POST", "/import", &two.to_string()),
        400,
        Some("oktaDomain"),
    );
    assert!(
        e.starts_with("connector `Fresh`: invalid connector settings"),
        "{e}"
    );
    let e = error(
        &send(&s, "POST", "/import", "{\"connectors\": 3}"),
        400,
        Some("connectors"),
    );
    assert!(e.starts_with("the import is not a usersync export"), "{e}");
    error(&send(&s, "POST", "/import", "not json"), 400, None);
}

#[test]
fn xsrf_rules() {
    let s = Server::start(20, 2);
    let sync_url = s.url(&format!("{REST}/connectors/okta/sync"));
    // Basic auth, but a content type a cross-site form could send: refused.
    let r = call("POST", &sync_url)
        .admin()
        .header("content-type", "text/plain")
        .send();
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("XSRF check failed")
    );
    let r = call("POST", &sync_url)
        .admin()
        .form(&[("dryRun", "true")])
        .send();
    assert_eq!(r.status, 403);
    assert!(s.env.harness.runs(None, 10).unwrap().is_empty());
    // ... unless the client says so, as with Atlassian's REST APIs.
    let r = call("POST", &sync_url)
        .admin()
        .header("content-type", "text/plain")
        .header("x-atlassian-token", "no-check")
        .send();
    assert_eq!(r.status, 202, "{}", r.body);
    wait_for_run(&s, r.json()["runId"].as_i64().unwrap());

    // The page's session cookie works for the REST API only with its CSRF header.
    let (cookie, csrf) = web_support::login(&s);
    let r = call("GET", s.url(&format!("{REST}/connectors")))
        .header("cookie", &cookie)
        .send();
    assert_eq!(r.status, 200);
    let r = call("POST", &sync_url)
        .header("cookie", &cookie)
        .json("{}")
        .send();
    assert_eq!(r.status, 403, "{}", r.body);
    let r = call("POST", &sync_url)
        .header("cookie", &cookie)
        .header("x-csrf-token", "0000")
        .json("{}")
        .send();
    assert_eq!(r.status, 403);
    let r = call("POST", &sync_url)
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json("{}")
        .send();
    assert_eq!(r.status, 202, "{}", r.body);
    wait_for_run(&s, r.json()["runId"].as_i64().unwrap());
}

#[test]
fn writes_with_basic_must_be_json_or_say_no_check() {
    let s = Server::start(20, 2);
    let sync_url = s.url(&format!("{REST}/connectors/okta/sync"));
    let unsupported = |r: &Resp| {
        let e = error(r, 415, None);
        assert!(
            e.starts_with("this API reads JSON: send Content-Type: application/json"),
            "{e}"
        );
    };
    // No content type, or one that is not JSON: refused, nothing runs.
    unsupported(&call("POST", &sync_url).admin().send());
    unsupported(
        &call("POST", &sync_url)
            .admin()
            .header("content-type", "text/xml")
            .send(),
    );
    assert!(s.env.harness.runs(None, 10).unwrap().is_empty());
    let put = call("PUT", s.url(&format!("{REST}/connectors/okta")))
        .admin()
        .header("content-type", "application/xml")
        .send();
    unsupported(&put);
    assert_eq!(get(&s, "/connectors/okta").json()["name"], "okta");
    // JSON with parameters is JSON; a bodiless POST may say no-check instead.
    let r = call("POST", s.url(&format!("{REST}/connectors/okta/test")))
        .admin()
        .header("content-type", "Application/JSON; charset=utf-8")
        .send();
    assert_eq!(r.status, 200, "{}", r.body);
    let r = call("POST", s.url(&format!("{REST}/connectors/okta/test")))
        .admin()
        .header("x-atlassian-token", "no-check")
        .send();
    assert_eq!(r.status, 200, "{}", r.body);
    // DELETE has no body to type (and no cross-site form can send one).
    let r = call("DELETE", s.url(&format!("{REST}/connectors/okta")))
        .admin()
        .send();
    assert_eq!(r.status, 204, "{}", r.body);
}

#[test]
fn api_answers_are_never_cached_framed_or_sniffed() {
    let s = Server::start(20, 2);
    for path in ["/connectors", "/export", "/runs/999"] {
        let r = get(&s, path);
        assert_eq!(r.header("cache-control"), Some("no-store"), "{path}");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
    }
}

#[test]
fn a_login_that_is_not_one_is_refused_before_okta_and_never_altered() {
    let s = Server::start(20, 2);
    let before = (s.env.sim.requests().len(), s.env.store());
    for (login, says) in [
        (
            "..",
            "login `..` is not a login (it would name another Okta route)",
        ),
        (
            ".",
            "login `.` is not a login (it would name another Okta route)",
        ),
        (
            "xss1@exa\nmple.com",
            "login `xss1@exa\\nmple.com` holds a control character (tab, line break or other); logins have none",
        ),
        (
            " ann@example.com",
            "login ` ann@example.com` has spaces around it",
        ),
    ] {
        let body = serde_json::json!({ "login": login }).to_string();
        let r = send(&s, "POST", "/connectors/okta/sync-user", &body);
        assert_eq!(error(&r, 400, Some("login")), says);
    }
    let long = serde_json::json!({ "login": "a".repeat(5000) }).to_string();
    let e = error(
        &send(&s, "POST", "/connectors/okta/sync-user", &long),
        400,
        Some("login"),
    );
    assert!(e.len() < 150, "the error quotes only the start: {e}");
    assert_eq!(
        (s.env.sim.requests().len(), s.env.store()),
        before,
        "no request was made and nothing changed"
    );
}

#[test]
fn connector_names_are_nfc_and_never_dots_or_invisible() {
    let s = Server::start(20, 2);
    let create = |name: &str| {
        let body =
            serde_json::json!({"name": name, "oktaDomain": "acme.okta.com", "apiToken": "t"});
        send(&s, "POST", "/connectors", &body.to_string())
    };
    // Typed with a combining diaeresis (NFD): stored as NFC, found by either spelling.
    let r = create("Zu\u{0308}rich");
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["name"], "Z\u{00FC}rich");
    for spelling in ["Z%C3%BCrich", "Zu%CC%88rich"] {
        assert_eq!(
            get(&s, &format!("/connectors/{spelling}")).status,
            200,
            "{spelling}"
        );
    }
    error(&create("Z\u{00FC}rich"), 409, Some("name"));
    for (name, says) in [
        ("..", "`.` or `..`"),
        ("Okta\u{202E}dorp", "U+202E"),
        ("Ok\u{200B}ta", "U+200B"),
    ] {
        let e = error(&create(name), 400, Some("name"));
        assert!(e.contains(says), "{name:?}: {e}");
    }
    assert_eq!(get(&s, "/connectors").json().as_array().unwrap().len(), 2);
}

#[test]
fn the_mass_deactivation_guard_stops_a_sync_until_forced() {
    let s = Server::start(60, 3);
    let r = send(&s, "POST", "/connectors/okta/sync", "");
    assert_eq!(
        wait_for_run(&s, r.json()["runId"].as_i64().unwrap())["status"],
        "succeeded"
    );
    let before = s.env.store();
    s.env.sim.with_org(|o| {
        let ids: Vec<String> = o.users.iter().take(30).map(|u| u.id.clone()).collect();
        for id in ids {
            o.delete_user(&id);
        }
    });
    let r = send(&s, "POST", "/connectors/okta/sync", "");
    let id = r.json()["runId"].as_i64().unwrap();
    let run = wait_for_run(&s, id);
    assert_eq!(run["status"], "failed");
    assert_eq!(run["failure"], "guard", "the refusal is known by its kind");
    assert!(
        run["error"]
            .as_str()
            .unwrap()
            .starts_with("the mass-deactivation guard stopped the sync"),
        "{run}"
    );
    assert_eq!(s.env.store(), before, "nothing changed");
    // The page offers to sync anyway.
    let page = call("GET", s.url(&format!("{PAGE}/runs/{id}")))
        .admin()
        .send();
    assert!(page.body.contains(r#"id="force-sync""#), "{}", page.body);

    let r = send(&s, "POST", "/connectors/okta/sync", r#"{"force": true}"#);
    let run = wait_for_run(&s, r.json()["runId"].as_i64().unwrap());
    assert_eq!(run["status"], "succeeded", "{run}");
    assert!(
        run["report"]["counts"]["usersDeactivated"]
            .as_u64()
            .unwrap()
            > 5
    );
}

#[test]
fn settings_are_camel_case_with_lower_case_values_and_a_body_changes_only_what_it_holds() {
    let s = Server::start(10, 2);
    let c = get(&s, "/connectors/okta").json();
    // Every setting, camelCase, down to the nested records; enum values in kebab-case.
    assert_eq!(c["unknownAtLogin"], "keep");
    assert_eq!(c["users"]["migrate"], "by-username");
    assert_eq!(c["users"]["username"]["template"], "{login}");
    assert_eq!(c["lifecycle"]["missingUsers"], "disable");
    assert_eq!(c["lifecycle"]["guardPercent"], 10);
    assert_eq!(c["groups"]["includePatterns"], serde_json::json!([]));
    assert_eq!(c["apiToken"], "********");
    // A nested field alone changes only that field.
    let r = send(
        &s,
        "PUT",
        "/connectors/okta",
        r#"{"lifecycle": {"guardPercent": 20, "missingUsers": "delete"}, "unknownAtLogin": "deny"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["lifecycle"]["guardPercent"], 20);
    assert_eq!(v["lifecycle"]["missingUsers"], "delete");
    assert_eq!(v["lifecycle"]["guardMinUsers"], 5, "kept");
    assert_eq!(v["unknownAtLogin"], "deny");
    assert_eq!(v["users"], c["users"], "kept");
    // The old shapes are refused naming the field; nothing changes.
    for (body, field) in [
        (r#"{"lifecycle": {"guard_percent": 30}}"#, "guard_percent"),
        (r#"{"denyUnknownAtLogin": true}"#, "denyUnknownAtLogin"),
    ] {
        error(&send(&s, "PUT", "/connectors/okta", body), 400, Some(field));
    }
    let e = error(
        &send(
            &s,
            "PUT",
            "/connectors/okta",
            r#"{"lifecycle": {"missingUsers": "Disable"}}"#,
        ),
        400,
        Some("lifecycle.missingUsers"),
    );
    assert!(e.contains("unknown variant `Disable`"), "{e}");
    assert_eq!(
        get(&s, "/connectors/okta").json()["lifecycle"]["guardPercent"],
        20
    );
    // Runs and reports too.
    let r = send(&s, "POST", "/connectors/okta/sync", r#"{"dryRun": true}"#);
    let run = wait_for_run(&s, r.json()["runId"].as_i64().unwrap());
    assert_eq!(run["kind"], "full");
    assert_eq!(run["trigger"], "api");
    assert_eq!(run["report"]["mode"], "full");
    assert_eq!(run["changes"]["items"][0]["action"], "create-group");
    assert!(run["report"]["seatsDenied"].is_array());
    assert_eq!(run["failure"], serde_json::Value::Null);
}

#[test]
fn errors_quote_at_most_200_characters_of_an_input() {
    let s = Server::start(20, 2);
    let create = |body: &str| send(&s, "POST", "/connectors", body);
    let long = "x".repeat(500_000);
    let cut = format!("{}…", "x".repeat(200));
    for (body, field, expected) in [
        (
            format!(r#"{{"name": "x", "{long}": 1}}"#),
            cut.clone(),
            format!("invalid request body: unknown field `{cut}`, expected one of"),
        ),
        (
            format!(r#"{{"name": "x", "scheduleEnabled": "{long}"}}"#),
            "scheduleEnabled".to_string(),
            format!(r#"invalid request body: invalid type: string "{cut}", expected a boolean"#),
        ),
        (
            format!(r#"{{"name": "x", "unknownAtLogin": "{long}"}}"#),
            "unknownAtLogin".to_string(),
            format!("invalid request body: unknown variant `{cut}`, expected"),
        ),
    ] {
        let r = create(&body);
        assert!(r.body.len() < 2_000, "a {} byte answer", r.body.len());
        let e = error(&r, 400, Some(&field));
        assert!(e.starts_with(&expected), "{e}");
    }
}

#[test]
fn a_domain_outside_oktas_needs_the_custom_domain_switch() {
    let s = Server::start(20, 2);
    let create = |body: &str| send(&s, "POST", "/connectors", body);
    for domain in ["evil.com", "acme.okta.com.evil.com"] {
        let e = error(
            &create(&format!(
                r#"{{"name": "x", "oktaDomain": "{domain}", "apiToken": "t"}}"#
            )),
            400,
            Some("oktaDomain"),
        );
        assert_eq!(
            e,
            format!(
                "invalid connector settings: okta-domain: `{domain}` is not a domain of Okta's (okta.com, oktapreview.com, okta-emea.com, okta-gov.com, okta.mil, okta-miltest.com, trex-govcloud.com); if it is your org's custom URL domain, turn on custom-domain"
            )
        );
    }
    assert_eq!(get(&s, "/connectors").json().as_array().unwrap().len(), 1);
    let r = create(
        r#"{"name": "custom", "oktaDomain": "login.example.com", "customDomain": true, "apiToken": "t"}"#,
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let v = get(&s, "/connectors/custom").json();
    assert_eq!(v["oktaDomain"], "login.example.com");
    assert_eq!(v["customDomain"], true);
}

#[test]
fn a_runs_changes_are_paged_by_offset_limit_and_action() {
    let s = Server::start(60, 4);
    let r = send(&s, "POST", "/connectors/okta/sync", "{}");
    let id = r.json()["runId"].as_i64().unwrap();
    let done = wait_for_run(&s, id);
    let all = serde_json::to_value(s.env.changes(id)).unwrap();
    let all = all.as_array().unwrap();
    let n = all.len();
    assert!(n > 150, "{n} changes");
    let slice =
        |from: usize, to: usize| serde_json::Value::from(all[from.min(n)..to.min(n)].to_vec());

    // The run's answer: its report's counts, not its changes, and their first page.
    assert!(done["report"].get("changes").is_none(), "{done}");
    let created = all.iter().filter(|c| c["action"] == "create-user").count();
    assert_eq!(done["report"]["counts"]["usersCreated"], created);
    let url = format!("{REST}/runs/{id}");
    let c = &done["changes"];
    assert_eq!(
        (c["offset"].as_u64(), c["limit"].as_u64()),
        (Some(0), Some(100))
    );
    assert_eq!(c["total"].as_u64(), Some(n as u64));
    assert_eq!(c["action"], serde_json::Value::Null);
    assert_eq!(c["items"], slice(0, 100));
    assert_eq!(c["next"], format!("{url}?offset=100&limit=100"));
    assert_eq!(c["json"], format!("{url}/report.json"));
    assert_eq!(c["csv"], format!("{url}/changes.csv"));

    // Exact slices, up to and past the end.
    for (offset, limit) in [(0, 1), (5, 10), (n - 3, 10), (n, 5), (n + 10, 5)] {
        let v = get(&s, &format!("/runs/{id}?offset={offset}&limit={limit}")).json();
        let c = &v["changes"];
        assert_eq!(
            c["items"],
            slice(offset, offset + limit),
            "{offset}+{limit}"
        );
        assert_eq!(c["total"].as_u64(), Some(n as u64));
        let next =
            (offset + limit < n).then(|| format!("{url}?offset={}&limit={limit}", offset + limit));
        assert_eq!(c["next"].as_str(), next.as_deref(), "{offset}+{limit}");
    }
    // Following `next` gives every change once, in order.
    let (mut got, mut next) = (Vec::new(), Some(format!("{url}?limit=7")));
    while let Some(link) = next {
        let v = call("GET", s.url(&link)).admin().send().json();
        got.extend(v["changes"]["items"].as_array().unwrap().iter().cloned());
        next = v["changes"]["next"].as_str().map(str::to_string);
    }
    assert_eq!(got, *all);
    // One action's changes, numbered among themselves.
    let members: Vec<_> = all
        .iter()
        .filter(|c| c["action"] == "add-membership")
        .cloned()
        .collect();
    assert!(members.len() > 10);
    let v = get(
        &s,
        &format!("/runs/{id}?action=add-membership&offset=3&limit=5"),
    )
    .json();
    let c = &v["changes"];
    assert_eq!(c["action"], "add-membership");
    assert_eq!(c["total"].as_u64(), Some(members.len() as u64));
    assert_eq!(c["items"], serde_json::Value::from(members[3..8].to_vec()));
    assert_eq!(
        c["next"],
        format!("{url}?offset=8&limit=5&action=add-membership")
    );
    // A limit past the most is cut to it.
    let v = get(&s, &format!("/runs/{id}?limit=5000")).json();
    assert_eq!(v["changes"]["limit"], 1000);
    assert_eq!(v["changes"]["items"], slice(0, 1000));

    // Bad values are 400s naming the parameter, quoting at most 60 characters of it.
    for (query, field, says) in [
        (
            "offset=-1",
            "offset",
            "`offset` must be a whole number, not `-1`",
        ),
        (
            "offset=abc",
            "offset",
            "`offset` must be a whole number, not `abc`",
        ),
        ("limit=0", "limit", "`limit` must be at least 1"),
        (
            "limit=many",
            "limit",
            "`limit` must be a whole number, not `many`",
        ),
        (
            "action=CreateUser",
            "action",
            "`action` is one of create-user, update-user",
        ),
        ("page=2", "page", "unknown parameter `page`"),
    ] {
        let e = error(&get(&s, &format!("/runs/{id}?{query}")), 400, Some(field));
        assert!(e.contains(says), "{query}: {e}");
    }
    let long = "9".repeat(5000);
    let e = error(
        &get(&s, &format!("/runs/{id}?offset={long}")),
        400,
        Some("offset"),
    );
    assert!(e.len() < 200, "{e}");
    error(&get(&s, "/runs/abc/report.json"), 400, Some("id"));
    error(&get(&s, "/runs/999/changes.csv"), 404, None);

    // The downloads hold every change.
    let json = get(&s, &format!("/runs/{id}/report.json"));
    assert_eq!(json.header("content-type"), Some("application/json"));
    assert!(
        json.header("content-disposition")
            .unwrap()
            .contains("attachment")
    );
    assert_eq!(
        json.json()["report"]["changes"],
        serde_json::Value::from(all.clone())
    );
    assert_eq!(json.json()["id"], id);
    let csv = get(&s, &format!("/runs/{id}/changes.csv"));
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(csv.body.lines().count(), n + 1);
    assert_eq!(csv.body.matches("add membership,").count(), members.len());

    // The run's page pages them too, with the links on.
    let page = |query: &str| {
        call("GET", s.url(&format!("{PAGE}/runs/{id}?{query}")))
            .admin()
            .send()
    };
    let p = page("action=add-membership&offset=10&limit=10");
    assert_eq!(p.status, 200);
    assert_eq!(
        p.body.matches("<td>add membership</td>").count(),
        10,
        "{}",
        p.body
    );
    assert_eq!(p.body.matches("<td>create user</td>").count(), 0);
    assert!(p.body.contains(&format!(
        r#"id="changes-next" href="{PAGE}/runs/{id}?offset=20&amp;limit=10&amp;action=add-membership""#
    )), "{}", p.body);
    assert!(p.body.contains(&format!(
        r#"id="changes-previous" href="{PAGE}/runs/{id}?offset=0&amp;limit=10&amp;action=add-membership""#
    )));
    assert!(
        p.body
            .contains(&format!("Changes 11–20 of {}", members.len())),
        "{}",
        p.body
    );
    let p = page("");
    assert_eq!(p.body.matches("<td>create user</td>").count(), created);
    assert!(p.body.contains(&format!("Changes ({n})")));
    assert_eq!(page("offset=x").status, 400);
}
