//! `/api/v1/users`, `/api/v1/users/{idOrLogin}`, `/api/v1/users/{id}/groups`.

use serde_json::Value;

use crate::api::Ctx;
use crate::cursor::{Cursor, CursorKind};
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
    // The page starts after the cursor's position in creation order; filtering only
    // what follows it gives the same page as filtering everything first, without
    // visiting every user for every page.
    let ordered = ctx.index.by_creation(ctx.org);
    let start = cursor.as_ref().map_or(0, |c| {
        ordered.partition_point(|&i| user_key(&ctx.org.users[i]) <= (c.key, c.id.as_str()))
    });
    let mut matching = ordered[start..]
        .iter()
        .map(|&i| &ctx.org.users[i])
        .filter(|u| visible.as_ref().is_none_or(|v| v.contains(u.id.as_str())))
        .filter(|u| include_deprovisioned || u.status != "DEPROVISIONED")
        .filter(|u| filter.as_ref().is_none_or(|e| e.matches(*u, false)))
        .filter(|u| search.as_ref().is_none_or(|e| e.matches(*u, true)))
        .filter(|u| q.as_deref().is_none_or(|q| prefix_match(u, q)));
    let items: Vec<&OktaUser> = matching.by_ref().take(page.limit).collect();
    let origin = ctx.origin();
    // `q` does not page: just the first `limit` matches.
    let next = (q.is_none() && matching.next().is_some())
        .then(|| items.last())
        .flatten()
        .map(|u| {
            let (key, id) = user_key(u);
            Cursor {
                kind: CursorKind::Users,
                key,
                id: id.to_string(),
            }
        });
    let body: Vec<_> = items.iter().map(|u| render::list_user(u, origin)).collect();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Principal;
    use crate::index::OrgIndex;
    use crate::org::{GenSpec, Org};
    use crate::paging::Params;
    use crate::reply::Rel;
    use crate::server::SimConfig;

    /// Every page of `GET /api/v1/users?{query}`, following `next` links.
    fn pages(org: &Org, query: &str) -> Vec<Vec<String>> {
        let config = SimConfig::default();
        let index = OrgIndex::build(org);
        let mut out = Vec::new();
        let mut query = query.to_string();
        loop {
            let params = Params::parse(Some(&query));
            let ctx = Ctx {
                config: &config,
                org,
                index: &index,
                principal: &Principal::Full,
                path: "/api/v1/users",
                params: &params,
            };
            let reply = list(&ctx).unwrap_or_else(|e| panic!("{}", e.body));
            let users: Vec<Value> = serde_json::from_str(&reply.body).unwrap();
            out.push(
                users
                    .iter()
                    .map(|u| u["id"].as_str().unwrap().to_string())
                    .collect(),
            );
            match reply.links.iter().find(|(_, r)| *r == Rel::Next) {
                Some((url, _)) => query = url.split_once('?').unwrap().1.to_string(),
                None => return out,
            }
        }
    }

    /// The same pages cut from the whole filtered list in creation order.
    fn expected(org: &Org, keep: impl Fn(&OktaUser) -> bool, limit: usize) -> Vec<Vec<String>> {
        let mut all: Vec<&OktaUser> = org.users.iter().collect();
        all.sort_by(|a, b| user_key(a).cmp(&user_key(b)));
        let ids: Vec<String> = all
            .into_iter()
            .filter(|u| keep(u))
            .map(|u| u.id.clone())
            .collect();
        if ids.is_empty() {
            return vec![Vec::new()];
        }
        ids.chunks(limit).map(<[String]>::to_vec).collect()
    }

    #[test]
    fn pages_start_after_the_cursor_and_filter_as_the_whole_list_would() {
        let mut org = Org::generate(&GenSpec {
            users: 537,
            groups: 3,
            memberships_per_user: 1,
            seed: 5,
        });
        // Out of creation order, and two users created in the same millisecond.
        org.users.swap(3, 300);
        org.users[10].created = org.users[11].created;
        for limit in [1, 7, 200] {
            let not_deprovisioned = |u: &OktaUser| u.status != "DEPROVISIONED";
            assert_eq!(
                pages(&org, &format!("limit={limit}")),
                expected(&org, not_deprovisioned, limit)
            );
            assert_eq!(
                pages(
                    &org,
                    &format!("limit={limit}&filter=status+eq+%22SUSPENDED%22")
                ),
                expected(&org, |u| u.status == "SUSPENDED", limit)
            );
            assert_eq!(
                pages(&org, &format!("limit={limit}&filter=status+eq+%22NOPE%22")),
                expected(&org, |_| false, limit)
            );
        }
        // An exactly full last page has no next link.
        let n = org.users.iter().filter(|u| u.status == "SUSPENDED").count();
        assert!(n > 1);
        assert_eq!(
            pages(&org, &format!("limit={n}&filter=status+eq+%22SUSPENDED%22")).len(),
            1
        );
    }
}
