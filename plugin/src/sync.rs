//! A sync from start to end: validate, fetch the whole Okta snapshot, plan, apply in one
//! batch. Nothing is applied unless every fetch succeeded.

use crate::config::{self, ConnectorConfig, Credentials, FieldError};
use crate::mapping;
use crate::okta::{OktaClient, OktaError, OktaErrorKind, Transport};
use crate::plan::{self, Plan};
use crate::report::{Counts, Entry};
use crate::store::{DirectorySnapshot, Membership, Store, StoreError};
use std::collections::{BTreeSet, HashSet};
use std::time::Instant;

/// Key in `sync-state` of the time of the last successful full sync (Unix seconds, host clock).
pub const STATE_LAST_FULL_SYNC: &str = "last-full-sync";

/// Severity of a log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Detail.
    Debug,
    /// Progress.
    Info,
    /// Worth a look.
    Warn,
    /// Failure.
    Error,
}

/// The host's sync log and per-connector state.
pub trait Host {
    /// Append a line to the run's log.
    fn log(&mut self, level: Level, message: &str);
    /// Read a state value.
    fn state_get(&mut self, key: &str) -> Option<String>;
    /// Write a state value.
    fn state_set(&mut self, key: &str, value: &str);
}

/// Where a sync runs.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// The connector's directory id.
    pub directory: String,
    /// Host time, Unix seconds.
    pub now: i64,
}

/// Full or incremental.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mode {
    /// Everything.
    #[default]
    Full,
    /// Only changes (runs as full until incremental sync exists).
    Incremental,
}

/// How to run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Mode.
    pub mode: Mode,
    /// Plan only.
    pub dry_run: bool,
}

/// What a sync did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The mode that ran.
    pub mode: Mode,
    /// Nothing written.
    pub dry_run: bool,
    /// Counts.
    pub counts: Counts,
    /// Every change.
    pub entries: Vec<Entry>,
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
}

/// What a login sync did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserReport {
    /// Login asked for.
    pub login: String,
    /// Known to Okta.
    pub found: bool,
    /// Username in the product afterwards.
    pub username: Option<String>,
    /// Active afterwards.
    pub active: bool,
    /// Changes made.
    pub entries: Vec<Entry>,
    /// Requests made.
    pub requests: u32,
}

/// Why a sync failed. Nothing was applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    /// Bad settings.
    #[error("invalid connector config: {}", join(.0))]
    InvalidConfig(Vec<FieldError>),
    /// Okta failed.
    #[error("{0}")]
    Okta(OktaError),
    /// The store failed.
    #[error("user store: {0}")]
    Store(#[from] StoreError),
    /// A security rule stopped the sync.
    #[error("security: {0}")]
    Security(String),
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

fn ms(since: Instant) -> u64 {
    since.elapsed().as_millis() as u64
}

fn validated(
    cfg: &ConnectorConfig,
    creds: &Credentials,
) -> Result<(ConnectorConfig, Credentials), SyncError> {
    config::configure(cfg, creds).map_err(SyncError::InvalidConfig)
}

/// Run a full sync (or dry run) of one connector.
pub fn sync<T: Transport>(
    cfg: &ConnectorConfig,
    creds: &Credentials,
    ctx: &Context,
    opts: Options,
    transport: T,
    store: &mut impl Store,
    host: &mut impl Host,
) -> Result<Report, SyncError> {
    let (cfg, creds) = validated(cfg, creds)?;
    let mut client = OktaClient::new(transport, &cfg.okta_domain, &creds.api_token);
    let started = Instant::now();
    host.log(
        Level::Info,
        &format!("full sync of {} started", client.origin()),
    );
    let mut users = client.list_users()?;
    host.log(Level::Info, &format!("fetched {} users", users.len()));
    let groups = client.list_groups()?;
    let synced: Vec<_> = groups
        .iter()
        .filter(|g| mapping::group_included(g, &cfg))
        .collect();
    host.log(
        Level::Info,
        &format!("fetched {} groups, {} synced", groups.len(), synced.len()),
    );
    // Group member lists also return DEPROVISIONED users, which the users list omits:
    // they are kept (as inactive) so that their memberships stay.
    let mut known: HashSet<String> = users.iter().map(|u| u.id.clone()).collect();
    let mut members = Vec::with_capacity(synced.len());
    for g in &synced {
        let mut ids = Vec::new();
        for u in client.list_group_members(&g.id)? {
            ids.push(u.id.clone());
            if known.insert(u.id.clone()) {
                users.push(u);
            }
        }
        members.push((g.id.clone(), ids));
    }
    let fetch_ms = ms(started);
    host.log(
        Level::Info,
        &format!("fetched memberships of {} groups", members.len()),
    );

    let started = Instant::now();
    let desired = mapping::desired(&users, &groups, &members, &cfg);
    let snapshot = store.snapshot(&ctx.directory)?;
    let plan = plan::plan(&desired, &snapshot);
    let plan_ms = ms(started);

    let mut report = Report {
        mode: Mode::Full,
        dry_run: opts.dry_run,
        counts: Counts::of(&plan.entries),
        okta_users: desired.users.len() as u32,
        okta_groups: desired.groups.len() as u32,
        requests: client.requests(),
        fetch_ms,
        plan_ms,
        warnings: desired
            .warnings
            .iter()
            .chain(&plan.warnings)
            .cloned()
            .collect(),
        ..Default::default()
    };
    if opts.mode == Mode::Incremental {
        report
            .warnings
            .push("incremental sync is not available yet; ran a full sync".into());
    }
    for w in &report.warnings {
        host.log(Level::Warn, w);
    }
    let (writes, apply_ms) = apply(plan.clone(), ctx, opts.dry_run, store, host)?;
    report.writes = writes;
    report.apply_ms = apply_ms;
    report.entries = plan.entries;
    if !opts.dry_run {
        host.state_set(STATE_LAST_FULL_SYNC, &ctx.now.to_string());
    }
    Ok(report)
}

/// Apply a plan in one atomic batch unless it is empty or a dry run: (writes, ms).
fn apply(
    plan: Plan,
    ctx: &Context,
    dry_run: bool,
    store: &mut impl Store,
    host: &mut impl Host,
) -> Result<(u32, u64), SyncError> {
    if dry_run || plan.is_empty() {
        host.log(
            Level::Info,
            &format!("{} changes planned, none applied", plan.changes.len()),
        );
        return Ok((0, 0));
    }
    let started = Instant::now();
    let n = plan.changes.len();
    let result = store.apply(&ctx.directory, plan.changes).inspect_err(|e| {
        host.log(
            Level::Error,
            &format!("applying {n} changes failed, nothing was written: {e}"),
        );
    })?;
    host.log(
        Level::Info,
        &format!("applied {n} changes ({} rows written)", result.writes),
    );
    Ok((result.writes, ms(started)))
}

/// Sync one user by login, as an SSO login does: two requests, that user only.
pub fn sync_user<T: Transport>(
    cfg: &ConnectorConfig,
    creds: &Credentials,
    ctx: &Context,
    login: &str,
    transport: T,
    store: &mut impl Store,
    host: &mut impl Host,
) -> Result<UserReport, SyncError> {
    let (cfg, creds) = validated(cfg, creds)?;
    let mut client = OktaClient::new(transport, &cfg.okta_domain, &creds.api_token);
    let mut report = UserReport {
        login: login.to_string(),
        ..Default::default()
    };
    let Some(user) = client.get_user(login)? else {
        report.requests = client.requests();
        let existing = store
            .find_by_username(&login.to_lowercase())
            .into_iter()
            .find(|u| u.directory == ctx.directory);
        report.username = existing.as_ref().map(|u| u.username.clone());
        report.active = existing.is_some_and(|u| u.active);
        host.log(
            Level::Info,
            &format!("login sync: {login} is not known to Okta; nothing changed"),
        );
        return Ok(report);
    };
    let groups = client.list_user_groups(&user.id)?;
    report.requests = client.requests();
    report.found = true;
    let members: Vec<(String, Vec<String>)> = groups
        .iter()
        .map(|g| (g.id.clone(), vec![user.id.clone()]))
        .collect();
    let desired = mapping::desired(std::slice::from_ref(&user), &groups, &members, &cfg);
    let snapshot = user_snapshot(&user.id, &desired, ctx, store);
    let plan = plan::plan(&desired, &snapshot);
    for w in desired.warnings.iter().chain(&plan.warnings) {
        host.log(Level::Warn, w);
    }
    apply(plan.clone(), ctx, false, store, host)?;
    report.entries = plan.entries;
    let after = store
        .find_by_okta_id(&user.id)
        .filter(|u| u.directory == ctx.directory);
    report.username = after.as_ref().map(|u| u.username.clone());
    report.active = after.is_some_and(|u| u.active);
    Ok(report)
}

/// The part of the directory one user's sync can touch: that user, its memberships and
/// the groups involved.
fn user_snapshot(
    okta_id: &str,
    desired: &mapping::Desired,
    ctx: &Context,
    store: &mut impl Store,
) -> DirectorySnapshot {
    let in_dir = |u: &crate::store::StoreUser| u.directory == ctx.directory;
    let mut users: Vec<_> = store
        .find_by_okta_id(okta_id)
        .into_iter()
        .filter(in_dir)
        .collect();
    if users.is_empty()
        && let Some(du) = desired.users.first()
    {
        users = store
            .find_by_username(&du.username)
            .into_iter()
            .filter(in_dir)
            .collect();
    }
    let memberships: Vec<Membership> = users
        .iter()
        .flat_map(|u| {
            store
                .user_memberships(&ctx.directory, &u.username)
                .into_iter()
                .map(|g| Membership {
                    username: u.username.clone(),
                    group: g,
                })
        })
        .collect();
    let names: BTreeSet<String> = memberships
        .iter()
        .map(|m| m.group.clone())
        .chain(desired.groups.iter().map(|g| g.name.clone()))
        .collect();
    let groups = store.find_groups(&ctx.directory, &names.into_iter().collect::<Vec<_>>());
    DirectorySnapshot {
        users,
        groups,
        memberships,
    }
}
