//! The product's user directory in SQLite: what the WIT `user-store` interface reads and
//! writes. Reads are paged (by user key, by group name, by group then member key) with
//! opaque cursors, so that no read holds a whole directory. A sync's changes are
//! applied in one transaction (in one or more batches): all or nothing.

use super::{Context, DbError};
use crate::host::bindings::store::{
    ApplyResult, Change, Directory, DirectoryKind, Group, GroupPage, Membership, MembershipPage,
    NewUser, StoreError, User, UserPage,
};
use crate::host::bindings::types::Attribute;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// The columns `user_from_row` reads, in order.
const USER_COLUMNS: &str =
    "key, directory_id, username, display_name, email, active, okta_id, attributes, last_login";

/// Most rows one page holds, whatever the caller asks for.
pub const MAX_PAGE: u32 = 10_000;

fn kind_of(s: &str) -> DirectoryKind {
    match s {
        "internal" => DirectoryKind::Internal,
        "okta" => DirectoryKind::Okta,
        "ldap" => DirectoryKind::Ldap,
        _ => DirectoryKind::Other,
    }
}

/// Parse a WIT directory id.
pub fn directory_id(id: &str) -> Result<i64, StoreError> {
    id.parse()
        .map_err(|_| StoreError::NotFound(format!("directory `{id}`")))
}

/// Where a page starts (after the position a cursor names) and how many rows it holds.
/// Cursors are the last position of the page before, as base64url JSON: opaque to the
/// plugin, and any text (a name with commas or quotes) survives them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest<K> {
    /// The position after which the page starts (none: the first page).
    pub after: Option<K>,
    /// Most rows in the page (at least 1).
    pub limit: usize,
}

impl<K: Serialize + DeserializeOwned> PageRequest<K> {
    /// The page a `user-store` read asks for; a cursor this store did not hand out, or a
    /// limit of 0, is refused as `invalid`. Limits above [`MAX_PAGE`] get [`MAX_PAGE`].
    pub fn parse(after: Option<&str>, limit: u32) -> Result<Self, StoreError> {
        if limit == 0 {
            return Err(StoreError::Invalid(
                "a page limit must be at least 1".into(),
            ));
        }
        let after = after
            .map(|c| {
                URL_SAFE_NO_PAD
                    .decode(c)
                    .ok()
                    .and_then(|json| serde_json::from_slice(&json).ok())
                    .ok_or_else(|| {
                        StoreError::Invalid(format!(
                            "`{}` is not a cursor this store handed out",
                            c.chars().take(80).collect::<String>()
                        ))
                    })
            })
            .transpose()?;
        Ok(PageRequest {
            after,
            limit: limit.min(MAX_PAGE) as usize,
        })
    }

    /// Every row at once (tests, exports).
    pub fn all() -> Self {
        PageRequest {
            after: None,
            limit: u32::MAX as usize,
        }
    }

    /// Cut `rows` (read with [`Self::fetch`] rows, one more than the page) to the page,
    /// and the cursor of the next page if there is one.
    pub(crate) fn finish<T>(
        &self,
        mut rows: Vec<T>,
        position: impl Fn(&T) -> K,
    ) -> (Vec<T>, Option<String>) {
        if rows.len() <= self.limit {
            return (rows, None);
        }
        rows.truncate(self.limit);
        let last = position(rows.last().expect("limit is at least 1"));
        let json = serde_json::to_vec(&last).expect("a cursor serializes");
        (rows, Some(URL_SAFE_NO_PAD.encode(json)))
    }

    /// Rows to read for the page: one more than it holds, to know if another follows.
    pub(crate) fn fetch(&self) -> i64 {
        self.limit as i64 + 1
    }
}

fn attributes_from_json(s: &str) -> Vec<Attribute> {
    let map: std::collections::BTreeMap<String, String> =
        serde_json::from_str(s).unwrap_or_default();
    map.into_iter()
        .map(|(name, value)| Attribute { name, value })
        .collect()
}

fn attributes_to_json(a: &[Attribute]) -> String {
    let map: std::collections::BTreeMap<&str, &str> = a
        .iter()
        .map(|a| (a.name.as_str(), a.value.as_str()))
        .collect();
    serde_json::to_string(&map).expect("string map serializes")
}

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        key: r.get(0)?,
        directory: r.get::<_, i64>(1)?.to_string(),
        username: r.get(2)?,
        display_name: r.get(3)?,
        email: r.get(4)?,
        active: r.get(5)?,
        okta_id: r.get(6)?,
        attributes: attributes_from_json(&r.get::<_, String>(7)?),
        last_login: r.get(8)?,
    })
}

fn group_from_row(r: &Row<'_>) -> rusqlite::Result<Group> {
    Ok(Group {
        name: r.get(0)?,
        description: r.get(1)?,
        okta_id: r.get(2)?,
    })
}

/// Run `sql` with `args` and collect its rows; `what` names the read in errors.
fn rows<T>(
    conn: &Connection,
    what: &str,
    sql: &str,
    args: impl rusqlite::Params,
    f: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, DbError> {
    conn.prepare_cached(sql)
        .and_then(|mut st| st.query_map(args, f)?.collect())
        .ctx(what)
}

fn users_where(
    conn: &Connection,
    clause: &str,
    arg: &dyn rusqlite::ToSql,
) -> Result<Vec<User>, DbError> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u JOIN directories d ON d.id = u.directory_id WHERE {clause} ORDER BY d.position, u.key"
    );
    rows(conn, "looking up users", &sql, [arg], user_from_row)
}

/// All directories in order.
pub fn directories(conn: &Connection) -> Result<Vec<Directory>, DbError> {
    let sql = "SELECT id, name, kind, position FROM directories ORDER BY position, id";
    rows(conn, "listing directories", sql, [], |r| {
        Ok(Directory {
            id: r.get::<_, i64>(0)?.to_string(),
            name: r.get(1)?,
            kind: kind_of(&r.get::<_, String>(2)?),
            position: r.get(3)?,
        })
    })
}

/// Create a directory at the end of the order.
pub fn create_directory(conn: &Connection, name: &str, kind: &str) -> Result<i64, DbError> {
    conn.execute(
        "INSERT INTO directories (name, kind, position) VALUES (?1, ?2, (SELECT COALESCE(MAX(position), -1) + 1 FROM directories))",
        params![name, kind],
    )
    .ctx("creating a directory")?;
    Ok(conn.last_insert_rowid())
}

/// A page of the users of `dir`, by key.
pub fn list_users(
    conn: &Connection,
    dir: i64,
    page: &PageRequest<String>,
) -> Result<UserPage, DbError> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users WHERE directory_id = ?1 AND (?2 IS NULL OR key > ?2) \
         ORDER BY key LIMIT ?3"
    );
    let users = rows(
        conn,
        "listing users",
        &sql,
        params![dir, page.after, page.fetch()],
        user_from_row,
    )?;
    let (users, next) = page.finish(users, |u| u.key.clone());
    Ok(UserPage { users, next })
}

/// A page of the groups of `dir`, by name (byte-wise, as SQLite's BINARY collation).
pub fn list_groups(
    conn: &Connection,
    dir: i64,
    page: &PageRequest<String>,
) -> Result<GroupPage, DbError> {
    let sql = "SELECT name, description, okta_id FROM groups                WHERE directory_id = ?1 AND (?2 IS NULL OR name > ?2) ORDER BY name LIMIT ?3";
    let groups = rows(
        conn,
        "listing groups",
        sql,
        params![dir, page.after, page.fetch()],
        group_from_row,
    )?;
    let (groups, next) = page.finish(groups, |g| g.name.clone());
    Ok(GroupPage { groups, next })
}

/// Up to `limit` members of group `id` after `after` as `sql` selects them (one text
/// column, the group id, the position after which to start and the limit as parameters).
fn members(
    conn: &Connection,
    sql: &str,
    id: i64,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<String>, DbError> {
    rows(
        conn,
        "listing memberships",
        sql,
        params![id, after, limit],
        |r| r.get(0),
    )
}

/// The usernames of a group's members, ascending. A member may be a user of another
/// directory (migrated users keep memberships).
const MEMBER_NAMES: &str = "SELECT u.username FROM memberships m \
    JOIN users u INDEXED BY users_key_username ON u.key = m.user_key \
    WHERE m.group_id = ?1 AND u.username > coalesce(?2, '') ORDER BY u.username LIMIT ?3";

/// The keys of a group's members, ascending: a range of the memberships' primary key,
/// nothing sorted however large the group.
const MEMBER_KEYS: &str = "SELECT user_key FROM memberships \
    WHERE group_id = ?1 AND user_key > coalesce(?2, '') ORDER BY user_key LIMIT ?3";

/// The usernames of one directory's users, by key: read once for a whole paged read of
/// its memberships, so that a page maps each member's key in memory instead of looking
/// it up in SQLite (a million lookups take seconds; this map of 100,000 users ~10 MB).
/// Valid until the directory is written to.
#[derive(Debug)]
pub struct Usernames {
    dir: i64,
    by_key: HashMap<String, String>,
}

impl Usernames {
    /// The usernames of directory `dir`.
    pub fn of(conn: &Connection, dir: i64) -> Result<Self, DbError> {
        let sql = "SELECT key, username FROM users WHERE directory_id = ?1";
        let pairs: Vec<(String, String)> = rows(conn, "listing usernames", sql, [dir], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(Usernames {
            dir,
            by_key: pairs.into_iter().collect(),
        })
    }

    /// The directory these are the usernames of.
    pub fn directory(&self) -> i64 {
        self.dir
    }

    /// The username of the user `key`: from the map, or, for a member of another
    /// directory (migrated users keep their memberships), from SQLite.
    fn get(&self, conn: &Connection, key: &str) -> Result<String, DbError> {
        if let Some(name) = self.by_key.get(key) {
            return Ok(name.clone());
        }
        conn.prepare_cached("SELECT username FROM users WHERE key = ?1")
            .and_then(|mut st| st.query_row([key], |r| r.get(0)))
            .ctx("finding a member's username")
    }
}

/// A page of the memberships of `dir`, by group name (byte-wise), then member key: the
/// groups from the cursor's on, read one at a time until the page is full, and each
/// group's members by key (an index range), named from `names` (of `dir`). The cursor
/// is the last (group, key).
pub fn list_memberships(
    conn: &Connection,
    dir: i64,
    page: &PageRequest<(String, String)>,
    names: &Usernames,
) -> Result<MembershipPage, DbError> {
    debug_assert_eq!(names.dir, dir, "usernames of another directory");
    let (from, after_key) = match &page.after {
        Some((group, key)) => (Some(group.as_str()), Some(key.as_str())),
        None => (None, None),
    };
    let mut st = conn
        .prepare_cached(
            "SELECT id, name FROM groups WHERE directory_id = ?1 AND name >= coalesce(?2, '') ORDER BY name",
        )
        .ctx("listing groups")?;
    let mut groups = st.query(params![dir, from]).ctx("listing groups")?;
    let mut out: Vec<(String, Membership)> = Vec::new();
    while out.len() <= page.limit {
        let Some(row) = groups.next().ctx("listing groups")? else {
            break;
        };
        let id: i64 = row.get(0).ctx("listing groups")?;
        let group: String = row.get(1).ctx("listing groups")?;
        let after = after_key.filter(|_| from == Some(group.as_str()));
        let room = page.fetch() - out.len() as i64;
        for key in members(conn, MEMBER_KEYS, id, after, room)? {
            let username = names.get(conn, &key)?;
            let group = group.clone();
            out.push((key, Membership { username, group }));
        }
    }
    let (out, next) = page.finish(out, |(key, m)| (m.group.clone(), key.clone()));
    let memberships = out.into_iter().map(|(_, m)| m).collect();
    Ok(MembershipPage { memberships, next })
}

/// A page of the members of group `group` of `dir` (found case-insensitively), by
/// username; `Ok(None)` if there is no such group.
pub fn group_members(
    conn: &Connection,
    dir: i64,
    group: &str,
    page: &PageRequest<String>,
) -> Result<Option<MembershipPage>, DbError> {
    let found: Option<(i64, String)> = conn
        .prepare_cached(
            "SELECT id, name FROM groups WHERE directory_id = ?1 AND name = ?2 COLLATE NOCASE",
        )
        .and_then(|mut st| {
            st.query_row(params![dir, group], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .ctx("finding a group")?;
    let Some((id, name)) = found else {
        return Ok(None);
    };
    let names = members(conn, MEMBER_NAMES, id, page.after.as_deref(), page.fetch())?;
    let memberships = names
        .into_iter()
        .map(|username| Membership {
            username,
            group: name.clone(),
        })
        .collect();
    let (memberships, next) = page.finish(memberships, |m: &Membership| m.username.clone());
    Ok(Some(MembershipPage { memberships, next }))
}

/// Everything one directory holds (tests and the bench compare stores with it).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DirectorySnapshot {
    /// The users, by key.
    pub users: Vec<User>,
    /// The groups, by name.
    pub groups: Vec<Group>,
    /// The memberships, by group, then member key.
    pub memberships: Vec<Membership>,
}

/// Everything in one directory, read with the paged reads in one page each.
pub fn snapshot(conn: &Connection, dir: i64) -> Result<DirectorySnapshot, DbError> {
    let names = Usernames::of(conn, dir)?;
    Ok(DirectorySnapshot {
        users: list_users(conn, dir, &PageRequest::all())?.users,
        groups: list_groups(conn, dir, &PageRequest::all())?.groups,
        memberships: list_memberships(conn, dir, &PageRequest::all(), &names)?.memberships,
    })
}

/// Users with this username, any directory, in directory order.
pub fn find_by_username(conn: &Connection, username: &str) -> Result<Vec<User>, DbError> {
    users_where(conn, "u.username = ?1 COLLATE NOCASE", &username)
}

/// Users with this email, any directory, in directory order.
pub fn find_by_email(conn: &Connection, email: &str) -> Result<Vec<User>, DbError> {
    users_where(conn, "u.email = ?1 COLLATE NOCASE", &email)
}

/// The user synced from this Okta id.
pub fn find_by_okta_id(conn: &Connection, okta_id: &str) -> Result<Option<User>, DbError> {
    Ok(users_where(conn, "u.okta_id = ?1", &okta_id)?
        .into_iter()
        .next())
}

/// Group names of `dir` that `username` belongs to.
pub fn user_memberships(
    conn: &Connection,
    dir: i64,
    username: &str,
) -> Result<Vec<String>, DbError> {
    let mut st = conn
        .prepare_cached(
            "SELECT g.name FROM memberships m JOIN groups g ON g.id = m.group_id JOIN users u ON u.key = m.user_key \
             WHERE g.directory_id = ?1 AND u.directory_id = ?1 AND u.username = ?2 COLLATE NOCASE ORDER BY g.name",
        )
        .ctx("listing a user's groups")?;
    st.query_map(params![dir, username], |r| r.get(0))
        .ctx("listing a user's groups")?
        .collect::<Result<_, _>>()
        .ctx("reading groups")
}

/// Record that `username` of `dir` logged in at `at` (Unix seconds).
pub fn record_login(conn: &Connection, dir: i64, username: &str, at: i64) -> Result<(), DbError> {
    conn.prepare_cached(
        "UPDATE users SET last_login = ?3 WHERE directory_id = ?1 AND username = ?2 COLLATE NOCASE",
    )
    .and_then(|mut st| st.execute(params![dir, username, at]))
    .ctx("recording a login")?;
    Ok(())
}

/// Those of `names` that exist as groups of `dir`.
pub fn find_groups(conn: &Connection, dir: i64, names: &[String]) -> Result<Vec<Group>, DbError> {
    let mut st = conn
        .prepare_cached("SELECT name, description, okta_id FROM groups WHERE directory_id = ?1 AND name = ?2 COLLATE NOCASE")
        .ctx("finding groups")?;
    let mut out = Vec::new();
    for n in names {
        if let Some(g) = st
            .query_row(params![dir, n], |r| {
                Ok(Group {
                    name: r.get(0)?,
                    description: r.get(1)?,
                    okta_id: r.get(2)?,
                })
            })
            .optional()
            .ctx("finding a group")?
        {
            out.push(g);
        }
    }
    Ok(out)
}

/// Map a SQLite failure to the WIT error a guest can act on.
pub fn store_error(e: &DbError) -> StoreError {
    use rusqlite::ErrorCode as C;
    let msg = e.to_string();
    match e.source.sqlite_error_code() {
        Some(C::ConstraintViolation) => StoreError::Conflict(msg),
        Some(C::DatabaseBusy | C::DatabaseLocked) => StoreError::Busy(msg),
        _ => StoreError::Failure(msg),
    }
}

/// Apply a batch to one directory in a single transaction. On any error nothing is
/// written. `key_prefix` starts new user keys (e.g. `JIRAUSER`).
pub fn apply(
    conn: &mut Connection,
    dir: i64,
    changes: &[Change],
    key_prefix: &str,
) -> Result<ApplyResult, StoreError> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(failed("starting the apply transaction"))?;
    let result = OpenApply::new(&tx, dir)?.batch(&tx, changes, key_prefix)?;
    tx.commit().map_err(failed("committing"))?;
    Ok(result)
}

/// An apply in progress: one or more batches of changes to one directory, inside a
/// transaction the caller holds (and rolls back when a batch fails: a failed batch may
/// have written part of itself).
pub struct OpenApply {
    dir: i64,
    names: Names,
    /// Batches applied, and changes in them.
    batches: usize,
    applied: usize,
}

impl std::fmt::Debug for OpenApply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenApply")
            .field("dir", &self.dir)
            .field("batches", &self.batches)
            .field("applied", &self.applied)
            .finish_non_exhaustive()
    }
}

fn failed(context: &str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| {
        store_error(&DbError {
            context: context.into(),
            source,
        })
    }
}

impl OpenApply {
    /// An apply to directory `dir`, which must exist.
    pub fn new(conn: &Connection, dir: i64) -> Result<OpenApply, StoreError> {
        conn.query_row("SELECT id FROM directories WHERE id = ?1", [dir], |r| {
            r.get::<_, i64>(0)
        })
        .optional()
        .map_err(failed("checking the directory"))?
        .ok_or_else(|| StoreError::NotFound(format!("directory {dir}")))?;
        Ok(OpenApply {
            dir,
            names: Names::default(),
            batches: 0,
            applied: 0,
        })
    }

    /// The directory the apply writes to.
    pub fn directory(&self) -> i64 {
        self.dir
    }

    /// Apply one batch; an error names the change that failed, counted over the apply.
    pub fn batch(
        &mut self,
        conn: &Connection,
        changes: &[Change],
        key_prefix: &str,
    ) -> Result<ApplyResult, StoreError> {
        let mut result = ApplyResult {
            writes: 0,
            created: Vec::new(),
        };
        for (i, c) in changes.iter().enumerate() {
            let applied = apply_one(
                conn,
                self.dir,
                c,
                key_prefix,
                &mut result.created,
                &mut self.names,
            );
            match applied {
                Ok(n) => result.writes += n as u32,
                Err(Applied::Store(e)) => return Err(e),
                Err(Applied::Db(e)) => {
                    return Err(store_error(&DbError {
                        context: format!(
                            "change {} of the apply ({} of {} in batch {})",
                            self.applied + i + 1,
                            i + 1,
                            changes.len(),
                            self.batches + 1
                        ),
                        source: e,
                    }));
                }
            }
        }
        self.batches += 1;
        self.applied += changes.len();
        Ok(result)
    }
}

enum Applied {
    Store(StoreError),
    Db(rusqlite::Error),
}

impl From<rusqlite::Error> for Applied {
    fn from(e: rusqlite::Error) -> Self {
        Applied::Db(e)
    }
}

/// The user keys and group ids of the batch's directory looked up so far, by name as
/// SQLite's `NOCASE` compares it (ASCII case folded). A batch of a first sync names each
/// user and group in many memberships: one query per name instead of two per change.
/// Only names that exist are remembered; a change that renames or deletes users or
/// deletes groups forgets what it could make wrong.
#[derive(Default)]
struct Names {
    users: HashMap<String, String>,
    groups: HashMap<String, i64>,
}

fn nocase(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// `name` as [`nocase`] keys it, without a copy when it has no ASCII capitals.
fn nocase_key(name: &str) -> std::borrow::Cow<'_, str> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(nocase(name))
    } else {
        std::borrow::Cow::Borrowed(name)
    }
}

fn user_key(
    tx: &Connection,
    dir: i64,
    username: &str,
    names: &mut Names,
) -> Result<String, Applied> {
    if let Some(key) = names.users.get(nocase_key(username).as_ref()) {
        return Ok(key.clone());
    }
    let key: String = tx
        .prepare_cached(
            "SELECT key FROM users WHERE directory_id = ?1 AND username = ?2 COLLATE NOCASE",
        )?
        .query_row(params![dir, username], |r| r.get(0))
        .optional()?
        .ok_or_else(|| {
            Applied::Store(StoreError::NotFound(format!(
                "user `{username}` in directory {dir}"
            )))
        })?;
    names.users.insert(nocase(username), key.clone());
    Ok(key)
}

fn group_id(tx: &Connection, dir: i64, name: &str, names: &mut Names) -> Result<i64, Applied> {
    if let Some(&id) = names.groups.get(nocase_key(name).as_ref()) {
        return Ok(id);
    }
    let id = tx
        .prepare_cached(
            "SELECT id FROM groups WHERE directory_id = ?1 AND name = ?2 COLLATE NOCASE",
        )?
        .query_row(params![dir, name], |r| r.get(0))
        .optional()?
        .ok_or_else(|| {
            Applied::Store(StoreError::NotFound(format!(
                "group `{name}` in directory {dir}"
            )))
        })?;
    names.groups.insert(nocase(name), id);
    Ok(id)
}

fn owned(tx: &Connection, dir: i64, key: &str) -> Result<(), Applied> {
    let d: Option<i64> = tx
        .prepare_cached("SELECT directory_id FROM users WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?;
    match d {
        Some(d) if d == dir => Ok(()),
        Some(_) => Err(Applied::Store(StoreError::Invalid(format!(
            "user {key} belongs to another directory"
        )))),
        None => Err(Applied::Store(StoreError::NotFound(format!("user {key}")))),
    }
}

fn next_key(tx: &Connection, prefix: &str) -> Result<String, Applied> {
    let n: i64 = tx.query_row(
        "INSERT INTO meta (key, value) VALUES ('user_key_seq', '10000') \
         ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING CAST(value AS INTEGER)",
        [],
        |r| r.get(0),
    )?;
    Ok(format!("{prefix}{n}"))
}

fn apply_one(
    tx: &Connection,
    dir: i64,
    c: &Change,
    key_prefix: &str,
    created: &mut Vec<(String, String)>,
    names: &mut Names,
) -> Result<usize, Applied> {
    let invalid = |m: &str| Err(Applied::Store(StoreError::Invalid(m.to_string())));
    Ok(match c {
        Change::CreateUser(u) => create_user(tx, dir, u, key_prefix, created, names)?,
        Change::UpdateUser(u) => {
            owned(tx, dir, &u.key)?;
            if u.username.is_some() {
                names.users.clear();
            }
            let attrs = u.attributes.as_deref().map(attributes_to_json);
            tx.prepare_cached(
                "UPDATE users SET username = COALESCE(?2, username), display_name = COALESCE(?3, display_name), \
                 email = COALESCE(?4, email), active = COALESCE(?5, active), okta_id = COALESCE(?6, okta_id), \
                 attributes = COALESCE(?7, attributes) WHERE key = ?1",
            )?
            .execute(params![u.key, u.username, u.display_name, u.email, u.active, u.okta_id, attrs])?
        }
        Change::AdoptUser(key) => tx
            .prepare_cached("UPDATE users SET directory_id = ?2 WHERE key = ?1")?
            .execute(params![key, dir])?,
        Change::DeleteUser(key) => {
            owned(tx, dir, key)?;
            names.users.clear();
            tx.prepare_cached("DELETE FROM memberships WHERE user_key = ?1")?
                .execute([key])?;
            tx.prepare_cached("DELETE FROM users WHERE key = ?1")?
                .execute([key])?
        }
        Change::CreateGroup(g) => {
            if g.name.trim().is_empty() {
                return invalid("a group needs a name");
            }
            let n = tx.prepare_cached("INSERT INTO groups (directory_id, name, description, okta_id) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![dir, g.name, g.description, g.okta_id])?;
            names.groups.insert(nocase(&g.name), tx.last_insert_rowid());
            n
        }
        Change::UpdateGroup(g) => {
            let id = group_id(tx, dir, &g.name, names)?;
            tx.prepare_cached("UPDATE groups SET description = ?2, okta_id = ?3 WHERE id = ?1")?
                .execute(params![id, g.description, g.okta_id])?
        }
        Change::DeleteGroup(name) => {
            let id = group_id(tx, dir, name, names)?;
            names.groups.clear();
            tx.prepare_cached("DELETE FROM memberships WHERE group_id = ?1")?
                .execute([id])?;
            tx.prepare_cached("DELETE FROM groups WHERE id = ?1")?
                .execute([id])?
        }
        Change::AddMembership(m) => membership(
            tx,
            "INSERT OR IGNORE INTO memberships (group_id, user_key) VALUES (?1, ?2)",
            dir,
            m,
            names,
        )?,
        Change::RemoveMembership(m) => membership(
            tx,
            "DELETE FROM memberships WHERE group_id = ?1 AND user_key = ?2",
            dir,
            m,
            names,
        )?,
    })
}

/// A new user of directory `dir`, keyed from the host's sequence; remembered in `names`
/// and `created` (for the report's keys).
fn create_user(
    tx: &Connection,
    dir: i64,
    u: &NewUser,
    key_prefix: &str,
    created: &mut Vec<(String, String)>,
    names: &mut Names,
) -> Result<usize, Applied> {
    if u.username.trim().is_empty() {
        return Err(Applied::Store(StoreError::Invalid(
            "a user needs a username".into(),
        )));
    }
    let key = next_key(tx, key_prefix)?;
    tx.prepare_cached(
        "INSERT INTO users (key, directory_id, username, display_name, email, active, okta_id, attributes) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        key,
        dir,
        u.username,
        u.display_name,
        u.email,
        u.active,
        u.okta_id,
        attributes_to_json(&u.attributes)
    ])?;
    names.users.insert(nocase(&u.username), key.clone());
    created.push((u.username.clone(), key));
    Ok(1)
}

/// Add or remove (by `sql`, over group id and user key) the membership `m` in directory `dir`.
fn membership(
    tx: &Connection,
    sql: &str,
    dir: i64,
    m: &Membership,
    names: &mut Names,
) -> Result<usize, Applied> {
    let (g, k) = (
        group_id(tx, dir, &m.group, names)?,
        user_key(tx, dir, &m.username, names)?,
    );
    Ok(tx.prepare_cached(sql)?.execute(params![g, k])?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::product::db::Db;

    fn user(name: &str) -> Change {
        Change::CreateUser(crate::host::bindings::store::NewUser {
            username: name.into(),
            display_name: name.into(),
            email: format!("{name}@example.com"),
            active: true,
            okta_id: None,
            attributes: Vec::new(),
        })
    }

    fn group(name: &str) -> Change {
        Change::CreateGroup(Group {
            name: name.into(),
            description: String::new(),
            okta_id: None,
        })
    }

    fn member(username: &str, group: &str) -> Change {
        Change::AddMembership(Membership {
            username: username.into(),
            group: group.into(),
        })
    }

    /// The memberships of `dir` as one query reads them, as (username, group), by group,
    /// then `order` (a column).
    fn by_query_in(conn: &Connection, dir: i64, order: &str) -> Vec<(String, String)> {
        let mut st = conn
            .prepare(&format!(
                "SELECT u.username, g.name FROM memberships m JOIN groups g ON g.id = m.group_id \
                 JOIN users u ON u.key = m.user_key WHERE g.directory_id = ?1 ORDER BY g.name, {order}"
            ))
            .unwrap();
        st.query_map([dir], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn by_query(conn: &Connection, dir: i64) -> Vec<(String, String)> {
        by_query_in(conn, dir, "u.username")
    }

    /// Two directories: groups and users with names that sort differently by case and
    /// bytes, memberships in `a` (one of a user of `b`), none in `b`. Returns (a, b).
    fn mixed_directories(conn: &mut Connection) -> (i64, i64) {
        let a = create_directory(conn, "A", "okta").unwrap();
        let b = create_directory(conn, "B", "other").unwrap();
        let mut changes = vec![
            group("beta"),
            group("Alpha"),
            group("alpha2"),
            group("empty"),
        ];
        for u in ["zed", "Ann", "bob", "ann2", "Émile", "_x"] {
            changes.push(user(u));
        }
        for (u, g) in [
            ("zed", "beta"),
            ("Ann", "beta"),
            ("BOB", "Beta"),
            ("_x", "beta"),
            ("Émile", "ALPHA"),
            ("ann2", "Alpha"),
            ("bob", "alpha2"),
        ] {
            changes.push(member(u, g));
        }
        apply(conn, a, &changes, "K").unwrap();
        // A member from another directory (adopted memberships, migrations).
        apply(conn, b, &[user("carol")], "K").unwrap();
        let carol: String = conn
            .query_row("SELECT key FROM users WHERE username = 'carol'", [], |r| {
                r.get(0)
            })
            .unwrap();
        conn.execute(
            "INSERT INTO memberships (group_id, user_key) SELECT id, ?1 FROM groups WHERE name = 'beta'",
            [&carol],
        )
        .unwrap();
        (a, b)
    }

    #[test]
    fn snapshot_memberships_match_the_sql_join_and_order() {
        let db = Db::in_memory().unwrap();
        let mut conn = db.lock();
        let (a, b) = mixed_directories(&mut conn);
        for dir in [a, b] {
            let snap = snapshot(&conn, dir).unwrap();
            let got: Vec<(String, String)> = snap
                .memberships
                .into_iter()
                .map(|m| (m.username, m.group))
                .collect();
            assert_eq!(got, by_query_in(&conn, dir, "u.key"));
        }
        assert_eq!(snapshot(&conn, a).unwrap().memberships.len(), 8);
    }

    #[test]
    fn paged_reads_join_into_the_same_lists() {
        let db = Db::in_memory().unwrap();
        let mut conn = db.lock();
        let (a, _) = mixed_directories(&mut conn);
        // Read a few at a time, the pages join into the same lists.
        for limit in 1..=9 {
            let got = all_pages(limit, |page| {
                let names = Usernames::of(&conn, a).unwrap();
                let p = list_memberships(&conn, a, page, &names).unwrap();
                let rows = p.memberships.into_iter().map(|m| (m.username, m.group));
                (rows.collect(), p.next)
            });
            assert_eq!(got, by_query_in(&conn, a, "u.key"), "limit {limit}");
            let keys = all_pages(limit, |page| {
                let p = list_users(&conn, a, page).unwrap();
                (p.users.into_iter().map(|u| u.key).collect(), p.next)
            });
            let mut sorted = keys.clone();
            sorted.sort();
            assert_eq!((keys.len(), &keys), (6, &sorted), "limit {limit}");
            let beta = all_pages(limit, |page| {
                let p = group_members(&conn, a, "BETA", page).unwrap().unwrap();
                let rows = p.memberships.into_iter().map(|m| (m.username, m.group));
                (rows.collect(), p.next)
            });
            let expected: Vec<_> = by_query(&conn, a)
                .into_iter()
                .filter(|(_, g)| g == "beta")
                .collect();
            assert_eq!(beta, expected, "limit {limit}");
        }
        assert!(
            group_members(&conn, a, "nope", &PageRequest::all())
                .unwrap()
                .is_none()
        );
    }

    /// Every row of a paged read, `limit` at a time, following the cursors.
    fn all_pages<K, T>(
        limit: u32,
        mut read: impl FnMut(&PageRequest<K>) -> (Vec<T>, Option<String>),
    ) -> Vec<T>
    where
        K: serde::Serialize + serde::de::DeserializeOwned,
    {
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = PageRequest::parse(after.as_deref(), limit).unwrap();
            let (rows, next) = read(&page);
            assert!(rows.len() <= limit as usize);
            out.extend(rows);
            match next {
                Some(next) => after = Some(next),
                None => return out,
            }
        }
    }

    #[test]
    fn page_requests_refuse_what_this_store_did_not_hand_out() {
        let bad = PageRequest::<String>::parse(Some("%%%"), 10).unwrap_err();
        assert!(matches!(bad, StoreError::Invalid(m) if m.contains("`%%%` is not a cursor")));
        let zero = PageRequest::<String>::parse(None, 0).unwrap_err();
        assert!(matches!(zero, StoreError::Invalid(m) if m.contains("at least 1")));
        let big = PageRequest::<String>::parse(None, u32::MAX).unwrap();
        assert_eq!(big.limit, MAX_PAGE as usize);
    }

    #[test]
    fn apply_remembers_names_only_while_they_hold() {
        let db = Db::in_memory().unwrap();
        let mut conn = db.lock();
        let a = create_directory(&conn, "A", "okta").unwrap();
        apply(
            &mut conn,
            a,
            &[user("ann"), group("g"), member("ANN", "G")],
            "K",
        )
        .unwrap();
        let key: String = conn
            .query_row("SELECT key FROM users WHERE username = 'ann'", [], |r| {
                r.get(0)
            })
            .unwrap();
        // A rename within the batch: the old name no longer names anyone.
        let rename = Change::UpdateUser(crate::host::bindings::store::UserUpdate {
            key: key.clone(),
            username: Some("anne".into()),
            display_name: None,
            email: None,
            active: None,
            okta_id: None,
            attributes: None,
        });
        let err = apply(
            &mut conn,
            a,
            &[member("ann", "g"), rename.clone(), member("ann", "g")],
            "K",
        )
        .unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
        // Nothing of the failed batch was written; with the new name it works.
        let ok = apply(
            &mut conn,
            a,
            &[
                rename,
                Change::RemoveMembership(Membership {
                    username: "Anne".into(),
                    group: "g".into(),
                }),
            ],
            "K",
        )
        .unwrap();
        assert_eq!(ok.writes, 2);
        // A deleted group is not found by its old id.
        let err = apply(
            &mut conn,
            a,
            &[
                member("anne", "g"),
                Change::DeleteGroup("G".into()),
                member("anne", "g"),
            ],
            "K",
        )
        .unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    }
}
