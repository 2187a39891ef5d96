//! A sync as named phases over one [`Call`]: settings validated and rules compiled once
//! ([`begin`]), then choose the mode, fetch from Okta, project the Okta objects onto
//! what the store should hold, diff against the store, guard, apply (streaming the
//! report's changes batch by batch) and report. Nothing is applied unless every fetch
//! and every store read succeeded.

mod apply;
mod diff;
mod fetch;
mod login;
mod marks;
mod mode;
pub mod scope;

pub use apply::APPLY_BATCH;
pub use login::{UserRef, UserReport, sync_user};
pub use mode::CURSOR_MARGIN_SECS;

use crate::config::{self, FieldError, Settings};
use crate::host::{Host, Level};
use crate::okta::{OktaClient, OktaError, OktaErrorKind, Transport};
use crate::plan::Plan;
use crate::report::{Action, Counts};
use crate::seats::Licensing;
use crate::state::ConnectorState;
use crate::store::{Store, StoreError};
use std::collections::HashSet;
use std::time::Instant;

/// Where a call runs (the WIT `host-context`).
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// The connector's directory id.
    pub directory: String,
    /// Host time, Unix seconds.
    pub now: i64,
    /// The product (`jira`, `confluence`, `bitbucket`, `bamboo`): its default groups.
    pub product: String,
    /// The product's licence when it limits seats.
    pub licensing: Option<Licensing>,
}

/// How a sync goes about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mode {
    /// Everything.
    #[default]
    Full,
    /// Only what changed since the last sync, by `lastUpdated` filters.
    Incremental,
    /// Only what the System Log reported (asked for; this version runs incremental).
    Feed,
}

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The mode asked for.
    pub mode: Mode,
    /// Plan and record the changes; write nothing.
    pub dry_run: bool,
    /// Apply even if the mass-deactivation guard would refuse (a one-off override).
    pub force: bool,
    /// Run a deep reconcile (a full sync) even if none is due.
    pub deep_reconcile: bool,
    /// Apply only if the plan's digest is this one (an approved plan).
    pub approved_plan: Option<String>,
}

/// What a sync did (its changes went to [`Host::record_changes`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The mode that ran.
    pub mode: Mode,
    /// Why it is not the mode asked for, if it is not.
    pub mode_reason: Option<String>,
    /// Whether every member list was re-read and the store compared as a whole.
    pub deep_reconcile: bool,
    /// Nothing written.
    pub dry_run: bool,
    /// Counts.
    pub counts: Counts,
    /// Digest of the plan.
    pub plan_digest: String,
    /// Okta users seen.
    pub okta_users: u32,
    /// Okta groups synced.
    pub okta_groups: u32,
    /// HTTP requests made.
    pub requests: u32,
    /// Store rows written.
    pub writes: u32,
    /// Fetch time.
    pub fetch_ms: u64,
    /// Plan time.
    pub plan_ms: u64,
    /// Apply time.
    pub apply_ms: u64,
    /// Warnings.
    pub warnings: Vec<String>,
    /// Requests that were retries.
    pub retries: u32,
    /// 429 answers met.
    pub rate_limited: u32,
    /// Whether the token sees only some groups (a group-scoped admin's token).
    pub scoped_token: bool,
    /// Users denied a seat by the licence's seat limit (ascending).
    pub seats_denied: Vec<String>,
}

/// Why a call failed. Nothing was applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    /// Bad settings.
    #[error("invalid connector config: {}", join(.0))]
    InvalidConfig(Vec<FieldError>),
    /// Okta failed.
    #[error("{0}")]
    Okta(OktaError),
    /// The store failed (a read or the apply); its kind is kept.
    #[error("user store: {0}")]
    Store(#[from] StoreError),
    /// A security rule stopped the sync.
    #[error("security: {0}")]
    Security(String),
    /// The mass-deactivation guard refused the sync.
    #[error("{0}")]
    Guard(GuardRefusal),
    /// The approved plan is no longer the plan; the new one is described.
    #[error(
        "the approved plan is no longer what Okta and the store give; nothing was applied ({0})"
    )]
    PlanChanged(GuardRefusal),
}

/// Why the mass-deactivation guard refused a plan, and what the plan is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the sync would deactivate or delete {would_remove} of {active_users} active users, more than the guard allows ({percent} % and {min_users} users); nothing was applied: check Okta, approve plan {plan_digest}, or sync once with force"
)]
pub struct GuardRefusal {
    /// Users the sync would deactivate or delete.
    pub would_remove: u32,
    /// The directory's active users before the sync.
    pub active_users: u32,
    /// The guard's percentage.
    pub percent: u32,
    /// The guard's minimum number of users.
    pub min_users: u32,
    /// The refused plan's digest (what an approval names).
    pub plan_digest: String,
    /// The refused plan's counts.
    pub counts: Counts,
}

fn join(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<OktaError> for SyncError {
    fn from(e: OktaError) -> Self {
        if e.kind == OktaErrorKind::ForeignOrigin {
            SyncError::Security(e.summary)
        } else {
            SyncError::Okta(e)
        }
    }
}

/// One call's settings, compiled once, and where it runs.
pub struct Call<'a> {
    /// The validated settings and their rules.
    pub settings: Settings,
    /// The host's context.
    pub ctx: &'a Context,
}

/// Validate the host's licence and the config, and compile the rules: once per call.
pub fn begin<'a>(cfg: &config::ConnectorConfig, ctx: &'a Context) -> Result<Call<'a>, SyncError> {
    if let Some(l) = &ctx.licensing {
        l.validate().map_err(SyncError::InvalidConfig)?;
    }
    let defaults = crate::settings::product_default_groups(&ctx.product);
    let settings = config::validate(cfg, defaults).map_err(SyncError::InvalidConfig)?;
    Ok(Call { settings, ctx })
}

/// The guard's verdict on a plan: refuse when it deactivates or deletes more than
/// `percent` % of the active users and more than `min_users` users.
pub fn guard(
    plan: &Plan,
    digest: &str,
    active_users: u32,
    lifecycle: &crate::settings::LifecycleSettings,
) -> Result<(), GuardRefusal> {
    let would_remove = plan
        .entries
        .iter()
        .filter(|e| {
            matches!(
                e.action,
                Action::DeactivateUser | Action::DeleteUser | Action::AnonymizeUser
            )
        })
        .count() as u32;
    let over_percent = u64::from(would_remove) * 100
        > u64::from(lifecycle.guard_percent) * u64::from(active_users);
    if would_remove > lifecycle.guard_min_users && over_percent {
        return Err(GuardRefusal {
            would_remove,
            active_users,
            percent: lifecycle.guard_percent,
            min_users: lifecycle.guard_min_users,
            plan_digest: digest.to_string(),
            counts: Counts::of(&plan.entries),
        });
    }
    Ok(())
}

/// Log the guest's linear memory (its high-water mark: wasm memory never shrinks) after
/// a step of a sync; nothing natively.
fn log_memory(host: &mut impl Host, step: &str) {
    #[cfg(target_arch = "wasm32")]
    {
        let mib = core::arch::wasm32::memory_size(0) / 16;
        host.log(
            Level::Debug,
            &format!("guest memory after {step}: {mib} MiB"),
        );
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (host, step);
}

fn ms(since: Instant) -> u64 {
    since.elapsed().as_millis() as u64
}

/// Run a sync (or dry run) of one connector: full, or incremental when asked and a
/// recent full sync, a recent deep reconcile and a cursor exist.
pub fn sync<T: Transport>(
    cfg: &config::ConnectorConfig,
    ctx: &Context,
    opts: Options,
    transport: T,
    store: &mut impl Store,
    host: &mut impl Host,
) -> Result<Report, SyncError> {
    let call = begin(cfg, ctx)?;
    let known = host.load_state()?;
    let chosen = mode::choose(&call, &opts, known.as_ref());
    let mut client = OktaClient::new(transport, &call.settings.config.okta_domain)
        .with_rate_share(call.settings.config.rate_limit_percent);
    let started = Instant::now();
    host.log(
        Level::Info,
        &format!("{} sync of {} started", chosen.name(), client.origin()),
    );
    let marks = marks::Marks::usable(&call, &chosen, known.as_ref(), store)?;
    let mut fetched = fetch::fetch(&mut client, &call, &chosen, &marks, host)?;
    let seen_marks = std::mem::take(&mut fetched.marks);
    let offered = fetch::denied_again(
        &mut client,
        &call,
        &chosen,
        known.as_ref(),
        store,
        &mut fetched,
    )?;
    let fetch_ms = ms(started);
    log_memory(host, "fetch");
    let cursor = mode::cursor_now(client.first_date(), ctx);
    let started = Instant::now();
    let projected = diff::project(fetched, &call, &chosen);
    log_memory(host, "mapping");
    let diffed = diff::diff(projected, &call, &chosen, store)?;
    let guard_note = match judge(&diffed, &call, &opts, host) {
        Ok(note) => note,
        Err(refused) => return Err(record_refused(refused, diffed.plan, ctx, store, host)),
    };
    let mut report = report(&diffed, &chosen, &opts, &client, fetch_ms, ms(started));
    report.warnings.extend(guard_note);
    log_memory(host, "plan");
    for w in &report.warnings {
        host.log(Level::Warn, w);
    }
    if !opts.dry_run {
        let judged = offered
            .into_iter()
            .chain(diffed.seen.iter().cloned())
            .collect();
        let full = chosen.mode == Mode::Full;
        let marks = marks::next(known.as_ref(), full, seen_marks, diffed.memberships_known);
        let mut next = next_state(known, &chosen, &report, judged, cursor, ctx);
        next.group_marks = marks;
        host.save_state(&next);
    }
    let (writes, apply_ms) = apply::apply(diffed.plan, &ctx.directory, opts.dry_run, store, host)?;
    log_memory(host, "apply");
    report.writes = writes;
    report.apply_ms = apply_ms;
    Ok(report)
}

/// The guard and the approval: a refusal fails the sync (unless forced or approved);
/// an approval of another plan fails it too. Returns a warning for the report.
fn judge(
    diffed: &diff::Diffed,
    call: &Call,
    opts: &Options,
    host: &mut impl Host,
) -> Result<Option<String>, SyncError> {
    let lifecycle = &call.settings.rules.lifecycle;
    let verdict = guard(&diffed.plan, &diffed.digest, diffed.active_users, lifecycle);
    if let Some(approved) = &opts.approved_plan {
        if *approved != diffed.digest {
            let refusal = verdict.err().unwrap_or_else(|| GuardRefusal {
                would_remove: 0,
                active_users: diffed.active_users,
                percent: lifecycle.guard_percent,
                min_users: lifecycle.guard_min_users,
                plan_digest: diffed.digest.clone(),
                counts: Counts::of(&diffed.plan.entries),
            });
            let e = SyncError::PlanChanged(refusal);
            host.log(Level::Error, &e.to_string());
            return Err(e);
        }
        return Ok(verdict.err().map(|g| format!("applied as approved: {g}")));
    }
    match verdict {
        Err(g) if opts.dry_run => Ok(Some(format!("a real sync would be refused: {g}"))),
        Err(g) if !opts.force => {
            host.log(Level::Error, &g.to_string());
            Err(SyncError::Guard(g))
        }
        Err(g) => Ok(Some(format!("applied with force: {g}"))),
        Ok(()) => Ok(None),
    }
}

/// A plan the guard refused (or that is not the approved one): its changes go to
/// [`Host::record_changes`] as a dry run's do, so that the host can show the admin the
/// whole plan to approve, and nothing is applied.
fn record_refused(
    refused: SyncError,
    plan: Plan,
    ctx: &Context,
    store: &mut impl Store,
    host: &mut impl Host,
) -> SyncError {
    match apply::apply(plan, &ctx.directory, true, store, host) {
        Ok(_) => refused,
        Err(e) => e,
    }
}

/// The report of a planned sync (writes and apply time are filled in after the apply).
fn report<T: Transport>(
    diffed: &diff::Diffed,
    chosen: &mode::Chosen,
    opts: &Options,
    client: &OktaClient<T>,
    fetch_ms: u64,
    plan_ms: u64,
) -> Report {
    let plan = &diffed.plan;
    Report {
        mode: chosen.mode,
        mode_reason: chosen.reason.clone(),
        deep_reconcile: chosen.deep && !diffed.scoped,
        dry_run: opts.dry_run,
        counts: Counts::of(&plan.entries),
        plan_digest: diffed.digest.clone(),
        okta_users: diffed.okta_users,
        okta_groups: diffed.okta_groups,
        requests: client.requests(),
        writes: 0,
        fetch_ms,
        plan_ms,
        apply_ms: 0,
        warnings: diffed
            .warnings
            .iter()
            .chain(&plan.warnings)
            .cloned()
            .collect(),
        retries: client.retries(),
        rate_limited: client.rate_limited(),
        scoped_token: diffed.scoped,
        seats_denied: diffed.seats_denied.clone(),
    }
}

/// What the connector knows after this sync succeeds. Users denied a seat stay denied
/// until a sync offers them one: a full sync judges everyone, an incremental one those
/// `judged` (those it offered a seat again and those it saw, lowercase).
fn next_state(
    known: Option<ConnectorState>,
    chosen: &mode::Chosen,
    report: &Report,
    judged: HashSet<String>,
    cursor: String,
    ctx: &Context,
) -> ConnectorState {
    let known = known.unwrap_or_default();
    let full = chosen.mode == Mode::Full;
    let mut seats_denied = report.seats_denied.clone();
    if !full {
        seats_denied.extend(
            known
                .seats_denied
                .iter()
                .filter(|n| {
                    let lower = n.to_lowercase();
                    !judged.contains(&lower)
                        && !report
                            .seats_denied
                            .iter()
                            .any(|d| d.to_lowercase() == lower)
                })
                .cloned(),
        );
        seats_denied.sort_by_key(|n| n.to_lowercase());
    }
    ConnectorState {
        last_full_sync: if full { ctx.now } else { known.last_full_sync },
        last_deep_reconcile: if report.deep_reconcile {
            Some(ctx.now)
        } else {
            known.last_deep_reconcile
        },
        okta_cursor: cursor,
        feed_cursor: None,
        // Set by the caller, from what this sync read (`marks::next`).
        group_marks: Vec::new(),
        seats_denied,
    }
}
