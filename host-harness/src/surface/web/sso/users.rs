//! Product users' sessions, apart from the admin's: their own cookie, which the admin
//! page and the REST API never read (a product user is no admin), and the product's
//! stand-in page that shows who is logged in with which groups. The page reads the
//! store at each request: a user deactivated since the login is logged out.

use super::super::App;
use super::views;
use crate::product::db::directory;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The product user's session cookie.
pub const USER_COOKIE: &str = "usersync_user_session";
/// Sessions end after this long without a request …
const IDLE: Duration = Duration::from_secs(8 * 3600);
/// … and this long after the login.
const ABSOLUTE: Duration = Duration::from_secs(24 * 3600);
/// Most live sessions (the least recently used goes).
const MAX: usize = 10_000;

/// Who a session is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductUser {
    /// The product's username.
    pub username: String,
    /// The connector whose directory holds it.
    pub connector: String,
}

struct Entry {
    user: ProductUser,
    created: Instant,
    seen: Instant,
}

/// The live sessions.
pub struct UserSessions {
    map: Mutex<HashMap<String, Entry>>,
    secure: bool,
}

impl UserSessions {
    /// No sessions yet; cookies `Secure` with `secure`.
    pub fn new(secure: bool) -> UserSessions {
        UserSessions {
            map: Mutex::default(),
            secure,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cookie of session `id` (`Lax`: the first page after Okta's redirect is a
    /// cross-site navigation, and must see it).
    pub fn cookie(&self, id: String) -> Cookie<'static> {
        Cookie::build((USER_COOKIE, id))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .build()
    }

    /// A new session for `user`; its cookie.
    pub fn open(&self, user: ProductUser) -> CookieJar {
        let id = hex::encode(rand::random::<[u8; 32]>());
        let mut map = self.lock();
        map.retain(|_, e| !ended(e));
        if map.len() >= MAX {
            let lru = map
                .iter()
                .min_by_key(|(_, e)| e.seen)
                .map(|(k, _)| k.clone());
            lru.map(|k| map.remove(&k));
        }
        let now = Instant::now();
        map.insert(
            id.clone(),
            Entry {
                user,
                created: now,
                seen: now,
            },
        );
        CookieJar::new().add(self.cookie(id))
    }

    /// The user of the request's session, if live (and mark it used).
    pub fn user(&self, headers: &HeaderMap) -> Option<(String, ProductUser)> {
        let jar = CookieJar::from_headers(headers);
        let id = jar.get(USER_COOKIE)?.value().to_string();
        let mut map = self.lock();
        let entry = map.get_mut(&id)?;
        if ended(entry) {
            map.remove(&id);
            return None;
        }
        entry.seen = Instant::now();
        Some((id, entry.user.clone()))
    }

    /// End session `id`.
    pub fn close(&self, id: &str) {
        self.lock().remove(id);
    }
}

fn ended(e: &Entry) -> bool {
    e.seen.elapsed() > IDLE || e.created.elapsed() > ABSOLUTE
}

/// The user's groups if it is still active in its connector's directory.
fn still_active(app: &App, user: &ProductUser) -> Option<Vec<String>> {
    let h = &app.harness;
    let c = h.stored(&user.connector).ok()?;
    let conn = h.db().lock();
    let found = directory::find_by_username(&conn, &user.username).ok()?;
    let dir = c.directory_id.to_string();
    found.iter().find(|u| u.directory == dir && u.active)?;
    directory::user_memberships(&conn, c.directory_id, &user.username).ok()
}

/// `GET /home`: "You are logged in as … in Jira" with the user's groups, or to the
/// login page.
pub async fn home(State(app): State<App>, headers: HeaderMap) -> Response {
    let Some((id, user)) = app.sso.users.user(&headers) else {
        return to_login();
    };
    let (a, u) = (app.clone(), user.clone());
    let groups = super::super::blocking(&app.harness, move |_| still_active(&a, &u)).await;
    match groups {
        Some(groups) => views::home_page(&app, &user, &groups).into_response(),
        None => {
            app.sso.users.close(&id);
            to_login()
        }
    }
}

fn to_login() -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, super::LOGIN)]).into_response()
}

/// `POST /logout`: end the product user's session.
pub async fn logout(State(app): State<App>, headers: HeaderMap) -> Response {
    if let Some((id, _)) = app.sso.users.user(&headers) {
        app.sso.users.close(&id);
    }
    let mut removal = app.sso.users.cookie(String::new());
    removal.make_removal();
    (CookieJar::new().add(removal), to_login()).into_response()
}
