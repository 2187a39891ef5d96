//! `/api/v1/users`, `/api/v1/users/{idOrLogin}`, `/api/v1/users/{id}/groups`.

use serde_json::Value;

use crate::api::Ctx;
use crate::cursor::CursorKind;
use crate::filter::{self, Dialect, Expr};
use crate::org::{OktaGroup, OktaUser};
use crate::paging::{Page, page_by_key};
use crate::render;
use crate::reply::Reply;

/// Page size of `/api/v1/users/{id}/groups` (default and maximum).
const USER_GROUPS_LIMIT: usize = 200;
/// Default page size of `/api/v1/users?q=`.
const Q_DEFAULT_LIMIT: usize = 10;

pub(crate) fn user_key(u: &OktaUser) -> (i64, &str) {
    (u.created.timestamp_millis(), u.id.as_str())
}

pub(crate) fn group_key(g: &OktaGroup) -> (i64, &str) {
    (g.created.timestamp_millis(), g.id.as_str())
}

/// All users ordered by creation (`created`, then id).
pub(crate) fn ordered_users<'o>(ctx: &Ctx<'o>) -> Vec<&'o OktaUser> {
    let mut v: Vec<&OktaUser> = ctx.org.users.iter().collect();
    if !v.is_sorted_by_key(|u| user_key(u)) {
        v.sort_by(|a, b| user_key(a).cmp(&user_key(b)));
    }
    v
}

/// Parses the `filter` and `search` parameters for these dialects.
pub(crate) fn expressions(
    ctx: &Ctx<'_>,
    filter: Dialect,
    search: Dialect,
) -> Result<(Option<Expr>, Option<Expr>), Reply> {
    let parse = |key: &str, d: Dialect| {
        ctx.params
            .get(key)
            .map(|s| filter::parse_for(d, s).map_err(|e| Reply::invalid_search(&e.0)))
            .transpose()
    };
    Ok((parse("filter", filter)?, parse("search", search)?))
}

fn json<T: serde::Serialize>(items: &T) -> String {
    serde_json::to_string(items).expect("serializable")
}

/// `GET /api/v1/users`.
pub(crate) fn list(ctx: &Ctx<'_>) -> Result<Reply, Reply> {
    let (filter, search) = expressions(ctx, Dialect::UsersFilter, Dialect::UsersSearch)?;
    let q = ctx.params.get("q").map(str::to_lowercase);
    let max = ctx.config.max_users_limit;
    let default = if q.is_some() {
        Q_DEFAULT_LIMIT.min(max)
    } else {
        max
    };
    let page = Page::from_params(ctx.params, default, max)?;
    let cursor = if q.is_some() {
        None
    } else {
        page.cursor(CursorKind::Users)?
    };
    let visible = ctx.principal.visible_users(ctx.org);
    let include_deprovisioned = filter.is_some() || search.is_some();
    let prefix_match = |u: &OktaUser, q: &str| {
        ["firstName", "lastName", "email"].iter().any(|k| {
            u.profile
                .get(*k)
                .and_then(Value::as_str)
                .is_some_and(|v| v.to_lowercase().starts_with(q))
        })
    };
    let items: Vec<&OktaUser> = ordered_users(ctx)
        .into_iter()
        .filter(|u| visible.as_ref().is_none_or(|v| v.contains(u.id.as_str())))
        .filter(|u| include_deprovisioned || u.status != "DEPROVISIONED")
        .filter(|u| filter.as_ref().is_none_or(|e| e.matches(*u, false)))
        .filter(|u| search.as_ref().is_none_or(|e| e.matches(*u, true)))
        .filter(|u| q.as_deref().is_none_or(|q| prefix_match(u, q)))
        .collect();
    let origin = ctx.origin();
    let (items, next) = if q.is_some() {
        // `q` does not page: just the first `limit` matches.
        (items.into_iter().take(page.limit).collect(), None)
    } else {
        page_by_key(
            &items,
            CursorKind::Users,
            cursor.as_ref(),
            page.limit,
            user_key,
        )
    };
    let body: Vec<_> = items
        .iter()
        .map(|u| render::user(u, origin, false))
        .collect();
    Ok(Reply::json(200, json(&body)).with_links(page.links(origin, ctx.path, next.as_ref())))
}

/// Looks up a user by id or (case-insensitively) login, checking scope.
fn find_user<'o>(ctx: &Ctx<'o>, id_or_login: &str) -> Result<&'o OktaUser, Reply> {
    let user = ctx
        .index
        .user(ctx.org, id_or_login)
        .or_else(|| ctx.index.user_by_login(ctx.org, id_or_login))
        .ok_or_else(|| Reply::not_found(id_or_login, "User"))?;
    if !ctx.principal.sees_user(ctx.org, &user.id) {
        return Err(ctx.out_of_scope(id_or_login, "User"));
    }
    Ok(user)
}

/// `GET /api/v1/users/{idOrLogin}`.
pub(crate) fn get(ctx: &Ctx<'_>, id_or_login: &str) -> Result<Reply, Reply> {
    let user = find_user(ctx, id_or_login)?;
    Ok(Reply::json(
        200,
        json(&render::user(user, ctx.origin(), true)),
    ))
}

/// `GET /api/v1/users/{id}/groups`.
pub(crate) fn groups(ctx: &Ctx<'_>, id: &str) -> Result<Reply, Reply> {
    let user = find_user(ctx, id)?;
    let page = Page::from_params(ctx.params, USER_GROUPS_LIMIT, USER_GROUPS_LIMIT)?;
    let cursor = page.cursor(CursorKind::UserGroups)?;
    let mut items: Vec<&OktaGroup> = ctx
        .index
        .groups_of(ctx.org, &user.id)
        .into_iter()
        .filter(|g| ctx.principal.sees_group(g))
        .collect();
    items.sort_by(|a, b| group_key(a).cmp(&group_key(b)));
    let (items, next) = page_by_key(
        &items,
        CursorKind::UserGroups,
        cursor.as_ref(),
        page.limit,
        group_key,
    );
    let origin = ctx.origin();
    let body: Vec<_> = items.iter().map(|g| render::group(g, origin)).collect();
    Ok(Reply::json(200, json(&body)).with_links(page.links(origin, ctx.path, next.as_ref())))
}
