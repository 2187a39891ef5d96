//! The product's user management as its admin pages show it: users searched by
//! username, email or Okta id, a user with its groups and history, groups with their
//! members, and the order of the user directories. Every list is a keyset page on an
//! index (the next page starts after the last row's position), never a read of a whole
//! table: a directory of 100,000 users pages as fast at its end as at its start.

use super::directory::PageRequest;
use super::{Context, DbError};
use crate::model::ChangeEntry;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;
use std::collections::BTreeMap;

/// Above every character a name may hold: the end of a prefix's range on an index.
const TOP: char = char::MAX;

/// Most rows of a page, whatever is asked.
pub const MAX_LIMIT: u32 = 1_000;

/// A user as the Users page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRow {
    /// The stable key (the product's history points at it).
    pub key: String,
    /// Its directory's id.
    pub directory_id: i64,
    /// Its directory's name.
    pub directory: String,
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Email.
    pub email: String,
    /// Active.
    pub active: bool,
    /// The Okta user id, for users of an Okta directory.
    pub okta_id: Option<String>,
    /// Last login (Unix seconds), if any.
    pub last_login: Option<i64>,
    /// Attributes by name.
    pub attributes: BTreeMap<String, String>,
}

/// What the user search matches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SearchBy {
    /// The username starts with the text (case-insensitive).
    #[default]
    Username,
    /// The email starts with the text (case-insensitive).
    Email,
    /// The Okta id starts with the text (Okta ids are case-sensitive).
    OktaId,
}

impl SearchBy {
    /// The name in URLs (`username`, `email`, `okta-id`).
    pub fn name(self) -> &'static str {
        match self {
            SearchBy::Username => "username",
            SearchBy::Email => "email",
            SearchBy::OktaId => "okta-id",
        }
    }

    /// The search of a URL's name.
    pub fn parse(s: &str) -> Option<SearchBy> {
        [SearchBy::Username, SearchBy::Email, SearchBy::OktaId]
            .into_iter()
            .find(|b| b.name() == s)
    }

    /// The column and its index's collation.
    fn column(self) -> (&'static str, &'static str) {
        match self {
            SearchBy::Username => ("username", "COLLATE NOCASE"),
            SearchBy::Email => ("email", "COLLATE NOCASE"),
            SearchBy::OktaId => ("okta_id", ""),
        }
    }
}

/// Which users a page of the Users page holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserQuery {
    /// The start of what `by` matches (empty: every user).
    pub text: String,
    /// What the text matches.
    pub by: SearchBy,
    /// Only active (`Some(true)`) or inactive users.
    pub active: Option<bool>,
    /// Only users of this directory.
    pub directory: Option<i64>,
}

/// A page of rows and the cursor of the next (none at the end).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// Where the next page starts (opaque).
    pub next: Option<String>,
}

/// Why a page cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// A cursor this store did not hand out.
    #[error("`cursor` is not one this server handed out")]
    BadCursor,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The page request of a cursor and a limit (cut to [`MAX_LIMIT`]).
fn request<K: Serialize + serde::de::DeserializeOwned>(
    cursor: Option<&str>,
    limit: u32,
) -> Result<PageRequest<K>, AdminError> {
    PageRequest::parse(cursor, limit.clamp(1, MAX_LIMIT)).map_err(|_| AdminError::BadCursor)
}

const USER_SELECT: &str = "SELECT u.rowid, u.key, u.directory_id, d.name, u.username, u.display_name, \
     u.email, u.active, u.okta_id, u.last_login, u.attributes \
     FROM users u JOIN directories d ON d.id = u.directory_id";

/// The search of [`users`]: a range of the searched column's index.
fn users_sql(by: SearchBy) -> String {
    let (col, coll) = by.column();
    format!(
        "{USER_SELECT} WHERE u.{col} >= ?1 {coll} AND u.{col} < ?2 {coll} \
         AND (u.{col} {coll}, u.rowid) > (?1, ?3) \
         AND (?4 IS NULL OR u.active = ?4) AND (?5 IS NULL OR u.directory_id = ?5) \
         ORDER BY u.{col} {coll}, u.rowid LIMIT ?6"
    )
}

fn user_row(r: &Row<'_>) -> rusqlite::Result<(i64, UserRow)> {
    let attributes: String = r.get(10)?;
    Ok((
        r.get(0)?,
        UserRow {
            key: r.get(1)?,
            directory_id: r.get(2)?,
            directory: r.get(3)?,
            username: r.get(4)?,
            display_name: r.get(5)?,
            email: r.get(6)?,
            active: r.get(7)?,
            okta_id: r.get(8)?,
            last_login: r.get(9)?,
            attributes: serde_json::from_str(&attributes).unwrap_or_default(),
        },
    ))
}

/// A page of users matching `q`, ordered by the searched column and then the row: a
/// range of that column's index from the text (or the last row's value) up to the end
/// of the text's prefix, so that the page reads only the rows it shows.
pub fn users(
    conn: &Connection,
    q: &UserQuery,
    cursor: Option<&str>,
    limit: u32,
) -> Result<Page<UserRow>, AdminError> {
    let page = request::<(String, i64)>(cursor, limit)?;
    let (from, after) = match &page.after {
        Some((value, row)) => (value.clone(), *row),
        None => (q.text.clone(), i64::MIN),
    };
    let rows: Vec<(i64, UserRow)> = conn
        .prepare_cached(&users_sql(q.by))
        .and_then(|mut st| {
            st.query_map(
                params![
                    from,
                    format!("{}{TOP}", q.text),
                    after,
                    q.active,
                    q.directory,
                    page.fetch()
                ],
                user_row,
            )?
            .collect()
        })
        .ctx("searching users")?;
    let (rows, next) = page.finish(rows, |(row, u)| {
        let value = match q.by {
            SearchBy::Username => u.username.clone(),
            SearchBy::Email => u.email.clone(),
            SearchBy::OktaId => u.okta_id.clone().unwrap_or_default(),
        };
        (value, *row)
    });
    Ok(Page {
        items: rows.into_iter().map(|(_, u)| u).collect(),
        next,
    })
}

/// The user of key `key`.
pub fn user(conn: &Connection, key: &str) -> Result<Option<UserRow>, DbError> {
    conn.prepare_cached(&format!("{USER_SELECT} WHERE u.key = ?1"))
        .and_then(|mut st| st.query_row([key], user_row).optional())
        .map(|r| r.map(|(_, u)| u))
        .ctx("reading a user")
}

/// The names of the groups user `key` is a member of, by name.
pub fn user_groups(conn: &Connection, key: &str) -> Result<Vec<String>, DbError> {
    conn.prepare_cached(
        "SELECT g.name FROM memberships m JOIN groups g ON g.id = m.group_id \
         WHERE m.user_key = ?1 ORDER BY g.name COLLATE NOCASE",
    )
    .and_then(|mut st| st.query_map([key], |r| r.get(0))?.collect())
    .ctx("reading a user's groups")
}

/// One change to a user, in the run that made it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    /// The run.
    pub run_id: i64,
    /// When the run started (Unix seconds).
    pub at: i64,
    /// What triggered it (`manual`, `schedule`, `api`).
    pub trigger: String,
    /// The change.
    pub change: ChangeEntry,
}

/// A page of a user's history: its index's range, newest run first.
const HISTORY_SQL: &str = "SELECT h.run_id, h.chunk_id, h.position, r.started_at, r.trigger, ch.action, \
     json_extract(ch.changes, '$[' || h.position || ']') \
     FROM user_changes h JOIN runs r ON r.id = h.run_id \
     JOIN run_change_chunks ch ON ch.id = h.chunk_id \
     WHERE h.directory_id = ?1 AND h.username = ?2 COLLATE NOCASE \
     AND (h.run_id, h.chunk_id, h.position) < (?3, ?4, ?5) AND r.status = 'succeeded' \
     ORDER BY h.run_id DESC, h.chunk_id DESC, h.position DESC LIMIT ?6";

/// The changes made to the user named `username` in directory `dir` by applied runs,
/// newest first, a page of runs' changes before `cursor` (a run id).
pub fn history(
    conn: &Connection,
    dir: i64,
    username: &str,
    cursor: Option<&str>,
    limit: u32,
) -> Result<Page<HistoryEntry>, AdminError> {
    let page = request::<(i64, i64, i64)>(cursor, limit)?;
    let (run, chunk, position) = page.after.unwrap_or((i64::MAX, 0, 0));
    type Raw = ((i64, i64, i64), i64, String, String, String);
    let rows: Vec<Raw> = conn
        .prepare_cached(HISTORY_SQL)
        .and_then(|mut st| {
            st.query_map(
                params![dir, username, run, chunk, position, page.fetch()],
                |r| {
                    Ok((
                        (r.get(0)?, r.get(1)?, r.get(2)?),
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                },
            )?
            .collect()
        })
        .ctx("reading a user's history")?;
    let (rows, next) = page.finish(rows, |(at, ..)| *at);
    let items = rows
        .into_iter()
        .map(|((run_id, ..), at, trigger, action, json)| {
            super::run_changes::decode_one(&action, &json).map(|change| HistoryEntry {
                run_id,
                at,
                trigger,
                change,
            })
        })
        .collect::<rusqlite::Result<_>>()
        .ctx("reading a user's history")?;
    Ok(Page { items, next })
}

/// A group as the Groups page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupRow {
    /// The group's id.
    pub id: i64,
    /// Its directory's id.
    pub directory_id: i64,
    /// Its directory's name.
    pub directory: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// The Okta group id, for groups of an Okta directory.
    pub okta_id: Option<String>,
    /// Members.
    pub members: u64,
}

const GROUP_SELECT: &str = "SELECT g.id, g.directory_id, d.name, g.name, g.description, g.okta_id, \
     (SELECT count(*) FROM memberships m WHERE m.group_id = g.id) \
     FROM groups g JOIN directories d ON d.id = g.directory_id";

/// A page of [`groups`]: after the last (directory, name), on the groups' unique index.
fn groups_sql() -> String {
    format!(
        "{GROUP_SELECT} WHERE (g.directory_id, g.name COLLATE NOCASE) > (?1, ?2) \
         AND (?3 IS NULL OR g.directory_id = ?3) \
         AND g.name >= ?4 COLLATE NOCASE AND g.name < ?5 COLLATE NOCASE \
         ORDER BY g.directory_id, g.name COLLATE NOCASE LIMIT ?6"
    )
}

/// A page of [`members`]: the group's memberships after the last key.
fn members_sql() -> String {
    format!(
        "{USER_SELECT} JOIN memberships m ON m.user_key = u.key \
         WHERE m.group_id = ?1 AND m.user_key > ?2 ORDER BY m.user_key LIMIT ?3"
    )
}

fn group_row(r: &Row<'_>) -> rusqlite::Result<GroupRow> {
    Ok(GroupRow {
        id: r.get(0)?,
        directory_id: r.get(1)?,
        directory: r.get(2)?,
        name: r.get(3)?,
        description: r.get(4)?,
        okta_id: r.get(5)?,
        members: r.get(6)?,
    })
}

/// A page of the groups whose name starts with `text` (case-insensitive), of one
/// directory or all, by directory and name (the order of the groups' unique index).
pub fn groups(
    conn: &Connection,
    text: &str,
    directory: Option<i64>,
    cursor: Option<&str>,
    limit: u32,
) -> Result<Page<GroupRow>, AdminError> {
    let page = request::<(i64, String)>(cursor, limit)?;
    let (dir, name) = page.after.clone().unwrap_or((i64::MIN, String::new()));
    let rows = conn
        .prepare_cached(&groups_sql())
        .and_then(|mut st| {
            st.query_map(
                params![
                    dir,
                    name,
                    directory,
                    text,
                    format!("{text}{TOP}"),
                    page.fetch()
                ],
                group_row,
            )?
            .collect()
        })
        .ctx("listing groups")?;
    let (items, next) = page.finish(rows, |g: &GroupRow| (g.directory_id, g.name.clone()));
    Ok(Page { items, next })
}

/// The group of id `id`.
pub fn group(conn: &Connection, id: i64) -> Result<Option<GroupRow>, DbError> {
    conn.prepare_cached(&format!("{GROUP_SELECT} WHERE g.id = ?1"))
        .and_then(|mut st| st.query_row([id], group_row).optional())
        .ctx("reading a group")
}

/// A page of the members of group `id`, by user key (the memberships' primary key).
pub fn members(
    conn: &Connection,
    id: i64,
    cursor: Option<&str>,
    limit: u32,
) -> Result<Page<UserRow>, AdminError> {
    let page = request::<String>(cursor, limit)?;
    let after = page.after.clone().unwrap_or_default();
    let rows: Vec<(i64, UserRow)> = conn
        .prepare_cached(&members_sql())
        .and_then(|mut st| {
            st.query_map(params![id, after, page.fetch()], user_row)?
                .collect()
        })
        .ctx("listing a group's members")?;
    let (rows, next) = page.finish(rows, |(_, u)| u.key.clone());
    Ok(Page {
        items: rows.into_iter().map(|(_, u)| u).collect(),
        next,
    })
}

/// A user directory as the User directories page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryRow {
    /// Its id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// `internal`, `okta`, `ldap` or `other`.
    pub kind: String,
    /// Its place in the order, 0 first: a username held in several directories is the
    /// user of the first.
    pub position: u32,
    /// The connector that syncs it, if any.
    pub connector: Option<String>,
    /// Its users.
    pub users: u64,
    /// Its groups.
    pub groups: u64,
}

/// Every directory in order, with its counts (each counted on an index alone: the
/// users' `(directory_id, key)`, the groups' `(directory_id, name)`).
pub fn directories(conn: &Connection) -> Result<Vec<DirectoryRow>, DbError> {
    conn.prepare_cached(
        "SELECT d.id, d.name, d.kind, d.position, \
         (SELECT c.name FROM connectors c WHERE c.directory_id = d.id), \
         (SELECT count(*) FROM users u WHERE u.directory_id = d.id), \
         (SELECT count(*) FROM groups g WHERE g.directory_id = d.id) \
         FROM directories d ORDER BY d.position, d.id",
    )
    .and_then(|mut st| {
        st.query_map([], |r| {
            Ok(DirectoryRow {
                id: r.get(0)?,
                name: r.get(1)?,
                kind: r.get(2)?,
                position: r.get(3)?,
                connector: r.get(4)?,
                users: r.get(5)?,
                groups: r.get(6)?,
            })
        })?
        .collect()
    })
    .ctx("listing directories")
}

/// Every directory's id and name, in order (the pages' directory filter).
pub fn directory_names(conn: &Connection) -> Result<Vec<(i64, String)>, DbError> {
    conn.prepare_cached("SELECT id, name FROM directories ORDER BY position, id")
        .and_then(|mut st| st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .ctx("listing directories")
}

/// Which way a directory moves in the order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Before the one before it.
    Up,
    /// After the one after it.
    Down,
}

impl Direction {
    /// `up` or `down`.
    pub fn parse(s: &str) -> Option<Direction> {
        match s {
            "up" => Some(Direction::Up),
            "down" => Some(Direction::Down),
            _ => None,
        }
    }

    /// `up` or `down`.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

/// A username whose effective user (the one of the earliest directory holding it)
/// would change with a move.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Switch {
    /// The username.
    pub username: String,
    /// The key of its effective user now.
    pub from_key: String,
    /// The directory of that user.
    pub from_directory: String,
    /// The key of its effective user after the move.
    pub to_key: String,
    /// That user's directory.
    pub to_directory: String,
}

/// What moving a directory changes: the order after it and the usernames whose user
/// changes (the first `shown` of them, and how many in all).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Move {
    /// The directory moved.
    pub directory: DirectoryRow,
    /// Up or down.
    pub direction: &'static str,
    /// The directory it trades places with (none: it is already first or last).
    pub swapped_with: Option<DirectoryRow>,
    /// The usernames whose effective user changes, by username (at most `shown`).
    pub switches: Vec<Switch>,
    /// How many usernames change in all.
    pub total: u64,
}

/// What moving directory `id` one place `direction` would change (none: no such
/// directory); `shown` caps the usernames listed.
pub fn plan_move(
    conn: &Connection,
    id: i64,
    direction: Direction,
    shown: u32,
) -> Result<Option<Move>, DbError> {
    let list = directories(conn)?;
    let Some(at) = list.iter().position(|d| d.id == id) else {
        return Ok(None);
    };
    let other = match direction {
        Direction::Up => at.checked_sub(1),
        Direction::Down => Some(at + 1).filter(|i| *i < list.len()),
    };
    let Some(other) = other else {
        return Ok(Some(Move {
            directory: list[at].clone(),
            direction: direction.name(),
            swapped_with: None,
            switches: Vec::new(),
            total: 0,
        }));
    };
    // The earlier of the two now wins their shared usernames; after the move, the other.
    let (first, second) = (at.min(other), at.max(other));
    let (switches, total) = shared(conn, &list, first, second, shown)?;
    Ok(Some(Move {
        directory: list[at].clone(),
        direction: direction.name(),
        swapped_with: Some(list[other].clone()),
        switches,
        total,
    }))
}

/// The usernames of both `list[first]` and `list[second]` (adjacent) that no earlier
/// directory holds: the first `shown` by username, and their count.
fn shared(
    conn: &Connection,
    list: &[DirectoryRow],
    first: usize,
    second: usize,
    shown: u32,
) -> Result<(Vec<Switch>, u64), DbError> {
    let earlier: Vec<i64> = list[..first].iter().map(|d| d.id).collect();
    let earlier = serde_json::to_string(&earlier).expect("ids serialize");
    let from = " FROM users a JOIN users b ON b.directory_id = ?2 AND b.username = a.username COLLATE NOCASE \
         WHERE a.directory_id = ?1 AND NOT EXISTS (SELECT 1 FROM users e WHERE e.username = a.username COLLATE NOCASE \
         AND e.directory_id IN (SELECT value FROM json_each(?3)))";
    let (a, b) = (list[first].id, list[second].id);
    let total: u64 = conn
        .query_row(
            &format!("SELECT count(*){from}"),
            params![a, b, earlier],
            |r| r.get(0),
        )
        .ctx("counting shared usernames")?;
    let switches = conn
        .prepare(&format!(
            "SELECT a.username, a.key, b.key{from} ORDER BY a.username COLLATE NOCASE LIMIT ?4"
        ))
        .and_then(|mut st| {
            st.query_map(params![a, b, earlier, shown], |r| {
                Ok(Switch {
                    username: r.get(0)?,
                    from_key: r.get(1)?,
                    from_directory: list[first].name.clone(),
                    to_key: r.get(2)?,
                    to_directory: list[second].name.clone(),
                })
            })?
            .collect()
        })
        .ctx("listing shared usernames")?;
    Ok((switches, total))
}

/// Move directory `id` one place `direction` (renumbering the order 0, 1, ...), in
/// one transaction; what changed, as [`plan_move`] said it (none: no such directory).
pub fn move_directory(
    conn: &mut Connection,
    id: i64,
    direction: Direction,
    shown: u32,
) -> Result<Option<Move>, DbError> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .ctx("starting the move")?;
    let Some(planned) = plan_move(&tx, id, direction, shown)? else {
        return Ok(None);
    };
    if let Some(other) = &planned.swapped_with {
        let mut order: Vec<i64> = directories(&tx)?.iter().map(|d| d.id).collect();
        let (a, b) = (
            order.iter().position(|d| *d == id).expect("listed"),
            order.iter().position(|d| *d == other.id).expect("listed"),
        );
        order.swap(a, b);
        for (position, dir) in order.iter().enumerate() {
            tx.execute(
                "UPDATE directories SET position = ?2 WHERE id = ?1",
                params![dir, position as i64],
            )
            .ctx("moving a directory")?;
        }
    }
    tx.commit().ctx("committing the move")?;
    Ok(Some(planned))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::product::db::{Db, directory};

    fn add_user(conn: &Connection, dir: i64, key: &str, username: &str, active: bool) {
        conn.execute(
            "INSERT INTO users (key, directory_id, username, display_name, email, active, okta_id) \
             VALUES (?1, ?2, ?3, ?3, ?3 || '@example.com', ?4, '00u' || ?1)",
            params![key, dir, username, active],
        )
        .unwrap();
    }

    fn store() -> Db {
        let db = Db::in_memory().unwrap();
        {
            let conn = db.lock();
            let okta = directory::create_directory(&conn, "Okta: acme", "okta").unwrap();
            for i in 0..25 {
                add_user(
                    &conn,
                    okta,
                    &format!("K{i:02}"),
                    &format!("user{i:02}"),
                    i % 5 != 0,
                );
            }
            add_user(&conn, 1, "I01", "User03", true);
            add_user(&conn, 1, "I02", "admin", true);
        }
        db
    }

    fn all_pages(db: &Db, q: &UserQuery, limit: u32) -> Vec<Vec<String>> {
        let mut pages = Vec::new();
        let mut cursor = None;
        loop {
            let page = users(&db.lock(), q, cursor.as_deref(), limit).unwrap();
            pages.push(page.items.iter().map(|u| u.key.clone()).collect());
            match page.next {
                Some(n) => cursor = Some(n),
                None => return pages,
            }
        }
    }

    #[test]
    fn users_page_by_prefix_with_the_active_filter_and_end_where_the_matches_do() {
        let db = store();
        let q = UserQuery {
            text: "USER0".into(),
            by: SearchBy::Username,
            active: None,
            directory: None,
        };
        let pages = all_pages(&db, &q, 4);
        assert_eq!(
            pages,
            [
                vec!["K00", "K01", "K02", "K03"],
                vec!["I01", "K04", "K05", "K06"],
                vec!["K07", "K08", "K09"],
            ]
        );
        let inactive = all_pages(
            &db,
            &UserQuery {
                active: Some(false),
                text: String::new(),
                ..q.clone()
            },
            2,
        );
        assert_eq!(
            inactive,
            [vec!["K00", "K05"], vec!["K10", "K15"], vec!["K20"]]
        );
        let by_okta = all_pages(
            &db,
            &UserQuery {
                text: "00uK1".into(),
                by: SearchBy::OktaId,
                ..q
            },
            100,
        );
        assert_eq!(by_okta[0].len(), 10);
        assert!(matches!(
            users(
                &db.lock(),
                &UserQuery {
                    text: String::new(),
                    by: SearchBy::Email,
                    active: None,
                    directory: None
                },
                Some("nope"),
                5
            ),
            Err(AdminError::BadCursor)
        ));
    }

    /// The query plan's steps of `sql` (its parameters unbound: NULL).
    fn plan(conn: &Connection, sql: &str) -> Vec<String> {
        let mut st = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let n = st.parameter_count();
        st.query_map(
            rusqlite::params_from_iter(std::iter::repeat_n(rusqlite::types::Null, n)),
            |r| r.get::<_, String>(3),
        )
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
    }

    #[test]
    fn every_page_is_a_range_of_an_index_never_a_scan_of_a_table() {
        let db = store();
        let conn = db.lock();
        let reads = [
            (
                "users by username",
                users_sql(SearchBy::Username),
                "users_by_username",
            ),
            (
                "users by email",
                users_sql(SearchBy::Email),
                "users_by_email",
            ),
            (
                "users by Okta id",
                users_sql(SearchBy::OktaId),
                "users_by_okta_id",
            ),
            ("groups", groups_sql(), "sqlite_autoindex_groups_1"),
            (
                "members",
                members_sql(),
                "PRIMARY KEY (group_id=? AND user_key>?)",
            ),
            ("history", HISTORY_SQL.to_string(), "user_changes_by_user"),
        ];
        for (what, sql, index) in reads {
            let steps = plan(&conn, &sql);
            assert!(
                steps
                    .iter()
                    .any(|s| s.starts_with("SEARCH") && s.contains(index)),
                "{what}: {steps:?}"
            );
            assert!(
                !steps
                    .iter()
                    .any(|s| s.starts_with("SCAN") || s.contains("TEMP B-TREE")),
                "{what} scans or sorts: {steps:?}"
            );
        }
    }

    #[test]
    fn a_move_lists_the_usernames_whose_user_changes_and_renumbers_the_order() {
        let db = store();
        let mut conn = db.lock();
        let planned = plan_move(&conn, 2, Direction::Up, 10).unwrap().unwrap();
        assert_eq!(planned.total, 1);
        assert_eq!(
            planned.switches,
            [Switch {
                username: "User03".into(),
                from_key: "I01".into(),
                from_directory: "Internal Directory".into(),
                to_key: "K03".into(),
                to_directory: "Okta: acme".into(),
            }]
        );
        let first = plan_move(&conn, 1, Direction::Up, 10).unwrap().unwrap();
        assert!(first.swapped_with.is_none() && first.total == 0);
        move_directory(&mut conn, 2, Direction::Up, 10).unwrap();
        let order: Vec<(i64, u32)> = directories(&conn)
            .unwrap()
            .iter()
            .map(|d| (d.id, d.position))
            .collect();
        assert_eq!(order, [(2, 0), (1, 1)]);
        assert!(plan_move(&conn, 9, Direction::Down, 10).unwrap().is_none());
    }
}
