//! Apply: the plan written in batches that form one transaction, each batch's report
//! lines sent to the host just before it (a dry run sends them all and writes nothing).

use super::{SyncError, ms};
use crate::host::{Host, Level};
use crate::plan::Plan;
use crate::store::Store;
use std::time::Instant;

/// Changes per `apply` batch: what the guest lowers and the host lifts at once.
pub const APPLY_BATCH: usize = 10_000;

/// Apply `plan` to `directory` in one transaction, in batches of [`APPLY_BATCH`], or,
/// in a dry run, only record its changes: (writes, ms).
pub fn apply(
    plan: Plan,
    directory: &str,
    dry_run: bool,
    store: &mut impl Store,
    host: &mut impl Host,
) -> Result<(u32, u64), SyncError> {
    let n = plan.changes.len();
    if dry_run || n == 0 {
        for (_, entries) in plan.into_batches(APPLY_BATCH) {
            host.record_changes(&entries);
        }
        host.log(Level::Info, &format!("{n} changes planned, none applied"));
        return Ok((0, 0));
    }
    let started = Instant::now();
    let mut writes = 0;
    let mut batches = plan.into_batches(APPLY_BATCH).peekable();
    while let Some((changes, entries)) = batches.next() {
        let more = batches.peek().is_some();
        host.record_changes(&entries);
        let r = store.apply(directory, changes, more).inspect_err(|e| {
            host.log(
                Level::Error,
                &format!("applying {n} changes failed, nothing was written: {e}"),
            );
        })?;
        writes += r.writes;
    }
    host.log(
        Level::Info,
        &format!("applied {n} changes ({writes} rows written)"),
    );
    Ok((writes, ms(started)))
}
