//! Pending plans: runs the mass-deactivation guard refused, kept (with the changes the
//! plugin recorded for them, in `run_change_chunks`) until an admin approves or rejects
//! them, or they expire; and who started a run or decided a plan (`run_actors`).

use super::{Context, DbError};
use crate::model::{GuardRefusal, PlanStatus, RunKind};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

/// A plan the guard refused, as admins see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingPlan {
    /// The refused run (its changes are the plan).
    pub run_id: i64,
    /// The connector's name.
    pub connector: String,
    /// The connector's id.
    #[serde(skip)]
    pub connector_id: i64,
    /// The plan's digest: what an approval names (the plugin applies exactly that plan).
    pub plan_digest: String,
    /// The refused run's kind (the approval syncs the same way).
    pub kind: RunKind,
    /// Users the plan deactivates or deletes.
    pub would_remove: u32,
    /// The directory's active users when it was refused.
    pub active_users: u32,
    /// Where it is.
    pub status: PlanStatus,
    /// Who started the refused run, when known (`admin (REST API)`, `scheduler`).
    pub requested_by: Option<String>,
    /// When it was refused (Unix seconds).
    pub created_at: i64,
    /// When it expires if nobody decides (Unix seconds).
    pub expires_at: i64,
    /// Who approved or rejected it.
    pub decided_by: Option<String>,
    /// When (Unix seconds).
    pub decided_at: Option<i64>,
    /// The run that applied it, or that refused the changed plan, or that superseded it.
    pub next_run: Option<i64>,
}

const COLUMNS: &str = "p.run_id, c.name, p.connector_id, p.digest, p.kind, p.would_remove, \
    p.active_users, p.status, a.actor, p.created_at, p.expires_at, p.decided_by, \
    p.decided_at, p.next_run";

const FROM: &str = "pending_plans p JOIN connectors c ON c.id = p.connector_id \
    LEFT JOIN run_actors a ON a.run_id = p.run_id";

fn from_row(r: &Row<'_>) -> rusqlite::Result<PendingPlan> {
    Ok(PendingPlan {
        run_id: r.get(0)?,
        connector: r.get(1)?,
        connector_id: r.get(2)?,
        plan_digest: r.get(3)?,
        kind: r.get(4)?,
        would_remove: r.get(5)?,
        active_users: r.get(6)?,
        status: r.get(7)?,
        requested_by: r.get(8)?,
        created_at: r.get(9)?,
        expires_at: r.get(10)?,
        decided_by: r.get(11)?,
        decided_at: r.get(12)?,
        next_run: r.get(13)?,
    })
}

/// Keep run `run_id`'s refused plan pending until `expires_at`; the connector's plans
/// pending before it are superseded by it (only the latest plan can still be the plan).
pub fn insert(
    conn: &Connection,
    run_id: i64,
    connector_id: i64,
    kind: RunKind,
    refusal: &GuardRefusal,
    now: i64,
    expires_at: i64,
) -> Result<(), DbError> {
    supersede(conn, connector_id, run_id)?;
    conn.execute(
        "INSERT INTO pending_plans (run_id, connector_id, digest, kind, would_remove, active_users, status, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            run_id,
            connector_id,
            refusal.plan_digest,
            kind,
            refusal.would_remove,
            refusal.active_users,
            PlanStatus::Pending,
            now,
            expires_at
        ],
    )
    .ctx("keeping the refused plan for approval")?;
    Ok(())
}

/// The connector's pending plans are superseded by run `run_id` (a later refusal, or a
/// sync that passed: either way they are no longer the plan).
pub fn supersede(conn: &Connection, connector_id: i64, run_id: i64) -> Result<(), DbError> {
    conn.execute(
        "UPDATE pending_plans SET status = ?1, next_run = ?2 WHERE connector_id = ?3 AND status = ?4",
        params![
            PlanStatus::Superseded,
            run_id,
            connector_id,
            PlanStatus::Pending
        ],
    )
    .ctx("superseding the connector's pending plans")?;
    Ok(())
}

/// The plan of run `run_id`, if the guard refused that run.
pub fn get(conn: &Connection, run_id: i64) -> Result<Option<PendingPlan>, DbError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM {FROM} WHERE p.run_id = ?1"),
        [run_id],
        from_row,
    )
    .optional()
    .ctx("reading a pending plan")
}

/// Plans, newest first: of one connector or all, in one status or any.
pub fn list(
    conn: &Connection,
    connector_id: Option<i64>,
    status: Option<PlanStatus>,
    limit: u32,
) -> Result<Vec<PendingPlan>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE (?1 IS NULL OR p.connector_id = ?1) \
         AND (?2 IS NULL OR p.status = ?2) ORDER BY p.run_id DESC LIMIT ?3"
    );
    conn.prepare(&sql)
        .and_then(|mut st| {
            st.query_map(params![connector_id, status, limit], from_row)?
                .collect()
        })
        .ctx("listing pending plans")
}

/// Decide a plan that is still pending: `status`, by whom, the run that followed;
/// whether it was pending.
pub fn decide(
    conn: &Connection,
    run_id: i64,
    status: PlanStatus,
    by: &str,
    now: i64,
    next_run: Option<i64>,
) -> Result<bool, DbError> {
    let n = conn
        .execute(
            "UPDATE pending_plans SET status = ?2, decided_by = ?3, decided_at = ?4, next_run = ?5 \
             WHERE run_id = ?1 AND status = ?6",
            params![run_id, status, by, now, next_run, PlanStatus::Pending],
        )
        .ctx("deciding a pending plan")?;
    Ok(n == 1)
}

/// Mark the plans pending past their expiry expired; how many.
pub fn expire(conn: &Connection, now: i64) -> Result<usize, DbError> {
    conn.execute(
        "UPDATE pending_plans SET status = ?1 WHERE status = ?2 AND expires_at <= ?3",
        params![PlanStatus::Expired, PlanStatus::Pending, now],
    )
    .ctx("expiring pending plans")
}

/// Pending plans per connector (connectors without any: 0).
pub fn pending_counts(conn: &Connection) -> Result<Vec<(String, u64)>, DbError> {
    conn.prepare(
        "SELECT c.name, COUNT(p.run_id) FROM connectors c \
         LEFT JOIN pending_plans p ON p.connector_id = c.id AND p.status = ?1 \
         GROUP BY c.id ORDER BY c.name",
    )
    .and_then(|mut st| {
        st.query_map([PlanStatus::Pending], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect()
    })
    .ctx("counting pending plans")
}

/// Record who started run `run_id` (an admin on a surface, the scheduler).
pub fn set_actor(conn: &Connection, run_id: i64, actor: &str) -> Result<(), DbError> {
    conn.execute(
        "INSERT OR REPLACE INTO run_actors (run_id, actor) VALUES (?1, ?2)",
        params![run_id, actor],
    )
    .ctx("recording who started a run")?;
    Ok(())
}

/// Who started run `run_id`, if recorded.
pub fn actor(conn: &Connection, run_id: i64) -> Result<Option<String>, DbError> {
    conn.query_row(
        "SELECT actor FROM run_actors WHERE run_id = ?1",
        [run_id],
        |r| r.get(0),
    )
    .optional()
    .ctx("reading who started a run")
}
