//! Crash safety with a real process: `usersync sync` of a 20,000-user org is killed with
//! SIGKILL while it applies the sync (its write transaction is open), then:
//!
//! - the database is consistent (`PRAGMA integrity_check`, `foreign_key_check`) and holds
//!   all of the sync or none of it (SQLite's WAL rolls back the open transaction);
//! - the interrupted run is marked failed when the harness next opens the database;
//! - the next sync converges to Okta's state.
//!
//! And a live sync of a real `usersync sync` child (slowed by the simulator) is owned by
//! it: another process listing runs leaves it `running`, and a second sync of the
//! connector is refused naming the child's process. Of two real `usersync serve` on one
//! database the second stands by, saying why, and takes the schedules over once the
//! first is killed.

use okta_sim::{Fault, FaultKind, GenSpec, GroupType, Org, SimConfig, Simulator};
use rusqlite::{Connection, ErrorCode};
use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const DOMAIN: &str = "acme.okta.com";

/// The tests of this file run one at a time: run beside the others (a 20,000-user sync
/// killed mid-apply, a live sync held open), the standby `serve` was seen not to take
/// over within 60 s, 2 runs in 5, for a cause not yet found (see the #19 note). One at a
/// time, each shows what it is about.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn org() -> Org {
    Org::generate(&GenSpec {
        users: 20_000,
        groups: 60,
        memberships_per_user: 3,
        seed: 11,
    })
}

/// Run the CLI in process; panics unless it succeeds.
fn cli(db: &Path, sim: &Simulator, args: &[&str]) -> String {
    let (code, out, err) = cli_status(db, sim, args);
    assert_eq!(code, 0, "{args:?}: {err}");
    out
}

/// Run the CLI in process: its exit code, standard output and standard error.
fn cli_status(db: &Path, sim: &Simulator, args: &[&str]) -> (i32, String, String) {
    let mut argv: Vec<String> = vec![
        "usersync".into(),
        "--db".into(),
        db.display().to_string(),
        "--resolve".into(),
        format!("{DOMAIN}={}", sim.addr()),
        // Bamboo has no default groups: the store must equal Okta alone.
        "--product".into(),
        "bamboo".into(),
    ];
    argv.extend(args.iter().map(|s| s.to_string()));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = usersync::surface::cli::run(argv, &mut out, &mut err);
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (code, text(out), text(err))
}

/// Users, groups and memberships of the connector's directory.
#[derive(Debug, PartialEq, Eq)]
struct Content {
    users: BTreeSet<(String, String, bool)>,
    groups: BTreeSet<String>,
    memberships: BTreeSet<(String, String)>,
}

fn content(conn: &Connection) -> Content {
    let dir: i64 = conn
        .query_row(
            "SELECT directory_id FROM connectors WHERE name = 'okta'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let mut st = conn
        .prepare("SELECT okta_id, username, active FROM users WHERE directory_id = ?1")
        .unwrap();
    let users = st
        .query_map([dir], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut st = conn
        .prepare("SELECT name FROM groups WHERE directory_id = ?1")
        .unwrap();
    let groups = st
        .query_map([dir], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut st = conn
        .prepare(
            "SELECT u.username, g.name FROM memberships m JOIN users u ON u.key = m.user_key \
             JOIN groups g ON g.id = m.group_id WHERE g.directory_id = ?1",
        )
        .unwrap();
    let memberships = st
        .query_map([dir], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    Content {
        users,
        groups,
        memberships,
    }
}

/// What a first sync of `org` must produce.
fn projection(org: &Org) -> Content {
    let active = |s: &str| matches!(s, "ACTIVE" | "PASSWORD_EXPIRED" | "LOCKED_OUT" | "RECOVERY");
    let name: HashMap<&str, String> = org
        .users
        .iter()
        .filter(|u| active(&u.status))
        .map(|u| {
            (
                u.id.as_str(),
                u.profile["login"].as_str().unwrap().to_lowercase(),
            )
        })
        .collect();
    let synced = org
        .groups
        .iter()
        .filter(|g| g.group_type != GroupType::BuiltIn);
    Content {
        users: name
            .iter()
            .map(|(id, n)| (id.to_string(), n.clone(), true))
            .collect(),
        groups: synced.clone().map(|g| g.name.clone()).collect(),
        memberships: synced
            .flat_map(|g| {
                g.members
                    .iter()
                    .filter_map(|m| name.get(m.as_str()))
                    .map(|n| (n.clone(), g.name.clone()))
            })
            .collect(),
    }
}

/// Whether another process holds the database's write lock right now.
fn write_locked(probe: &Connection) -> bool {
    match probe.execute_batch("BEGIN IMMEDIATE") {
        Ok(()) => {
            probe.execute_batch("ROLLBACK").unwrap();
            false
        }
        Err(e) if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy) => true,
        Err(e) => panic!("probing the lock: {e}"),
    }
}

/// How one attempt ended.
enum Outcome {
    /// Killed while the apply transaction was open.
    KilledMidApply,
    /// The child finished before the kill.
    Finished,
}

/// Start `usersync sync okta`, wait until its apply transaction has held the write lock
/// for `hold`, kill it with SIGKILL.
fn sync_and_kill(db: &Path, sim: &Simulator, hold: Duration) -> Outcome {
    let mut child = Command::new(env!("CARGO_BIN_EXE_usersync"))
        .args(["--db", &db.display().to_string()])
        .args(["--resolve", &format!("{DOMAIN}={}", sim.addr())])
        .args(["--product", "bamboo"])
        .args(["sync", "okta"])
        .env("USERSYNC_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("usersync starts");
    let (tx, rx) = mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // The plugin logs this once every fetch succeeded; the plan and the apply follow.
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let line = rx
            .recv_timeout(deadline - Instant::now())
            .expect("the sync fetches Okta");
        if line.contains("fetched ") && line.contains("members") {
            break;
        }
    }
    let probe = Connection::open(db).unwrap();
    // Fail at once instead of waiting for the lock (rusqlite waits 5 s by default).
    probe.busy_timeout(Duration::ZERO).unwrap();
    let mut locked_since: Option<Instant> = None;
    let fetched = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "usersync failed");
            return Outcome::Finished;
        }
        if write_locked(&probe) {
            let since = *locked_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= hold {
                child.kill().unwrap(); // SIGKILL
                let status = child.wait().unwrap();
                assert!(!status.success());
                let wal = std::fs::metadata(db.with_extension("db-wal")).map_or(0, |m| m.len());
                eprintln!(
                    "killed {:?} after the fetch, the write lock held for {:?}; WAL {wal} bytes",
                    fetched.elapsed(),
                    since.elapsed()
                );
                return Outcome::KilledMidApply;
            }
        } else {
            locked_since = None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn sigkill_during_the_apply_leaves_a_consistent_store_and_the_next_sync_converges() {
    let _one = one_at_a_time();
    let org = org();
    let want = projection(&org);
    let sim = Simulator::start(org, SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), "test-token\n").unwrap();
    let token_file = dir.path().join("token").display().to_string();

    // The apply of 20,000 users and their memberships takes seconds; the kill comes
    // once the write transaction has been open for `hold`. Should a fast machine finish
    // first, try again on a fresh database, killing sooner.
    let mut killed = None;
    for (attempt, hold) in [200u64, 50, 10, 1].into_iter().enumerate() {
        let db = dir.path().join(format!("crash{attempt}.db"));
        create_connector(&db, &sim, &token_file);
        match sync_and_kill(&db, &sim, Duration::from_millis(hold)) {
            Outcome::KilledMidApply => {
                killed = Some(db);
                break;
            }
            Outcome::Finished => eprintln!("attempt {attempt}: the sync finished before the kill"),
        }
    }
    let db = killed.expect("one kill landed in the middle of the apply");

    // Consistent, and none of the interrupted sync (its transaction never committed).
    {
        let conn = Connection::open(&db).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let fk: i64 = conn
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(fk, 0);
        let c = content(&conn);
        assert!(
            (c.users.is_empty() && c.groups.is_empty() && c.memberships.is_empty()) || c == want,
            "all or nothing: {} users, {} groups, {} memberships",
            c.users.len(),
            c.groups.len(),
            c.memberships.len()
        );
        assert!(
            c.users.is_empty(),
            "killed before the commit: nothing applied"
        );
        let status: String = conn
            .query_row(
                "SELECT status FROM runs ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            status, "running",
            "the killed process could not finish its run"
        );
    }

    // The next sync (in process, through the CLI) marks the interrupted run failed and
    // converges to Okta's state.
    cli(&db, &sim, &["sync", "okta"]);
    let conn = Connection::open(&db).unwrap();
    assert_eq!(content(&conn), want);
    let runs: Vec<(String, Option<String>)> = conn
        .prepare("SELECT status, error FROM runs ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].0, "failed");
    assert!(
        runs[0].1.as_deref().unwrap().starts_with("interrupted"),
        "{runs:?}"
    );
    assert_eq!(runs[1], ("succeeded".to_string(), None));
    // And once more: nothing left to do.
    let again = cli(&db, &sim, &["--json", "sync", "okta"]);
    let v: serde_json::Value = serde_json::from_str(&again).unwrap();
    assert_eq!(v["report"]["writes"], 0, "{again}");
}

/// `usersync connector create` of the connector `okta` on `db`.
fn create_connector(db: &Path, sim: &Simulator, token_file: &str) {
    cli(
        db,
        sim,
        &[
            "connector",
            "create",
            "--name",
            "okta",
            "--domain",
            DOMAIN,
            "--token-file",
            token_file,
        ],
    );
}

#[test]
fn a_live_sync_of_another_process_stays_running_and_a_second_sync_is_refused_naming_it() {
    let _one = one_at_a_time();
    let org = Org::generate(&GenSpec {
        users: 300,
        groups: 30,
        memberships_per_user: 2,
        seed: 5,
    });
    let sim = Simulator::start(org, SimConfig::default());
    // Every group's members answer after 400 ms: the child's sync is live for seconds.
    sim.add_fault(Fault {
        path_prefix: "/api/v1/groups/".into(),
        nth: 1,
        times: 10_000,
        kind: FaultKind::Delay(400),
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), "test-token\n").unwrap();
    let db = dir.path().join("live.db");
    create_connector(&db, &sim, &dir.path().join("token").display().to_string());

    let mut child = Command::new(env!("CARGO_BIN_EXE_usersync"))
        .args(["--db", &db.display().to_string()])
        .args(["--resolve", &format!("{DOMAIN}={}", sim.addr())])
        .args(["--product", "bamboo", "sync", "okta"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("usersync starts");
    let probe = Connection::open(&db).unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while probe
        .query_row(
            "SELECT count(*) FROM runs WHERE status = 'running'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
        == 0
    {
        assert!(Instant::now() < deadline, "the child's run starts");
        std::thread::sleep(Duration::from_millis(20));
    }

    // Another process opens the database and lists runs: the child's run is live.
    let listed: serde_json::Value =
        serde_json::from_str(&cli(&db, &sim, &["--json", "runs"])).unwrap();
    assert_eq!(listed[0]["status"], "running", "{listed}");
    let (code, _, err) = cli_status(&db, &sim, &["sync", "okta"]);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let refused = format!(
        "error: a sync of `okta` is already running in process {} on {} since ",
        child.id(),
        host.trim()
    );
    assert!(
        child.try_wait().unwrap().is_none(),
        "the child was still syncing"
    );
    assert_eq!(code, 4, "{err}");
    assert!(err.starts_with(&refused), "{err}");

    assert!(child.wait().unwrap().success(), "the child's sync succeeds");
    let runs: Vec<(String, Option<String>)> = probe
        .prepare("SELECT status, error FROM runs ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        runs,
        [("succeeded".to_string(), None)],
        "one run, never interrupted"
    );
}

/// A `usersync serve` child on `db` (any free port, schedules checked every second)
/// and its first line of output.
fn serve(db: &Path) -> (std::process::Child, String, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_usersync"))
        .args(["--db", &db.display().to_string(), "--product", "bamboo"])
        .args(["serve", "--listen", "127.0.0.1:0", "--check-every", "1"])
        .env("USERSYNC_ADMIN_PASSWORD", "a-long-test-admin-password")
        .env("USERSYNC_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("usersync serve starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, first, rx)
}

#[test]
fn a_second_serve_on_one_database_stands_by_and_takes_over_when_the_first_is_killed() {
    let _one = one_at_a_time();
    let sim = Simulator::start(Org::default(), SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), "test-token\n").unwrap();
    let db = dir.path().join("serve.db");
    create_connector(&db, &sim, &dir.path().join("token").display().to_string());

    let (mut first, said, _first_log) = serve(&db);
    assert!(
        said.contains("; scheduler running for 1 connectors (schedules in UTC);"),
        "{said}"
    );
    let (mut second, said, second_log) = serve(&db);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let standby = format!(
        "; scheduler standing by: the schedules of this database are run by another \
         `usersync serve` (process {} on {} since ",
        first.id(),
        host.trim()
    );
    assert!(said.contains(&standby), "{said}");

    first.kill().unwrap(); // SIGKILL: its lease is freed as its process is gone
    first.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    loop {
        let line = second_log
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|e| panic!("the second serve takes over ({e}); it said: {seen:#?}"));
        if line.contains("scheduler: took over the schedules of this database") {
            break;
        }
        seen.push(line);
    }
    second.kill().unwrap();
    second.wait().unwrap();
}
