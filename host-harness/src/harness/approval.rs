//! Approvals: a sync the mass-deactivation guard refuses is kept as a *pending plan*
//! (its run, with the changes the plugin recorded for it); an admin approves it, which
//! syncs again with the plugin's `approved-plan` (applying exactly that plan, or, when
//! Okta or the store no longer give it, nothing, and the new plan is pending instead),
//! or rejects it. Plans expire after the console's `approvals.expiryHours`.

use super::{Harness, HarnessError, StartedSync, SyncLease, SyncRequest};
use crate::host::HostState;
use crate::model::console::ConsoleSettings;
use crate::model::{GuardRefusal, PlanStatus, RunKind, SyncError, Trigger};
use crate::product::db::pending::{self, PendingPlan};
use crate::product::db::{self, DbError, connectors::StoredConnector, console, lease, runs};
use rusqlite::Connection;

/// Why a plan cannot be approved or rejected.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    /// The run was not refused by the guard.
    #[error(
        "run #{0} was not stopped by the mass-deactivation guard: it has no plan to approve or reject"
    )]
    NoPlan(i64),
    /// The plan was decided already, superseded or expired.
    #[error("the plan of run #{run} {}: only a pending plan can be approved or rejected", said(*.status, *.next_run, .decided_by.as_deref()))]
    NotPending {
        /// The refused run.
        run: i64,
        /// Where its plan is.
        status: PlanStatus,
        /// The run that followed, if any.
        next_run: Option<i64>,
        /// Who decided it.
        decided_by: Option<String>,
    },
}

fn said(status: PlanStatus, next: Option<i64>, by: Option<&str>) -> String {
    let by = by.map(|b| format!(" by {b}")).unwrap_or_default();
    let next = next.map(|n| format!(" (run #{n})")).unwrap_or_default();
    match status {
        PlanStatus::Pending => "is pending".into(),
        PlanStatus::Applied => format!("was approved{by} and applied{next}"),
        PlanStatus::Changed => {
            format!("was approved{by}, but Okta no longer gave it; the new plan is pending{next}")
        }
        PlanStatus::Rejected => format!("was rejected{by}"),
        PlanStatus::Expired => "expired before anyone approved it; sync again".into(),
        PlanStatus::Superseded => format!("was superseded by a later sync{next}"),
    }
}

/// What an approval started: the run that re-checks and applies the plan.
pub type Approved = StartedSync;

impl PendingPlan {
    fn still_pending(&self) -> Result<(), ApprovalError> {
        if self.status == PlanStatus::Pending {
            return Ok(());
        }
        Err(ApprovalError::NotPending {
            run: self.run_id,
            status: self.status,
            next_run: self.next_run,
            decided_by: self.decided_by.clone(),
        })
    }
}

/// Run `run_id`'s plan, still pending (plans past their expiry are marked expired first).
fn pending_in(conn: &Connection, run_id: i64) -> Result<PendingPlan, HarnessError> {
    pending::expire(conn, db::now())?;
    let plan = pending::get(conn, run_id)?.ok_or(ApprovalError::NoPlan(run_id))?;
    plan.still_pending()?;
    Ok(plan)
}

/// Mark the approved plan `p` applied by run `by_run` (in that run's commit).
pub(super) fn applied(conn: &Connection, p: &PendingPlan, by_run: i64) -> Result<(), DbError> {
    decide_by_run(conn, p, PlanStatus::Applied, by_run)
}

fn decide_by_run(
    conn: &Connection,
    p: &PendingPlan,
    status: PlanStatus,
    run: i64,
) -> Result<(), DbError> {
    let by = pending::actor(conn, run)?.unwrap_or_else(|| "an admin".into());
    pending::decide(conn, p.run_id, status, &by, db::now(), Some(run))?;
    Ok(())
}

impl Harness {
    /// The plans the guard refused, newest first: of one connector or all, in one status
    /// or any (plans past their expiry are marked expired first, unless read-only).
    pub fn plans(
        &self,
        connector: Option<&str>,
        status: Option<PlanStatus>,
        limit: u32,
    ) -> Result<Vec<PendingPlan>, HarnessError> {
        let id = connector
            .map(|n| self.stored(n).map(|c| c.id))
            .transpose()?;
        let conn = self.db.lock();
        if !self.db.read_only() {
            pending::expire(&conn, db::now())?;
        }
        Ok(pending::list(&conn, id, status, limit)?)
    }

    /// The console's settings (approvals, alerts).
    pub fn console(&self) -> Result<ConsoleSettings, HarnessError> {
        Ok(console::get(&self.db.lock())?)
    }

    /// Change the console's settings: `patch` holds any part of the document (as JSON,
    /// camelCase); refused naming the setting, and then nothing changes.
    pub fn update_console(
        &self,
        patch: &serde_json::Value,
    ) -> Result<ConsoleSettings, HarnessError> {
        self.db.still_there()?;
        let conn = self.db.lock();
        let next = console::get(&conn)?.patched(patch)?;
        console::put(&conn, &next)?;
        Ok(next)
    }

    /// The plan of run `run_id`, if the guard refused it; refused if there is no such run.
    pub fn refused_plan(&self, run_id: i64) -> Result<PendingPlan, HarnessError> {
        match self.plan(run_id)? {
            Some(p) => Ok(p),
            None => {
                runs::get(&self.db.lock(), run_id)?.ok_or(HarnessError::UnknownRun(run_id))?;
                Err(ApprovalError::NoPlan(run_id).into())
            }
        }
    }

    /// The plan of run `run_id`, if the guard refused it.
    pub fn plan(&self, run_id: i64) -> Result<Option<PendingPlan>, HarnessError> {
        let conn = self.db.lock();
        if !self.db.read_only() {
            pending::expire(&conn, db::now())?;
        }
        Ok(pending::get(&conn, run_id)?)
    }

    /// Who started run `run_id`, if recorded (`admin (REST API)`, `scheduler`).
    pub fn run_actor(&self, run_id: i64) -> Result<Option<String>, HarnessError> {
        Ok(pending::actor(&self.db.lock(), run_id)?)
    }

    /// Approve run `run_id`'s pending plan as `by`: start the sync that re-checks it
    /// and applies exactly it ([`StartedSync::run`]); its run is failed with
    /// `plan-changed`, and a new plan pending, if Okta or the store changed meanwhile.
    pub fn approve(
        &self,
        run_id: i64,
        by: &str,
        trigger: Trigger,
    ) -> Result<Approved, HarnessError> {
        self.db.still_there()?;
        let plan = self.refused_plan(run_id)?;
        let c = self.stored(&plan.connector)?;
        let req = SyncRequest {
            incremental: plan.kind == RunKind::Incremental,
            trigger,
            ..SyncRequest::default()
        };
        let (lease, run, plan) = lease::immediate(&self.db.lock(), |conn| {
            let lease = self.take_sync_lease(conn, &c)?;
            let plan = pending_in(conn, run_id)?;
            let run = self.record_start(conn, &c, req, Some(by))?;
            runs::log(
                conn,
                run,
                "info",
                &format!(
                    "{by} approved the plan of run #{run_id} ({} users deactivated or deleted, plan {}): re-checking it against Okta",
                    plan.would_remove, plan.plan_digest
                ),
            )?;
            Ok::<_, HarnessError>((lease, run, plan))
        })?;
        Ok(StartedSync {
            harness: self.clone(),
            c,
            run_id: run,
            req,
            done: false,
            lease,
            approving: Some(plan),
        })
    }

    /// Reject run `run_id`'s pending plan as `by`; nothing is synced.
    pub fn reject(&self, run_id: i64, by: &str) -> Result<PendingPlan, HarnessError> {
        self.db.still_there()?;
        let plan = self.refused_plan(run_id)?;
        let c = self.stored(&plan.connector)?;
        lease::immediate(&self.db.lock(), |conn| {
            // Taken so that an approval of the plan running now finishes first.
            let lease = self.take_sync_lease(conn, &c)?;
            pending_in(conn, run_id)?;
            pending::decide(conn, run_id, PlanStatus::Rejected, by, db::now(), None)?;
            runs::log(conn, run_id, "warn", &format!("{by} rejected this plan"))?;
            lease.release(conn)?;
            Ok::<_, HarnessError>(())
        })?;
        Ok(self.plan(run_id)?.ok_or(ApprovalError::NoPlan(run_id))?)
    }

    /// End a run the guard refused (or whose approved plan changed): its recorded
    /// changes, its failure, the pending plan and the release of its lease in one
    /// commit; the plan `approving` changed, if this was its approval. If that cannot be
    /// written, the run fails as any other (without a plan). Returns the sync's error.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn keep_pending(
        &self,
        c: &StoredConnector,
        lease: &SyncLease,
        run_id: i64,
        req: SyncRequest,
        refusal: GuardRefusal,
        approving: Option<&PendingPlan>,
        state: &mut HostState,
    ) -> HarnessError {
        let e = HarnessError::Sync(match approving {
            Some(_) => SyncError::PlanChanged(refusal.clone()),
            None => SyncError::Guard(refusal.clone()),
        });
        let failure = e.failure();
        let now = db::now();
        let mut expires = now;
        // In the call's transaction, which holds the connection until it ends.
        let kept = state.commit(false, |conn| {
            let hours = console::get(conn)?.approvals.expiry_hours;
            expires = now + i64::from(hours) * 3600;
            runs::finish_failed(conn, run_id, req.kind(), &failure)?;
            // The approved plan changed (first: the new plan supersedes what is pending).
            if let Some(p) = approving {
                decide_by_run(conn, p, PlanStatus::Changed, run_id)?;
            }
            pending::insert(conn, run_id, c.id, req.kind(), &refusal, now, expires)?;
            lease.release(conn)
        });
        if let Err(commit) = kept {
            tracing::warn!(run = run_id, "the refused plan could not be kept: {commit}");
            return self
                .fail_run(lease, run_id, req.kind(), e, Some(state))
                .unwrap_or_else(HarnessError::Db);
        }
        let line = format!(
            "the plan is kept for approval until {}: approve it on the run's page, with \
             `usersync runs approve {run_id}` or POST /rest/usersync/1.0/runs/{run_id}/approve",
            super::utc(expires)
        );
        if let Err(log) = runs::log(&self.db.lock(), run_id, "warn", &line) {
            tracing::warn!(run = run_id, "{log}");
        }
        e
    }
}
