//! The admin page at `/plugins/servlet/usersync` over HTTP (the browser test is
//! `browser.rs`): login, CSRF protection of every POST, the connector form and its
//! errors, syncs and previews with their results and downloads, and `usersync serve`.

use crate::web_support;

use integration::{CONNECTOR, Env, TOKEN, runtime};
use usersync::host::http::Resolve;
use usersync::product::profile::Profile;
use usersync::{Harness, Options};
use web_support::{PAGE, REST, Resp, Server, call, login};

fn page(s: &Server, cookie: &str, path: &str) -> Resp {
    call("GET", s.url(&format!("{PAGE}{path}")))
        .header("cookie", cookie)
        .send()
}

fn post(s: &Server, cookie: &str, path: &str, fields: &[(&str, &str)]) -> Resp {
    call("POST", s.url(&format!("{PAGE}{path}")))
        .header("cookie", cookie)
        .form(fields)
        .send()
}

/// Sync (or preview) the connector `okta` from the page: the path of the run's page.
fn start_sync(s: &Server, cookie: &str, fields: &[(&str, &str)]) -> String {
    let r = post(s, cookie, "/connectors/okta/sync", fields);
    assert_eq!(r.status, 303, "{}", r.body);
    r.header("location").unwrap().to_string()
}

/// Wait until the run page no longer says it is running.
fn wait_for_page(s: &Server, cookie: &str, location: &str) -> Resp {
    for _ in 0..600 {
        let r = call("GET", s.url(location)).header("cookie", cookie).send();
        if !r.body.contains("id=\"run-running\"") {
            return r;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the run at {location} did not finish");
}

#[test]
fn login_form_session_and_logout() {
    let s = Server::start(10, 2);
    let r = call("GET", s.url(&format!("{PAGE}/login"))).send();
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Administrator access") && r.body.contains("Jira"));
    let r = call("POST", s.url(&format!("{PAGE}/login")))
        .form(&[("username", "admin"), ("password", "nope")])
        .send();
    assert_eq!(r.status, 401);
    assert!(r.body.contains("The username or password is incorrect."));
    assert!(r.header("set-cookie").is_none());
    // After login, `next` brings the admin back; only paths of the page are followed.
    let r = call("POST", s.url(&format!("{PAGE}/login")))
        .form(&[
            ("username", web_support::USER),
            ("password", web_support::PASSWORD),
            ("next", "https://evil.example/"),
        ])
        .send();
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some(PAGE));
    let cookie = r.header("set-cookie").unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));

    let (cookie, csrf) = login(&s);
    let r = page(&s, &cookie, "");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<h1>User Sync</h1>"));
    assert!(r.body.contains(r#"<tr data-connector="okta">"#));
    let r = post(&s, &cookie, "/logout", &[("atl_token", &csrf)]);
    assert_eq!(r.status, 303);
    assert_eq!(page(&s, &cookie, "").status, 303, "the session ended");
    // Basic auth works for the page too.
    let r = call("GET", s.url(PAGE)).admin().send();
    assert_eq!(r.status, 200);
    assert!(r.header("set-cookie").is_none(), "and opens no session");
    let r = call("GET", s.url(PAGE)).basic("admin", "x").send();
    assert_eq!(r.status, 401);
}

#[test]
fn every_page_post_needs_the_csrf_token() {
    let s = Server::start(10, 2);
    let (cookie, csrf) = login(&s);
    for (path, fields) in [
        ("/connectors/okta/sync", vec![]),
        ("/connectors/okta/delete", vec![]),
        (
            "/connectors",
            vec![
                ("name", "x"),
                ("okta_domain", "acme.okta.com"),
                ("api_token", "t"),
            ],
        ),
        ("/connectors/okta", vec![("name", "renamed")]),
        ("/logout", vec![]),
    ] {
        let r = post(&s, &cookie, path, &fields);
        assert_eq!(r.status, 403, "{path}");
        assert!(r.body.contains("XSRF Security Token Missing"), "{path}");
        let mut wrong = fields.clone();
        wrong.push(("atl_token", "0123"));
        assert_eq!(post(&s, &cookie, path, &wrong).status, 403, "{path}");
    }
    // Without a session at all (Basic auth only, as a forged cross-site POST would be).
    let r = call("POST", s.url(&format!("{PAGE}/connectors/okta/delete")))
        .admin()
        .form(&[("atl_token", &csrf)])
        .send();
    assert_eq!(r.status, 403);
    assert!(s.env.harness.runs(None, 10).unwrap().is_empty());
    assert_eq!(s.env.harness.connectors().unwrap().len(), 1);
    assert_eq!(
        s.env.harness.connectors().unwrap()[0].settings.name,
        CONNECTOR
    );
    // The token in a header works as well as in the form.
    let r = call("POST", s.url(&format!("{PAGE}/connectors/okta/sync")))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .form(&[("dry_run", "1")])
        .send();
    assert_eq!(r.status, 303, "{}", r.body);
}

#[test]
fn create_edit_and_delete_through_the_form() {
    let s = Server::start(10, 2);
    let (cookie, csrf) = login(&s);
    let chooser = page(&s, &cookie, "/connectors/new");
    assert!(chooser.body.contains("id=\"type-okta\""));
    let form = page(&s, &cookie, "/connectors/new?type=okta");
    assert!(form.body.contains("Create Okta connector"));
    assert!(form.body.contains(r#"type="password" id="api-token""#));
    assert!(form.body.contains("Next runs (UTC)"));

    // A bad domain comes back as typed, the field marked.
    let mut fields = vec![
        ("atl_token", csrf.as_str()),
        ("name", "Second"),
        ("okta_domain", "http://acme.okta.com"),
        ("api_token", TOKEN),
        ("schedule", "every 30 minutes"),
        ("schedule_enabled", "on"),
        ("full_sync_interval_hours", "12"),
        ("member_concurrency", "4"),
        ("user_attributes", "department, title"),
        ("action", "save"),
    ];
    let r = post(&s, &cookie, "/connectors", &fields);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("The connector was not saved."));
    assert!(r.body.contains(r#"data-field="okta-domain""#), "{}", r.body);
    assert!(r.body.contains(r#"value="http://acme.okta.com""#));
    assert!(
        !r.body.contains(TOKEN),
        "a refused form never echoes the token"
    );
    // A bad cron opens the Sync Settings tab with the error.
    fields[2].1 = "acme.okta.com";
    fields[4].1 = "0 61 * * * ?";
    let r = post(&s, &cookie, "/connectors", &fields);
    assert_eq!(r.status, 400);
    assert!(
        r.body
            .contains(r#"<div class="tabs-pane active-pane" id="tab-sync">"#)
    );
    assert!(r.body.contains("the minutes field `61` is not valid"));
    fields[6].1 = "soon";
    let r = post(&s, &cookie, "/connectors", &fields);
    assert!(
        r.body
            .contains("The full-sync interval must be a whole number")
    );
    fields[6].1 = "12";

    fields[4].1 = "every 30 minutes";
    let r = post(&s, &cookie, "/connectors", &fields);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.header("location"),
        Some("/plugins/servlet/usersync/connectors/Second?msg=saved&c=Second&tab=tab-connector")
    );
    let v = s.env.harness.connector("Second").unwrap();
    assert_eq!(v.settings.schedule, "0 */30 * * * *");
    assert!(v.settings.schedule_enabled);
    assert_eq!(v.settings.user_attributes, ["department", "title"]);
    let edit = page(&s, &cookie, "/connectors/Second?msg=saved&c=Second");
    assert!(edit.body.contains("Saved connector &quot;Second&quot;."));
    assert!(edit.body.contains(r#"placeholder="********""#), "masked");
    assert!(!edit.body.contains(TOKEN));
    assert!(edit.body.contains("0 */30 * * * *"));
    assert_eq!(edit.body.matches("UTC</li>").count(), 5, "next run times");

    // Save and Return with an empty token keeps it; duplicate names are refused.
    let r = post(
        &s,
        &cookie,
        "/connectors/Second",
        &[
            ("atl_token", &csrf),
            ("name", "OKTA"),
            ("okta_domain", "acme.okta.com"),
            ("api_token", ""),
            ("action", "save-return"),
        ],
    );
    assert_eq!(r.status, 409);
    assert!(r.body.contains("a connector named `OKTA` already exists"));
    let r = post(
        &s,
        &cookie,
        "/connectors/Second",
        &[
            ("atl_token", &csrf),
            ("name", "Second"),
            ("okta_domain", "acme.okta.com"),
            ("api_token", ""),
            ("schedule", "daily at 02:30"),
            ("action", "save-return"),
        ],
    );
    assert_eq!(r.status, 303);
    assert_eq!(
        r.header("location"),
        Some("/plugins/servlet/usersync?msg=saved&c=Second")
    );
    assert!(
        s.env.harness.test_connection("Second").is_ok(),
        "token kept"
    );
    assert!(
        !s.env
            .harness
            .connector("Second")
            .unwrap()
            .settings
            .schedule_enabled
    );

    // Test connection with unsaved settings, and with the saved token.
    let test = |fields: &[(&str, &str)]| post(&s, &cookie, "/test", fields).json();
    let ok = test(&[
        ("atl_token", &csrf),
        ("name", "n"),
        ("okta_domain", "acme.okta.com"),
        ("api_token", TOKEN),
    ]);
    assert_eq!(ok["ok"], true, "{ok}");
    let saved = test(&[
        ("atl_token", &csrf),
        ("existing", "Second"),
        ("name", "Second"),
        ("okta_domain", "acme.okta.com"),
    ]);
    assert_eq!(saved["ok"], true, "{saved}");
    let bad = test(&[
        ("atl_token", &csrf),
        ("name", "n"),
        ("okta_domain", "acme.okta.com"),
        ("api_token", "wrong"),
    ]);
    assert_eq!(bad["ok"], false);
    assert!(
        bad["message"].as_str().unwrap().contains("E0000011"),
        "{bad}"
    );

    let r = post(
        &s,
        &cookie,
        "/connectors/Second/delete",
        &[("atl_token", &csrf)],
    );
    assert_eq!(r.status, 303);
    assert!(s.env.harness.connector("Second").is_err());
    assert_eq!(page(&s, &cookie, "/connectors/Second").status, 404);
}

#[test]
fn next_run_times_of_a_typed_schedule() {
    let s = Server::start(10, 2);
    let (cookie, _) = login(&s);
    let v = page(&s, &cookie, "/next-runs?schedule=every%2015%20minutes").json();
    let times = v["nextRuns"].as_array().unwrap();
    assert_eq!(times.len(), 5);
    assert!(times.iter().all(|t| t.as_str().unwrap().ends_with(" UTC")));
    let v = page(&s, &cookie, "/next-runs?schedule=every%207%20minutes").json();
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("does not divide an hour"),
        "{v}"
    );
}

#[test]
fn sync_preview_results_and_downloads() {
    let s = Server::start(60, 4);
    let (cookie, csrf) = login(&s);
    // Dry-run preview: nothing written, the changes listed.
    let location = start_sync(&s, &cookie, &[("atl_token", &csrf), ("dry_run", "1")]);
    let preview = wait_for_page(&s, &cookie, &location);
    assert!(
        preview.body.contains("Dry-run preview: run #"),
        "{}",
        preview.body
    );
    assert!(preview.body.contains("Preview: nothing was written."));
    assert!(preview.body.contains("id=\"apply-preview\""));
    assert!(s.env.store().users.is_empty());

    let location = start_sync(&s, &cookie, &[("atl_token", &csrf)]);
    let id: i64 = location.rsplit('/').next().unwrap().parse().unwrap();
    let done = wait_for_page(&s, &cookie, &location);
    assert!(done.body.contains("The sync finished"), "{}", done.body);
    let report = s.env.harness.run(id).unwrap().0.report.unwrap();
    let created = u64::from(report.counts.users_created);
    assert_eq!(created as usize, s.env.store().users.len());
    assert!(done.body.contains(&format!(
        r#"<td class="num" data-count="users_created">{created}</td>"#
    )));
    assert!(done.body.contains(r#"id="run-changes""#));

    let csv = page(&s, &cookie, &format!("/runs/{id}/changes.csv"));
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(
        csv.header("content-disposition")
            .unwrap()
            .contains("attachment")
    );
    assert!(csv.body.starts_with("action,target,group,details\r\n"));
    let changes = s.env.changes(id).len();
    assert_eq!(csv.body.lines().count(), changes + 1);
    assert_eq!(csv.body.matches("create user,").count() as u64, created);
    let json = page(&s, &cookie, &format!("/runs/{id}/report.json"));
    let v = json.json();
    assert_eq!(
        v["report"]["counts"]["usersCreated"].as_u64(),
        Some(created)
    );
    assert_eq!(v["status"], "succeeded");

    // The list shows the last run.
    let list = page(&s, &cookie, "");
    assert!(list.body.contains(&format!(
        r#"<a href="/plugins/servlet/usersync/runs/{id}">#{id}</a>"#
    )));
    assert!(list.body.contains(r#"data-status="succeeded">Succeeded"#));
    assert_eq!(page(&s, &cookie, "/runs/999").status, 404);
}

#[test]
fn the_page_shows_the_product_played() {
    let env = Env::generated(5, 1);
    let mut resolve = Resolve::default();
    resolve.insert(integration::DOMAIN, env.sim.addr());
    let confluence: Profile = "confluence".parse().unwrap();
    let h = Harness::with(
        env.harness.db().clone(),
        runtime(),
        Options {
            product: confluence,
            resolve,
            ..Options::default()
        },
    )
    .unwrap();
    let env = Env { harness: h, ..env };
    let s = Server::around(env);
    let (cookie, _) = login(&s);
    let r = page(&s, &cookie, "");
    assert!(r.body.contains("<title>User Sync - Confluence</title>"));
    assert!(r.body.contains("kept in sync with Confluence"));
    let export = call("GET", s.url(&format!("{REST}/export"))).admin().send();
    assert_eq!(export.json()["product"], "Confluence");
}

#[test]
fn the_page_shows_the_licence_seats_in_use() {
    let env = Env::product(
        okta_sim::Org::generate(&okta_sim::GenSpec {
            users: 20,
            groups: 2,
            memberships_per_user: 1,
            seed: 5,
        }),
        "bitbucket",
        Some(7),
    );
    let mut input = integration::connector_input();
    input.groups = Some(usersync::model::GroupPatch {
        default_groups: Some(None),
        ..integration::groups_without_defaults()
    });
    env.harness.update_connector(CONNECTOR, &input).unwrap();
    let o = env.harness.sync(CONNECTOR, Default::default()).unwrap();
    assert!(!o.report.seats_denied.is_empty(), "more users than seats");
    let s = Server::around(env);
    let (cookie, _) = login(&s);
    let r = page(&s, &cookie, "");
    assert!(
        r.body.contains(
            r#"<p id="seats">Licence seats: <strong>7 of 7</strong> used (active members of stash-users"#
        ),
        "{}",
        r.body
    );
}

#[test]
fn serve_runs_the_rest_api_and_the_page() {
    let sim = okta_sim::Simulator::start(
        okta_sim::Org::generate(&okta_sim::GenSpec {
            users: 10,
            groups: 2,
            memberships_per_user: 1,
            seed: 1,
        }),
        okta_sim::SimConfig::default(),
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db").display().to_string();
    let resolve = format!("acme.okta.com={}", sim.addr());
    let argv = |extra: &[&str]| {
        let mut v: Vec<String> = ["usersync", "--db", &db, "--resolve", &resolve]
            .iter()
            .map(|s| s.to_string())
            .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    // No password: refused, with the way to give one.
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = usersync::surface::cli::run(
        argv(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--admin-password-file",
            "/nonexistent",
        ]),
        &mut out,
        &mut err,
    );
    assert_eq!(code, 2);
    assert!(
        String::from_utf8(err)
            .unwrap()
            .contains("cannot read the password file")
    );

    let pw = dir.path().join("pw");
    web_support::write_private(&pw, &format!("{}\n", web_support::PASSWORD));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let args = argv(&[
        "--product",
        "bitbucket",
        "serve",
        "--listen",
        &listen,
        "--admin-password-file",
        &pw.display().to_string(),
    ]);
    std::thread::spawn(move || {
        usersync::surface::cli::run(args, &mut std::io::sink(), &mut std::io::sink())
    });
    let url = format!("http://{listen}{REST}/connectors");
    let mut up = false;
    for _ in 0..200 {
        if std::net::TcpStream::connect(&listen).is_ok() {
            up = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(up, "serve listens on {listen}");
    assert_eq!(call("GET", &url).send().status, 401);
    let r = call("POST", &url)
        .admin()
        .json(r#"{"name": "o", "oktaDomain": "acme.okta.com", "apiToken": "test-token"}"#)
        .send();
    assert_eq!(r.status, 201, "{}", r.body);
    let r = call("GET", format!("http://{listen}{PAGE}")).admin().send();
    assert!(
        r.body.contains("<title>User Sync - Bitbucket</title>"),
        "{}",
        r.body
    );
}

#[test]
fn user_group_and_lifecycle_settings_on_the_page_and_the_rest_api() {
    use usersync::model::{LifecycleSettings, MissingUsers};
    let s = Server::start(10, 2);
    let (cookie, csrf) = login(&s);
    let lifecycle = LifecycleSettings {
        missing_users: MissingUsers::Keep,
        remove_memberships_of_missing: false,
        guard_percent: 25,
        guard_min_users: 3,
        inactivity: None,
    };
    let advanced = serde_json::json!({ "lifecycle": lifecycle }).to_string();
    let form = |advanced: &str| {
        post(
            &s,
            &cookie,
            "/connectors/okta",
            &[
                ("atl_token", &csrf),
                ("name", "okta"),
                ("okta_domain", "acme.okta.com"),
                ("advanced", advanced),
                ("tab", "tab-sync"),
            ],
        )
    };
    let r = form("{\"lifecycle\": ");
    assert_eq!(r.status, 400);
    assert!(r.body.contains(r#"data-field="advanced""#), "{}", r.body);
    assert!(
        r.body
            .contains(r#"<div class="tabs-pane active-pane" id="tab-advanced">"#)
    );
    let r = form(&advanced);
    assert_eq!(r.status, 303, "{}", r.body);
    let v = s.env.harness.connector("okta").unwrap();
    assert_eq!(v.settings.lifecycle, lifecycle);
    // Shown again on the form; kept by an edit of other fields over REST.
    let edit = page(&s, &cookie, "/connectors/okta");
    assert!(edit.body.contains("guardPercent"), "{}", edit.body);
    let r = call("PUT", s.url(&format!("{REST}/connectors/okta")))
        .admin()
        .json(r#"{"includeBuiltInGroups": true}"#)
        .send();
    assert_eq!(r.json()["lifecycle"]["guardPercent"], 25, "{}", r.body);
    // Exported, and imported back.
    let export = call("GET", s.url(&format!("{REST}/export"))).admin().send();
    let mut doc = export.json();
    assert_eq!(doc["connectors"][0]["lifecycle"]["guardMinUsers"], 3);
    doc["connectors"][0]["lifecycle"]["guardMinUsers"] = 7.into();
    let r = call("POST", s.url(&format!("{REST}/import")))
        .admin()
        .json(&doc.to_string())
        .send();
    assert_eq!(r.status, 200, "{}", r.body);
    let saved = s.env.harness.connector("okta").unwrap().settings.lifecycle;
    assert_eq!(saved.guard_min_users, 7);
    // An empty field on the page keeps the saved settings.
    assert_eq!(form("").status, 303);
    let saved = s.env.harness.connector("okta").unwrap().settings.lifecycle;
    assert_eq!(saved.guard_percent, 25);
}

/// The `"`-quoted value after `attr="` that starts with `prefix` in `body`.
fn attribute<'a>(body: &'a str, attr: &str, prefix: &str) -> &'a str {
    let start = format!("{attr}=\"{prefix}");
    let at = body
        .find(&start)
        .unwrap_or_else(|| panic!("no {start} in {body}"));
    let value = &body[at + attr.len() + 2..];
    &value[..value.find('"').unwrap()]
}

/// Whether `body` has an attribute such as ` onclick=` (inline code the policy blocks).
fn has_event_attribute(body: &str) -> bool {
    body.match_indices(" on").any(|(at, _)| {
        let rest = &body[at + 3..];
        let name = rest.bytes().take_while(u8::is_ascii_lowercase).count();
        name > 0 && rest[name..].starts_with('=')
    })
}

#[test]
fn pages_and_downloads_carry_security_headers_and_no_inline_code() {
    let s = Server::start(10, 2);
    let (cookie, csrf) = login(&s);
    let location = start_sync(&s, &cookie, &[("atl_token", &csrf)]);
    let id = location.rsplit('/').next().unwrap().to_string();
    let run = wait_for_page(&s, &cookie, &location);
    let pages = [
        ("login", call("GET", s.url(&format!("{PAGE}/login"))).send()),
        ("list", page(&s, &cookie, "")),
        ("chooser", page(&s, &cookie, "/connectors/new")),
        ("new", page(&s, &cookie, "/connectors/new?type=okta")),
        ("edit", page(&s, &cookie, "/connectors/okta")),
        ("run", run),
        ("not found", page(&s, &cookie, "/runs/999")),
        ("refused", post(&s, &cookie, "/connectors/okta/delete", &[])),
    ];
    let downloads = [
        page(&s, &cookie, &format!("/runs/{id}/changes.csv")),
        page(&s, &cookie, &format!("/runs/{id}/report.json")),
    ];
    let every = pages.iter().map(|(what, r)| (*what, r));
    for (what, r) in every.chain(downloads.iter().map(|d| ("download", d))) {
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("style-src 'self'"),
            "{what}: {csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{what}");
        assert_eq!(r.header("referrer-policy"), Some("same-origin"), "{what}");
        assert_eq!(r.header("cache-control"), Some("no-store"), "{what}");
    }
    for (what, r) in &pages {
        assert!(
            r.header("content-type").unwrap().starts_with("text/html"),
            "{what}"
        );
        // Scripts only from files, no inline style: what the policy allows.
        assert_eq!(
            r.body.matches("<script").count(),
            r.body
                .matches("<script src=\"/plugins/servlet/usersync/assets/")
                .count(),
            "{what}: {}",
            r.body
        );
        assert!(!r.body.contains(" style="), "{what}: {}", r.body);
        assert!(!has_event_attribute(&r.body), "{what}: {}", r.body);
    }

    // The assets: open (the login form needs them), with their type and a long cache.
    let login_page = &pages[0].1.body;
    for (href, content_type, sample) in [
        (
            attribute(login_page, "href", "/plugins/servlet/usersync/assets/"),
            "text/css; charset=utf-8",
            ".aui-header{",
        ),
        (
            attribute(login_page, "src", "/plugins/servlet/usersync/assets/"),
            "text/javascript; charset=utf-8",
            "'X-CSRF-Token': csrf",
        ),
    ] {
        assert!(href.contains("?v="), "versioned: {href}");
        let r = call("GET", s.url(href)).send();
        assert_eq!(r.status, 200, "{href}");
        assert_eq!(r.header("content-type"), Some(content_type), "{href}");
        assert_eq!(
            r.header("cache-control"),
            Some("public, max-age=31536000, immutable"),
            "{href}"
        );
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert!(r.body.contains(sample), "{href}");
    }
    let missing = call("GET", s.url(&format!("{PAGE}/assets/other.js"))).send();
    assert_ne!(missing.status, 200);
}
