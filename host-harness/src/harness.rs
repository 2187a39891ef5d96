//! The harness as a library: what the CLI, the REST API, the admin page and the tests
//! call. It plays the host product: connectors, their secrets, syncs and their runs. The
//! credential stays on this side: the plugin gets the settings, and the HTTP policy adds
//! the API token, or a service app's access token and DPoP proof, to the plugin's
//! requests to the connector's Okta host.

use crate::host::bindings::types::HostContext;
use crate::host::bindings::{ConnectorCore, wit};
use crate::host::http::{Denied, HttpPolicy, OktaAccess, Resolve};
use crate::host::oauth::CredentialError;
use crate::host::runtime::{GuestError, Limits, Runtime};
use crate::host::secret::{self, Secret, Sessions};
use crate::host::{CallScope, CommitError, HostState};
use crate::model::stored::StoredError;
use crate::model::{
    self, ConnectionInfo, ConnectorPatch, ConnectorSettings, Failure, FailureKind, FieldError,
    Patch, RunKind, SyncError, SyncReport, Trigger, UserSyncReport,
};
use crate::product::db::directory_admin::{
    self, AdminError, Direction, DirectoryRow, GroupRow, HistoryEntry, Move, Page, UserQuery,
    UserRow,
};
use crate::product::db::key::KeySource;
use crate::product::db::lease::{self, Keeper};
use crate::product::db::run_changes::{self, ChangePage, ChangeQuery};
use crate::product::db::secrets::{self as stored_secrets, SecretsError};
use crate::product::db::{self, Db, DbError, connectors, connectors::StoredConnector, runs};
use crate::product::profile::{Profile, SeatsError};
use serde::Serialize;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use wasmtime::Store;

mod approval;

pub use approval::{ApprovalError, Approved};

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
    /// No such run.
    #[error("there is no run #{0}")]
    UnknownRun(i64),
    /// The connector's org has no identity provider (single sign-on).
    #[error("connector `{0}` has no identity provider (SSO): set its client id and secret first")]
    NoIdentityProvider(String),
    /// Name taken.
    #[error("a connector named `{0}` already exists")]
    DuplicateName(String),
    /// Settings refused by the plugin (or the token by the host).
    #[error("invalid connector settings: {}", model::error::field_errors(.0))]
    InvalidConfig(Vec<FieldError>),
    /// A login sync's login or Okta id is not one (see `model::login`).
    #[error("{}", .0.message)]
    InvalidLogin(FieldError),
    /// A sync of this connector is running (in this process or another).
    #[error("a sync of `{}` is already running in {} since {}; wait for it to finish", .0.what, .0.holder, utc(.0.since))]
    AlreadyRunning(Box<Held>),
    /// Another `usersync serve` on this database runs the schedules.
    #[error(
        "the schedules of this database are run by another `usersync serve` ({} since {}); \
         this one fires none until that one stops or misses its heartbeats",
        .0.holder, utc(.0.since)
    )]
    SchedulerElsewhere(Box<Held>),
    /// The sync failed; nothing was applied.
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// The plugin crashed, timed out or ran out of memory; nothing was applied.
    #[error(transparent)]
    Guest(#[from] GuestError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A stored credential cannot be decrypted or encrypted (the key is wrong, missing,
    /// exposed, or the value altered).
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    /// A stored document cannot be read.
    #[error(transparent)]
    Stored(#[from] StoredError),
    /// The seat limit does not fit the product.
    #[error(transparent)]
    Seats(#[from] SeatsError),
    /// The service app could not get a token, or lacks a scope or an admin role.
    #[error(transparent)]
    Credential(#[from] CredentialError),
    /// No such user, group or directory (named as admins read it).
    #[error("there is no {0}")]
    Unknown(String),
    /// A page of the user management cannot be read (a bad cursor, the database).
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// A plan that cannot be approved or rejected (none, or not pending).
    #[error(transparent)]
    Approval(#[from] ApprovalError),
    /// A console setting (approvals, alerts) refused, naming it.
    #[error("invalid console settings: {0}")]
    Console(#[from] crate::model::console::ConsoleError),
}

/// What kind of failure a [`HarnessError`] is: each surface maps these once (the CLI's
/// exit code, the REST API's status, the admin page's message).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request or the settings are not valid.
    Invalid,
    /// No such connector or run.
    NotFound,
    /// A connector of that name exists.
    Conflict,
    /// A sync of the connector is running.
    Busy,
    /// The mass-deactivation guard refused; a forced sync proceeds.
    Guard,
    /// Okta failed or refused, or a security rule stopped the sync.
    Upstream,
    /// The store, the database or the plugin failed.
    Internal,
}

impl HarnessError {
    /// Its kind, for the surfaces.
    pub fn kind(&self) -> ErrorKind {
        match self {
            HarnessError::InvalidConfig(_)
            | HarnessError::InvalidLogin(_)
            | HarnessError::Seats(_)
            | HarnessError::Secrets(SecretsError::Target(_))
            | HarnessError::Sync(SyncError::InvalidConfig(_)) => ErrorKind::Invalid,
            HarnessError::UnknownConnector(_)
            | HarnessError::UnknownRun(_)
            | HarnessError::NoIdentityProvider(_)
            | HarnessError::Unknown(_) => ErrorKind::NotFound,
            HarnessError::Admin(AdminError::BadCursor) | HarnessError::Console(_) => {
                ErrorKind::Invalid
            }
            HarnessError::DuplicateName(_) | HarnessError::Approval(_) => ErrorKind::Conflict,
            HarnessError::AlreadyRunning(_) | HarnessError::SchedulerElsewhere(_) => {
                ErrorKind::Busy
            }
            HarnessError::Sync(SyncError::Guard(_) | SyncError::PlanChanged(_)) => ErrorKind::Guard,
            HarnessError::Sync(SyncError::Okta(_) | SyncError::Security(_))
            | HarnessError::Credential(_) => ErrorKind::Upstream,
            HarnessError::Sync(SyncError::Store(_))
            | HarnessError::Guest(_)
            | HarnessError::Db(_)
            | HarnessError::Secrets(_)
            | HarnessError::Stored(_)
            | HarnessError::Admin(AdminError::Db(_)) => ErrorKind::Internal,
        }
    }

    /// The failure a run that ended with this error records.
    fn failure(&self) -> Failure {
        let kind = match self {
            HarnessError::Sync(e) => e.kind(),
            HarnessError::InvalidConfig(_) | HarnessError::Seats(_) => FailureKind::InvalidSettings,
            HarnessError::Db(_) | HarnessError::Stored(_) | HarnessError::Secrets(_) => {
                FailureKind::Store
            }
            HarnessError::Credential(_) => FailureKind::Okta,
            _ => FailureKind::Plugin,
        };
        Failure {
            kind,
            message: self.to_string(),
        }
    }

    /// The refused settings, each naming its field, if that is the error.
    pub fn field_errors(&self) -> Option<&[FieldError]> {
        match self {
            HarnessError::InvalidConfig(es) | HarnessError::Sync(SyncError::InvalidConfig(es)) => {
                Some(es)
            }
            HarnessError::InvalidLogin(e) => Some(std::slice::from_ref(e)),
            _ => None,
        }
    }
}

/// A lease someone else holds: what it guards, who holds it, since when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held {
    /// The connector (or the schedules).
    pub what: String,
    /// Its holder, e.g. `process 4242 on node-a`.
    pub holder: String,
    /// When it took the lease (Unix seconds).
    pub since: i64,
}

impl Held {
    fn new(what: &str, lease: lease::Lease) -> Box<Held> {
        Box::new(Held {
            what: what.to_string(),
            holder: lease.holder.to_string(),
            since: lease.acquired_at,
        })
    }
}

/// Unix seconds as admins read them in messages (`2026-12-01 09:00:00 UTC`).
pub fn utc(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).map_or_else(
        || t.to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

/// A connector as shown to admins: never its secret.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorView {
    /// Id.
    pub id: i64,
    /// Settings.
    #[serde(flatten)]
    pub settings: ConnectorSettings,
    /// Its directory.
    pub directory_id: i64,
    /// The API token, always masked (for an API-token credential).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_token: Option<&'static str>,
    /// The private key, always masked (for a service app).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_key: Option<&'static str>,
    /// The public half of a service app's key, as the JWK to register in the Okta app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<serde_json::Value>,
    /// Next five scheduled runs (Unix seconds, UTC).
    pub next_runs: Vec<i64>,
    /// The latest run.
    pub last_run: Option<runs::Run>,
}

/// Settings the plugin accepted, and the secret the host accepted.
#[derive(Clone, Debug)]
pub struct Configured {
    /// The normalized settings.
    pub settings: ConnectorSettings,
    /// Their next five scheduled runs (Unix seconds, UTC).
    pub next_runs: Vec<i64>,
    /// The credential's secret (its `Debug` is masked).
    pub secret: Secret,
}

/// A stored secret is only ever used for the kind of credential it was given for:
/// settings that change the kind must bring the new secret (a stored token is no key).
fn kind_stays(old: &StoredConnector, new: &ConnectorSettings) -> Result<(), HarnessError> {
    if same_kind(&old.settings.credential, &new.credential) {
        return Ok(());
    }
    Err(secret_needed(
        &new.credential,
        format!(
            "the credential changes from {} to {}: give the {}",
            kind_name(&old.settings.credential),
            kind_name(&new.credential),
            new.credential.secret_name()
        ),
    ))
}

/// A stored secret is only ever sent to the domain it was given for: settings that move
/// a connector to another Okta domain (`new` as the plugin normalized it) must bring the
/// secret again, or they are refused naming it (else the other domain would receive it).
fn domain_stays(old: &StoredConnector, new: &ConnectorSettings) -> Result<(), HarnessError> {
    if new
        .okta_domain
        .eq_ignore_ascii_case(&old.settings.okta_domain)
    {
        return Ok(());
    }
    Err(secret_needed(
        &new.credential,
        format!(
            "the Okta domain changes from {} to {}: give the {} for the new domain \
             (the stored one is only sent to the domain it was given for)",
            old.settings.okta_domain,
            new.okta_domain,
            new.credential.secret_name()
        ),
    ))
}

/// The refusal of settings that need their credential's secret again.
fn secret_needed(credential: &model::Credential, message: String) -> HarnessError {
    HarnessError::InvalidConfig(vec![FieldError {
        field: credential.secret_field().into(),
        message,
    }])
}

/// The secret a patch gives for `credential`: its token or key, or a key generated for
/// it (`generateKey`); refused naming the field when it gives the other kind's.
fn given_secret(
    patch: &ConnectorPatch,
    credential: &model::Credential,
) -> Result<Option<String>, HarnessError> {
    let refuse = |message: String| secret_needed(credential, message);
    match (patch.generate_key, credential) {
        (Some(true), model::Credential::OauthServiceApp { .. }) => {
            return Ok(Some(
                crate::host::oauth::ClientKey::generate()
                    .expose()
                    .to_string(),
            ));
        }
        (Some(true), model::Credential::ApiToken) => {
            return Err(refuse(
                "a key is generated only for an OAuth service app (credential type oauth-service-app)".into(),
            ));
        }
        _ => {}
    }
    let given = patch.secret_for(credential).map_err(|other| {
        refuse(format!(
            "the connector authenticates with {}: give its {}, not `{other}`",
            kind_name(credential),
            credential.secret_name()
        ))
    })?;
    Ok(given.map(str::to_string))
}

fn same_kind(a: &model::Credential, b: &model::Credential) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

fn kind_name(c: &model::Credential) -> &'static str {
    match c {
        model::Credential::ApiToken => "an API token",
        model::Credential::OauthServiceApp { .. } => "an OAuth service app",
    }
}

/// Add the host's refusals (the credential's) to the plugin's, where admins look for
/// them: after the name and the domain.
fn with_host_errors(mut errors: Vec<FieldError>, host: Vec<FieldError>) -> Vec<FieldError> {
    let at = errors
        .iter()
        .take_while(|e| e.field == "name" || e.field == "okta-domain")
        .count();
    errors.splice(at..at, host);
    errors
}

/// What to sync and how.
#[derive(Clone, Copy, Debug, Default)]
pub struct SyncRequest {
    /// Plan only.
    pub dry_run: bool,
    /// Incremental instead of full.
    pub incremental: bool,
    /// Who asked.
    pub trigger: Trigger,
    /// Apply even if the mass-deactivation guard would refuse.
    pub force: bool,
    /// Re-read every group's member list and compare the whole store, even if no deep
    /// reconcile is due (a full sync otherwise skips the lists of unchanged groups).
    pub deep_reconcile: bool,
}

impl SyncRequest {
    /// The run's kind before the plugin says which mode ran.
    fn kind(&self) -> RunKind {
        if self.incremental {
            RunKind::Incremental
        } else {
            RunKind::Full
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
            deep_reconcile: self.deep_reconcile,
            approved_plan: None,
        }
    }
}

/// A call's result as the harness's: the guest's failure or the plugin's error.
fn outcome<T>(result: Result<Result<T, wit::SyncError>, GuestError>) -> Result<T, HarnessError> {
    result?.map_err(|e| HarnessError::Sync(e.into()))
}

/// A failed call's error: the credential failure that caused it if there was one (the
/// plugin only saw its request fail, or a 403), else the plugin's.
fn credential_first<T>(state: &HostState, r: Result<T, HarnessError>) -> Result<T, HarnessError> {
    match (r, state.credential_failure()) {
        (Err(_), Some(e)) => Err(HarnessError::Credential(e)),
        (r, _) => r,
    }
}

impl From<CommitError> for HarnessError {
    fn from(e: CommitError) -> Self {
        match e {
            CommitError::Store(e) => HarnessError::Sync(SyncError::Store(e.into())),
            CommitError::Db(e) => HarnessError::Db(e),
            unfinished @ CommitError::Unfinished => {
                HarnessError::Guest(GuestError::Trap(unfinished.to_string()))
            }
        }
    }
}

/// A finished sync.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncOutcome {
    /// Run id.
    pub run_id: i64,
    /// The plugin's report, with the run's recorded changes.
    pub report: SyncReport,
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
    /// Every setting at its default, from the plugin (asked once, on first use).
    defaults: Arc<OnceLock<ConnectorSettings>>,
    /// This instance's leases (a connector's sync, the schedules) and their heartbeat.
    leases: Arc<Keeper>,
    /// Held by each sync and login sync while a seat limit is set: the seats a call is
    /// told are in use stay so until it has applied its changes.
    seat_lock: Arc<Mutex<()>>,
    /// Service-app sessions (their cached tokens) of the connectors.
    sessions: Arc<Sessions>,
}

/// A connector's sync lease, renewed until dropped (its row goes with the run's end).
struct SyncLease {
    keeper: Arc<Keeper>,
    name: String,
}

impl SyncLease {
    /// Let go of it in `conn`'s transaction, and stop renewing it (if that transaction
    /// fails, the lease lapses by expiry).
    fn release(&self, conn: &rusqlite::Connection) -> Result<(), DbError> {
        self.keeper.forget(&self.name);
        lease::release(conn, &self.name, self.keeper.me())
    }
}

impl Drop for SyncLease {
    fn drop(&mut self) {
        self.keeper.forget(&self.name);
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
    lease: SyncLease,
    /// The pending plan this sync applies, approved (`None`: an ordinary sync).
    approving: Option<db::pending::PendingPlan>,
}

impl StartedSync {
    /// The run's id.
    pub fn run_id(&self) -> i64 {
        self.run_id
    }

    /// Run the sync (blocking) and record its result in the run. The outcome's report
    /// holds no changes: they are the run's ([`Harness::run_change_chunks`]).
    pub fn run(mut self) -> Result<SyncOutcome, HarnessError> {
        let result = self.harness.run_started(
            &self.c,
            &self.lease,
            self.run_id,
            self.req,
            self.approving.as_ref(),
        );
        self.done = true;
        crate::alerts::after_run(&self.harness, &self.c.settings.name, self.run_id, &result);
        result
    }
}

impl Drop for StartedSync {
    fn drop(&mut self) {
        if !self.done {
            let failure = Failure {
                kind: FailureKind::Interrupted,
                message: "the sync stopped before it finished; nothing of it was applied".into(),
            };
            let _ = self
                .harness
                .end_failed(&self.lease, self.run_id, self.req.kind(), &failure);
        }
    }
}

impl Harness {
    /// Open the database at `path` with the bundled component; the key of its
    /// credentials is `USERSYNC_SECRET_KEY`, else the key file beside it.
    pub fn open(path: &Path, options: Options) -> Result<Harness, HarnessError> {
        Self::open_with_key(path, KeySource::for_database(path), options)
    }

    /// Open the database at `path`, its credentials' key from `key`.
    pub fn open_with_key(
        path: &Path,
        key: KeySource,
        options: Options,
    ) -> Result<Harness, HarnessError> {
        let runtime = Arc::new(Runtime::bundled()?);
        Self::with(Db::open_with_key(path, key)?, runtime, options)
    }

    /// A harness over an open database and a loaded runtime: a new lease holder
    /// ([`lease::Holder`]). Runs left running by a process that is gone (its
    /// connector's sync lease lapsed, or its process is no longer on this host) are
    /// marked interrupted, a live sync of another process never; documents stored by an
    /// earlier version are upgraded, and so are plaintext credentials (encrypted).
    /// Refused if the credentials are under another key than the database's.
    pub fn with(db: Db, runtime: Arc<Runtime>, options: Options) -> Result<Harness, HarnessError> {
        options.product.check_seats(options.seats)?;
        let h = Harness {
            db: db.clone(),
            runtime,
            options,
            defaults: Default::default(),
            leases: Keeper::new(db.clone()),
            seat_lock: Default::default(),
            sessions: Default::default(),
        };
        if db.read_only() {
            return Ok(h);
        }
        h.upgrade_stored()?;
        match runs::close_orphaned(&h.db.lock(), db::now()) {
            Ok(_) => {}
            // Another process's apply holds the write lock: the next open closes them.
            Err(e) if e.source.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => {
                tracing::info!("runs left by a stopped process stay open for now: {e}")
            }
            Err(e) => return Err(e.into()),
        }
        Ok(h)
    }

    /// Settings and reports stored by an earlier version, in the current documents.
    fn upgrade_stored(&self) -> Result<(), HarnessError> {
        let mut defaults = || self.defaults().ok();
        connectors::upgrade_stored(&mut self.db.lock(), &mut defaults)?;
        runs::upgrade_stored(&mut self.db.lock())?;
        stored_secrets::upgrade_stored(&mut self.db.lock(), self.db.key())?;
        Ok(())
    }

    /// The Okta domain → loopback overrides (`--resolve`), which single sign-on's
    /// requests and redirects follow too.
    pub fn resolve(&self) -> &Resolve {
        &self.options.resolve
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
        ctx.licensing = self
            .seats()?
            .map(|s| crate::host::bindings::types::Licensing {
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

    /// Every setting at its default, as the plugin's `default-config` gives them (the
    /// one source of defaults: the page, the CLI and new connectors start from these).
    pub fn defaults(&self) -> Result<ConnectorSettings, HarnessError> {
        if let Some(d) = self.defaults.get() {
            return Ok(d.clone());
        }
        let ctx = self.context(0);
        let state = self.state(None, CallScope::default());
        let config = self.short_call(state, |c, s| {
            c.usersync_okta_connector().call_default_config(s, &ctx)
        })?;
        let d = model::wit::defaults_from(config);
        Ok(self.defaults.get_or_init(|| d).clone())
    }

    /// The plugin's `connector-configure`: the normalized config, or every bad field.
    fn call_configure(
        &self,
        config: &wit::ConnectorConfig,
    ) -> Result<Result<wit::Configured, Vec<FieldError>>, GuestError> {
        let ctx = self.context(0);
        let state = self.state(None, CallScope::default());
        let result = self.short_call(state, |c, s| {
            c.usersync_okta_connector()
                .call_connector_configure(s, config, &ctx)
        })?;
        Ok(result.map_err(model::wit::field_errors))
    }

    /// Validate settings (with the plugin) and the credential with its secret (here);
    /// returns them normalized, or every bad field.
    pub fn configure(
        &self,
        settings: &ConnectorSettings,
        secret: &str,
    ) -> Result<Configured, HarnessError> {
        let result = self.call_configure(&model::wit::config(settings))?;
        let mut host = secret::check(&settings.credential);
        let secret = Secret::parse(&settings.credential, secret).map_err(|e| host.push(e));
        match (result, secret) {
            (Ok(c), Ok(secret)) if host.is_empty() => Ok(Configured {
                settings: model::wit::settings_from(c.config, settings.credential.clone()),
                next_runs: c.next_runs,
                secret,
            }),
            (result, _) => Err(HarnessError::InvalidConfig(with_host_errors(
                result.err().unwrap_or_default(),
                host,
            ))),
        }
    }

    /// The settings a patch makes, validated: its fields over the stored connector's
    /// settings, or over the defaults for a new one; and the secret (the patch's, a key
    /// generated for it, else the stored one), with whether it is new.
    fn configure_patch(
        &self,
        old: Option<&StoredConnector>,
        patch: &ConnectorPatch,
    ) -> Result<(Configured, bool), HarnessError> {
        let mut settings = match old {
            Some(c) => c.settings.clone(),
            None => self.defaults()?,
        };
        settings.apply(patch.clone());
        let given = given_secret(patch, &settings.credential)?;
        let secret = match (&given, old) {
            (Some(t), _) => t.clone(),
            (None, Some(c)) => {
                kind_stays(c, &settings)?;
                self.stored_secret(c)?
            }
            (None, None) => String::new(),
        };
        let configured = self.configure(&settings, &secret)?;
        if let (None, Some(c)) = (&given, old) {
            domain_stays(c, &configured.settings)?;
        }
        Ok((configured, given.is_some()))
    }

    /// The stored secret of a connector, decrypted.
    fn stored_secret(&self, c: &StoredConnector) -> Result<String, HarnessError> {
        let conn = self.db.lock();
        Ok(stored_secrets::read(
            &conn,
            self.db.key(),
            c.id,
            &c.settings,
        )?)
    }

    /// The stored secret of a connector, with the access to its Okta host it grants.
    fn okta_access(&self, c: &StoredConnector) -> Result<OktaAccess, HarnessError> {
        let stored = self.stored_secret(c)?;
        let secret = Secret::parse(&c.settings.credential, &stored)
            .map_err(|e| HarnessError::InvalidConfig(vec![e]))?;
        Ok(self.sessions.access(Some(c.id), &c.settings, secret))
    }

    pub(crate) fn stored(&self, name: &str) -> Result<StoredConnector, HarnessError> {
        connectors::by_name(&self.db.lock(), name)?
            .ok_or_else(|| HarnessError::UnknownConnector(name.trim().to_string()))
    }

    /// Refused if another connector than `id` has the name.
    fn check_name(&self, name: &str, id: Option<i64>) -> Result<(), HarnessError> {
        match connectors::by_name(&self.db.lock(), name)? {
            Some(other) if Some(other.id) != id => Err(HarnessError::DuplicateName(name.into())),
            _ => Ok(()),
        }
    }

    /// Validate what a patch makes of a connector (`existing`, or a new one) without
    /// saving it (an import checks every connector first).
    pub fn check(
        &self,
        existing: Option<&str>,
        patch: &ConnectorPatch,
    ) -> Result<Configured, HarnessError> {
        let old = existing.map(|n| self.stored(n)).transpose()?;
        Ok(self.configure_patch(old.as_ref(), patch)?.0)
    }

    /// Create a connector (and its directory) from the defaults and `patch`.
    pub fn create_connector(&self, patch: &ConnectorPatch) -> Result<ConnectorView, HarnessError> {
        self.db.still_there()?;
        let configured = self.check(None, patch)?;
        self.check_name(&configured.settings.name, None)?;
        connectors::insert(
            &mut self.db.lock(),
            self.db.key(),
            &configured.settings,
            configured.secret.expose(),
        )?;
        self.connector(&configured.settings.name)
    }

    /// Change a connector: the fields `patch` holds, and its token if it holds one. The
    /// stored connector stays as it was if the new settings are refused.
    pub fn update_connector(
        &self,
        name: &str,
        patch: &ConnectorPatch,
    ) -> Result<ConnectorView, HarnessError> {
        self.db.still_there()?;
        let old = self.stored(name)?;
        let (configured, new) = self.configure_patch(Some(&old), patch)?;
        self.check_name(&configured.settings.name, Some(old.id))?;
        let new_secret = new.then(|| configured.secret.expose());
        connectors::update(
            &mut self.db.lock(),
            self.db.key(),
            old.id,
            &configured.settings,
            new_secret,
        )?;
        self.connector(&configured.settings.name)
    }

    /// Delete a connector; its directory and users stay, detached.
    pub fn delete_connector(&self, name: &str) -> Result<(), HarnessError> {
        self.db.still_there()?;
        let c = self.stored(name)?;
        let lease = lease::immediate(&self.db.lock(), |conn| self.take_sync_lease(conn, &c))?;
        let mut conn = self.db.lock();
        connectors::delete(&mut conn, c.id)?;
        lease.release(&conn)?;
        Ok(())
    }

    fn view(&self, c: StoredConnector) -> Result<ConnectorView, HarnessError> {
        let last_run = runs::list(&self.db.lock(), Some(c.id), 1)?
            .into_iter()
            .next();
        let next_runs = self
            .next_runs(
                &c.settings.schedule,
                &c.settings.schedule_time_zone,
                db::now(),
                5,
            )
            .unwrap_or_default();
        let (api_token, private_key, public_key) = match &c.settings.credential {
            model::Credential::ApiToken => (Some(model::REDACTED), None, None),
            model::Credential::OauthServiceApp { key_id, .. } => {
                // A key that does not decrypt shows no public key here; using the
                // connector (test, sync) says why.
                let public = self
                    .stored_secret(&c)
                    .ok()
                    .and_then(|stored| crate::host::oauth::ClientKey::parse(&stored).ok())
                    .map(|k| k.public_jwk(key_id.as_deref()));
                (None, Some(model::REDACTED), public)
            }
        };
        Ok(ConnectorView {
            id: c.id,
            settings: c.settings,
            directory_id: c.directory_id,
            api_token,
            private_key,
            public_key,
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
        result?.map_err(|e| HarnessError::InvalidConfig(vec![e.into()]))
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
    pub fn test_connection(&self, name: &str) -> Result<ConnectionInfo, HarnessError> {
        let (c, ctx, state) = self.call_setup(name)?;
        self.call_test_connection(state, &c.settings, &ctx)
    }

    fn call_test_connection(
        &self,
        state: HostState,
        settings: &ConnectorSettings,
        ctx: &HostContext,
    ) -> Result<ConnectionInfo, HarnessError> {
        let config = model::wit::config(settings);
        let (result, mut state) = self.runtime.call(state, self.short_limits(), |g, s| {
            g.usersync_okta_connector()
                .call_test_connection(s, &config, ctx)
        });
        state.abandon(None);
        credential_first(&state, outcome(result)).map(Into::into)
    }

    /// Check that Okta answers to settings not saved yet (the admin page's Test
    /// connection): `patch` over the connector `existing` (or the defaults), with the
    /// patch's token or else the stored one.
    pub fn test_settings(
        &self,
        existing: Option<&str>,
        patch: &ConnectorPatch,
    ) -> Result<ConnectionInfo, HarnessError> {
        let (state, settings, ctx) = self.unsaved_call(existing, patch)?;
        self.call_test_connection(state, &settings, &ctx)
    }

    /// Up to `limit` Okta users and groups through settings not saved yet (the admin
    /// page's live preview of the mapping): `patch` over the connector `existing` (or
    /// the defaults), with the patch's secret or else the stored one. Writes nothing.
    pub fn preview_settings(
        &self,
        existing: Option<&str>,
        patch: &ConnectorPatch,
        limit: u32,
    ) -> Result<model::MappingPreview, HarnessError> {
        let (state, settings, ctx) = self.unsaved_call(existing, patch)?;
        let config = model::wit::config(&settings);
        let (result, mut state) = self.runtime.call(state, self.short_limits(), |g, s| {
            g.usersync_okta_connector()
                .call_preview(s, &config, &ctx, limit)
        });
        state.abandon(None);
        credential_first(&state, outcome(result)).map(Into::into)
    }

    /// The call state, settings and context of a call on settings not saved yet:
    /// `patch` over the connector `existing` (or the defaults), with the patch's secret
    /// or else the stored one.
    fn unsaved_call(
        &self,
        existing: Option<&str>,
        patch: &ConnectorPatch,
    ) -> Result<(HostState, ConnectorSettings, HostContext), HarnessError> {
        let old = existing.map(|n| self.stored(n)).transpose()?;
        let (configured, _) = self.configure_patch(old.as_ref(), patch)?;
        let ctx = self.context(old.as_ref().map_or(0, |c| c.directory_id));
        let access = self
            .sessions
            .access(None, &configured.settings, configured.secret);
        let state = self.state(
            Some(access),
            CallScope {
                connector_id: old.as_ref().map(|c| c.id),
                ..Default::default()
            },
        );
        Ok((state, configured.settings, ctx))
    }

    /// Whether a sync of the connector is running, in this process or another.
    pub fn is_running(&self, name: &str) -> Result<bool, HarnessError> {
        let id = self.stored(name)?.id;
        let lease = lease::get(&self.db.lock(), &lease::sync_lease(id))?;
        Ok(lease.is_some_and(|l| l.is_live(db::now())))
    }

    /// Take the connector's sync lease in `conn`'s write transaction (refused naming
    /// who syncs it); the runs its gone holder left running are marked interrupted.
    fn take_sync_lease(
        &self,
        conn: &rusqlite::Connection,
        c: &StoredConnector,
    ) -> Result<SyncLease, HarnessError> {
        let name = lease::sync_lease(c.id);
        if let Err(held) = self.leases.acquire(conn, &name, db::now())? {
            return Err(HarnessError::AlreadyRunning(Held::new(
                &c.settings.name,
                held,
            )));
        }
        let lease = SyncLease {
            keeper: self.leases.clone(),
            name,
        };
        runs::interrupt_connector(conn, c.id)?;
        Ok(lease)
    }

    /// Whether this instance runs the schedules: it holds the scheduler lease (renewed
    /// now) or takes it; refused naming the `serve` that holds it.
    pub fn hold_scheduler(&self) -> Result<(), HarnessError> {
        let conn = self.db.lock();
        let now = db::now();
        if self.leases.keep(&conn, lease::SCHEDULER, now)? {
            return Ok(());
        }
        self.leases
            .acquire(&conn, lease::SCHEDULER, now)?
            .map_err(|held| HarnessError::SchedulerElsewhere(Held::new("schedules", held)))
    }

    /// Let go of the scheduler lease (a `serve` that stops), so that another takes
    /// over at once.
    pub fn release_scheduler(&self) -> Result<(), HarnessError> {
        self.leases.forget(lease::SCHEDULER);
        lease::release(&self.db.lock(), lease::SCHEDULER, self.leases.me())?;
        Ok(())
    }

    /// Run a sync of one connector and record it as a run; its outcome's report has
    /// every change the run recorded (a sync in the background leaves them in the run).
    pub fn sync(&self, name: &str, req: SyncRequest) -> Result<SyncOutcome, HarnessError> {
        let mut outcome = self.start_sync(name, req)?.run()?;
        outcome.report.changes = run_changes::all(&self.db.lock(), outcome.run_id)?;
        Ok(outcome)
    }

    /// Start a sync: mark the connector running and record its run, so that the run id
    /// is known before the sync proceeds with [`StartedSync::run`] (in any thread).
    /// Refused if a sync of the connector is running.
    pub fn start_sync(&self, name: &str, req: SyncRequest) -> Result<StartedSync, HarnessError> {
        self.start_sync_as(name, req, None)
    }

    /// [`Harness::start_sync`], recording who asked (`admin (REST API)`, `scheduler`)
    /// with the run.
    pub fn start_sync_as(
        &self,
        name: &str,
        req: SyncRequest,
        actor: Option<&str>,
    ) -> Result<StartedSync, HarnessError> {
        self.db.still_there()?;
        let c = self.stored(name)?;
        let (lease, run_id) = lease::immediate(&self.db.lock(), |conn| {
            let lease = self.take_sync_lease(conn, &c)?;
            let run = self.record_start(conn, &c, req, actor)?;
            Ok::<_, HarnessError>((lease, run))
        })?;
        Ok(StartedSync {
            harness: self.clone(),
            c,
            run_id,
            req,
            done: false,
            lease,
            approving: None,
        })
    }

    /// Record a run that starts now, and who started it.
    fn record_start(
        &self,
        conn: &rusqlite::Connection,
        c: &StoredConnector,
        req: SyncRequest,
        actor: Option<&str>,
    ) -> Result<i64, DbError> {
        let owner = &self.leases.me().instance;
        let run = runs::start(conn, c.id, req.kind(), req.trigger, req.dry_run, owner)?;
        if let Some(actor) = actor {
            db::pending::set_actor(conn, run, actor)?;
        }
        Ok(run)
    }

    fn run_started(
        &self,
        c: &StoredConnector,
        lease: &SyncLease,
        run_id: i64,
        req: SyncRequest,
        approving: Option<&db::pending::PendingPlan>,
    ) -> Result<SyncOutcome, HarnessError> {
        let failed = |e, state| self.fail_run(lease, run_id, req.kind(), e, state);
        let access = match self.okta_access(c) {
            Ok(a) => a,
            Err(e) => return Err(failed(e, None)?),
        };
        let mut ctx = self.context(c.directory_id);
        let _seats = self.license(&mut ctx)?;
        let mut options = req.options();
        options.approved_plan = approving.map(|p| p.plan_digest.clone());
        let scope = CallScope {
            connector_id: Some(c.id),
            run_id: Some(run_id),
            ..Default::default()
        };
        let config = model::wit::config(&c.settings);
        let (result, mut state) = self.runtime.call(
            self.state(Some(access), scope),
            self.options.limits,
            |g, s| {
                g.usersync_okta_connector()
                    .call_sync(s, &config, &ctx, &options)
            },
        );
        let denied = state.denied();
        let report = match credential_first(&state, outcome(result)) {
            Ok(report) => SyncReport::from(report),
            Err(HarnessError::Sync(
                SyncError::Guard(refusal) | SyncError::PlanChanged(refusal),
            )) if !req.dry_run => {
                let e = self.keep_pending(c, lease, run_id, req, refusal, approving, &mut state);
                return Err(e);
            }
            Err(e) => return Err(failed(e, Some(&mut state))?),
        };
        let kind = match report.mode {
            model::SyncMode::Incremental => RunKind::Incremental,
            model::SyncMode::Feed => RunKind::Feed,
            model::SyncMode::Full => RunKind::Full,
        };
        // The apply, the run's changes, the sync state, the run's end and the release of
        // its lease: one commit. The run says `succeeded` exactly when its apply is
        // committed; a run another process marked interrupted meanwhile is not.
        let finished = |conn: &rusqlite::Connection| {
            self.leases.renew_in(conn)?;
            runs::finish_succeeded(conn, run_id, kind, &report)?;
            if let Some(p) = approving {
                approval::applied(conn, p, run_id)?;
            }
            if !req.dry_run {
                // Whatever was pending is not the plan any more: this sync passed.
                db::pending::supersede(conn, c.id, run_id)?;
            }
            lease.release(conn)
        };
        if let Err(e) = state.commit(!req.dry_run, finished) {
            let e = HarnessError::from(e);
            if !self.committed_anyway(run_id, &e)? {
                return Err(failed(e, Some(&mut state))?);
            }
        }
        Ok(SyncOutcome {
            run_id,
            report,
            denied,
        })
    }

    /// Whether a run whose commit reported `e` committed all the same: its end was
    /// written in that transaction, so the run's row says which. (SQLite can report an
    /// I/O failure after the transaction's commit record reached the log.)
    fn committed_anyway(&self, run_id: i64, e: &HarnessError) -> Result<bool, DbError> {
        let run = runs::get(&self.db.lock(), run_id)?;
        let landed = run.is_some_and(|r| r.status == model::RunStatus::Succeeded);
        if landed {
            tracing::warn!(run = run_id, "the commit reported {e}, yet it committed");
        }
        Ok(landed)
    }

    /// Record a run as failed with `e`, and give `e` back (or the database's error).
    /// The error's log line goes through the call's run log (`state`: its writes are
    /// rolled back first), or straight to the run when the call never ran.
    fn fail_run(
        &self,
        lease: &SyncLease,
        run_id: i64,
        kind: RunKind,
        e: HarnessError,
        state: Option<&mut HostState>,
    ) -> Result<HarnessError, DbError> {
        let failure = e.failure();
        match state {
            Some(state) => state.abandon(Some(&failure.message)),
            None => runs::log(&self.db.lock(), run_id, "error", &failure.message)?,
        }
        self.end_failed(lease, run_id, kind, &failure)?;
        Ok(e)
    }

    /// A run's failure and the release of its lease, in one transaction. If that
    /// cannot be written, the lease is no longer renewed: the run stays `running` (its
    /// apply did not commit) until the lease lapses, then it is marked interrupted. A
    /// run that ended already (its apply committed) keeps its end.
    fn end_failed(
        &self,
        lease: &SyncLease,
        run_id: i64,
        kind: RunKind,
        failure: &Failure,
    ) -> Result<(), DbError> {
        lease::immediate(&self.db.lock(), |conn| {
            runs::finish_failed(conn, run_id, kind, failure)?;
            lease.release(conn)
        })
    }

    /// Sync one user by login, as an SSO login does.
    pub fn sync_user(&self, name: &str, login: &str) -> Result<UserSyncReport, HarnessError> {
        self.sync_user_by(name, &wit::UserRef::Login(login.to_string()))
    }

    /// Sync one user by login or Okta id (an ID token's `sub`), as an SSO login does.
    /// An admitted user's login time is recorded with the sync's changes (inactivity
    /// cleanup judges by it).
    pub fn sync_user_by(
        &self,
        name: &str,
        who: &wit::UserRef,
    ) -> Result<UserSyncReport, HarnessError> {
        self.db.still_there()?;
        match who {
            wit::UserRef::Login(login) => model::login::check_login(login),
            wit::UserRef::OktaId(id) => model::login::check_okta_id(id),
        }
        .map_err(HarnessError::InvalidLogin)?;
        let (c, mut ctx, state) = self.call_setup(name)?;
        let _seats = self.license(&mut ctx)?;
        let config = model::wit::config(&c.settings);
        let (result, mut state) = self.runtime.call(state, self.short_limits(), |g, s| {
            g.usersync_okta_connector()
                .call_sync_user(s, &config, &ctx, who)
        });
        let report = match credential_first(&state, outcome(result)) {
            Ok(report) => UserSyncReport::from(report),
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

    /// One run and its log. Its report's changes are not read (a run may hold a million):
    /// page through them with [`Harness::run_changes`] or read them all, a chunk at a
    /// time, with [`Harness::run_change_chunks`].
    pub fn run(&self, id: i64) -> Result<(runs::Run, Vec<runs::LogLine>), HarnessError> {
        let conn = self.db.lock();
        let run = runs::get(&conn, id)?.ok_or(HarnessError::UnknownRun(id))?;
        let log = runs::log_lines(&conn, id)?;
        Ok((run, log))
    }

    /// Every change of run `run_id`, in apply order, a stored chunk at a time.
    pub fn run_change_chunks(&self, run_id: i64) -> run_changes::Chunks {
        run_changes::Chunks::new(self.db.clone(), run_id)
    }

    /// How many changes of each action run `run_id` has.
    pub fn run_action_totals(
        &self,
        run_id: i64,
    ) -> Result<Vec<(model::ChangeAction, u64)>, HarnessError> {
        Ok(run_changes::action_totals(&self.db.lock(), run_id)?)
    }
}

/// The product's user management (the Users, Groups and User directories pages and
/// their REST API): reads of [`directory_admin`], and the one write, a directory's move.
impl Harness {
    /// A page of users matching `q`.
    pub fn users(
        &self,
        q: &UserQuery,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<UserRow>, HarnessError> {
        Ok(directory_admin::users(&self.db.lock(), q, cursor, limit)?)
    }

    /// The user of key `key` and the names of its groups.
    pub fn user(&self, key: &str) -> Result<(UserRow, Vec<String>), HarnessError> {
        let conn = self.db.lock();
        let user = directory_admin::user(&conn, key)?
            .ok_or_else(|| HarnessError::Unknown(format!("user with the key `{key}`")))?;
        Ok((user, directory_admin::user_groups(&conn, key)?))
    }

    /// A page of the changes applied to `user` by runs, newest first.
    pub fn user_history(
        &self,
        user: &UserRow,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<HistoryEntry>, HarnessError> {
        let conn = self.db.lock();
        Ok(directory_admin::history(
            &conn,
            user.directory_id,
            &user.username,
            cursor,
            limit,
        )?)
    }

    /// A page of the groups whose name starts with `text`, of one directory or all.
    pub fn groups(
        &self,
        text: &str,
        directory: Option<i64>,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<GroupRow>, HarnessError> {
        let conn = self.db.lock();
        Ok(directory_admin::groups(
            &conn, text, directory, cursor, limit,
        )?)
    }

    /// The group of id `id` and a page of its members.
    pub fn group(
        &self,
        id: i64,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<(GroupRow, Page<UserRow>), HarnessError> {
        let conn = self.db.lock();
        let group = directory_admin::group(&conn, id)?
            .ok_or_else(|| HarnessError::Unknown(format!("group with the id {id}")))?;
        Ok((group, directory_admin::members(&conn, id, cursor, limit)?))
    }

    /// The user directories in order, with their counts.
    pub fn directories(&self) -> Result<Vec<DirectoryRow>, HarnessError> {
        Ok(directory_admin::directories(&self.db.lock())?)
    }

    /// Every directory's id and name, in order.
    pub fn directory_names(&self) -> Result<Vec<(i64, String)>, HarnessError> {
        Ok(directory_admin::directory_names(&self.db.lock())?)
    }

    /// What moving directory `id` one place would change (the first `shown` usernames
    /// whose user changes), writing nothing.
    pub fn plan_directory_move(
        &self,
        id: i64,
        direction: Direction,
        shown: u32,
    ) -> Result<Move, HarnessError> {
        directory_admin::plan_move(&self.db.lock(), id, direction, shown)?
            .ok_or_else(|| HarnessError::Unknown(format!("directory with the id {id}")))
    }

    /// Move directory `id` one place: the effective user of each username in both it
    /// and its neighbour changes (see [`Harness::plan_directory_move`]).
    pub fn move_directory(
        &self,
        id: i64,
        direction: Direction,
        shown: u32,
    ) -> Result<Move, HarnessError> {
        self.db.still_there()?;
        directory_admin::move_directory(&mut self.db.lock(), id, direction, shown)?
            .ok_or_else(|| HarnessError::Unknown(format!("directory with the id {id}")))
    }
}
