//! `/api/v1/apps`, `/api/v1/apps/{id}`, `/api/v1/apps/{id}/users`,
//! `/api/v1/apps/{id}/groups` (shapes from okta-sdk-python's recorded cassettes).

use serde_json::{Value, json};

use super::{AssignmentScope, OktaApp};
use crate::api::Ctx;
use crate::cursor::CursorKind;
use crate::dates;
use crate::paging::{Page, page_by_key};
use crate::reply::Reply;

/// Default and maximum `limit` of `/api/v1/apps` (a recorded self link shows 20).
const APPS_LIMIT: (usize, usize) = (20, 200);
/// `/api/v1/apps/{id}/users` (a recorded self link shows 50; old docs: max 500).
const APP_USERS_LIMIT: (usize, usize) = (50, 500);
/// `/api/v1/apps/{id}/groups` (a recorded self link shows 20).
const APP_GROUPS_LIMIT: (usize, usize) = (20, 200);

fn href(url: String) -> Value {
    json!({ "href": url })
}

/// An app as Okta lists it (the parts a sync reads, plus the usual links).
fn render_app(a: &OktaApp, origin: &str) -> Value {
    let base = format!("{origin}/api/v1/apps/{}", a.id);
    json!({
        "id": a.id,
        "name": a.name,
        "label": a.label,
        "status": a.status,
        "lastUpdated": dates::format(&a.last_updated),
        "created": dates::format(&a.created),
        "accessibility": {"selfService": false, "errorRedirectUrl": null, "loginRedirectUrl": null},
        "visibility": {"autoSubmitToolbar": false, "hide": {"iOS": false, "web": false}, "appLinks": {}},
        "features": [],
        "signOnMode": a.sign_on_mode,
        "credentials": {"userNameTemplate": {"template": "${source.login}", "type": "BUILT_IN"}, "signing": {}},
        "settings": {"app": {}},
        "_links": {
            "groups": href(format!("{base}/groups")),
            "users": href(format!("{base}/users")),
            "deactivate": href(format!("{base}/lifecycle/deactivate")),
        },
    })
}

/// Apps and assignments are not visible to a group-scoped admin (best guess: its
/// role administers users and groups only).
fn check_full(ctx: &Ctx<'_>) -> Result<(), Reply> {
    match ctx.principal {
        crate::auth::Principal::Full => Ok(()),
        crate::auth::Principal::Scoped(_) => Err(Reply::forbidden()),
    }
}

fn find_app<'o>(ctx: &Ctx<'o>, id: &str) -> Result<&'o OktaApp, Reply> {
    check_full(ctx)?;
    ctx.org
        .app(id)
        .ok_or_else(|| Reply::not_found(id, "AppInstance"))
}

fn page_of(ctx: &Ctx<'_>, (default, max): (usize, usize)) -> Result<Page, Reply> {
    Page::from_params(ctx.params, default, max)
}

fn json_list(
    body: Vec<Value>,
    page: &Page,
    ctx: &Ctx<'_>,
    next: Option<&crate::cursor::Cursor>,
) -> Reply {
    let links = page.links(ctx.origin(), ctx.path, next);
    Reply::json(200, Value::Array(body).to_string()).with_links(links)
}

fn app_key(a: &OktaApp) -> (i64, &str) {
    (a.created.timestamp_millis(), a.id.as_str())
}

/// An assignment of `/apps/{id}/users`: the user id, its scope and start.
type Assigned = (String, (AssignmentScope, chrono::DateTime<chrono::Utc>));

fn assigned_key(a: &Assigned) -> (i64, &str) {
    (0, a.0.as_str())
}

fn group_key(a: &super::AppGroupAssignment) -> (i64, &str) {
    (0, a.group_id.as_str())
}

/// `GET /api/v1/apps`: in creation order.
pub(crate) fn list(ctx: &Ctx<'_>) -> Result<Reply, Reply> {
    check_full(ctx)?;
    let page = page_of(ctx, APPS_LIMIT)?;
    let cursor = page.cursor(CursorKind::Apps)?;
    let mut apps: Vec<&OktaApp> = ctx.org.apps.iter().collect();
    apps.sort_by(|a, b| app_key(a).cmp(&app_key(b)));
    let (items, next) = page_by_key(
        &apps,
        CursorKind::Apps,
        cursor.as_ref(),
        page.limit,
        app_key,
    );
    let body = items.iter().map(|a| render_app(a, ctx.origin())).collect();
    Ok(json_list(body, &page, ctx, next.as_ref()))
}

/// `GET /api/v1/apps/{id}`.
pub(crate) fn get(ctx: &Ctx<'_>, id: &str) -> Result<Reply, Reply> {
    let app = find_app(ctx, id)?;
    Ok(Reply::json(200, render_app(app, ctx.origin()).to_string()))
}

/// `GET /api/v1/apps/{id}/users`: everyone assigned, individually (`scope: "USER"`)
/// or through an assigned group (`scope: "GROUP"`), ordered by user id.
pub(crate) fn users(ctx: &Ctx<'_>, id: &str) -> Result<Reply, Reply> {
    let app = find_app(ctx, id)?;
    let page = page_of(ctx, APP_USERS_LIMIT)?;
    let cursor = page.cursor(CursorKind::AppUsers)?;
    let assigned: Vec<Assigned> = app.assigned(ctx.org).into_iter().collect();
    let refs: Vec<&Assigned> = assigned.iter().collect();
    let (items, next) = page_by_key(
        &refs,
        CursorKind::AppUsers,
        cursor.as_ref(),
        page.limit,
        assigned_key,
    );
    let origin = ctx.origin();
    let body = (items.iter())
        .filter_map(|(uid, (scope, since))| {
            let user = ctx.index.user(ctx.org, uid)?;
            let login = user.profile.get("login").cloned().unwrap_or(Value::Null);
            Some(render_app_user(
                &app.id,
                uid,
                *scope,
                &dates::format(since),
                login,
                origin,
            ))
        })
        .collect();
    Ok(json_list(body, &page, ctx, next.as_ref()))
}

/// `GET /api/v1/apps/{id}/users/{userId}`: one user's assignment (direct or through a
/// group), 404 `E0000007` when the user is not assigned.
pub(crate) fn user(ctx: &Ctx<'_>, id: &str, user_id: &str) -> Result<Reply, Reply> {
    let app = find_app(ctx, id)?;
    let assigned = app.assigned(ctx.org);
    let (scope, since) = assigned
        .get(user_id)
        .ok_or_else(|| Reply::not_found(user_id, "AppUser"))?;
    let user = ctx
        .index
        .user(ctx.org, user_id)
        .ok_or_else(|| Reply::not_found(user_id, "AppUser"))?;
    let login = user.profile.get("login").cloned().unwrap_or(Value::Null);
    let body = render_app_user(
        &app.id,
        user_id,
        *scope,
        &dates::format(since),
        login,
        ctx.origin(),
    );
    Ok(Reply::json(200, body.to_string()))
}

fn render_app_user(
    app_id: &str,
    user_id: &str,
    scope: AssignmentScope,
    since: &str,
    login: Value,
    origin: &str,
) -> Value {
    json!({
        "id": user_id,
        "externalId": null,
        "created": since,
        "lastUpdated": since,
        "scope": scope.as_str(),
        "status": "ACTIVE",
        "statusChanged": since,
        "passwordChanged": null,
        "syncState": "DISABLED",
        "credentials": {"userName": login},
        "profile": {},
        "_links": {
            "app": href(format!("{origin}/api/v1/apps/{app_id}")),
            "user": href(format!("{origin}/api/v1/users/{user_id}")),
        },
    })
}

/// `GET /api/v1/apps/{id}/groups`: the assigned groups, ordered by group id, with
/// `priority` their position in that order (as in the recording).
pub(crate) fn groups(ctx: &Ctx<'_>, id: &str) -> Result<Reply, Reply> {
    let app = find_app(ctx, id)?;
    let page = page_of(ctx, APP_GROUPS_LIMIT)?;
    let cursor = page.cursor(CursorKind::AppGroups)?;
    let mut assigned: Vec<_> = app.groups.iter().collect();
    assigned.sort_by(|a, b| a.group_id.cmp(&b.group_id));
    let (items, next) = page_by_key(
        &assigned,
        CursorKind::AppGroups,
        cursor.as_ref(),
        page.limit,
        group_key,
    );
    let origin = ctx.origin();
    let body = (items.iter())
        .map(|a| {
            let priority = assigned.iter().position(|b| b.group_id == a.group_id);
            let base = format!("{origin}/api/v1/apps/{}", app.id);
            json!({
                "id": a.group_id,
                "lastUpdated": dates::format(&a.created),
                "priority": priority.unwrap_or_default(),
                "profile": {},
                "_links": {
                    "app": href(base.clone()),
                    "self": href(format!("{base}/groups/{}", a.group_id)),
                    "group": href(format!("{origin}/api/v1/groups/{}", a.group_id)),
                },
            })
        })
        .collect();
    Ok(json_list(body, &page, ctx, next.as_ref()))
}
