//! The changes of a run's report, in apply order (a dry run's too): what the plugin
//! sends through `run.record-changes`, as the model's [`ChangeEntry`] (converted from the
//! WIT record once, in `model::wit`), read back a page at a time by the surfaces.
//!
//! They are stored in chunks: runs of up to [`CHUNK`] consecutive changes of one action,
//! a row each, their targets, groups and fields as one JSON array. A first sync of
//! 100,000 users records 1.1 million changes; one row per change cost seconds of inserts
//! inside the apply's transaction, a chunk a thousandth of that. A page finds its first
//! chunk by index (`first`, or `first_of_action` when filtered by action) and decodes
//! only the chunks it shows.

use super::{Context, Db, DbError};
use crate::model::report::FieldChange;
use crate::model::{ChangeAction, ChangeEntry};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// Most changes in one stored chunk: small enough that a page decodes little more than
/// it shows, large enough that a million changes are a thousand rows.
pub const CHUNK: usize = 1_000;

/// A change as a chunk stores it (its action is the chunk's).
type Stored = (String, Option<String>, Vec<FieldChange>);

/// Every change of run `run_id`, in apply order.
pub fn all(conn: &Connection, run_id: i64) -> Result<Vec<ChangeEntry>, DbError> {
    let page = page(
        conn,
        run_id,
        ChangeQuery {
            offset: 0,
            limit: u32::MAX,
            action: None,
        },
    )?;
    Ok(page.changes)
}

/// Which changes of a run a page holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChangeQuery {
    /// Changes skipped, in apply order.
    pub offset: u64,
    /// Most changes returned.
    pub limit: u32,
    /// Only changes of this action.
    pub action: Option<ChangeAction>,
}

impl ChangeQuery {
    /// The first `n` changes, of every action.
    pub fn first(n: usize) -> Self {
        ChangeQuery {
            offset: 0,
            limit: u32::try_from(n).unwrap_or(u32::MAX),
            action: None,
        }
    }
}

/// A page of a run's changes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ChangePage {
    /// The changes, in apply order.
    pub changes: Vec<ChangeEntry>,
    /// How many changes of the query there are in all.
    pub total: u64,
}

/// Append `changes` to run `run_id`, numbered from `first` (the count stored before):
/// each run of one action, cut at [`CHUNK`], is one row.
pub fn append(
    conn: &Connection,
    run_id: i64,
    first: u64,
    changes: &[ChangeEntry],
) -> Result<(), DbError> {
    let mut at = 0;
    for chunk in changes.chunk_by(|a, b| a.action == b.action) {
        for part in chunk.chunks(CHUNK) {
            insert_chunk(conn, run_id, first + at as u64, part)
                .ctx("recording the run's changes")?;
            at += part.len();
        }
    }
    Ok(())
}

/// One chunk row of `changes` (all of one action), its first numbered `seq`.
fn insert_chunk(
    conn: &Connection,
    run_id: i64,
    seq: u64,
    changes: &[ChangeEntry],
) -> rusqlite::Result<()> {
    let action = changes[0].action.name();
    let before: i64 = conn
        .prepare_cached(
            "SELECT first_of_action + count FROM run_change_chunks \
             WHERE run_id = ?1 AND action = ?2 ORDER BY first_of_action DESC LIMIT 1",
        )?
        .query_row(params![run_id, action], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    let stored: Vec<(&str, Option<&str>, &[FieldChange])> = changes
        .iter()
        .map(|c| (c.target.as_str(), c.group.as_deref(), c.fields.as_slice()))
        .collect();
    let body = serde_json::to_string(&stored).expect("changes serialize");
    conn.prepare_cached(
        "INSERT INTO run_change_chunks (run_id, first, action, first_of_action, count, changes) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        run_id,
        seq as i64,
        action,
        before,
        changes.len() as i64,
        body
    ])?;
    if changes[0].action.is_user_change() {
        index_user_changes(conn, run_id, conn.last_insert_rowid(), changes)?;
    }
    Ok(())
}

/// Index `changes`, the chunk `chunk_id`, by the user each names (`user_changes`), for
/// the user's history; dry runs' changes are not history. From the changes in hand, so
/// that the stored chunk is not parsed again; a first sync of 100,000 users adds 100,000
/// rows here (its memberships are not indexed).
fn index_user_changes(
    conn: &Connection,
    run_id: i64,
    chunk_id: i64,
    changes: &[ChangeEntry],
) -> rusqlite::Result<()> {
    let directory: Option<i64> = conn
        .prepare_cached(
            "SELECT c.directory_id FROM runs r JOIN connectors c ON c.id = r.connector_id \
             WHERE r.id = ?1 AND r.dry_run = 0",
        )?
        .query_row([run_id], |r| r.get(0))
        .optional()?;
    let Some(directory) = directory else {
        return Ok(());
    };
    let mut insert = conn.prepare_cached(
        "INSERT INTO user_changes (run_id, chunk_id, position, directory_id, username) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (position, c) in changes.iter().enumerate() {
        insert.execute(params![
            run_id,
            chunk_id,
            position as i64,
            directory,
            c.target
        ])?;
    }
    Ok(())
}

/// One stored change (`[target, group, fields]`, as JSON) of a chunk of `action`.
pub fn decode_one(action: &str, json: &str) -> rusqlite::Result<ChangeEntry> {
    let action = stored_action(action)?;
    let (target, group, fields): Stored =
        serde_json::from_str(json).map_err(|e| bad_column(2, e))?;
    Ok(ChangeEntry {
        action,
        target,
        group,
        fields,
    })
}

fn bad_column(i: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
}

/// The action of a stored name.
fn stored_action(name: &str) -> rusqlite::Result<ChangeAction> {
    ChangeAction::parse(name)
        .ok_or_else(|| bad_column(0, std::io::Error::other(format!("unknown action `{name}`"))))
}

/// The changes of one chunk row (its action and JSON body), from its `skip`th on.
fn decode(action: &str, body: &str, skip: usize) -> rusqlite::Result<Vec<ChangeEntry>> {
    let action = stored_action(action)?;
    let stored: Vec<Stored> = serde_json::from_str(body).map_err(|e| bad_column(2, e))?;
    Ok(stored
        .into_iter()
        .skip(skip)
        .map(|(target, group, fields)| ChangeEntry {
            action,
            target,
            group,
            fields,
        })
        .collect())
}

/// The stored chunk of run `run_id` that starts at change `from` or, if none does, the
/// next one after it: its first change's number and its changes (none past the last).
pub fn chunk_from(
    conn: &Connection,
    run_id: i64,
    from: u64,
) -> Result<Option<(u64, Vec<ChangeEntry>)>, DbError> {
    let row: Option<(i64, String, String)> = conn
        .prepare_cached(
            "SELECT first, action, changes FROM run_change_chunks \
             WHERE run_id = ?1 AND first >= ?2 ORDER BY first LIMIT 1",
        )
        .and_then(|mut st| {
            st.query_row(params![run_id, from.min(i64::MAX as u64) as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()
        })
        .ctx("reading the run's changes")?;
    row.map(|(first, action, body)| {
        let changes = decode(&action, &body, 0).ctx("reading the run's changes")?;
        Ok((first as u64, changes))
    })
    .transpose()
}

/// Every change of a run, a stored chunk at a time, each read under a lock of the
/// database of its own: a download of a million changes holds one chunk in memory and
/// lets every other request (and a sync) have the database between two chunks.
pub struct Chunks {
    db: Db,
    run_id: i64,
    /// The number of the next change to read; none once the last chunk is read or a
    /// read failed.
    next: Option<u64>,
}

impl Chunks {
    /// The changes of run `run_id` from its first on.
    pub fn new(db: Db, run_id: i64) -> Chunks {
        Chunks {
            db,
            run_id,
            next: Some(0),
        }
    }
}

impl Iterator for Chunks {
    type Item = Result<Vec<ChangeEntry>, DbError>;

    fn next(&mut self) -> Option<Self::Item> {
        let from = self.next.take()?;
        match chunk_from(&self.db.lock(), self.run_id, from) {
            Ok(Some((first, changes))) => {
                self.next = Some(first + changes.len() as u64);
                Some(Ok(changes))
            }
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// How many changes of each action run `run_id` has, in the actions' order.
pub fn action_totals(conn: &Connection, run_id: i64) -> Result<Vec<(ChangeAction, u64)>, DbError> {
    let mut st = conn
        .prepare_cached(
            "SELECT action, sum(count) FROM run_change_chunks WHERE run_id = ?1 GROUP BY action",
        )
        .ctx("counting the run's changes")?;
    let rows = st
        .query_map([run_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })
        .ctx("counting the run's changes")?;
    let mut totals = rows
        .map(|row| {
            let (name, n) = row?;
            Ok((stored_action(&name)?, n as u64))
        })
        .collect::<rusqlite::Result<Vec<_>>>()
        .ctx("counting the run's changes")?;
    totals.sort_by_key(|(a, _)| *a as u8);
    Ok(totals)
}

/// A page of run `run_id`'s changes, with the query's total.
pub fn page(conn: &Connection, run_id: i64, q: ChangeQuery) -> Result<ChangePage, DbError> {
    let action = q.action.map(ChangeAction::name);
    let offset = q.offset.min(i64::MAX as u64) as i64;
    // Positions count all changes, or only the action's when filtered.
    let (position, filter) = if action.is_some() {
        ("first_of_action", "run_id = ?1 AND action = ?2")
    } else {
        ("first", "run_id = ?1 AND ?2 IS NULL")
    };
    let start: Option<i64> = conn
        .prepare_cached(&format!(
            "SELECT max({position}) FROM run_change_chunks WHERE {filter} AND {position} <= ?3"
        ))
        .and_then(|mut st| st.query_row(params![run_id, action, offset], |r| r.get(0)))
        .ctx("reading the run's changes")?;
    let mut changes = Vec::new();
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT {position}, action, changes FROM run_change_chunks \
             WHERE {filter} AND {position} >= ?3 ORDER BY {position}"
        ))
        .ctx("reading the run's changes")?;
    let mut rows = st
        .query(params![run_id, action, start.unwrap_or(0)])
        .ctx("reading the run's changes")?;
    while changes.len() < q.limit as usize {
        let Some(row) = rows.next().ctx("reading the run's changes")? else {
            break;
        };
        let (at, action, body): (i64, String, String) = (
            row.get(0).ctx("reading the run's changes")?,
            row.get(1).ctx("reading the run's changes")?,
            row.get(2).ctx("reading the run's changes")?,
        );
        let skip = (offset - at).max(0) as usize;
        let mut chunk = decode(&action, &body, skip).ctx("reading the run's changes")?;
        chunk.truncate(q.limit as usize - changes.len());
        changes.append(&mut chunk);
    }
    let total: i64 = conn
        .prepare_cached(&format!(
            "SELECT coalesce(sum(count), 0) FROM run_change_chunks WHERE {filter}"
        ))
        .and_then(|mut st| st.query_row(params![run_id, action], |r| r.get(0)))
        .ctx("counting the run's changes")?;
    Ok(ChangePage {
        changes,
        total: total as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::product::db::Db;

    fn change(action: ChangeAction, target: &str) -> ChangeEntry {
        ChangeEntry {
            action,
            target: target.into(),
            group: None,
            fields: vec![crate::model::report::FieldChange {
                field: "email".into(),
                old: None,
                new: Some(format!("{target}@example.com")),
            }],
        }
    }

    fn run(db: &Db) -> i64 {
        let conn = db.lock();
        let dir = crate::product::db::directory::create_directory(&conn, "A", "okta").unwrap();
        conn.execute(
            "INSERT INTO connectors (name, config, directory_id, created_at, updated_at) VALUES ('c', '{}', ?1, 0, 0)",
            [dir],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO runs (connector_id, kind, trigger, dry_run, status, started_at) VALUES (1, 'full', 'manual', 0, 'running', 0)",
            [],
        )
        .unwrap();
        conn.last_insert_rowid()
    }

    #[test]
    fn pages_keep_apply_order_and_filter_by_action() {
        let db = Db::in_memory().unwrap();
        let id = run(&db);
        let conn = db.lock();
        let first = [
            change(ChangeAction::CreateUser, "ann"),
            change(ChangeAction::AddMembership, "ann"),
        ];
        append(&conn, id, 0, &first).unwrap();
        append(&conn, id, 2, &[change(ChangeAction::CreateUser, "bob")]).unwrap();
        let all = |offset, limit, action| {
            page(
                &conn,
                id,
                ChangeQuery {
                    offset,
                    limit,
                    action,
                },
            )
            .unwrap()
        };
        let p = all(0, 10, None);
        assert_eq!(p.total, 3);
        assert_eq!(p.changes[..2], first);
        assert_eq!(p.changes[2].target, "bob");
        let p = all(1, 1, Some(ChangeAction::CreateUser));
        assert_eq!((p.total, p.changes.len()), (2, 1));
        assert_eq!(p.changes[0].target, "bob");
        assert_eq!(all(5, 10, None).changes, []);
    }

    #[test]
    fn appends_of_several_inserts_keep_every_change_in_order() {
        let db = Db::in_memory().unwrap();
        let id = run(&db);
        let conn = db.lock();
        let batch = |from: usize, n: usize| -> Vec<ChangeEntry> {
            (from..from + n)
                .map(|i| ChangeEntry {
                    group: Some(format!("g{i}")),
                    fields: Vec::new(),
                    ..change(ChangeAction::AddMembership, &format!("u{i}"))
                })
                .collect()
        };
        // 2.5 chunks' worth, then 3 more changes: numbering goes on across appends.
        let (a, b) = (batch(0, CHUNK * 5 / 2), batch(CHUNK * 5 / 2, 3));
        append(&conn, id, 0, &a).unwrap();
        append(&conn, id, a.len() as u64, &b).unwrap();
        let got = all(&conn, id).unwrap();
        assert_eq!(got, [a, b].concat());
        let chunks: Vec<(i64, i64)> = conn
            .prepare("SELECT first, count FROM run_change_chunks WHERE run_id = ?1 ORDER BY first")
            .unwrap()
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let n = CHUNK as i64;
        assert_eq!(chunks, [(0, n), (n, n), (2 * n, n / 2), (5 * n / 2, 3)]);
    }

    #[test]
    fn chunks_read_every_change_in_order_and_totals_count_each_action() {
        let db = Db::in_memory().unwrap();
        let id = run(&db);
        let users: Vec<ChangeEntry> = (0..CHUNK + 2)
            .map(|i| change(ChangeAction::CreateUser, &format!("u{i}")))
            .collect();
        let members = [change(ChangeAction::AddMembership, "u0")];
        {
            let conn = db.lock();
            append(&conn, id, 0, &users).unwrap();
            append(&conn, id, users.len() as u64, &members).unwrap();
        }
        let chunks: Vec<Vec<ChangeEntry>> = Chunks::new(db.clone(), id)
            .collect::<Result<_, _>>()
            .unwrap();
        let sizes: Vec<usize> = chunks.iter().map(Vec::len).collect();
        assert_eq!(sizes, [CHUNK, 2, 1], "a stored chunk at a time");
        assert_eq!(chunks.concat(), [&users[..], &members[..]].concat());
        assert_eq!(
            action_totals(&db.lock(), id).unwrap(),
            [
                (ChangeAction::CreateUser, CHUNK as u64 + 2),
                (ChangeAction::AddMembership, 1)
            ]
        );
        assert_eq!(Chunks::new(db.clone(), id + 1).count(), 0, "no such run");
    }
}
