//! The changes of a run's report, one row each, in apply order (a dry run's too): what
//! the plugin sends through `run.record-changes`, stored as the model's [`ChangeEntry`]
//! (converted from the WIT record once, in `model::wit`), and read back a page at a time
//! by the surfaces.

use super::{Context, DbError};
use crate::model::{ChangeAction, ChangeEntry};
use rusqlite::{Connection, Row, params};
use serde::Serialize;

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

/// Append `changes` to run `run_id`, numbered from `first` (the count stored before).
pub fn append(
    conn: &Connection,
    run_id: i64,
    first: u64,
    changes: &[ChangeEntry],
) -> Result<(), DbError> {
    let mut st = conn
        .prepare_cached(
            "INSERT INTO run_changes (run_id, seq, action, target, grp, fields) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .ctx("recording the run's changes")?;
    for (seq, c) in (first..).zip(changes) {
        let fields = serde_json::to_string(&c.fields).expect("field changes serialize");
        st.execute(params![
            run_id,
            seq as i64,
            c.action.name(),
            c.target,
            c.group,
            fields
        ])
        .ctx("recording the run's changes")?;
    }
    Ok(())
}

fn bad_column(i: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<ChangeEntry> {
    let action: String = r.get(0)?;
    let fields: String = r.get(3)?;
    Ok(ChangeEntry {
        action: ChangeAction::parse(&action).ok_or_else(|| {
            bad_column(
                0,
                std::io::Error::other(format!("unknown action `{action}`")),
            )
        })?,
        target: r.get(1)?,
        group: r.get(2)?,
        fields: serde_json::from_str(&fields).map_err(|e| bad_column(3, e))?,
    })
}

/// A page of run `run_id`'s changes, with the query's total.
pub fn page(conn: &Connection, run_id: i64, q: ChangeQuery) -> Result<ChangePage, DbError> {
    let action = q.action.map(ChangeAction::name);
    let mut st = conn
        .prepare_cached(
            "SELECT action, target, grp, fields FROM run_changes \
             WHERE run_id = ?1 AND (?2 IS NULL OR action = ?2) ORDER BY seq LIMIT ?3 OFFSET ?4",
        )
        .ctx("reading the run's changes")?;
    let changes = st
        .query_map(
            params![
                run_id,
                action,
                q.limit,
                q.offset.min(i64::MAX as u64) as i64
            ],
            from_row,
        )
        .ctx("reading the run's changes")?
        .collect::<Result<_, _>>()
        .ctx("reading the run's changes")?;
    let total: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM run_changes WHERE run_id = ?1 AND (?2 IS NULL OR action = ?2)",
        )
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
}
