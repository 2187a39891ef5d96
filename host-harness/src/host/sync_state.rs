//! `sync-state`: the connector's typed state. `load` sees the stored state, or this
//! call's own `save`; the save is kept in memory and written only when the call
//! succeeds, in the transaction that commits its apply ([`super::HostState::commit`]).

use super::call_db::CallDb;
use crate::host::bindings::sync_state::{self, ConnectorState};
use crate::host::bindings::types::StoreError;
use crate::product::db::DbError;
use crate::product::db::directory::store_error;
use crate::product::db::sync_state::{self as stored, StoredState};
use rusqlite::Connection;

/// The state of the connector being called, and the call's save.
pub struct SyncState {
    db: CallDb,
    connector: Option<i64>,
    saved: Option<ConnectorState>,
}

impl std::fmt::Debug for SyncState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncState")
            .field("connector", &self.connector)
            .field("saved", &self.saved.is_some())
            .finish()
    }
}

impl SyncState {
    /// The state of `connector` (none: a call about no stored connector, which has no
    /// state and keeps none).
    pub fn new(db: CallDb, connector: Option<i64>) -> Self {
        SyncState {
            db,
            connector,
            saved: None,
        }
    }

    /// Write the call's save, if any, into `conn`'s transaction.
    pub fn write(&self, conn: &Connection) -> Result<(), DbError> {
        match (self.connector, &self.saved) {
            (Some(id), Some(state)) => stored::save(conn, id, &StoredState::from(state.clone())),
            _ => Ok(()),
        }
    }
}

impl sync_state::Host for SyncState {
    fn load(&mut self) -> Result<Option<ConnectorState>, StoreError> {
        if let Some(state) = &self.saved {
            return Ok(Some(state.clone()));
        }
        let Some(id) = self.connector else {
            return Ok(None);
        };
        let state = self
            .db
            .read(|c| stored::load(c, id))
            .map_err(|e| store_error(&e))?;
        Ok(state.map(ConnectorState::from))
    }

    fn save(&mut self, state: ConnectorState) {
        self.saved = Some(state);
    }
}
