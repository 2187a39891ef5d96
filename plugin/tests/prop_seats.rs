//! Property tests of the seat limit against the in-memory store: for random directories
//! (users active or not, in the access group or not) and random Okta states (users
//! created, renamed, deactivated, reactivated, gone; the access group as a default group
//! or as a synced Okta group in another case), with random limits and seats held by
//! other directories:
//!
//! - the limited plan applies, and afterwards no more seats are used than the limit, or
//!   than before when more were used already;
//! - every user holding a seat that Okta keeps active still holds it;
//! - every user denied a seat exists (if Okta wants it) and holds no seat;
//! - a second limited sync changes nothing: the limit converges.

use plugin::mapping::{Desired, DesiredGroup, DesiredUser};
use plugin::memory::MemoryStore;
use plugin::plan::plan;
use plugin::seats::{self, Before, Licensing, Namesakes};
use plugin::store::{DirectorySnapshot, Membership, Store, StoreGroup, StoreUser};
use proptest::prelude::*;
use std::collections::BTreeSet;

const ACCESS: &str = "jira-software-users";
const NAMES: &[&str] = &["ann", "bob", "cat", "dan", "eve", "fay", "gus", "hal"];

/// One user: in the store (active, in the access group), in Okta (name index, active).
type UserCase = (Option<(bool, bool)>, Option<(usize, bool)>);

fn licensing(limit: u32, used: u32) -> Licensing {
    Licensing {
        seat_limit: limit,
        access_groups: vec![ACCESS.into()],
        seats_used: used,
    }
}

/// The users of `s` holding a seat, lowercase.
fn seated(s: &DirectorySnapshot) -> BTreeSet<String> {
    let members: BTreeSet<String> = s
        .memberships
        .iter()
        .filter(|m| m.group.eq_ignore_ascii_case(ACCESS))
        .map(|m| m.username.to_lowercase())
        .collect();
    s.users
        .iter()
        .filter(|u| u.active && members.contains(&u.username.to_lowercase()))
        .map(|u| u.username.to_lowercase())
        .collect()
}

fn store_of(cases: &[UserCase]) -> DirectorySnapshot {
    let mut s = DirectorySnapshot::default();
    for (i, (store, _)) in cases.iter().enumerate() {
        let Some((active, member)) = store else {
            continue;
        };
        let name = NAMES[i % NAMES.len()];
        s.users.push(StoreUser {
            key: format!("K{i}"),
            directory: "2".into(),
            username: name.into(),
            display_name: name.into(),
            active: *active,
            okta_id: Some(format!("00u{i}")),
            ..Default::default()
        });
        if *member {
            s.memberships.push(Membership {
                username: name.into(),
                group: ACCESS.into(),
            });
        }
    }
    if !s.memberships.is_empty() {
        s.groups.push(StoreGroup {
            name: ACCESS.into(),
            ..Default::default()
        });
    }
    s
}

fn desired_of(cases: &[UserCase], via_okta_group: bool) -> Desired {
    let mut d = Desired::default();
    let mut taken = BTreeSet::new();
    for (i, (_, okta)) in cases.iter().enumerate() {
        let Some((name, active)) = okta else {
            continue;
        };
        // Okta logins are unique: a name already taken keeps the user's own.
        let mut name = NAMES[*name % NAMES.len()];
        if !taken.insert(name) {
            name = NAMES[i % NAMES.len()];
            if !taken.insert(name) {
                continue;
            }
        }
        d.users.push(DesiredUser {
            okta_id: format!("00u{i}"),
            username: name.into(),
            display_name: name.into(),
            email: String::new(),
            active: *active,
            creatable: true,
            attributes: Default::default(),
            kept: Default::default(),
        });
    }
    if via_okta_group {
        d.groups.push(DesiredGroup {
            okta_id: "00gAccess".into(),
            name: "Jira-Software-Users".into(),
            description: String::new(),
        });
        d.memberships = d
            .users
            .iter()
            .map(|u| (u.okta_id.clone(), "00gAccess".into()))
            .collect();
    } else {
        d.default_groups = vec![ACCESS.into()];
    }
    d
}

/// One limited sync: (denied, changes applied).
fn limited_sync(
    store: &mut MemoryStore,
    d: &Desired,
    limit: u32,
    others: u32,
) -> (Vec<String>, usize) {
    let snap = store.snapshot.clone();
    let l = licensing(limit, seated(&snap).len() as u32 + others);
    let mut p = plan(d, &snap);
    let before = Before {
        access: l.access_members(&snap.memberships),
        users: snap.users,
        migrated: Vec::new(),
    };
    let denied = seats::limit(&mut p, &before, &l, |_| Namesakes::default());
    let n = p.changes.len();
    store
        .apply("2", p.changes, false)
        .expect("the limited plan applies");
    (denied, n)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_limit_holds_seats_are_kept_and_a_second_sync_changes_nothing(
        cases in prop::collection::vec(
            (
                prop::option::of((any::<bool>(), any::<bool>())),
                prop::option::of((0..NAMES.len(), any::<bool>())),
            ),
            0..NAMES.len(),
        ),
        via_okta_group in any::<bool>(),
        limit in 1u32..6,
        others in 0u32..3,
    ) {
        let snap = store_of(&cases);
        let d = desired_of(&cases, via_okta_group);
        let mut store = MemoryStore::new(snap.clone());
        let before = seated(&snap);
        let (denied, _) = limited_sync(&mut store, &d, limit, others);
        let after = seated(&store.snapshot);

        let used_before = before.len() as u32 + others;
        let used_after = after.len() as u32 + others;
        prop_assert!(
            used_after <= limit.max(used_before),
            "{used_after} seats used after, limit {limit}, {used_before} before"
        );
        // Okta's active users keep their seats (matched by Okta id: renames keep them).
        for u in &d.users {
            let was = snap.users.iter().find(|s| s.okta_id.as_deref() == Some(u.okta_id.as_str()));
            let now = store.snapshot.users.iter().find(|s| s.okta_id.as_deref() == Some(u.okta_id.as_str()));
            if let (Some(was), Some(now), true) = (was, now, u.active)
                && before.contains(&was.username.to_lowercase())
            {
                prop_assert!(after.contains(&now.username.to_lowercase()), "{} lost its seat", was.username);
            }
        }
        for name in &denied {
            prop_assert!(!after.contains(&name.to_lowercase()), "{name} denied but seated");
            prop_assert!(
                store.snapshot.users.iter().any(|u| u.username.eq_ignore_ascii_case(name)),
                "{name} denied and not in the store"
            );
        }
        let mut sorted = denied.clone();
        sorted.sort_by_key(|n| n.to_lowercase());
        prop_assert_eq!(&sorted, &denied, "denied in username order");

        let (again, changes) = limited_sync(&mut store, &d, limit, others);
        prop_assert_eq!(changes, 0, "the second sync changes nothing");
        prop_assert_eq!(again, denied);
    }
}
