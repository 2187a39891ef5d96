//! Sync runs: one row per sync (kind, trigger, status, the report as a versioned JSON
//! document or the failure's kind and sentence) and its log lines.

use super::connectors::unreadable;
use super::{Context, DbError, lease, now};
use crate::model::stored;
use crate::model::{Failure, FailureKind, RunKind, RunStatus, SyncReport, Trigger};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

/// A run as listed.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    /// Run id.
    pub id: i64,
    /// Connector name.
    pub connector: String,
    /// What it synced.
    pub kind: RunKind,
    /// Who started it.
    pub trigger: Trigger,
    /// Nothing written.
    pub dry_run: bool,
    /// Where it is.
    pub status: RunStatus,
    /// Unix seconds.
    pub started_at: i64,
    /// Unix seconds.
    pub finished_at: Option<i64>,
    /// The report, when it succeeded.
    pub report: Option<SyncReport>,
    /// Why it failed, when it did.
    pub failure: Option<Failure>,
}

/// One log line of a run.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LogLine {
    /// Unix seconds.
    pub at: i64,
    /// `debug`, `info`, `warn`, `error`.
    pub level: String,
    /// The line.
    pub message: String,
}

const COLUMNS: &str = "r.id, c.name, r.kind, r.trigger, r.dry_run, r.status, r.started_at, r.finished_at, r.report, r.failure, r.error";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Run> {
    let report: Option<String> = r.get(8)?;
    let report = report
        .map(|json| stored::read_report(&json).map_err(|e| unreadable(8, e)))
        .transpose()?;
    let kind: Option<FailureKind> = r.get(9)?;
    let message: Option<String> = r.get(10)?;
    Ok(Run {
        id: r.get(0)?,
        connector: r.get(1)?,
        kind: r.get(2)?,
        trigger: r.get(3)?,
        dry_run: r.get(4)?,
        status: r.get(5)?,
        started_at: r.get(6)?,
        finished_at: r.get(7)?,
        report,
        failure: kind.map(|kind| Failure {
            kind,
            message: message.unwrap_or_default(),
        }),
    })
}

/// Record a run that starts now, owned by the harness instance `owner` (which holds
/// the connector's sync lease, `lease::sync_lease`, while the run is running).
pub fn start(
    conn: &Connection,
    connector_id: i64,
    kind: RunKind,
    trigger: Trigger,
    dry_run: bool,
    owner: &str,
) -> Result<i64, DbError> {
    conn.execute(
        "INSERT INTO runs (connector_id, kind, trigger, dry_run, status, started_at, owner) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![connector_id, kind, trigger, dry_run, RunStatus::Running, now(), owner],
    )
    .ctx("recording a run")?;
    Ok(conn.last_insert_rowid())
}

/// Record that a run succeeded, with its report: in the transaction of its apply, so
/// that the run says `succeeded` exactly when its changes are committed. Refused (and
/// with it the apply) if the run is no longer running: another process found its owner
/// gone and marked it interrupted, saying nothing was applied.
pub fn finish_succeeded(
    conn: &Connection,
    run_id: i64,
    kind: RunKind,
    report: &SyncReport,
) -> Result<(), DbError> {
    let context = format!("finishing run #{run_id}");
    let n = conn
        .execute(
            "UPDATE runs SET status = ?2, kind = ?3, finished_at = ?4, report = ?5 WHERE id = ?1 AND status = ?6",
            params![
                run_id,
                RunStatus::Succeeded,
                kind,
                now(),
                stored::report_json(report),
                RunStatus::Running
            ],
        )
        .ctx(&context)?;
    if n == 1 {
        return Ok(());
    }
    Err(DbError {
        context,
        source: rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
            Some(
                "the run was marked interrupted meanwhile (this process had missed its \
                 lease's heartbeats and another took over); its changes were rolled back"
                    .into(),
            ),
        ),
    })
}

/// Record that a run failed, and why, unless it ended already (e.g. its apply committed
/// though the commit reported an error); whether it was still running.
pub fn finish_failed(
    conn: &Connection,
    run_id: i64,
    kind: RunKind,
    failure: &Failure,
) -> Result<bool, DbError> {
    let n = conn
        .execute(
            "UPDATE runs SET status = ?2, kind = ?3, finished_at = ?4, failure = ?5, error = ?6 WHERE id = ?1 AND status = ?7",
            params![run_id, RunStatus::Failed, kind, now(), failure.kind, failure.message, RunStatus::Running],
        )
        .ctx("finishing a run")?;
    Ok(n == 1)
}

/// The error of a run whose owner went away before it committed: a run says
/// `running` only until the transaction of its apply, which also ends it, commits.
const INTERRUPTED: &str = "interrupted: the process running it stopped (or lost its lease) before the run committed; nothing of it was applied";

/// Mark `condition`'s running runs failed as interrupted; how many.
fn interrupt(conn: &Connection, condition: &str, id: i64) -> Result<usize, DbError> {
    conn.execute(
        &format!(
            "UPDATE runs SET status = ?1, finished_at = ?2, failure = ?3, error = ?4 \
             WHERE status = ?5 AND {condition} = ?6"
        ),
        params![
            RunStatus::Failed,
            now(),
            FailureKind::Interrupted,
            INTERRUPTED,
            RunStatus::Running,
            id
        ],
    )
    .ctx("closing interrupted runs")
}

/// The running runs of a connector whose sync lease the caller just took: their owner
/// is gone (it no longer holds the lease).
pub fn interrupt_connector(conn: &Connection, connector_id: i64) -> Result<usize, DbError> {
    interrupt(conn, "connector_id", connector_id)
}

/// Running runs whose owner is gone at `now`: it no longer holds its connector's sync
/// lease live (runs of versions before leases have no owner).
fn orphans(conn: &Connection, now: i64) -> Result<Vec<i64>, DbError> {
    let running: Vec<(i64, i64, Option<String>)> = conn
        .prepare("SELECT id, connector_id, owner FROM runs WHERE status = ?1")
        .and_then(|mut st| {
            st.query_map([RunStatus::Running], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect()
        })
        .ctx("reading running runs")?;
    let mut gone = Vec::new();
    for (id, connector, owner) in running {
        let lease = lease::get(conn, &lease::sync_lease(connector))?;
        let owned = lease.is_some_and(|l| {
            l.is_live(now) && owner.as_deref() == Some(l.holder.instance.as_str())
        });
        if !owned {
            gone.push(id);
        }
    }
    Ok(gone)
}

/// Runs still marked running whose owner is gone (its process died, or stopped renewing
/// its lease) are marked failed as interrupted; a live run of another process is left
/// alone. Read first, so that a database with no such run is not written; re-checked
/// under the write lock.
pub fn close_orphaned(conn: &Connection, now: i64) -> Result<usize, DbError> {
    if orphans(conn, now)?.is_empty() {
        return Ok(0);
    }
    lease::immediate(conn, |conn| -> Result<_, DbError> {
        let mut n = 0;
        for id in orphans(conn, now)? {
            n += interrupt(conn, "id", id)?;
        }
        Ok(n)
    })
}

/// Reports stored by an earlier version rewritten as the current document, and the
/// failure kind of runs failed before runs recorded one, in one transaction.
pub fn upgrade_stored(conn: &mut Connection) -> Result<(), DbError> {
    let tx = conn.transaction().ctx("starting a transaction")?;
    let old: Vec<(i64, String)> = tx
        .prepare("SELECT id, report FROM runs WHERE report IS NOT NULL AND json_extract(report, '$.version') IS NULL")
        .and_then(|mut st| st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .ctx("reading reports to upgrade")?;
    for (id, json) in old {
        let context = format!("upgrading the stored report of run #{id}");
        if let Some(new) = stored::upgrade_report(&json)
            .map_err(|e| unreadable(1, e))
            .ctx(&context)?
        {
            tx.execute(
                "UPDATE runs SET report = ?2 WHERE id = ?1",
                params![id, new],
            )
            .ctx(&context)?;
        }
    }
    let failed: Vec<(i64, String)> = tx
        .prepare(
            "SELECT id, coalesce(error, '') FROM runs WHERE status = 'failed' AND failure IS NULL",
        )
        .and_then(|mut st| st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .ctx("reading failed runs to upgrade")?;
    for (id, error) in failed {
        tx.execute(
            "UPDATE runs SET failure = ?2 WHERE id = ?1",
            params![id, stored::legacy_failure_kind(&error)],
        )
        .ctx("upgrading a failed run")?;
    }
    tx.commit().ctx("committing the upgrade of runs")
}

/// Append a log line.
pub fn log(conn: &Connection, run_id: i64, level: &str, message: &str) -> Result<(), DbError> {
    conn.prepare_cached("INSERT INTO run_log (run_id, at, level, message) VALUES (?1, ?2, ?3, ?4)")
        .and_then(|mut st| st.execute(params![run_id, now(), level, message]))
        .ctx("writing the sync log")?;
    Ok(())
}

/// The newest runs, of one connector or all.
pub fn list(conn: &Connection, connector_id: Option<i64>, limit: u32) -> Result<Vec<Run>, DbError> {
    let mut st = conn
        .prepare(&format!(
            "SELECT {COLUMNS} FROM runs r JOIN connectors c ON c.id = r.connector_id \
             WHERE (?1 IS NULL OR r.connector_id = ?1) ORDER BY r.id DESC LIMIT ?2"
        ))
        .ctx("listing runs")?;
    st.query_map(params![connector_id, limit], from_row)
        .ctx("listing runs")?
        .collect::<Result<_, _>>()
        .ctx("reading runs")
}

/// One run.
pub fn get(conn: &Connection, id: i64) -> Result<Option<Run>, DbError> {
    conn.query_row(&format!("SELECT {COLUMNS} FROM runs r JOIN connectors c ON c.id = r.connector_id WHERE r.id = ?1"), [id], from_row)
        .optional()
        .ctx("reading a run")
}

/// A run's log.
pub fn log_lines(conn: &Connection, run_id: i64) -> Result<Vec<LogLine>, DbError> {
    let mut st = conn
        .prepare("SELECT at, level, message FROM run_log WHERE run_id = ?1 ORDER BY rowid")
        .ctx("reading the log")?;
    st.query_map([run_id], |r| {
        Ok(LogLine {
            at: r.get(0)?,
            level: r.get(1)?,
            message: r.get(2)?,
        })
    })
    .ctx("reading the log")?
    .collect::<Result<_, _>>()
    .ctx("reading the log")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::product::db::Db;

    /// A database with connector 1.
    fn with_connector() -> Db {
        let db = Db::in_memory().unwrap();
        db.lock()
            .execute_batch(
                "INSERT INTO directories (name, kind, position) VALUES ('Okta: c', 'okta', 1); \
                 INSERT INTO connectors (name, config, directory_id, created_at, updated_at) \
                 VALUES ('c', '{}', 2, 0, 0);",
            )
            .unwrap();
        db
    }

    #[test]
    fn a_failure_is_recorded_only_on_a_run_still_running() {
        let db = with_connector();
        let conn = db.lock();
        let run = start(&conn, 1, RunKind::Full, Trigger::Manual, false, "me").unwrap();
        // The apply's transaction ended it, though its commit reported an error.
        conn.execute("UPDATE runs SET status = 'succeeded' WHERE id = ?1", [run])
            .unwrap();
        let failure = Failure {
            kind: FailureKind::Store,
            message: "database: committing: disk I/O error".into(),
        };
        assert!(!finish_failed(&conn, run, RunKind::Full, &failure).unwrap());
        let kept = get(&conn, run).unwrap().unwrap();
        assert_eq!((kept.status, kept.failure), (RunStatus::Succeeded, None));

        let other = start(&conn, 1, RunKind::Full, Trigger::Manual, false, "me").unwrap();
        assert!(finish_failed(&conn, other, RunKind::Full, &failure).unwrap());
        assert_eq!(get(&conn, other).unwrap().unwrap().failure, Some(failure));
    }

    #[test]
    fn a_run_without_a_live_lease_of_its_owner_is_closed_and_a_live_one_is_not() {
        let db = with_connector();
        let conn = db.lock();
        let me = lease::Holder::this_process();
        let live = start(
            &conn,
            1,
            RunKind::Full,
            Trigger::Manual,
            false,
            &me.instance,
        )
        .unwrap();
        assert_eq!(
            lease::take(&conn, &lease::sync_lease(1), &me, 1000).unwrap(),
            Ok(())
        );
        assert_eq!(close_orphaned(&conn, 1000).unwrap(), 0);
        // Another owner's run of the same connector (e.g. before a takeover): closed.
        let stale = start(&conn, 1, RunKind::Full, Trigger::Manual, false, "gone").unwrap();
        assert_eq!(close_orphaned(&conn, 1000).unwrap(), 1);
        // Lapsed: the owner's own run is closed too.
        assert_eq!(close_orphaned(&conn, 1000 + lease::TTL).unwrap(), 1);
        for run in [live, stale] {
            let r = get(&conn, run).unwrap().unwrap();
            assert_eq!(r.status, RunStatus::Failed);
            assert_eq!(r.failure.unwrap().kind, FailureKind::Interrupted);
        }
    }
}
