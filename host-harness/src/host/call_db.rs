//! The call's database session, shared by the capabilities that write: the user store's
//! apply batches and the run's recorded changes go into one write transaction, begun by
//! the first write of the call and committed by the harness only when the call
//! succeeded, together with the harness's own last writes (the sync state, the run's
//! end). Anything else ends it rolled back, so a failed call writes nothing.
//!
//! A write that fails rolls the transaction back and fails every later write of the
//! call (and its commit) the same way: nothing of a call that lost some of its writes
//! can be committed.
//!
//! Shared because two capabilities write into the one transaction; each keeps the rest
//! of its state to itself.

use super::CommitError;
use crate::host::bindings::types::StoreError;
use crate::product::db::directory::store_error;
use crate::product::db::{Context, Db, DbError};
use parking_lot::{ArcMutexGuard, Mutex, RawMutex};
use rusqlite::Connection;
use std::sync::Arc;

/// A handle on the call's session; clones share it.
#[derive(Clone)]
pub struct CallDb(Arc<Mutex<Session>>);

struct Session {
    db: Db,
    /// The connection, locked for the rest of the call, inside `BEGIN IMMEDIATE`.
    tx: Option<ArcMutexGuard<RawMutex, Connection>>,
    /// The failure of a write, which every later write and the commit repeat.
    failed: Option<StoreError>,
}

impl Session {
    fn rollback(&mut self) -> bool {
        let Some(conn) = self.tx.take() else {
            return false;
        };
        // Fails only if SQLite rolled back already (e.g. after a full disk).
        let _ = conn.execute_batch("ROLLBACK");
        true
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.rollback();
    }
}

impl CallDb {
    /// A session on `db` with nothing begun.
    pub fn new(db: Db) -> CallDb {
        CallDb(Arc::new(Mutex::new(Session {
            db,
            tx: None,
            failed: None,
        })))
    }

    /// Run `f` on the connection: the open transaction's (so that the call reads its own
    /// writes, and does not wait on its own lock), else one locked for `f` only.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> T) -> T {
        let session = self.0.lock();
        match &session.tx {
            Some(conn) => f(conn),
            None => f(&session.db.lock()),
        }
    }

    /// Whether the call's write transaction is open.
    pub fn in_transaction(&self) -> bool {
        self.0.lock().tx.is_some()
    }

    /// Run `f` inside the call's write transaction, beginning it first if needed (a
    /// database locked by another process fails with `busy`). If `f` fails, the
    /// transaction is rolled back and the call's later writes fail the same way.
    pub fn write<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut session = self.0.lock();
        if let Some(e) = &session.failed {
            return Err(e.clone());
        }
        let result = match session.tx.take() {
            Some(conn) => Ok(conn),
            None => {
                let conn = session.db.lock_arc();
                conn.execute_batch("BEGIN IMMEDIATE")
                    .ctx("starting the apply transaction")
                    .map(|()| conn)
                    .map_err(|e| store_error(&e))
            }
        }
        .and_then(|conn| {
            let result = f(&conn);
            session.tx = Some(conn);
            result
        });
        if let Err(e) = &result {
            session.rollback();
            session.failed = Some(e.clone());
        }
        result
    }

    /// Roll the call's writes back; whether there were any.
    pub fn rollback(&self) -> bool {
        self.0.lock().rollback()
    }

    /// Commit the call's writes with `last` in the same transaction (begun now if the
    /// call wrote nothing). If a write failed, or `last` or the commit fails,
    /// everything is rolled back.
    pub fn commit(
        &self,
        last: impl FnOnce(&Connection) -> Result<(), DbError>,
    ) -> Result<(), CommitError> {
        let mut session = self.0.lock();
        if let Some(e) = session.failed.clone() {
            session.rollback();
            return Err(CommitError::Store(e));
        }
        let conn = match session.tx.take() {
            Some(conn) => conn,
            None => {
                let conn = session.db.lock_arc();
                conn.execute_batch("BEGIN IMMEDIATE")
                    .ctx("starting the transaction of the sync's results")?;
                conn
            }
        };
        let committed = last(&conn).and_then(|()| conn.execute_batch("COMMIT").ctx("committing"));
        if committed.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        Ok(committed?)
    }
}
