//! License seats: a product licence can limit how many users hold a seat (Jira,
//! Confluence and Bitbucket count the active users of their access groups). A plan is
//! limited so that applying it never grants more seats than the licence allows.
//!
//! The rule, for the users a plan touches (this directory's, and those it migrates):
//!
//! - A user **holds a seat** when it is active and a member of an access group of its
//!   own directory (a migrated user: of the directory it comes from).
//! - Users who hold a seat keep it; the limit never takes a seat away.
//! - Seats the plan frees (deactivations, deletions, removals from the access groups)
//!   are counted first, then users who would newly take a seat (new users joining an
//!   access group, users added to one, users reactivated while in one) get seats in
//!   ascending order of their username until the limit is reached.
//! - The others are **denied**: they are still created, updated or migrated, but their
//!   additions to access groups are dropped; one who would still take a seat (a
//!   reactivation while already in an access group) is not reactivated. They are
//!   reported, and a later sync grants them seats as seats free up.
//!
//! Counting is conservative where directories share a username: a freed seat counts only
//! if no earlier directory holds the username (else the seat was never this user's), and
//! a username this directory gives up (deletion, rename) that a later directory holds
//! may hand a seat to that directory's user, so it is counted as taken.

use crate::config::FieldError;
use crate::plan::Plan;
use crate::report::{Action, Entry};
use crate::store::{Change, Membership, StoreUser, UserUpdate};
use std::collections::{BTreeSet, HashMap, HashSet};

/// A product licence with a seat limit (the WIT `licensing`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Licensing {
    /// Most seats the licence allows.
    pub seat_limit: u32,
    /// Groups whose active members take a seat (compared case-insensitively).
    pub access_groups: Vec<String>,
    /// Seats taken when the call started, over every directory.
    pub seats_used: u32,
}

impl Licensing {
    /// Refuse a licence no plan can be limited by, naming the field.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.seat_limit == 0 {
            errors.push(FieldError::new(
                "seat-limit",
                "a seat limit of 0 would let nobody use the product; use at least 1",
            ));
        }
        if self.access_groups.iter().all(|g| g.trim().is_empty()) {
            errors.push(FieldError::new(
                "access-groups",
                "a seat limit needs the groups whose members take a seat",
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Whether `group` gives access to the product.
    pub fn is_access(&self, group: &str) -> bool {
        self.access_groups.iter().any(|a| same_name(a, group))
    }

    /// The access groups among `memberships`: lowercase username → lowercase groups.
    pub fn access_members(&self, memberships: &[Membership]) -> AccessMembers {
        let mut out = AccessMembers::new();
        for m in memberships.iter().filter(|m| self.is_access(&m.group)) {
            out.entry(m.username.to_lowercase())
                .or_default()
                .insert(m.group.to_lowercase());
        }
        out
    }
}

/// Lowercase username → the lowercase access groups it is a member of.
pub type AccessMembers = HashMap<String, BTreeSet<String>>;

/// Case-insensitive name equality, as the plan compares names (no allocation for ASCII).
fn same_name(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
        || (!(a.is_ascii() && b.is_ascii()) && a.to_lowercase() == b.to_lowercase())
}

/// Who holds a username in the product's other directories.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Namesakes {
    /// A directory earlier in the order holds it (this directory's user is hidden).
    pub earlier: bool,
    /// A directory later in the order holds it (hidden by this directory's user).
    pub later: bool,
}

/// The seat state before a plan, as far as the plan can change it.
#[derive(Clone, Debug, Default)]
pub struct Before {
    /// This directory's users the plan may touch (a snapshot, whole or partial).
    pub users: Vec<StoreUser>,
    /// Their access-group memberships in this directory (complete for each user).
    pub access: AccessMembers,
    /// Users of other directories the plan migrates here, and whether each holds a seat
    /// there.
    pub migrated: Vec<(StoreUser, bool)>,
}

/// A user followed through the plan.
struct Seat {
    /// Username as written, and lowercase.
    name: String,
    lower: String,
    /// Key of an existing user (none: created by the plan).
    key: Option<String>,
    active: bool,
    /// Access groups after the changes so far, and before the plan.
    groups: BTreeSet<String>,
    initial: BTreeSet<String>,
    /// In this directory now (a migrated user only after its adoption).
    present: bool,
    /// Holds a seat before the plan.
    before: bool,
}

impl Seat {
    fn after(&self) -> bool {
        self.present && self.active && !self.groups.is_empty()
    }
}

/// The users of `before` followed through the plan's changes.
struct Walk {
    seats: Vec<Seat>,
    /// Lowercase usernames this directory gave up (deleted users, old names of renames).
    left: Vec<String>,
    by_key: HashMap<String, usize>,
    by_name: HashMap<String, usize>,
}

fn walk(plan: &Plan, before: &Before, licensing: &Licensing) -> Walk {
    let mut w = Walk::start(before);
    for change in &plan.changes {
        w.step(change, licensing);
    }
    // A name given up and taken again by this directory stays this directory's.
    let by_name = &w.by_name;
    w.left.retain(|n| !n.is_empty() && !by_name.contains_key(n));
    w
}

impl Walk {
    /// The seats before the plan: this directory's users, then the migrated ones (not
    /// present until adopted).
    fn start(before: &Before) -> Walk {
        let mut w = Walk {
            seats: Vec::new(),
            left: Vec::new(),
            by_key: HashMap::new(),
            by_name: HashMap::new(),
        };
        for u in &before.users {
            let lower = u.username.to_lowercase();
            let groups = before.access.get(&lower).cloned().unwrap_or_default();
            w.by_key.insert(u.key.clone(), w.seats.len());
            w.by_name.insert(lower.clone(), w.seats.len());
            w.seats.push(Seat {
                before: u.active && !groups.is_empty(),
                name: u.username.clone(),
                lower,
                key: Some(u.key.clone()),
                active: u.active,
                initial: groups.clone(),
                groups,
                present: true,
            });
        }
        for (u, seated) in &before.migrated {
            w.by_key.insert(u.key.clone(), w.seats.len());
            w.seats.push(Seat {
                name: u.username.clone(),
                lower: u.username.to_lowercase(),
                key: Some(u.key.clone()),
                active: u.active,
                groups: BTreeSet::new(),
                initial: BTreeSet::new(),
                present: false,
                before: *seated,
            });
        }
        w
    }

    /// Follow one change.
    fn step(&mut self, change: &Change, licensing: &Licensing) {
        match change {
            Change::CreateUser(n) => {
                let lower = n.username.to_lowercase();
                self.by_name.insert(lower.clone(), self.seats.len());
                self.seats.push(Seat {
                    name: n.username.clone(),
                    lower,
                    key: None,
                    active: n.active,
                    groups: BTreeSet::new(),
                    initial: BTreeSet::new(),
                    present: true,
                    before: false,
                });
            }
            Change::AdoptUser(key) => {
                if let Some(&i) = self.by_key.get(key) {
                    self.seats[i].present = true;
                    self.by_name.insert(self.seats[i].lower.clone(), i);
                }
            }
            Change::UpdateUser(up) => self.update(up),
            Change::DeleteUser(key) => {
                if let Some(&i) = self.by_key.get(key) {
                    let s = &mut self.seats[i];
                    s.present = false;
                    s.groups.clear();
                    self.by_name.remove(&s.lower);
                    self.left.push(s.lower.clone());
                }
            }
            Change::AddMembership(m) | Change::RemoveMembership(m)
                if licensing.is_access(&m.group) =>
            {
                if let Some(&i) = self.by_name.get(&m.username.to_lowercase()) {
                    let group = m.group.to_lowercase();
                    if matches!(change, Change::AddMembership(_)) {
                        self.seats[i].groups.insert(group);
                    } else {
                        self.seats[i].groups.remove(&group);
                    }
                }
            }
            _ => {}
        }
    }

    /// Follow a rename or an activation change.
    fn update(&mut self, up: &UserUpdate) {
        let Some(&i) = self.by_key.get(&up.key) else {
            return;
        };
        if let Some(name) = &up.username {
            let s = &mut self.seats[i];
            if self.by_name.get(&s.lower) == Some(&i) {
                self.by_name.remove(&s.lower);
            }
            self.left.push(std::mem::take(&mut s.lower));
            s.name = name.clone();
            s.lower = name.to_lowercase();
            self.by_name.insert(s.lower.clone(), i);
        }
        if let Some(active) = up.active {
            self.seats[i].active = active;
        }
    }
}

/// Limit `plan` to the seats `licensing` leaves; returns the usernames denied a seat
/// (ascending) and removes their seat-taking changes and report lines from the plan.
/// `namesakes` tells who else holds a username; it is asked only about the few users
/// whose seats the plan frees or whose names it gives up, and only when seats are short.
pub fn limit(
    plan: &mut Plan,
    before: &Before,
    licensing: &Licensing,
    mut namesakes: impl FnMut(&str) -> Namesakes,
) -> Vec<String> {
    let walk = walk(plan, before, licensing);
    let mut takers: Vec<&Seat> = walk
        .seats
        .iter()
        .filter(|s| !s.before && s.after())
        .collect();
    if takers.is_empty() {
        return Vec::new();
    }
    let limit = u64::from(licensing.seat_limit);
    let used = u64::from(licensing.seats_used);
    let penalty = walk.left.iter().filter(|n| namesakes(n).later).count() as u64;
    let room = |credit: u64| (limit + credit).saturating_sub(used + penalty);
    let mut granted = room(0);
    if (takers.len() as u64) > granted {
        let credit = walk
            .seats
            .iter()
            .filter(|s| s.before && !s.after() && !namesakes(&s.lower).earlier)
            .count() as u64;
        granted = room(credit);
    }
    let granted = usize::try_from(granted).unwrap_or(usize::MAX);
    if takers.len() <= granted {
        return Vec::new();
    }
    takers.sort_by(|a, b| a.lower.cmp(&b.lower).then_with(|| a.name.cmp(&b.name)));
    let denied = &takers[granted..];
    deny(plan, denied, licensing);
    denied.iter().map(|s| s.name.clone()).collect()
}

/// Drop the denied users' additions to access groups, and hold back the reactivation of
/// those who would still take a seat through a membership they already have.
fn deny(plan: &mut Plan, denied: &[&Seat], licensing: &Licensing) {
    let names: HashSet<&str> = denied.iter().map(|s| s.lower.as_str()).collect();
    // Denied users who keep an access group they were in: only their reactivation would
    // make them take a seat.
    let held: Vec<&Seat> = denied
        .iter()
        .filter(|s| !s.groups.is_disjoint(&s.initial))
        .copied()
        .collect();
    let held_keys: HashSet<&str> = held.iter().filter_map(|s| s.key.as_deref()).collect();
    let held_names: HashSet<&str> = held.iter().map(|s| s.lower.as_str()).collect();
    let denied_add = |username: &str, group: &str| {
        licensing.is_access(group) && names.contains(username.to_lowercase().as_str())
    };
    plan.retain(
        |c| match c {
            Change::AddMembership(m) => !denied_add(&m.username, &m.group),
            Change::UpdateUser(up)
                if up.active == Some(true) && held_keys.contains(up.key.as_str()) =>
            {
                up.active = None;
                !is_empty_update(up)
            }
            _ => true,
        },
        |e: &Entry| match e.action {
            Action::AddMembership => !e.group.as_deref().is_some_and(|g| denied_add(&e.target, g)),
            Action::ActivateUser => !held_names.contains(e.target.to_lowercase().as_str()),
            _ => true,
        },
    );
}

fn is_empty_update(up: &UserUpdate) -> bool {
    up.username.is_none()
        && up.display_name.is_none()
        && up.email.is_none()
        && up.active.is_none()
        && up.okta_id.is_none()
        && up.attributes.is_none()
}

/// The report's line about denied seats (`None` when nobody was denied).
pub fn warning(licensing: &Licensing, denied: &[String]) -> Option<String> {
    const SHOWN: usize = 10;
    if denied.is_empty() {
        return None;
    }
    let mut names = denied
        .iter()
        .take(SHOWN)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if denied.len() > SHOWN {
        names.push_str(&format!(" and {} more", denied.len() - SHOWN));
    }
    Some(format!(
        "the licence's seat limit of {} is reached: {} users did not get a seat ({names}); they are synced without {} and get a seat when one frees up",
        licensing.seat_limit,
        denied.len(),
        licensing.access_groups.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::{Desired, DesiredUser};
    use crate::memory::MemoryStore;
    use crate::plan;
    use crate::store::{DirectorySnapshot, Store};

    const ACCESS: &str = "jira-software-users";

    fn licensing(limit: u32, used: u32) -> Licensing {
        Licensing {
            seat_limit: limit,
            access_groups: vec![ACCESS.into()],
            seats_used: used,
        }
    }

    fn okta(name: &str, active: bool) -> DesiredUser {
        DesiredUser {
            okta_id: format!("00u{name}"),
            username: name.into(),
            display_name: name.into(),
            email: format!("{name}@example.com"),
            active,
            creatable: true,
            attributes: Default::default(),
            kept: Default::default(),
        }
    }

    fn desired(users: &[(&str, bool)]) -> Desired {
        Desired {
            users: users.iter().map(|(n, a)| okta(n, *a)).collect(),
            default_groups: vec![ACCESS.into()],
            ..Default::default()
        }
    }

    /// The users of `s` holding a seat.
    fn seated(s: &DirectorySnapshot) -> Vec<String> {
        let l = licensing(1, 0);
        let access = l.access_members(&s.memberships);
        let mut v: Vec<String> = s
            .users
            .iter()
            .filter(|u| u.active && access.contains_key(&u.username.to_lowercase()))
            .map(|u| u.username.clone())
            .collect();
        v.sort();
        v
    }

    /// One limited sync of `d` into `store` with `others` seats held elsewhere: the
    /// denied users and the plan that was applied.
    fn sync(store: &mut MemoryStore, d: &Desired, seats: u32, others: u32) -> (Vec<String>, Plan) {
        let snap = store.snapshot.clone();
        let l = licensing(seats, seated(&snap).len() as u32 + others);
        let mut p = plan::plan(d, &snap);
        let before = Before {
            access: l.access_members(&snap.memberships),
            users: snap.users,
            migrated: Vec::new(),
        };
        let denied = limit(&mut p, &before, &l, |_| Namesakes::default());
        store.apply("2", p.changes.clone(), false).unwrap();
        (denied, p)
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn new_users_get_seats_in_username_order_up_to_the_limit_and_the_rest_are_created_without() {
        let mut store = MemoryStore::default();
        let d = desired(&[
            ("eve", true),
            ("bob", true),
            ("dan", true),
            ("ann", true),
            ("cat", true),
        ]);
        let (denied, p) = sync(&mut store, &d, 3, 0);
        assert_eq!(denied, names(&["dan", "eve"]));
        assert_eq!(seated(&store.snapshot), names(&["ann", "bob", "cat"]));
        assert_eq!(store.snapshot.users.len(), 5, "the denied users exist too");
        assert!(
            !p.entries.iter().any(|e| e.action == Action::AddMembership
                && ["dan", "eve"].contains(&e.target.as_str())),
            "the report does not claim their memberships"
        );
        // Nothing changed: the next sync writes nothing and reports them again.
        let (denied, p) = sync(&mut store, &d, 3, 0);
        assert_eq!(denied, names(&["dan", "eve"]));
        assert!(p.is_empty(), "{:?}", p.changes);
    }

    #[test]
    fn freed_seats_go_to_the_waiting_users_and_seats_held_elsewhere_count() {
        let mut store = MemoryStore::default();
        let mut d = desired(&[
            ("a", true),
            ("b", true),
            ("c", true),
            ("d", true),
            ("e", true),
        ]);
        let (denied, _) = sync(&mut store, &d, 4, 2);
        assert_eq!(
            denied,
            names(&["c", "d", "e"]),
            "2 of 4 seats are held elsewhere"
        );
        d.users[0].active = false;
        let (denied, _) = sync(&mut store, &d, 4, 2);
        assert_eq!(denied, names(&["d", "e"]), "a's seat goes to c");
        assert_eq!(seated(&store.snapshot), names(&["b", "c"]));
    }

    #[test]
    fn without_a_shortage_nothing_is_denied() {
        let mut store = MemoryStore::default();
        let d = desired(&[("a", true), ("b", true)]);
        let (denied, p) = sync(&mut store, &d, 2, 0);
        assert!(denied.is_empty());
        assert_eq!(p, plan::plan(&d, &DirectorySnapshot::default()));
    }

    #[test]
    fn seats_held_are_kept_even_over_the_limit() {
        let mut store = MemoryStore::default();
        let d = desired(&[("a", true), ("b", true), ("c", true)]);
        sync(&mut store, &d, 10, 0);
        let mut d2 = desired(&[("a", true), ("b", true), ("c", true), ("new", true)]);
        d2.users[1].display_name = "Bee".into();
        let (denied, _) = sync(&mut store, &d2, 1, 0);
        assert_eq!(denied, names(&["new"]));
        assert_eq!(seated(&store.snapshot), names(&["a", "b", "c"]));
        assert!(store.snapshot.users.iter().any(|u| u.display_name == "Bee"));
    }

    #[test]
    fn a_reactivation_that_would_take_a_seat_is_held_back() {
        let mut store = MemoryStore::default();
        let mut d = desired(&[("a", true), ("z", true)]);
        sync(&mut store, &d, 10, 0);
        d.users[1].active = false;
        sync(&mut store, &d, 10, 0);
        // z is inactive and still in the access group; a new user takes the free seat.
        d.users[1].active = true;
        d.users[1].display_name = "Zed".into();
        d.users.push(okta("b", true));
        let (denied, p) = sync(&mut store, &d, 2, 0);
        assert_eq!(denied, names(&["z"]));
        let z = store
            .snapshot
            .users
            .iter()
            .find(|u| u.username == "z")
            .unwrap();
        assert!(!z.active, "not reactivated");
        assert_eq!(z.display_name, "Zed", "its other fields are still synced");
        assert!(!p.entries.iter().any(|e| e.action == Action::ActivateUser));
        assert_eq!(seated(&store.snapshot), names(&["a", "b"]));
        // A seat frees up: z is reactivated.
        d.users[0].active = false;
        let (denied, _) = sync(&mut store, &d, 2, 0);
        assert!(denied.is_empty());
        assert_eq!(seated(&store.snapshot), names(&["b", "z"]));
    }

    #[test]
    fn a_freed_seat_of_a_username_an_earlier_directory_holds_is_not_counted() {
        let mut store = MemoryStore::default();
        let mut d = desired(&[("a", true), ("b", true)]);
        sync(&mut store, &d, 10, 0);
        d.users[0].active = false;
        d.users.push(okta("c", true));
        let snap = store.snapshot.clone();
        let l = licensing(2, 2);
        let mut p = plan::plan(&d, &snap);
        let before = Before {
            access: l.access_members(&snap.memberships),
            users: snap.users,
            migrated: Vec::new(),
        };
        let shadowed = |n: &str| Namesakes {
            earlier: n == "a",
            later: false,
        };
        assert_eq!(
            limit(&mut p.clone(), &before, &l, |_| Namesakes::default()),
            Vec::<String>::new()
        );
        assert_eq!(limit(&mut p, &before, &l, shadowed), names(&["c"]));
    }

    #[test]
    fn a_deleted_username_a_later_directory_holds_counts_as_a_seat_taken() {
        let snap = DirectorySnapshot {
            users: vec![StoreUser {
                key: "K1".into(),
                username: "gone".into(),
                active: false,
                okta_id: Some("00ugone".into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        let d = desired(&[("new", true)]);
        let p = crate::plan::plan_with(
            &d,
            &snap,
            crate::plan::Scope::Full,
            crate::plan::Policy {
                missing: crate::settings::MissingUsers::Delete,
                ..Default::default()
            },
        );
        let l = licensing(5, 4);
        let before = Before {
            users: snap.users.clone(),
            ..Default::default()
        };
        let later = |n: &str| Namesakes {
            earlier: false,
            later: n == "gone",
        };
        assert!(limit(&mut p.clone(), &before, &l, |_| Namesakes::default()).is_empty());
        assert_eq!(limit(&mut p.clone(), &before, &l, later), names(&["new"]));
    }

    #[test]
    fn a_migrated_user_keeps_the_seat_it_held_in_its_old_directory() {
        let old = StoreUser {
            key: "INT1".into(),
            directory: "1".into(),
            username: "mig".into(),
            active: true,
            ..Default::default()
        };
        let mut d = desired(&[("mig", true), ("aaa", true)]);
        d.adopt.insert("00umig".into(), old.clone());
        // (seated in its old directory, seats used) → denied: one seat in all.
        for (seated_there, used, expect) in [(true, 1, "aaa"), (false, 0, "mig")] {
            let mut p = plan::plan(&d, &DirectorySnapshot::default());
            assert!(p.changes.contains(&Change::AdoptUser("INT1".into())));
            let before = Before {
                migrated: vec![(old.clone(), seated_there)],
                ..Default::default()
            };
            let denied = limit(&mut p, &before, &licensing(1, used), |_| {
                Namesakes::default()
            });
            assert_eq!(denied, names(&[expect]), "seated there: {seated_there}");
        }
    }

    #[test]
    fn access_groups_compare_case_insensitively() {
        let l = Licensing {
            access_groups: vec!["Jira-Software-Users".into(), "ÉQUIPE".into()],
            ..licensing(1, 0)
        };
        assert!(l.is_access("jira-software-users"));
        assert!(l.is_access("équipe"));
        assert!(!l.is_access("jira-software-users-x"));
    }

    #[test]
    fn a_licence_without_seats_or_groups_is_refused_naming_the_field() {
        let errors = Licensing {
            seat_limit: 0,
            access_groups: vec![" ".into()],
            seats_used: 0,
        }
        .validate()
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["seat-limit", "access-groups"]);
        assert!(licensing(1, 5).validate().is_ok());
    }

    #[test]
    fn the_warning_names_the_first_ten_and_counts_the_rest() {
        assert_eq!(warning(&licensing(3, 0), &[]), None);
        let denied: Vec<String> = (0..12).map(|i| format!("u{i:02}")).collect();
        let w = warning(&licensing(3, 0), &denied).unwrap();
        assert!(w.contains("seat limit of 3"), "{w}");
        assert!(w.contains("12 users did not get a seat"), "{w}");
        assert!(
            w.contains("`u09`") && !w.contains("`u10`") && w.contains("and 2 more"),
            "{w}"
        );
    }
}
