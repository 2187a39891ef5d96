//! The changes of a run's report, one row each, in apply order (a dry run's too): what
//! the plugin sends through `run.record-changes`, stored as our own row type (not the
//! generated WIT record), and read back a page at a time by the surfaces.

use super::{Context, DbError};
use crate::host::bindings::report;
use rusqlite::{Connection, Row, params};
use serde::{Deserialize, Serialize};

/// What a change does, as stored (`create-user`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// A new user.
    CreateUser,
    /// A user's fields change.
    UpdateUser,
    /// A user is reactivated.
    ActivateUser,
    /// A user is deactivated.
    DeactivateUser,
    /// A user is deleted.
    DeleteUser,
    /// A user of another directory is taken over.
    MigrateUser,
    /// A user's names are replaced by a pseudonym.
    AnonymizeUser,
    /// A new group.
    CreateGroup,
    /// A group's description changes.
    UpdateGroup,
    /// A user joins a group.
    AddMembership,
    /// A user leaves a group.
    RemoveMembership,
}

impl Action {
    /// The stored name (serde's, so that there is one spelling).
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .expect("an action serializes to its name")
    }

    /// The action of a stored name.
    pub fn parse(name: &str) -> Option<Action> {
        serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
    }
}

impl From<report::ChangeAction> for Action {
    fn from(a: report::ChangeAction) -> Self {
        use report::ChangeAction as A;
        match a {
            A::CreateUser => Action::CreateUser,
            A::UpdateUser => Action::UpdateUser,
            A::ActivateUser => Action::ActivateUser,
            A::DeactivateUser => Action::DeactivateUser,
            A::DeleteUser => Action::DeleteUser,
            A::MigrateUser => Action::MigrateUser,
            A::AnonymizeUser => Action::AnonymizeUser,
            A::CreateGroup => Action::CreateGroup,
            A::UpdateGroup => Action::UpdateGroup,
            A::AddMembership => Action::AddMembership,
            A::RemoveMembership => Action::RemoveMembership,
        }
    }
}

/// One field's old and new value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Field name.
    pub field: String,
    /// Value before (none: unset).
    pub old: Option<String>,
    /// Value after (none: unset).
    pub new: Option<String>,
}

/// One change of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedChange {
    /// What happens.
    pub action: Action,
    /// The username or group name it happens to.
    pub target: String,
    /// The group, for membership changes.
    pub group: Option<String>,
    /// Field changes, for creates and updates.
    pub fields: Vec<FieldChange>,
}

impl From<report::ChangeEntry> for RecordedChange {
    fn from(e: report::ChangeEntry) -> Self {
        RecordedChange {
            action: e.action.into(),
            target: e.target,
            group: e.group,
            fields: e
                .fields
                .into_iter()
                .map(|f| FieldChange {
                    field: f.field,
                    old: f.old,
                    new: f.new,
                })
                .collect(),
        }
    }
}

/// A recorded change as the model's report holds it.
impl From<RecordedChange> for crate::model::ChangeEntry {
    fn from(c: RecordedChange) -> Self {
        use crate::model::ChangeAction as M;
        crate::model::ChangeEntry {
            action: match c.action {
                Action::CreateUser => M::CreateUser,
                Action::UpdateUser => M::UpdateUser,
                Action::ActivateUser => M::ActivateUser,
                Action::DeactivateUser => M::DeactivateUser,
                Action::DeleteUser => M::DeleteUser,
                Action::MigrateUser => M::MigrateUser,
                Action::AnonymizeUser => M::AnonymizeUser,
                Action::CreateGroup => M::CreateGroup,
                Action::UpdateGroup => M::UpdateGroup,
                Action::AddMembership => M::AddMembership,
                Action::RemoveMembership => M::RemoveMembership,
            },
            target: c.target,
            group: c.group,
            fields: c
                .fields
                .into_iter()
                .map(|f| crate::model::report::FieldChange {
                    field: f.field,
                    old: f.old,
                    new: f.new,
                })
                .collect(),
        }
    }
}

/// Every change of run `run_id`, in apply order, as the model's report holds them.
pub fn all(conn: &Connection, run_id: i64) -> Result<Vec<crate::model::ChangeEntry>, DbError> {
    let page = page(
        conn,
        run_id,
        ChangeQuery {
            offset: 0,
            limit: u32::MAX,
            action: None,
        },
    )?;
    Ok(page.changes.into_iter().map(Into::into).collect())
}

/// Which changes of a run a page holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChangeQuery {
    /// Changes skipped, in apply order.
    pub offset: u64,
    /// Most changes returned.
    pub limit: u32,
    /// Only changes of this action.
    pub action: Option<Action>,
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
    pub changes: Vec<RecordedChange>,
    /// How many changes of the query there are in all.
    pub total: u64,
}

/// Append `changes` to run `run_id`, numbered from `first` (the count stored before).
pub fn append(
    conn: &Connection,
    run_id: i64,
    first: u64,
    changes: &[RecordedChange],
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

fn from_row(r: &Row<'_>) -> rusqlite::Result<RecordedChange> {
    let action: String = r.get(0)?;
    let fields: String = r.get(3)?;
    Ok(RecordedChange {
        action: Action::parse(&action).ok_or_else(|| {
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
    let action = q.action.map(Action::name);
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

    fn change(action: Action, target: &str) -> RecordedChange {
        RecordedChange {
            action,
            target: target.into(),
            group: None,
            fields: vec![FieldChange {
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
            change(Action::CreateUser, "ann"),
            change(Action::AddMembership, "ann"),
        ];
        append(&conn, id, 0, &first).unwrap();
        append(&conn, id, 2, &[change(Action::CreateUser, "bob")]).unwrap();
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
        let p = all(1, 1, Some(Action::CreateUser));
        assert_eq!((p.total, p.changes.len()), (2, 1));
        assert_eq!(p.changes[0].target, "bob");
        assert_eq!(all(5, 10, None).changes, []);
    }

    #[test]
    fn action_names_round_trip() {
        assert_eq!(Action::AnonymizeUser.name(), "anonymize-user");
        assert_eq!(
            Action::parse("remove-membership"),
            Some(Action::RemoveMembership)
        );
        assert_eq!(Action::parse("RemoveMembership"), None);
    }
}
