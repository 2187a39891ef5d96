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
use base64::Engine;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The session cookie.
pub const COOKIE: &str = "usersync_session";
/// The CSRF token's form field (as Atlassian products name it).
pub const CSRF_FIELD: &str = "atl_token";
/// The CSRF token's header, for the page's scripts.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Sessions end after this long without a request.
const IDLE: Duration = Duration::from_secs(8 * 3600);

/// A logged-in page session, as handlers see it.
#[derive(Clone, Debug)]
pub struct Session {
    /// Cookie value.
    pub id: String,
    /// The CSRF token of the session's forms.
    pub csrf: String,
}

struct Entry {
    csrf: String,
    seen: Instant,
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
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
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
        let u = digest(user)
            .iter()
            .zip(self.user.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        let p = digest(password)
            .iter()
            .zip(self.password.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        (u | p) == 0
    }

    /// `None` without an `Authorization: Basic` header, else whether it is the admin's.
    pub fn basic(&self, headers: &HeaderMap) -> Option<bool> {
        let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, encoded) = value.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        Some(
            decoded
                .and_then(|s| s.split_once(':').map(|(u, p)| self.check(u, p)))
                .unwrap_or(false),
        )
    }

    /// The live session of the request's cookie (and mark it used).
    pub fn session(&self, headers: &HeaderMap) -> Option<Session> {
        let id = cookie_value(headers, COOKIE)?;
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let entry = sessions.get_mut(id)?;
        if entry.seen.elapsed() > IDLE {
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
        sessions.retain(|_, e| e.seen.elapsed() <= IDLE);
        sessions.insert(
            s.id.clone(),
            Entry {
                csrf: s.csrf.clone(),
                seen: Instant::now(),
            },
        );
        s
    }

    /// End a session.
    pub fn logout(&self, id: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }
}

/// `Set-Cookie` of a session (HttpOnly, SameSite=Strict).
pub fn set_cookie(s: &Session) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
        s.id
    ))
    .expect("hex cookie")
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("usersync_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
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

fn header_is(headers: &HeaderMap, name: &str, value: &str) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == value)
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

/// The REST API's guard. Basic auth: state-changing requests with a content type a
/// cross-site form could send are refused unless `X-Atlassian-Token: no-check` (as
/// Atlassian's REST does). Session cookie: state-changing requests need `X-CSRF-Token`.
pub async fn rest_guard(State(app): State<App>, req: Request, next: Next) -> Response {
    let changes = !safe(req.method());
    match app.auth.basic(req.headers()) {
        Some(true) => {
            if changes
                && forgeable(req.headers())
                && !header_is(req.headers(), "x-atlassian-token", "no-check")
            {
                return ApiError::new(
                    StatusCode::FORBIDDEN,
                    "XSRF check failed: send JSON (Content-Type: application/json) or the header X-Atlassian-Token: no-check",
                )
                .into_response();
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

fn csrf_refused(app: &App) -> Response {
    super::page::message_page(
        app.harness.product().name,
        app.base(),
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
                    app.harness.product().name,
                    app.base(),
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
        let (parts, body) = req.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
            return StatusCode::PAYLOAD_TOO_LARGE.into_response();
        };
        let in_header = header_is(&parts.headers, CSRF_HEADER, &session.csrf);
        let in_form = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .map(|fields| {
                fields
                    .iter()
                    .any(|(k, v)| k == CSRF_FIELD && *v == session.csrf)
            })
            .unwrap_or(false);
        if !in_header && !in_form {
            return csrf_refused(&app);
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }
    req.extensions_mut().insert(session);
    let mut resp = next.run(req).await;
    if let Some(s) = new_session {
        resp.headers_mut()
            .append(header::SET_COOKIE, set_cookie(&s));
    }
    resp
}
