//! A run of a million changes served by the real `usersync serve` (a child process):
//! ten clients downloading its report (JSON) or its changes (CSV) to the end at once, by
//! the REST API or the admin page, raise the server's memory by at most 100 MB, and every
//! download is complete and in apply order (#19 item 4). Linux only: the server's memory is read from
//! `/proc/<pid>/status`.
#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use usersync::model::report::FieldChange;
use usersync::model::{
    ChangeAction, ChangeEntry, RunKind, SyncCounts, SyncMode, SyncReport, Trigger,
};
use usersync::product::db::{Db, connectors, run_changes, runs};

const PASSWORD: &str = "a long enough admin password";
const USERS: usize = 100_000;
const MEMBERSHIPS: usize = 900_000;
const CHANGES: usize = USERS + MEMBERSHIPS;
const CLIENTS: usize = 10;
/// The issue's bar: what ten concurrent downloads may add to the server's memory.
const BOUND_KB: u64 = 100 * 1024;

/// The `n`th change of the run: a user created (with two fields) for each of the first
/// `USERS`, then memberships of those users in nine groups.
fn change(n: usize) -> ChangeEntry {
    if n < USERS {
        let field = |field: &str, new: String| FieldChange {
            field: field.into(),
            old: None,
            new: Some(new),
        };
        ChangeEntry {
            action: ChangeAction::CreateUser,
            target: format!("u{n}"),
            group: None,
            fields: vec![
                field("email", format!("u{n}@example.com")),
                field("display-name", format!("User {n}")),
            ],
        }
    } else {
        let m = n - USERS;
        ChangeEntry {
            action: ChangeAction::AddMembership,
            target: format!("u{}", m % USERS),
            group: Some(format!("g{}", m / USERS)),
            fields: Vec::new(),
        }
    }
}

/// The `n`th line of the CSV after its header.
fn csv_line(n: usize) -> String {
    if n < USERS {
        format!("create user,u{n},,email: ∅ → u{n}@example.com; display-name: ∅ → User {n}")
    } else {
        let m = n - USERS;
        format!("add membership,u{},g{},", m % USERS, m / USERS)
    }
}

fn report() -> SyncReport {
    SyncReport {
        mode: SyncMode::Full,
        mode_reason: None,
        deep_reconcile: false,
        dry_run: false,
        counts: SyncCounts {
            users_created: USERS as u32,
            memberships_added: MEMBERSHIPS as u32,
            ..SyncCounts::default()
        },
        changes: Vec::new(),
        plan_digest: String::new(),
        okta_users: USERS as u32,
        okta_groups: 9,
        requests: 1,
        writes: CHANGES as u32,
        fetch_ms: 0,
        plan_ms: 0,
        apply_ms: 0,
        warnings: Vec::new(),
        retries: 0,
        rate_limited: 0,
        scoped_token: false,
        seats_denied: Vec::new(),
    }
}

/// A database with connector `okta` (made by the CLI) and its run #1 of a million changes,
/// stored as a sync stores them (`run_changes::append`, in one transaction).
fn database(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("big.db");
    let token = dir.join("token");
    std::fs::write(&token, "big-run-token").unwrap();
    let args = [
        "usersync",
        "--db",
        db.to_str().unwrap(),
        "connector",
        "create",
        "--name",
        "okta",
        "--domain",
        "acme.okta.com",
        "--token-file",
        token.to_str().unwrap(),
    ];
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = usersync::surface::cli::run(args.map(String::from), &mut out, &mut err);
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));

    let db_handle = Db::open(&db).unwrap();
    let conn = db_handle.lock();
    let connector = connectors::by_name(&conn, "okta").unwrap().unwrap().id;
    let run = runs::start(
        &conn,
        connector,
        RunKind::Full,
        Trigger::Manual,
        false,
        "big-run-test",
    )
    .unwrap();
    assert_eq!(run, 1);
    conn.execute_batch("BEGIN").unwrap();
    for from in (0..CHANGES).step_by(10_000) {
        let batch: Vec<ChangeEntry> = (from..from + 10_000).map(change).collect();
        run_changes::append(&conn, run, from as u64, &batch).unwrap();
    }
    runs::finish_succeeded(&conn, run, RunKind::Full, &report()).unwrap();
    conn.execute_batch("COMMIT").unwrap();
    db
}

/// `usersync serve` on a free port, up and answering.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(dir: &Path, db: &Path) -> Server {
        use std::os::unix::fs::PermissionsExt;
        let pw = dir.join("admin.pw");
        std::fs::write(&pw, PASSWORD).unwrap();
        std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600)).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new(env!("CARGO_BIN_EXE_usersync"))
            .arg("--db")
            .arg(db)
            .args(["serve", "--check-every", "3600", "--listen", &addr])
            .arg("--admin-password-file")
            .arg(&pw)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("usersync serve starts");
        let server = Server { child, addr };
        let started = Instant::now();
        while get(&server, "/rest/usersync/1.0/connectors").is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "serve answers"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A line of the server's `/proc/<pid>/status`, in kB (`VmRSS`, `VmHWM`).
    fn memory_kb(&self, key: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
            .and_then(|v| v.trim().strip_suffix("kB")?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{key} in {status}"))
    }

    /// Start the peak (`VmHWM`) over from the memory in use now; false if the kernel
    /// refuses.
    fn reset_peak(&self) -> bool {
        std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5").is_ok()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// GET with the admin's Basic credential, the body to be read as it arrives.
fn get(s: &Server, path: &str) -> Result<http::Response<ureq::Body>, ureq::Error> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(900)))
        .build()
        .into();
    use base64::Engine;
    let credential = base64::engine::general_purpose::STANDARD.encode(format!("admin:{PASSWORD}"));
    let auth = format!("Basic {credential}");
    agent.get(s.url(path)).header("Authorization", auth).call()
}

/// The body of a 200 download of `path`, line by line, each with its `\r` if it has one.
fn download(s: &Server, path: &str, content_type: &str) -> impl Iterator<Item = String> {
    let resp = get(s, path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(resp.status(), 200, "{path}");
    let got = resp.headers()["content-type"].to_str().unwrap();
    assert_eq!(got, content_type, "{path}");
    assert!(
        resp.headers().get("content-length").is_none(),
        "{path} is streamed, not built whole"
    );
    BufReader::new(resp.into_body().into_reader())
        .split(b'\n')
        .map(|l| String::from_utf8(l.expect("the download reads to its end")).unwrap())
}

/// The CSV of every change, checked line by line: the header, then each change in order.
fn check_csv(s: &Server, path: &str) {
    let mut lines = download(s, path, "text/csv; charset=utf-8");
    assert_eq!(lines.next().unwrap(), "action,target,group,details\r");
    let mut n = 0;
    for line in lines {
        assert_eq!(
            line.strip_suffix('\r'),
            Some(csv_line(n).as_str()),
            "{path} line {n}"
        );
        n += 1;
    }
    assert_eq!(n, CHANGES, "{path}");
}

/// The report of the run, checked as it streams: each change's action, target and group
/// in order (one field a line, pretty), the counts, and the document's end.
fn check_json(s: &Server, path: &str) {
    let (mut n, mut counted, mut last) = (0, false, String::new());
    let mut want = change(0);
    for line in download(s, path, "application/json") {
        let field = |key: &str| line.strip_prefix(&format!("        \"{key}\": "));
        if let Some(v) = field("action") {
            want = change(n);
            assert_eq!(
                v,
                format!("\"{}\",", want.action.name()),
                "{path} change {n}"
            );
        } else if let Some(v) = field("target") {
            assert_eq!(v, format!("\"{}\",", want.target), "{path} change {n}");
        } else if let Some(v) = field("group") {
            let group = want
                .group
                .as_ref()
                .map_or("null".into(), |g| format!("\"{g}\""));
            assert_eq!(v, format!("{group},"), "{path} change {n}");
            n += 1;
        }
        counted |= line == format!("      \"usersCreated\": {USERS},");
        last = line;
    }
    assert_eq!(n, CHANGES, "{path}");
    assert!(counted, "{path} has the counts");
    assert_eq!(last, "}", "{path} ends");
}

#[test]
fn ten_downloads_of_a_million_changes_hold_the_servers_memory_under_100_mb() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path());
    let server = Server::start(dir.path(), &db);
    // A first answer (its runtime warmed up), then the memory before the downloads.
    let resp = get(&server, "/rest/usersync/1.0/runs/1?limit=1").unwrap();
    assert_eq!(resp.status(), 200);
    let reset = server.reset_peak();
    let before = server.memory_kb("VmRSS");

    let peak = std::sync::atomic::AtomicU64::new(before);
    let done = std::sync::atomic::AtomicBool::new(false);
    let started = Instant::now();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            use std::sync::atomic::Ordering;
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(server.memory_kb("VmRSS"), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let clients: Vec<_> = (0..CLIENTS)
            .map(|i| {
                let server = &server;
                scope.spawn(move || {
                    // Half of them the JSON, half the CSV; each half through both the
                    // REST API and the admin page.
                    let base = ["/rest/usersync/1.0", "/plugins/servlet/usersync"][i / 2 % 2];
                    match i % 2 {
                        0 => check_json(server, &format!("{base}/runs/1/report.json")),
                        _ => check_csv(server, &format!("{base}/runs/1/changes.csv")),
                    }
                })
            })
            .collect();
        let ended: Vec<_> = clients.into_iter().map(|c| c.join()).collect();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        for e in ended {
            e.expect("a client's downloads are complete and in order");
        }
    });
    let sampled = peak.into_inner();
    let hwm = server.memory_kb("VmHWM");
    let peak_kb = if reset { hwm.max(sampled) } else { sampled };
    let grown = peak_kb.saturating_sub(before);
    eprintln!(
        "{CLIENTS} clients downloading report.json or changes.csv of {CHANGES} changes in {:.1} s: \
         VmRSS {before} kB before, peak {peak_kb} kB (VmHWM {hwm} kB{}, sampled {sampled} kB): +{grown} kB",
        started.elapsed().as_secs_f64(),
        if reset {
            ", reset before"
        } else {
            ", not reset: lifetime peak"
        }
    );
    assert!(
        grown <= BOUND_KB,
        "ten downloads raised the server's memory by {grown} kB (bound {BOUND_KB} kB)"
    );
    // The server still answers, and its paged answer says how many changes there are.
    let mut resp = get(&server, "/rest/usersync/1.0/runs/1?limit=1").unwrap();
    let mut body = String::new();
    resp.body_mut()
        .as_reader()
        .read_to_string(&mut body)
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["changes"]["total"], CHANGES);
}
