//! `run`: the call's run record. Every log line of a call goes one way, the host's own
//! lines included: to tracing, to the progress hook, and into the run's log. Lines are
//! written at once, or held while the call's write transaction is open (a rollback
//! must not take them along) and written when it ends. Recorded changes go into the
//! run's `run_changes`, inside the call's write transaction: committed with the apply
//! (a failure to write them fails the call's apply and its commit).

use super::Progress;
use super::call_db::CallDb;
use crate::host::bindings::report::ChangeEntry;
use crate::host::bindings::run;
use crate::host::bindings::types::LogLevel;
use crate::product::db::directory::store_error;
use crate::product::db::run_changes;
use crate::product::db::runs;

/// The level's name as stored.
pub fn level_name(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
    }
}

/// The run of a call (calls without a run, e.g. a connection test, log to tracing only).
pub struct RunRecorder {
    db: CallDb,
    run_id: Option<i64>,
    progress: Option<Progress>,
    /// Lines not written yet: they came while the write transaction was open, or the
    /// database was busy.
    held: Vec<(LogLevel, String)>,
    /// Changes of the run written so far.
    numbered: u64,
}

impl std::fmt::Debug for RunRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunRecorder")
            .field("run_id", &self.run_id)
            .field("held_lines", &self.held.len())
            .field("changes", &self.numbered)
            .finish_non_exhaustive()
    }
}

impl RunRecorder {
    /// The recorder of run `run_id`, if the call has one.
    pub fn new(db: CallDb, run_id: Option<i64>, progress: Option<Progress>) -> Self {
        RunRecorder {
            db,
            run_id,
            progress,
            held: Vec::new(),
            numbered: 0,
        }
    }

    /// Log one line of the call.
    pub fn line(&mut self, level: LogLevel, message: String) {
        match level {
            LogLevel::Debug => tracing::debug!(target: "usersync::plugin", "{message}"),
            LogLevel::Info => tracing::info!(target: "usersync::plugin", "{message}"),
            LogLevel::Warn => tracing::warn!(target: "usersync::plugin", "{message}"),
            LogLevel::Error => tracing::error!(target: "usersync::plugin", "{message}"),
        }
        if let Some(progress) = &self.progress {
            (progress.0)(&message);
        }
        let Some(run) = self.run_id else { return };
        let written = self.held.is_empty()
            && !self.db.in_transaction()
            && self
                .db
                .read(|c| runs::log(c, run, level_name(level), &message))
                .is_ok();
        if !written {
            self.held.push((level, message));
        }
    }

    /// Write the held lines (once the call's transaction has ended). A line the
    /// database refuses is dropped, said in tracing: the run's end is recorded anyway.
    pub fn flush(&mut self) {
        let Some(run) = self.run_id else { return };
        for (level, message) in std::mem::take(&mut self.held) {
            if let Err(e) = self
                .db
                .read(|c| runs::log(c, run, level_name(level), &message))
            {
                tracing::error!("a line of run {run}'s log was lost: {e}");
            }
        }
    }
}

impl run::Host for RunRecorder {
    fn log(&mut self, level: LogLevel, message: String) {
        self.line(level, message);
    }

    fn record_changes(&mut self, changes: Vec<ChangeEntry>) {
        // A call without a run (a login sync) returns its changes in its result.
        let Some(run) = self.run_id else { return };
        let changes: Vec<crate::model::ChangeEntry> = changes.into_iter().map(Into::into).collect();
        let first = self.numbered;
        let written = self
            .db
            .write(|c| run_changes::append(c, run, first, &changes).map_err(|e| store_error(&e)));
        match written {
            Ok(()) => self.numbered += changes.len() as u64,
            // The call's next apply, and its commit, fail with this error.
            Err(e) => tracing::debug!("recording run {run}'s changes failed: {e:?}"),
        }
    }
}
