//! The admin credential, page sessions and CSRF tokens, and the two guards: one for the
//! REST API (Basic, or a session with its CSRF header) and one for the page (a session
//! from the login form, or Basic; POSTs need the session's CSRF token).

use super::App;
use super::json::ApiError;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use axum_extra::headers::HeaderMapExt;
use axum_extra::headers::authorization::{Authorization, Basic};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

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
/// Most live sessions: every Basic page request without a cookie makes one, so a client
/// looping on Basic must not grow them without end; the least recently used goes.
pub const MAX_SESSIONS: usize = 1_000;

/// A logged-in page session, as handlers see it.
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

/// The credential and the sessions.
pub struct Auth {
    user: [u8; 32],
    password: [u8; 32],
    sessions: Mutex<HashMap<String, Entry>>,
}

fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

/// 32 random bytes as hex.
fn random_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// Whether two secrets are equal, in a time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

impl Auth {
    /// The admin credential.
    pub fn new(user: &str, password: &str) -> Auth {
        Auth {
            user: digest(user),
            password: digest(password),
            sessions: Mutex::default(),
        }
    }

    /// Whether a user name and password are the admin's (compared as digests, so the
    /// time taken does not depend on where they differ).
    pub fn check(&self, user: &str, password: &str) -> bool {
        // `&`, not `&&`: both are compared whatever the user name.
        (digest(user)[..].ct_eq(&self.user) & digest(password)[..].ct_eq(&self.password)).into()
    }

    /// `None` without an `Authorization` header, else whether it holds the admin's Basic
    /// credential (another scheme, or Basic that does not decode, is a wrong credential).
    pub fn basic(&self, headers: &HeaderMap) -> Option<bool> {
        match headers.typed_try_get::<Authorization<Basic>>() {
            Ok(None) => None,
            Ok(Some(Authorization(b))) => Some(self.check(b.username(), b.password())),
            Err(_) => Some(false),
        }
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
fn session_cookie(value: String) -> Cookie<'static> {
    Cookie::build((COOKIE, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .build()
}

/// A response's cookies that open the session `s`.
pub fn set_cookie(s: &Session) -> CookieJar {
    CookieJar::new().add(session_cookie(s.id.clone()))
}

/// A response's cookies that remove the session cookie.
pub fn clear_cookie() -> CookieJar {
    let mut cookie = session_cookie(String::new());
    cookie.make_removal();
    CookieJar::new().add(cookie)
}

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

/// The REST API's guard. Basic auth: writes must be JSON or say
/// `X-Atlassian-Token: no-check` ([`refused_write`]). Session cookie: state-changing
/// requests need `X-CSRF-Token`.
pub async fn rest_guard(State(app): State<App>, req: Request, next: Next) -> Response {
    let changes = !safe(req.method());
    match app.auth.basic(req.headers()) {
        Some(true) => {
            if let Some(refusal) = refused_write(req.method(), req.headers()) {
                return refusal.into_response();
            }
            return next.run(req).await;
        }
        Some(false) => return unauthorized(),
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

/// The request (its body read and put back) if it carries the session's CSRF
/// token `csrf`, in the `X-CSRF-Token` header or the form's `atl_token` field.
async fn with_token(app: &App, req: Request, csrf: &str) -> Result<Request, Response> {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return Err(StatusCode::PAYLOAD_TOO_LARGE.into_response());
    };
    let in_header = header_is(&parts.headers, CSRF_HEADER, csrf);
    let in_form = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .map(|fields| {
            fields
                .iter()
                .any(|(k, v)| k == CSRF_FIELD && same(v.as_bytes(), csrf.as_bytes()))
        })
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

/// The page's guard: a session (or Basic auth, which opens one); otherwise GETs go to
/// the login form. POSTs need the session's CSRF token in the form or header, else 403.
/// Handlers find the [`Session`] in the request's extensions.
pub async fn page_guard(State(app): State<App>, req: Request, next: Next) -> Response {
    let get = safe(req.method());
    let mut new_session = None;
    let session = match app.auth.session(req.headers()) {
        Some(s) => s,
        None => match app.auth.basic(req.headers()) {
            Some(true) => {
                let s = app.auth.login();
                new_session = Some(s.clone());
                s
            }
            Some(false) if get => {
                return super::page::message_page(
                    &app,
                    StatusCode::UNAUTHORIZED,
                    "Login failed",
                    "The user name or password is not the admin credential.",
                );
            }
            _ if get => {
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
                return Redirect::to(&login).into_response();
            }
            _ => return csrf_refused(&app),
        },
    };
    let mut req = req;
    if !get {
        req = match with_token(&app, req, &session.csrf).await {
            Ok(req) => req,
            Err(refused) => return refused,
        };
    }
    req.extensions_mut().insert(session);
    let resp = next.run(req).await;
    match new_session {
        Some(s) => (set_cookie(&s), resp).into_response(),
        None => resp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookie(s: &Session) -> HeaderMap {
        let mut h = HeaderMap::new();
        let v = format!("{COOKIE}={}", s.id);
        h.insert(header::COOKIE, HeaderValue::from_str(&v).unwrap());
        h
    }

    #[test]
    fn sessions_are_bounded_and_the_least_recently_used_goes() {
        let auth = Auth::new("admin", "pw");
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

    fn with_authorization(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn basic_credentials_are_checked() {
        let auth = Auth::new("admin", "pw:with:colons");
        assert_eq!(auth.basic(&HeaderMap::new()), None);
        // admin:pw:with:colons
        let good = with_authorization("Basic YWRtaW46cHc6d2l0aDpjb2xvbnM=");
        assert_eq!(auth.basic(&good), Some(true));
        let wrong = with_authorization("Basic YWRtaW46eA=="); // admin:x
        assert_eq!(auth.basic(&wrong), Some(false));
        assert_eq!(auth.basic(&with_authorization("Basic %%%")), Some(false));
        assert_eq!(auth.basic(&with_authorization("Bearer abc")), Some(false));
    }

    #[test]
    fn sessions_come_from_their_cookie_and_end_at_logout() {
        let auth = Auth::new("admin", "pw");
        let s = auth.login();
        let mut h = HeaderMap::new();
        let cookie = format!("other=1; {COOKIE}={}", s.id);
        h.insert(header::COOKIE, HeaderValue::from_str(&cookie).unwrap());
        assert_eq!(auth.session(&h).map(|f| f.csrf), Some(s.csrf.clone()));
        auth.logout(&s.id);
        assert!(auth.session(&h).is_none());
        let debug = format!("{s:?}");
        assert!(
            !debug.contains(&s.id) && !debug.contains(&s.csrf),
            "{debug}"
        );
    }
}
