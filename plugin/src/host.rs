//! The host's side of a call besides the user store: the run's log and report changes,
//! and the connector's state. The WIT glue (or a test) implements [`Host`].

use crate::report::Entry;
use crate::state::ConnectorState;
use crate::store::StoreError;

/// Severity of a log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Detail.
    Debug,
    /// Progress.
    Info,
    /// Worth a look.
    Warn,
    /// Failure.
    Error,
}

/// The run's log and report, and the connector's state.
pub trait Host {
    /// Append a line to the run's log. Never a secret: the host shows these lines.
    fn log(&mut self, level: Level, message: &str);
    /// Append report lines to the run (a batch at a time, just before it is applied).
    fn record_changes(&mut self, entries: &[Entry]);
    /// What the connector knows (none: it never synced). A failed read fails the call.
    fn load_state(&mut self) -> Result<Option<ConnectorState>, StoreError>;
    /// Replace the connector's state; kept only if the call succeeds.
    fn save_state(&mut self, state: &ConnectorState);
}
