//! The plan: a pure diff of the desired state (from Okta) against one directory's
//! snapshot. Applying the plan's changes to the snapshot yields the desired state, and
//! planning again afterwards yields nothing.

use crate::mapping::{Desired, DesiredGroup, DesiredUser};
use crate::report::{Action, Entry, FieldChange};
use crate::settings::{LifecycleSettings, MissingUsers, UserSettings};
use crate::store::{
    Change, DirectorySnapshot, Membership, NewUser, StoreGroup, StoreUser, UserUpdate,
};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Changes to apply, in order, and the report lines describing them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Store writes, in apply order.
    pub changes: Vec<Change>,
    /// Report lines, in the order of the changes they describe.
    pub entries: Vec<Entry>,
    /// Conflicts and skips the admin should know about.
    pub warnings: Vec<String>,
    /// How many of `entries` each change has, in order (a change has one to three), so
    /// that each apply batch's report lines go to the host with it.
    spans: Vec<u8>,
}

impl Plan {
    /// Nothing to do.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Append a change and its report lines.
    pub fn push(&mut self, change: Change, entries: impl IntoIterator<Item = Entry>) {
        let before = self.entries.len();
        self.entries.extend(entries);
        let span = u8::try_from(self.entries.len() - before).unwrap_or(u8::MAX);
        self.changes.push(change);
        self.spans.push(span);
    }

    /// Keep the changes `keep_change` keeps (it may alter them) and, of theirs, the
    /// report lines `keep_entry` keeps; a dropped change drops its lines.
    pub fn retain(
        &mut self,
        mut keep_change: impl FnMut(&mut Change) -> bool,
        mut keep_entry: impl FnMut(&Entry) -> bool,
    ) {
        let changes = std::mem::take(&mut self.changes);
        let spans = std::mem::take(&mut self.spans);
        let mut entries = std::mem::take(&mut self.entries).into_iter();
        for (mut change, span) in changes.into_iter().zip(spans) {
            let own = entries.by_ref().take(usize::from(span));
            if keep_change(&mut change) {
                let kept: Vec<Entry> = own.filter(|e| keep_entry(e)).collect();
                self.push(change, kept);
            } else {
                own.for_each(drop);
            }
        }
    }

    /// The changes and their report lines, `size` changes at a time, in order.
    pub fn into_batches(self, size: usize) -> impl Iterator<Item = (Vec<Change>, Vec<Entry>)> {
        let mut changes = self.changes.into_iter();
        let mut spans = self.spans.into_iter();
        let mut entries = self.entries.into_iter();
        std::iter::from_fn(move || {
            let batch: Vec<Change> = changes.by_ref().take(size.max(1)).collect();
            if batch.is_empty() {
                return None;
            }
            let lines: usize = spans.by_ref().take(batch.len()).map(usize::from).sum();
            Some((batch, entries.by_ref().take(lines).collect()))
        })
    }

    /// The plan's digest: SHA-256 (hex) of its changes in apply order, each fed to the
    /// hash as its `Hash` bytes (every field, length-prefixed or terminated). Two syncs
    /// against the same Okta and store get the same digest, so that an approved plan is
    /// applied only if it is still the plan. It is stable for one build of the plugin
    /// (an upgrade may change it: a plan approved before one must be approved again),
    /// and costs a fraction of hashing each change's JSON (a second at a million).
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        use std::hash::{Hash, Hasher};
        /// Feeds `Hash` writes to SHA-256 (its `finish` is not used).
        struct Feed(Sha256);
        impl Hasher for Feed {
            fn write(&mut self, bytes: &[u8]) {
                self.0.update(bytes);
            }
            fn finish(&self) -> u64 {
                unreachable!("the digest reads the SHA-256, not a u64")
            }
        }
        let mut feed = Feed(Sha256::new());
        self.changes.hash(&mut feed);
        feed.0
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Case-insensitive name → dense index, remembering the name as written (the first
/// spelling seen) and its lowercase form.
#[derive(Default)]
struct Names {
    index: HashMap<String, usize>,
    names: Vec<String>,
    lower: Vec<String>,
}

impl Names {
    fn id(&mut self, name: &str) -> usize {
        let key = name.to_lowercase();
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        self.names.push(name.to_string());
        self.lower.push(key.clone());
        self.index.insert(key, self.names.len() - 1);
        self.names.len() - 1
    }

    /// Each id's position in the order of the lowercase names. Ids have distinct
    /// lowercase names, so the ranks order ids exactly as their lowercase names do.
    fn ranks(&self) -> Vec<u32> {
        let mut order: Vec<usize> = (0..self.lower.len()).collect();
        order.sort_unstable_by(|&a, &b| self.lower[a].cmp(&self.lower[b]));
        let mut rank = vec![0u32; order.len()];
        for (r, i) in order.into_iter().enumerate() {
            rank[i] = r as u32;
        }
        rank
    }
}

/// Ordered buckets of changes, concatenated at the end.
#[derive(Default)]
struct Out {
    groups: Vec<(Change, Entry)>,
    creates: Vec<(Change, Entry)>,
    updates: Vec<(Change, Vec<Entry>)>,
    removes: Vec<(Change, Entry)>,
    adds: Vec<(Change, Entry)>,
    migrations: Vec<(Change, Vec<Entry>)>,
}

/// What a plan may conclude from a user's absence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `desired` is all of Okta: store users it does not hold are deactivated.
    Full,
    /// `desired` is a part of Okta (incremental or login sync): absent users are left
    /// alone; memberships are diffed only for the groups in the store snapshot.
    Partial,
}

/// What the connector's settings let a plan do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Create users.
    pub import: bool,
    /// Change users' fields (renames included).
    pub update: bool,
    /// Activate and deactivate users by Okta status.
    pub sync_status: bool,
    /// What happens to users Okta no longer returns.
    pub missing: MissingUsers,
    /// Remove the memberships of those users.
    pub remove_memberships_of_missing: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            import: true,
            update: true,
            sync_status: true,
            missing: MissingUsers::Disable,
            remove_memberships_of_missing: true,
        }
    }
}

impl Policy {
    /// The policy a connector's settings describe.
    pub fn of(users: &UserSettings, lifecycle: &LifecycleSettings) -> Self {
        Policy {
            import: users.import_users,
            update: users.update_users,
            sync_status: users.sync_status,
            missing: lifecycle.missing_users,
            remove_memberships_of_missing: lifecycle.remove_memberships_of_missing,
        }
    }
}

/// Description of the groups a sync adds to every user.
pub const DEFAULT_GROUP_DESCRIPTION: &str =
    "Product access: every user synced from Okta is a member";

/// Diff `desired` against `store` (one directory's content).
pub fn plan(desired: &Desired, store: &DirectorySnapshot) -> Plan {
    plan_scoped(desired, store, Scope::Full)
}

/// Diff `desired` against `store` within `scope`.
pub fn plan_scoped(desired: &Desired, store: &DirectorySnapshot, scope: Scope) -> Plan {
    plan_with(desired, store, scope, Policy::default())
}

/// Diff `desired` against `store` within `scope`, under `policy`: users (matched, then
/// renamed and updated, then created or migrated), missing users, groups, memberships.
pub fn plan_with(
    desired: &Desired,
    store: &DirectorySnapshot,
    scope: Scope,
    policy: Policy,
) -> Plan {
    let mut d = Diff::new(desired, store, scope, policy);
    let (pairs, unmatched) = d.match_users();
    d.rename_and_update(&pairs);
    d.add_users(unmatched);
    let protected = d.missing_users();
    let groups = d.groups();
    d.memberships(&groups, &protected);
    d.out.into_plan(d.warnings)
}

/// One diff in progress: what it reads, what it has concluded so far, and its output.
struct Diff<'a> {
    desired: &'a Desired,
    store: &'a DirectorySnapshot,
    scope: Scope,
    policy: Policy,
    out: Out,
    warnings: Vec<String>,
    /// Store users by lowercase username.
    by_name: HashMap<String, usize>,
    /// Store users matched to an Okta user.
    matched: Vec<bool>,
    /// Lowercase usernames after the renames, by their holder (a store user).
    holder: HashMap<String, usize>,
    /// The final username of every synced Okta user, by Okta id.
    okta_name: HashMap<&'a str, &'a str>,
    /// The final username of every matched (or anonymized) store user.
    store_final: HashMap<usize, Cow<'a, str>>,
}

/// The product's groups as a plan sees them.
struct Groups<'a> {
    /// Store groups by lowercase name.
    store: HashMap<String, &'a StoreGroup>,
    /// The final name of every synced Okta group, by Okta id.
    by_okta: HashMap<&'a str, String>,
    /// Lowercase names of the groups the connector manages (their memberships are diffed).
    managed: HashSet<String>,
}

impl<'a> Diff<'a> {
    fn new(
        desired: &'a Desired,
        store: &'a DirectorySnapshot,
        scope: Scope,
        policy: Policy,
    ) -> Self {
        let by_name: HashMap<String, usize> = store
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.username.to_lowercase(), i))
            .collect();
        Diff {
            desired,
            store,
            scope,
            policy,
            out: Out::default(),
            warnings: Vec::new(),
            holder: by_name.clone(),
            by_name,
            matched: vec![false; store.users.len()],
            okta_name: HashMap::new(),
            store_final: HashMap::new(),
        }
    }

    /// Match every Okta user to a store user (by Okta id, then by a username not synced
    /// from another Okta user): the pairs, and the Okta users that may be created.
    fn match_users(&mut self) -> (Vec<(&'a DesiredUser, usize)>, Vec<&'a DesiredUser>) {
        let store = self.store;
        let by_okta: HashMap<&str, usize> = store
            .users
            .iter()
            .enumerate()
            .filter_map(|(i, u)| u.okta_id.as_deref().map(|id| (id, i)))
            .collect();
        let mut pairs = Vec::new();
        let mut unmatched = Vec::new();
        for du in &self.desired.users {
            let lower = du.username.to_lowercase();
            let candidate = by_okta.get(du.okta_id.as_str()).copied().or_else(|| {
                self.by_name.get(&lower).copied().filter(|&i| {
                    store.users[i]
                        .okta_id
                        .as_deref()
                        .is_none_or(|o| o == du.okta_id)
                })
            });
            match candidate {
                Some(i) if !self.matched[i] => {
                    self.matched[i] = true;
                    pairs.push((du, i));
                }
                Some(_) => self.warnings.push(format!(
                    "user {} matches a user already matched; skipped",
                    du.okta_id
                )),
                None => unmatched.push(du),
            }
        }
        (pairs, unmatched)
    }

    /// The order in which matched users take their Okta usernames, and those that
    /// cannot. A matched user takes its Okta username once no other user holds it:
    /// renames that free a name go first (chains `a`→`b`, `b`→`c` resolve in one sync,
    /// in that order), and a new user may take a name a rename frees. A name held by a
    /// user who keeps it, or a cycle of renames, keeps the user's current name.
    fn rename_order(&mut self, pairs: &[(&'a DesiredUser, usize)]) -> (Vec<usize>, HashSet<usize>) {
        let mut current: Vec<String> = self
            .store
            .users
            .iter()
            .map(|u| u.username.to_lowercase())
            .collect();
        let mut renamed: Vec<usize> = Vec::new(); // indices into `pairs`, in a safe apply order
        let mut pending: Vec<usize> = (0..pairs.len()).collect();
        let holder = &mut self.holder;
        let anonymized = |u: &StoreUser| crate::pseudonym::is_anonymized(&u.key, &u.username);
        loop {
            let before = pending.len();
            pending.retain(|&p| {
                let (du, i) = pairs[p];
                let want = if du.kept.username && !anonymized(&self.store.users[i]) {
                    current[i].clone()
                } else {
                    du.username.to_lowercase()
                };
                if holder.get(&want).is_some_and(|&j| j != i) {
                    return true;
                }
                if holder.get(&current[i]) == Some(&i) {
                    holder.remove(&current[i]);
                }
                holder.insert(want.clone(), i);
                current[i] = want;
                renamed.push(p);
                false
            });
            if pending.is_empty() || pending.len() == before {
                break;
            }
        }
        (renamed, pending.into_iter().collect())
    }

    /// Renames (where possible) and field updates of the matched users.
    fn rename_and_update(&mut self, pairs: &[(&'a DesiredUser, usize)]) {
        let (renamed, blocked) = self.rename_order(pairs);
        let store = self.store;
        let mut kept: Vec<usize> = blocked.iter().copied().collect();
        kept.sort_unstable();
        for p in renamed.into_iter().chain(kept) {
            let (du, i) = pairs[p];
            let su = &store.users[i];
            let free = !blocked.contains(&p);
            if !free {
                self.warnings.push(format!(
                    "user {} was renamed in Okta to `{}`, which another user of this directory holds; kept as `{}`",
                    du.okta_id, du.username, su.username
                ));
            }
            // An anonymized user back in Okta gets its names back whatever the settings.
            let restore = crate::pseudonym::is_anonymized(&su.key, &su.username);
            let rename = free && (restore || (self.policy.update && !du.kept.username));
            let name = if rename { &du.username } else { &su.username };
            self.store_final.insert(i, Cow::Borrowed(name));
            self.okta_name.insert(&du.okta_id, name);
            let update = if restore {
                let all = Policy {
                    update: true,
                    ..self.policy
                };
                let du = DesiredUser {
                    kept: Default::default(),
                    ..du.clone()
                };
                diff_user(su, &du, rename, all)
            } else {
                diff_user(su, du, rename, self.policy)
            };
            if let Some(update) = update {
                self.out.updates.push(update);
            }
        }
    }

    /// Creates and migrations of the Okta users no store user matched.
    fn add_users(&mut self, unmatched: Vec<&'a DesiredUser>) {
        let desired = self.desired;
        for du in unmatched {
            if self.holder.contains_key(&du.username.to_lowercase()) {
                self.warnings.push(format!(
                    "user {} maps to username `{}`, which a user of this directory synced from another Okta user holds; skipped",
                    du.okta_id, du.username
                ));
            } else if let (Some(su), true) = (desired.adopt.get(&du.okta_id), self.policy.import) {
                self.migrate(du, su);
            } else if let Some(why) = desired.blocked.get(&du.okta_id) {
                self.warnings.push(why.clone());
            } else if du.creatable && self.policy.import {
                self.okta_name.insert(&du.okta_id, &du.username);
                self.out.creates.push(create_user(du));
            }
        }
    }

    /// Migration: the user moves into this directory with its key (and history); then
    /// its fields follow Okta.
    fn migrate(&mut self, du: &'a DesiredUser, su: &StoreUser) {
        self.okta_name.insert(&du.okta_id, &du.username);
        let mut e = Entry::new(Action::MigrateUser, &du.username);
        push_field(&mut e, "directory", &su.directory, "this connector's");
        self.out
            .migrations
            .push((Change::AdoptUser(su.key.clone()), vec![e]));
        let all = Policy {
            update: true,
            sync_status: true,
            ..self.policy
        };
        if let Some(update) = diff_user(su, du, true, all) {
            self.out.migrations.push(update);
        }
    }

    /// Users Okta no longer returns: disabled, deleted or kept; whether their
    /// memberships stay is a setting too (deleted users lose them with the user).
    /// Returns the store users whose memberships are left alone.
    fn missing_users(&mut self) -> HashSet<usize> {
        let (store, desired, policy) = (self.store, self.desired, self.policy);
        let untouched: HashSet<usize> = store
            .users
            .iter()
            .enumerate()
            .filter(|(_, u)| {
                u.okta_id
                    .as_ref()
                    .is_some_and(|o| desired.untouched.contains(o))
            })
            .map(|(i, _)| i)
            .collect();
        let mut protected: HashSet<usize> = untouched.clone();
        for (i, u) in store.users.iter().enumerate() {
            if self.scope != Scope::Full || self.matched[i] || untouched.contains(&i) {
                continue;
            }
            if !policy.remove_memberships_of_missing || policy.missing == MissingUsers::Delete {
                protected.insert(i);
            }
            match policy.missing {
                MissingUsers::Disable if u.active => {
                    let mut e = Entry::new(Action::DeactivateUser, &u.username);
                    e.fields.push(bool_change("active", true, false));
                    let change = Change::UpdateUser(Box::new(UserUpdate {
                        key: u.key.clone(),
                        active: Some(false),
                        ..Default::default()
                    }));
                    self.out.updates.push((change, vec![e]));
                }
                MissingUsers::Delete => self.out.updates.push((
                    Change::DeleteUser(u.key.clone()),
                    vec![Entry::new(Action::DeleteUser, &u.username)],
                )),
                MissingUsers::Anonymize => self.anonymize(i),
                _ => {}
            }
        }
        protected
    }

    /// Deactivate store user `i` and replace its username, email and display name by
    /// its pseudonym, and clear its attributes (they may say who it is); its key, Okta id
    /// and memberships (unless removed with the missing) stay. Nothing if it already is.
    /// The report names the user by its old username but holds none of its old values.
    fn anonymize(&mut self, i: usize) {
        let u = &self.store.users[i];
        if crate::pseudonym::is_anonymized(&u.key, &u.username) {
            return;
        }
        let p = crate::pseudonym::of(&u.key);
        let mut e = Entry::new(Action::AnonymizeUser, &u.username);
        for (field, new) in [
            ("username", &p.username),
            ("display-name", &p.display_name),
            ("email", &p.email),
        ] {
            e.fields.push(FieldChange {
                field: field.into(),
                old: None,
                new: Some(new.clone()),
            });
        }
        // One line per user (the guard counts it as a removal): its deactivation too.
        if u.active {
            e.fields.push(bool_change("active", true, false));
        }
        let change = Change::UpdateUser(Box::new(UserUpdate {
            key: u.key.clone(),
            username: Some(p.username.clone()),
            display_name: Some(p.display_name),
            email: Some(p.email),
            active: u.active.then_some(false),
            okta_id: None,
            attributes: (!u.attributes.is_empty()).then(BTreeMap::new),
        }));
        self.store_final.insert(i, Cow::Owned(p.username));
        self.out.updates.push((change, vec![e]));
    }

    /// Creates and updates of the synced groups and the default groups.
    fn groups(&mut self) -> Groups<'a> {
        let (store, desired) = (self.store, self.desired);
        let mut g = Groups {
            store: store
                .groups
                .iter()
                .map(|g| (g.name.to_lowercase(), g))
                .collect(),
            by_okta: HashMap::new(),
            managed: store
                .groups
                .iter()
                .filter(|g| {
                    g.okta_id.as_ref().is_some_and(|id| {
                        !desired.untouched_groups.contains(id)
                            && !desired.unread_groups.contains(id)
                    })
                })
                .map(|g| g.name.to_lowercase())
                .collect(),
        };
        for dg in &desired.groups {
            if !desired.unread_groups.contains(&dg.okta_id) {
                g.managed.insert(dg.name.to_lowercase());
            }
            let name = self.sync_group(dg, g.store.get(&dg.name.to_lowercase()).copied());
            g.by_okta.insert(&dg.okta_id, name);
        }
        for name in &desired.default_groups {
            let lower = name.to_lowercase();
            g.managed.insert(lower.clone());
            let synced = desired
                .groups
                .iter()
                .any(|d| d.name.eq_ignore_ascii_case(name));
            if !g.store.contains_key(&lower) && !synced {
                let mut e = Entry::new(Action::CreateGroup, name);
                push_field(&mut e, "description", "", DEFAULT_GROUP_DESCRIPTION);
                let group = StoreGroup {
                    name: name.clone(),
                    description: DEFAULT_GROUP_DESCRIPTION.into(),
                    okta_id: None,
                };
                self.out
                    .groups
                    .push((Change::CreateGroup(Box::new(group)), e));
            }
        }
        g
    }

    /// Create or update one synced group; returns its name in the product.
    fn sync_group(&mut self, dg: &DesiredGroup, existing: Option<&StoreGroup>) -> String {
        let want = StoreGroup {
            name: dg.name.clone(),
            description: dg.description.clone(),
            okta_id: Some(dg.okta_id.clone()),
        };
        let Some(g) = existing else {
            let mut e = Entry::new(Action::CreateGroup, &dg.name);
            push_field(&mut e, "description", "", &dg.description);
            self.out
                .groups
                .push((Change::CreateGroup(Box::new(want)), e));
            return dg.name.clone();
        };
        if g.description != dg.description || g.okta_id != want.okta_id {
            let mut e = Entry::new(Action::UpdateGroup, &g.name);
            push_field(&mut e, "description", &g.description, &dg.description);
            push_opt(&mut e, "okta-id", &g.okta_id, &want.okta_id);
            let change = Change::UpdateGroup(Box::new(StoreGroup {
                name: g.name.clone(),
                ..want
            }));
            self.out.groups.push((change, e));
        }
        g.name.clone()
    }

    /// Membership adds and removes, on interned (user, group) ids.
    fn memberships(&mut self, groups: &Groups, protected_users: &HashSet<usize>) {
        let mut users = Names::default();
        let mut names = Names::default();
        let wanted = self.wanted_memberships(groups, &mut users, &mut names);
        let (have, protected) =
            self.held_memberships(groups, protected_users, &mut users, &mut names);
        let mut removes: Vec<&(usize, usize)> = have
            .difference(&wanted)
            .filter(|(u, _)| !protected.contains(u))
            .collect();
        let mut adds: Vec<&(usize, usize)> = wanted.difference(&have).collect();
        // By lowercase group name, then lowercase username (compared as ranks).
        let (group_rank, user_rank) = (names.ranks(), users.ranks());
        let sort_key =
            |p: &&(usize, usize)| (u64::from(group_rank[p.1]) << 32) | u64::from(user_rank[p.0]);
        removes.sort_unstable_by_key(sort_key);
        adds.sort_unstable_by_key(sort_key);
        for (pairs, action, bucket) in [
            (removes, Action::RemoveMembership, &mut self.out.removes),
            (adds, Action::AddMembership, &mut self.out.adds),
        ] {
            for &(u, g) in pairs {
                let m = Membership {
                    username: users.names[u].clone(),
                    group: names.names[g].clone(),
                };
                let mut e = Entry::new(action, &m.username);
                e.group = Some(m.group.clone());
                let change = if action == Action::AddMembership {
                    Change::AddMembership(m)
                } else {
                    Change::RemoveMembership(m)
                };
                bucket.push((change, e));
            }
        }
    }

    /// The memberships Okta gives (synced groups, and the default groups for every
    /// synced user), as interned ids.
    fn wanted_memberships(
        &self,
        groups: &Groups,
        users: &mut Names,
        names: &mut Names,
    ) -> HashSet<(usize, usize)> {
        let mut wanted: HashSet<(usize, usize)> = HashSet::new();
        // Okta ids → interned ids, filled at first sight: a user or group is in many
        // memberships, and interning lowercases its name. Interning happens in the same
        // order as without these maps (an interned name keeps its id), so the result is
        // the same.
        let mut user_ix: HashMap<&str, usize> = HashMap::new();
        let mut group_ix: HashMap<&str, usize> = HashMap::new();
        for (uid, gid) in &self.desired.memberships {
            if let (Some(&u), Some(&g)) = (user_ix.get(uid.as_str()), group_ix.get(gid.as_str())) {
                wanted.insert((u, g));
            } else if let (Some(u), Some(g)) = (
                self.okta_name.get(uid.as_str()),
                groups.by_okta.get(gid.as_str()),
            ) {
                let u = users.id(u);
                let g = names.id(g);
                user_ix.insert(uid, u);
                group_ix.insert(gid, g);
                wanted.insert((u, g));
            }
        }
        for name in &self.desired.default_groups {
            let g = groups
                .store
                .get(&name.to_lowercase())
                .map(|g| g.name.as_str())
                .unwrap_or(name);
            let g = names.id(g);
            for u in self.okta_name.values() {
                wanted.insert((users.id(u), g));
            }
        }
        wanted
    }

    /// The store's memberships of managed groups, as interned ids (under their users'
    /// final names), and the interned users whose memberships are left alone.
    fn held_memberships(
        &self,
        groups: &Groups,
        protected_users: &HashSet<usize>,
        users: &mut Names,
        names: &mut Names,
    ) -> (HashSet<(usize, usize)>, HashSet<usize>) {
        let mut protected: HashSet<usize> = HashSet::new();
        let mut have: HashSet<(usize, usize)> = HashSet::new();
        // Per spelling of a group: managed or not, then its interned id; per spelling of
        // a username: its interned id and whether it is protected. Filled at first sight,
        // in the order the names would be interned without them.
        let mut group_managed: HashMap<&str, bool> = HashMap::new();
        let mut group_ids: HashMap<&str, usize> = HashMap::new();
        let mut user_ids: HashMap<&str, (usize, bool)> = HashMap::new();
        for m in &self.store.memberships {
            let is_managed = *group_managed
                .entry(m.group.as_str())
                .or_insert_with(|| groups.managed.contains(&m.group.to_lowercase()));
            if !is_managed {
                continue;
            }
            let (u, is_protected) = match user_ids.get(m.username.as_str()) {
                Some(&known) => known,
                None => {
                    let idx = self.by_name.get(&m.username.to_lowercase()).copied();
                    let name = idx
                        .and_then(|i| self.store_final.get(&i).map(|n| n.as_ref()))
                        .unwrap_or(&m.username);
                    let known = (
                        users.id(name),
                        idx.is_some_and(|i| protected_users.contains(&i)),
                    );
                    user_ids.insert(&m.username, known);
                    known
                }
            };
            let g = *group_ids
                .entry(m.group.as_str())
                .or_insert_with(|| names.id(&m.group));
            if is_protected {
                protected.insert(u);
            }
            have.insert((u, g));
        }
        (have, protected)
    }
}

impl Out {
    /// The plan, in apply order: groups, then updates (renames in an order that frees
    /// each name before it is taken), then creates (which may take a name a rename
    /// freed), then migrated users (they move into the directory, then take Okta's
    /// values), then memberships.
    fn into_plan(self, warnings: Vec<String>) -> Plan {
        // Exact capacities: at 1M memberships, growing by doubling would waste ~100 MB.
        let updates: usize = self
            .updates
            .iter()
            .chain(&self.migrations)
            .map(|(_, es)| es.len())
            .sum();
        let singles = self.groups.len() + self.creates.len() + self.removes.len() + self.adds.len();
        let changes = singles + self.updates.len() + self.migrations.len();
        let mut plan = Plan {
            changes: Vec::with_capacity(changes),
            entries: Vec::with_capacity(singles + updates),
            warnings,
            spans: Vec::with_capacity(changes),
        };
        for (c, e) in self.groups {
            plan.push(c, [e]);
        }
        for (c, es) in self.updates {
            plan.push(c, es);
        }
        for (c, e) in self.creates {
            plan.push(c, [e]);
        }
        for (c, es) in self.migrations {
            plan.push(c, es);
        }
        for (c, e) in self.removes.into_iter().chain(self.adds) {
            plan.push(c, [e]);
        }
        plan
    }
}

fn create_user(du: &DesiredUser) -> (Change, Entry) {
    let mut e = Entry::new(Action::CreateUser, &du.username);
    push_field(&mut e, "display-name", "", &du.display_name);
    push_field(&mut e, "email", "", &du.email);
    for (k, v) in &du.attributes {
        push_field(&mut e, k, "", v);
    }
    let change = Change::CreateUser(Box::new(NewUser {
        username: du.username.clone(),
        display_name: du.display_name.clone(),
        email: du.email.clone(),
        active: du.active,
        okta_id: Some(du.okta_id.clone()),
        attributes: du.attributes.clone(),
    }));
    (change, e)
}

/// The update that makes `su` look like `du`, with its report lines; `None` if equal.
fn diff_user(
    su: &StoreUser,
    du: &DesiredUser,
    rename: bool,
    policy: Policy,
) -> Option<(Change, Vec<Entry>)> {
    let mut up = UserUpdate {
        key: su.key.clone(),
        ..Default::default()
    };
    let mut e = Entry::new(
        Action::UpdateUser,
        if rename { &du.username } else { &su.username },
    );
    if rename && su.username != du.username {
        push_field(&mut e, "username", &su.username, &du.username);
        up.username = Some(du.username.clone());
    }
    if policy.update && !du.kept.display_name && su.display_name != du.display_name {
        push_field(&mut e, "display-name", &su.display_name, &du.display_name);
        up.display_name = Some(du.display_name.clone());
    }
    if policy.update && !du.kept.email && su.email != du.email {
        push_field(&mut e, "email", &su.email, &du.email);
        up.email = Some(du.email.clone());
    }
    if su.okta_id.as_deref() != Some(du.okta_id.as_str()) {
        push_opt(&mut e, "okta-id", &su.okta_id, &Some(du.okta_id.clone()));
        up.okta_id = Some(du.okta_id.clone());
    }
    let attributes = wanted_attributes(su, du);
    if policy.update && su.attributes != *attributes {
        diff_attributes(&mut e, &su.attributes, &attributes);
        up.attributes = Some(attributes.into_owned());
    }
    let mut entries = Vec::new();
    if !e.fields.is_empty() {
        entries.push(e);
    }
    if policy.sync_status && su.active != du.active {
        let action = if du.active {
            Action::ActivateUser
        } else {
            Action::DeactivateUser
        };
        let mut e = Entry::new(action, up.username.as_deref().unwrap_or(&su.username));
        e.fields.push(bool_change("active", su.active, du.active));
        entries.push(e);
        up.active = Some(du.active);
    }
    (!entries.is_empty()).then_some((Change::UpdateUser(Box::new(up)), entries))
}

/// The attributes `su` should have: `du`'s, but those a mapping leaves as they are
/// keep `su`'s values.
fn wanted_attributes<'a>(
    su: &StoreUser,
    du: &'a DesiredUser,
) -> std::borrow::Cow<'a, BTreeMap<String, String>> {
    if du.kept.attributes.is_empty() {
        return std::borrow::Cow::Borrowed(&du.attributes);
    }
    let mut attributes = du.attributes.clone();
    for name in &du.kept.attributes {
        match su.attributes.get(name) {
            Some(v) => attributes.insert(name.clone(), v.clone()),
            None => attributes.remove(name),
        };
    }
    std::borrow::Cow::Owned(attributes)
}

fn diff_attributes(e: &mut Entry, old: &BTreeMap<String, String>, new: &BTreeMap<String, String>) {
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for k in keys {
        let (o, n) = (old.get(k).cloned(), new.get(k).cloned());
        if o != n {
            push_opt(e, k, &o, &n);
        }
    }
}

fn push_field(e: &mut Entry, field: &str, old: &str, new: &str) {
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    push_opt(e, field, &opt(old), &opt(new));
}

fn push_opt(e: &mut Entry, field: &str, old: &Option<String>, new: &Option<String>) {
    if old != new {
        e.fields.push(FieldChange {
            field: field.to_string(),
            old: old.clone(),
            new: new.clone(),
        });
    }
}

fn bool_change(field: &str, old: bool, new: bool) -> FieldChange {
    FieldChange {
        field: field.to_string(),
        old: Some(old.to_string()),
        new: Some(new.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Membership;

    fn plan_of(memberships: &[(&str, &str)]) -> Plan {
        Plan {
            changes: memberships
                .iter()
                .map(|(u, g)| {
                    Change::AddMembership(Membership {
                        username: u.to_string(),
                        group: g.to_string(),
                    })
                })
                .collect(),
            ..Plan::default()
        }
    }

    #[test]
    fn the_digest_names_exactly_the_changes() {
        let one = plan_of(&[("ann", "devs"), ("bob", "ops")]);
        assert_eq!(
            one.digest(),
            plan_of(&[("ann", "devs"), ("bob", "ops")]).digest()
        );
        assert_eq!(one.digest().len(), 64);
        for other in [
            plan_of(&[("bob", "ops"), ("ann", "devs")]),
            plan_of(&[("ann", "devs")]),
            plan_of(&[("ann", "dev"), ("sbob", "ops")]),
            plan_of(&[("annd", "evs"), ("bob", "ops")]),
        ] {
            assert_ne!(one.digest(), other.digest());
        }
        let removal = Plan {
            changes: vec![Change::RemoveMembership(Membership {
                username: "ann".into(),
                group: "devs".into(),
            })],
            ..Plan::default()
        };
        assert_ne!(removal.digest(), plan_of(&[("ann", "devs")]).digest());
    }
}
