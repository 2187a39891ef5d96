//! The command line of approvals and the console's settings: `usersync runs pending`,
//! `usersync runs approve RUN`, `usersync runs reject RUN`, `usersync settings show|set`.
//! Who acts is the operating-system user, on the CLI.

use crate::harness::{Harness, HarnessError};
use crate::model::{PlanStatus, Trigger};
use crate::product::db::pending::PendingPlan;
use clap::Subcommand;

/// `usersync runs` subcommands (without one: the list of runs).
#[derive(Subcommand, Debug)]
pub enum RunsCommand {
    /// List the plans the mass-deactivation guard refused that wait for approval.
    Pending {
        /// Only this connector's.
        connector: Option<String>,
        /// Every plan, decided ones too (applied, changed, rejected, expired, superseded).
        #[arg(long)]
        all: bool,
    },
    /// Approve the plan of a run the guard refused: sync again, applying exactly that
    /// plan if Okta still gives it (else nothing, and the new plan waits for approval).
    Approve {
        /// The refused run's id.
        run: i64,
        /// Show at most this many changes.
        #[arg(long, default_value_t = 20)]
        changes: usize,
    },
    /// Reject the plan of a run the guard refused; nothing is synced.
    Reject {
        /// The refused run's id.
        run: i64,
    },
}

/// `usersync settings` subcommands: the console's settings (approvals, alerts).
#[derive(Subcommand, Debug)]
pub enum SettingsCommand {
    /// Print the settings (JSON).
    Show,
    /// Change the settings: a JSON document holding what changes, e.g.
    /// `{"approvals": {"expiryHours": 24}, "alerts": {"webhookUrl": "https://..."}}`.
    Set {
        /// The JSON patch.
        patch: String,
    },
}

/// Who acts on the command line: the operating-system user.
pub fn cli_actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown user".into());
    format!("{user} (CLI)")
}

/// The plans as a table.
pub fn plans_table(plans: &[PendingPlan]) -> String {
    if plans.is_empty() {
        return "No plans wait for approval.\n".into();
    }
    let mut s = String::from("RUN  CONNECTOR  STATUS  REMOVES  REFUSED  EXPIRES  DECIDED BY\n");
    for p in plans {
        s.push_str(&format!(
            "{}  {}  {}  {} of {}  {}  {}  {}\n",
            p.run_id,
            p.connector,
            p.status,
            p.would_remove,
            p.active_users,
            crate::harness::utc(p.created_at),
            crate::harness::utc(p.expires_at),
            p.decided_by.as_deref().unwrap_or("-"),
        ));
    }
    s
}

/// A guard refusal's error on the command line, with the way to approve or reject run
/// `run`'s plan.
pub fn with_approval_hint(e: HarnessError, run: i64) -> crate::surface::cli::CliError {
    let guard = e.kind() == crate::harness::ErrorKind::Guard;
    let mut cli = crate::surface::cli::CliError::from(e);
    if guard {
        cli.message.push_str(&format!(
            "\nThe plan of run #{run} waits for approval: `usersync log {run}` shows it, \
             `usersync runs approve {run}` applies it, `usersync runs reject {run}` drops it."
        ));
    }
    cli
}

/// `usersync runs pending`.
pub fn pending(
    h: &Harness,
    connector: Option<&str>,
    all: bool,
) -> Result<Vec<PendingPlan>, HarnessError> {
    let status = (!all).then_some(PlanStatus::Pending);
    h.plans(connector, status, 100)
}

/// `usersync runs approve RUN`: the approval's sync, run here.
pub fn approve(h: &Harness, run: i64) -> Result<crate::harness::SyncOutcome, HarnessError> {
    h.approve(run, &cli_actor(), Trigger::Manual)?.run()
}

/// `usersync runs reject RUN`.
pub fn reject(h: &Harness, run: i64) -> Result<PendingPlan, HarnessError> {
    h.reject(run, &cli_actor())
}

/// A decided plan in one sentence.
pub fn decided(p: &PendingPlan) -> String {
    format!(
        "The plan of run #{} ({}) is {} by {}.\n",
        p.run_id,
        p.connector,
        p.status,
        p.decided_by.as_deref().unwrap_or("-")
    )
}

/// `usersync settings set PATCH`.
pub fn set_settings(
    h: &Harness,
    patch: &str,
) -> Result<crate::model::console::ConsoleSettings, HarnessError> {
    let patch: serde_json::Value =
        serde_json::from_str(patch).map_err(|e| crate::model::console::ConsoleError {
            field: "settings".into(),
            message: format!("the settings are not JSON: {e}"),
        })?;
    h.update_console(&patch)
}
