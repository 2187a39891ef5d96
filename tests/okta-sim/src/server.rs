//! The HTTP server: configuration, start/stop on its own thread and runtime,
//! and the test-facing controls (org access, recorded requests, faults).

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;
use tokio::sync::oneshot;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc::Sender;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::faults::FaultSet;
pub use crate::faults::{Fault, FaultKind};
use crate::hooks::{Delivery, EventHook, HookError, HookFault, Hooks};
use crate::oauth::{OAuthApp, OAuthConfig, OAuthState, TOKEN_PATH, TokenStats};
use crate::oidc::{OidcConfig, OidcState};
use crate::org::Org;
use crate::ratelimit::RateLimiter;
pub use crate::ratelimit::RateLimits;
use crate::syslog::{EventLog, LogSettings, NewEvent};

/// How the simulator behaves.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Accepted full-org SSWS tokens.
    pub tokens: Vec<String>,
    /// Tokens of group-scoped admins.
    pub scoped_tokens: Vec<ScopedToken>,
    /// The answer for single objects outside a scoped token's groups.
    pub out_of_scope: OutOfScope,
    /// The origin written into Link headers and `_links` hrefs, e.g.
    /// `https://acme.okta.com` (clients reach the simulator by an address
    /// override, like `curl --resolve`); also the OIDC issuer. Empty: the
    /// listening address, `http://127.0.0.1:PORT` (for a browser).
    pub public_origin: String,
    /// Maximum (and default) `limit` of `/api/v1/users`.
    pub max_users_limit: usize,
    /// Maximum (and default) `limit` of `/api/v1/groups`.
    pub max_groups_limit: usize,
    /// Maximum (and default) `limit` of `/api/v1/groups/{id}/users`.
    pub max_members_limit: usize,
    /// Rate limits (default: Okta's, counted and reported, not enforced).
    pub rate_limits: RateLimits,
    /// OAuth service apps and token settings (default: no apps).
    pub oauth: OAuthConfig,
    /// System Log retention and `since` limit (default: Okta's 90 and 180 days).
    pub log: LogSettings,
    /// OpenID Connect apps, passwords and lifetimes (default: no apps).
    pub oidc: OidcConfig,
}

impl Default for SimConfig {
    /// Token `test-token`, no scoped tokens, out-of-scope → 404, origin
    /// `https://acme.okta.com`, limits 200 / 10000 / 1000, no OAuth apps.
    fn default() -> Self {
        SimConfig {
            tokens: vec!["test-token".into()],
            scoped_tokens: Vec::new(),
            out_of_scope: OutOfScope::NotFound,
            public_origin: "https://acme.okta.com".into(),
            max_users_limit: 200,
            max_groups_limit: 10000,
            max_members_limit: 1000,
            rate_limits: RateLimits::default(),
            oauth: OAuthConfig::default(),
            log: LogSettings::default(),
            oidc: OidcConfig::default(),
        }
    }
}

/// A token of an admin whose role is scoped to some groups: it sees only
/// those groups (never `Everyone`) and their members.
#[derive(Clone, Debug)]
pub struct ScopedToken {
    /// The SSWS token.
    pub token: String,
    /// Target group ids.
    pub target_groups: Vec<String>,
}

/// The response to a scoped token asking for a user or group outside its scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutOfScope {
    /// 403 E0000006.
    Forbidden,
    /// 404 E0000007 (as if the object did not exist).
    NotFound,
}

/// One request as the simulator saw it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path, still percent-encoded.
    pub path: String,
    /// Raw query string.
    pub query: Option<String>,
    /// The Authorization header.
    pub authorization: Option<String>,
    /// The `DPoP` header (a proof JWT).
    pub dpop: Option<String>,
    /// The Host header.
    pub host: Option<String>,
    /// The status answered.
    pub status: u16,
}

/// State shared by the server and the [`Simulator`] handle.
pub(crate) struct Shared {
    pub config: SimConfig,
    pub org: Mutex<Org>,
    /// Lookups into the org; `None` after a change, rebuilt by the next request.
    pub index: Mutex<Option<Arc<crate::index::OrgIndex>>>,
    pub requests: Mutex<Vec<RecordedRequest>>,
    pub faults: Mutex<FaultSet>,
    pub rate: Mutex<RateLimiter>,
    /// The authorization server: apps, tokens, nonces.
    pub oauth: Mutex<OAuthState>,
    /// The OpenID provider: clients, codes, keys, faults.
    pub oidc: Mutex<OidcState>,
    /// Requests being served now.
    pub in_flight: std::sync::atomic::AtomicU32,
    /// The System Log.
    pub log: Mutex<EventLog>,
    /// The simulated clock: milliseconds added to the real one.
    pub clock_offset_ms: AtomicI64,
    /// Event hooks and their delivery log.
    pub hooks: Mutex<Hooks>,
}

impl Shared {
    /// The simulated now (the real clock plus the offset tests set).
    pub fn now(&self) -> DateTime<Utc> {
        let offset = self.clock_offset_ms.load(Ordering::SeqCst);
        crate::org::now_ms() + chrono::Duration::milliseconds(offset)
    }

    /// The origin for links, hrefs and a hook's `source`.
    pub fn origin(&self) -> &str {
        self.config.public_origin.trim_end_matches('/')
    }

    /// Stores events in the System Log; returns their JSON.
    pub fn store_events(&self, events: &[NewEvent]) -> Vec<Value> {
        lock(&self.log).append(events, self.now())
    }
}

/// Locks a mutex, ignoring poisoning (a panicking test must not break the server).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running simulator. Stops on [`Simulator::shutdown`] or drop.
pub struct Simulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    /// Batches of new events for the hook delivery thread.
    hook_tx: Option<Sender<Vec<Value>>>,
    hook_thread: Option<JoinHandle<()>>,
}

impl Simulator {
    /// Starts serving `org` on `127.0.0.1` at a free port; returns when listening.
    ///
    /// # Panics
    /// If no loopback port can be bound.
    pub fn start(org: Org, config: SimConfig) -> Simulator {
        Simulator::start_on(org, config, SocketAddr::from(([127, 0, 0, 1], 0)))
            .expect("bind 127.0.0.1:0")
    }

    /// Starts serving `org` on `addr`; returns when listening. Events of changes made
    /// to `org` through its methods before are stored in the System Log first.
    pub fn start_on(
        mut org: Org,
        mut config: SimConfig,
        addr: SocketAddr,
    ) -> std::io::Result<Simulator> {
        // Changes made to the org before it was served are its history.
        let history = org.take_events();
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        if config.public_origin.is_empty() {
            config.public_origin = format!("http://{addr}");
        }
        let oidc = Mutex::new(OidcState::new(config.oidc.clone()));
        let rate = Mutex::new(RateLimiter::new(config.rate_limits.clone()));
        let oauth = Mutex::new(OAuthState::new(config.oauth.clone()));
        let log = Mutex::new(EventLog::new(config.log.clone()));
        let shared = Arc::new(Shared {
            log,
            clock_offset_ms: AtomicI64::new(0),
            hooks: Mutex::new(Hooks::default()),
            config,
            org: Mutex::new(org),
            index: Mutex::new(None),
            requests: Mutex::new(Vec::new()),
            faults: Mutex::new(FaultSet::default()),
            rate,
            oauth,
            oidc,
            in_flight: Default::default(),
        });
        shared.store_events(&history);
        let app = Router::new()
            .fallback(crate::api::handle)
            .with_state(shared.clone());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("okta-sim")
            .enable_all()
            .build()?;
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("okta-sim".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            eprintln!("okta-sim: {e}");
                            return;
                        }
                    };
                    let (graceful_tx, graceful_rx) = oneshot::channel::<()>();
                    let server = tokio::spawn(async move {
                        let _ = axum::serve(listener, app)
                            .with_graceful_shutdown(async {
                                let _ = graceful_rx.await;
                            })
                            .await;
                    });
                    let _ = stop_rx.await;
                    let _ = graceful_tx.send(());
                    // Give in-flight requests a moment, then drop what is left.
                    let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
                });
                runtime.shutdown_timeout(Duration::from_millis(100));
            })?;
        let (hook_tx, hook_thread) = crate::hooks::spawn(shared.clone())?;
        Ok(Simulator {
            addr,
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
            hook_tx: Some(hook_tx),
            hook_thread: Some(hook_thread),
        })
    }

    /// The state behind the server (for the controls in other modules).
    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// The address the simulator listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Runs `f` on the org (to read it or change it between syncs). The changes it
    /// makes through the org's methods are stored in the System Log, stamped by the
    /// simulated clock, and delivered to event hooks as one batch.
    pub fn with_org<R>(&self, f: impl FnOnce(&mut Org) -> R) -> R {
        let mut org = lock(&self.shared.org);
        org.journal.clock_offset_ms = self.shared.clock_offset_ms.load(Ordering::SeqCst);
        let result = f(&mut org);
        let events = org.take_events();
        drop(org);
        *lock(&self.shared.index) = None;
        self.log_events(&events);
        result
    }

    /// Stores events in the System Log and delivers them to the hooks: for events
    /// no org change makes, such as a FAILURE outcome a client must ignore
    /// (`NewEvent::success(..).failed(reason)`).
    pub fn log_events(&self, events: &[NewEvent]) {
        if events.is_empty() {
            return;
        }
        let rendered = self.shared.store_events(events);
        if let Some(tx) = &self.hook_tx {
            let _ = tx.send(rendered);
        }
    }

    /// The stored System Log events, in storage order (held ones not yet).
    pub fn log_contents(&self) -> Vec<Value> {
        let mut log = lock(&self.shared.log);
        log.purge(self.shared.now());
        log.events().iter().map(|e| e.json.clone()).collect()
    }

    /// The simulated now: what `published`, retention and the `since` limit use.
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.now()
    }

    /// Moves the simulated clock forward (stored events get older: past 90 days
    /// they are gone; OAuth judges client assertions, DPoP proofs and token expiry by
    /// it, as an Okta whose clock is ahead of the client's).
    pub fn advance_clock(&self, by: std::time::Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.shared.clock_offset_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// Makes every stored event `by` older, as if it had been logged that long ago.
    pub fn age_events(&self, by: std::time::Duration) {
        lock(&self.shared.log).age(by);
    }

    /// The next `n` events are published (and delivered to hooks) but stored only
    /// after the next batch of changes: their `published` is then older than that
    /// of events stored before them, as when Okta persists an event late.
    pub fn store_next_events_late(&self, n: usize) {
        lock(&self.shared.log).store_late(n);
    }

    /// Registers an event hook after its one-time verification (which calls the
    /// receiver now); returns the hook's id (`who…`).
    pub fn register_event_hook(&self, hook: EventHook) -> Result<String, HookError> {
        crate::hooks::verify(&hook)?;
        lock(&self.shared.hooks).register(hook)
    }

    /// Makes a hook's `nth` delivery from now on (1-based) fail this way.
    pub fn add_hook_fault(&self, hook_id: &str, nth: usize, fault: HookFault) {
        lock(&self.shared.hooks).add_fault(hook_id, nth, fault);
    }

    /// Every delivery attempt so far, in order.
    pub fn hook_deliveries(&self) -> Vec<Delivery> {
        lock(&self.shared.hooks).deliveries.clone()
    }

    /// Waits until at least `n` delivery attempts are recorded or `timeout` passes;
    /// returns the attempts.
    pub fn wait_for_deliveries(&self, n: usize, timeout: Duration) -> Vec<Delivery> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let got = self.hook_deliveries();
            if got.len() >= n || std::time::Instant::now() >= deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// All requests so far (including faulted and unauthorized ones).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }

    /// How many recorded requests have a path starting with `path_prefix`.
    pub fn request_count(&self, path_prefix: &str) -> usize {
        lock(&self.shared.requests)
            .iter()
            .filter(|r| r.path.starts_with(path_prefix))
            .count()
    }

    /// Adds a fault; its request counter starts now.
    pub fn add_fault(&self, fault: Fault) {
        lock(&self.shared.faults).add(fault);
    }

    /// Removes all faults.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Registers an OAuth service app (or replaces the one with its client id:
    /// its tokens stay valid and are judged by the new admin role and share).
    pub fn register_oauth_app(&self, app: OAuthApp) {
        lock(&self.shared.oauth).register(app);
    }

    /// The token endpoint's URL on the public origin: a client assertion's `aud`
    /// and a token request proof's `htu`.
    pub fn token_url(&self) -> String {
        let origin = self.shared.config.public_origin.trim_end_matches('/');
        format!("{origin}{TOKEN_PATH}")
    }

    /// How many token requests came in and how many tokens were issued.
    pub fn token_stats(&self) -> TokenStats {
        lock(&self.shared.oauth).stats()
    }

    /// Expires every access token issued so far (as if their hour were over).
    pub fn expire_access_tokens(&self) {
        lock(&self.shared.oauth).expire_tokens(chrono::Utc::now().timestamp_millis());
    }

    /// Starts a new DPoP nonce (Okta rotates daily); earlier ones stay valid for
    /// [`OAuthConfig::nonce_validity`].
    pub fn rotate_dpop_nonce(&self) {
        lock(&self.shared.oauth).rotate_nonce(chrono::Utc::now().timestamp_millis());
    }

    /// Stops the server and waits for its thread.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        self.hook_tx = None;
        if let Some(t) = self.hook_thread.take() {
            let _ = t.join();
        }
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.stop_now();
    }
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("addr", &self.addr)
            .finish()
    }
}
