//! The API token never leaks. A recognisable token (the only one the simulator accepts)
//! goes through every surface the harness has: each CLI command in process (text and
//! `--json`), syncs that fail every way (revoked token, 500s, malformed JSON, a `next`
//! link to another host, invalid settings), `Debug` and `Display` of the harness types
//! and errors, the tracing log of the real binary at trace level, the export, the run
//! reports and logs in the database, the stored config, and the raw bytes of the
//! database file and its WAL (before and after a checkpoint; as text, hex and base64):
//! the `secrets` table holds it encrypted, and the database file is readable by its owner
//! only. The plugin never holds it: the host adds it to every request to the connector's
//! Okta host.

use okta_sim::{Fault, FaultKind, GenSpec, Org, SimConfig, Simulator};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::process::Command;
use usersync::model::{ConnectorPatch, RunStatus, TokenText};
use usersync::{Harness, SyncRequest};

const SECRET: &str = "SECRET-TOKEN-abc123XYZ";
const DOMAIN: &str = "acme.okta.com";

struct World {
    sim: Simulator,
    dir: tempfile::TempDir,
    /// Every output seen, labelled.
    seen: Vec<(String, String)>,
}

impl World {
    fn new() -> World {
        let org = Org::generate(&GenSpec {
            users: 60,
            groups: 4,
            memberships_per_user: 2,
            seed: 5,
        });
        let sim = Simulator::start(
            org,
            SimConfig {
                tokens: vec![SECRET.into()],
                // Pages of 25: the users list has `next` links to follow (or to spoof).
                max_users_limit: 25,
                ..SimConfig::default()
            },
        );
        let dir = tempfile::tempdir().unwrap();
        // Pasted with the scheme prefix and a newline, as admins do.
        std::fs::write(dir.path().join("token"), format!("SSWS {SECRET}\n")).unwrap();
        World {
            sim,
            dir,
            seen: Vec::new(),
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("usersync.db")
    }

    fn base_args(&self) -> Vec<String> {
        vec![
            "--db".into(),
            self.db().display().to_string(),
            "--resolve".into(),
            format!("{DOMAIN}={}", self.sim.addr()),
        ]
    }

    fn expand(&self, args: &[&str]) -> Vec<String> {
        let token = self.dir.path().join("token").display().to_string();
        let export = self.dir.path().join("export.json").display().to_string();
        args.iter()
            .map(|a| {
                a.replace("TOKEN_FILE", &token)
                    .replace("EXPORT_FILE", &export)
            })
            .collect()
    }

    /// Run the CLI in process; keep both outputs; return the exit code and stdout.
    fn cli(&mut self, args: &[&str]) -> (i32, String) {
        let mut argv = vec!["usersync".to_string()];
        argv.extend(self.base_args());
        argv.extend(self.expand(args));
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = usersync::surface::cli::run(argv, &mut out, &mut err);
        let (out, err) = (
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
        );
        self.seen
            .push((format!("cli {args:?} stdout"), out.clone()));
        self.seen.push((format!("cli {args:?} stderr"), err));
        (code, out)
    }

    fn ok(&mut self, args: &[&str]) -> String {
        let (code, out) = self.cli(args);
        let err = &self.seen.last().unwrap().1;
        assert_eq!(code, 0, "{args:?}: {err}");
        out
    }

    fn fails(&mut self, args: &[&str]) {
        let (code, _) = self.cli(args);
        assert_ne!(code, 0, "{args:?} should fail");
    }

    /// Run the real binary with the tracing log at trace level; keep stdout and stderr.
    fn binary(&mut self, args: &[&str]) -> i32 {
        let out = Command::new(env!("CARGO_BIN_EXE_usersync"))
            .args(self.base_args())
            .args(self.expand(args))
            .env("USERSYNC_LOG", "trace")
            .env_remove("OKTA_CLIENT_TOKEN")
            .output()
            .expect("usersync runs");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !stderr.is_empty() || args.contains(&"--version"),
            "trace logging is on"
        );
        self.seen.push((
            format!("binary {args:?} stdout"),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        ));
        self.seen.push((format!("binary {args:?} stderr"), stderr));
        out.status.code().unwrap_or(-1)
    }

    /// The login of an active Okta user.
    fn active_login(&self) -> String {
        self.sim.with_org(|o| o.first_active_login().unwrap())
    }

    fn keep(&mut self, label: &str, text: String) {
        self.seen.push((label.to_string(), text));
    }

    fn fault(&self, prefix: &str, kind: FaultKind) {
        self.sim.clear_faults();
        self.sim.add_fault(Fault {
            path_prefix: prefix.into(),
            nth: 1,
            times: 1000,
            kind,
        });
    }
}

/// Every row of every table but `secrets`, as text.
fn database_text(db: &Path) -> Vec<(String, String)> {
    let conn = Connection::open(db).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut out = Vec::new();
    for t in tables.iter().filter(|t| *t != "secrets") {
        let mut st = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = st.column_count();
        let rows: Vec<String> = st
            .query_map([], |r| {
                (0..n)
                    .map(|i| {
                        r.get::<_, rusqlite::types::Value>(i).map(|v| match v {
                            rusqlite::types::Value::Text(s) => s,
                            rusqlite::types::Value::Blob(b) => {
                                String::from_utf8_lossy(&b).into_owned()
                            }
                            other => format!("{other:?}"),
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(|c| c.join(" | "))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        out.push((format!("table {t}"), rows.join("\n")));
    }
    out
}

const ADMIN_PASSWORD: &str = "correct horse battery staple";

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = c
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One HTTP/1.1 exchange with the admin's Basic credential; the whole raw response
/// (status line, headers, body) as text.
fn http(addr: &str, method: &str, path: &str, json: Option<&str>) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(120)))
        .unwrap();
    let body = json.unwrap_or("");
    let auth = base64(format!("admin:{ADMIN_PASSWORD}").as_bytes());
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic {auth}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    String::from_utf8_lossy(&raw).into_owned()
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// The token as it could appear in a file: as text, hex and base64 (standard and
/// URL-safe, at each of the three offsets a longer base64 text could start it at; the
/// characters mixed with neighbouring bytes left out).
fn encoded_forms(secret: &str) -> Vec<String> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    let b = secret.as_bytes();
    let mut forms = vec![secret.to_string(), hex::encode(b), hex::encode_upper(b)];
    for skip in 0..3 {
        let whole = (b.len() - skip) / 3 * 4;
        for engine in [STANDARD, URL_SAFE] {
            forms.push(engine.encode(&b[skip..])[..whole].to_string());
        }
    }
    forms
}

/// The raw bytes of the database file and its WAL, labelled.
fn database_files(db: &Path, when: &str) -> Vec<(String, Vec<u8>)> {
    [db.to_path_buf(), db.with_extension("db-wal")]
        .into_iter()
        .filter(|p| p.exists())
        .map(|p| {
            (
                format!("{} {when}", p.display()),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_token_appears_nowhere_in_any_output_nor_in_the_database_files() {
    let mut w = World::new();

    // ---- every CLI command, text and JSON
    w.ok(&[
        "connector",
        "create",
        "--name",
        "Okta",
        "--domain",
        DOMAIN,
        "--token-file",
        "TOKEN_FILE",
        "--attribute",
        "department",
    ]);
    for json in [false, true] {
        let j: &[&str] = if json { &["--json"] } else { &[] };
        let with = |args: &[&'static str]| [j, args].concat();
        w.ok(&with(&["connector", "list"]));
        w.ok(&with(&["connector", "show", "Okta"]));
        w.ok(&with(&["connector", "test", "Okta"]));
        w.ok(&with(&["sync", "Okta", "--dry-run"]));
        w.ok(&with(&["sync", "Okta"]));
        w.ok(&with(&["runs"]));
        w.ok(&with(&["runs", "Okta"]));
    }
    let login = w.active_login();
    w.ok(&["sync-user", "Okta", &login]);
    w.ok(&["--json", "sync-user", "Okta", &login]);
    w.ok(&["sync-user", "Okta", "nobody@example.com"]);
    w.ok(&[
        "connector",
        "edit",
        "Okta",
        "--schedule",
        "*/30 * * * *",
        "--schedule-enabled",
        "true",
    ]);
    w.ok(&["connector", "edit", "Okta", "--token-file", "TOKEN_FILE"]);
    w.fails(&[
        "connector",
        "edit",
        "Okta",
        "--domain",
        "http://acme.okta.com",
    ]);
    w.fails(&[
        "connector",
        "create",
        "--name",
        "Okta",
        "--domain",
        DOMAIN,
        "--token-file",
        "TOKEN_FILE",
    ]);
    w.fails(&[
        "connector",
        "create",
        "--name",
        "Other",
        "--domain",
        "acme-admin.okta.com",
        "--token-file",
        "TOKEN_FILE",
    ]);
    w.ok(&["export"]);
    w.ok(&["--json", "export"]);
    w.ok(&["export", "-o", "EXPORT_FILE"]);
    let exported = std::fs::read_to_string(w.dir.path().join("export.json")).unwrap();
    w.keep("export file", exported);

    // ---- failing syncs, every way
    let failures: [(&str, FaultKind); 5] = [
        ("/api/v1/users", FaultKind::RevokedToken),
        ("/api/v1/groups", FaultKind::RevokedToken),
        ("/api/v1/users", FaultKind::Status(500)),
        ("/api/v1/users", FaultKind::MalformedJson),
        (
            "/api/v1/users",
            FaultKind::NextToForeignHost(format!("https://evil.example.com/{SECRET}")),
        ),
    ];
    for (prefix, kind) in failures {
        // 500s and bad bodies are retried with backoff: one sync each is enough.
        let retried = matches!(kind, FaultKind::Status(_) | FaultKind::MalformedJson);
        w.fault(prefix, kind);
        w.fails(&["sync", "Okta"]);
        if !retried {
            w.fails(&["--json", "sync", "Okta"]);
            // These read less than a sync (one page, one user): they fail under some
            // of the faults only; their output is kept either way.
            w.cli(&["connector", "test", "Okta"]);
            w.cli(&["--json", "connector", "test", "Okta"]);
            w.cli(&["sync-user", "Okta", &login]);
        }
    }
    w.sim.clear_faults();

    // Run logs, text and JSON, of every run.
    let runs: serde_json::Value = serde_json::from_str(&w.ok(&["--json", "runs"])).unwrap();
    let ids: Vec<String> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].to_string())
        .collect();
    assert!(ids.len() >= 10, "{ids:?}");
    for id in &ids {
        w.ok(&["log", id]);
        w.ok(&["--json", "log", id]);
    }

    // ---- the real binary, tracing at trace level (every crate)
    assert_eq!(w.binary(&["sync", "Okta"]), 0);
    assert_eq!(w.binary(&["connector", "test", "Okta"]), 0);
    assert_eq!(w.binary(&["sync-user", "Okta", &login]), 0);
    w.fault("/api/v1/users", FaultKind::RevokedToken);
    assert_eq!(w.binary(&["sync", "Okta"]), 1);
    w.fault(
        "/api/v1/users",
        FaultKind::NextToForeignHost("https://evil.example.com".into()),
    );
    assert_eq!(w.binary(&["sync", "Okta"]), 1);
    w.sim.clear_faults();

    // ---- the library: Debug and Display of inputs, results and errors
    let h = library(&w);
    let input = ConnectorPatch {
        name: Some("Lib".into()),
        okta_domain: Some(DOMAIN.into()),
        api_token: Some(TokenText(SECRET.into())),
        ..Default::default()
    };
    w.keep("Debug ConnectorPatch", format!("{input:?} {input:#?}"));
    let view = h.create_connector(&input).unwrap();
    w.keep("Debug ConnectorView", format!("{view:?}"));
    w.keep(
        "Serialize ConnectorView",
        serde_json::to_string(&view).unwrap(),
    );
    let outcome = h.sync("Lib", SyncRequest::default()).unwrap();
    w.keep(
        "Debug SyncOutcome",
        format!("{outcome:?} {}", serde_json::to_string(&outcome).unwrap()),
    );
    let info = h.test_connection("Lib").unwrap();
    w.keep("Debug ConnectionInfo", format!("{info:?}"));
    let user = h.sync_user("Lib", &login).unwrap();
    w.keep("Debug UserSyncReport", format!("{user:?}"));
    w.fault("/api/v1/", FaultKind::RevokedToken);
    for e in [
        h.sync("Lib", SyncRequest::default()).unwrap_err(),
        h.test_connection("Lib").unwrap_err(),
        h.sync_user("Lib", &login).unwrap_err(),
    ] {
        w.keep("library error", format!("{e} {e:?}"));
    }
    w.sim.clear_faults();
    let bad = ConnectorPatch {
        okta_domain: Some("http://x".into()),
        ..input.clone()
    };
    let e = h.update_connector("Lib", &bad).unwrap_err();
    w.keep("update error", format!("{e} {e:?}"));
    w.keep("Debug connectors", format!("{:?}", h.connectors().unwrap()));

    // ---- the REST API and the admin page of `usersync serve`
    let server = usersync::surface::web::WebServer::start(
        h.clone(),
        usersync::surface::web::WebConfig {
            admin_user: "admin".into(),
            admin_password: usersync::surface::web::auth::Password::new(ADMIN_PASSWORD).unwrap(),
            throttle: Default::default(),
        },
        "127.0.0.1:0",
    )
    .unwrap();
    let addr = server.url().trim_start_matches("http://").to_string();
    let rest = "/rest/usersync/1.0";
    let page = h.product().admin_path;
    let created = http(
        &addr,
        "POST",
        &format!("{rest}/connectors"),
        Some(&format!(
            r#"{{"name":"Rest","oktaDomain":"{DOMAIN}","apiToken":"{SECRET}"}}"#
        )),
    );
    assert!(created.starts_with("HTTP/1.1 201"), "{created}");
    w.keep("REST create", created);
    let calls: Vec<(&str, String, Option<String>)> = vec![
        ("GET", format!("{rest}/connectors"), None),
        ("GET", format!("{rest}/connectors/Rest"), None),
        (
            "PUT",
            format!("{rest}/connectors/Rest"),
            Some(format!(
                r#"{{"apiToken":"SSWS {SECRET}","schedule":"@daily"}}"#
            )),
        ),
        (
            "PUT",
            format!("{rest}/connectors/Rest"),
            Some(format!(
                r#"{{"apiToken":"{SECRET} x","oktaDomain":"http://x"}}"#
            )),
        ),
        (
            "POST",
            format!("{rest}/connectors"),
            Some(format!(
                r#"{{"name":"Rest","oktaDomain":"{DOMAIN}","apiToken":"{SECRET}"}}"#
            )),
        ),
        ("POST", format!("{rest}/connectors/Rest/test"), None),
        (
            "POST",
            format!("{rest}/connectors/Rest/sync-user"),
            Some(format!(r#"{{"login":"{login}"}}"#)),
        ),
        ("POST", format!("{rest}/connectors/Rest/sync"), None),
        ("GET", format!("{rest}/runs"), None),
        ("GET", format!("{rest}/export"), None),
        ("GET", page.to_string(), None),
        ("GET", format!("{page}/connectors/Rest"), None),
        ("GET", format!("{page}/connectors/Okta"), None),
        ("GET", format!("{page}/connectors/new"), None),
    ];
    let mut statuses = Vec::new();
    for (method, path, body) in &calls {
        let r = http(&addr, method, path, body.as_deref());
        let status = r.get(9..12).unwrap_or("").to_string();
        if *method == "GET" {
            assert_eq!(status, "200", "GET {path}: {r}");
        }
        statuses.push(status);
        w.keep(&format!("web {method} {path}"), r);
    }
    // Saved, refused (bad token, then duplicate name), tested, user synced, sync started.
    assert_eq!(statuses[2..8], ["200", "400", "409", "200", "200", "202"]);
    // Every run through the REST API and the page (report, changes, log), once the
    // background sync is done.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while h
        .runs(None, 100)
        .unwrap()
        .iter()
        .any(|r| r.status == RunStatus::Running)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the REST sync finishes"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    for id in h.runs(None, 100).unwrap().iter().map(|r| r.id) {
        for path in [
            format!("{rest}/runs/{id}"),
            format!("{page}/runs/{id}"),
            format!("{page}/runs/{id}/report.json"),
            format!("{page}/runs/{id}/changes.csv"),
        ] {
            let r = http(&addr, "GET", &path, None);
            assert!(r.starts_with("HTTP/1.1 200"), "GET {path}: {r}");
            w.keep(&format!("web GET {path}"), r);
        }
    }
    // ---- the database files as they are on disk, with the WAL of the open harness,
    // then after a checkpoint
    let mut files = database_files(&w.db(), "before a checkpoint");
    assert!(
        files.len() == 2 && files[1].1.len() > 4096,
        "the WAL holds pages"
    );
    drop(server);
    drop(h);
    let conn = Connection::open(w.db()).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    files.extend(database_files(&w.db(), "after a checkpoint"));

    // ---- the database: the `secrets` table holds it encrypted
    w.seen.extend(database_text(&w.db()));
    let stored: Vec<String> = conn
        .prepare("SELECT secret FROM secrets")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(stored.len(), 3, "{stored:?}");
    for (i, value) in stored.iter().enumerate() {
        assert!(value.starts_with("v1:"), "encrypted: {value}");
        assert!(!stored[..i].contains(value), "a nonce for each value");
    }
    w.seen.push(("table secrets".into(), stored.join("\n")));
    let forms = encoded_forms(SECRET);
    let in_files: Vec<(&str, &str)> = files
        .iter()
        .flat_map(|(label, bytes)| {
            forms
                .iter()
                .filter(|f| bytes.windows(f.len()).any(|w| w == f.as_bytes()))
                .map(move |f| (label.as_str(), f.as_str()))
        })
        .collect();
    assert!(
        in_files.is_empty(),
        "the token is in the files: {in_files:?}"
    );

    // The test means something: the token did travel, and was checked everywhere.
    let sent = w
        .sim
        .requests()
        .iter()
        .filter(|r| r.authorization.as_deref() == Some(&format!("SSWS {SECRET}")))
        .count();
    assert!(sent > 50, "the token was used: {sent} requests");
    assert!(w.seen.len() > 100, "{} outputs", w.seen.len());
    let leaks: Vec<&str> = w
        .seen
        .iter()
        .filter(|(_, text)| text.contains(SECRET) || text.contains("abc123XYZ"))
        .map(|(label, _)| label.as_str())
        .collect();
    assert!(leaks.is_empty(), "the token leaked in: {leaks:#?}");
    // Nor the key that encrypts it (base64 in its file; hex), in any output.
    use base64::Engine as _;
    let key_text = std::fs::read_to_string(w.db().with_extension("db.key")).unwrap();
    let key = base64::engine::general_purpose::STANDARD
        .decode(key_text.trim())
        .unwrap();
    let key_forms = [key_text.trim().to_string(), hex::encode(&key)];
    let key_leaks: Vec<&str> = w
        .seen
        .iter()
        .filter(|(_, text)| key_forms.iter().any(|k| text.contains(&k[..24])))
        .map(|(label, _)| label.as_str())
        .collect();
    assert!(key_leaks.is_empty(), "the key leaked in: {key_leaks:#?}");

    // ---- the file: owner only
    #[cfg(unix)]
    for p in [
        w.db(),
        w.db().with_extension("db-wal"),
        w.db().with_extension("db-shm"),
    ] {
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{}", p.display());
        }
    }
}

/// A database created by the binary itself (a fresh file, then its WAL) is 0600 too.
#[cfg(unix)]
#[test]
fn a_new_database_and_its_wal_are_owner_only() {
    let mut w = World::new();
    w.ok(&[
        "connector",
        "create",
        "--name",
        "Okta",
        "--domain",
        DOMAIN,
        "--token-file",
        "TOKEN_FILE",
    ]);
    // While a connection is open, the WAL and shared-memory files exist.
    let conn = Connection::open(w.db()).unwrap();
    conn.query_row("SELECT count(*) FROM secrets", [], |r| r.get::<_, i64>(0))
        .unwrap();
    for p in [
        w.db(),
        w.db().with_extension("db-wal"),
        w.db().with_extension("db-shm"),
    ] {
        assert!(p.exists(), "{}", p.display());
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
}

/// The harness over the world's database, its Okta domain sent to the simulator.
fn library(w: &World) -> Harness {
    let mut resolve = usersync::host::http::Resolve::default();
    resolve.insert(DOMAIN, w.sim.addr());
    let options = usersync::Options {
        resolve,
        ..Default::default()
    };
    Harness::open(&w.db(), options).unwrap()
}

/// The plugin sends no credential: every request of every kind of call reaches Okta with
/// exactly the `Authorization` the host adds, the normalized token of the connector.
#[test]
fn every_request_of_every_call_carries_exactly_the_host_token() {
    let w = World::new();
    let h = library(&w);
    let pasted = ConnectorPatch {
        name: Some("Lib".into()),
        okta_domain: Some(DOMAIN.into()),
        api_token: Some(TokenText(format!(" ssws {SECRET}\n"))),
        ..Default::default()
    };
    h.create_connector(&pasted).unwrap();
    let login = w.active_login();
    let expected = format!("SSWS {SECRET}");
    let mut checked = 0;
    let mut check = |call: &str| {
        let seen = w.sim.requests();
        let new = &seen[checked..];
        assert!(!new.is_empty(), "{call} made requests");
        for r in new {
            assert_eq!(
                r.authorization.as_deref(),
                Some(expected.as_str()),
                "{call}: {} {}",
                r.method,
                r.path
            );
            assert_eq!(r.status, 200, "{call}: {} {}", r.method, r.path);
        }
        checked = seen.len();
        new.iter().map(|r| r.path.clone()).collect::<Vec<_>>()
    };

    h.test_connection("Lib").unwrap();
    check("connection test");
    let full = h.sync("Lib", SyncRequest::default()).unwrap();
    assert!(full.report.counts.users_created > 0);
    let paths = check("full sync");
    // The group members come through the plugin's own wasi:http fan-out.
    assert!(
        paths
            .iter()
            .any(|p| p.starts_with("/api/v1/groups/") && p.ends_with("/users")),
        "{paths:?}"
    );
    let dry = SyncRequest {
        dry_run: true,
        ..Default::default()
    };
    h.sync("Lib", dry).unwrap();
    check("dry run");
    let incremental = SyncRequest {
        incremental: true,
        ..Default::default()
    };
    h.sync("Lib", incremental).unwrap();
    check("incremental sync");
    assert!(h.sync_user("Lib", &login).unwrap().found);
    check("login sync");
    // The admin page's Test connection: the stored token, then one typed in.
    let untyped = ConnectorPatch {
        api_token: None,
        ..pasted.clone()
    };
    h.test_settings(Some("Lib"), &untyped).unwrap();
    check("settings test with the stored token");
    h.test_settings(None, &pasted).unwrap();
    check("settings test with a typed token");
}

/// The host's state of a call and its inputs hold the token (the plugin does not), and
/// none of them shows it.
#[test]
fn the_host_state_of_a_call_masks_the_token_in_debug() {
    use usersync::host::http::{Credential, HttpPolicy, OktaAccess, Resolve};
    use usersync::host::oauth::{AppSettings, ClientKey, ServiceApp};
    use usersync::host::token::ApiToken;
    use usersync::host::{CallScope, HostState};

    let w = World::new();
    let token = ApiToken::parse(&format!("SSWS {SECRET}")).unwrap();
    assert_eq!(token.expose(), SECRET, "the real token is inside");
    let policy = HttpPolicy::new(
        Some(OktaAccess::new(DOMAIN, Credential::ApiToken(token.clone()))),
        Resolve::default(),
    );
    // A service app's private key: its PEM body must not show either.
    let key = ClientKey::generate();
    let pem_body = key.expose().lines().nth(1).unwrap().to_string();
    let app = AppSettings {
        client_id: "0oaApp".into(),
        key_id: None,
        scopes: vec!["okta.users.read".into()],
        dpop: true,
    };
    let session = std::sync::Arc::new(ServiceApp::new(DOMAIN, app, key.clone()));
    let app_policy = HttpPolicy::new(
        Some(OktaAccess::new(DOMAIN, Credential::ServiceApp(session))),
        Resolve::default(),
    );
    let app_input = ConnectorPatch {
        private_key: Some(TokenText(key.expose().into())),
        ..Default::default()
    };
    for (what, shown) in [
        ("ClientKey", format!("{key:?} {key:#?} {key}")),
        (
            "HttpPolicy of a service app",
            format!("{app_policy:?} {app_policy:#?}"),
        ),
        (
            "ConnectorPatch with a key",
            format!("{app_input:?} {app_input:#?}"),
        ),
    ] {
        assert!(shown.contains("********"), "{what}: {shown}");
        assert!(
            !shown.contains(&pem_body) && !shown.contains("PRIVATE KEY"),
            "{what}: {shown}"
        );
    }
    let db = usersync::product::db::Db::open(&w.db()).unwrap();
    let state = HostState::new(db, policy, CallScope::default(), Default::default());
    let input = ConnectorPatch {
        api_token: Some(TokenText(SECRET.into())),
        ..Default::default()
    };
    for (what, shown) in [
        ("ApiToken", format!("{token:?} {token:#?} {token}")),
        ("HostState", format!("{state:?} {state:#?}")),
        ("ConnectorPatch", format!("{input:?} {input:#?}")),
    ] {
        assert!(shown.contains("********"), "{what}: {shown}");
        assert!(
            !shown.contains(SECRET) && !shown.contains("abc123XYZ"),
            "{what}: {shown}"
        );
    }
    assert!(format!("{state:?}").contains(DOMAIN), "the policy is shown");
}
