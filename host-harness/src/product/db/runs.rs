//! Sync runs: one row per sync (status, report as JSON, error) and its log lines.

use super::{Context, DbError, now};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

/// A run as listed.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Run {
    /// Run id.
    pub id: i64,
    /// Connector name.
    pub connector: String,
    /// `full`, `incremental` or `user`.
    pub kind: String,
    /// `manual`, `schedule`, `login`, `api`.
    pub trigger: String,
    /// Nothing written.
    pub dry_run: bool,
    /// `running`, `succeeded`, `failed`.
    pub status: String,
    /// Unix seconds.
    pub started_at: i64,
    /// Unix seconds.
    pub finished_at: Option<i64>,
    /// The report (JSON), when it succeeded.
    pub report: Option<serde_json::Value>,
    /// The error, when it failed.
    pub error: Option<String>,
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

const COLUMNS: &str = "r.id, c.name, r.kind, r.trigger, r.dry_run, r.status, r.started_at, r.finished_at, r.report, r.error";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Run> {
    let report: Option<String> = r.get(8)?;
    Ok(Run {
        id: r.get(0)?,
        connector: r.get(1)?,
        kind: r.get(2)?,
        trigger: r.get(3)?,
        dry_run: r.get(4)?,
        status: r.get(5)?,
        started_at: r.get(6)?,
        finished_at: r.get(7)?,
        report: report.and_then(|s| serde_json::from_str(&s).ok()),
        error: r.get(9)?,
    })
}

/// Record a run that starts now.
pub fn start(
    conn: &Connection,
    connector_id: i64,
    kind: &str,
    trigger: &str,
    dry_run: bool,
) -> Result<i64, DbError> {
    conn.execute(
        "INSERT INTO runs (connector_id, kind, trigger, dry_run, status, started_at) VALUES (?1, ?2, ?3, ?4, 'running', ?5)",
        params![connector_id, kind, trigger, dry_run, now()],
    )
    .ctx("recording a run")?;
    Ok(conn.last_insert_rowid())
}

/// Record how a run ended.
pub fn finish(
    conn: &Connection,
    run_id: i64,
    kind: &str,
    report: Option<&str>,
    error: Option<&str>,
) -> Result<(), DbError> {
    let status = if error.is_some() {
        "failed"
    } else {
        "succeeded"
    };
    conn.execute(
        "UPDATE runs SET status = ?2, kind = ?3, finished_at = ?4, report = ?5, error = ?6 WHERE id = ?1",
        params![run_id, status, kind, now(), report, error],
    )
    .ctx("finishing a run")?;
    Ok(())
}

/// Runs still marked running (left by a process that died) are marked failed.
pub fn fail_interrupted(conn: &Connection) -> Result<usize, DbError> {
    conn.execute(
        "UPDATE runs SET status = 'failed', finished_at = ?1, error = 'interrupted: the process stopped during the run; nothing of it was applied' \
         WHERE status = 'running'",
        [now()],
    )
    .ctx("closing interrupted runs")
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
