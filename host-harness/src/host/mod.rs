//! The embeddable host: the wasmtime runtime and bindings, the state a component call
//! runs with, one module per imported interface (`user-store`, `sync-state`, `log`, and
//! `wasi:http`'s policy), and the credentials the policy adds to Okta requests.

pub mod bindings;
pub mod cache;
pub mod http;
pub mod log;
pub mod runtime;
pub mod sync_state;
pub mod token;
pub mod user_store;

use crate::product::db::Db;
use wasmtime::StoreLimits;
use wasmtime::component::ResourceTable;
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

/// Everything a component instance sees of the host during one call. Its `Debug` shows
/// the call's policy (the token masked), scope and counts, not the WASI internals.
pub struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    pub(crate) limits: StoreLimits,
    pub(crate) policy: http::HttpPolicy,
    pub(crate) db: Db,
    pub(crate) scope: CallScope,
    /// Log lines of the call, as (level, message).
    pub(crate) log: Vec<(String, String)>,
    /// Sync-state writes, committed only if the call succeeds.
    pub(crate) state_writes: Vec<(String, String)>,
    /// Store rows written by the call.
    pub(crate) writes: u32,
    /// Log lines the database was too busy to take during the call (or that came while
    /// an apply's transaction was open: they must outlive a rollback).
    pub(crate) unsaved_log: Vec<(String, String)>,
    /// The apply transaction `user-store.apply` batches left open, if any.
    pub(crate) apply: Option<user_store::ApplyTransaction>,
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
        HostState {
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            limits,
            policy,
            db,
            scope,
            log: Vec::new(),
            state_writes: Vec::new(),
            writes: 0,
            unsaved_log: Vec::new(),
            apply: None,
        }
    }

    /// Run `f` on the database: on the open apply transaction's connection if there is
    /// one (the lock is held by it), else on a freshly locked one.
    pub(crate) fn with_conn<T>(&mut self, f: impl FnOnce(&rusqlite::Connection) -> T) -> T {
        match &self.apply {
            Some(tx) => f(tx.conn()),
            None => f(&self.db.lock()),
        }
    }

    /// End the call: an apply transaction still open is rolled back (the guest ended
    /// without its last batch), and said in the log.
    pub fn end_call(&mut self) {
        if let Some(tx) = self.apply.take() {
            drop(tx);
            self.unsaved_log.push((
                "error".into(),
                "the plugin's call ended with its apply unfinished: every batch was rolled back"
                    .into(),
            ));
        }
    }
}

impl std::fmt::Debug for HostState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostState")
            .field("policy", &self.policy)
            .field("scope", &self.scope)
            .field("log_lines", &self.log.len())
            .field("state_writes", &self.state_writes.len())
            .field("writes", &self.writes)
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

impl crate::host::bindings::types::Host for HostState {}
