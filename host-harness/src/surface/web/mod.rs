//! The HTTP surfaces of `usersync serve`: the REST API under `/rest/usersync/1.0/` and
//! the admin page at the product's plugin path (`/plugins/servlet/usersync`). Both call
//! the same [`Harness`] as the command line; harness calls run on tokio's blocking pool.
//!
//! Authentication: one admin credential set at serve time. The REST API takes HTTP Basic
//! (or the page's session cookie with its CSRF token in `X-CSRF-Token`); the page takes a
//! session cookie from its login form (or Basic), and every page POST must carry the
//! session's CSRF token (`atl_token` field or `X-CSRF-Token` header), or gets 403.
//!
//! `serve` listens through [`listen`]: a cap on open connections, header and idle
//! timeouts, and TLS if given a certificate.
//!
//! The page is maud templates (`html`, `views`, `form_page`) with its stylesheet and
//! script in `assets`, so that its Content-Security-Policy allows no inline script.

mod approvals;
mod assets;
pub mod auth;
mod console_page;
mod directory_api;
mod directory_pages;
mod download;
mod form;
mod form_page;
mod form_sections;
mod form_tabs;
pub mod html;
pub mod json;
pub mod listen;
mod metrics;
pub mod openapi;
pub mod page;
pub mod rest;
pub mod sso;
mod views;

use crate::harness::Harness;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
pub use listen::{Limits, ServeOptions, Tls};
use std::net::SocketAddr;
use std::sync::Arc;

/// Where the REST API lives.
pub const REST_BASE: &str = "/rest/usersync/1.0";

/// The admin credential.
#[derive(Clone)]
pub struct WebConfig {
    /// Admin user name.
    pub admin_user: String,
    /// Admin password (or its argon2 hash).
    pub admin_password: auth::Password,
    /// How failed logins are throttled.
    pub throttle: auth::Limits,
}

impl std::fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConfig")
            .field("admin_user", &self.admin_user)
            .field("admin_password", &"********")
            .field("throttle", &self.throttle)
            .finish()
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct App {
    /// The host product.
    pub harness: Harness,
    /// Credential and sessions.
    pub auth: Arc<auth::Auth>,
    /// Single sign-on: logins at Okta, product users' sessions, provider caches.
    pub sso: Arc<sso::SsoState>,
}

impl App {
    /// The admin page's path (`/plugins/servlet/usersync`).
    pub fn base(&self) -> &'static str {
        self.harness.product().admin_path
    }
}

/// Run a (blocking) harness call on tokio's blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    h: &Harness,
    f: impl FnOnce(&Harness) -> T + Send + 'static,
) -> T {
    let h = h.clone();
    match tokio::task::spawn_blocking(move || f(&h)).await {
        Ok(v) => v,
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            // Cancelled: the server is shutting down and this request goes with it.
            Err(_) => std::future::pending().await,
        },
    }
}

/// The REST API and the admin page; session cookies `Secure` when served over TLS.
pub fn router(harness: Harness, config: WebConfig, secure_cookies: bool) -> Router {
    let app = App {
        auth: Arc::new(
            auth::Auth::new(&config.admin_user, config.admin_password, config.throttle)
                .with_secure_cookies(secure_cookies),
        ),
        sso: Arc::new(sso::SsoState::new(secure_cookies)),
        harness,
    };
    let base = app.base();
    Router::new()
        .nest(REST_BASE, rest::routes(app.clone()))
        .nest(base, page::routes(app.clone()))
        .merge(sso::routes())
        .route(
            "/metrics",
            axum::routing::get(metrics::metrics).route_layer(axum::middleware::from_fn_with_state(
                app.clone(),
                auth::rest_guard,
            )),
        )
        .route(
            "/",
            axum::routing::get(move || async move { axum::response::Redirect::to(base) }),
        )
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(app)
}

/// The page's scripts and styles come from its own files only (no inline script or
/// style, so an injected one does not run), it is never framed (clickjacking), and
/// pages and downloads are not cached (they show settings and users).
const SECURITY_HEADERS: [(HeaderName, &str); 4] = [
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "same-origin"),
];

/// Adds [`SECURITY_HEADERS`] to every response (page and REST API alike), and
/// `Cache-Control: no-store` to those that do not say how to cache them (all but the
/// page's assets): settings, users and the secrets export must not stay in a cache.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let headers = resp.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    resp
}

/// A running HTTP server (REST API + admin page) on its own thread; stopped when dropped.
pub struct WebServer {
    addr: SocketAddr,
    tls: bool,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WebServer {
    /// Listen on `listen` (`127.0.0.1:0` picks a free port) with the default limits,
    /// plain HTTP, and serve until dropped.
    pub fn start(harness: Harness, config: WebConfig, listen: &str) -> std::io::Result<WebServer> {
        WebServer::start_with(harness, config, listen, ServeOptions::default())
    }

    /// Listen on `listen` with these limits (and TLS), and serve until dropped.
    pub fn start_with(
        harness: Harness,
        config: WebConfig,
        listen: &str,
        options: ServeOptions,
    ) -> std::io::Result<WebServer> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("usersync-web")
            .enable_all()
            .build()?;
        // tokio's backlog (1,024 pending connections) rather than std's 128.
        let listener = runtime.block_on(tokio::net::TcpListener::bind(listen))?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let tls = options.tls.is_some();
        let app = router(harness, config, tls);
        let thread = std::thread::Builder::new()
            .name("usersync-http".into())
            .spawn(move || {
                runtime.block_on(async move {
                    listen::serve(listener, app, options, async {
                        let _ = stopped.await;
                    })
                    .await;
                });
                runtime.shutdown_timeout(std::time::Duration::from_secs(1));
            })?;
        Ok(WebServer {
            addr,
            tls,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, or `https://ADDR` with TLS.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Block until the server stops (it stops only when dropped, or on a fatal error).
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
