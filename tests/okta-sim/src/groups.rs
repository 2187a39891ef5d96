//! `/api/v1/groups`, `/api/v1/groups/{id}`, `/api/v1/groups/{id}/users`.

use crate::api::Ctx;
use crate::cursor::CursorKind;
use crate::filter::Dialect;
use crate::org::{OktaGroup, OktaUser};
use crate::paging::{Page, page_by_key};
use crate::render;
use crate::reply::Reply;
use crate::users::{expressions, group_key};

/// Default page size of `/api/v1/groups?q=`.
const Q_DEFAULT_LIMIT: usize = 300;

fn json<T: serde::Serialize>(items: &T) -> String {
    serde_json::to_string(items).expect("serializable")
}

/// `GET /api/v1/groups`.
pub(crate) fn list(ctx: &Ctx<'_>) -> Result<Reply, Reply> {
    let (filter, search) = expressions(ctx, Dialect::GroupsFilter, Dialect::GroupsSearch)?;
    let q = ctx.params.get("q").map(str::to_lowercase);
    let max = ctx.config.max_groups_limit;
    let default = if q.is_some() {
        Q_DEFAULT_LIMIT.min(max)
    } else {
        max
    };
    let page = Page::from_params(ctx.params, default, max)?;
    let cursor = if q.is_some() {
        None
    } else {
        page.cursor(CursorKind::Groups)?
    };
    let mut items: Vec<&OktaGroup> = ctx
        .org
        .groups
        .iter()
        .filter(|g| ctx.principal.sees_group(g))
        .filter(|g| filter.as_ref().is_none_or(|e| e.matches(*g, false)))
        .filter(|g| search.as_ref().is_none_or(|e| e.matches(*g, true)))
        .filter(|g| {
            q.as_deref()
                .is_none_or(|q| g.name.to_lowercase().starts_with(q))
        })
        .collect();
    items.sort_by(|a, b| group_key(a).cmp(&group_key(b)));
    let origin = ctx.origin();
    if q.is_some() {
        // A query does not page, and Okta sends no Link header for it.
        let body: Vec<_> = items
            .iter()
            .take(page.limit)
            .map(|g| render::group(g, origin))
            .collect();
        return Ok(Reply::json(200, json(&body)));
    }
    let (items, next) = page_by_key(
        &items,
        CursorKind::Groups,
        cursor.as_ref(),
        page.limit,
        group_key,
    );
    let body: Vec<_> = items.iter().map(|g| render::group(g, origin)).collect();
    Ok(Reply::json(200, json(&body)).with_links(page.links(origin, ctx.path, next.as_ref())))
}

/// Looks up a group by id, checking scope.
fn find_group<'o>(ctx: &Ctx<'o>, id: &str) -> Result<&'o OktaGroup, Reply> {
    let group = ctx
        .org
        .group(id)
        .ok_or_else(|| Reply::not_found(id, "UserGroup"))?;
    if !ctx.principal.sees_group(group) {
        return Err(ctx.out_of_scope(id, "UserGroup"));
    }
    Ok(group)
}

/// `GET /api/v1/groups/{id}`.
pub(crate) fn get(ctx: &Ctx<'_>, id: &str) -> Result<Reply, Reply> {
    let group = find_group(ctx, id)?;
    Ok(Reply::json(200, json(&render::group(group, ctx.origin()))))
}

/// `GET /api/v1/groups/{id}/users`: members in insertion order, DEPROVISIONED included.
pub(crate) fn members(ctx: &Ctx<'_>, id: &str) -> Result<Reply, Reply> {
    let group = find_group(ctx, id)?;
    let max = ctx.config.max_members_limit;
    let page = Page::from_params(ctx.params, max, max)?;
    let cursor = page.cursor(CursorKind::GroupMembers)?;
    let members = &group.members;
    let start = match &cursor {
        None => 0,
        // The cursor holds the index and id of the last member returned; if
        // that member has left meanwhile, continue from its old index.
        Some(c) => {
            let pos = usize::try_from(c.key).unwrap_or(0);
            if members.get(pos) == Some(&c.id) {
                pos + 1
            } else if let Some(p) = members.iter().position(|m| *m == c.id) {
                p + 1
            } else {
                pos.min(members.len())
            }
        }
    };
    let end = (start + page.limit).min(members.len());
    let next = (end < members.len() && end > start).then(|| crate::cursor::Cursor {
        kind: CursorKind::GroupMembers,
        key: (end - 1) as i64,
        id: members[end - 1].clone(),
    });
    let origin = ctx.origin();
    let body: Vec<_> = members[start..end]
        .iter()
        .filter_map(|m| ctx.index.user(ctx.org, m))
        .map(|u: &OktaUser| render::list_user(u, origin))
        .collect();
    Ok(Reply::json(200, json(&body)).with_links(page.links(origin, ctx.path, next.as_ref())))
}
