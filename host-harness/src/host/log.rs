//! `log`: the guest's lines into the run's sync log (and the harness's tracing output).

use super::HostState;
use crate::host::bindings::types::LogLevel;
use crate::host::bindings::usersync::okta::log;
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

impl log::Host for HostState {
    fn write(&mut self, level: LogLevel, message: String) {
        let name = level_name(level);
        match level {
            LogLevel::Debug => tracing::debug!(target: "usersync::plugin", "{message}"),
            LogLevel::Info => tracing::info!(target: "usersync::plugin", "{message}"),
            LogLevel::Warn => tracing::warn!(target: "usersync::plugin", "{message}"),
            LogLevel::Error => tracing::error!(target: "usersync::plugin", "{message}"),
        }
        if let Some(run) = self.scope.run_id
            && (self.apply.is_some() || runs::log(&self.db.lock(), run, name, &message).is_err())
        {
            // The database is busy (another writer), or this call's apply transaction is
            // open (a rollback would take the line with it): written when the run ends.
            self.unsaved_log.push((name.to_string(), message.clone()));
        }
        if let Some(progress) = &self.scope.progress {
            (progress.0)(&message);
        }
        self.log.push((name.to_string(), message));
    }
}
