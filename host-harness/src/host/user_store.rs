//! `user-store`: the product's directory in SQLite, as the guest sees it.

use super::HostState;
use crate::host::bindings::store::{
    self, ApplyResult, Change, Directory, DirectorySnapshot, Group, StoreError, User,
};
use crate::product::db::directory as dir;
use parking_lot::{ArcMutexGuard, RawMutex};
use rusqlite::Connection;

impl HostState {
    /// Run a read; a database failure is logged and reads as empty (the guest's next
    /// write would fail the same way and abort the sync).
    fn read<T: Default>(
        &mut self,
        what: &str,
        f: impl FnOnce(&rusqlite::Connection) -> Result<T, crate::product::db::DbError>,
    ) -> T {
        let result = self.with_conn(f);
        result.unwrap_or_else(|e| {
            self.log.push(("error".into(), format!("{what}: {e}")));
            T::default()
        })
    }
}

impl store::Host for HostState {
    fn directories(&mut self) -> Vec<Directory> {
        self.read("listing directories", dir::directories)
    }

    fn snapshot(&mut self, directory: String) -> Result<DirectorySnapshot, StoreError> {
        let id = dir::directory_id(&directory)?;
        self.with_conn(|c| dir::snapshot(c, id))
            .map_err(|e| dir::store_error(&e))
    }

    fn find_by_username(&mut self, username: String) -> Vec<User> {
        self.read("finding users by username", |c| {
            dir::find_by_username(c, &username)
        })
    }

    fn find_by_email(&mut self, email: String) -> Vec<User> {
        self.read("finding users by email", |c| dir::find_by_email(c, &email))
    }

    fn find_by_okta_id(&mut self, okta_id: String) -> Option<User> {
        self.read("finding a user by Okta id", |c| {
            dir::find_by_okta_id(c, &okta_id)
        })
    }

    fn user_memberships(&mut self, directory: String, username: String) -> Vec<String> {
        let Ok(id) = dir::directory_id(&directory) else {
            return Vec::new();
        };
        self.read("listing a user's groups", |c| {
            dir::user_memberships(c, id, &username)
        })
    }

    fn find_groups(&mut self, directory: String, names: Vec<String>) -> Vec<Group> {
        let Ok(id) = dir::directory_id(&directory) else {
            return Vec::new();
        };
        self.read("finding groups", |c| dir::find_groups(c, id, &names))
    }

    fn apply(
        &mut self,
        directory: String,
        changes: Vec<Change>,
        more: bool,
    ) -> Result<ApplyResult, StoreError> {
        let id = dir::directory_id(&directory)?;
        let mut tx = match self.apply.take() {
            None => ApplyTransaction::begin(&self.db, id)?,
            Some(tx) if tx.open.directory() == id => tx,
            Some(tx) => {
                let open = tx.open.directory();
                drop(tx);
                return Err(StoreError::Invalid(format!(
                    "an apply to directory {open} was still open (rolled back): one directory per transaction"
                )));
            }
        };
        let result = tx.open.batch(&tx.conn, &changes, &self.scope.key_prefix)?;
        tx.writes += result.writes;
        if more {
            self.apply = Some(tx);
        } else {
            self.writes += tx.commit()?;
        }
        Ok(result)
    }
}

/// An apply whose batches are not all in: the database stays locked for this call
/// until the last batch commits, or the transaction is rolled back (when dropped).
pub struct ApplyTransaction {
    conn: ArcMutexGuard<RawMutex, Connection>,
    open: dir::OpenApply,
    /// Rows written by the batches so far.
    writes: u32,
}

impl ApplyTransaction {
    fn begin(db: &crate::product::db::Db, directory: i64) -> Result<ApplyTransaction, StoreError> {
        let conn = db.lock_arc();
        let open = dir::OpenApply::begin(&conn, directory)?;
        Ok(ApplyTransaction {
            conn,
            open,
            writes: 0,
        })
    }

    /// The locked connection.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Commit; the rows written.
    fn commit(mut self) -> Result<u32, StoreError> {
        self.open.commit(&self.conn)?;
        Ok(self.writes)
    }
}

impl Drop for ApplyTransaction {
    fn drop(&mut self) {
        self.open.rollback(&self.conn);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::CallScope;
    use crate::host::bindings::store::{Host as _, NewUser};
    use crate::host::http::{HttpPolicy, Resolve};
    use crate::product::db::Db;

    /// A database with one directory (its id), and a call's state on it.
    fn setup() -> (Db, String, HostState) {
        let db = Db::in_memory().unwrap();
        let dir = dir::create_directory(&db.lock(), "A", "okta").unwrap();
        let scope = CallScope {
            key_prefix: "K".into(),
            ..Default::default()
        };
        let policy = HttpPolicy::new(None, Resolve::default());
        let state = HostState::new(db.clone(), policy, scope, wasmtime::StoreLimits::default());
        (db, dir.to_string(), state)
    }

    fn users(names: &[&str]) -> Vec<Change> {
        names
            .iter()
            .map(|n| {
                Change::CreateUser(NewUser {
                    username: n.to_string(),
                    display_name: n.to_string(),
                    email: format!("{n}@example.com"),
                    active: true,
                    okta_id: None,
                    attributes: Vec::new(),
                })
            })
            .collect()
    }

    fn usernames(db: &Db) -> Vec<String> {
        let conn = db.lock();
        let mut st = conn
            .prepare("SELECT username FROM users ORDER BY username")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn batches_are_one_transaction_committed_by_the_last() {
        let (db, dir, mut s) = setup();
        s.apply(dir.clone(), users(&["ann", "bob"]), true).unwrap();
        // Reads of the same call see the open transaction (and do not deadlock on it).
        assert_eq!(s.find_by_username("ann".into()).len(), 1);
        assert_eq!(s.writes, 0, "nothing committed yet");
        s.apply(dir.clone(), users(&["cid"]), false).unwrap();
        assert!(s.apply.is_none());
        assert_eq!(s.writes, 3);
        s.end_call();
        assert_eq!(usernames(&db), ["ann", "bob", "cid"]);
    }

    #[test]
    fn a_call_ending_with_its_apply_open_rolls_every_batch_back() {
        let (db, dir, mut s) = setup();
        s.apply(dir.clone(), users(&["ann"]), true).unwrap();
        s.apply(dir, users(&["bob"]), true).unwrap();
        s.end_call();
        assert!(
            usernames(&db).is_empty(),
            "rolled back, and the lock let go"
        );
        assert_eq!(s.writes, 0);
        assert!(
            s.unsaved_log
                .iter()
                .any(|(level, m)| level == "error" && m.contains("rolled back")),
            "{:?}",
            s.unsaved_log
        );
    }

    #[test]
    fn a_failed_batch_rolls_back_the_batches_before_it() {
        let (db, dir, mut s) = setup();
        s.apply(dir.clone(), users(&["ann"]), true).unwrap();
        let err = s.apply(dir, users(&["bob", "ann"]), false).unwrap_err();
        assert!(
            matches!(&err, StoreError::Conflict(m) if m.contains("change 3 of the apply (2 of 2 in batch 2)")),
            "{err:?}"
        );
        assert!(s.apply.is_none());
        assert!(usernames(&db).is_empty());
    }
}
