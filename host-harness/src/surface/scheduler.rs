//! The scheduler of `usersync serve`: syncs every connector whose cron schedule is due.
//! Scheduled syncs are incremental (the plugin runs a full sync when the last one is
//! older than the connector's full-sync interval). Never two syncs of one connector at
//! once (in any process: a sync holds its connector's lease); after downtime, missed
//! runs collapse into one catch-up run; the last firing time is stored in the database,
//! so schedules survive restarts.
//!
//! Several `usersync serve` on one database coordinate through the scheduler lease
//! (`lease::SCHEDULER`): only its holder fires schedules; the others stand by, say so,
//! and the first to see the holder gone (stopped, or three heartbeats missed) takes
//! over.

use crate::harness::{Harness, HarnessError, SyncRequest};
use crate::product::db::{connectors, schedule};

/// One scheduled sync that ran (or was refused).
#[derive(Debug)]
pub struct Fired {
    /// Connector name.
    pub connector: String,
    /// The run id, or why it did not run.
    pub result: Result<i64, HarnessError>,
}

/// The schedules of one harness.
#[derive(Clone)]
pub struct Scheduler {
    harness: Harness,
    /// A round of alerts (the no-success check, then the deliveries due) is under way.
    alerting: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Scheduler {
    /// A scheduler over `harness`.
    pub fn new(harness: Harness) -> Self {
        Scheduler {
            harness,
            alerting: Default::default(),
        }
    }

    /// Names of the connectors whose schedule is due at `now`: enabled, and with a run
    /// time after their last firing (or their last edit) and not after `now`.
    pub fn due(&self, now: i64) -> Result<Vec<String>, HarnessError> {
        let list = connectors::list(&self.harness.db().lock())?;
        let mut due = Vec::new();
        for c in list.into_iter().filter(|c| c.settings.schedule_enabled) {
            let last = schedule::last_fire(&self.harness.db().lock(), c.id)?;
            let base = last.unwrap_or(0).max(c.updated_at);
            let next = self.harness.next_runs(
                &c.settings.schedule,
                &c.settings.schedule_time_zone,
                base,
                1,
            )?;
            if next.first().is_some_and(|t| *t <= now) {
                due.push(c.settings.name);
            }
        }
        Ok(due)
    }

    /// Run one due connector's scheduled sync, and record that its schedule fired at
    /// `now` (all missed run times before `now` collapse into this one). A connector
    /// already syncing is refused and stays due.
    pub fn fire(&self, name: &str, now: i64) -> Result<i64, HarnessError> {
        let c = self.harness.connector(name)?;
        let request = SyncRequest {
            incremental: true,
            dry_run: false,
            trigger: crate::model::Trigger::Schedule,
            force: false,
            ..Default::default()
        };
        // Started and run apart so that the run's changes are never read (see `sync`).
        let result = self
            .harness
            .start_sync_as(name, request, Some("scheduler"))
            .and_then(crate::harness::StartedSync::run);
        if !matches!(result, Err(HarnessError::AlreadyRunning(_))) {
            schedule::set_last_fire(&self.harness.db().lock(), c.id, now)?;
        }
        result.map(|o| o.run_id)
    }

    /// Fire every due connector, one after the other, if this instance holds the
    /// scheduler lease (or takes it now); refused naming the `serve` that holds it.
    pub fn tick(&self, now: i64) -> Result<Vec<Fired>, HarnessError> {
        self.harness.hold_scheduler()?;
        Ok(self
            .due(now)?
            .into_iter()
            .map(|connector| {
                let result = self.fire(&connector, now);
                Fired { connector, result }
            })
            .collect())
    }

    /// Run forever (until `stop` is set): every `period`, if this instance holds the
    /// scheduler lease, fire due connectors, each in its own thread so that a long sync
    /// does not delay the others. Standing by (another `serve` holds the lease) and
    /// taking over are logged once each; the lease is let go on stop.
    pub fn run(&self, period: std::time::Duration, stop: &std::sync::atomic::AtomicBool) {
        use std::sync::atomic::Ordering;
        let mut standing_by = false;
        while !stop.load(Ordering::Relaxed) {
            match self.harness.hold_scheduler() {
                Ok(()) => {
                    if std::mem::take(&mut standing_by) {
                        tracing::warn!("scheduler: took over the schedules of this database");
                    }
                    self.fire_due(crate::product::db::now());
                    self.alert_round(crate::product::db::now());
                }
                Err(e @ HarnessError::SchedulerElsewhere(_)) => {
                    if !std::mem::replace(&mut standing_by, true) {
                        tracing::warn!("scheduler standing by: {e}");
                    }
                }
                Err(e) => tracing::error!("scheduler: {e}"),
            }
            std::thread::sleep(period);
        }
        if let Err(e) = self.harness.release_scheduler() {
            tracing::warn!("scheduler: letting go of its lease: {e}");
        }
    }

    /// Start each due connector's sync in a thread of its own; a connector still
    /// syncing (here or in another process) is skipped, said in the log.
    /// In a thread of its own (a slow webhook or relay delays no schedule), unless the
    /// last round is still under way: alert connectors that have not synced for the
    /// hours set, and send (or retry) the alerts due.
    fn alert_round(&self, now: i64) {
        use std::sync::atomic::Ordering;
        if self.alerting.swap(true, Ordering::AcqRel) {
            return;
        }
        let me = self.clone();
        std::thread::spawn(move || {
            if let Err(e) = crate::alerts::check_stale(&me.harness, now) {
                tracing::warn!("alerts: checking for connectors without a recent success: {e}");
            }
            crate::alerts::deliver::deliver_due(&me.harness, now);
            me.alerting.store(false, Ordering::Release);
        });
    }

    fn fire_due(&self, now: i64) {
        let names = match self.due(now) {
            Ok(names) => names,
            Err(e) => return tracing::error!("scheduler: {e}"),
        };
        for name in names {
            if self.harness.is_running(&name).unwrap_or(true) {
                tracing::info!(connector = %name, "scheduled sync skipped: a sync of it is running");
                continue;
            }
            let me = self.clone();
            std::thread::spawn(move || match me.fire(&name, now) {
                Ok(run) => tracing::info!(connector = %name, run, "scheduled sync finished"),
                Err(e @ HarnessError::AlreadyRunning(_)) => {
                    tracing::info!(connector = %name, "scheduled sync skipped: {e}")
                }
                Err(e) => tracing::warn!(connector = %name, "scheduled sync failed: {e}"),
            });
        }
    }
}
