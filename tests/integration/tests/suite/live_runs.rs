//! Live runs are owned (#19 item 6): a run belongs to the harness instance (process) that
//! holds its connector's sync lease, renewed by a heartbeat. Another process opening the
//! database leaves a live run alone and marks a run interrupted only once its owner's
//! lease has lapsed; two processes never sync one connector at once (the second is
//! refused naming the first); of two `serve` on one database only the holder of the
//! scheduler lease fires schedules, and the other takes over once that lease is gone.
//!
//! Each "process" here is a harness of its own on the same file (its own lease holder);
//! a holder on another host is written into the lease table as that host would.

use integration::{CONNECTOR, DOMAIN, Env, connector_input, first_sync_projection, runtime};
use usersync::model::RunStatus;
use usersync::product::db::{Db, lease, now};
use usersync::surface::scheduler::Scheduler;
use usersync::{Harness, HarnessError, Options, SyncRequest};

/// A second harness (another process, as far as leases go) on `env`'s database.
fn other_process(env: &Env) -> Harness {
    let mut options = Options::default();
    options.resolve.insert(DOMAIN, env.sim.addr());
    let db = Db::open(&env.dir.path().join("usersync.db")).expect("db opens");
    Harness::with(db, runtime(), options).expect("harness")
}

fn connector_id(env: &Env) -> i64 {
    env.harness.connector(CONNECTOR).unwrap().id
}

fn status(h: &Harness, run: i64) -> RunStatus {
    h.run(run).unwrap().0.status
}

/// The time of a lease as messages give it: `2026-12-01 09:00:00 UTC`.
fn utc(t: i64) -> String {
    let s = usersync::harness::utc(t);
    let digits = |r: std::ops::Range<usize>| s[r].bytes().all(|b| b.is_ascii_digit());
    assert!(
        s.len() == 23 && digits(0..4) && digits(11..13) && s.ends_with(" UTC"),
        "{s}"
    );
    s
}

/// Write `name` as held by process 4242 on `node-b.example` since `since`, until
/// `expires_at` (what that node's harness would have written).
fn held_elsewhere(env: &Env, name: &str, since: i64, expires_at: i64) {
    env.harness
        .db()
        .lock()
        .execute(
            "INSERT OR REPLACE INTO leases (name, instance, pid, host, acquired_at, expires_at) \
             VALUES (?1, 'node-b-instance', 4242, 'node-b.example', ?2, ?3)",
            rusqlite::params![name, since, expires_at],
        )
        .unwrap();
}

#[test]
fn a_live_sync_is_not_marked_interrupted_when_another_process_opens_the_database() {
    let env = Env::generated(200, 8);
    let started = env
        .harness
        .start_sync(CONNECTOR, SyncRequest::default())
        .unwrap();
    let run = started.run_id();

    // `usersync runs` and a second harness open the database while the run is live.
    let path = env.dir.path().join("usersync.db").display().to_string();
    let listed = integration::run_cli(&["--db", &path, "--json", "runs"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let listed: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(listed[0]["id"], run);
    assert_eq!(listed[0]["status"], "running", "{listed}");
    let other = other_process(&env);
    assert_eq!(status(&other, run), RunStatus::Running);
    assert!(other.is_running(CONNECTOR).unwrap(), "seen from the other");

    let outcome = started.run().expect("the live sync goes on and commits");
    assert_eq!(outcome.run_id, run);
    assert_eq!(status(&other, run), RunStatus::Succeeded);
    assert!(!other.is_running(CONNECTOR).unwrap(), "its lease let go");
    let org = env.sim.with_org(|o| o.clone());
    assert_eq!(env.store(), first_sync_projection(&org));
}

#[test]
fn two_syncs_of_one_connector_at_once_the_second_process_is_refused_naming_the_first() {
    let env = Env::generated(100, 4);
    let started = env
        .harness
        .start_sync(CONNECTOR, SyncRequest::default())
        .unwrap();
    let name = lease::sync_lease(connector_id(&env));
    let since = lease::get(&env.harness.db().lock(), &name)
        .unwrap()
        .expect("the sync holds its lease")
        .acquired_at;
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let want = format!(
        "a sync of `okta` is already running in process {} on {} since {}; wait for it to finish",
        std::process::id(),
        host.trim(),
        utc(since)
    );

    let other = other_process(&env);
    let err = other
        .sync(CONNECTOR, SyncRequest::default())
        .expect_err("refused");
    assert!(matches!(err, HarnessError::AlreadyRunning(_)), "{err:?}");
    assert_eq!(err.to_string(), want);
    // The command line says the same, with exit code 4.
    let path = env.dir.path().join("usersync.db").display().to_string();
    let resolve = format!("{DOMAIN}={}", env.sim.addr());
    let cli = integration::run_cli(&["--db", &path, "--resolve", &resolve, "sync", CONNECTOR]);
    assert_eq!(
        (cli.code, cli.stderr.trim()),
        (4, format!("error: {want}").as_str())
    );
    assert_eq!(
        env.harness.runs(Some(CONNECTOR), 10).unwrap().len(),
        1,
        "refused syncs start no run"
    );

    started.run().expect("the first sync finishes");
    other
        .sync(CONNECTOR, SyncRequest::default())
        .expect("then the other process syncs");
}

#[test]
fn a_run_is_marked_interrupted_at_the_next_open_only_once_its_owners_lease_lapsed() {
    let env = Env::generated(100, 4);
    let id = connector_id(&env);
    let t = now();
    // A sync of another node: its lease (live) and its run.
    held_elsewhere(&env, &lease::sync_lease(id), t - 5, t + lease::TTL);
    let run: i64 = env
        .harness
        .db()
        .lock()
        .query_row(
            "INSERT INTO runs (connector_id, kind, trigger, dry_run, status, started_at, owner) \
             VALUES (?1, 'full', 'manual', 0, 'running', ?2, 'node-b-instance') RETURNING id",
            rusqlite::params![id, t - 5],
            |r| r.get(0),
        )
        .unwrap();

    let other = other_process(&env);
    assert_eq!(status(&other, run), RunStatus::Running, "live: left alone");
    let err = other.sync(CONNECTOR, SyncRequest::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "a sync of `okta` is already running in process 4242 on node-b.example since {}; \
             wait for it to finish",
            utc(t - 5)
        )
    );

    // Node B stops renewing: three heartbeats later its lease has lapsed.
    env.harness
        .db()
        .lock()
        .execute("UPDATE leases SET expires_at = ?1", [t - 1])
        .unwrap();
    let next = other_process(&env);
    let (closed, _) = next.run(run).unwrap();
    assert_eq!(closed.status, RunStatus::Failed);
    let failure = closed.failure.expect("why");
    assert_eq!(failure.kind.as_str(), "interrupted");
    assert!(
        failure.message.starts_with("interrupted: ")
            && failure.message.ends_with("nothing of it was applied"),
        "{failure:?}"
    );
    next.sync(CONNECTOR, SyncRequest::default())
        .expect("the connector syncs again");
}

/// A connector due every quarter of an hour.
fn scheduled(env: &Env) {
    let input = usersync::ConnectorPatch {
        schedule: Some("every 15 minutes".into()),
        schedule_enabled: Some(true),
        ..connector_input()
    };
    env.harness.update_connector(CONNECTOR, &input).unwrap();
}

#[test]
fn of_two_serves_on_one_database_only_the_scheduler_lease_holder_fires() {
    let env = Env::generated(100, 4);
    scheduled(&env);
    let first = Scheduler::new(env.harness.clone());
    let second = Scheduler::new(other_process(&env));
    let t = now() + 3600;

    assert_eq!(first.tick(t).unwrap().len(), 1, "the first fires");
    let err = second.tick(t + 900).unwrap_err();
    assert!(
        matches!(err, HarnessError::SchedulerElsewhere(_)),
        "{err:?}"
    );
    let held = lease::get(&env.harness.db().lock(), lease::SCHEDULER)
        .unwrap()
        .unwrap();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(
        err.to_string(),
        format!(
            "the schedules of this database are run by another `usersync serve` (process {} on {} \
             since {}); this one fires none until that one stops or misses its heartbeats",
            std::process::id(),
            host.trim(),
            utc(held.acquired_at)
        )
    );
    assert_eq!(
        env.harness.runs(Some(CONNECTOR), 10).unwrap().len(),
        1,
        "the standby fired nothing, though the connector was due"
    );
    assert_eq!(first.tick(t + 900).unwrap().len(), 1, "the holder fires on");

    // The first `serve` stops (lets go): the second takes over.
    env.harness.release_scheduler().unwrap();
    assert_eq!(second.tick(t + 1800).unwrap().len(), 1);
    assert!(matches!(
        first.tick(t + 2700),
        Err(HarnessError::SchedulerElsewhere(_))
    ));

    // The second's node dies on another host: once its lease lapses, the first takes over.
    env.harness
        .db()
        .lock()
        .execute(
            "UPDATE leases SET instance = 'gone', pid = 4242, host = 'node-b.example', \
             expires_at = ?1 WHERE name = ?2",
            rusqlite::params![now() - 1, lease::SCHEDULER],
        )
        .unwrap();
    assert_eq!(first.tick(t + 2700).unwrap().len(), 1);
    assert_eq!(env.harness.runs(Some(CONNECTOR), 10).unwrap().len(), 4);
}

/// The run's record and the store agree (#19 item 5): a run another process marked
/// interrupted ("nothing of it was applied") because its owner missed its heartbeats
/// cannot commit afterwards; its apply is rolled back when its owner comes back.
#[test]
fn a_run_marked_interrupted_while_its_owner_missed_its_heartbeats_never_commits() {
    let env = Env::generated(200, 8);
    let tables = integration::DIRECTORY_TABLES;
    let before = integration::dump(&env.harness, tables);
    let started = env
        .harness
        .start_sync(CONNECTOR, SyncRequest::default())
        .unwrap();
    let run = started.run_id();
    {
        // The owner's heartbeat cannot renew while its connection is held here.
        let conn = env.harness.db().lock();
        conn.execute("UPDATE leases SET expires_at = ?1", [now() - 1])
            .unwrap();
        let other = other_process(&env);
        assert_eq!(
            status(&other, run),
            RunStatus::Failed,
            "lapsed: interrupted"
        );
    }

    let err = started
        .run()
        .expect_err("the interrupted run does not commit");
    assert!(
        err.to_string().contains(&format!(
            "finishing run #{run}: the run was marked interrupted meanwhile"
        )),
        "{err}"
    );
    assert_eq!(
        integration::dump(&env.harness, tables),
        before,
        "its apply was rolled back"
    );
    let (closed, _) = env.harness.run(run).unwrap();
    assert_eq!(closed.status, RunStatus::Failed);
    assert!(closed.report.is_none());
    assert!(
        closed.failure.unwrap().message.starts_with("interrupted: "),
        "the record that says nothing was applied stays true"
    );
    env.harness
        .sync(CONNECTOR, SyncRequest::default())
        .expect("the next sync converges");
    let org = env.sim.with_org(|o| o.clone());
    assert_eq!(env.store(), first_sync_projection(&org));
}
