//! The embeddable host: the wasmtime runtime ([`runtime`]), the generated bindings
//! ([`bindings`]), the compiled-component cache, the credentials the HTTP policy adds
//! (an API token, [`token`], or an OAuth service app's DPoP-bound access token,
//! [`oauth`], held as a connector's [`secret`]), and the host side of the WIT world as small capabilities: each imported interface has a
//! module with its own state and its own `Host` impl, wired to the linker on its own
//! (wasmtime's per-interface `add_to_linker` with a `|state| &mut state.field`
//! projection, the way spin composes its factors):
//!
//! - `wasi:http`: [`http::HttpPolicy`], the outgoing-request policy that adds the
//!   connector's credential (wasmtime-wasi-http's `WasiHttpHooks`);
//! - `user-store`: [`user_store::UserStore`], the directory and its open apply;
//! - `sync-state`: [`sync_state::SyncState`], the connector's state and the call's save;
//! - `run`: [`run::RunRecorder`], the run's log lines and recorded changes (the one path
//!   every log line of a call takes, the host's own included).
//!
//! The user store and the run write into one transaction ([`call_db::CallDb`]), which
//! the harness commits, with the sync state and the run's end, only when the call
//! succeeded ([`HostState::commit`]); otherwise it is rolled back ([`HostState::abandon`]).

pub mod bindings;
pub mod cache;
pub mod call_db;
pub mod http;
pub mod oauth;
pub mod run;
pub mod runtime;
pub mod secret;
pub mod sync_state;
pub mod token;
pub mod user_store;

use crate::host::bindings::types::LogLevel;
use crate::host::bindings::usersync::okta as imports;
use crate::product::db::{Db, DbError};
use call_db::CallDb;
use rusqlite::Connection;
use wasmtime::StoreLimits;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// What a call is about: which connector and run, for state and log.
#[derive(Clone, Debug, Default)]
pub struct CallScope {
    /// The connector being called, if any.
    pub connector_id: Option<i64>,
    /// The run being recorded, if any.
    pub run_id: Option<i64>,
    /// Prefix of new user keys (per product).
    pub key_prefix: String,
    /// Where the plugin's log lines also go as they come (a terminal's progress line).
    pub progress: Option<Progress>,
}

/// A callback that shows progress; it receives each log line of a call.
#[derive(Clone)]
pub struct Progress(pub std::sync::Arc<dyn Fn(&str) + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

/// Why a call that returned could not be committed.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// The plugin returned with an apply whose last batch never came.
    #[error(
        "it ended its call with its apply unfinished (the last batch had `more` set); every batch was rolled back"
    )]
    Unfinished,
    /// A write of the call failed (and so did the call, unless it never heard: the
    /// changes of a dry run); everything was rolled back.
    #[error("a write of the call failed: {0:?}")]
    Store(crate::host::bindings::types::StoreError),
    /// The database refused the commit; everything was rolled back.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Everything a component instance sees of the host during one call: the WASI context
/// and the capabilities. Its `Debug` shows the policy (the credential masked) and the
/// capabilities' summaries, not the WASI internals.
pub struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    pub(crate) limits: StoreLimits,
    pub(crate) policy: http::HttpPolicy,
    pub(crate) store: user_store::UserStore,
    pub(crate) sync_state: sync_state::SyncState,
    pub(crate) run: run::RunRecorder,
    db: CallDb,
    /// Whether the refused requests went into the run's log yet.
    denied_logged: bool,
}

impl HostState {
    /// State for one call: no filesystem, no sockets, no environment; only the mediated
    /// `wasi:http` reaches out.
    pub fn new(db: Db, policy: http::HttpPolicy, scope: CallScope, limits: StoreLimits) -> Self {
        let wasi = WasiCtxBuilder::new()
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let db = CallDb::new(db);
        HostState {
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            limits,
            policy,
            store: user_store::UserStore::new(db.clone(), scope.key_prefix),
            sync_state: sync_state::SyncState::new(db.clone(), scope.connector_id),
            run: run::RunRecorder::new(db.clone(), scope.run_id, scope.progress),
            db,
            denied_logged: false,
        }
    }

    /// Link WASI (without sockets: `wasi:http` only) and each capability's interface.
    pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
        wasmtime_wasi::p2::add_to_linker_sync(linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_sync(linker)?;
        imports::types::add_to_linker::<_, HasSelf<HostState>>(linker, |s| s)?;
        imports::report::add_to_linker::<_, HasSelf<HostState>>(linker, |s| s)?;
        imports::user_store::add_to_linker::<_, HasSelf<_>>(linker, |s| &mut s.store)?;
        imports::sync_state::add_to_linker::<_, HasSelf<_>>(linker, |s| &mut s.sync_state)?;
        imports::run::add_to_linker::<_, HasSelf<_>>(linker, |s| &mut s.run)?;
        Ok(())
    }

    /// End a call that succeeded: commit what it wrote, its sync state (if
    /// `keep_state`) and `last` (the harness's record of the call) in one transaction,
    /// then the log lines held while it was open.
    pub fn commit(
        &mut self,
        keep_state: bool,
        last: impl FnOnce(&Connection) -> Result<(), DbError>,
    ) -> Result<(), CommitError> {
        self.log_denied();
        let result = if self.store.unfinished() {
            self.db.rollback();
            Err(CommitError::Unfinished)
        } else {
            let state = &self.sync_state;
            self.db.commit(|conn| {
                if keep_state {
                    state.write(conn)?;
                }
                last(conn)
            })
        };
        self.run.flush();
        result
    }

    /// End a call that failed (or that writes nothing, or whose commit failed): roll
    /// back what it wrote, log `failure` (through the run's one log path, so that the
    /// progress hook sees it too), then write the log lines held.
    pub fn abandon(&mut self, failure: Option<&str>) {
        self.log_denied();
        if self.db.rollback() && self.store.unfinished() {
            self.run.line(
                LogLevel::Error,
                "the plugin's call ended with its apply unfinished: every batch was rolled back"
                    .into(),
            );
        }
        if let Some(failure) = failure {
            self.run.line(LogLevel::Error, failure.to_string());
        }
        self.run.flush();
    }

    /// Store rows the call's applies wrote (committed only with the call).
    pub fn writes(&self) -> u32 {
        self.store.writes()
    }

    /// Requests the HTTP policy refused during the call.
    pub fn denied(&self) -> Vec<http::Denied> {
        self.policy.denied()
    }

    /// The call's first credential failure (a service app's token could not be had, or
    /// Okta's answer names a missing scope or admin role): what the call failed of.
    pub fn credential_failure(&self) -> Option<oauth::CredentialError> {
        self.policy.credential_failure()
    }

    fn log_denied(&mut self) {
        if std::mem::replace(&mut self.denied_logged, true) {
            return;
        }
        for d in self.policy.denied() {
            let line = format!("outgoing request to {} denied: {}", d.origin, d.reason);
            self.run.line(LogLevel::Warn, line);
        }
        if let Some(e) = self.policy.credential_failure() {
            self.run
                .line(LogLevel::Error, format!("Okta credential: {e}"));
        }
    }
}

impl std::fmt::Debug for HostState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostState")
            .field("policy", &self.policy)
            .field("store", &self.store)
            .field("sync_state", &self.sync_state)
            .field("run", &self.run)
            .finish_non_exhaustive()
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.policy,
        }
    }
}

/// `types` and `report` hold types only.
impl imports::types::Host for HostState {}
impl imports::report::Host for HostState {}
