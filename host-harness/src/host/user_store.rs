//! `user-store`: the product's directory in SQLite, as the guest sees it.

use super::HostState;
use crate::bindings::store::{
    self, ApplyResult, Change, Directory, DirectorySnapshot, Group, StoreError, User,
};
use crate::db::directory as dir;

impl HostState {
    /// Run a read; a database failure is logged and reads as empty (the guest's next
    /// write would fail the same way and abort the sync).
    fn read<T: Default>(
        &mut self,
        what: &str,
        f: impl FnOnce(&rusqlite::Connection) -> Result<T, crate::db::DbError>,
    ) -> T {
        let result = f(&self.db.lock());
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
        dir::snapshot(&self.db.lock(), id).map_err(|e| dir::store_error(&e))
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
    ) -> Result<ApplyResult, StoreError> {
        let id = dir::directory_id(&directory)?;
        let result = dir::apply(&mut self.db.lock(), id, &changes, &self.scope.key_prefix)?;
        self.writes += result.writes;
        Ok(result)
    }
}
