//! What `/metrics` reports, read from the database at each scrape: the runs and their
//! changes are the record of what every process on this database did (a CLI sync
//! next to `serve` included), and survive restarts, so counters never go back.

use super::{Context, DbError};
use rusqlite::Connection;

/// One scrape's figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    /// (connector, result, runs): `result` is `succeeded`, `dry-run`, `running` or the
    /// failure's kind (`guard`, `okta`, ...).
    pub runs: Vec<(String, String, u64)>,
    /// (connector, seconds) of every finished run.
    pub durations: Vec<(String, f64)>,
    /// (connector, action, changes applied) of succeeded, not dry, runs.
    pub changes: Vec<(String, String, u64)>,
    /// (connector, Unix seconds) of the last succeeded, not dry, run.
    pub last_success: Vec<(String, i64)>,
    /// (connector, requests, retries, 429s) over its succeeded runs' reports.
    pub okta: Vec<(String, u64, u64, u64)>,
    /// (channel, status, deliveries) of alerts.
    pub deliveries: Vec<(String, String, u64)>,
}

fn rows<T>(
    conn: &Connection,
    sql: &str,
    f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, DbError> {
    conn.prepare(sql)
        .and_then(|mut st| st.query_map([], f)?.collect())
        .ctx("reading the metrics")
}

/// Read them.
pub fn read(conn: &Connection) -> Result<Figures, DbError> {
    Ok(Figures {
        runs: rows(
            conn,
            "SELECT c.name, CASE WHEN r.status = 'failed' THEN COALESCE(r.failure, 'failed') \
             WHEN r.status = 'succeeded' AND r.dry_run THEN 'dry-run' ELSE r.status END AS result, \
             COUNT(*) FROM runs r JOIN connectors c ON c.id = r.connector_id \
             GROUP BY c.name, result ORDER BY c.name, result",
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?,
        durations: rows(
            conn,
            "SELECT c.name, r.finished_at - r.started_at FROM runs r \
             JOIN connectors c ON c.id = r.connector_id WHERE r.finished_at IS NOT NULL",
            |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as f64)),
        )?,
        changes: rows(
            conn,
            "SELECT c.name, ch.action, SUM(ch.count) FROM run_change_chunks ch \
             JOIN runs r ON r.id = ch.run_id JOIN connectors c ON c.id = r.connector_id \
             WHERE r.status = 'succeeded' AND NOT r.dry_run GROUP BY c.name, ch.action \
             ORDER BY c.name, ch.action",
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?,
        last_success: rows(
            conn,
            "SELECT c.name, MAX(r.finished_at) FROM runs r JOIN connectors c ON c.id = r.connector_id \
             WHERE r.status = 'succeeded' AND NOT r.dry_run GROUP BY c.name ORDER BY c.name",
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?,
        okta: rows(
            conn,
            "SELECT c.name, \
             COALESCE(SUM(json_extract(r.report, '$.report.requests')), 0), \
             COALESCE(SUM(json_extract(r.report, '$.report.retries')), 0), \
             COALESCE(SUM(json_extract(r.report, '$.report.rateLimited')), 0) \
             FROM runs r JOIN connectors c ON c.id = r.connector_id \
             WHERE r.status = 'succeeded' AND json_valid(r.report) GROUP BY c.name ORDER BY c.name",
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?,
        deliveries: rows(
            conn,
            "SELECT channel, status, COUNT(*) FROM alert_deliveries GROUP BY channel, status \
             ORDER BY channel, status",
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?,
    })
}
