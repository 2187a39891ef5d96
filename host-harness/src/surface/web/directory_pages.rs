//! The product's user management on the admin page, as the host product shows it:
//! *Users* (search by username, email or Okta id, an active filter; a user's groups,
//! directory, key, attributes and history of changes by run), *Groups* (with their
//! members) and *User directories* (the order, moved up or down after a confirmation
//! naming the usernames whose user would change). Every list is a keyset page
//! ([`crate::product::db::directory_admin`]); the query parameters are the REST API's
//! ([`super::directory_api`]).

use super::auth::Caller;
use super::directory_api::{self as api, Paging, SWITCHES_SHOWN, next_link, path_id};
use super::html::{Frame, Section, segment, time};
use super::json::ApiError;
use super::{App, blocking};
use crate::harness::HarnessError;
use crate::product::db::directory_admin::{
    DirectoryRow, GroupRow, HistoryEntry, Move, Page, SearchBy, UserQuery, UserRow,
};
use axum::Router;
use axum::extract::{Extension, Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use std::collections::HashMap;

type Params = HashMap<String, String>;

/// The pages' routes (behind the page guard of [`super::page::routes`]).
pub fn routes() -> Router<App> {
    Router::new()
        .route("/users", get(users))
        .route("/users/{key}", get(user))
        .route("/groups", get(groups))
        .route("/groups/{id}", get(group))
        .route("/directories", get(directories))
        .route(
            "/directories/{id}/move",
            get(confirm_move).post(move_directory),
        )
}

/// What a page of this module ends in when it cannot be shown.
fn failed(app: &App, e: impl Into<ApiError>) -> Response {
    let e = e.into();
    let title = if e.status == StatusCode::NOT_FOUND {
        "Not found"
    } else {
        "The page cannot be shown"
    };
    super::page::message_page(app, e.status, title, &e.error)
}

fn frame<'a>(app: &'a App, s: &'a Caller) -> Frame<'a> {
    Frame {
        product: app.harness.product().name,
        base: app.base(),
        csrf: Some(s.csrf()),
    }
}

/// `Next page →` (and back to the first) under a paged table.
fn pager(path: &str, q: &Params, next: Option<&str>, id: &str) -> Markup {
    html! {
        p class="pager" id=(id) {
            @if q.get("cursor").is_some_and(|c| !c.is_empty()) {
                a href=(api::link(path, q, None)) class="first-page" { "← First page" } " "
            }
            @if let Some(link) = next_link(path, q, next) {
                a href=(link) class="next-page" { "Next page →" }
            } @else {
                span class="muted" { "End of the list." }
            }
        }
    }
}

fn active_lozenge(active: bool) -> Markup {
    html! {
        @if active { span class="aui-lozenge aui-lozenge-success" { "Active" } }
        @else { span class="aui-lozenge" { "Inactive" } }
    }
}

/// A `select` of the directories (any: empty).
fn directory_select(list: &[(i64, String)], chosen: Option<i64>) -> Markup {
    html! {
        select class="select" id="search-directory" name="directory" aria-label="Directory" {
            option value="" selected[chosen.is_none()] { "All directories" }
            @for (id, name) in list {
                option value=(id) selected[chosen == Some(*id)] { (name) }
            }
        }
    }
}

async fn users(
    State(app): State<App>,
    Extension(s): Extension<Caller>,
    Query(q): Query<Params>,
) -> Response {
    let (query, p) = match api::user_query(&q) {
        Ok(v) => v,
        Err(e) => return failed(&app, e),
    };
    let shown = query.clone();
    let data = blocking(&app.harness, move |h| {
        Ok::<_, HarnessError>((
            h.users(&query, p.cursor.as_deref(), p.limit)?,
            h.directory_names()?,
        ))
    })
    .await;
    match data {
        Ok((page, dirs)) => users_page(&frame(&app, &s), &q, &shown, &page, &dirs).into_response(),
        Err(e) => failed(&app, e),
    }
}

fn users_page(
    f: &Frame<'_>,
    q: &Params,
    query: &UserQuery,
    page: &Page<UserRow>,
    dirs: &[(i64, String)],
) -> Markup {
    let path = format!("{}/users", f.base);
    let body = html! {
        h1 { "Users" }
        p class="muted" { "The users of " (f.product) "'s user directories, as the product holds them." }
        form class="aui search-form" method="get" action=(path) id="user-search" {
            input class="text" type="search" id="search-q" name="q" value=(query.text)
                placeholder="Start of a username, email or Okta id" aria-label="Search";
            select class="select" id="search-by" name="by" aria-label="Search by" {
                @for (by, label) in [(SearchBy::Username, "Username"), (SearchBy::Email, "Email"), (SearchBy::OktaId, "Okta id")] {
                    option value=(by.name()) selected[query.by == by] { (label) }
                }
            }
            select class="select" id="search-active" name="active" aria-label="Status" {
                option value="all" selected[query.active.is_none()] { "Active and inactive" }
                option value="true" selected[query.active == Some(true)] { "Active only" }
                option value="false" selected[query.active == Some(false)] { "Inactive only" }
            }
            (directory_select(dirs, query.directory))
            button type="submit" class="aui-button" id="search-submit" { "Search" }
        }
        table class="aui" id="users" {
            thead { tr { th { "Username" } th { "Full name" } th { "Email" } th { "Directory" } th { "Status" } th { "Okta id" } } }
            tbody {
                @if page.items.is_empty() { tr { td colspan="6" class="muted" { "No users match." } } }
                @for u in &page.items {
                    tr data-key=(u.key) {
                        td { a href={ (f.base) "/users/" (segment(&u.key)) } { (u.username) } }
                        td { (u.display_name) }
                        td { (u.email) }
                        td { (u.directory) }
                        td { (active_lozenge(u.active)) }
                        td { code { (u.okta_id.as_deref().unwrap_or_default()) } }
                    }
                }
            }
        }
        (pager(&path, q, page.next.as_deref(), "users-pager"))
    };
    f.page_in(Section::Users, "Users", body)
}

async fn user(
    State(app): State<App>,
    Extension(s): Extension<Caller>,
    Path(key): Path<String>,
    Query(q): Query<Params>,
) -> Response {
    let p = match api::paging(&q) {
        Ok(p) => p,
        Err(e) => return failed(&app, e),
    };
    let data = blocking(&app.harness, move |h| {
        let (user, groups) = h.user(&key)?;
        let history = h.user_history(&user, p.cursor.as_deref(), p.limit)?;
        Ok::<_, HarnessError>((user, groups, history))
    })
    .await;
    match data {
        Ok((u, groups, history)) => {
            user_page(&frame(&app, &s), &q, &u, &groups, &history).into_response()
        }
        Err(e) => failed(&app, e),
    }
}

fn user_page(
    f: &Frame<'_>,
    q: &Params,
    u: &UserRow,
    groups: &[String],
    history: &Page<HistoryEntry>,
) -> Markup {
    let path = format!("{}/users/{}", f.base, segment(&u.key));
    let body = html! {
        div class="breadcrumbs" { a href={ (f.base) "/users" } { "Users" } " › " (u.username) }
        h1 { (u.username) " " (active_lozenge(u.active)) }
        table class="aui details" id="user-details" { tbody {
            tr { th { "Full name" } td { (u.display_name) } }
            tr { th { "Email" } td { (u.email) } }
            tr { th { "Key" } td { code { (u.key) } } }
            tr { th { "Directory" } td { a href={ (f.base) "/directories" } { (u.directory) } } }
            tr { th { "Okta id" } td { code { (u.okta_id.as_deref().unwrap_or("—")) } } }
            tr { th { "Last login" } td { (u.last_login.map(time).unwrap_or_else(|| "Never".into())) } }
        } }
        h2 { "Attributes" }
        @if u.attributes.is_empty() { p class="muted" id="user-attributes" { "None." } }
        @else {
            table class="aui" id="user-attributes" { tbody {
                @for (name, value) in &u.attributes { tr { th { (name) } td { (value) } } }
            } }
        }
        h2 { "Groups (" (groups.len()) ")" }
        ul id="user-groups" {
            @for g in groups {
                li { a href={ (f.base) "/groups?directory=" (u.directory_id) "&q=" (super::html::url_encode(g)) } { (g) } }
            }
        }
        h2 { "History" }
        p class="muted" {
            "Changes to this user by syncs (membership changes are in each run's report), newest first."
        }
        table class="aui" id="user-history" {
            thead { tr { th { "Run" } th { "When (UTC)" } th { "Trigger" } th { "Change" } th { "Details" } } }
            tbody {
                @if history.items.is_empty() { tr { td colspan="5" class="muted" { "No changes recorded." } } }
                @for h in &history.items {
                    tr {
                        td { a href={ (f.base) "/runs/" (h.run_id) } { "#" (h.run_id) } }
                        td { (time(h.at)) }
                        td { (h.trigger) }
                        td { (crate::surface::report::action_name(h.change.action)) }
                        td { (super::views::details(&h.change)) }
                    }
                }
            }
        }
        (pager(&path, q, history.next.as_deref(), "history-pager"))
    };
    f.page_in(Section::Users, &u.username, body)
}

async fn groups(
    State(app): State<App>,
    Extension(s): Extension<Caller>,
    Query(q): Query<Params>,
) -> Response {
    let (text, dir, p) = match api::group_query(&q) {
        Ok(v) => v,
        Err(e) => return failed(&app, e),
    };
    let shown = text.clone();
    let data = blocking(&app.harness, move |h| {
        Ok::<_, HarnessError>((
            h.groups(&text, dir, p.cursor.as_deref(), p.limit)?,
            h.directory_names()?,
        ))
    })
    .await;
    match data {
        Ok((page, dirs)) => {
            groups_page(&frame(&app, &s), &q, &shown, dir, &page, &dirs).into_response()
        }
        Err(e) => failed(&app, e),
    }
}

fn groups_page(
    f: &Frame<'_>,
    q: &Params,
    text: &str,
    dir: Option<i64>,
    page: &Page<GroupRow>,
    dirs: &[(i64, String)],
) -> Markup {
    let path = format!("{}/groups", f.base);
    let body = html! {
        h1 { "Groups" }
        form class="aui search-form" method="get" action=(path) id="group-search" {
            input class="text" type="search" id="search-q" name="q" value=(text)
                placeholder="Start of a group name" aria-label="Search";
            (directory_select(dirs, dir))
            button type="submit" class="aui-button" id="search-submit" { "Search" }
        }
        table class="aui" id="groups" {
            thead { tr { th { "Group" } th { "Directory" } th { "Description" } th { "Members" } } }
            tbody {
                @if page.items.is_empty() { tr { td colspan="4" class="muted" { "No groups match." } } }
                @for g in &page.items {
                    tr data-group=(g.id) {
                        td { a href={ (f.base) "/groups/" (g.id) } { (g.name) } }
                        td { (g.directory) }
                        td { (g.description) }
                        td class="num" { (g.members) }
                    }
                }
            }
        }
        (pager(&path, q, page.next.as_deref(), "groups-pager"))
    };
    f.page_in(Section::Groups, "Groups", body)
}

async fn group(
    State(app): State<App>,
    Extension(s): Extension<Caller>,
    Path(id): Path<String>,
    Query(q): Query<Params>,
) -> Response {
    let (id, p): (i64, Paging) =
        match path_id("group", &id).and_then(|id| Ok((id, api::paging(&q)?))) {
            Ok(v) => v,
            Err(e) => return failed(&app, e),
        };
    match blocking(&app.harness, move |h| {
        h.group(id, p.cursor.as_deref(), p.limit)
    })
    .await
    {
        Ok((g, members)) => group_page(&frame(&app, &s), &q, &g, &members).into_response(),
        Err(e) => failed(&app, e),
    }
}

fn group_page(f: &Frame<'_>, q: &Params, g: &GroupRow, members: &Page<UserRow>) -> Markup {
    let path = format!("{}/groups/{}", f.base, g.id);
    let body = html! {
        div class="breadcrumbs" { a href={ (f.base) "/groups" } { "Groups" } " › " (g.name) }
        h1 { (g.name) }
        table class="aui details" id="group-details" { tbody {
            tr { th { "Directory" } td { (g.directory) } }
            tr { th { "Description" } td { (g.description) } }
            tr { th { "Okta id" } td { code { (g.okta_id.as_deref().unwrap_or("—")) } } }
            tr { th { "Members" } td { (g.members) } }
        } }
        h2 { "Members" }
        table class="aui" id="members" {
            thead { tr { th { "Username" } th { "Full name" } th { "Email" } th { "Status" } } }
            tbody {
                @if members.items.is_empty() { tr { td colspan="4" class="muted" { "No members." } } }
                @for u in &members.items {
                    tr data-key=(u.key) {
                        td { a href={ (f.base) "/users/" (segment(&u.key)) } { (u.username) } }
                        td { (u.display_name) }
                        td { (u.email) }
                        td { (active_lozenge(u.active)) }
                    }
                }
            }
        }
        (pager(&path, q, members.next.as_deref(), "members-pager"))
    };
    f.page_in(Section::Groups, &g.name, body)
}

async fn directories(
    State(app): State<App>,
    Extension(s): Extension<Caller>,
    Query(q): Query<Params>,
) -> Response {
    match blocking(&app.harness, |h| h.directories()).await {
        Ok(list) => directories_page(&frame(&app, &s), &list, q.get("moved")).into_response(),
        Err(e) => failed(&app, e),
    }
}

fn directories_page(f: &Frame<'_>, list: &[DirectoryRow], moved: Option<&String>) -> Markup {
    let body = html! {
        h1 { "User directories" }
        p class="muted" {
            "The order decides which user a username is when several directories hold it: the "
            "first directory's user logs in and counts for the licence."
        }
        @if let Some(m) = moved {
            div class="aui-message aui-message-success" id="notice" { "Moved the directory \u{201c}" (m) "\u{201d}." }
        }
        table class="aui" id="directories" {
            thead { tr {
                th { "Order" } th { "Directory" } th { "Type" } th { "Synced by" }
                th { "Users" } th { "Groups" } th { "Operations" }
            } }
            tbody {
                @for (i, d) in list.iter().enumerate() {
                    tr data-directory=(d.id) {
                        td class="num" { (i + 1) }
                        td { strong { (d.name) } }
                        td { (d.kind) }
                        td { @if let Some(c) = &d.connector { a href={ (f.base) "/connectors/" (segment(c)) } { (c) } } }
                        td class="num" {
                            a href={ (f.base) "/users?directory=" (d.id) } { (d.users) }
                        }
                        td class="num" { a href={ (f.base) "/groups?directory=" (d.id) } { (d.groups) } }
                        td class="actions" {
                            @if i > 0 {
                                a class="aui-button aui-button-link move-up" href={ (f.base) "/directories/" (d.id) "/move?direction=up" } { "Move up" }
                            }
                            @if i + 1 < list.len() {
                                a class="aui-button aui-button-link move-down" href={ (f.base) "/directories/" (d.id) "/move?direction=down" } { "Move down" }
                            }
                        }
                    }
                }
            }
        }
    };
    f.page_in(Section::Directories, "User directories", body)
}

/// The move's direction of a page's query or form.
fn move_args(
    id: &str,
    f: &Params,
) -> Result<(i64, crate::product::db::directory_admin::Direction), ApiError> {
    Ok((
        path_id("directory", id)?,
        api::direction(f.get("direction").map(String::as_str))?,
    ))
}

async fn confirm_move(
    State(app): State<App>,
    Extension(s): Extension<Caller>,
    Path(id): Path<String>,
    Query(q): Query<Params>,
) -> Response {
    let (id, direction) = match move_args(&id, &q) {
        Ok(v) => v,
        Err(e) => return failed(&app, e),
    };
    match blocking(&app.harness, move |h| {
        h.plan_directory_move(id, direction, SWITCHES_SHOWN)
    })
    .await
    {
        Ok(m) => confirm_page(&frame(&app, &s), &m).into_response(),
        Err(e) => failed(&app, e),
    }
}

/// The confirmation of a move: the directory it trades places with and the usernames
/// whose user changes.
fn confirm_page(f: &Frame<'_>, m: &Move) -> Markup {
    let action = format!("{}/directories/{}/move", f.base, m.directory.id);
    let body = html! {
        div class="breadcrumbs" { a href={ (f.base) "/directories" } { "User directories" } " › Move" }
        h1 { "Move \u{201c}" (m.directory.name) "\u{201d} " (m.direction) }
        @match &m.swapped_with {
            None => div class="aui-message" id="move-none" { "It is already " @if m.direction == "up" { "first" } @else { "last" } "." },
            Some(other) => {
                p id="move-summary" {
                    "\u{201c}" (m.directory.name) "\u{201d} and \u{201c}" (other.name) "\u{201d} trade places. "
                    @if m.total == 0 {
                        "No username is in both, so no user changes."
                    } @else {
                        @if m.total == 1 {
                            strong { "1" } " username is in both: its user becomes the other directory's "
                        } @else {
                            strong { (m.total) } " usernames are in both: their user becomes the other directory's "
                        }
                        "(its key, groups and licence seat)."
                    }
                }
                @if m.total > 0 {
                    table class="aui" id="move-switches" {
                        thead { tr { th { "Username" } th { "User now" } th { "User after the move" } } }
                        tbody {
                            @for w in &m.switches {
                                tr {
                                    td { (w.username) }
                                    td { a href={ (f.base) "/users/" (segment(&w.from_key)) } { (w.from_directory) " (" (w.from_key) ")" } }
                                    td { a href={ (f.base) "/users/" (segment(&w.to_key)) } { (w.to_directory) " (" (w.to_key) ")" } }
                                }
                            }
                        }
                    }
                    @if m.total > m.switches.len() as u64 {
                        p class="muted" { "… and " (m.total - m.switches.len() as u64) " more." }
                    }
                }
                div class="buttons-container" {
                    form method="post" action=(action) class="inline-form" {
                        (f.token_field())
                        input type="hidden" name="direction" value=(m.direction);
                        button type="submit" class="aui-button aui-button-primary" id="confirm-move" { "Move " (m.direction) }
                    }
                    a class="aui-button aui-button-link" href={ (f.base) "/directories" } { "Cancel" }
                }
            },
        }
    };
    f.page_in(Section::Directories, "Move a user directory", body)
}

async fn move_directory(
    State(app): State<App>,
    Path(id): Path<String>,
    Form(form): Form<Params>,
) -> Response {
    let (id, direction) = match move_args(&id, &form) {
        Ok(v) => v,
        Err(e) => return failed(&app, e),
    };
    match blocking(&app.harness, move |h| h.move_directory(id, direction, 0)).await {
        Ok(m) => super::page::see_other(&format!(
            "{}/directories?moved={}",
            app.base(),
            super::html::url_encode(&m.directory.name)
        )),
        Err(e) => failed(&app, e),
    }
}
