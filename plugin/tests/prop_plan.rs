//! Property tests of the plan against the in-memory store: for random Okta snapshots
//! (users of every status, duplicate and colliding logins, groups of every type,
//! memberships) and random directory contents (users matched by Okta id or username,
//! renamed, foreign, deactivated; groups synced or not; memberships):
//!
//! - the plan applies (`MemoryStore::apply` never refuses it);
//! - planning again after applying is empty (one sync converges);
//! - the directory afterwards is Okta's projection: every synced user with Okta's
//!   username (unless another user of the directory holds it), display name, email,
//!   active flag and attributes; users Okta no longer returns deactivated; users of an
//!   unknown status untouched; every synced group with its description and Okta id;
//!   memberships of synced groups exactly Okta's among the users synced;
//! - into an empty directory, the result is exactly the projection.

use plugin::config::ConnectorConfig;
use plugin::mapping::{self, Desired};
use plugin::memory::MemoryStore;
use plugin::okta::{OktaGroup, OktaUser};
use plugin::plan::plan;
use plugin::store::{DirectorySnapshot, Membership, Store, StoreGroup, StoreUser};
use proptest::prelude::*;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Logins shared by Okta and the store, with case variants, so that users collide,
/// get matched by name, renamed into each other's names, and so on.
const LOGINS: &[&str] = &[
    "ann@x.com",
    "Ann@X.com",
    "bob@x.com",
    "carol@x.com",
    "dave@x.com",
    "DAVE@x.com",
    "eve@x.com",
    "frank@x.com",
    "ÄNNE@x.com",
    "änne@x.com",
];
const STATUSES: &[&str] = &[
    "ACTIVE",
    "ACTIVE",
    "ACTIVE",
    "PASSWORD_EXPIRED",
    "LOCKED_OUT",
    "RECOVERY",
    "SUSPENDED",
    "DEPROVISIONED",
    "STAGED",
    "PROVISIONED",
    "WEIRD",
];
const GROUP_NAMES: &[&str] = &["Eng", "eng", "Sales", "Ops", "Everyone", "Admins", " Ops "];
const GROUP_TYPES: &[&str] = &[
    "OKTA_GROUP",
    "OKTA_GROUP",
    "APP_GROUP",
    "BUILT_IN",
    "NEW_KIND",
];
const NAMES: &[&str] = &["Ann", "Bob", "", " ", "Zoë"];

fn okta_user(idx: usize) -> impl Strategy<Value = OktaUser> {
    (
        0usize..12,
        prop::sample::select(STATUSES),
        proptest::option::weighted(0.95, prop::sample::select(LOGINS)),
        prop::sample::select(NAMES),
        prop::sample::select(NAMES),
        proptest::option::of("[a-c]{1,2}@x\\.com"),
        proptest::option::of(prop::sample::select(vec!["R&D", "Sales", ""])),
    )
        .prop_map(move |(id, status, login, first, last, email, dept)| {
            // Mostly distinct ids, sometimes the same id listed twice.
            let id = if id < 10 {
                format!("00u{idx}")
            } else {
                format!("00u{id}")
            };
            serde_json::from_value(json!({
                "id": id,
                "status": status,
                "profile": {
                    "login": login,
                    "firstName": first,
                    "lastName": last,
                    "email": email,
                    "department": dept,
                }
            }))
            .unwrap()
        })
}

fn okta_group(idx: usize) -> impl Strategy<Value = OktaGroup> {
    (
        prop::sample::select(GROUP_NAMES),
        prop::sample::select(GROUP_TYPES),
        proptest::option::of(prop::sample::select(vec!["", "the team", "People"])),
        0usize..8,
    )
        .prop_map(move |(name, ty, description, id)| {
            let id = if id < 7 {
                format!("00g{idx}")
            } else {
                "00g0".to_string()
            };
            serde_json::from_value(json!({
                "id": id,
                "type": ty,
                "profile": {"name": name, "description": description},
            }))
            .unwrap()
        })
}

/// An Okta snapshot: users, groups and each group's member ids (some not in the users
/// list, as DEPROVISIONED members or users deleted meanwhile are).
#[derive(Clone, Debug)]
struct OktaSnapshot {
    users: Vec<OktaUser>,
    groups: Vec<OktaGroup>,
    members: Vec<(String, Vec<String>)>,
    cfg: ConnectorConfig,
}

fn okta_snapshot() -> impl Strategy<Value = OktaSnapshot> {
    (0usize..9, 0usize..6)
        .prop_flat_map(|(nu, ng)| {
            (
                (0..nu).map(okta_user).collect::<Vec<_>>(),
                (0..ng).map(okta_group).collect::<Vec<_>>(),
                proptest::collection::vec(proptest::collection::vec(0usize..12, 0..6), ng),
                any::<bool>(),
                any::<bool>(),
            )
        })
        .prop_map(|(users, groups, members, built_in, dept)| {
            let members = groups
                .iter()
                .zip(members)
                .map(|(g, m)| {
                    let ids = m.into_iter().map(|i| format!("00u{i}")).collect();
                    (g.id.clone(), ids)
                })
                .collect();
            let cfg = ConnectorConfig {
                include_built_in_groups: built_in,
                user_attributes: if dept {
                    vec!["department".into()]
                } else {
                    vec![]
                },
                ..Default::default()
            };
            OktaSnapshot {
                users,
                groups,
                members,
                cfg,
            }
        })
}

/// A directory: users with unique keys and case-insensitively unique usernames, Okta
/// ids unique when present (from the same id space as the Okta snapshot), groups with
/// unique names, some synced from Okta, and memberships among them.
fn store_snapshot() -> impl Strategy<Value = DirectorySnapshot> {
    let user = (
        prop::sample::select(LOGINS),
        proptest::option::of(0usize..12),
        prop::sample::select(NAMES),
        "[a-c]{0,2}",
        any::<bool>(),
        proptest::option::of(prop::sample::select(vec!["R&D", "Sales", ""])),
    );
    let group = (
        prop::sample::select(GROUP_NAMES),
        proptest::option::of(0usize..8),
        prop::sample::select(vec!["", "the team", "old"]),
    );
    (
        proptest::collection::vec(user, 0..8),
        proptest::collection::vec(group, 0..5),
        proptest::collection::vec((0usize..8, 0usize..5), 0..12),
    )
        .prop_map(|(users, groups, memberships)| {
            let mut s = DirectorySnapshot::default();
            let mut names = HashSet::new();
            let mut okta_ids = HashSet::new();
            for (i, (login, okta, display, email, active, dept)) in users.into_iter().enumerate() {
                if !names.insert(login.to_lowercase()) {
                    continue;
                }
                let okta_id = okta
                    .map(|o| format!("00u{o}"))
                    .filter(|o| okta_ids.insert(o.clone()));
                s.users.push(StoreUser {
                    key: format!("K{i}"),
                    directory: "2".into(),
                    username: login.to_string(),
                    display_name: display.to_string(),
                    email: email.to_string(),
                    active,
                    okta_id,
                    attributes: dept
                        .map(|d| BTreeMap::from([("department".to_string(), d.to_string())]))
                        .unwrap_or_default(),
                    last_login: None,
                });
            }
            let mut gnames = HashSet::new();
            for (name, okta, description) in groups {
                let name = name.trim();
                if !gnames.insert(name.to_lowercase()) {
                    continue;
                }
                s.groups.push(StoreGroup {
                    name: name.to_string(),
                    description: description.to_string(),
                    okta_id: okta.map(|o| format!("00g{o}")),
                });
            }
            let mut seen = HashSet::new();
            for (u, g) in memberships {
                if let (Some(u), Some(g)) = (s.users.get(u), s.groups.get(g))
                    && seen.insert((u.key.clone(), g.name.to_lowercase()))
                {
                    s.memberships.push(Membership {
                        username: u.username.clone(),
                        group: g.name.clone(),
                    });
                }
            }
            s
        })
}

fn desired_of(o: &OktaSnapshot) -> Desired {
    mapping::desired(&o.users, &o.groups, &o.members, &o.cfg)
}

/// Memberships as (user key, lowercase group name).
fn by_key(s: &DirectorySnapshot) -> BTreeSet<(String, String)> {
    let key: HashMap<String, &str> = s
        .users
        .iter()
        .map(|u| (u.username.to_lowercase(), u.key.as_str()))
        .collect();
    s.memberships
        .iter()
        .map(|m| {
            (
                key[&m.username.to_lowercase()].to_string(),
                m.group.to_lowercase(),
            )
        })
        .collect()
}

/// Sync once: plan, apply (which must succeed), and return the store and the plan's
/// warnings.
fn sync_once(d: &Desired, store: &mut MemoryStore) -> Result<Vec<String>, TestCaseError> {
    let p = plan(d, &store.snapshot);
    prop_assert_eq!(p.changes.len() >= p.entries.len().min(1), true);
    store
        .apply("2", p.changes.clone(), false)
        .map_err(|e| TestCaseError::fail(format!("apply refused the plan: {e}\n{p:#?}")))?;
    Ok(p.warnings)
}

/// Check the directory after a sync against Okta's projection.
fn check_projection(
    d: &Desired,
    before: &DirectorySnapshot,
    after: &DirectorySnapshot,
) -> Result<(), TestCaseError> {
    let holder = |name: &str| {
        after
            .users
            .iter()
            .find(|u| u.username.to_lowercase() == name.to_lowercase())
    };
    let by_okta: HashMap<&str, &StoreUser> = after
        .users
        .iter()
        .filter_map(|u| u.okta_id.as_deref().map(|o| (o, u)))
        .collect();
    prop_assert_eq!(
        by_okta.len(),
        after.users.iter().filter(|u| u.okta_id.is_some()).count(),
        "Okta ids stay unique"
    );

    // Synced users.
    let mut present: HashMap<&str, &StoreUser> = HashMap::new();
    for du in &d.users {
        match by_okta.get(du.okta_id.as_str()) {
            Some(u) => {
                present.insert(&du.okta_id, u);
                prop_assert_eq!(&u.display_name, &du.display_name);
                prop_assert_eq!(&u.email, &du.email);
                prop_assert_eq!(u.active, du.active, "{} active", du.username);
                prop_assert_eq!(&u.attributes, &du.attributes);
                if u.username != du.username {
                    let h = holder(&du.username);
                    prop_assert!(
                        h.is_some_and(|h| h.key != u.key),
                        "{} kept `{}` though `{}` is free",
                        du.okta_id,
                        u.username,
                        du.username
                    );
                }
            }
            None => {
                let h = holder(&du.username);
                prop_assert!(
                    !du.creatable
                        || h.is_some_and(|h| h.okta_id.as_ref().is_some_and(|o| *o != du.okta_id)),
                    "creatable {} (`{}`) missing though its name is free or unsynced: {:?}",
                    du.okta_id,
                    du.username,
                    h
                );
            }
        }
    }
    // Users Okta does not return (any more) are deactivated; unknown statuses untouched.
    let synced: HashSet<&str> = d.users.iter().map(|u| u.okta_id.as_str()).collect();
    for u in &after.users {
        let o = u.okta_id.as_deref().unwrap_or("");
        if synced.contains(o) {
            continue;
        }
        let was = before.users.iter().find(|b| b.key == u.key);
        if d.untouched.contains(o) {
            prop_assert_eq!(Some(u), was, "a user of unknown status is untouched");
        } else {
            prop_assert!(!u.active, "{} is not in Okta: inactive", u.username);
        }
    }
    // Groups.
    for dg in &d.groups {
        let g = after
            .groups
            .iter()
            .find(|g| g.name.to_lowercase() == dg.name.to_lowercase());
        prop_assert!(g.is_some(), "group {} exists", dg.name);
        let g = g.unwrap();
        prop_assert_eq!(&g.description, &dg.description);
        prop_assert_eq!(g.okta_id.as_deref(), Some(dg.okta_id.as_str()));
    }
    // Memberships: synced groups hold exactly Okta's members among the synced users
    // (plus the memberships of users left untouched); other groups are as before.
    let have = by_key(after);
    let had = by_key(before);
    let untouched_keys: HashSet<&str> = after
        .users
        .iter()
        .filter(|u| u.okta_id.as_ref().is_some_and(|o| d.untouched.contains(o)))
        .map(|u| u.key.as_str())
        .collect();
    let group_of: HashMap<&str, String> = d
        .groups
        .iter()
        .map(|g| (g.okta_id.as_str(), g.name.to_lowercase()))
        .collect();
    let mut want: BTreeSet<(String, String)> = d
        .memberships
        .iter()
        .filter_map(|(u, g)| {
            Some((
                present.get(u.as_str())?.key.clone(),
                group_of.get(g.as_str())?.clone(),
            ))
        })
        .collect();
    for g in &after.groups {
        let lower = g.name.to_lowercase();
        let managed = g.okta_id.is_some();
        for m in had.iter().filter(|(_, mg)| *mg == lower) {
            if !managed || untouched_keys.contains(m.0.as_str()) {
                want.insert(m.clone());
            }
        }
    }
    prop_assert_eq!(have, want, "memberships");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Into a random directory: the plan applies, the result is Okta's projection, and
    /// planning again is empty.
    #[test]
    fn plan_applies_converges_and_projects(o in okta_snapshot(), s in store_snapshot()) {
        let d = desired_of(&o);
        let mut store = MemoryStore::new(s.clone());
        let warnings = sync_once(&d, &mut store)?;
        check_projection(&d, &s, &store.snapshot)?;
        let again = plan(&d, &store.snapshot);
        prop_assert!(again.is_empty(), "re-plan not empty: {:#?}\nwarnings of the first: {:?}", again.changes, warnings);
        prop_assert!(again.entries.is_empty());
    }

    /// Into an empty directory: exactly the creatable users, the synced groups and their
    /// memberships among those users.
    #[test]
    fn into_an_empty_directory_the_store_is_the_projection(o in okta_snapshot()) {
        let d = desired_of(&o);
        let mut store = MemoryStore::default();
        sync_once(&d, &mut store)?;
        let s = &store.snapshot;
        let users: BTreeSet<(String, String, String, bool)> = s
            .users
            .iter()
            .map(|u| (u.okta_id.clone().unwrap(), u.username.clone(), u.display_name.clone(), u.active))
            .collect();
        let want: BTreeSet<(String, String, String, bool)> = d
            .users
            .iter()
            .filter(|u| u.creatable)
            .map(|u| (u.okta_id.clone(), u.username.clone(), u.display_name.clone(), u.active))
            .collect();
        prop_assert_eq!(users, want);
        let groups: BTreeSet<&str> = s.groups.iter().map(|g| g.name.as_str()).collect();
        let want: BTreeSet<&str> = d.groups.iter().map(|g| g.name.as_str()).collect();
        prop_assert_eq!(groups, want);
        let name_of: HashMap<&str, &str> = d.users.iter().filter(|u| u.creatable).map(|u| (u.okta_id.as_str(), u.username.as_str())).collect();
        let group_of: HashMap<&str, &str> = d.groups.iter().map(|g| (g.okta_id.as_str(), g.name.as_str())).collect();
        let members: BTreeSet<(String, String)> = s.memberships.iter().map(|m| (m.username.clone(), m.group.clone())).collect();
        let want: BTreeSet<(String, String)> = d
            .memberships
            .iter()
            .filter_map(|(u, g)| Some((name_of.get(u.as_str())?.to_string(), group_of.get(g.as_str())?.to_string())))
            .collect();
        prop_assert_eq!(members, want);
        prop_assert!(plan(&d, s).is_empty());
    }

    /// Two different Okta snapshots in a row (Okta changed between syncs): each sync
    /// applies and converges.
    #[test]
    fn successive_syncs_converge(a in okta_snapshot(), b in okta_snapshot(), s in store_snapshot()) {
        let mut store = MemoryStore::new(s);
        for o in [&a, &b] {
            let d = desired_of(o);
            let before = store.snapshot.clone();
            sync_once(&d, &mut store)?;
            check_projection(&d, &before, &store.snapshot)?;
            let again = plan(&d, &store.snapshot);
            prop_assert!(again.is_empty(), "re-plan not empty: {:#?}", again.changes);
        }
    }

    /// The plan is a pure function of its inputs, and a store failure in the middle of
    /// applying it changes nothing (the memory store's all-or-nothing transaction), also
    /// when the failing change comes in a later batch than changes that applied.
    #[test]
    fn plan_is_deterministic_and_a_failed_apply_changes_nothing(o in okta_snapshot(), s in store_snapshot(), cut in any::<prop::sample::Index>()) {
        let d = desired_of(&o);
        let p = plan(&d, &s);
        prop_assert_eq!(&p, &plan(&d, &s));
        if p.changes.is_empty() {
            return Ok(());
        }
        let mut changes = p.changes.clone();
        let at = cut.index(changes.len());
        // A change that cannot apply: update of a user key that does not exist.
        changes.insert(at, plugin::store::Change::UpdateUser(Box::new(plugin::store::UserUpdate { key: "missing".into(), ..Default::default() })));
        let mut store = MemoryStore::new(s.clone());
        let second = changes.split_off(at);
        if !changes.is_empty() {
            prop_assert!(store.apply("2", changes, true).is_ok());
        }
        prop_assert!(store.apply("2", second, false).is_err());
        prop_assert_eq!(&store.snapshot, &s);
        prop_assert_eq!(store.writes, 0);
    }
}

fn user(key: &str, name: &str, okta: &str) -> StoreUser {
    StoreUser {
        key: key.into(),
        directory: "2".into(),
        username: name.into(),
        display_name: name.into(),
        email: String::new(),
        active: true,
        okta_id: Some(okta.into()),
        attributes: BTreeMap::new(),
        last_login: None,
    }
}

fn okta(id: &str, login: &str) -> OktaUser {
    serde_json::from_value(
        json!({"id": id, "status": "ACTIVE", "profile": {"login": login, "displayName": login}}),
    )
    .unwrap()
}

/// Found by `plan_applies_converges_and_projects`: a rename chain (`a`→`b`, `b`→`c`)
/// and a new Okta user taking the freed `a` used to need three syncs; one does it now.
#[test]
fn rename_chains_and_freed_names_resolve_in_one_sync() {
    let s = DirectorySnapshot {
        users: vec![user("K1", "a", "00u1"), user("K2", "b", "00u2")],
        ..Default::default()
    };
    let o = [okta("00u1", "b"), okta("00u2", "c"), okta("00u3", "a")];
    let d = mapping::desired(&o, &[], &[], &ConnectorConfig::default());
    let p = plan(&d, &s);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let mut store = MemoryStore::new(s);
    store
        .apply("2", p.changes, false)
        .expect("applies in order");
    let names: BTreeMap<String, String> = store
        .snapshot
        .users
        .iter()
        .map(|u| (u.okta_id.clone().unwrap(), u.username.clone()))
        .collect();
    assert_eq!(names["00u1"], "b");
    assert_eq!(names["00u2"], "c");
    assert_eq!(names["00u3"], "a");
    assert!(plan(&d, &store.snapshot).is_empty());
}

/// Two users swapping usernames in Okta keep theirs (warned); nothing is half-applied
/// and the next plan is empty too.
#[test]
fn a_swap_of_usernames_is_kept_and_warned() {
    let s = DirectorySnapshot {
        users: vec![user("K1", "a", "00u1"), user("K2", "b", "00u2")],
        ..Default::default()
    };
    let o = [okta("00u1", "b"), okta("00u2", "a")];
    let d = mapping::desired(&o, &[], &[], &ConnectorConfig::default());
    let p = plan(&d, &s);
    assert_eq!(p.warnings.len(), 2, "{:?}", p.warnings);
    let mut store = MemoryStore::new(s.clone());
    store.apply("2", p.changes, false).unwrap();
    assert_eq!(
        store
            .snapshot
            .users
            .iter()
            .map(|u| &u.username)
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert!(plan(&d, &store.snapshot).is_empty());
}
