//! `user-store`: the product's directory in SQLite, as the guest sees it. A read that
//! fails fails with its `store-error` (naming the read), never an empty answer: an
//! empty answer would make a sync create a duplicate user instead of migrating one.
//! Apply batches go into the call's write transaction ([`CallDb`]); they are committed
//! with the call, and a failed batch rolls back every batch before it.

use super::call_db::CallDb;
use crate::host::bindings::store::{
    self, ApplyResult, Change, Directory, Group, GroupPage, MembershipPage, StoreError, User,
    UserPage,
};
use crate::product::db::DbError;
use crate::product::db::directory::{self as dir, PageRequest, store_error};
use rusqlite::Connection;

/// The directory store of a call, and its apply.
pub struct UserStore {
    db: CallDb,
    /// Prefix of new user keys (per product).
    key_prefix: String,
    /// The apply whose last batch has not come (the batch before had `more` set).
    apply: Option<dir::OpenApply>,
    /// Rows the call's batches wrote (committed only with the call).
    writes: u32,
    /// The usernames of the directory whose memberships the call is reading, until it
    /// writes.
    usernames: Option<dir::Usernames>,
}

impl std::fmt::Debug for UserStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserStore")
            .field("apply", &self.apply)
            .field("writes", &self.writes)
            .finish_non_exhaustive()
    }
}

impl UserStore {
    /// The store of a call on `db`; new users' keys start with `key_prefix`.
    pub fn new(db: CallDb, key_prefix: String) -> Self {
        UserStore {
            db,
            key_prefix,
            apply: None,
            writes: 0,
            usernames: None,
        }
    }

    /// Whether an apply is waiting for its last batch.
    pub fn unfinished(&self) -> bool {
        self.apply.is_some()
    }

    /// Rows the call's batches wrote.
    pub fn writes(&self) -> u32 {
        self.writes
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T, DbError>) -> Result<T, StoreError> {
        self.db.read(f).map_err(|e| store_error(&e))
    }

    /// A paged read of `directory`, from the cursor `after`.
    fn page<K, T>(
        &self,
        directory: &str,
        after: Option<String>,
        limit: u32,
        f: impl FnOnce(&Connection, i64, &PageRequest<K>) -> Result<T, DbError>,
    ) -> Result<T, StoreError>
    where
        K: serde::Serialize + serde::de::DeserializeOwned,
    {
        let id = dir::directory_id(directory)?;
        let page = PageRequest::parse(after.as_deref(), limit)?;
        self.read(|c| f(c, id, &page))
    }
}

impl store::Host for UserStore {
    fn directories(&mut self) -> Result<Vec<Directory>, StoreError> {
        self.read(dir::directories)
    }

    fn list_users(
        &mut self,
        directory: String,
        after: Option<String>,
        limit: u32,
    ) -> Result<UserPage, StoreError> {
        self.page(&directory, after, limit, dir::list_users)
    }

    fn list_groups(
        &mut self,
        directory: String,
        after: Option<String>,
        limit: u32,
    ) -> Result<GroupPage, StoreError> {
        self.page(&directory, after, limit, dir::list_groups)
    }

    fn list_memberships(
        &mut self,
        directory: String,
        after: Option<String>,
        limit: u32,
    ) -> Result<MembershipPage, StoreError> {
        let cached = self.usernames.take();
        let (page, names) = self.page(&directory, after, limit, |c, id, page| {
            let names = match cached {
                Some(names) if names.directory() == id => names,
                _ => dir::Usernames::of(c, id)?,
            };
            Ok((dir::list_memberships(c, id, page, &names)?, names))
        })?;
        self.usernames = Some(names);
        Ok(page)
    }

    fn group_members(
        &mut self,
        directory: String,
        group: String,
        after: Option<String>,
        limit: u32,
    ) -> Result<MembershipPage, StoreError> {
        self.page(&directory, after, limit, |c, id, page| {
            dir::group_members(c, id, &group, page)
        })?
        .ok_or_else(|| StoreError::NotFound(format!("group `{group}` in directory {directory}")))
    }

    fn find_by_username(&mut self, username: String) -> Result<Vec<User>, StoreError> {
        self.read(|c| dir::find_by_username(c, &username))
    }

    fn find_by_email(&mut self, email: String) -> Result<Vec<User>, StoreError> {
        self.read(|c| dir::find_by_email(c, &email))
    }

    fn find_by_okta_id(&mut self, okta_id: String) -> Result<Option<User>, StoreError> {
        self.read(|c| dir::find_by_okta_id(c, &okta_id))
    }

    fn user_memberships(
        &mut self,
        directory: String,
        username: String,
    ) -> Result<Vec<String>, StoreError> {
        let id = dir::directory_id(&directory)?;
        self.read(|c| dir::user_memberships(c, id, &username))
    }

    fn find_groups(
        &mut self,
        directory: String,
        names: Vec<String>,
    ) -> Result<Vec<Group>, StoreError> {
        let id = dir::directory_id(&directory)?;
        self.read(|c| dir::find_groups(c, id, &names))
    }

    fn apply(
        &mut self,
        directory: String,
        changes: Vec<Change>,
        more: bool,
    ) -> Result<ApplyResult, StoreError> {
        let id = dir::directory_id(&directory)?;
        self.usernames = None;
        let open = self.apply.take();
        let key_prefix = &self.key_prefix;
        let (open, result) = self.db.write(|conn| {
            let mut open = match open {
                None => dir::OpenApply::new(conn, id)?,
                Some(open) if open.directory() == id => open,
                Some(open) => {
                    return Err(StoreError::Invalid(format!(
                        "an apply to directory {} was still open (rolled back): one directory per apply",
                        open.directory()
                    )));
                }
            };
            let result = open.batch(conn, &changes, key_prefix)?;
            Ok((open, result))
        })?;
        self.writes += result.writes;
        if more {
            self.apply = Some(open);
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::bindings::store::{Host as _, NewUser};
    use crate::host::http::{HttpPolicy, Resolve};
    use crate::host::{CallScope, CommitError, HostState};
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
    fn batches_are_one_transaction_committed_with_the_call() {
        let (db, dir, mut s) = setup();
        s.store
            .apply(dir.clone(), users(&["ann", "bob"]), true)
            .unwrap();
        // Reads of the same call see the open transaction (and do not deadlock on it).
        assert_eq!(s.store.find_by_username("ann".into()).unwrap().len(), 1);
        s.store.apply(dir.clone(), users(&["cid"]), false).unwrap();
        assert!(!s.store.unfinished());
        assert_eq!(s.writes(), 3);
        s.commit(true, |_| Ok(())).unwrap();
        assert_eq!(usernames(&db), ["ann", "bob", "cid"]);
    }

    #[test]
    fn a_finished_apply_of_a_failed_call_is_rolled_back() {
        let (db, dir, mut s) = setup();
        s.store.apply(dir, users(&["ann"]), false).unwrap();
        s.abandon(None);
        assert!(
            usernames(&db).is_empty(),
            "rolled back, and the lock let go"
        );
    }

    #[test]
    fn a_call_ending_with_its_apply_open_rolls_every_batch_back() {
        let (db, dir, mut s) = setup();
        s.store.apply(dir.clone(), users(&["ann"]), true).unwrap();
        s.store.apply(dir, users(&["bob"]), true).unwrap();
        let err = s.commit(true, |_| Ok(())).unwrap_err();
        assert!(matches!(err, CommitError::Unfinished), "{err:?}");
        assert!(
            usernames(&db).is_empty(),
            "rolled back, and the lock let go"
        );
    }

    #[test]
    fn a_failed_batch_rolls_back_the_batches_before_it_and_fails_the_calls_writes() {
        let (db, dir, mut s) = setup();
        s.store.apply(dir.clone(), users(&["ann"]), true).unwrap();
        let err = s
            .store
            .apply(dir.clone(), users(&["bob", "ann"]), false)
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Conflict(m) if m.contains("change 3 of the apply (2 of 2 in batch 2)")),
            "{err:?}"
        );
        // A later batch cannot go on as if the earlier ones were there.
        let again = s.store.apply(dir, users(&["cid"]), false).unwrap_err();
        assert_eq!(again, err);
        let commit = s.commit(true, |_| Ok(())).unwrap_err();
        assert!(matches!(commit, CommitError::Store(e) if e == err));
        assert!(usernames(&db).is_empty());
    }

    #[test]
    fn a_read_that_fails_is_a_typed_error_naming_the_read() {
        let (db, dir, mut s) = setup();
        db.lock()
            .execute_batch("ALTER TABLE groups RENAME TO groups_gone")
            .unwrap();
        let err = s.store.list_groups(dir.clone(), None, 10).unwrap_err();
        assert!(
            matches!(&err, StoreError::Failure(m) if m.contains("listing groups") && m.contains("no such table")),
            "{err:?}"
        );
        let err = s.store.list_users(dir, Some("not a cursor".into()), 10);
        assert!(matches!(err, Err(StoreError::Invalid(m)) if m.contains("not a cursor")));
    }
}
