//! An in-memory [`Store`] and [`Host`]: what syncs and plans are checked against in
//! unit and property tests, and a reference for hosts of how a batch is applied.

use crate::host::{Host, Level};
use crate::report::Entry;
use crate::state::ConnectorState;

use crate::store::{
    ApplyResult, Change, Directory, DirectoryKind, DirectorySnapshot, Membership, Page, Store,
    StoreError, StoreGroup, StoreUser,
};

/// One directory held in memory (the directory id is ignored).
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    /// Current content.
    pub snapshot: DirectorySnapshot,
    /// Rows written (committed) so far.
    pub writes: u32,
    next_key: u32,
    /// The transaction of an apply whose last batch has not come yet.
    pending: Option<Pending>,
    /// When set, every read fails with this error (as a locked or broken database
    /// would); applies still work, so a test can tell a read failure from a write one.
    pub read_error: Option<StoreError>,
    /// Most items per page, below the asked limit (none: the limit), so that tests
    /// follow `next` over many pages.
    pub page_cap: Option<usize>,
    /// Changes of each batch applied, in order.
    pub batches: Vec<usize>,
}

/// What an unfinished apply has done so far, on a copy of the store.
#[derive(Clone, Debug)]
struct Pending {
    snapshot: DirectorySnapshot,
    next_key: u32,
    writes: u32,
}

impl MemoryStore {
    /// A store holding `snapshot`.
    pub fn new(snapshot: DirectorySnapshot) -> Self {
        MemoryStore {
            snapshot,
            writes: 0,
            next_key: 10_000,
            ..Default::default()
        }
    }

    /// Fail every read with `error` from now on.
    pub fn failing_reads(mut self, error: StoreError) -> Self {
        self.read_error = Some(error);
        self
    }

    fn readable(&self) -> Result<&DirectorySnapshot, StoreError> {
        match &self.read_error {
            Some(e) => Err(e.clone()),
            None => Ok(&self.snapshot),
        }
    }

    /// One page of `items` after the cursor `after` (an index, as text).
    fn page<T: Clone>(
        &self,
        items: &[T],
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<T>, StoreError> {
        let start = match after {
            None => 0,
            Some(a) => a
                .parse::<usize>()
                .map_err(|_| StoreError::Invalid(format!("`{a}` is not a page cursor")))?,
        };
        let size = (limit as usize)
            .min(self.page_cap.unwrap_or(usize::MAX))
            .max(1);
        let end = start.saturating_add(size).min(items.len());
        Ok(Page {
            items: items.get(start..end).unwrap_or_default().to_vec(),
            next: (end < items.len()).then(|| end.to_string()),
        })
    }
}

fn user_taken(s: &DirectorySnapshot, name: &str, except: Option<usize>) -> bool {
    s.users
        .iter()
        .enumerate()
        .any(|(j, u)| Some(j) != except && u.username.eq_ignore_ascii_case(name))
}

impl Pending {
    /// Apply one change to the copy.
    fn apply(
        &mut self,
        directory: &str,
        c: Change,
        created: &mut Vec<(String, String)>,
    ) -> Result<(), StoreError> {
        match c {
            Change::CreateUser(n) => self.create_user(directory, *n, created),
            Change::UpdateUser(up) => self.update_user(*up),
            Change::AdoptUser(key) => Err(StoreError::NotFound(format!(
                "user {key}: the in-memory store holds one directory"
            ))),
            Change::DeleteUser(key) => self.delete_user(&key),
            Change::CreateGroup(g) => self.create_group(*g),
            Change::UpdateGroup(g) => self.update_group(*g),
            Change::AddMembership(m) => self.add_membership(m),
            Change::RemoveMembership(m) => {
                self.snapshot.memberships.retain(|x| !same(x, &m));
                Ok(())
            }
        }
    }

    fn create_user(
        &mut self,
        directory: &str,
        n: crate::store::NewUser,
        created: &mut Vec<(String, String)>,
    ) -> Result<(), StoreError> {
        if user_taken(&self.snapshot, &n.username, None) {
            return Err(StoreError::Conflict(format!(
                "username {} exists",
                n.username
            )));
        }
        self.next_key += 1;
        let key = format!("USER{}", self.next_key);
        created.push((n.username.clone(), key.clone()));
        self.snapshot.users.push(StoreUser {
            key,
            directory: directory.to_string(),
            username: n.username,
            display_name: n.display_name,
            email: n.email,
            active: n.active,
            okta_id: n.okta_id,
            attributes: n.attributes,
            last_login: None,
        });
        Ok(())
    }

    fn update_user(&mut self, up: crate::store::UserUpdate) -> Result<(), StoreError> {
        let s = &mut self.snapshot;
        let i = s
            .users
            .iter()
            .position(|u| u.key == up.key)
            .ok_or_else(|| StoreError::NotFound(up.key.clone()))?;
        if let Some(name) = up.username {
            if user_taken(s, &name, Some(i)) {
                return Err(StoreError::Conflict(format!("username {name} exists")));
            }
            // A rename keeps the user's memberships.
            let old = std::mem::replace(&mut s.users[i].username, name.clone());
            for m in s
                .memberships
                .iter_mut()
                .filter(|m| m.username.eq_ignore_ascii_case(&old))
            {
                m.username = name.clone();
            }
        }
        let u = &mut s.users[i];
        if let Some(v) = up.display_name {
            u.display_name = v;
        }
        if let Some(v) = up.email {
            u.email = v;
        }
        if let Some(v) = up.active {
            u.active = v;
        }
        if let Some(v) = up.okta_id {
            u.okta_id = Some(v);
        }
        if let Some(v) = up.attributes {
            u.attributes = v;
        }
        Ok(())
    }

    fn delete_user(&mut self, key: &str) -> Result<(), StoreError> {
        let s = &mut self.snapshot;
        let i = s
            .users
            .iter()
            .position(|u| u.key == key)
            .ok_or_else(|| StoreError::NotFound(key.to_string()))?;
        let gone = s.users.remove(i);
        s.memberships
            .retain(|m| !m.username.eq_ignore_ascii_case(&gone.username));
        Ok(())
    }

    fn group(&mut self, name: &str) -> Option<&mut StoreGroup> {
        self.snapshot
            .groups
            .iter_mut()
            .find(|x| x.name.eq_ignore_ascii_case(name))
    }

    fn create_group(&mut self, g: StoreGroup) -> Result<(), StoreError> {
        if self.group(&g.name).is_some() {
            return Err(StoreError::Conflict(format!("group {} exists", g.name)));
        }
        self.snapshot.groups.push(g);
        Ok(())
    }

    fn update_group(&mut self, g: StoreGroup) -> Result<(), StoreError> {
        let x = self
            .group(&g.name)
            .ok_or_else(|| StoreError::NotFound(g.name.clone()))?;
        *x = StoreGroup {
            name: x.name.clone(),
            ..g
        };
        Ok(())
    }

    fn add_membership(&mut self, m: Membership) -> Result<(), StoreError> {
        if !user_taken(&self.snapshot, &m.username, None) || self.group(&m.group).is_none() {
            return Err(StoreError::NotFound(format!(
                "{} / {}",
                m.username, m.group
            )));
        }
        if !self.snapshot.memberships.iter().any(|x| same(x, &m)) {
            self.snapshot.memberships.push(m);
        }
        Ok(())
    }
}

/// A host that keeps the run's log lines and changes and the connector's state.
#[derive(Clone, Debug, Default)]
pub struct MemoryHost {
    /// Log lines, in order.
    pub lines: Vec<(Level, String)>,
    /// Report changes recorded, in order.
    pub changes: Vec<Entry>,
    /// Lines of each batch of changes recorded, in order.
    pub batches: Vec<usize>,
    /// The connector's state (as last saved).
    pub state: Option<ConnectorState>,
    /// When set, loading the state fails with this error.
    pub load_error: Option<StoreError>,
}

impl Host for MemoryHost {
    fn log(&mut self, level: Level, message: &str) {
        self.lines.push((level, message.to_string()));
    }
    fn record_changes(&mut self, entries: &[Entry]) {
        self.batches.push(entries.len());
        self.changes.extend_from_slice(entries);
    }
    fn load_state(&mut self) -> Result<Option<ConnectorState>, StoreError> {
        match &self.load_error {
            Some(e) => Err(e.clone()),
            None => Ok(self.state.clone()),
        }
    }
    fn save_state(&mut self, state: &ConnectorState) {
        self.state = Some(state.clone());
    }
}

fn same(a: &Membership, b: &Membership) -> bool {
    a.username.eq_ignore_ascii_case(&b.username) && a.group.eq_ignore_ascii_case(&b.group)
}

impl Store for MemoryStore {
    fn directories(&mut self) -> Result<Vec<Directory>, StoreError> {
        self.readable()?;
        Ok(vec![Directory {
            id: String::new(),
            kind: DirectoryKind::Okta,
            position: 0,
        }])
    }

    fn list_users(
        &mut self,
        _directory: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<StoreUser>, StoreError> {
        self.page(&self.readable()?.users, after, limit)
    }

    fn list_groups(
        &mut self,
        _directory: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<StoreGroup>, StoreError> {
        self.page(&self.readable()?.groups, after, limit)
    }

    fn list_memberships(
        &mut self,
        _directory: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<Membership>, StoreError> {
        self.page(&self.readable()?.memberships, after, limit)
    }

    fn find_by_okta_id(&mut self, okta_id: &str) -> Result<Option<StoreUser>, StoreError> {
        let users = &self.readable()?.users;
        Ok(users
            .iter()
            .find(|u| u.okta_id.as_deref() == Some(okta_id))
            .cloned())
    }

    fn find_by_username(&mut self, username: &str) -> Result<Vec<StoreUser>, StoreError> {
        let users = &self.readable()?.users;
        Ok(users
            .iter()
            .filter(|u| u.username.eq_ignore_ascii_case(username))
            .cloned()
            .collect())
    }

    fn find_by_email(&mut self, email: &str) -> Result<Vec<StoreUser>, StoreError> {
        let users = &self.readable()?.users;
        Ok(users
            .iter()
            .filter(|u| !email.is_empty() && u.email.eq_ignore_ascii_case(email))
            .cloned()
            .collect())
    }

    fn user_memberships(
        &mut self,
        _directory: &str,
        username: &str,
    ) -> Result<Vec<String>, StoreError> {
        let memberships = &self.readable()?.memberships;
        Ok(memberships
            .iter()
            .filter(|m| m.username.eq_ignore_ascii_case(username))
            .map(|m| m.group.clone())
            .collect())
    }

    fn find_groups(
        &mut self,
        _directory: &str,
        names: &[String],
    ) -> Result<Vec<StoreGroup>, StoreError> {
        let groups = &self.readable()?.groups;
        Ok(groups
            .iter()
            .filter(|g| names.iter().any(|n| n.eq_ignore_ascii_case(&g.name)))
            .cloned()
            .collect())
    }

    /// All or nothing: batches work on a copy, kept while `more` is set and made the
    /// store's content by the last batch; a failed batch drops it.
    fn apply(
        &mut self,
        directory: &str,
        changes: Vec<Change>,
        more: bool,
    ) -> Result<ApplyResult, StoreError> {
        let mut tx = self.pending.take().unwrap_or_else(|| Pending {
            snapshot: self.snapshot.clone(),
            next_key: self.next_key,
            writes: 0,
        });
        let mut created = Vec::new();
        let n = changes.len() as u32;
        self.batches.push(changes.len());
        for c in changes {
            tx.apply(directory, c, &mut created)?;
        }
        tx.writes += n;
        if more {
            self.pending = Some(tx);
        } else {
            self.snapshot = tx.snapshot;
            self.next_key = tx.next_key;
            self.writes += tx.writes;
        }
        Ok(ApplyResult { writes: n, created })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store;

    fn user(n: u32) -> StoreUser {
        StoreUser {
            key: format!("K{n}"),
            username: format!("u{n}"),
            ..Default::default()
        }
    }

    #[test]
    fn a_snapshot_follows_every_page() {
        let snapshot = DirectorySnapshot {
            users: (0..7).map(user).collect(),
            groups: vec![StoreGroup::default()],
            memberships: Vec::new(),
        };
        let mut m = MemoryStore::new(snapshot.clone());
        m.page_cap = Some(2);
        assert_eq!(
            m.list_users("d", None, 100).unwrap().next.as_deref(),
            Some("2")
        );
        assert_eq!(store::snapshot(&mut m, "d").unwrap(), snapshot);
    }

    #[test]
    fn a_failing_read_keeps_its_kind() {
        let mut m = MemoryStore::new(DirectorySnapshot::default())
            .failing_reads(StoreError::Busy("locked".into()));
        assert_eq!(
            store::snapshot(&mut m, "d"),
            Err(StoreError::Busy("locked".into()))
        );
        assert_eq!(
            m.find_by_username("a"),
            Err(StoreError::Busy("locked".into()))
        );
    }
}
