//! The scheduler: runs a due connector, refuses overlapping syncs, collapses missed runs
//! into one catch-up run, and keeps its state across restarts.

use integration::{CONNECTOR, Env, connector_input, runtime};
use okta_sim::{Fault, FaultKind};
use std::time::Duration;
use usersync::product::db::{Db, now};
use usersync::surface::scheduler::Scheduler;
use usersync::{Harness, HarnessError, Options, SyncRequest};

const QUARTER: i64 = 15 * 60;

fn scheduled_env() -> Env {
    let env = Env::generated(200, 8);
    let input = usersync::ConnectorPatch {
        schedule: Some("every 15 minutes".into()),
        schedule_enabled: Some(true),
        ..connector_input()
    };
    let v = env
        .harness
        .update_connector(CONNECTOR, &input)
        .expect("schedule saved");
    assert_eq!(
        v.settings.schedule, "0 */15 * * * *",
        "the preset became a cron expression"
    );
    env
}

#[test]
fn runs_a_due_connector_once_then_waits_for_the_next_slot() {
    let env = scheduled_env();
    let s = Scheduler::new(env.harness.clone());
    let t = now();
    let first_slot = env
        .harness
        .next_runs("0 */15 * * * *", "UTC", t, 1)
        .unwrap()[0];
    assert!(
        s.due(first_slot - 1).unwrap().is_empty(),
        "not due before its first slot"
    );
    let fired = s.tick(first_slot).unwrap();
    assert_eq!(fired.len(), 1);
    let run_id = *fired[0].result.as_ref().expect("the scheduled sync ran");
    let run = env.harness.run(run_id).unwrap().0;
    assert_eq!(
        (run.trigger.as_str(), run.status.as_str()),
        ("schedule", "succeeded")
    );
    assert_eq!(
        run.kind.as_str(),
        "full",
        "the first scheduled sync is full: no full sync before"
    );
    assert!(
        s.due(first_slot + 60).unwrap().is_empty(),
        "fired for this slot"
    );
    assert_eq!(s.due(first_slot + QUARTER).unwrap(), [CONNECTOR]);
    let second = s.tick(first_slot + QUARTER).unwrap();
    let run = env
        .harness
        .run(*second[0].result.as_ref().unwrap())
        .unwrap()
        .0;
    assert_eq!(
        run.kind.as_str(),
        "incremental",
        "later scheduled syncs are incremental"
    );
}

#[test]
fn missed_runs_collapse_into_one_catch_up_run() {
    let env = scheduled_env();
    let s = Scheduler::new(env.harness.clone());
    let later = now() + 5 * 3600; // five hours of downtime: twenty missed slots
    let fired = s.tick(later).unwrap();
    assert_eq!(fired.len(), 1);
    assert!(s.tick(later + 1).unwrap().is_empty());
    assert_eq!(env.harness.runs(Some(CONNECTOR), 10).unwrap().len(), 1);
}

#[test]
fn a_second_sync_while_one_runs_is_refused() {
    let env = scheduled_env();
    env.sim.add_fault(Fault {
        path_prefix: "/api/v1/groups/".into(),
        nth: 1,
        times: 100,
        kind: FaultKind::Delay(150),
    });
    let h = env.harness.clone();
    let running = std::thread::spawn(move || h.sync(CONNECTOR, SyncRequest::default()));
    std::thread::sleep(Duration::from_millis(300));
    let err = env
        .harness
        .sync(CONNECTOR, SyncRequest::default())
        .unwrap_err();
    assert!(matches!(err, HarnessError::AlreadyRunning(_)));
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "a sync of `okta` is already running in process {} on ",
            std::process::id()
        )) && message.ends_with(" UTC; wait for it to finish"),
        "{message}"
    );
    let s = Scheduler::new(env.harness.clone());
    let later = now() + 3600;
    let fired = s.tick(later).unwrap();
    assert!(matches!(
        fired[0].result,
        Err(HarnessError::AlreadyRunning(_))
    ));
    running.join().unwrap().expect("the first sync finishes");
    assert_eq!(
        s.due(later).unwrap(),
        [CONNECTOR],
        "a refused firing stays due"
    );
    assert_eq!(
        env.harness.runs(Some(CONNECTOR), 10).unwrap().len(),
        1,
        "refused syncs start no run"
    );
}

#[test]
fn schedules_and_last_run_state_survive_a_restart() {
    let env = scheduled_env();
    let path = env.dir.path().join("usersync.db");
    let later = now() + 3600;
    assert_eq!(
        Scheduler::new(env.harness.clone())
            .tick(later)
            .unwrap()
            .len(),
        1
    );
    drop(env.harness);

    let reopened = Harness::with(Db::open(&path).unwrap(), runtime(), Options::default()).unwrap();
    let s = Scheduler::new(reopened.clone());
    assert!(
        s.due(later + 1).unwrap().is_empty(),
        "the firing was remembered"
    );
    assert_eq!(
        s.due(later + QUARTER).unwrap(),
        [CONNECTOR],
        "the schedule was remembered"
    );
    assert!(
        reopened
            .connector(CONNECTOR)
            .unwrap()
            .settings
            .schedule_enabled
    );
}
