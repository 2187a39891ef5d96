//! The host product's user store as the sync core sees it: plain types mirroring the
//! WIT `user-store` interface, and the [`Store`] trait the WIT glue (or a test) implements.

use std::collections::{BTreeMap, HashSet};

/// A user as the store holds it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct StoreUser {
    /// Stable key the product's history references.
    pub key: String,
    /// Owning directory id.
    pub directory: String,
    /// Login name in the product.
    pub username: String,
    /// Full name.
    pub display_name: String,
    /// Email address.
    pub email: String,
    /// May log in.
    pub active: bool,
    /// Okta user id this user is synced from.
    pub okta_id: Option<String>,
    /// Extra attributes.
    pub attributes: BTreeMap<String, String>,
    /// Last login to the product (Unix seconds), if known.
    pub last_login: Option<i64>,
}

/// What kind of directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirectoryKind {
    /// The product's internal directory.
    Internal,
    /// An Okta connector's directory.
    Okta,
    /// LDAP / Active Directory.
    Ldap,
    /// Anything else.
    Other,
}

/// A user directory of the product.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directory {
    /// Id.
    pub id: String,
    /// Kind.
    pub kind: DirectoryKind,
    /// Order; lower wins a username.
    pub position: u32,
}

/// A group as the store holds it.
#[derive(Clone, Debug, PartialEq, Eq, Default, Hash)]
pub struct StoreGroup {
    /// Group name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Okta group id this group is synced from.
    pub okta_id: Option<String>,
}

/// A membership, by username and group name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Membership {
    /// Member's username.
    pub username: String,
    /// Group name.
    pub group: String,
}

/// Everything one directory holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DirectorySnapshot {
    /// Users.
    pub users: Vec<StoreUser>,
    /// Groups.
    pub groups: Vec<StoreGroup>,
    /// Memberships.
    pub memberships: Vec<Membership>,
}

/// A user to create.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NewUser {
    /// Login name.
    pub username: String,
    /// Full name.
    pub display_name: String,
    /// Email.
    pub email: String,
    /// Starts active.
    pub active: bool,
    /// Okta id.
    pub okta_id: Option<String>,
    /// Attributes.
    pub attributes: BTreeMap<String, String>,
}

/// New values for an existing user; `None` keeps the field.
#[derive(Clone, Debug, PartialEq, Eq, Default, Hash)]
pub struct UserUpdate {
    /// The user's key.
    pub key: String,
    /// Rename.
    pub username: Option<String>,
    /// New display name.
    pub display_name: Option<String>,
    /// New email.
    pub email: Option<String>,
    /// New active flag.
    pub active: Option<bool>,
    /// New Okta id.
    pub okta_id: Option<String>,
    /// New attribute set.
    pub attributes: Option<BTreeMap<String, String>>,
}

/// One write, applied in order within an atomic batch.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Change {
    /// Create a user. (Boxed, as are the other large variants: a plan holds a million
    /// membership changes, each as large as the largest variant.)
    CreateUser(Box<NewUser>),
    /// Move a user of another directory (by key) into this one, keeping its key.
    AdoptUser(String),
    /// Update a user.
    UpdateUser(Box<UserUpdate>),
    /// Delete a user (by key) with its memberships.
    DeleteUser(String),
    /// Create a group.
    CreateGroup(Box<StoreGroup>),
    /// Update a group's description / Okta id.
    UpdateGroup(Box<StoreGroup>),
    /// Add a membership.
    AddMembership(Membership),
    /// Remove a membership.
    RemoveMembership(Membership),
}

/// Why the store failed. Mirrors the WIT `store-error`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Something named does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A uniqueness rule would be broken.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A malformed request.
    #[error("invalid: {0}")]
    Invalid(String),
    /// The store is busy or locked.
    #[error("store busy: {0}")]
    Busy(String),
    /// The store failed; nothing was written.
    #[error("store failure: {0}")]
    Failure(String),
}

/// What an applied batch did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApplyResult {
    /// Rows written.
    pub writes: u32,
    /// (username, key) of created users.
    pub created: Vec<(String, String)>,
}

/// One page of a paged store read, and the cursor of the next (none after the last).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    /// Up to the asked number of items.
    pub items: Vec<T>,
    /// The host's cursor of the next page, passed back unchanged.
    pub next: Option<String>,
}

/// Items per page when a sync reads a whole directory: large enough that a directory of
/// a million memberships takes 200 calls, small enough that one page stays a few MB.
pub const PAGE_SIZE: u32 = 5_000;

/// The host's user store, scoped to what a sync needs. Every read returns a
/// [`StoreError`] when it fails: an empty answer would make a sync create a duplicate
/// instead of migrating a user, or deactivate users it did not see.
pub trait Store {
    /// All directories, in order.
    fn directories(&mut self) -> Result<Vec<Directory>, StoreError>;
    /// A page of the users of `directory`, after the cursor `after`.
    fn list_users(
        &mut self,
        directory: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<StoreUser>, StoreError>;
    /// A page of the groups of `directory`.
    fn list_groups(
        &mut self,
        directory: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<StoreGroup>, StoreError>;
    /// A page of the memberships of `directory`.
    fn list_memberships(
        &mut self,
        directory: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<Membership>, StoreError>;
    /// The user synced from this Okta id, in any directory.
    fn find_by_okta_id(&mut self, okta_id: &str) -> Result<Option<StoreUser>, StoreError>;
    /// Users with this username in any directory, in directory order.
    fn find_by_username(&mut self, username: &str) -> Result<Vec<StoreUser>, StoreError>;
    /// Users with this email in any directory, in directory order.
    fn find_by_email(&mut self, email: &str) -> Result<Vec<StoreUser>, StoreError>;
    /// Group names of `directory` that `username` belongs to.
    fn user_memberships(
        &mut self,
        directory: &str,
        username: &str,
    ) -> Result<Vec<String>, StoreError>;
    /// Those of `names` that exist as groups in `directory`.
    fn find_groups(
        &mut self,
        directory: &str,
        names: &[String],
    ) -> Result<Vec<StoreGroup>, StoreError>;
    /// Apply a batch. The batches until one without `more` form one transaction: all of
    /// them or none (a failed batch undoes the ones before it).
    fn apply(
        &mut self,
        directory: &str,
        changes: Vec<Change>,
        more: bool,
    ) -> Result<ApplyResult, StoreError>;
}

/// Every item of a paged read, following `next` until the last page. A cursor handed
/// out twice would loop forever: the read fails instead.
fn read_all<T>(
    mut page: impl FnMut(Option<&str>) -> Result<Page<T>, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut items = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut after: Option<String> = None;
    loop {
        let p = page(after.as_deref())?;
        items.extend(p.items);
        match p.next {
            Some(next) if !seen.insert(next.clone()) => {
                return Err(StoreError::Failure(format!(
                    "the store returned the page cursor `{next}` twice"
                )));
            }
            Some(next) => after = Some(next),
            None => return Ok(items),
        }
    }
}

/// Every group of one directory, read page by page.
pub fn groups(store: &mut impl Store, directory: &str) -> Result<Vec<StoreGroup>, StoreError> {
    read_all(|after| store.list_groups(directory, after, PAGE_SIZE))
}

/// Everything one directory holds, read page by page.
pub fn snapshot(store: &mut impl Store, directory: &str) -> Result<DirectorySnapshot, StoreError> {
    Ok(DirectorySnapshot {
        users: read_all(|after| store.list_users(directory, after, PAGE_SIZE))?,
        groups: groups(store, directory)?,
        memberships: read_all(|after| store.list_memberships(directory, after, PAGE_SIZE))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_loop_fails_the_read() {
        // Pages a -> b -> a ...
        let looping = read_all(|after| {
            Ok(Page {
                items: vec![1],
                next: Some(if after == Some("b") { "a" } else { "b" }.to_string()),
            })
        });
        assert_eq!(
            looping,
            Err(StoreError::Failure(
                "the store returned the page cursor `b` twice".into()
            ))
        );
        let pages = read_all(|after| {
            Ok(Page {
                items: vec![after.map_or(0, |a| a.len())],
                next: (after.map_or(0, str::len) < 2)
                    .then(|| "x".repeat(after.map_or(0, str::len) + 1)),
            })
        });
        assert_eq!(pages, Ok(vec![0, 1, 2]));
    }
}
