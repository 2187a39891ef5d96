//! When each connector's schedule last fired, so that schedules survive restarts and
//! missed runs collapse into one.

use super::{Context, DbError};
use rusqlite::{Connection, OptionalExtension, params};

/// The last time the connector's schedule fired (Unix seconds).
pub fn last_fire(conn: &Connection, connector_id: i64) -> Result<Option<i64>, DbError> {
    conn.query_row(
        "SELECT last_fire FROM schedule_state WHERE connector_id = ?1",
        [connector_id],
        |r| r.get(0),
    )
    .optional()
    .ctx("reading the schedule state")
}

/// Record that the schedule fired at `at`.
pub fn set_last_fire(conn: &Connection, connector_id: i64, at: i64) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO schedule_state (connector_id, last_fire) VALUES (?1, ?2) \
         ON CONFLICT (connector_id) DO UPDATE SET last_fire = excluded.last_fire",
        params![connector_id, at],
    )
    .ctx("writing the schedule state")?;
    Ok(())
}
