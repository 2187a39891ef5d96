//! The wasmtime side: one engine and compiled component, an `InstancePre` made once, and
//! a fresh store per call with an epoch deadline and a memory limit. A guest that traps,
//! loops or allocates without bound ends its own call with a clear error.

use crate::host::HostState;
use crate::host::bindings::{ConnectorCore, ConnectorCorePre};
use std::path::Path;
use std::time::Duration;
use wasmtime::component::Linker;
use wasmtime::{Config, Engine, Store, StoreLimitsBuilder, Trap};

/// The shipped component, embedded at build time.
pub static BUNDLED: &[u8] = include_bytes!(env!("USERSYNC_COMPONENT"));

/// How often the epoch advances.
const TICK: Duration = Duration::from_millis(10);

/// Budgets of one call.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Linear memory the guest may grow to.
    pub memory_bytes: usize,
    /// Wall time a call may run before it is stopped.
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 1 << 30,
            timeout: Duration::from_secs(30 * 60),
        }
    }
}

/// Why a component call did not return.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GuestError {
    /// The component could not be loaded.
    #[error("the sync plugin could not be loaded: {0}")]
    Load(String),
    /// The call ran out of its time budget.
    #[error("the sync plugin exceeded its time budget of {0} s and was stopped")]
    Timeout(u64),
    /// The call hit the memory limit.
    #[error("the sync plugin exceeded its memory limit of {0} MiB and was stopped")]
    OutOfMemory(usize),
    /// The guest trapped (e.g. panicked).
    #[error("the sync plugin failed: {0}")]
    Trap(String),
}

/// The loaded component, shared by all calls.
pub struct Runtime {
    engine: Engine,
    pre: ConnectorCorePre<HostState>,
}

impl Runtime {
    /// The component built with this harness (see build.rs).
    pub fn bundled_path() -> &'static Path {
        Path::new(env!("USERSYNC_COMPONENT"))
    }

    /// A build of the same component with deliberate faults (feature `test-faults`), for
    /// the sandbox tests. Never used outside tests.
    pub fn faulty_test_path() -> &'static Path {
        Path::new(env!("USERSYNC_FAULTY_COMPONENT"))
    }

    /// The component embedded in this binary.
    pub fn bundled() -> Result<Runtime, GuestError> {
        Self::from_bytes(BUNDLED, "the bundled component")
    }

    /// Load a component file.
    pub fn load(path: &Path) -> Result<Runtime, GuestError> {
        let bytes = std::fs::read(path)
            .map_err(|e| GuestError::Load(format!("{}: {e}", path.display())))?;
        Self::from_bytes(&bytes, &path.display().to_string())
    }

    /// Compile (or load from the cache) a component, link the host interfaces, start the
    /// epoch ticker.
    pub fn from_bytes(bytes: &[u8], name: &str) -> Result<Runtime, GuestError> {
        let load = |e: wasmtime::Error| GuestError::Load(format!("{name}: {e:#}"));
        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config).map_err(load)?;
        let component = crate::host::cache::compile(&engine, bytes).map_err(load)?;

        let mut linker = Linker::<HostState>::new(&engine);
        HostState::add_to_linker(&mut linker).map_err(load)?;
        let pre = ConnectorCorePre::new(linker.instantiate_pre(&component).map_err(load)?)
            .map_err(load)?;
        let weak = engine.weak();
        std::thread::Builder::new()
            .name("usersync-epoch".into())
            .spawn(move || {
                while let Some(engine) = weak.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(TICK);
                }
            })
            .map_err(|e| GuestError::Load(format!("starting the epoch ticker: {e}")))?;
        Ok(Runtime { engine, pre })
    }

    /// Run `f` against a fresh instance with `limits`; returns its result and the state,
    /// whose writes the caller commits or abandons (dropped, they are rolled back).
    pub fn call<R>(
        &self,
        mut state: HostState,
        limits: Limits,
        f: impl FnOnce(&ConnectorCore, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> (Result<R, GuestError>, HostState) {
        state.limits = StoreLimitsBuilder::new()
            .memory_size(limits.memory_bytes)
            .trap_on_grow_failure(true)
            .instances(4)
            .build();
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        // What the guest may pass to the host in one call (e.g. one `apply` batch, the
        // report) is bounded like its memory: wasmtime's default of 128 MiB is less than
        // a full sync of 100,000 users and 1M memberships needs (~250 MiB).
        store.set_hostcall_fuel(limits.memory_bytes.max(128 << 20));
        store.set_epoch_deadline((limits.timeout.as_millis() / TICK.as_millis()).max(1) as u64);
        store.epoch_deadline_trap();
        let result = self
            .pre
            .instantiate(&mut store)
            .and_then(|instance| f(&instance, &mut store))
            .map_err(|e| classify(e, limits));
        (result, store.into_data())
    }
}

fn classify(e: wasmtime::Error, limits: Limits) -> GuestError {
    let causes: Vec<String> = e.chain().map(|c| c.to_string()).collect();
    match e.chain().find_map(|c| c.downcast_ref::<Trap>()) {
        Some(Trap::Interrupt) => GuestError::Timeout(limits.timeout.as_secs()),
        _ if causes
            .iter()
            .any(|c| c.contains("forcing trap when growing memory")) =>
        {
            GuestError::OutOfMemory(limits.memory_bytes >> 20)
        }
        Some(trap) => GuestError::Trap(trap.to_string()),
        None => GuestError::Trap(causes.last().cloned().unwrap_or_default()),
    }
}
