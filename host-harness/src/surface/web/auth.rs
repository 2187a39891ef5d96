//! The admin credential, page sessions and CSRF tokens, and the two guards: one for the
//! REST API (Basic, or a session with its CSRF header) and one for the page (a session
//! from the login form, or Basic; POSTs need the CSRF token of the page they come from).
//!
//! Every password check (the login form, and each Basic request) goes through
//! [`Auth::authenticate`], which the [`throttle`] slows down and locks out per user name
//! and per client address. Basic page requests open no session: their forms carry a
//! stateless token ([`csrf`]).

mod csrf;
mod password;
pub mod throttle;

pub use password::{MIN_CHARS, Password, PasswordError};
pub use throttle::Limits;

use super::App;
use super::json::ApiError;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use axum_extra::headers::HeaderMapExt;
use axum_extra::headers::authorization::{Authorization, Basic};
use password::digest;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;
use throttle::{Attempt, Clock, SystemClock, Throttle};

/// The session cookie.
pub const COOKIE: &str = "usersync_session";
/// The CSRF token's form field (as Atlassian products name it).
pub const CSRF_FIELD: &str = "atl_token";
/// The CSRF token's header, for the page's scripts.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Sessions end after this long without a request.
const IDLE: Duration = Duration::from_secs(8 * 3600);
/// ... and this long after the login, however busy.
const ABSOLUTE: Duration = Duration::from_secs(24 * 3600);
/// Most live sessions (only the login form opens one), so that logging in in a loop
/// cannot grow them without end; the least recently used goes.
pub const MAX_SESSIONS: usize = 1_000;

/// A logged-in page session (from the login form).
#[derive(Clone)]
pub struct Session {
    /// Cookie value.
    pub id: String,
    /// The CSRF token of the session's forms.
    pub csrf: String,
}

/// Both values are credentials: never in logs.
impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Session { id: \"********\", csrf: \"********\" }")
    }
}

/// Who a page request is from, as handlers see it (in the request's extensions).
#[derive(Clone)]
pub enum Caller {
    /// A session of the login form.
    Session(Session),
    /// HTTP Basic, with the stateless CSRF token of the pages served to it.
    Basic {
        /// The token.
        csrf: String,
    },
}

impl Caller {
    /// The CSRF token the page's forms carry.
    pub fn csrf(&self) -> &str {
        match self {
            Caller::Session(s) => &s.csrf,
            Caller::Basic { csrf } => csrf,
        }
    }
}

/// The token is a credential: never in logs.
impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Caller::Session(s) => write!(f, "Caller::Session({s:?})"),
            Caller::Basic { .. } => f.write_str("Caller::Basic { csrf: \"********\" }"),
        }
    }
}

struct Entry {
    csrf: String,
    created: Instant,
    seen: Instant,
}

impl Entry {
    /// Whether the session has ended: idle too long, or too old.
    fn ended(&self) -> bool {
        self.seen.elapsed() > IDLE || self.created.elapsed() > ABSOLUTE
    }
}

/// Why a login attempt is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Not the admin credential.
    Wrong,
    /// Too many failures: no attempt is checked before this long (the password was not
    /// looked at).
    Wait(Duration),
}

/// The client address of a request, as the login throttle counts it: the TCP peer
/// (axum's `ConnectInfo`, which `serve` provides), never a header such as
/// `X-Forwarded-For` that any client can write; without one (a router called directly)
/// the unspecified address, one for all.
pub struct Peer(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Peer, Self::Rejection> {
        Ok(peer(&parts.extensions))
    }
}

fn peer(extensions: &axum::http::Extensions) -> Peer {
    Peer(
        extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip()),
    )
}

/// The credential, the login throttle and the sessions.
pub struct Auth {
    user: String,
    user_digest: [u8; 32],
    password: Password,
    throttle: Throttle,
    clock: Arc<dyn Clock>,
    csrf: csrf::Minter,
    /// One password check at a time, so that each sees the throttle as the one before
    /// left it: parallel guesses cannot slip past a lockout while they are checked.
    checking: tokio::sync::Mutex<()>,
    sessions: Mutex<HashMap<String, Entry>>,
    /// Session cookies are `Secure` (served over TLS: the browser sends them back over
    /// TLS only).
    secure_cookies: bool,
}

/// 32 random bytes as hex.
fn random_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// Whether two secrets are equal, in a time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Whether two secrets (tokens, nonces) are equal, compared in constant time.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    same(a.as_bytes(), b.as_bytes())
}

/// A failed login in the log: user name, address and the wait it imposes.
fn log_failure(user: &str, address: IpAddr, wait: Duration, limits: &Limits) {
    let (user, s) = (shown(user), wait_seconds(wait));
    if wait.is_zero() {
        tracing::warn!(%user, %address, "admin login failed");
    } else if wait < limits.lockout {
        tracing::warn!(%user, %address, "admin login failed: further attempts refused for {s} s");
    } else {
        tracing::warn!(%user, %address, "admin login failed: locked out for {s} s");
    }
}

/// A user name as logs show it: quoted and escaped, at most 64 characters (it comes
/// from the client).
fn shown(user: &str) -> String {
    let cut: String = user.chars().take(64).collect();
    format!("{cut:?}")
}

impl Auth {
    /// The admin user's name (who acts, in run records).
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The admin credential, its failed logins throttled by `limits`.
    pub fn new(user: &str, password: Password, limits: Limits) -> Auth {
        Auth::with_clock(user, password, limits, Arc::new(SystemClock))
    }

    /// The same with the throttle's clock given (tests move it by hand).
    pub fn with_clock(
        user: &str,
        password: Password,
        limits: Limits,
        clock: Arc<dyn Clock>,
    ) -> Auth {
        Auth {
            user: user.to_string(),
            user_digest: digest(user),
            password,
            throttle: Throttle::new(limits, clock.clone()),
            csrf: csrf::Minter::new(clock.now()),
            clock,
            checking: tokio::sync::Mutex::new(()),
            sessions: Mutex::default(),
            secure_cookies: false,
        }
    }

    /// The same, its session cookies `Secure` if `secure` (`serve` over TLS).
    pub fn with_secure_cookies(self, secure: bool) -> Auth {
        Auth {
            secure_cookies: secure,
            ..self
        }
    }

    fn session_cookie(&self, value: String) -> Cookie<'static> {
        Cookie::build((COOKIE, value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.secure_cookies)
            .build()
    }

    /// A response's cookies that open the session `s`.
    pub fn set_cookie(&self, s: &Session) -> CookieJar {
        CookieJar::new().add(self.session_cookie(s.id.clone()))
    }

    /// A response's cookies that remove the session cookie.
    pub fn clear_cookie(&self) -> CookieJar {
        let mut cookie = self.session_cookie(String::new());
        cookie.make_removal();
        CookieJar::new().add(cookie)
    }

    /// Check a login attempt of `user` with `password` from `address`, throttled: while
    /// the user name or the address must wait, it is refused unchecked. Failures are
    /// logged (user name and address, never the password); a success resets both.
    pub async fn authenticate(
        self: &Arc<Self>,
        user: &str,
        password: &str,
        address: IpAddr,
    ) -> Result<(), Refused> {
        let attempt = Attempt::new(user, address);
        let _one_at_a_time = self.checking.lock().await;
        if let Some(wait) = self.throttle.wait(&attempt) {
            tracing::debug!(user = %shown(user), %address, "admin login refused unchecked: waiting {wait:?}");
            return Err(Refused::Wait(wait));
        }
        let user_ok: bool = digest(user).ct_eq(&self.user_digest).into();
        // `&`, not `&&`: the password is checked whatever the user name.
        if user_ok & self.password_matches(password).await {
            self.throttle.succeeded(&attempt);
            return Ok(());
        }
        log_failure(
            user,
            address,
            self.throttle.failed(&attempt),
            self.throttle.limits(),
        );
        Err(Refused::Wrong)
    }

    /// Whether `password` is the admin's (an argon2 check on the blocking pool).
    async fn password_matches(self: &Arc<Self>, password: &str) -> bool {
        if !self.password.slow() {
            return self.password.matches(password);
        }
        let (auth, password) = (self.clone(), password.to_string());
        tokio::task::spawn_blocking(move || auth.password.matches(&password))
            .await
            .unwrap_or(false)
    }

    /// `None` without an `Authorization` header, else [`Auth::authenticate`] of its Basic
    /// credential (another scheme, or Basic that does not decode, is a wrong credential).
    pub async fn basic(
        self: &Arc<Self>,
        headers: &HeaderMap,
        address: IpAddr,
    ) -> Option<Result<(), Refused>> {
        let basic = match headers.typed_try_get::<Authorization<Basic>>() {
            Ok(None) => return None,
            Ok(Some(Authorization(b))) => Some(b),
            Err(_) => None,
        };
        let (user, password) = basic
            .as_ref()
            .map_or(("", ""), |b| (b.username(), b.password()));
        Some(self.authenticate(user, password, address).await)
    }

    /// A stateless CSRF token for the pages served to the admin over Basic.
    pub fn basic_csrf(&self) -> String {
        self.csrf.token(&self.user, self.clock.now())
    }

    /// Whether `token` is one of [`Auth::basic_csrf`]'s, still good.
    fn basic_csrf_ok(&self, token: &str) -> bool {
        self.csrf.verify(&self.user, token, self.clock.now())
    }

    /// The user names and addresses the throttle tracks.
    pub fn throttled(&self) -> (usize, usize) {
        self.throttle.tracked()
    }

    /// The live session of the request's cookie (and mark it used).
    pub fn session(&self, headers: &HeaderMap) -> Option<Session> {
        let jar = CookieJar::from_headers(headers);
        let id = jar.get(COOKIE)?.value();
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let entry = sessions.get_mut(id)?;
        if entry.ended() {
            sessions.remove(id);
            return None;
        }
        entry.seen = Instant::now();
        Some(Session {
            id: id.to_string(),
            csrf: entry.csrf.clone(),
        })
    }

    /// A new session (after a login).
    pub fn login(&self) -> Session {
        let s = Session {
            id: random_token(),
            csrf: random_token(),
        };
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions.retain(|_, e| !e.ended());
        if sessions.len() >= MAX_SESSIONS {
            let oldest = sessions
                .iter()
                .min_by_key(|(_, e)| e.seen)
                .map(|(id, _)| id.clone());
            if let Some(id) = oldest {
                sessions.remove(&id);
            }
        }
        let now = Instant::now();
        sessions.insert(
            s.id.clone(),
            Entry {
                csrf: s.csrf.clone(),
                created: now,
                seen: now,
            },
        );
        s
    }

    /// Live sessions.
    pub fn sessions(&self) -> usize {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    /// End a session.
    pub fn logout(&self, id: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }
}

/// The session cookie, `HttpOnly` (no script reads it) and `SameSite=Strict` (no other
/// site's page sends it).
fn safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Content types a cross-site HTML form can send without a CORS preflight.
fn forgeable(headers: &HeaderMap) -> bool {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    [
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "text/plain",
    ]
    .iter()
    .any(|t| ct.starts_with(t))
}

/// Whether a request with a body says it is JSON (`application/json`, any parameters).
fn says_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// Why a Basic-authenticated write is refused, if it is: writes (POST, PUT, PATCH) must
/// be JSON or carry `X-Atlassian-Token: no-check` (as Atlassian's REST APIs). A content
/// type a cross-site form or beacon can send is an XSRF attempt (403); any other, or
/// none, is not what the API reads (415), where it used to be read as JSON anyway.
fn refused_write(method: &Method, headers: &HeaderMap) -> Option<ApiError> {
    let writes = matches!(*method, Method::POST | Method::PUT | Method::PATCH);
    if !writes || says_json(headers) || header_is(headers, "x-atlassian-token", "no-check") {
        return None;
    }
    Some(if forgeable(headers) {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "XSRF check failed: send JSON (Content-Type: application/json) or the header X-Atlassian-Token: no-check",
        )
    } else {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "this API reads JSON: send Content-Type: application/json (or, for a request without a body, the header X-Atlassian-Token: no-check)",
        )
    })
}

/// Whether the header `name` is `secret` (compared in constant time).
fn header_is(headers: &HeaderMap, name: &str, secret: &str) -> bool {
    headers
        .get(name)
        .is_some_and(|v| same(v.as_bytes(), secret.as_bytes()))
}

fn unauthorized() -> Response {
    let mut r = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "authentication required: use HTTP Basic with the admin credential set at `usersync serve`",
    )
    .into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"usersync\""),
    );
    r
}

/// Whole seconds of a wait, rounded up (what `Retry-After` says).
pub fn wait_seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// A response's `Retry-After` for a throttled login.
pub fn retry_after(wait: Duration) -> (header::HeaderName, HeaderValue) {
    (header::RETRY_AFTER, HeaderValue::from(wait_seconds(wait)))
}

/// What a throttled client is told.
pub fn wait_message(wait: Duration) -> String {
    format!(
        "too many failed logins: wait {} s before trying again (until then even the right password is refused)",
        wait_seconds(wait)
    )
}

/// The REST API's guard. Basic auth (throttled, [`Auth::authenticate`]): writes must be
/// JSON or say `X-Atlassian-Token: no-check` ([`refused_write`]). Session cookie:
/// state-changing requests need `X-CSRF-Token`.
pub async fn rest_guard(State(app): State<App>, req: Request, next: Next) -> Response {
    let changes = !safe(req.method());
    let Peer(address) = peer(req.extensions());
    match app.auth.basic(req.headers(), address).await {
        Some(Ok(())) => {
            if let Some(refusal) = refused_write(req.method(), req.headers()) {
                return refusal.into_response();
            }
            return next.run(req).await;
        }
        Some(Err(Refused::Wrong)) => return unauthorized(),
        Some(Err(Refused::Wait(wait))) => {
            let refusal = ApiError::new(StatusCode::TOO_MANY_REQUESTS, wait_message(wait));
            return ([retry_after(wait)], refusal).into_response();
        }
        None => {}
    }
    let Some(session) = app.auth.session(req.headers()) else {
        return unauthorized();
    };
    if changes && !header_is(req.headers(), CSRF_HEADER, &session.csrf) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "XSRF check failed: a request with the page's session needs its X-CSRF-Token header",
        )
        .into_response();
    }
    next.run(req).await
}

/// The request (its body read and put back) if it carries `caller`'s CSRF token, in
/// the `X-CSRF-Token` header or the form's `atl_token` field.
async fn with_token(app: &App, req: Request, caller: &Caller) -> Result<Request, Response> {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return Err(StatusCode::PAYLOAD_TOO_LARGE.into_response());
    };
    let ok = |token: &str| app.auth.csrf_ok(caller, token);
    let in_header = parts
        .headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(ok);
    let in_form = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .map(|fields| fields.iter().any(|(k, v)| k == CSRF_FIELD && ok(v)))
        .unwrap_or(false);
    if in_header || in_form {
        Ok(Request::from_parts(parts, Body::from(bytes)))
    } else {
        Err(csrf_refused(app))
    }
}

fn csrf_refused(app: &App) -> Response {
    super::page::message_page(
        app,
        StatusCode::FORBIDDEN,
        "XSRF Security Token Missing",
        "This form's security token is missing or out of date, so the action was not performed. Go back, reload the page and try again.",
    )
}

/// The page a throttled login gets (429, `Retry-After`).
pub fn wait_page(app: &App, wait: Duration) -> Response {
    let text = format!(
        "Too many failed logins. Wait {} seconds before trying again; until then even the right password is refused.",
        wait_seconds(wait)
    );
    let page = super::page::message_page(
        app,
        StatusCode::TOO_MANY_REQUESTS,
        "Too many failed logins",
        &text,
    );
    ([retry_after(wait)], page).into_response()
}

/// Where a GET without a credential goes: the login form, back here after it.
fn to_login(app: &App, req: &Request) -> Response {
    // The URI as requested (the router strips its nesting prefix).
    let uri = req
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map(|o| o.0.clone())
        .unwrap_or_else(|| req.uri().clone());
    let target = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let login = format!(
        "{}/login?next={}",
        app.base(),
        super::html::url_encode(target)
    );
    Redirect::to(&login).into_response()
}

/// The page's guard: a session, or Basic auth (throttled; it opens no session, its
/// pages carry a stateless CSRF token); otherwise GETs go to the login form. POSTs need
/// the caller's CSRF token in the form or header, else 403. Handlers find the
/// [`Caller`] in the request's extensions.
pub async fn page_guard(State(app): State<App>, req: Request, next: Next) -> Response {
    let get = safe(req.method());
    let Peer(address) = peer(req.extensions());
    let caller = match app.auth.page_caller(req.headers(), address).await {
        Ok(caller) => caller,
        Err(Some(Refused::Wait(wait))) => return wait_page(&app, wait),
        Err(Some(Refused::Wrong)) if get => {
            return super::page::message_page(
                &app,
                StatusCode::UNAUTHORIZED,
                "Login failed",
                "The user name or password is not the admin credential.",
            );
        }
        Err(None) if get => return to_login(&app, &req),
        Err(_) => return csrf_refused(&app),
    };
    let mut req = req;
    if !get {
        req = match with_token(&app, req, &caller).await {
            Ok(req) => req,
            Err(refused) => return refused,
        };
    }
    req.extensions_mut().insert(caller);
    next.run(req).await
}

impl Auth {
    /// The caller of a page request: its session, else its Basic credential (which
    /// opens no session: the pages it gets carry a stateless CSRF token). `Err(None)`
    /// without either.
    pub async fn page_caller(
        self: &Arc<Self>,
        headers: &HeaderMap,
        address: IpAddr,
    ) -> Result<Caller, Option<Refused>> {
        if let Some(s) = self.session(headers) {
            return Ok(Caller::Session(s));
        }
        match self.basic(headers, address).await {
            Some(Ok(())) => Ok(Caller::Basic {
                csrf: self.basic_csrf(),
            }),
            Some(Err(refused)) => Err(Some(refused)),
            None => Err(None),
        }
    }

    /// Whether `token` is the CSRF token of `caller`'s pages.
    fn csrf_ok(&self, caller: &Caller, token: &str) -> bool {
        match caller {
            Caller::Session(s) => same(token.as_bytes(), s.csrf.as_bytes()),
            Caller::Basic { .. } => self.basic_csrf_ok(token),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use throttle::tests::TestClock;

    const PASSWORD: &str = "pw:with:colons";
    const HERE: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    fn auth_with(limits: Limits) -> (Arc<Auth>, Arc<TestClock>) {
        let clock = TestClock::new();
        let password = Password::new(PASSWORD).unwrap();
        let auth = Auth::with_clock("admin", password, limits, clock.clone());
        (Arc::new(auth), clock)
    }

    fn auth() -> Arc<Auth> {
        auth_with(Limits::default()).0
    }

    fn cookie(s: &Session) -> HeaderMap {
        let mut h = HeaderMap::new();
        let v = format!("{COOKIE}={}", s.id);
        h.insert(header::COOKIE, HeaderValue::from_str(&v).unwrap());
        h
    }

    fn with_authorization(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    fn basic(user: &str, password: &str) -> HeaderMap {
        use base64::Engine;
        let v = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        with_authorization(&format!("Basic {v}"))
    }

    #[test]
    fn sessions_are_bounded_and_the_least_recently_used_goes() {
        let auth = auth();
        let first = auth.login();
        let second = auth.login();
        for _ in 0..MAX_SESSIONS + 50 {
            // The first stays in use; the second is never seen again.
            assert!(auth.session(&cookie(&first)).is_some());
            auth.login();
        }
        assert_eq!(auth.sessions(), MAX_SESSIONS);
        assert!(auth.session(&cookie(&first)).is_some(), "in use: kept");
        assert!(auth.session(&cookie(&second)).is_none(), "unused: gone");
    }

    #[test]
    fn a_session_ends_when_idle_or_old() {
        let ago = |d: Duration| Instant::now().checked_sub(d).expect("the clock is past it");
        let entry = |created, seen| Entry {
            csrf: String::new(),
            created,
            seen,
        };
        assert!(!entry(Instant::now(), Instant::now()).ended());
        let hour = Duration::from_secs(3600);
        assert!(entry(ago(9 * hour), ago(9 * hour)).ended(), "idle");
        assert!(
            entry(ago(25 * hour), Instant::now()).ended(),
            "busy but old"
        );
    }

    #[tokio::test]
    async fn basic_credentials_are_checked() {
        let auth = auth();
        assert_eq!(auth.basic(&HeaderMap::new(), HERE).await, None);
        // admin:pw:with:colons
        let good = with_authorization("Basic YWRtaW46cHc6d2l0aDpjb2xvbnM=");
        assert_eq!(auth.basic(&good, HERE).await, Some(Ok(())));
        let wrong = Some(Err(Refused::Wrong));
        assert_eq!(auth.basic(&basic("admin", "x"), HERE).await, wrong);
        assert_eq!(auth.basic(&basic("root", PASSWORD), HERE).await, wrong);
        let garbled = with_authorization("Basic %%%");
        assert_eq!(auth.basic(&garbled, HERE).await, wrong);
        let bearer = with_authorization("Bearer abc");
        let elsewhere = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(auth.basic(&bearer, elsewhere).await, wrong);
    }

    #[test]
    fn sessions_come_from_their_cookie_and_end_at_logout() {
        let auth = auth();
        let s = auth.login();
        let mut h = HeaderMap::new();
        let cookie = format!("other=1; {COOKIE}={}", s.id);
        h.insert(header::COOKIE, HeaderValue::from_str(&cookie).unwrap());
        assert_eq!(auth.session(&h).map(|f| f.csrf), Some(s.csrf.clone()));
        auth.logout(&s.id);
        assert!(auth.session(&h).is_none());
        let debug = format!("{s:?} {:?}", Caller::Session(s.clone()));
        assert!(
            !debug.contains(&s.id) && !debug.contains(&s.csrf),
            "{debug}"
        );
    }

    /// Fail `n` times as `user` from `address`, each once its wait is over.
    async fn fail(auth: &Arc<Auth>, clock: &TestClock, user: &str, address: IpAddr, n: usize) {
        let mut failed = 0;
        while failed < n {
            match auth.authenticate(user, "wrong", address).await {
                Err(Refused::Wrong) => failed += 1,
                Err(Refused::Wait(wait)) => clock.advance(wait),
                Ok(()) => panic!("a wrong password passed"),
            }
        }
    }

    #[tokio::test]
    async fn a_locked_out_login_is_refused_even_with_the_right_password_until_it_ends() {
        let minute = Duration::from_secs(60);
        let limits = Limits {
            lockout: minute,
            ..Limits::default()
        };
        let (auth, clock) = auth_with(limits);
        fail(&auth, &clock, "admin", HERE, 3).await;
        assert_eq!(
            auth.authenticate("admin", PASSWORD, HERE).await,
            Ok(()),
            "free failures impose no wait"
        );
        fail(&auth, &clock, "admin", HERE, 10).await;
        let refused = auth.authenticate("admin", PASSWORD, HERE).await;
        assert_eq!(refused, Err(Refused::Wait(minute)));
        // From elsewhere too: the user name is locked out.
        let elsewhere = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(
            auth.authenticate("admin", PASSWORD, elsewhere).await,
            Err(Refused::Wait(minute))
        );
        clock.advance(minute - Duration::from_secs(1));
        assert_eq!(
            auth.authenticate("admin", PASSWORD, HERE).await,
            Err(Refused::Wait(Duration::from_secs(1)))
        );
        clock.advance(Duration::from_secs(1));
        assert_eq!(auth.authenticate("admin", PASSWORD, HERE).await, Ok(()));
        assert_eq!(auth.throttled(), (0, 0), "a success resets");
    }

    /// A `MakeWriter` into a shared buffer.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn failed_logins_are_logged_with_user_and_address_never_the_password() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _logging = tracing::subscriber::set_default(subscriber);
        let (auth, clock) = auth_with(Limits::default());
        let address = IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3));
        let r = auth
            .authenticate("adm\x1b[2Jin", "hunter2-secret", address)
            .await;
        assert_eq!(r, Err(Refused::Wrong));
        fail(&auth, &clock, "admin", address, 9).await;
        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(log.contains("WARN"), "{log}");
        assert!(log.contains(r#"user="adm\u{1b}[2Jin""#), "escaped: {log}");
        assert!(log.contains("address=10.1.2.3"), "{log}");
        assert!(log.contains("locked out for 900 s"), "{log}");
        assert!(!log.contains("hunter2") && !log.contains('\x1b'), "{log}");
    }

    #[tokio::test]
    async fn basic_page_requests_open_no_session_and_their_forms_still_post() {
        let (auth, clock) = auth_with(Limits::default());
        let good = basic("admin", PASSWORD);
        let mut tokens = Vec::new();
        for _ in 0..100 {
            let caller = auth.page_caller(&good, HERE).await.unwrap();
            assert!(matches!(caller, Caller::Basic { .. }), "{caller:?}");
            assert!(auth.csrf_ok(&caller, caller.csrf()), "its forms post");
            tokens.push(caller.csrf().to_string());
        }
        assert_eq!(auth.sessions(), 0, "no session for Basic");
        assert_eq!(
            auth.page_caller(&HeaderMap::new(), HERE).await.err(),
            Some(None)
        );
        // A session's token is not a Basic caller's, nor the other way round.
        let session = auth.login();
        let basic_caller = auth.page_caller(&good, HERE).await.unwrap();
        assert!(!auth.csrf_ok(&basic_caller, &session.csrf));
        assert!(!auth.csrf_ok(&Caller::Session(session), basic_caller.csrf()));
        // Tokens expire; another process's (another key) never held.
        clock.advance(csrf::TTL + Duration::from_secs(1));
        assert!(!auth.csrf_ok(&basic_caller, &tokens[0]), "expired");
        let other = auth_with(Limits::default()).0;
        let fresh = auth.basic_csrf();
        assert!(auth.csrf_ok(&basic_caller, &fresh));
        assert!(!other.csrf_ok(&basic_caller, &fresh), "another key");
    }
}
