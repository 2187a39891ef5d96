//! An in-memory [`Store`]: what the plan is checked against in unit and property tests,
//! and a reference for hosts of how a batch is applied.

use crate::store::{
    ApplyResult, Change, DirectorySnapshot, Membership, Store, StoreError, StoreGroup, StoreUser,
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
            pending: None,
        }
    }

    fn apply_one(
        s: &mut DirectorySnapshot,
        next_key: &mut u32,
        c: Change,
        created: &mut Vec<(String, String)>,
    ) -> Result<(), StoreError> {
        let taken = |s: &DirectorySnapshot, name: &str| {
            s.users
                .iter()
                .any(|u| u.username.eq_ignore_ascii_case(name))
        };
        match c {
            Change::CreateUser(n) => {
                if taken(s, &n.username) {
                    return Err(StoreError::Conflict(format!(
                        "username {} exists",
                        n.username
                    )));
                }
                *next_key += 1;
                let key = format!("USER{next_key}");
                created.push((n.username.clone(), key.clone()));
                s.users.push(StoreUser {
                    key,
                    directory: String::new(),
                    username: n.username,
                    display_name: n.display_name,
                    email: n.email,
                    active: n.active,
                    okta_id: n.okta_id,
                    attributes: n.attributes,
                });
            }
            Change::UpdateUser(up) => {
                let i = s
                    .users
                    .iter()
                    .position(|u| u.key == up.key)
                    .ok_or_else(|| StoreError::NotFound(up.key.clone()))?;
                if let Some(name) = up.username {
                    if s.users
                        .iter()
                        .enumerate()
                        .any(|(j, u)| j != i && u.username.eq_ignore_ascii_case(&name))
                    {
                        return Err(StoreError::Conflict(format!("username {name} exists")));
                    }
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
            }
            Change::AdoptUser(key) => {
                return Err(StoreError::NotFound(format!(
                    "user {key}: the in-memory store holds one directory"
                )));
            }
            Change::DeleteUser(key) => {
                let i = s
                    .users
                    .iter()
                    .position(|u| u.key == key)
                    .ok_or_else(|| StoreError::NotFound(key.clone()))?;
                let gone = s.users.remove(i);
                s.memberships
                    .retain(|m| !m.username.eq_ignore_ascii_case(&gone.username));
            }
            Change::CreateGroup(g) => {
                if s.groups
                    .iter()
                    .any(|x| x.name.eq_ignore_ascii_case(&g.name))
                {
                    return Err(StoreError::Conflict(format!("group {} exists", g.name)));
                }
                s.groups.push(*g);
            }
            Change::UpdateGroup(g) => {
                let x = s
                    .groups
                    .iter_mut()
                    .find(|x| x.name.eq_ignore_ascii_case(&g.name))
                    .ok_or_else(|| StoreError::NotFound(g.name.clone()))?;
                *x = StoreGroup {
                    name: x.name.clone(),
                    ..*g
                };
            }
            Change::AddMembership(m) => {
                if !taken(s, &m.username)
                    || !s
                        .groups
                        .iter()
                        .any(|g| g.name.eq_ignore_ascii_case(&m.group))
                {
                    return Err(StoreError::NotFound(format!(
                        "{} / {}",
                        m.username, m.group
                    )));
                }
                if !s.memberships.iter().any(|x| same(x, &m)) {
                    s.memberships.push(m);
                }
            }
            Change::RemoveMembership(m) => s.memberships.retain(|x| !same(x, &m)),
        }
        Ok(())
    }
}

fn same(a: &Membership, b: &Membership) -> bool {
    a.username.eq_ignore_ascii_case(&b.username) && a.group.eq_ignore_ascii_case(&b.group)
}

impl Store for MemoryStore {
    fn snapshot(&mut self, _directory: &str) -> Result<DirectorySnapshot, StoreError> {
        Ok(self.snapshot.clone())
    }

    fn find_by_okta_id(&mut self, okta_id: &str) -> Option<StoreUser> {
        self.snapshot
            .users
            .iter()
            .find(|u| u.okta_id.as_deref() == Some(okta_id))
            .cloned()
    }

    fn find_by_username(&mut self, username: &str) -> Vec<StoreUser> {
        self.snapshot
            .users
            .iter()
            .filter(|u| u.username.eq_ignore_ascii_case(username))
            .cloned()
            .collect()
    }

    fn user_memberships(&mut self, _directory: &str, username: &str) -> Vec<String> {
        self.snapshot
            .memberships
            .iter()
            .filter(|m| m.username.eq_ignore_ascii_case(username))
            .map(|m| m.group.clone())
            .collect()
    }

    fn find_groups(&mut self, _directory: &str, names: &[String]) -> Vec<StoreGroup> {
        self.snapshot
            .groups
            .iter()
            .filter(|g| names.iter().any(|n| n.eq_ignore_ascii_case(&g.name)))
            .cloned()
            .collect()
    }

    /// All or nothing: batches work on a copy, kept while `more` is set and made the
    /// store's content by the last batch; a failed batch drops it.
    fn apply(
        &mut self,
        _directory: &str,
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
        for c in changes {
            Self::apply_one(&mut tx.snapshot, &mut tx.next_key, c, &mut created)?;
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
