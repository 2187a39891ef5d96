//! Alerts to send and their delivery (`alert_deliveries`: one row per alert and channel,
//! claimed by one sender at a time, retried with backoff), and the marks that keep a
//! standing condition (no successful sync for hours) from alerting at every check.

use super::{Context, DbError};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

/// Tries before a delivery is given up.
pub const MAX_ATTEMPTS: u32 = 5;

/// How long a claimed delivery may take before another sender may take it over.
const CLAIM_SECS: i64 = 300;

/// One alert on one channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// Id.
    pub id: i64,
    /// When the alert was raised (Unix seconds).
    pub created_at: i64,
    /// The connector it is about, if one.
    pub connector: Option<String>,
    /// Its kind (`sync-failed`, ...).
    pub kind: String,
    /// `webhook` or `email`.
    pub channel: String,
    /// Subject line.
    pub subject: String,
    /// The alert's text.
    pub text: String,
    /// `pending`, `sending`, `delivered` or `failed` (given up).
    pub status: String,
    /// Tries so far.
    pub attempts: u32,
    /// When it is tried next (pending) or its claim lapses (sending).
    pub next_attempt_at: i64,
    /// The last try's failure.
    pub last_error: Option<String>,
    /// When it was delivered.
    pub delivered_at: Option<i64>,
}

const COLUMNS: &str = "id, created_at, connector, kind, channel, subject, text, status, \
    attempts, next_attempt_at, last_error, delivered_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Delivery> {
    Ok(Delivery {
        id: r.get(0)?,
        created_at: r.get(1)?,
        connector: r.get(2)?,
        kind: r.get(3)?,
        channel: r.get(4)?,
        subject: r.get(5)?,
        text: r.get(6)?,
        status: r.get(7)?,
        attempts: r.get(8)?,
        next_attempt_at: r.get(9)?,
        last_error: r.get(10)?,
        delivered_at: r.get(11)?,
    })
}

/// What to queue: an alert for one channel.
pub struct NewDelivery<'a> {
    /// The connector, if one.
    pub connector: Option<&'a str>,
    /// The kind.
    pub kind: &'a str,
    /// `webhook` or `email`.
    pub channel: &'a str,
    /// Subject line.
    pub subject: &'a str,
    /// Text.
    pub text: &'a str,
}

/// Queue an alert on a channel, due now.
pub fn enqueue(conn: &Connection, d: &NewDelivery<'_>, now: i64) -> Result<i64, DbError> {
    conn.execute(
        "INSERT INTO alert_deliveries (created_at, connector, kind, channel, subject, text, status, next_attempt_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?1)",
        params![now, d.connector, d.kind, d.channel, d.subject, d.text],
    )
    .ctx("queueing an alert")?;
    Ok(conn.last_insert_rowid())
}

/// Claim the deliveries due at `now` (pending and due, or claimed by a sender that
/// took too long): each is this caller's to send until `now` + 5 minutes.
pub fn claim_due(conn: &Connection, now: i64, limit: u32) -> Result<Vec<Delivery>, DbError> {
    let due: Vec<Delivery> = conn
        .prepare(&format!(
            "SELECT {COLUMNS} FROM alert_deliveries WHERE status IN ('pending', 'sending') \
             AND next_attempt_at <= ?1 ORDER BY id LIMIT ?2"
        ))
        .and_then(|mut st| st.query_map(params![now, limit], from_row)?.collect())
        .ctx("reading the alerts due")?;
    let mut claimed = Vec::new();
    for d in due {
        let n = conn
            .execute(
                "UPDATE alert_deliveries SET status = 'sending', next_attempt_at = ?3 \
                 WHERE id = ?1 AND status = ?2 AND next_attempt_at = ?4",
                params![d.id, d.status, now + CLAIM_SECS, d.next_attempt_at],
            )
            .ctx("claiming an alert")?;
        if n == 1 {
            claimed.push(d);
        }
    }
    Ok(claimed)
}

/// A claimed delivery went through.
pub fn delivered(conn: &Connection, id: i64, now: i64) -> Result<(), DbError> {
    conn.execute(
        "UPDATE alert_deliveries SET status = 'delivered', attempts = attempts + 1, \
         delivered_at = ?2, last_error = NULL WHERE id = ?1",
        params![id, now],
    )
    .ctx("recording a delivered alert")?;
    Ok(())
}

/// A claimed delivery failed with `error`: tried again after 1, 2, 4, 8 minutes, then
/// given up (`failed`).
pub fn failed(conn: &Connection, d: &Delivery, error: &str, now: i64) -> Result<(), DbError> {
    let attempts = d.attempts + 1;
    let (status, next) = if attempts >= MAX_ATTEMPTS {
        ("failed", now)
    } else {
        ("pending", now + 60 * (1 << (attempts - 1)))
    };
    conn.execute(
        "UPDATE alert_deliveries SET status = ?2, attempts = ?3, next_attempt_at = ?4, \
         last_error = ?5 WHERE id = ?1",
        params![d.id, status, attempts, next, error],
    )
    .ctx("recording a failed alert delivery")?;
    Ok(())
}

/// The latest deliveries, newest first.
pub fn list(conn: &Connection, limit: u32) -> Result<Vec<Delivery>, DbError> {
    conn.prepare(&format!(
        "SELECT {COLUMNS} FROM alert_deliveries ORDER BY id DESC LIMIT ?1"
    ))
    .and_then(|mut st| st.query_map([limit], from_row)?.collect())
    .ctx("listing alerts")
}

/// When the connector was last alerted of `kind` (a standing condition), if ever.
pub fn mark(conn: &Connection, connector_id: i64, kind: &str) -> Result<Option<i64>, DbError> {
    conn.query_row(
        "SELECT at FROM alert_marks WHERE connector_id = ?1 AND kind = ?2",
        params![connector_id, kind],
        |r| r.get(0),
    )
    .optional()
    .ctx("reading an alert mark")
}

/// Record that the connector was alerted of `kind` at `at`.
pub fn set_mark(conn: &Connection, connector_id: i64, kind: &str, at: i64) -> Result<(), DbError> {
    conn.execute(
        "INSERT OR REPLACE INTO alert_marks (connector_id, kind, at) VALUES (?1, ?2, ?3)",
        params![connector_id, kind, at],
    )
    .ctx("recording an alert mark")?;
    Ok(())
}

/// A connector's id, name, creation and last successful (not dry) sync's end.
pub type LastSuccess = (i64, String, i64, Option<i64>);

/// Each connector's [`LastSuccess`].
pub fn last_successes(conn: &Connection) -> Result<Vec<LastSuccess>, DbError> {
    conn.prepare(
        "SELECT c.id, c.name, c.created_at, MAX(r.finished_at) FROM connectors c \
         LEFT JOIN runs r ON r.connector_id = c.id AND r.status = 'succeeded' AND NOT r.dry_run \
         GROUP BY c.id ORDER BY c.name",
    )
    .and_then(|mut st| {
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect()
    })
    .ctx("reading the connectors' last successes")
}
