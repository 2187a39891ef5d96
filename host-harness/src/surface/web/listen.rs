//! `serve`'s listener: its own accept loop, so that hostile clients cannot take the
//! server down (axum's `serve` has no connection limit and no timeouts of its own).
//!
//! - At most [`Limits::max_connections`] connections are open, below the process's
//!   open-file limit with room left for SQLite and the Okta client. A connection over the
//!   cap is let in by closing the open connection that has been waiting longest without
//!   a request in flight (idle, or still sending its headers; 1% of the cap at once, so
//!   that a flood does not wait for each close); a request being answered is never
//!   cut off. So thousands of idle connections cannot keep an admin out: the
//!   admin's new connection takes the place of the oldest of them. Only when every open
//!   connection has a request in flight is a new one closed at once.
//! - A connection must send a request's complete headers within
//!   [`Limits::header_timeout`] of being accepted, or of the first byte of its next request
//!   (the TLS handshake counts against the first), and is closed after
//!   [`Limits::idle_timeout`] without a request. While a handler waits for a request's
//!   body, a byte of it must come every `header_timeout` (a slow handler is never cut
//!   off: only the wait for the client counts).
//! - Accept errors (out of file descriptors) pause accepting for a moment instead of
//!   ending the server; shedding and errors are logged at most once per
//!   [`LOG_EVERY`], with the count of those not logged.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Default time to send a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time an idle keep-alive connection stays open.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default cap on open connections (lower if the open-file limit is low).
pub const MAX_CONNECTIONS: usize = 1000;
/// File descriptors kept out of the connection budget: the database (and its WAL and
/// shared memory, per connection), the Okta client's sockets, the runtime, logs.
pub const RESERVED_FDS: u64 = 256;
/// Shedding and accept errors are logged at most this often.
pub const LOG_EVERY: Duration = Duration::from_secs(10);
/// Pause after an accept error that is not one connection's (e.g. out of file
/// descriptors), so that the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// How long a new connection waits for the slot of a connection shed for it.
const SHED_WAIT: Duration = Duration::from_secs(1);

/// How many connections `serve` keeps open and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time a connection has to send a request's headers.
    pub header_timeout: Duration,
    /// Time a connection stays open without a request.
    pub idle_timeout: Duration,
    /// Most open connections.
    pub max_connections: usize,
}

/// Limits this process cannot keep.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LimitsError {
    /// More connections than the open-file limit leaves room for.
    #[error(
        "--max-connections {wanted} is more than the open-file limit ({nofile}) leaves for \
         connections after {reserved} for the database and Okta: at most {budget}, or raise \
         the limit (ulimit -n)"
    )]
    OverFileLimit {
        /// Asked for.
        wanted: usize,
        /// The soft RLIMIT_NOFILE.
        nofile: u64,
        /// Kept for the rest of the process.
        reserved: u64,
        /// What is left.
        budget: u64,
    },
    /// A zero limit.
    #[error("{0} must be at least 1")]
    Zero(&'static str),
}

/// The soft open-file limit, `None` if unlimited or unknown.
fn nofile() -> Option<u64> {
    #[cfg(unix)]
    {
        rustix::process::getrlimit(rustix::process::Resource::Nofile).current
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// File descriptors `nofile` leaves for connections: all but [`RESERVED_FDS`] (or half,
/// if the limit is that low).
fn fd_budget(nofile: u64) -> u64 {
    nofile - RESERVED_FDS.min(nofile / 2)
}

impl Limits {
    /// The given limits, the default cap if `max_connections` is `None`; refused if a
    /// value is zero or the cap is over what the open-file limit leaves.
    pub fn new(
        header_timeout: Duration,
        idle_timeout: Duration,
        max_connections: Option<usize>,
    ) -> Result<Limits, LimitsError> {
        if header_timeout.is_zero() {
            return Err(LimitsError::Zero("--header-timeout"));
        }
        if idle_timeout.is_zero() {
            return Err(LimitsError::Zero("--idle-timeout"));
        }
        let nofile = nofile();
        let max_connections = match (max_connections, nofile) {
            (Some(0), _) => return Err(LimitsError::Zero("--max-connections")),
            (Some(wanted), Some(nofile)) if wanted as u64 > fd_budget(nofile) => {
                return Err(LimitsError::OverFileLimit {
                    wanted,
                    nofile,
                    reserved: nofile - fd_budget(nofile),
                    budget: fd_budget(nofile),
                });
            }
            (Some(wanted), _) => wanted,
            (None, Some(nofile)) => MAX_CONNECTIONS.min(fd_budget(nofile).max(1) as usize),
            (None, None) => MAX_CONNECTIONS,
        };
        Ok(Limits {
            header_timeout,
            idle_timeout,
            max_connections,
        })
    }
}

impl Default for Limits {
    /// 10 s for headers, 60 s idle, 1,000 connections or what the open-file limit leaves.
    fn default() -> Limits {
        Limits::new(HEADER_TIMEOUT, IDLE_TIMEOUT, None).expect("the defaults are valid")
    }
}

/// A certificate and key that cannot serve TLS.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file that does not read or holds no PEM item of its kind.
    #[error("the TLS {what} {}: {reason}", path.display())]
    File {
        /// `certificate` or `key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// rustls refuses the pair (a key that is not the certificate's, an unsupported key).
    #[error("the TLS key {} does not serve the certificate {}: {reason}", key.display(), cert.display())]
    Pair {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// rustls's reason.
        reason: String,
    },
}

/// `serve`'s TLS: a certificate chain and its key (rustls with ring; HTTP/1.1).
#[derive(Clone)]
pub struct Tls(TlsAcceptor);

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls(********)")
    }
}

impl Tls {
    /// Read a PEM certificate chain and a PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Tls, TlsError> {
        let file = |what, path: &Path, reason: String| TlsError::File {
            what,
            path: path.to_path_buf(),
            reason,
        };
        let certs = CertificateDer::pem_file_iter(cert)
            .and_then(|items| items.collect::<Result<Vec<_>, _>>())
            .map_err(|e| file("certificate", cert, pem_reason(e, "certificate")))?;
        if certs.is_empty() {
            return Err(file("certificate", cert, "holds no PEM certificate".into()));
        }
        let private = PrivateKeyDer::from_pem_file(key)
            .map_err(|e| file("key", key, pem_reason(e, "private key")))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_no_client_auth().with_single_cert(certs, private))
            .map_err(|e| TlsError::Pair {
                cert: cert.to_path_buf(),
                key: key.to_path_buf(),
                reason: e.to_string(),
            })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls(TlsAcceptor::from(Arc::new(config))))
    }
}

/// A PEM error in words (never the file's content).
fn pem_reason(e: rustls::pki_types::pem::Error, kind: &str) -> String {
    match e {
        rustls::pki_types::pem::Error::Io(e) => format!("cannot read it: {e}"),
        rustls::pki_types::pem::Error::NoItemsFound => format!("holds no PEM {kind}"),
        other => format!("not a valid PEM {kind}: {other}"),
    }
}

/// How `serve` listens: its limits, and TLS or plain HTTP.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Connection limits.
    pub limits: Limits,
    /// HTTPS with this certificate; plain HTTP if `None`.
    pub tls: Option<Tls>,
}

/// What a connection is doing: its deadline, and whether it may be shed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Since this instant (its accept, or the first byte of its next request) it has
    /// been sending a request's headers (or its TLS handshake).
    Reading(Instant),
    /// This many requests are being answered (their responses not all sent).
    Busy(usize),
    /// As `Busy`, and since this instant the handler has been waiting for bytes of the
    /// request's body that do not come.
    Receiving(usize, Instant),
    /// Without a request since this instant.
    Idle(Instant),
    /// Closed to make room for a new connection.
    Shed,
}

impl Phase {
    /// Since when a connection without a request in flight has been waiting.
    fn waiting_since(self) -> Option<Instant> {
        match self {
            Phase::Reading(t) | Phase::Idle(t) => Some(t),
            Phase::Busy(_) | Phase::Receiving(..) | Phase::Shed => None,
        }
    }
}

/// One open connection's phase, shared by its I/O, its requests and its watcher.
#[derive(Debug)]
struct Conn {
    phase: Mutex<Phase>,
    changed: Notify,
}

impl Conn {
    fn new() -> Conn {
        Conn {
            phase: Mutex::new(Phase::Reading(Instant::now())),
            changed: Notify::new(),
        }
    }

    fn phase(&self) -> MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Move to the phase `f` gives (a shed connection stays shed) and wake the watcher
    /// if it changed.
    fn update(&self, f: impl FnOnce(Phase) -> Phase) {
        let mut phase = self.phase();
        let next = f(*phase);
        if *phase != Phase::Shed && next != *phase {
            *phase = next;
            self.changed.notify_one();
        }
    }

    /// Bytes arrived: an idle connection starts a request (and its header deadline).
    fn received(&self) {
        self.update(|p| match p {
            Phase::Idle(_) => Phase::Reading(Instant::now()),
            other => other,
        });
    }

    /// Whether the handler is waiting for body bytes that have not come: the body's
    /// deadline runs from the first such wait until bytes come.
    fn body_waiting(&self, waiting: bool) {
        self.update(|p| match (p, waiting) {
            (Phase::Busy(n), true) => Phase::Receiving(n, Instant::now()),
            (Phase::Receiving(n, _), false) => Phase::Busy(n),
            (other, _) => other,
        });
    }

    /// A request is being answered.
    fn begin(self: &Arc<Conn>) -> InFlight {
        self.update(|p| match p {
            Phase::Busy(n) | Phase::Receiving(n, _) => Phase::Busy(n + 1),
            _ => Phase::Busy(1),
        });
        InFlight(self.clone())
    }

    /// Why the connection must close, once it must: shed, or past a deadline.
    async fn ended(&self, limits: Limits) -> &'static str {
        loop {
            let changed = self.changed.notified();
            let deadline = match *self.phase() {
                Phase::Shed => return "shed for a new connection (connection limit reached)",
                Phase::Busy(_) => None,
                Phase::Receiving(_, t) => {
                    Some((t + limits.header_timeout, "request body not sent in time"))
                }
                Phase::Reading(t) => Some((t + limits.header_timeout, "headers not sent in time")),
                Phase::Idle(t) => Some((t + limits.idle_timeout, "idle")),
            };
            match deadline {
                Some((at, why)) if Instant::now() >= at => return why,
                Some((at, _)) => {
                    tokio::select! {
                        () = changed => {}
                        () = tokio::time::sleep_until(at.into()) => {}
                    }
                }
                None => changed.await,
            }
        }
    }
}

/// A request being answered: the connection is busy until its response is sent.
struct InFlight(Arc<Conn>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.update(|p| match p {
            Phase::Busy(n) | Phase::Receiving(n, _) if n > 1 => Phase::Busy(n - 1),
            _ => Phase::Idle(Instant::now()),
        });
    }
}

/// The open connections, to pick one to shed.
#[derive(Default)]
struct Registry {
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    next: std::sync::atomic::AtomicU64,
}

impl Registry {
    fn conns(&self) -> MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn add(&self, conn: Arc<Conn>) -> u64 {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.conns().insert(id, conn);
        id
    }

    fn remove(&self, id: u64) {
        self.conns().remove(&id);
    }

    /// Shed the `n` connections that have waited longest without a request in flight;
    /// `false` if every connection is answering one.
    fn shed_oldest_waiting(&self, n: usize) -> bool {
        let conns = self.conns();
        // By the time they have waited, then in the order they came.
        let mut waiting: Vec<((Instant, u64), &Arc<Conn>)> = conns
            .iter()
            .filter_map(|(id, c)| Some(((c.phase().waiting_since()?, *id), c)))
            .collect();
        if waiting.len() > n {
            waiting.select_nth_unstable_by_key(n, |(order, _)| *order);
            waiting.truncate(n);
        }
        for (_, conn) in &waiting {
            conn.update(|_| Phase::Shed);
        }
        !waiting.is_empty()
    }
}

/// A log line at most once per [`LOG_EVERY`], saying how many were not logged.
#[derive(Default)]
struct Throttled {
    last: Option<Instant>,
    skipped: u64,
}

impl Throttled {
    fn warn(&mut self, message: impl FnOnce() -> String) {
        if self.last.is_some_and(|t| t.elapsed() < LOG_EVERY) {
            self.skipped += 1;
            return;
        }
        match std::mem::take(&mut self.skipped) {
            0 => tracing::warn!("{}", message()),
            n => tracing::warn!("{} (and {n} more since the last report)", message()),
        }
        self.last = Some(Instant::now());
    }
}

/// A connection's stream, telling its [`Conn`] when bytes arrive.
struct Watched<S> {
    inner: S,
    conn: Arc<Conn>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.conn.received();
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// A request's body, telling its [`Conn`] while the handler waits for bytes of it.
struct WatchedBody {
    inner: Incoming,
    conn: Arc<Conn>,
}

impl hyper::body::Body for WatchedBody {
    type Data = bytes::Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<bytes::Bytes>, hyper::Error>>> {
        let poll = Pin::new(&mut self.inner).poll_frame(cx);
        self.conn.body_waiting(poll.is_pending());
        poll
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for WatchedBody {
    fn drop(&mut self) {
        self.conn.body_waiting(false);
    }
}

/// The router as a hyper service that marks its connection busy until each response
/// has been sent (the guard goes with the response body, which hyper drops once sent),
/// and receiving while the handler waits for the request's body.
#[derive(Clone)]
struct Tracked {
    router: TowerToHyperService<Router>,
    conn: Arc<Conn>,
    /// The TCP peer, for the handlers as axum's `ConnectInfo` (the login throttle counts
    /// failures by it).
    peer: SocketAddr,
}

impl hyper::service::Service<hyper::Request<Incoming>> for Tracked {
    type Response = hyper::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, req: hyper::Request<Incoming>) -> Self::Future {
        let in_flight = self.conn.begin();
        let conn = self.conn.clone();
        let mut req = req.map(|inner| Body::new(WatchedBody { inner, conn }));
        req.extensions_mut().insert(ConnectInfo(self.peer));
        let answer = self.router.call(req);
        Box::pin(async move {
            let resp = answer.await?;
            Ok(resp.map(|body| {
                Body::new(body.map_frame(move |frame| {
                    let _sending = &in_flight;
                    frame
                }))
            }))
        })
    }
}

/// What every connection task shares.
struct Shared {
    router: Router,
    limits: Limits,
    tls: Option<TlsAcceptor>,
    registry: Registry,
    stop: watch::Receiver<bool>,
}

/// Serve `router` on `listener` until `shutdown` completes; then stop accepting, let
/// each connection finish the request it is answering, and return once all are closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) {
    let (stopping, stop) = watch::channel(false);
    let limits = options.limits;
    let shared = Arc::new(Shared {
        router,
        limits,
        tls: options.tls.map(|t| t.0),
        registry: Registry::default(),
        stop,
    });
    let mut slots = Slots::new(limits.max_connections);
    let mut error_log = Throttled::default();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) if one_connections(&e) => continue,
            Err(e) => {
                error_log.warn(|| format!("accept error: {e}; accepting again in 100 ms"));
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        // Without a slot, the stream is dropped: closed at once.
        if let Some(slot) = slots.admit(&shared.registry).await {
            // Registered here, in the order of the accepts, for the next shedding.
            let conn = Arc::new(Conn::new());
            let id = shared.registry.add(conn.clone());
            tokio::spawn(connection(stream, (id, conn), slot, shared.clone()));
        }
    }
    drop(listener);
    let _ = stopping.send(true);
    slots.all_back().await;
}

/// The connection cap: each open connection holds one slot.
struct Slots {
    free: Arc<Semaphore>,
    max: usize,
    shed_log: Throttled,
    refused_log: Throttled,
}

impl Slots {
    fn new(max: usize) -> Slots {
        Slots {
            free: Arc::new(Semaphore::new(max)),
            max,
            shed_log: Throttled::default(),
            refused_log: Throttled::default(),
        }
    }

    /// A slot for a new connection: a free one, else one that shedding frees; `None`
    /// when every open connection is answering a request.
    async fn admit(&mut self, registry: &Registry) -> Option<OwnedSemaphorePermit> {
        if let Ok(slot) = self.free.clone().try_acquire_owned() {
            return Some(slot);
        }
        let max = self.max;
        // A flood sheds 1% at a time: the next new connections need not wait for a slot.
        if !registry.shed_oldest_waiting((max / 100).max(1)) {
            self.refused_log.warn(|| {
                format!(
                    "{max} connections open (the limit), each answering a request: \
                     closing new connections"
                )
            });
            return None;
        }
        self.shed_log.warn(|| {
            format!(
                "{max} connections open (the limit): closing those waiting longest without \
                 a request to make room for new ones"
            )
        });
        tokio::time::timeout(SHED_WAIT, self.free.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
    }

    /// Wait until every slot is back: every connection has closed.
    async fn all_back(&self) {
        let _ = self.free.acquire_many(self.max as u32).await;
    }
}

/// Whether an accept error is about one connection only (the next accept may succeed).
fn one_connections(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted
    )
}

/// One connection, from the TLS handshake (if any) to its close: served until it ends,
/// is shed, or misses a deadline.
async fn connection(
    stream: TcpStream,
    (id, conn): (u64, Arc<Conn>),
    slot: OwnedSemaphorePermit,
    shared: Arc<Shared>,
) {
    let _ = stream.set_nodelay(true);
    let Ok(peer) = stream.peer_addr() else {
        return;
    };
    let served = async {
        match &shared.tls {
            None => http(stream, peer, &conn, &shared).await,
            Some(tls) => match tls.accept(stream).await {
                Ok(stream) => http(stream, peer, &conn, &shared).await,
                Err(e) => tracing::debug!("TLS handshake failed: {e}"),
            },
        }
    };
    tokio::select! {
        () = served => {}
        why = conn.ended(shared.limits) => tracing::debug!("connection closed: {why}"),
    }
    shared.registry.remove(id);
    drop(slot);
}

/// HTTP/1.1 on `stream` until the client closes it (or the server stops: then after
/// the request being answered).
async fn http<S>(stream: S, peer: SocketAddr, conn: &Arc<Conn>, shared: &Shared)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = Tracked {
        router: TowerToHyperService::new(shared.router.clone()),
        conn: conn.clone(),
        peer,
    };
    let io = TokioIo::new(Watched {
        inner: stream,
        conn: conn.clone(),
    });
    // The header deadline is `Conn`'s (from the accept, the handshake included).
    let served = hyper::server::conn::http1::Builder::new()
        .header_read_timeout(None)
        .serve_connection(io, service);
    tokio::pin!(served);
    let mut stop = shared.stop.clone();
    let ended = tokio::select! {
        result = served.as_mut() => Some(result),
        _ = stop.wait_for(|stopping| *stopping) => None,
    };
    let result = match ended {
        Some(result) => result,
        None => {
            served.as_mut().graceful_shutdown();
            served.await
        }
    };
    if let Err(e) = result {
        tracing::debug!("connection: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_budget_leaves_room_for_the_rest_of_the_process() {
        assert_eq!(fd_budget(20_000), 20_000 - RESERVED_FDS);
        assert_eq!(fd_budget(1024), 1024 - RESERVED_FDS);
        // A low limit keeps half for connections.
        assert_eq!(fd_budget(256), 128);
        assert_eq!(
            Limits::new(HEADER_TIMEOUT, IDLE_TIMEOUT, Some(0)),
            Err(LimitsError::Zero("--max-connections"))
        );
        assert_eq!(
            Limits::new(Duration::ZERO, IDLE_TIMEOUT, None),
            Err(LimitsError::Zero("--header-timeout"))
        );
        let limits = Limits::new(HEADER_TIMEOUT, IDLE_TIMEOUT, Some(7)).unwrap();
        assert_eq!(limits.max_connections, 7);
        assert!(Limits::default().max_connections <= MAX_CONNECTIONS);
    }

    /// A registry of connections in these phases.
    fn registry_of(phases: &[Phase]) -> (Registry, Vec<Arc<Conn>>) {
        let registry = Registry::default();
        let conns: Vec<Arc<Conn>> = phases
            .iter()
            .map(|p| {
                let conn = Arc::new(Conn::new());
                *conn.phase() = *p;
                registry.add(conn.clone());
                conn
            })
            .collect();
        (registry, conns)
    }

    #[test]
    fn the_connections_waiting_longest_are_shed_and_never_one_answering_a_request() {
        let t = Instant::now();
        let s = Duration::from_secs;
        let (registry, conns) = registry_of(&[
            Phase::Busy(1),
            Phase::Idle(t + s(2)),
            Phase::Reading(t + s(1)),
            Phase::Idle(t + s(3)),
            Phase::Busy(2),
        ]);
        assert!(registry.shed_oldest_waiting(2));
        let shed: Vec<bool> = conns.iter().map(|c| *c.phase() == Phase::Shed).collect();
        assert_eq!(shed, [false, true, true, false, false]);
        // A shed connection stays shed, whatever its I/O does next.
        conns[1].received();
        drop(conns[2].begin());
        assert_eq!(*conns[1].phase(), Phase::Shed);
        assert_eq!(*conns[2].phase(), Phase::Shed);

        let (busy, _) = registry_of(&[Phase::Busy(1), Phase::Busy(3)]);
        assert!(!busy.shed_oldest_waiting(1), "nothing to shed");
    }

    #[test]
    fn a_connection_is_busy_until_its_last_response_is_sent_then_idle_until_bytes_come() {
        let conn = Arc::new(Conn::new());
        assert!(matches!(*conn.phase(), Phase::Reading(_)));
        let first = conn.begin();
        let second = conn.begin();
        assert_eq!(*conn.phase(), Phase::Busy(2));
        drop(first);
        assert_eq!(*conn.phase(), Phase::Busy(1));
        conn.received();
        assert_eq!(*conn.phase(), Phase::Busy(1), "a body's bytes");
        // The handler waits for body bytes: the body's deadline runs until some come.
        conn.body_waiting(true);
        let Phase::Receiving(1, since) = *conn.phase() else {
            panic!("{:?}", conn.phase())
        };
        conn.body_waiting(true);
        assert_eq!(
            *conn.phase(),
            Phase::Receiving(1, since),
            "still since then"
        );
        conn.body_waiting(false);
        assert_eq!(*conn.phase(), Phase::Busy(1));
        drop(second);
        assert!(matches!(*conn.phase(), Phase::Idle(_)));
        conn.received();
        assert!(matches!(*conn.phase(), Phase::Reading(_)));
    }

    #[tokio::test]
    async fn at_the_cap_a_new_connection_takes_an_idle_ones_slot_or_is_refused_at_once() {
        let mut slots = Slots::new(2);
        let (registry, conns) = registry_of(&[Phase::Busy(1), Phase::Idle(Instant::now())]);
        let held: Vec<_> = (0..2)
            .map(|_| slots.free.clone().try_acquire_owned().unwrap())
            .collect();
        let [busy_slot, idle_slot]: [OwnedSemaphorePermit; 2] = held.try_into().unwrap();

        // The idle connection is shed; its task closes it and gives its slot back.
        let idle = conns[1].clone();
        let closing = tokio::spawn(async move {
            let why = idle.ended(Limits::default()).await;
            drop(idle_slot);
            why
        });
        let slot = slots.admit(&registry).await;
        assert!(slot.is_some(), "the idle connection's slot");
        assert!(closing.await.unwrap().starts_with("shed"));

        // Every open connection answering a request: refused at its first poll (a zero
        // timeout polls it once), not after waiting for a slot.
        let (all_busy, _) = registry_of(&[Phase::Busy(1), Phase::Busy(1)]);
        let refused = tokio::time::timeout(Duration::ZERO, slots.admit(&all_busy)).await;
        assert!(matches!(refused, Ok(None)), "refused at once");
        drop((busy_slot, slot));
    }
}
