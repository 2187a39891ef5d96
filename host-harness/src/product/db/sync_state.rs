//! Each connector's sync state: what the plugin knows of where the connector stands in
//! Okta (`sync-state.connector-state`), stored as a versioned JSON document of our own
//! (not the generated binding), so that a WIT change does not change what is stored.
//! Databases of 0.1.0 kept two string keys (`last-full-sync`, `cursor`); the schema
//! migration to version 3 turns them into a version 1 document (see `db/mod.rs`).

use super::{Context, DbError};
use crate::host::bindings::sync_state::{ConnectorState, GroupMark};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// The document version this host writes and reads.
pub const VERSION: u32 = 1;

/// A connector's sync state as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredState {
    /// Always [`VERSION`].
    pub version: u32,
    /// Host time (Unix seconds) at the start of the last successful full sync.
    pub last_full_sync: i64,
    /// Host time at the start of the last successful deep reconcile.
    pub last_deep_reconcile: Option<i64>,
    /// Okta's clock at the start of the last successful sync.
    pub okta_cursor: String,
    /// The System Log `next` link to follow.
    pub feed_cursor: Option<String>,
    /// Groups' `lastMembershipUpdated` as last read.
    pub group_marks: Vec<StoredMark>,
    /// Users denied a licence seat by the last sync.
    pub seats_denied: Vec<String>,
}

/// A group's `lastMembershipUpdated` as last read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredMark {
    /// The Okta group id.
    pub okta_id: String,
    /// Okta's `lastMembershipUpdated`.
    pub last_membership_updated: String,
}

impl From<ConnectorState> for StoredState {
    fn from(s: ConnectorState) -> Self {
        StoredState {
            version: VERSION,
            last_full_sync: s.last_full_sync,
            last_deep_reconcile: s.last_deep_reconcile,
            okta_cursor: s.okta_cursor,
            feed_cursor: s.feed_cursor,
            group_marks: s
                .group_marks
                .into_iter()
                .map(|m| StoredMark {
                    okta_id: m.okta_id,
                    last_membership_updated: m.last_membership_updated,
                })
                .collect(),
            seats_denied: s.seats_denied,
        }
    }
}

impl From<StoredState> for ConnectorState {
    fn from(s: StoredState) -> Self {
        ConnectorState {
            last_full_sync: s.last_full_sync,
            last_deep_reconcile: s.last_deep_reconcile,
            okta_cursor: s.okta_cursor,
            feed_cursor: s.feed_cursor,
            group_marks: s
                .group_marks
                .into_iter()
                .map(|m| GroupMark {
                    okta_id: m.okta_id,
                    last_membership_updated: m.last_membership_updated,
                })
                .collect(),
            seats_denied: s.seats_denied,
        }
    }
}

/// Why a stored document cannot be read.
#[derive(Debug, thiserror::Error)]
enum Unreadable {
    #[error("not a sync-state document: {0}")]
    Json(#[from] serde_json::Error),
    #[error("sync-state document version {0}; this host reads version {VERSION}")]
    Version(u32),
}

fn parse(json: &str) -> Result<StoredState, Unreadable> {
    let state: StoredState = serde_json::from_str(json)?;
    if state.version != VERSION {
        return Err(Unreadable::Version(state.version));
    }
    Ok(state)
}

/// The connector's state; none when it never synced (or was reset).
pub fn load(conn: &Connection, connector_id: i64) -> Result<Option<StoredState>, DbError> {
    let json: Option<String> = conn
        .prepare_cached("SELECT document FROM connector_state WHERE connector_id = ?1")
        .and_then(|mut st| st.query_row([connector_id], |r| r.get(0)).optional())
        .ctx("reading the sync state")?;
    json.map(|json| {
        parse(&json).map_err(|e| DbError {
            context: format!("reading the sync state of connector {connector_id}"),
            source: rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Text,
                Box::new(e),
            ),
        })
    })
    .transpose()
}

/// Replace the connector's state.
pub fn save(conn: &Connection, connector_id: i64, state: &StoredState) -> Result<(), DbError> {
    let json = serde_json::to_string(state).expect("sync state serializes");
    conn.prepare_cached(
        "INSERT INTO connector_state (connector_id, document) VALUES (?1, ?2) \
         ON CONFLICT (connector_id) DO UPDATE SET document = excluded.document",
    )
    .and_then(|mut st| st.execute(params![connector_id, json]))
    .ctx("writing the sync state")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> StoredState {
        StoredState {
            version: VERSION,
            last_full_sync: 1_700_000_000,
            last_deep_reconcile: None,
            okta_cursor: "2026-12-01T09:00:00.000Z".into(),
            feed_cursor: Some("https://acme.okta.com/api/v1/logs?after=x".into()),
            group_marks: vec![StoredMark {
                okta_id: "00g1".into(),
                last_membership_updated: "2026-11-30T10:00:00.000Z".into(),
            }],
            seats_denied: vec!["ann".into()],
        }
    }

    #[test]
    fn the_document_is_versioned_camel_case_and_round_trips() {
        let json = serde_json::to_value(state()).unwrap();
        assert_eq!(json["version"], 1);
        assert_eq!(json["lastFullSync"], 1_700_000_000);
        assert_eq!(
            json["groupMarks"][0]["lastMembershipUpdated"],
            "2026-11-30T10:00:00.000Z"
        );
        let wit = ConnectorState::from(state());
        assert_eq!(StoredState::from(wit), state());
    }

    #[test]
    fn a_document_of_another_version_is_refused_by_name() {
        let mut json = serde_json::to_value(state()).unwrap();
        json["version"] = 2.into();
        let err = parse(&json.to_string()).unwrap_err().to_string();
        assert!(
            err.contains("version 2") && err.contains("reads version 1"),
            "{err}"
        );
        assert!(
            parse("[]")
                .unwrap_err()
                .to_string()
                .starts_with("not a sync-state")
        );
    }
}
