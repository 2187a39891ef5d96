//! Atomic apply: the host store fails in the middle of applying a sync — a constraint
//! violation (a trigger refusing one username, or one membership), a full disk
//! (`PRAGMA max_page_count`), a database locked by another connection — and the store
//! is exactly as before the sync (directory tables, the user-key sequence, the sync
//! state), the run is recorded as failed with an error naming the store failure, and the
//! next sync, once the cause is gone, converges to Okta.

use integration::{
    CONNECTOR, DIRECTORY_TABLES, Env, dump, first_sync_projection, generated_org, runtime,
};
use okta_sim::{GroupType, SimConfig};
use serde_json::json;
use std::sync::{Arc, mpsc};
use std::time::Duration;
use usersync::host::Progress;
use usersync::model::SyncError;
use usersync::{HarnessError, Options, SyncRequest};

/// Everything a failed apply must leave as it was.
fn tables() -> Vec<&'static str> {
    let mut t = DIRECTORY_TABLES.to_vec();
    t.extend(["meta", "connector_state"]);
    t
}

fn sync(env: &Env) -> Result<usersync::harness::SyncOutcome, HarnessError> {
    env.harness.sync(CONNECTOR, SyncRequest::default())
}

/// The latest run of the test connector and its log; a failed run has no changes
/// (they were rolled back with its apply).
fn last_run(env: &Env) -> (usersync::product::db::runs::Run, String) {
    let run = env.harness.runs(Some(CONNECTOR), 1).unwrap().remove(0);
    if run.status == usersync::model::RunStatus::Failed {
        let changes = env.changes(run.id);
        assert!(
            changes.is_empty(),
            "a failed run keeps no changes: {changes:?}"
        );
    }
    let (_, log) = env.harness.run(run.id).unwrap();
    let log = log
        .iter()
        .map(|l| format!("{} {}", l.level, l.message))
        .collect::<Vec<_>>()
        .join("\n");
    (run, log)
}

/// The latest run failed with an error containing `needle`, `tables` are as `before`;
/// the run's log.
#[track_caller]
fn failed_without_writes(env: &Env, tables: &[&str], before: &[String], needle: &str) -> String {
    assert_eq!(dump(&env.harness, tables), before, "nothing written");
    let (run, log) = last_run(env);
    assert_eq!(run.status, usersync::model::RunStatus::Failed);
    let error = run.failure.map(|f| f.message).unwrap_or_default();
    assert!(
        error.contains(needle),
        "the run's error names {needle:?}: {error}"
    );
    log
}

/// The store error of a failed sync, its kind first (`conflict: …`, `store busy: …`,
/// `store failure: …`): the variant crossed the WIT as it was.
fn store_error(e: &HarnessError) -> String {
    match e {
        HarnessError::Sync(SyncError::Store(s)) => s.to_string(),
        other => panic!("expected a store error, got {other:?}"),
    }
}

/// `N` of the `change N of the apply` a store error names.
fn change_number(msg: &str) -> usize {
    let rest = msg.split("change ").nth(1).expect("names the change");
    rest.split(' ').next().unwrap().parse().expect("a number")
}

/// A login Okta has, in the middle of the first sync's creates.
fn middle_login(env: &Env) -> String {
    let org = env.sim.with_org(|o| o.clone());
    let p = first_sync_projection(&org);
    let users: Vec<_> = p.users.iter().collect();
    users[users.len() / 2].username.clone()
}

#[test]
fn a_constraint_violation_in_the_middle_of_the_first_sync_writes_nothing() {
    let env = Env::generated(1000, 20);
    let victim = middle_login(&env);
    env.harness
        .db()
        .lock()
        .execute_batch(&format!(
            "CREATE TRIGGER refuse_one BEFORE INSERT ON users WHEN NEW.username = '{victim}' \
             BEGIN SELECT RAISE(ABORT, 'test trigger refuses {victim}'); END;"
        ))
        .unwrap();
    let before = dump(&env.harness, &tables());

    let err = sync(&env).unwrap_err();
    let msg = &store_error(&err);
    assert!(
        msg.starts_with("conflict: "),
        "a constraint violation is a conflict: {msg}"
    );
    assert!(
        msg.contains(&format!("test trigger refuses {victim}")),
        "{msg}"
    );
    assert!(
        msg.contains("change "),
        "names the change that failed: {msg}"
    );
    assert!(err.to_string().ends_with("nothing was changed"), "{err}");
    assert_eq!(dump(&env.harness, &tables()), before, "nothing written");

    let (run, log) = last_run(&env);
    assert_eq!(run.status, usersync::model::RunStatus::Failed);
    let error = run.failure.unwrap().message;
    assert!(
        error.starts_with("the user store failed: ") && error.contains("test trigger refuses"),
        "{error}"
    );
    assert!(
        log.contains("failed, nothing was written"),
        "the run log says so: {log}"
    );

    // Without the trigger, the next sync converges.
    env.harness
        .db()
        .lock()
        .execute_batch("DROP TRIGGER refuse_one")
        .unwrap();
    sync(&env).expect("syncs");
    let org = env.sim.with_org(|o| o.clone());
    assert_eq!(env.store(), first_sync_projection(&org));
}

/// A large sync reaches the host in batches of `APPLY_BATCH` changes that form one
/// transaction: a failure in the second batch rolls back the first one too.
#[test]
fn a_failure_in_a_later_batch_rolls_back_the_batches_before_it() {
    let env = Env::generated(3200, 120);
    let dry = env.dry_run();
    let planned = env.changes(dry.run_id).len();
    let dry = dry.report;
    let batch = plugin::sync::APPLY_BATCH;
    assert!(planned > batch + 1000, "two batches: {planned} changes");
    // Groups, then users, then memberships: refuse the membership that is change
    // `batch + 500` of the apply, in the second batch.
    let c = dry.counts;
    let refused = batch + 500 - (c.groups_created + c.users_created) as usize;
    env.harness
        .db()
        .lock()
        .execute_batch(&format!(
            "CREATE TRIGGER refuse_late BEFORE INSERT ON memberships \
             WHEN (SELECT COUNT(*) FROM memberships) >= {} \
             BEGIN SELECT RAISE(ABORT, 'test trigger refuses a late membership'); END;",
            refused - 1
        ))
        .unwrap();
    let before = dump(&env.harness, &tables());

    let Err(err) = sync(&env) else {
        panic!("the sync must fail")
    };
    let msg = &store_error(&err);
    assert!(msg.starts_with("conflict: "), "{msg}");
    assert!(msg.contains("refuses a late membership"), "{msg}");
    assert_eq!(change_number(msg), batch + 500, "{msg}");
    assert!(msg.contains("in batch 2)"), "{msg}");
    assert_eq!(
        dump(&env.harness, &tables()),
        before,
        "the first batch's users, groups and memberships are rolled back"
    );
    assert_eq!(last_run(&env).0.status.as_str(), "failed");

    env.harness
        .db()
        .lock()
        .execute_batch("DROP TRIGGER refuse_late")
        .unwrap();
    let ok = sync(&env).expect("syncs");
    assert_eq!(ok.report.writes as usize, planned);
    let org = env.sim.with_org(|o| o.clone());
    assert_eq!(env.store(), first_sync_projection(&org));
}

#[test]
fn a_constraint_violation_late_in_a_mixed_batch_rolls_back_every_earlier_change() {
    let env = Env::generated(600, 12);
    sync(&env).expect("first sync");
    // Every kind of change, then a refused membership (memberships are applied last).
    let new_group = env.sim.with_org(|o| {
        let ids: Vec<String> = o
            .users
            .iter()
            .filter(|u| u.status == "ACTIVE")
            .map(|u| u.id.clone())
            .collect();
        o.set_profile(&ids[0], "firstName", json!("Renamed"));
        o.set_profile(&ids[1], "login", json!("moved.elsewhere@example.com"));
        o.set_status(&ids[2], "SUSPENDED");
        o.delete_user(&ids[3]);
        o.add_user("brand.new@example.com", "Brand", "New", "ACTIVE");
        let g = o.add_group("Refused Team", GroupType::OktaGroup);
        o.add_member(&g, &ids[4]);
        o.add_member(&g, &ids[5]);
        "Refused Team".to_string()
    });
    env.harness
        .db()
        .lock()
        .execute_batch(&format!(
            "CREATE TRIGGER refuse_membership BEFORE INSERT ON memberships \
             WHEN (SELECT name FROM groups WHERE id = NEW.group_id) = '{new_group}' \
             BEGIN SELECT RAISE(ABORT, 'test trigger refuses memberships of {new_group}'); END;"
        ))
        .unwrap();
    let before = dump(&env.harness, &tables());

    // The plan does hold all those changes.
    let dry = env.dry_run();
    let c = dry.report.counts;
    assert!(
        c.users_created == 1
            && c.users_updated >= 2
            && c.users_deactivated == 2
            && c.groups_created == 1
            && c.memberships_added >= 2,
        "{c:?}"
    );

    let err = sync(&env).unwrap_err();
    assert!(store_error(&err).starts_with("conflict: "), "{err:?}");
    // The renames, deactivations, the new user and the new group are rolled back too.
    failed_without_writes(
        &env,
        &tables(),
        &before,
        "refuses memberships of Refused Team",
    );

    env.harness
        .db()
        .lock()
        .execute_batch("DROP TRIGGER refuse_membership")
        .unwrap();
    let ok = sync(&env).expect("syncs");
    assert_eq!(ok.report.counts.groups_created, 1);
    assert_eq!(sync(&env).unwrap().report.writes, 0, "converged");
}

#[test]
fn a_full_disk_in_the_middle_of_the_apply_writes_nothing_and_the_run_says_so() {
    let env = Env::generated(1500, 20);
    let page_count = || -> i64 {
        env.harness
            .db()
            .lock()
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap()
    };
    // A dry run allocates the pages of a run: its row, log lines and recorded changes
    // (as many as the sync's), without touching the directory.
    let empty = page_count();
    env.dry_run();
    let pages = page_count();
    // Room for another run like it and a few more log lines, and for the index of its
    // user changes (a real run's, not a dry run's: `user_changes`, 1,500 rows of about
    // 100 bytes with their index entries), not for 1,500 users.
    let room = pages + (pages - empty) + 8 + 40;
    let limit: i64 = env
        .harness
        .db()
        .lock()
        .query_row(&format!("PRAGMA max_page_count = {room}"), [], |r| r.get(0))
        .unwrap();
    assert_eq!(limit, room);
    let before = dump(&env.harness, &tables());

    let err = sync(&env).unwrap_err();
    let msg = &store_error(&err);
    assert!(
        msg.starts_with("store failure: "),
        "a full disk is a store failure: {msg}"
    );
    assert!(msg.contains("database or disk is full"), "{msg}");
    // In the middle of the batch, not at its start: some changes went in before.
    let n = change_number(msg);
    assert!(n > 1, "{msg}");
    assert_eq!(dump(&env.harness, &tables()), before, "nothing written");
    let (run, log) = last_run(&env);
    assert_eq!(run.status, usersync::model::RunStatus::Failed);
    assert!(
        run.failure
            .as_ref()
            .unwrap()
            .message
            .contains("database or disk is full"),
        "{run:?}"
    );
    assert!(log.contains("failed, nothing was written"), "{log}");

    // Room again: the next sync converges.
    env.harness
        .db()
        .lock()
        .query_row("PRAGMA max_page_count = 1073741823", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap();
    sync(&env).expect("syncs");
    let org = env.sim.with_org(|o| o.clone());
    assert_eq!(env.store(), first_sync_projection(&org));
}

/// Where a sync waits for the test thread: what it reports, and what lets it go on.
struct Checkpoints {
    reached: mpsc::Receiver<&'static str>,
    go_on: mpsc::Sender<()>,
}

/// Harness options whose progress hook (every log line of a call, on the sync's thread)
/// stops the sync at "fetched … members" (the fetch done, before the store is read
/// and written) and at the line `failed` accepts, until the test says go on. Once the
/// test hangs up (drops the checkpoints), later syncs run freely.
fn checkpoints(failed: fn(&str) -> bool) -> (Options, Checkpoints) {
    let (to_test, reached) = mpsc::channel::<&'static str>();
    let (go_on, from_test) = mpsc::channel::<()>();
    let from_test = std::sync::Mutex::new(from_test);
    let hook = move |msg: &str| {
        let point = if msg.starts_with("fetched ") && msg.contains("members") {
            "fetched"
        } else if failed(msg) {
            "failed"
        } else {
            return;
        };
        if to_test.send(point).is_ok() {
            let _ = from_test.lock().unwrap().recv();
        }
    };
    let options = Options {
        progress: Some(Progress(Arc::new(hook))),
        ..Options::default()
    };
    (options, Checkpoints { reached, go_on })
}

/// A sync while another connection holds an exclusive lock from the fetch's end to the
/// sync's failure (then lets go, so that the run can be recorded).
fn sync_locked_from_fetch_to_failure(
    env: &Env,
    at: &Checkpoints,
) -> Result<usersync::harness::SyncOutcome, HarnessError> {
    let path = env.dir.path().join("usersync.db");
    std::thread::scope(|s| {
        let sync = s.spawn(|| sync(env));
        assert_eq!(at.reached.recv().unwrap(), "fetched");
        let other = rusqlite::Connection::open(&path).unwrap();
        other.busy_timeout(Duration::from_secs(10)).unwrap();
        other.execute_batch("BEGIN EXCLUSIVE").unwrap();
        at.go_on.send(()).unwrap();
        let next = at.reached.recv_timeout(Duration::from_secs(120));
        other.execute_batch("ROLLBACK").unwrap();
        assert_eq!(next, Ok("failed"), "the sync fails while locked");
        at.go_on.send(()).unwrap();
        sync.join().unwrap()
    })
}

#[test]
fn a_database_locked_by_another_connection_fails_the_apply_and_nothing_is_written() {
    // The other connection takes its lock exactly between the fetch and the apply, and
    // lets go once the apply has failed, so that the run can be recorded.
    let failed = |msg: &str| msg.starts_with("applying ") && msg.contains("failed");
    let (options, sync_at) = checkpoints(failed);
    let env = Env::with_options(
        generated_org(400, 10),
        SimConfig::default(),
        runtime(),
        options,
    );
    // Don't wait the default 10 s for the lock.
    env.harness
        .db()
        .lock()
        .busy_timeout(Duration::from_millis(300))
        .unwrap();
    let before = dump(&env.harness, &tables());

    let result = sync_locked_from_fetch_to_failure(&env, &sync_at);
    let err = result.unwrap_err();
    let msg = &store_error(&err);
    assert!(
        msg.starts_with("store busy: "),
        "a locked database is `busy`: {msg}"
    );
    assert!(msg.contains("locked"), "{msg}");
    assert!(msg.contains("starting the apply transaction"), "{msg}");
    assert!(err.to_string().ends_with("nothing was changed"), "{err}");
    assert_eq!(dump(&env.harness, &tables()), before, "nothing written");
    let (run, log) = last_run(&env);
    assert_eq!(run.status, usersync::model::RunStatus::Failed);
    assert!(
        run.failure
            .as_ref()
            .unwrap()
            .message
            .contains("database is locked"),
        "{run:?}"
    );
    assert!(log.contains("failed, nothing was written"), "{log}");

    // Unlocked, and the hook hung up: the next sync converges.
    drop(sync_at);
    sync(&env).expect("syncs");
    let org = env.sim.with_org(|o| o.clone());
    assert_eq!(env.store(), first_sync_projection(&org));
}

/// The directory tables with `groups` renamed to `groups_gone`.
fn tables_without_groups() -> Vec<&'static str> {
    let t: Vec<_> = tables()
        .into_iter()
        .map(|t| if t == "groups" { "groups_gone" } else { t })
        .collect();
    t
}

/// A store read that fails (here: the `groups` table gone, renamed behind the host's
/// back) fails the sync with the store error of that read, naming it: never an empty
/// answer, on which the sync would create what exists. The run is recorded failed and
/// nothing is written.
#[test]
fn a_store_read_that_fails_fails_the_sync_and_writes_nothing() {
    let env = Env::generated(300, 10);
    sync(&env).expect("first sync");
    env.sim.with_org(|o| {
        o.add_user("brand.new@example.com", "Brand", "New", "ACTIVE");
    });
    let rename = |from: &str, to: &str| {
        env.harness
            .db()
            .lock()
            .execute_batch(&format!("ALTER TABLE {from} RENAME TO {to}"))
            .unwrap()
    };
    rename("groups", "groups_gone");
    let before = dump(&env.harness, &tables_without_groups());

    let err = sync(&env).unwrap_err();
    let msg = store_error(&err);
    let read = msg
        .strip_prefix("store failure: database: ")
        .and_then(|m| m.strip_suffix(": no such table: groups"))
        .unwrap_or_else(|| panic!("a failure of a named read: {msg}"));
    assert!(!read.is_empty() && !read.contains("apply"), "{msg}");
    assert!(err.to_string().ends_with("nothing was changed"), "{err}");
    failed_without_writes(&env, &tables_without_groups(), &before, read);

    rename("groups_gone", "groups");
    let ok = sync(&env).expect("syncs");
    assert_eq!(ok.report.counts.users_created, 1);
}

/// A database locked by another connection while the sync reads the store: the read
/// fails as `busy` (the variant crosses the WIT as it is), the sync fails with it, the
/// run is recorded failed and nothing is written. SQLite in WAL mode (the harness's)
/// lets readers through a writer's lock, so the test first turns the database back to a
/// rollback journal, where another connection's exclusive lock stops readers too.
#[test]
fn a_store_read_of_a_locked_database_is_busy_and_the_sync_writes_nothing() {
    let failed = |msg: &str| msg.starts_with("the user store failed");
    let (options, sync_at) = checkpoints(failed);
    let env = Env::with_options(
        generated_org(300, 8),
        SimConfig::default(),
        runtime(),
        options,
    );
    {
        let conn = env.harness.db().lock();
        conn.busy_timeout(Duration::from_millis(300)).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "delete");
    }
    let before = dump(&env.harness, &tables());

    // Locked from just before the sync reads the store to plan.
    let result = sync_locked_from_fetch_to_failure(&env, &sync_at);
    let err = result.unwrap_err();
    let msg = store_error(&err);
    assert!(
        msg.starts_with("store busy: "),
        "a locked database is `busy`: {msg}"
    );
    assert!(msg.contains("database is locked"), "{msg}");
    assert!(
        !msg.contains("apply"),
        "a read failed, not the apply: {msg}"
    );
    let log = failed_without_writes(&env, &tables(), &before, "database is locked");
    assert!(
        log.contains("fetched "),
        "the lines of the locked time are kept: {log}"
    );

    drop(sync_at);
    sync(&env).expect("syncs");
    let org = env.sim.with_org(|o| o.clone());
    assert_eq!(env.store(), first_sync_projection(&org));
}

/// The disk fills at the very end of a sync: its apply is done, and writing the run's
/// record (`succeeded` and its report, in the apply's transaction) fails. The apply is
/// rolled back with it, so the run saying it failed with nothing applied is true; the
/// connector's lease goes with the run's end, and the next sync converges.
#[test]
fn a_full_disk_at_the_run_record_rolls_the_apply_back_and_the_run_says_so() {
    let env = Env::generated(1000, 20);
    {
        let conn = env.harness.db().lock();
        let pages: i64 = conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        // Room for the whole apply; the run's record then asks for 40 MB more.
        conn.query_row(
            &format!("PRAGMA max_page_count = {}", pages + 4000),
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap();
        conn.execute_batch(
            "CREATE TABLE filler (b BLOB); \
             CREATE TRIGGER fill_at_the_end AFTER UPDATE OF status ON runs \
             WHEN NEW.status = 'succeeded' BEGIN INSERT INTO filler VALUES (zeroblob(40000000)); END;",
        )
        .unwrap();
    }
    let before = dump(&env.harness, &tables());

    let err = sync(&env).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("finishing run #") && msg.contains("database or disk is full"),
        "{msg}"
    );
    assert_eq!(
        dump(&env.harness, &tables()),
        before,
        "the apply went with the run's record"
    );
    let (run, log) = last_run(&env);
    assert_eq!(run.status, usersync::model::RunStatus::Failed);
    assert!(run.report.is_none(), "{run:?}");
    assert!(
        run.failure
            .unwrap()
            .message
            .contains("database or disk is full"),
        "{log}"
    );
    assert!(
        !env.harness.is_running(CONNECTOR).unwrap(),
        "the lease ended with the run"
    );

    env.harness
        .db()
        .lock()
        .execute_batch("DROP TRIGGER fill_at_the_end")
        .unwrap();
    let ok = sync(&env).expect("syncs");
    assert_eq!(ok.report.writes as usize, env.changes(ok.run_id).len());
    let org = env.sim.with_org(|o| o.clone());
    assert_eq!(env.store(), first_sync_projection(&org));
    assert_eq!(sync(&env).unwrap().report.writes, 0, "converged");
}

/// Armed, the next commit that adds more than 100 frames to the WAL (an apply's) reports
/// an error (`SQLITE_FULL` from the hook) once it has committed.
static FAIL_A_BIG_COMMIT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// The WAL's frames after the last commit.
static WAL_FRAMES: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// A WAL hook (called by SQLite after each commit) that fails an armed big commit: its
/// error becomes the COMMIT's, "though the commit will have still occurred" (SQLite's
/// `sqlite3_wal_hook` documentation). It replaces the automatic checkpoint, so the WAL
/// only grows.
unsafe extern "C" fn full_after_commit(
    _: *mut std::ffi::c_void,
    _: *mut rusqlite::ffi::sqlite3,
    _: *const std::ffi::c_char,
    frames: std::ffi::c_int,
) -> std::ffi::c_int {
    use std::sync::atomic::Ordering::SeqCst;
    let before = WAL_FRAMES.swap(frames, SeqCst);
    if frames - before > 100 && FAIL_A_BIG_COMMIT.swap(false, SeqCst) {
        rusqlite::ffi::SQLITE_FULL
    } else {
        rusqlite::ffi::SQLITE_OK
    }
}

/// The disk fills as the apply's commit ends: the COMMIT reports an error although the
/// transaction committed (a WAL hook's, as SQLite documents). The run's end was written in that
/// transaction, so the harness goes by it: the sync succeeded, the run says so with its
/// report, the store holds the whole sync, and the next sync finds nothing to do. (The
/// run was recorded failed, "nothing applied", over 1,000 committed users before.)
#[test]
fn a_commit_that_reports_a_full_disk_after_committing_is_recorded_as_what_it_did() {
    let env = Env::generated(1000, 20);
    {
        let conn = env.harness.db().lock();
        // SAFETY: the hook is a plain function touching only atomics; it stays set on
        // this connection, which outlives the syncs below.
        unsafe {
            rusqlite::ffi::sqlite3_wal_hook(
                conn.handle(),
                Some(full_after_commit),
                std::ptr::null_mut(),
            );
        }
    }
    FAIL_A_BIG_COMMIT.store(true, std::sync::atomic::Ordering::SeqCst);

    let outcome = sync(&env).expect("it committed: the sync succeeded");
    assert!(
        !FAIL_A_BIG_COMMIT.load(std::sync::atomic::Ordering::SeqCst),
        "the apply's commit reported an error"
    );
    let org = env.sim.with_org(|o| o.clone());
    assert_eq!(
        env.store(),
        first_sync_projection(&org),
        "all of it applied"
    );
    let (run, log) = last_run(&env);
    assert_eq!(run.id, outcome.run_id);
    assert_eq!(
        (run.status, run.failure),
        (usersync::model::RunStatus::Succeeded, None),
        "{log}"
    );
    let report = run.report.expect("its report");
    assert_eq!(report.counts, outcome.report.counts);
    assert_eq!(env.changes(run.id).len(), outcome.report.changes.len());
    assert!(
        !env.harness.is_running(CONNECTOR).unwrap(),
        "its lease let go"
    );
    assert_eq!(sync(&env).unwrap().report.writes, 0, "nothing left to do");
}
