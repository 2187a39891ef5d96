//! The harness as a library: what the CLI, the REST API, the admin page and the tests
//! call. It plays the host product: connectors, their secrets, syncs and their runs. The
//! API token stays on this side: the plugin gets the settings, and the HTTP policy adds
//! the token to the plugin's requests to the connector's Okta host.

use crate::bindings::ConnectorCore;
use crate::bindings::types::{HostContext, StoreError};
use crate::bindings::wit::{self, ConnectorConfig, FieldError};
use crate::db::run_changes::{self, ChangePage, ChangeQuery};
use crate::db::{self, Db, DbError, connectors, connectors::StoredConnector, runs};
use crate::host::http::{Denied, HttpPolicy, OktaAccess, Resolve};
use crate::host::{CallScope, CommitError, HostState};
use crate::product::{Profile, SeatsError};
use crate::runtime::{GuestError, Limits, Runtime};
use crate::token::{ApiToken, TokenError};
use serde::Serialize;
use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use wasmtime::Store;

/// How the harness runs.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The product played.
    pub product: Profile,
    /// The product licence's seat limit (none: unlimited). Only for products licensed
    /// per user (not Bamboo); at least 1.
    pub seats: Option<u32>,
    /// Okta domain → loopback overrides (simulator, demo).
    pub resolve: Resolve,
    /// Budgets of a sync call.
    pub limits: Limits,
    /// Shows the plugin's progress (the CLI's terminal spinner), if set.
    pub progress: Option<crate::host::Progress>,
}

/// Why a harness operation failed; each renders as one sentence for admins.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// No such connector.
    #[error("there is no connector named `{0}`")]
    UnknownConnector(String),
    /// Name taken.
    #[error("a connector named `{0}` already exists")]
    DuplicateName(String),
    /// Settings refused by the plugin.
    #[error("invalid connector settings: {}", field_errors(.0))]
    InvalidConfig(Vec<FieldError>),
    /// A sync of this connector is running.
    #[error("a sync of `{0}` is already running; wait for it to finish")]
    AlreadyRunning(String),
    /// The sync failed; nothing was applied.
    #[error("{}", describe_sync_error(.0))]
    Sync(wit::SyncError),
    /// The plugin crashed, timed out or ran out of memory; nothing was applied.
    #[error(transparent)]
    Guest(#[from] GuestError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The seat limit does not fit the product.
    #[error(transparent)]
    Seats(#[from] SeatsError),
}

fn field_errors(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// One sentence for a sync error.
pub fn describe_sync_error(e: &wit::SyncError) -> String {
    match e {
        wit::SyncError::InvalidConfig(es) => {
            format!("invalid connector settings: {}", field_errors(es))
        }
        wit::SyncError::Okta(o) => {
            let status = if o.status == 0 {
                String::new()
            } else {
                format!(
                    " (HTTP {}{})",
                    o.status,
                    o.error_code
                        .as_ref()
                        .map(|c| format!(", {c}"))
                        .unwrap_or_default()
                )
            };
            format!(
                "Okta request {} failed: {}{status}; nothing was changed",
                o.path, o.summary
            )
        }
        wit::SyncError::Store(s) => {
            format!(
                "the user store failed: {}; nothing was changed",
                store_error(s)
            )
        }
        wit::SyncError::Security(s) => format!("stopped for security: {s}; nothing was changed"),
        wit::SyncError::Guard(g) => format!(
            "the mass-deactivation guard stopped the sync: it would deactivate or delete {} of {} active users (the guard allows at most {} % or {} users); nothing was changed. Check Okta, then sync once with --force to proceed",
            g.would_remove, g.active_users, g.percent, g.min_users
        ),
        wit::SyncError::PlanChanged(g) => format!(
            "the approved plan no longer matches what Okta and the store give: the sync would now deactivate or delete {} of {} active users (plan {}); nothing was changed. Review the new plan",
            g.would_remove, g.active_users, g.plan_digest
        ),
    }
}

/// A store error as one phrase, its kind first (`store busy: …`).
pub fn store_error(e: &StoreError) -> String {
    match e {
        StoreError::NotFound(m) => format!("not found: {m}"),
        StoreError::Conflict(m) => format!("conflict: {m}"),
        StoreError::Invalid(m) => format!("invalid: {m}"),
        StoreError::Busy(m) => format!("store busy: {m}"),
        StoreError::Failure(m) => format!("store failure: {m}"),
    }
}

/// What an admin enters for a connector. The token is optional on edits (kept).
#[derive(Clone, Default, serde::Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct ConnectorInput {
    /// Name.
    pub name: String,
    /// Okta domain.
    pub okta_domain: String,
    /// Cron schedule (empty: default).
    pub schedule: String,
    /// Scheduled sync on.
    pub schedule_enabled: bool,
    /// Sync BUILT_IN groups.
    pub include_built_in_groups: bool,
    /// Profile attributes copied.
    pub user_attributes: Vec<String>,
    /// Hours between full syncs (0: the base's).
    pub full_sync_interval_hours: u32,
    /// Deny (deactivate) logins Okta does not know, instead of keeping the user.
    pub deny_unknown_at_login: bool,
    /// Group-member requests in flight (0: the base's).
    pub member_concurrency: u32,
    /// User settings (none: the base's).
    pub users: Option<wit::UserSettings>,
    /// Group settings (none: the base's).
    pub groups: Option<wit::GroupSettings>,
    /// Lifecycle and guard settings (none: the base's).
    pub lifecycle: Option<wit::LifecycleSettings>,

    /// API token.
    pub api_token: Option<String>,
}

impl std::fmt::Debug for ConnectorInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectorInput")
            .field("name", &self.name)
            .field("okta_domain", &self.okta_domain)
            .field("api_token", &self.api_token.as_ref().map(|_| "********"))
            .finish_non_exhaustive()
    }
}

impl ConnectorInput {
    /// The input pre-filled from a stored connector (no token: it is kept unless replaced).
    pub fn from_config(c: &ConnectorConfig) -> Self {
        ConnectorInput {
            name: c.name.clone(),
            okta_domain: c.okta_domain.clone(),
            schedule: c.schedule.clone(),
            schedule_enabled: c.schedule_enabled,
            include_built_in_groups: c.include_built_in_groups,
            user_attributes: c.user_attributes.clone(),
            full_sync_interval_hours: c.full_sync_interval_hours,
            deny_unknown_at_login: c.unknown_at_login == wit::UnknownAtLogin::Deny,
            member_concurrency: c.member_concurrency,
            users: Some(c.users.clone()),
            groups: Some(c.groups.clone()),
            lifecycle: Some(c.lifecycle.clone()),
            api_token: None,
        }
    }

    /// The settings: this input over `base` (the stored settings when editing, the
    /// plugin's defaults when creating), which gives what the input leaves unset (an
    /// empty schedule, a 0, a `None`) and the settings the input has no field for.
    fn config(&self, base: ConnectorConfig) -> ConnectorConfig {
        let or = |n: u32, base: u32| if n == 0 { base } else { n };
        ConnectorConfig {
            name: self.name.clone(),
            okta_domain: self.okta_domain.clone(),
            schedule: if self.schedule.trim().is_empty() {
                base.schedule
            } else {
                self.schedule.clone()
            },
            schedule_enabled: self.schedule_enabled,
            include_built_in_groups: self.include_built_in_groups,
            user_attributes: self.user_attributes.clone(),
            full_sync_interval_hours: or(
                self.full_sync_interval_hours,
                base.full_sync_interval_hours,
            ),
            unknown_at_login: if self.deny_unknown_at_login {
                wit::UnknownAtLogin::Deny
            } else {
                wit::UnknownAtLogin::Keep
            },
            member_concurrency: or(self.member_concurrency, base.member_concurrency),
            users: self.users.clone().unwrap_or(base.users),
            groups: self.groups.clone().unwrap_or(base.groups),
            lifecycle: self.lifecycle.clone().unwrap_or(base.lifecycle),
            ..base
        }
    }
}

/// A connector as shown to admins: never the token.
#[derive(Clone, Debug, Serialize)]
pub struct ConnectorView {
    /// Id.
    pub id: i64,
    /// Settings.
    pub config: ConnectorConfig,
    /// Its directory.
    pub directory_id: i64,
    /// Always masked.
    pub api_token: &'static str,
    /// Next five scheduled runs (Unix seconds, UTC).
    pub next_runs: Vec<i64>,
    /// The latest run.
    pub last_run: Option<runs::Run>,
}

/// Settings the plugin accepted, and the token the host accepted.
#[derive(Clone, Debug)]
pub struct Configured {
    /// The normalized settings.
    pub config: ConnectorConfig,
    /// Their next five scheduled runs (Unix seconds, UTC).
    pub next_runs: Vec<i64>,
    /// The normalized token (its `Debug` is masked).
    pub token: ApiToken,
}

/// Add the token's error to the plugin's, where the plugin used to report it: after the
/// name and the domain.
fn with_token_error(mut errors: Vec<FieldError>, e: TokenError) -> Vec<FieldError> {
    let at = errors
        .iter()
        .take_while(|e| e.field == "name" || e.field == "okta-domain")
        .count();
    errors.insert(at, e.field_error());
    errors
}

/// What to sync and how.
#[derive(Clone, Copy, Debug, Default)]
pub struct SyncRequest {
    /// Plan only.
    pub dry_run: bool,
    /// Incremental instead of full.
    pub incremental: bool,
    /// Who asked: `manual`, `schedule`, `api`.
    pub trigger: &'static str,
    /// Apply even if the mass-deactivation guard would refuse.
    pub force: bool,
}

impl SyncRequest {
    /// The run's kind before the plugin says which mode ran.
    fn kind(&self) -> &'static str {
        if self.incremental {
            "incremental"
        } else {
            "full"
        }
    }

    fn options(&self) -> wit::SyncOptions {
        wit::SyncOptions {
            mode: if self.incremental {
                wit::SyncMode::Incremental
            } else {
                wit::SyncMode::Full
            },
            dry_run: self.dry_run,
            force: self.force,
            deep_reconcile: false,
            approved_plan: None,
        }
    }
}

/// The run kind of the mode a sync ran in.
fn mode_name(mode: wit::SyncMode) -> &'static str {
    match mode {
        wit::SyncMode::Full => "full",
        wit::SyncMode::Incremental => "incremental",
        wit::SyncMode::Feed => "feed",
    }
}

/// A call's result as the harness's: the guest's failure or the plugin's error.
fn outcome<T>(result: Result<Result<T, wit::SyncError>, GuestError>) -> Result<T, HarnessError> {
    result?.map_err(HarnessError::Sync)
}

impl From<CommitError> for HarnessError {
    fn from(e: CommitError) -> Self {
        match e {
            CommitError::Store(e) => HarnessError::Sync(wit::SyncError::Store(e)),
            CommitError::Db(e) => HarnessError::Db(e),
            unfinished @ CommitError::Unfinished => {
                HarnessError::Guest(GuestError::Trap(unfinished.to_string()))
            }
        }
    }
}

/// A finished sync.
#[derive(Clone, Debug, Serialize)]
pub struct SyncOutcome {
    /// Run id.
    pub run_id: i64,
    /// The plugin's report (its changes: [`Harness::run_changes`]).
    pub report: wit::SyncReport,
    /// Requests the HTTP policy refused.
    #[serde(skip)]
    pub denied: Vec<Denied>,
}

/// The licence's seats now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Seats {
    /// The seat limit.
    pub limit: u32,
    /// Seats taken, over every directory.
    pub used: u32,
    /// The groups whose active members take a seat.
    pub access_groups: Vec<String>,
}

/// The host product.
#[derive(Clone)]
pub struct Harness {
    db: Db,
    runtime: Arc<Runtime>,
    options: Options,
    running: Arc<Mutex<HashSet<i64>>>,
    /// Held by each sync and login sync while a seat limit is set: the seats a call is
    /// told are in use stay so until it has applied its changes.
    seat_lock: Arc<Mutex<()>>,
}

/// Marks a connector as syncing until dropped.
struct RunningGuard {
    set: Arc<Mutex<HashSet<i64>>>,
    id: i64,
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.id);
    }
}

/// A sync whose run is recorded and whose connector is marked running
/// ([`Harness::start_sync`]); dropped without [`StartedSync::run`], its run is failed.
pub struct StartedSync {
    harness: Harness,
    c: StoredConnector,
    run_id: i64,
    req: SyncRequest,
    done: bool,
    _guard: RunningGuard,
}

impl StartedSync {
    /// The run's id.
    pub fn run_id(&self) -> i64 {
        self.run_id
    }

    /// Run the sync (blocking) and record its result in the run.
    pub fn run(mut self) -> Result<SyncOutcome, HarnessError> {
        let result = self.harness.run_started(&self.c, self.run_id, self.req);
        self.done = true;
        result
    }
}

impl Drop for StartedSync {
    fn drop(&mut self) {
        if !self.done {
            let conn = self.harness.db.lock();
            let _ = runs::finish(
                &conn,
                self.run_id,
                "full",
                None,
                Some("the sync stopped before it finished; nothing of it was applied"),
            );
        }
    }
}

impl Harness {
    /// Open the database at `path` with the bundled component.
    pub fn open(path: &Path, options: Options) -> Result<Harness, HarnessError> {
        let runtime = Arc::new(Runtime::bundled()?);

        Self::with(Db::open(path)?, runtime, options)
    }

    /// A harness over an open database and a loaded runtime.
    pub fn with(db: Db, runtime: Arc<Runtime>, options: Options) -> Result<Harness, HarnessError> {
        options.product.check_seats(options.seats)?;
        runs::fail_interrupted(&db.lock())?;
        Ok(Harness {
            db,
            runtime,
            options,
            running: Default::default(),
            seat_lock: Default::default(),
        })
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The product played.
    pub fn product(&self) -> Profile {
        self.options.product
    }

    fn context(&self, directory: i64) -> HostContext {
        HostContext {
            product: self.options.product.product,
            directory: directory.to_string(),
            now: db::now(),
            licensing: None,
        }
    }

    /// The licence's seats now, if a seat limit is set.
    pub fn seats(&self) -> Result<Option<Seats>, HarnessError> {
        let Some(limit) = self.options.seats else {
            return Ok(None);
        };
        let groups = self.options.product.access_groups;
        Ok(Some(Seats {
            limit,
            used: db::seats::used(&self.db.lock(), groups)?,
            access_groups: groups.iter().map(ToString::to_string).collect(),
        }))
    }

    /// Tell a sync or login sync the licence's seats. With a seat limit, the returned
    /// guard keeps other calls from changing the seats until it is dropped.
    fn license(
        &self,
        ctx: &mut HostContext,
    ) -> Result<Option<std::sync::MutexGuard<'_, ()>>, HarnessError> {
        if self.options.seats.is_none() {
            return Ok(None);
        }
        let guard = self.seat_lock.lock().unwrap_or_else(|p| p.into_inner());
        ctx.licensing = self.seats()?.map(|s| crate::bindings::types::Licensing {
            seat_limit: s.limit,
            access_groups: s.access_groups,
            seats_used: s.used,
        });
        Ok(Some(guard))
    }

    fn state(&self, okta: Option<OktaAccess>, scope: CallScope) -> HostState {
        let scope = CallScope {
            key_prefix: self.options.product.key_prefix.to_string(),
            progress: self.options.progress.clone(),
            ..scope
        };
        HostState::new(
            self.db.clone(),
            HttpPolicy::new(okta, self.options.resolve.clone()),
            scope,
            Default::default(),
        )
    }

    fn short_limits(&self) -> Limits {
        Limits {
            timeout: self
                .options
                .limits
                .timeout
                .min(std::time::Duration::from_secs(60)),
            ..self.options.limits
        }
    }

    /// Run a short call that writes nothing (whatever it wrote is rolled back).
    fn short_call<R>(
        &self,
        state: HostState,
        f: impl FnOnce(&ConnectorCore, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> Result<R, GuestError> {
        let (result, mut state) = self.runtime.call(state, self.short_limits(), f);
        state.abandon(None);
        result
    }

    /// Every setting at its default, for this product (the plugin's).
    pub fn default_config(&self) -> Result<ConnectorConfig, HarnessError> {
        let ctx = self.context(0);
        let state = self.state(None, CallScope::default());
        Ok(self.short_call(state, |c, s| {
            c.usersync_okta_connector().call_default_config(s, &ctx)
        })?)
    }

    /// Validate settings (with the plugin) and the token (here); returns them
    /// normalized, or every bad field. `base` gives what `input` leaves unset (none:
    /// the plugin's defaults).
    pub fn configure(
        &self,
        input: &ConnectorInput,
        token: &str,
        base: Option<&ConnectorConfig>,
    ) -> Result<Configured, HarnessError> {
        let base = match base {
            Some(base) => base.clone(),
            None => self.default_config()?,
        };
        let config = input.config(base);
        let ctx = self.context(0);
        let state = self.state(None, CallScope::default());
        let result = self.short_call(state, |c, s| {
            c.usersync_okta_connector()
                .call_connector_configure(s, &config, &ctx)
        });
        match (result?, ApiToken::parse(token)) {
            (Ok(c), Ok(token)) => Ok(Configured {
                config: c.config,
                next_runs: c.next_runs,
                token,
            }),
            (Err(errors), Ok(_)) => Err(HarnessError::InvalidConfig(errors)),
            (settings, Err(e)) => Err(HarnessError::InvalidConfig(with_token_error(
                settings.err().unwrap_or_default(),
                e,
            ))),
        }
    }

    /// The stored token of a connector, with the access to its Okta host it grants.
    fn okta_access(&self, c: &StoredConnector) -> Result<OktaAccess, HarnessError> {
        let token = ApiToken::parse(&connectors::token(&self.db.lock(), c.id)?)
            .map_err(|e| HarnessError::InvalidConfig(vec![e.field_error()]))?;
        Ok(OktaAccess::new(&c.config.okta_domain, token))
    }

    fn stored(&self, name: &str) -> Result<StoredConnector, HarnessError> {
        connectors::by_name(&self.db.lock(), name)?
            .ok_or_else(|| HarnessError::UnknownConnector(name.trim().to_string()))
    }

    /// Create a connector (and its directory).
    pub fn create_connector(&self, input: &ConnectorInput) -> Result<ConnectorView, HarnessError> {
        let token = input.api_token.as_deref().unwrap_or_default();
        let configured = self.configure(input, token, None)?;
        if connectors::by_name(&self.db.lock(), &configured.config.name)?.is_some() {
            return Err(HarnessError::DuplicateName(configured.config.name));
        }
        connectors::insert(
            &mut self.db.lock(),
            &configured.config,
            configured.token.expose(),
        )?;
        self.connector(&configured.config.name)
    }

    /// Change a connector; the stored one stays as it was if the new settings are refused.
    pub fn update_connector(
        &self,
        name: &str,
        input: &ConnectorInput,
    ) -> Result<ConnectorView, HarnessError> {
        let old = self.stored(name)?;
        let token = match &input.api_token {
            Some(t) => t.clone(),
            None => connectors::token(&self.db.lock(), old.id)?,
        };
        // Settings the caller left out keep their stored values.
        let configured = self.configure(input, &token, Some(&old.config))?;
        if let Some(other) = connectors::by_name(&self.db.lock(), &configured.config.name)?
            && other.id != old.id
        {
            return Err(HarnessError::DuplicateName(configured.config.name));
        }
        let new_token = input.api_token.as_ref().map(|_| configured.token.expose());
        connectors::update(&mut self.db.lock(), old.id, &configured.config, new_token)?;
        self.connector(&configured.config.name)
    }

    /// Delete a connector; its directory and users stay, detached.
    pub fn delete_connector(&self, name: &str) -> Result<(), HarnessError> {
        let c = self.stored(name)?;
        let _guard = self.start_running(&c)?;
        connectors::delete(&mut self.db.lock(), c.id)?;
        Ok(())
    }

    fn view(&self, c: StoredConnector) -> Result<ConnectorView, HarnessError> {
        let last_run = runs::list(&self.db.lock(), Some(c.id), 1)?
            .into_iter()
            .next();
        let next_runs = self
            .next_runs(
                &c.config.schedule,
                &c.config.schedule_time_zone,
                db::now(),
                5,
            )
            .unwrap_or_default();
        Ok(ConnectorView {
            id: c.id,
            config: c.config,
            directory_id: c.directory_id,
            api_token: "********",
            next_runs,
            last_run,
        })
    }

    /// One connector.
    pub fn connector(&self, name: &str) -> Result<ConnectorView, HarnessError> {
        let c = self.stored(name)?;
        self.view(c)
    }

    /// All connectors.
    pub fn connectors(&self) -> Result<Vec<ConnectorView>, HarnessError> {
        let list = connectors::list(&self.db.lock())?;
        list.into_iter().map(|c| self.view(c)).collect()
    }

    /// Next run times of a schedule in an IANA time zone (evaluated by the plugin).
    pub fn next_runs(
        &self,
        schedule: &str,
        time_zone: &str,
        after: i64,
        count: u32,
    ) -> Result<Vec<i64>, HarnessError> {
        let state = self.state(None, CallScope::default());
        let result = self.short_call(state, |c, s| {
            c.usersync_okta_connector()
                .call_next_runs(s, schedule, time_zone, after, count)
        });
        result?.map_err(|e| HarnessError::InvalidConfig(vec![e]))
    }

    /// What a short call about one connector needs: the connector, the host context and
    /// a call state allowed to reach its Okta host (with its token).
    fn call_setup(
        &self,
        name: &str,
    ) -> Result<(StoredConnector, HostContext, HostState), HarnessError> {
        let c = self.stored(name)?;
        let access = self.okta_access(&c)?;
        let ctx = self.context(c.directory_id);
        let scope = CallScope {
            connector_id: Some(c.id),
            ..Default::default()
        };
        let state = self.state(Some(access), scope);
        Ok((c, ctx, state))
    }

    /// Check that Okta answers to the connector's token.
    pub fn test_connection(&self, name: &str) -> Result<wit::ConnectionInfo, HarnessError> {
        let (c, ctx, state) = self.call_setup(name)?;
        let result = self.short_call(state, |g, s| {
            g.usersync_okta_connector()
                .call_test_connection(s, &c.config, &ctx)
        });
        result?.map_err(HarnessError::Sync)
    }

    /// Check that Okta answers to settings not saved yet (the admin page's Test
    /// connection). Without a token in `input`, the token of the connector `existing`.
    pub fn test_settings(
        &self,
        existing: Option<&str>,
        input: &ConnectorInput,
    ) -> Result<wit::ConnectionInfo, HarnessError> {
        let old = existing.map(|n| self.stored(n)).transpose()?;
        let token = match (&input.api_token, &old) {
            (Some(t), _) => t.clone(),
            (None, Some(c)) => connectors::token(&self.db.lock(), c.id)?,
            (None, None) => String::new(),
        };
        let configured = self.configure(input, &token, old.as_ref().map(|c| &c.config))?;
        let ctx = self.context(old.as_ref().map_or(0, |c| c.directory_id));
        let access = OktaAccess::new(&configured.config.okta_domain, configured.token);
        let state = self.state(
            Some(access),
            CallScope {
                connector_id: old.as_ref().map(|c| c.id),
                ..Default::default()
            },
        );
        let result = self.short_call(state, |g, s| {
            g.usersync_okta_connector()
                .call_test_connection(s, &configured.config, &ctx)
        });
        result?.map_err(HarnessError::Sync)
    }

    /// Whether a sync of the connector is running in this process.
    pub fn is_running(&self, name: &str) -> Result<bool, HarnessError> {
        let id = self.stored(name)?.id;
        Ok(self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&id))
    }

    fn start_running(&self, c: &StoredConnector) -> Result<RunningGuard, HarnessError> {
        let mut set = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if !set.insert(c.id) {
            return Err(HarnessError::AlreadyRunning(c.config.name.clone()));
        }
        Ok(RunningGuard {
            set: self.running.clone(),
            id: c.id,
        })
    }

    /// Run a sync of one connector and record it as a run.
    pub fn sync(&self, name: &str, req: SyncRequest) -> Result<SyncOutcome, HarnessError> {
        self.start_sync(name, req)?.run()
    }

    /// Start a sync: mark the connector running and record its run, so that the run id
    /// is known before the sync proceeds with [`StartedSync::run`] (in any thread).
    /// Refused if a sync of the connector is running.
    pub fn start_sync(&self, name: &str, req: SyncRequest) -> Result<StartedSync, HarnessError> {
        let c = self.stored(name)?;
        let guard = self.start_running(&c)?;
        let kind = req.kind();
        let trigger = if req.trigger.is_empty() {
            "manual"
        } else {
            req.trigger
        };
        let run_id = runs::start(&self.db.lock(), c.id, kind, trigger, req.dry_run)?;
        Ok(StartedSync {
            harness: self.clone(),
            c,
            run_id,
            req,
            done: false,
            _guard: guard,
        })
    }

    fn run_started(
        &self,
        c: &StoredConnector,
        run_id: i64,
        req: SyncRequest,
    ) -> Result<SyncOutcome, HarnessError> {
        let kind = req.kind();
        let access = match self.okta_access(c) {
            Ok(a) => a,
            Err(e) => return Err(self.fail_run(run_id, kind, e, None)?),
        };
        let mut ctx = self.context(c.directory_id);
        let _seats = self.license(&mut ctx)?;
        let options = req.options();
        let scope = CallScope {
            connector_id: Some(c.id),
            run_id: Some(run_id),
            ..Default::default()
        };
        let (result, mut state) = self.runtime.call(
            self.state(Some(access), scope),
            self.options.limits,
            |g, s| {
                g.usersync_okta_connector()
                    .call_sync(s, &c.config, &ctx, &options)
            },
        );
        let denied = state.denied();
        let report = match outcome(result) {
            Ok(report) => report,
            Err(e) => return Err(self.fail_run(run_id, kind, e, Some(&mut state))?),
        };
        // The apply, the run's changes, the sync state and the run's end: one commit.
        let json = serde_json::to_string(&report).expect("report serializes");
        let finished = |conn: &rusqlite::Connection| {
            runs::finish(conn, run_id, mode_name(report.mode), Some(&json), None)
        };
        match state.commit(!req.dry_run, finished) {
            Ok(()) => Ok(SyncOutcome {
                run_id,
                report,
                denied,
            }),
            Err(e) => Err(self.fail_run(run_id, kind, e.into(), Some(&mut state))?),
        }
    }

    /// Record a run as failed with `e`, and give `e` back (or the database's error).
    /// The error's log line goes through the call's run log (`state`: its writes are
    /// rolled back first), or straight to the run when the call never ran.
    fn fail_run(
        &self,
        run_id: i64,
        kind: &str,
        e: HarnessError,
        state: Option<&mut HostState>,
    ) -> Result<HarnessError, DbError> {
        let message = e.to_string();
        match state {
            Some(state) => state.abandon(Some(&message)),
            None => runs::log(&self.db.lock(), run_id, "error", &message)?,
        }
        runs::finish(&self.db.lock(), run_id, kind, None, Some(&message))?;
        Ok(e)
    }

    /// Sync one user by login, as an SSO login does.
    pub fn sync_user(&self, name: &str, login: &str) -> Result<wit::UserSyncReport, HarnessError> {
        self.sync_user_by(name, &wit::UserRef::Login(login.to_string()))
    }

    /// Sync one user by login or Okta id (an ID token's `sub`), as an SSO login does.
    /// An admitted user's login time is recorded with the sync's changes (inactivity
    /// cleanup judges by it).
    pub fn sync_user_by(
        &self,
        name: &str,
        who: &wit::UserRef,
    ) -> Result<wit::UserSyncReport, HarnessError> {
        let (c, mut ctx, state) = self.call_setup(name)?;
        let _seats = self.license(&mut ctx)?;
        let (result, mut state) = self.runtime.call(state, self.short_limits(), |g, s| {
            g.usersync_okta_connector()
                .call_sync_user(s, &c.config, &ctx, who)
        });
        let report = match outcome(result) {
            Ok(report) => report,
            Err(e) => {
                state.abandon(None);
                return Err(e);
            }
        };
        let admitted = match (&report.refusal, &report.username) {
            (None, Some(username)) => Some(username.as_str()),
            _ => None,
        };
        state.commit(true, |conn| match admitted {
            Some(username) => {
                db::directory::record_login(conn, c.directory_id, username, db::now())
            }
            None => Ok(()),
        })?;
        Ok(report)
    }

    /// One run, its log and a page of its changes.
    pub fn run_with_changes(
        &self,
        id: i64,
        query: ChangeQuery,
    ) -> Result<Option<(runs::Run, Vec<runs::LogLine>, ChangePage)>, HarnessError> {
        let Some((run, log)) = self.run(id)? else {
            return Ok(None);
        };
        Ok(Some((run, log, self.run_changes(id, query)?)))
    }

    /// A page of a run's changes, in apply order (the report's list).
    pub fn run_changes(&self, run_id: i64, query: ChangeQuery) -> Result<ChangePage, HarnessError> {
        Ok(run_changes::page(&self.db.lock(), run_id, query)?)
    }

    /// Recent runs, of one connector or all.
    pub fn runs(
        &self,
        connector: Option<&str>,
        limit: u32,
    ) -> Result<Vec<runs::Run>, HarnessError> {
        let id = connector
            .map(|n| self.stored(n).map(|c| c.id))
            .transpose()?;
        Ok(runs::list(&self.db.lock(), id, limit)?)
    }

    /// One run and its log.
    pub fn run(&self, id: i64) -> Result<Option<(runs::Run, Vec<runs::LogLine>)>, HarnessError> {
        let conn = self.db.lock();
        let Some(run) = runs::get(&conn, id)? else {
            return Ok(None);
        };
        let log = runs::log_lines(&conn, id)?;
        Ok(Some((run, log)))
    }
}
