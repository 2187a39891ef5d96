//! The product's user management on the REST API (`/users`, `/groups`, `/directories`)
//! and the query parameters it shares with the admin pages of [`super::directory_pages`]:
//! both parse the same `?q=&by=&active=&directory=&cursor=&limit=` here, so that a page
//! and its API answer list the same rows.

use super::json::ApiError;
use super::{App, REST_BASE, blocking};
use crate::product::db::directory_admin::{Direction, Page, SearchBy, UserQuery};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;

type ApiResult = Result<Response, ApiError>;
type Params = HashMap<String, String>;

/// Rows of a page unless `limit` says.
pub const PAGE: u32 = 50;

/// Usernames a move lists (its `total` counts them all).
pub const SWITCHES_SHOWN: u32 = 200;

/// Refuse any parameter but `known`, naming it.
fn only(q: &Params, known: &[&str]) -> Result<(), ApiError> {
    match q.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(ApiError::bad_field(
            k.as_str(),
            format!(
                "unknown parameter `{}`: use {}",
                crate::model::error::cut(k, 60).0,
                known.join(", ")
            ),
        )),
        None => Ok(()),
    }
}

/// A parameter's text, trimmed (empty: none).
fn text<'a>(q: &'a Params, key: &str) -> Option<&'a str> {
    q.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn number<T: std::str::FromStr>(q: &Params, key: &str) -> Result<Option<T>, ApiError> {
    text(q, key)
        .map(|v| {
            v.parse().map_err(|_| {
                ApiError::bad_field(key, format!("`{key}` must be a whole number, not `{v}`"))
            })
        })
        .transpose()
}

/// Where a page starts and how long it is: `cursor` (from the page before) and `limit`
/// (1-1,000, default [`PAGE`]).
#[derive(Clone, Debug, Default)]
pub struct Paging {
    /// The cursor of the page before's `next`.
    pub cursor: Option<String>,
    /// Rows.
    pub limit: u32,
}

impl Paging {
    fn parse(q: &Params) -> Result<Paging, ApiError> {
        let limit = number::<u32>(q, "limit")?.unwrap_or(PAGE);
        if limit == 0 {
            return Err(ApiError::bad_field("limit", "`limit` must be at least 1"));
        }
        Ok(Paging {
            cursor: text(q, "cursor").map(str::to_string),
            limit: limit.min(crate::product::db::directory_admin::MAX_LIMIT),
        })
    }
}

/// The Users search: `q` (the start of a username, email or Okta id, as `by` says),
/// `active` (`true`, `false`, or `all`, the default), `directory` (an id).
pub fn user_query(q: &Params) -> Result<(UserQuery, Paging), ApiError> {
    only(q, &["q", "by", "active", "directory", "cursor", "limit"])?;
    let by = match text(q, "by") {
        None => SearchBy::Username,
        Some(b) => SearchBy::parse(b).ok_or_else(|| {
            ApiError::bad_field(
                "by",
                format!("`by` is username, email or okta-id, not `{b}`"),
            )
        })?,
    };
    let active = match text(q, "active") {
        None | Some("all") => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(a) => {
            return Err(ApiError::bad_field(
                "active",
                format!("`active` is true, false or all, not `{a}`"),
            ));
        }
    };
    let query = UserQuery {
        text: text(q, "q").unwrap_or_default().to_string(),
        by,
        active,
        directory: number(q, "directory")?,
    };
    Ok((query, Paging::parse(q)?))
}

/// The Groups search: `q` (the start of a name), `directory` (an id).
pub fn group_query(q: &Params) -> Result<(String, Option<i64>, Paging), ApiError> {
    only(q, &["q", "directory", "cursor", "limit"])?;
    Ok((
        text(q, "q").unwrap_or_default().to_string(),
        number(q, "directory")?,
        Paging::parse(q)?,
    ))
}

/// Paging only (a user's history, a group's members).
pub fn paging(q: &Params) -> Result<Paging, ApiError> {
    only(q, &["cursor", "limit"])?;
    Paging::parse(q)
}

/// A move's `direction`: `up` or `down`.
pub fn direction(d: Option<&str>) -> Result<Direction, ApiError> {
    let d = d.unwrap_or_default().trim();
    Direction::parse(d).ok_or_else(|| {
        ApiError::bad_field("direction", format!("`direction` is up or down, not `{d}`"))
    })
}

/// An id of the path (a group's, a directory's).
pub fn path_id(what: &str, id: &str) -> Result<i64, ApiError> {
    id.trim()
        .parse()
        .map_err(|_| ApiError::not_found(format!("there is no {what} with the id `{id}`")))
}

/// `path?q` with `cursor` set to `cursor` (none: the first page).
pub fn link(path: &str, q: &Params, cursor: Option<&str>) -> String {
    let mut pairs: Vec<(&str, &str)> = q
        .iter()
        .filter(|(k, _)| k.as_str() != "cursor")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    pairs.sort();
    pairs.extend(cursor.map(|c| ("cursor", c)));
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", super::html::url_encode(v)))
        .collect();
    match query.is_empty() {
        true => path.to_string(),
        false => format!("{path}?{}", query.join("&")),
    }
}

/// The link to the page after the one of cursor `next` (none: this is the last).
pub fn next_link(path: &str, q: &Params, next: Option<&str>) -> Option<String> {
    next.map(|n| link(path, q, Some(n)))
}

/// A page as the API answers it: its items, its cursor and the link to the next page.
fn page_json<T: Serialize>(path: &str, q: &Params, page: &Page<T>) -> Value {
    json!({
        "items": page.items,
        "cursor": page.next,
        "next": next_link(&format!("{REST_BASE}{path}"), q, page.next.as_deref()),
    })
}

/// `GET /users`.
pub async fn users(State(app): State<App>, Query(q): Query<Params>) -> ApiResult {
    let (query, p) = user_query(&q)?;
    let page = blocking(&app.harness, move |h| {
        h.users(&query, p.cursor.as_deref(), p.limit)
    })
    .await?;
    Ok(Json(page_json("/users", &q, &page)).into_response())
}

/// `GET /users/{key}`: the user, its groups and the first page of its history.
pub async fn user(State(app): State<App>, Path(key): Path<String>) -> ApiResult {
    let (user, groups, history) = blocking(&app.harness, move |h| {
        let (user, groups) = h.user(&key)?;
        let history = h.user_history(&user, None, PAGE)?;
        Ok::<_, crate::harness::HarnessError>((user, groups, history))
    })
    .await?;
    let path = format!("/users/{}/history", super::html::segment(&user.key));
    Ok(Json(json!({
        "user": user,
        "groups": groups,
        "history": page_json(&path, &HashMap::new(), &history),
    }))
    .into_response())
}

/// `GET /users/{key}/history`: changes applied to the user, newest run first.
pub async fn user_history(
    State(app): State<App>,
    Path(key): Path<String>,
    Query(q): Query<Params>,
) -> ApiResult {
    let p = paging(&q)?;
    let path = format!("/users/{}/history", super::html::segment(&key));
    let page = blocking(&app.harness, move |h| {
        let (user, _) = h.user(&key)?;
        h.user_history(&user, p.cursor.as_deref(), p.limit)
    })
    .await?;
    Ok(Json(page_json(&path, &q, &page)).into_response())
}

/// `GET /groups`.
pub async fn groups(State(app): State<App>, Query(q): Query<Params>) -> ApiResult {
    let (text, dir, p) = group_query(&q)?;
    let page = blocking(&app.harness, move |h| {
        h.groups(&text, dir, p.cursor.as_deref(), p.limit)
    })
    .await?;
    Ok(Json(page_json("/groups", &q, &page)).into_response())
}

/// `GET /groups/{id}`: the group and a page of its members.
pub async fn group(
    State(app): State<App>,
    Path(id): Path<String>,
    Query(q): Query<Params>,
) -> ApiResult {
    let p = paging(&q)?;
    let id = path_id("group", &id)?;
    let (group, members) = blocking(&app.harness, move |h| {
        h.group(id, p.cursor.as_deref(), p.limit)
    })
    .await?;
    Ok(Json(json!({
        "group": group,
        "members": page_json(&format!("/groups/{id}"), &q, &members),
    }))
    .into_response())
}

/// `GET /directories`: every directory in order.
pub async fn directories(State(app): State<App>) -> ApiResult {
    let list = blocking(&app.harness, |h| h.directories()).await?;
    Ok(Json(json!(list)).into_response())
}

/// `GET /directories/{id}/move?direction=up`: what the move would change.
pub async fn plan_move(
    State(app): State<App>,
    Path(id): Path<String>,
    Query(q): Query<Params>,
) -> ApiResult {
    only(&q, &["direction"])?;
    let direction = direction(q.get("direction").map(String::as_str))?;
    let id = path_id("directory", &id)?;
    let planned = blocking(&app.harness, move |h| {
        h.plan_directory_move(id, direction, SWITCHES_SHOWN)
    })
    .await?;
    Ok(Json(json!(planned)).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MoveBody {
    direction: String,
}

/// `POST /directories/{id}/move` `{"direction": "up"}`: move it, and say what changed.
pub async fn move_directory(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body: MoveBody = super::json::parse_body(&body)?;
    let direction = direction(Some(&body.direction))?;
    let id = path_id("directory", &id)?;
    let moved = blocking(&app.harness, move |h| {
        h.move_directory(id, direction, SWITCHES_SHOWN)
    })
    .await?;
    Ok(Json(json!(moved)).into_response())
}
