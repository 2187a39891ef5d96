//! A sync from start to end: validate, fetch the whole Okta snapshot, plan, apply in one
//! batch. Nothing is applied unless every fetch succeeded.

use crate::config::{self, ConnectorConfig, FieldError, UnknownAtLogin};
use crate::mapping;
use crate::okta::{OktaClient, OktaError, OktaErrorKind, OktaGroup, OktaUser, Transport};
use crate::plan::{self, Plan, Policy, Scope};
use crate::report::{Counts, Entry};
use crate::seats::{self, Licensing, Namesakes};
use crate::settings::Rules;
use crate::store::{Change, DirectorySnapshot, Membership, Store, StoreError, StoreUser};
use chrono::{DateTime, Utc};
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
    /// The product (`jira`, `confluence`, `bitbucket`, `bamboo`): its default groups.
    pub product: String,
    /// The product's licence when it limits seats.
    pub licensing: Option<Licensing>,
}

/// Full or incremental.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mode {
    /// Everything.
    #[default]
    Full,
    /// Only what changed since the last sync (full when no recent full sync exists).
    Incremental,
}

/// How to run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Mode.
    pub mode: Mode,
    /// Plan only.
    pub dry_run: bool,
    /// Apply even if the mass-deactivation guard would refuse (a one-off override).
    pub force: bool,
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
    /// Requests that were retries.
    pub retries: u32,
    /// 429 answers met.
    pub rate_limited: u32,
    /// Whether the token sees only some groups (a group-scoped admin's token).
    pub scoped_token: bool,
    /// Users denied a seat by the licence's seat limit (ascending).
    pub seats_denied: Vec<String>,
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
    /// Denied a seat by the licence's seat limit.
    pub seat_denied: bool,
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
    /// The mass-deactivation guard refused the sync; nothing was applied.
    #[error("{0}")]
    Guard(Guard),
}

/// Why the mass-deactivation guard refused a sync.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the sync would deactivate or delete {would_remove} of {active_users} active users, more than the guard allows ({percent} % and {min_users} users); nothing was applied: check Okta, or sync once with force"
)]
pub struct Guard {
    /// Users the sync would deactivate or delete.
    pub would_remove: u32,
    /// The directory's active users before the sync.
    pub active_users: u32,
    /// The guard's percentage.
    pub percent: u32,
    /// The guard's minimum number of users.
    pub min_users: u32,
}

/// The guard's verdict on a plan: refuse when it deactivates or deletes more than
/// `percent` % of the active users and more than `min_users` users.
pub fn guard(
    plan: &Plan,
    active_users: u32,
    lifecycle: &crate::settings::LifecycleSettings,
) -> Result<(), Guard> {
    use crate::report::Action;
    let would_remove = plan
        .entries
        .iter()
        .filter(|e| matches!(e.action, Action::DeactivateUser | Action::DeleteUser))
        .count() as u32;
    let over_percent = u64::from(would_remove) * 100
        > u64::from(lifecycle.guard_percent) * u64::from(active_users);
    if would_remove > lifecycle.guard_min_users && over_percent {
        return Err(Guard {
            would_remove,
            active_users,
            percent: lifecycle.guard_percent,
            min_users: lifecycle.guard_min_users,
        });
    }
    Ok(())
}

fn compile_rules(cfg: &ConnectorConfig, ctx: &Context) -> Result<Rules, SyncError> {
    Rules::compile(cfg, crate::settings::product_default_groups(&ctx.product))
        .map_err(SyncError::InvalidConfig)
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

/// The config normalized, once it and the host's licence are valid.
fn validated(cfg: &ConnectorConfig, ctx: &Context) -> Result<ConnectorConfig, SyncError> {
    if let Some(l) = &ctx.licensing {
        l.validate().map_err(SyncError::InvalidConfig)?;
    }
    config::configure(cfg).map_err(SyncError::InvalidConfig)
}

/// Okta's users, groups and memberships as fetched for one sync.
#[derive(Default)]
struct Fetched {
    users: Vec<OktaUser>,
    groups: Vec<OktaGroup>,
    members: Vec<(String, Vec<String>)>,
}

/// Fetch the members of every synced group of `groups`. Member lists also return
/// DEPROVISIONED users, which the users list omits: they are added (inactive) so that
/// their memberships stay.
fn fetch_members<T: Transport>(
    client: &mut OktaClient<T>,
    cfg: &ConnectorConfig,
    rules: &Rules,
    fetched: &mut Fetched,
) -> Result<(), OktaError> {
    let required: HashSet<String> = rules
        .groups
        .required
        .iter()
        .map(|r| r.to_lowercase())
        .collect();
    let mut known: HashSet<String> = fetched.users.iter().map(|u| u.id.clone()).collect();
    let ids: Vec<String> = fetched
        .groups
        .iter()
        .filter(|g| {
            rules.group_synced(&g.group_type, &g.profile.name)
                || required.contains(&g.profile.name.trim().to_lowercase())
        })
        .map(|g| g.id.clone())
        .collect();
    // Only the ids of members are kept, and the few users the users list left out.
    let mut members: Vec<Vec<String>> = vec![Vec::new(); ids.len()];
    let mut extra: Vec<Vec<OktaUser>> = vec![Vec::new(); ids.len()];
    client.for_members_of(&ids, cfg.member_concurrency as usize, |i, page| {
        for m in page {
            if known.insert(m.id.clone()) {
                extra[i].push(m.user().map_err(|e| {
                    OktaError::new(
                        OktaErrorKind::BadResponse,
                        &format!("/api/v1/groups/{}/users", ids[i]),
                        format!("member {} is not the expected JSON: {e}", m.id),
                    )
                })?);
            }
            members[i].push(m.id);
        }
        Ok(())
    })?;
    fetched.users.extend(extra.into_iter().flatten());
    fetched.members.extend(ids.into_iter().zip(members));
    Ok(())
}

/// Everything: all users, all groups, every synced group's members.
fn fetch_full<T: Transport>(
    client: &mut OktaClient<T>,
    cfg: &ConnectorConfig,
    rules: &Rules,
    host: &mut impl Host,
) -> Result<Fetched, OktaError> {
    let mut f = Fetched {
        users: client.list_users()?,
        ..Default::default()
    };
    host.log(Level::Info, &format!("fetched {} users", f.users.len()));
    f.groups = client.list_groups()?;
    fetch_members(client, cfg, rules, &mut f)?;
    host.log(
        Level::Info,
        &format!(
            "fetched {} groups and the members of {} of them",
            f.groups.len(),
            f.members.len()
        ),
    );
    Ok(f)
}

/// Only what changed after `since`: changed users, changed groups and their members.
fn fetch_changes<T: Transport>(
    client: &mut OktaClient<T>,
    cfg: &ConnectorConfig,
    rules: &Rules,
    since: &str,
    host: &mut impl Host,
) -> Result<Fetched, OktaError> {
    let mut f = Fetched {
        users: client.list_users_updated_since(since)?,
        ..Default::default()
    };
    f.groups = client.list_groups_updated_since(since)?;
    fetch_members(client, cfg, rules, &mut f)?;
    host.log(
        Level::Info,
        &format!(
            "changed since {since}: {} users, {} groups",
            f.users.len(),
            f.groups.len()
        ),
    );
    Ok(f)
}

/// Safety margin subtracted from the incremental cursor (Okta's clock), in seconds.
pub const CURSOR_MARGIN_SECS: i64 = 120;
/// Key in `sync-state` of Okta's time when the last successful sync began (RFC 3339).
pub const STATE_CURSOR: &str = "cursor";

/// The time to fetch changes from, or why a full sync is needed instead.
fn incremental_since(
    cfg: &ConnectorConfig,
    ctx: &Context,
    host: &mut impl Host,
) -> Result<String, String> {
    let last_full: i64 = host
        .state_get(STATE_LAST_FULL_SYNC)
        .and_then(|v| v.parse().ok())
        .ok_or("no full sync has completed yet")?;
    let age = ctx.now - last_full;
    if age >= i64::from(cfg.full_sync_interval_hours) * 3600 {
        return Err(format!(
            "the last full sync is older than {} hours",
            cfg.full_sync_interval_hours
        ));
    }
    let cursor = host
        .state_get(STATE_CURSOR)
        .ok_or("no incremental cursor is stored")?;
    let cursor = DateTime::parse_from_rfc3339(&cursor)
        .map_err(|_| format!("the stored cursor `{cursor}` is not a time"))?;
    let since = cursor.with_timezone(&Utc) - chrono::Duration::seconds(CURSOR_MARGIN_SECS);
    Ok(since.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

/// Okta's time at the start of this fetch (its `Date` header), else the host's.
fn cursor_now(client_date: Option<&str>, ctx: &Context) -> String {
    client_date
        .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
        .map(|d| d.with_timezone(&Utc))
        .or_else(|| DateTime::from_timestamp(ctx.now, 0))
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The part of a directory snapshot an incremental sync may touch: the users it fetched
/// (and the store members of its changed groups, for membership diffs), those groups and
/// their memberships.
fn partial_snapshot(full: DirectorySnapshot, desired: &mapping::Desired) -> DirectorySnapshot {
    let lower = |s: &str| s.to_lowercase();
    let ids: HashSet<&str> = desired.users.iter().map(|u| u.okta_id.as_str()).collect();
    let names: HashSet<String> = desired.users.iter().map(|u| lower(&u.username)).collect();
    let groups: HashSet<String> = desired.groups.iter().map(|g| lower(&g.name)).collect();
    let defaults: HashSet<String> = desired.default_groups.iter().map(|g| lower(g)).collect();
    // Default groups hold every user: only the fetched users' memberships are in play.
    let memberships: Vec<Membership> = full
        .memberships
        .into_iter()
        .filter(|m| {
            let g = lower(&m.group);
            groups.contains(&g) || (defaults.contains(&g) && names.contains(&lower(&m.username)))
        })
        .collect();
    let members: HashSet<String> = memberships.iter().map(|m| lower(&m.username)).collect();
    let users = full
        .users
        .into_iter()
        .filter(|u| {
            let name = lower(&u.username);
            u.okta_id.as_deref().is_some_and(|o| ids.contains(o))
                || names.contains(&name)
                || members.contains(&name)
        })
        .collect();
    let groups = full
        .groups
        .into_iter()
        .filter(|g| {
            let g = lower(&g.name);
            groups.contains(&g) || defaults.contains(&g)
        })
        .collect();
    DirectorySnapshot {
        users,
        groups,
        memberships,
    }
}

/// Run a sync (or dry run) of one connector: full, or incremental when asked and a
/// recent full sync and a cursor exist.
pub fn sync<T: Transport>(
    cfg: &ConnectorConfig,
    ctx: &Context,
    opts: Options,
    transport: T,
    store: &mut impl Store,
    host: &mut impl Host,
) -> Result<Report, SyncError> {
    let cfg = validated(cfg, ctx)?;
    let rules = compile_rules(&cfg, ctx)?;
    let policy = Policy::of(&rules.users, &rules.lifecycle);
    let mut client = OktaClient::new(transport, &cfg.okta_domain);
    let mut warnings = Vec::new();
    let since = match opts.mode {
        Mode::Full => None,
        // Who is in the required groups is known only from their full member lists.
        Mode::Incremental if !rules.groups.required.is_empty() => {
            warnings.push("ran a full sync: required groups need every member list".to_string());
            None
        }
        Mode::Incremental => match incremental_since(&cfg, ctx, host) {
            Ok(since) => Some(since),
            Err(why) => {
                warnings.push(format!(
                    "ran a full sync instead of an incremental one: {why}"
                ));
                None
            }
        },
    };
    let mode = if since.is_some() {
        Mode::Incremental
    } else {
        Mode::Full
    };
    let started = Instant::now();
    host.log(
        Level::Info,
        &format!(
            "{} sync of {} started",
            if since.is_some() {
                "incremental"
            } else {
                "full"
            },
            client.origin()
        ),
    );
    let fetched = match &since {
        None => fetch_full(&mut client, &cfg, &rules, host)?,
        Some(since) => fetch_changes(&mut client, &cfg, &rules, since, host)?,
    };
    let fetch_ms = ms(started);
    log_memory(host, "fetch");
    let cursor = cursor_now(client.first_date(), ctx);

    let started = Instant::now();
    let mut desired = mapping::desired_with(
        &fetched.users,
        &fetched.groups,
        &fetched.members,
        &rules,
        &cfg.user_attributes,
    );
    // Okta's `Everyone` is visible to every org-wide token and hidden from group-scoped
    // admins: without it, the sync covers exactly what the token sees and leaves the
    // rest of the directory alone.
    let scoped = mode == Mode::Full && !fetched.groups.iter().any(|g| g.group_type == "BUILT_IN");
    if scoped {
        warnings.push(format!(
            "the API token is scoped to {} groups (a group administrator's token): only their users are synced; others are left unchanged",
            fetched.groups.len()
        ));
    }
    // Memory: at 100k users the Okta objects, the desired state, the store snapshot and
    // the plan are each hundreds of MB; each is freed as soon as the next step has it.
    log_memory(host, "mapping");
    drop(fetched);
    let mut active_users = 0;
    let snapshot = match mode {
        // Nothing changed in Okta: nothing to read from the store either.
        Mode::Incremental if desired.users.is_empty() && desired.groups.is_empty() => None,
        _ => {
            let full = store.snapshot(&ctx.directory)?;
            if !scoped {
                active_users = full.users.iter().filter(|u| u.active).count() as u32;
            }
            // Seats are read from the whole directory: a partial snapshot may leave out
            // a user's access-group memberships.
            let access = ctx
                .licensing
                .as_ref()
                .map(|l| l.access_members(&full.memberships))
                .unwrap_or_default();
            Some(if mode == Mode::Full && !scoped {
                (full, Scope::Full, access)
            } else {
                (partial_snapshot(full, &desired), Scope::Partial, access)
            })
        }
    };
    let (plan, seats_denied) = match snapshot {
        None => (Plan::default(), Vec::new()),
        Some((snapshot, scope, access)) => {
            resolve_existing(&mut desired, &snapshot, &rules, ctx, store);
            let mut plan = plan::plan_with(&desired, &snapshot, scope, policy);
            let denied = limit_seats(&mut plan, snapshot.users, access, &desired, ctx, store);
            (plan, denied)
        }
    };
    if let Some(w) = ctx
        .licensing
        .as_ref()
        .and_then(|l| seats::warning(l, &seats_denied))
    {
        warnings.push(w);
    }
    match guard(&plan, active_users, &rules.lifecycle) {
        Err(g) if opts.dry_run => warnings.push(format!("a real sync would be refused: {g}")),
        Err(g) if !opts.force => {
            host.log(Level::Error, &g.to_string());
            return Err(SyncError::Guard(g));
        }
        Err(g) => warnings.push(format!("applied with force: {g}")),
        Ok(()) => {}
    }

    let plan_ms = ms(started);
    log_memory(host, "plan");

    let Plan {
        changes,
        entries,
        warnings: plan_warnings,
    } = plan;
    warnings.extend(desired.warnings.iter().chain(&plan_warnings).cloned());
    let mut report = Report {
        mode,
        dry_run: opts.dry_run,
        counts: Counts::of(&entries),
        okta_users: desired.users.len() as u32,
        okta_groups: desired.groups.len() as u32,
        requests: client.requests(),
        retries: client.retries(),
        rate_limited: client.rate_limited(),
        scoped_token: scoped,
        seats_denied,
        fetch_ms,
        plan_ms,
        warnings,
        ..Default::default()
    };
    drop(desired);
    for w in &report.warnings {
        host.log(Level::Warn, w);
    }
    let (writes, apply_ms) = apply(changes, ctx, opts.dry_run, store, host)?;
    log_memory(host, "apply");
    report.writes = writes;
    report.apply_ms = apply_ms;
    report.entries = entries;
    if !opts.dry_run {
        host.state_set(STATE_CURSOR, &cursor);
        if mode == Mode::Full {
            host.state_set(STATE_LAST_FULL_SYNC, &ctx.now.to_string());
        }
    }
    Ok(report)
}

/// For the users a sync would create, look for the same username (or email, per
/// setting) in the product's other directories: non-Okta directories' users are taken
/// over when migration is on; a username held by a directory earlier in the order is
/// otherwise reported and not created.
fn resolve_existing(
    desired: &mut mapping::Desired,
    ours: &DirectorySnapshot,
    rules: &Rules,
    ctx: &Context,
    store: &mut impl Store,
) {
    use crate::settings::Migrate;
    use crate::store::DirectoryKind;
    let ids: HashSet<&str> = ours
        .users
        .iter()
        .filter_map(|u| u.okta_id.as_deref())
        .collect();
    let names: HashSet<String> = ours
        .users
        .iter()
        .map(|u| u.username.to_lowercase())
        .collect();
    let new: Vec<(String, String, String)> = desired
        .users
        .iter()
        .filter(|u| {
            u.creatable
                && !ids.contains(u.okta_id.as_str())
                && !names.contains(&u.username.to_lowercase())
        })
        .map(|u| (u.okta_id.clone(), u.username.clone(), u.email.clone()))
        .collect();
    if new.is_empty() {
        return;
    }
    let dirs = store.directories();
    let position = |id: &str| dirs.iter().find(|d| d.id == id);
    let our_position = position(&ctx.directory).map_or(u32::MAX, |d| d.position);
    for (okta_id, username, email) in new {
        let elsewhere = |users: Vec<StoreUser>| {
            users
                .into_iter()
                .filter(|u| u.directory != ctx.directory)
                .collect::<Vec<_>>()
        };
        let mut found = elsewhere(store.find_by_username(&username));
        if found.is_empty()
            && rules.users.migrate == Migrate::ByUsernameOrEmail
            && !email.is_empty()
        {
            found = elsewhere(store.find_by_email(&email));
        }
        let Some(existing) = found.into_iter().next() else {
            continue;
        };
        let Some(dir) = position(&existing.directory) else {
            continue;
        };
        if rules.users.migrate != Migrate::Off && dir.kind != DirectoryKind::Okta {
            desired.adopt.insert(okta_id, existing);
        } else if dir.position < our_position {
            desired.blocked.insert(
                okta_id,
                format!(
                    "username `{}` is held by directory {}, earlier in the directory order; not created (conflict)",
                    existing.username, existing.directory
                ),
            );
        }
    }
}

/// Keep `plan` within the licence's seat limit, if the product has one; returns who was
/// denied a seat. `users` and `access` are what the plan was made against.
fn limit_seats(
    plan: &mut Plan,
    users: Vec<StoreUser>,
    access: seats::AccessMembers,
    desired: &mapping::Desired,
    ctx: &Context,
    store: &mut impl Store,
) -> Vec<String> {
    let Some(licensing) = &ctx.licensing else {
        return Vec::new();
    };
    // Users migrated here hold a seat if they hold one in the directory they leave.
    let mut migrated: Vec<(StoreUser, bool)> = desired
        .adopt
        .values()
        .map(|u| {
            let seated = u.active
                && store
                    .user_memberships(&u.directory, &u.username)
                    .iter()
                    .any(|g| licensing.is_access(g));
            (u.clone(), seated)
        })
        .collect();
    migrated.sort_by(|a, b| a.0.key.cmp(&b.0.key));
    let before = seats::Before {
        users,
        access,
        migrated,
    };
    let mut positions: Option<Vec<(String, u32)>> = None;
    seats::limit(plan, &before, licensing, |username| {
        let dirs = positions.get_or_insert_with(|| {
            store
                .directories()
                .into_iter()
                .map(|d| (d.id, d.position))
                .collect()
        });
        let position = |id: &str| dirs.iter().find(|d| d.0 == id).map(|d| d.1);
        let ours = position(&ctx.directory).unwrap_or(u32::MAX);
        let mut n = Namesakes::default();
        for u in store.find_by_username(username) {
            match position(&u.directory) {
                _ if u.directory == ctx.directory => {}
                Some(p) if p < ours => n.earlier = true,
                Some(_) => n.later = true,
                // A directory of unknown order: either could be true.
                None => (n.earlier, n.later) = (true, true),
            }
        }
        n
    })
}

/// Changes per `apply` batch: what the guest lowers and the host lifts at once.
pub const APPLY_BATCH: usize = 10_000;

/// Apply a plan in one transaction, in batches of [`APPLY_BATCH`], unless it is empty
/// or a dry run: (writes, ms).
fn apply(
    changes: Vec<Change>,
    ctx: &Context,
    dry_run: bool,
    store: &mut impl Store,
    host: &mut impl Host,
) -> Result<(u32, u64), SyncError> {
    if dry_run || changes.is_empty() {
        host.log(
            Level::Info,
            &format!("{} changes planned, none applied", changes.len()),
        );
        return Ok((0, 0));
    }
    let started = Instant::now();
    let n = changes.len();
    let mut writes = 0;
    let mut left = changes.into_iter();
    while left.len() > 0 {
        let batch: Vec<Change> = left.by_ref().take(APPLY_BATCH).collect();
        let more = left.len() > 0;
        let r = store.apply(&ctx.directory, batch, more).inspect_err(|e| {
            host.log(
                Level::Error,
                &format!("applying {n} changes failed, nothing was written: {e}"),
            );
        })?;
        writes += r.writes;
    }
    host.log(
        Level::Info,
        &format!("applied {n} changes ({writes} rows written)"),
    );
    Ok((writes, ms(started)))
}

/// Sync one user by login, as an SSO login does: two requests, that user only.
pub fn sync_user<T: Transport>(
    cfg: &ConnectorConfig,
    ctx: &Context,
    login: &str,
    transport: T,
    store: &mut impl Store,
    host: &mut impl Host,
) -> Result<UserReport, SyncError> {
    let cfg = validated(cfg, ctx)?;
    let mut client = OktaClient::new(transport, &cfg.okta_domain);
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
        report.active = existing.as_ref().is_some_and(|u| u.active);
        match existing {
            Some(u) if u.active && cfg.unknown_at_login == UnknownAtLogin::Deny => {
                let mut e = Entry::new(crate::report::Action::DeactivateUser, &u.username);
                e.fields.push(crate::report::FieldChange {
                    field: "active".into(),
                    old: Some("true".into()),
                    new: Some("false".into()),
                });
                let change = crate::store::Change::UpdateUser(Box::new(crate::store::UserUpdate {
                    key: u.key,
                    active: Some(false),
                    ..Default::default()
                }));
                apply(vec![change], ctx, false, store, host)?;
                report.entries = vec![e];
                report.active = false;
                host.log(
                    Level::Warn,
                    &format!(
                        "login sync: {login} is not known to Okta; deactivated (login denied)"
                    ),
                );
            }
            _ => host.log(
                Level::Info,
                &format!("login sync: {login} is not known to Okta; nothing changed"),
            ),
        }
        return Ok(report);
    };
    let groups = client.list_user_groups(&user.id)?;
    report.requests = client.requests();
    report.found = true;
    let members: Vec<(String, Vec<String>)> = groups
        .iter()
        .map(|g| (g.id.clone(), vec![user.id.clone()]))
        .collect();
    let rules = compile_rules(&cfg, ctx)?;
    let mut desired = mapping::desired_with(
        std::slice::from_ref(&user),
        &groups,
        &members,
        &rules,
        &cfg.user_attributes,
    );
    let snapshot = user_snapshot(&user.id, &desired, ctx, store);
    resolve_existing(&mut desired, &snapshot, &rules, ctx, store);
    let mut plan = plan::plan_with(
        &desired,
        &snapshot,
        Scope::Partial,
        Policy::of(&rules.users, &rules.lifecycle),
    );
    let access = ctx
        .licensing
        .as_ref()
        .map(|l| l.access_members(&snapshot.memberships))
        .unwrap_or_default();
    let denied = limit_seats(&mut plan, snapshot.users, access, &desired, ctx, store);
    report.seat_denied = !denied.is_empty();
    let seat_warning = ctx
        .licensing
        .as_ref()
        .and_then(|l| seats::warning(l, &denied));
    for w in desired
        .warnings
        .iter()
        .chain(&plan.warnings)
        .chain(&seat_warning)
    {
        host.log(Level::Warn, w);
    }
    apply(plan.changes, ctx, false, store, host)?;
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
        .chain(desired.default_groups.iter().cloned())
        .collect();
    let groups = store.find_groups(&ctx.directory, &names.into_iter().collect::<Vec<_>>());
    DirectorySnapshot {
        users,
        groups,
        memberships,
    }
}
