//! The product's user directory in SQLite: what the WIT `user-store` interface reads and
//! writes. A sync's changes are applied in one transaction (in one or more batches):
//! all or nothing.

use super::{Context, DbError};
use crate::host::bindings::store::{
    ApplyResult, Change, Directory, DirectoryKind, DirectorySnapshot, Group, Membership,
    StoreError, User,
};
use crate::host::bindings::types::Attribute;
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::collections::HashMap;

const USER_COLUMNS: &str =
    "key, directory_id, username, display_name, email, active, okta_id, attributes";

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
    })
}

fn users_where(
    conn: &Connection,
    clause: &str,
    arg: &dyn rusqlite::ToSql,
) -> Result<Vec<User>, DbError> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u JOIN directories d ON d.id = u.directory_id WHERE {clause} ORDER BY d.position, u.key"
    );
    let mut st = conn.prepare_cached(&sql).ctx("preparing a user lookup")?;
    st.query_map([arg], user_from_row)
        .ctx("looking up users")?
        .collect::<Result<_, _>>()
        .ctx("reading users")
}

/// All directories in order.
pub fn directories(conn: &Connection) -> Result<Vec<Directory>, DbError> {
    let mut st = conn
        .prepare_cached("SELECT id, name, kind, position FROM directories ORDER BY position, id")
        .ctx("listing directories")?;
    st.query_map([], |r| {
        Ok(Directory {
            id: r.get::<_, i64>(0)?.to_string(),
            name: r.get(1)?,
            kind: kind_of(&r.get::<_, String>(2)?),
            position: r.get(3)?,
        })
    })
    .ctx("listing directories")?
    .collect::<Result<_, _>>()
    .ctx("reading directories")
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

/// Everything in one directory.
pub fn snapshot(conn: &Connection, dir: i64) -> Result<DirectorySnapshot, DbError> {
    let users = users_where(conn, "u.directory_id = ?1", &dir)?;
    let mut st = conn
        .prepare_cached(
            "SELECT name, description, okta_id FROM groups WHERE directory_id = ?1 ORDER BY name",
        )
        .ctx("listing groups")?;
    let groups = st
        .query_map([dir], |r| {
            Ok(Group {
                name: r.get(0)?,
                description: r.get(1)?,
                okta_id: r.get(2)?,
            })
        })
        .ctx("listing groups")?
        .collect::<Result<_, _>>()
        .ctx("reading groups")?;
    let memberships = memberships(conn, dir, &users)?;
    Ok(DirectorySnapshot {
        users,
        groups,
        memberships,
    })
}

/// The memberships of `dir` as (username, group name), ordered by group name, then
/// username (byte-wise, as SQLite's BINARY collation orders). Same rows and order as
/// `SELECT u.username, g.name FROM memberships m JOIN groups g ON g.id = m.group_id JOIN
/// users u ON u.key = m.user_key WHERE g.directory_id = ? ORDER BY g.name, u.username`,
/// but joined here: that query looks every member's key up in `users` (random reads over
/// the whole table) and sorts through a temporary B-tree, seconds at a million rows.
/// Members are mostly users of `dir` itself (`users`); others are looked up by key.
fn memberships(conn: &Connection, dir: i64, users: &[User]) -> Result<Vec<Membership>, DbError> {
    let mut st = conn
        .prepare_cached("SELECT id, name FROM groups WHERE directory_id = ?1 ORDER BY name")
        .ctx("listing groups")?;
    let groups: Vec<(i64, String)> = st
        .query_map([dir], |r| Ok((r.get(0)?, r.get(1)?)))
        .ctx("listing groups")?
        .collect::<Result<_, _>>()
        .ctx("reading groups")?;
    let by_key: HashMap<&str, &str> = users
        .iter()
        .map(|u| (u.key.as_str(), u.username.as_str()))
        .collect();
    let mut members = conn
        .prepare_cached("SELECT user_key FROM memberships WHERE group_id = ?1")
        .ctx("listing memberships")?;
    let mut elsewhere = conn
        .prepare_cached("SELECT username FROM users WHERE key = ?1")
        .ctx("listing memberships")?;
    let mut out = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for (id, group) in &groups {
        names.clear();
        let mut rows = members.query([id]).ctx("listing memberships")?;
        while let Some(row) = rows.next().ctx("reading memberships")? {
            let key = row.get_ref(0).ctx("reading memberships")?;
            let key = key.as_str().map_err(|e| DbError {
                context: "reading memberships".into(),
                source: e.into(),
            })?;
            match by_key.get(key) {
                Some(name) => names.push((*name).to_string()),
                None => {
                    if let Some(name) = elsewhere
                        .query_row([key], |r| r.get::<_, String>(0))
                        .optional()
                        .ctx("reading memberships")?
                    {
                        names.push(name);
                    }
                }
            }
        }
        names.sort_unstable();
        out.extend(names.drain(..).map(|username| Membership {
            username,
            group: group.clone(),
        }));
    }
    Ok(out)
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
    let mut open = OpenApply::begin(conn, dir)?;
    let result = open.batch(conn, changes, key_prefix)?;
    open.commit(conn)?;
    Ok(result)
}

/// An apply in progress: one SQLite transaction (`BEGIN IMMEDIATE`) over one or more
/// batches of changes, committed by [`OpenApply::commit`]. A failed batch rolls it back
/// at once; so does [`OpenApply::rollback`] (and, if the process dies, SQLite's journal
/// on the next open). The caller keeps the connection to itself until then.
pub struct OpenApply {
    dir: i64,
    names: Names,
    open: bool,
    /// Batches applied, and changes in them.
    batches: usize,
    applied: usize,
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
    /// Start the transaction for directory `dir`.
    pub fn begin(conn: &Connection, dir: i64) -> Result<OpenApply, StoreError> {
        conn.execute_batch("BEGIN IMMEDIATE")
            .map_err(failed("starting the apply transaction"))?;
        let mut open = OpenApply {
            dir,
            names: Names::default(),
            open: true,
            batches: 0,
            applied: 0,
        };
        let exists = conn
            .query_row("SELECT id FROM directories WHERE id = ?1", [dir], |r| {
                r.get::<_, i64>(0)
            })
            .optional()
            .map_err(failed("checking the directory"))
            .and_then(|d| d.ok_or_else(|| StoreError::NotFound(format!("directory {dir}"))));
        if let Err(e) = exists {
            open.rollback(conn);
            return Err(e);
        }
        Ok(open)
    }

    /// The directory the transaction writes to.
    pub fn directory(&self) -> i64 {
        self.dir
    }

    /// Apply one batch inside the transaction; on an error, roll everything back.
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
                Err(e) => {
                    self.rollback(conn);
                    return Err(match e {
                        Applied::Store(e) => e,
                        Applied::Db(e) => store_error(&DbError {
                            context: format!(
                                "change {} of the apply ({} of {} in batch {})",
                                self.applied + i + 1,
                                i + 1,
                                changes.len(),
                                self.batches + 1
                            ),
                            source: e,
                        }),
                    });
                }
            }
        }
        self.batches += 1;
        self.applied += changes.len();
        Ok(result)
    }

    /// Commit every batch (a failed commit rolls them back).
    pub fn commit(&mut self, conn: &Connection) -> Result<(), StoreError> {
        let committed = conn.execute_batch("COMMIT").map_err(failed("committing"));
        if committed.is_err() {
            self.rollback(conn);
        }
        self.open = false;
        committed
    }

    /// Roll every batch back (once; later calls do nothing).
    pub fn rollback(&mut self, conn: &Connection) {
        if std::mem::take(&mut self.open) {
            // Fails only if SQLite rolled back already (e.g. after a full disk).
            let _ = conn.execute_batch("ROLLBACK");
        }
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
        Change::CreateUser(u) => {
            if u.username.trim().is_empty() {
                return invalid("a user needs a username");
            }
            let key = next_key(tx, key_prefix)?;
            tx.prepare_cached(&format!(
                "INSERT INTO users ({USER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
            ))?
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
            1
        }
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
        Change::AddMembership(m) => {
            let (g, k) = (
                group_id(tx, dir, &m.group, names)?,
                user_key(tx, dir, &m.username, names)?,
            );
            tx.prepare_cached(
                "INSERT OR IGNORE INTO memberships (group_id, user_key) VALUES (?1, ?2)",
            )?
            .execute(params![g, k])?
        }
        Change::RemoveMembership(m) => {
            let (g, k) = (
                group_id(tx, dir, &m.group, names)?,
                user_key(tx, dir, &m.username, names)?,
            );
            tx.prepare_cached("DELETE FROM memberships WHERE group_id = ?1 AND user_key = ?2")?
                .execute(params![g, k])?
        }
    })
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

    /// The memberships as the original single query read them.
    fn by_query(conn: &Connection, dir: i64) -> Vec<(String, String)> {
        let mut st = conn
            .prepare(
                "SELECT u.username, g.name FROM memberships m JOIN groups g ON g.id = m.group_id \
                 JOIN users u ON u.key = m.user_key WHERE g.directory_id = ?1 ORDER BY g.name, u.username",
            )
            .unwrap();
        st.query_map([dir], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn snapshot_memberships_match_the_sql_join_and_order() {
        let db = Db::in_memory().unwrap();
        let mut conn = db.lock();
        let a = create_directory(&conn, "A", "okta").unwrap();
        let b = create_directory(&conn, "B", "other").unwrap();
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
        apply(&mut conn, a, &changes, "K").unwrap();
        // A member from another directory (adopted memberships, migrations).
        apply(&mut conn, b, &[user("carol")], "K").unwrap();
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
        for dir in [a, b] {
            let snap = snapshot(&conn, dir).unwrap();
            let got: Vec<(String, String)> = snap
                .memberships
                .into_iter()
                .map(|m| (m.username, m.group))
                .collect();
            assert_eq!(got, by_query(&conn, dir));
        }
        assert_eq!(snapshot(&conn, a).unwrap().memberships.len(), 8);
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
