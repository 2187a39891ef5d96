//! The plan step compiled natively: the plugin's own `mapping::desired` and `plan::plan`
//! on the same Okta snapshot the component fetched and the same store snapshot.

use anyhow::anyhow;
use okta_sim::{GroupType, Org};
use plugin::config::ConnectorConfig;
use plugin::okta::{OktaGroup, OktaUser};
use plugin::plan::{Plan, Policy, Scope};
use plugin::rules::Rules;
use plugin::store::{DirectorySnapshot, Membership, StoreGroup, StoreUser};
use rusqlite::Connection;
use std::collections::{HashMap, HashSet};
use std::time::Instant;

/// What a full sync fetches, in the order it fetches it.
pub struct OktaSnapshot {
    /// The users list (all but DEPROVISIONED, by creation), then DEPROVISIONED users met
    /// in group member lists.
    pub users: Vec<OktaUser>,
    /// All groups, by creation.
    pub groups: Vec<OktaGroup>,
    /// Members of each synced group, in member-list order.
    pub members: Vec<(String, Vec<String>)>,
}

fn plugin_user(u: &okta_sim::OktaUser) -> OktaUser {
    serde_json::from_value(serde_json::to_value(u).expect("user serializes"))
        .expect("the plugin reads the simulator's users")
}

fn plugin_group(g: &okta_sim::OktaGroup) -> OktaGroup {
    serde_json::from_value(serde_json::json!({
        "id": g.id,
        "type": g.group_type.as_str(),
        "profile": {"name": g.name, "description": g.description},
        "lastUpdated": g.last_updated.to_rfc3339(),
        "lastMembershipUpdated": g.last_membership_updated.to_rfc3339(),
    }))
    .expect("the plugin reads the simulator's groups")
}

/// The snapshot a full sync (BUILT_IN groups not synced) fetches from this org, built
/// from the org as the simulator serves it.
pub fn okta_snapshot(org: &Org) -> OktaSnapshot {
    let mut listed: Vec<&okta_sim::OktaUser> = org
        .users
        .iter()
        .filter(|u| u.status != "DEPROVISIONED")
        .collect();
    listed.sort_by(|a, b| {
        (a.created.timestamp_millis(), &a.id).cmp(&(b.created.timestamp_millis(), &b.id))
    });
    let mut groups: Vec<&okta_sim::OktaGroup> = org.groups.iter().collect();
    groups.sort_by(|a, b| {
        (a.created.timestamp_millis(), &a.id).cmp(&(b.created.timestamp_millis(), &b.id))
    });
    let by_id: HashMap<&str, &okta_sim::OktaUser> =
        org.users.iter().map(|u| (u.id.as_str(), u)).collect();
    let mut known: HashSet<&str> = listed.iter().map(|u| u.id.as_str()).collect();
    let mut users: Vec<OktaUser> = listed.iter().map(|u| plugin_user(u)).collect();
    let mut members = Vec::new();
    for g in groups.iter().filter(|g| g.group_type != GroupType::BuiltIn) {
        let mut ids = Vec::new();
        for m in &g.members {
            if let Some(u) = by_id.get(m.as_str()) {
                ids.push(u.id.clone());
                if known.insert(u.id.as_str()) {
                    users.push(plugin_user(u));
                }
            }
        }
        members.push((g.id.clone(), ids));
    }
    OktaSnapshot {
        users,
        groups: groups.iter().map(|g| plugin_group(g)).collect(),
        members,
    }
}

/// The plan step as the component's sync runs it, compiled natively: the connector's
/// settings validated and compiled the same way (product Jira, as the harness plays it).
pub struct Planner {
    cfg: ConnectorConfig,
    rules: Rules,
}

impl Planner {
    /// The settings of the bench connector.
    pub fn new(cfg: &ConnectorConfig) -> anyhow::Result<Planner> {
        let cfg = plugin::config::configure(cfg)
            .map_err(|e| anyhow!("bench connector settings: {e:?}"))?;
        let rules = Rules::compile(&cfg, plugin::settings::product_default_groups("jira"))
            .map_err(|e| anyhow!("bench connector rules: {e:?}"))?;
        Ok(Planner { cfg, rules })
    }

    /// `mapping::desired_with`, the store lookups of users to create (the component's
    /// `resolve_existing`: one `find-by-username` each, here straight from SQLite), then
    /// `plan::plan_with`; timed and weighed.
    pub fn time_plan(
        &self,
        snap: &OktaSnapshot,
        store: &DirectorySnapshot,
        db: &Connection,
    ) -> Timed {
        let base = crate::alloc::live();
        crate::alloc::reset_peak();
        let t = Instant::now();
        let desired = plugin::mapping::desired_with(
            &snap.users,
            &snap.groups,
            &snap.members,
            &self.rules,
            &self.cfg.user_attributes,
        );
        let desired_ms = t.elapsed().as_secs_f64() * 1e3;
        let desired_bytes = crate::alloc::live().saturating_sub(base);
        let t = Instant::now();
        let ids: HashSet<&str> = store
            .users
            .iter()
            .filter_map(|u| u.okta_id.as_deref())
            .collect();
        let names: HashSet<String> = store
            .users
            .iter()
            .map(|u| u.username.to_lowercase())
            .collect();
        let mut lookups = 0;
        for u in desired.users.iter().filter(|u| {
            u.creatable
                && !ids.contains(u.okta_id.as_str())
                && !names.contains(&u.username.to_lowercase())
        }) {
            let found = usersync::product::db::directory::find_by_username(db, &u.username);
            lookups += 1;
            std::hint::black_box(found.ok());
        }
        drop((ids, names));
        let lookups_ms = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let policy = Policy::of(&self.rules.users, &self.rules.lifecycle);
        let plan = plugin::plan::plan_with(&desired, store, Scope::Full, policy);
        let plan_ms = t.elapsed().as_secs_f64() * 1e3;
        let plan_bytes = crate::alloc::live().saturating_sub(base + desired_bytes);
        let peak_bytes = crate::alloc::peak().saturating_sub(base);
        drop(desired);
        Timed {
            desired_ms,
            lookups_ms,
            lookups,
            plan_ms,
            desired_bytes,
            plan_bytes,
            peak_bytes,
            plan,
        }
    }
}

/// One native plan step, timed and weighed.
pub struct Timed {
    /// `mapping::desired_with`, ms.
    pub desired_ms: f64,
    /// Store lookups of the users to create, ms.
    pub lookups_ms: f64,
    /// How many.
    pub lookups: usize,
    /// `plan::plan_with`, ms.
    pub plan_ms: f64,
    /// Heap held by the desired state, bytes.
    pub desired_bytes: usize,
    /// Heap held by the plan, bytes.
    pub plan_bytes: usize,
    /// Peak heap above the start while all ran, bytes.
    pub peak_bytes: usize,
    /// The plan.
    pub plan: Plan,
}

/// The connector's directory as the plugin's store types, read from SQLite natively.
pub fn store_snapshot(db: &Connection, directory: i64) -> anyhow::Result<DirectorySnapshot> {
    let s =
        usersync::product::db::directory::snapshot(db, directory).map_err(|e| anyhow!("{e}"))?;
    Ok(DirectorySnapshot {
        users: s
            .users
            .into_iter()
            .map(|u| StoreUser {
                key: u.key,
                directory: u.directory,
                username: u.username,
                display_name: u.display_name,
                email: u.email,
                active: u.active,
                okta_id: u.okta_id,
                last_login: None,
                attributes: u
                    .attributes
                    .into_iter()
                    .map(|a| (a.name, a.value))
                    .collect(),
            })
            .collect(),
        groups: s
            .groups
            .into_iter()
            .map(|g| StoreGroup {
                name: g.name,
                description: g.description,
                okta_id: g.okta_id,
            })
            .collect(),
        memberships: s
            .memberships
            .into_iter()
            .map(|m| Membership {
                username: m.username,
                group: m.group,
            })
            .collect(),
    })
}

/// The plan's changes as the host's `user-store` changes (what the component passes to
/// `apply`), for applying them natively.
pub fn host_changes(
    changes: &[plugin::store::Change],
) -> Vec<usersync::host::bindings::store::Change> {
    use plugin::store::Change as P;
    use usersync::host::bindings::store as h;
    let attrs = |a: &std::collections::BTreeMap<String, String>| {
        a.iter()
            .map(|(k, v)| usersync::host::bindings::types::Attribute {
                name: k.clone(),
                value: v.clone(),
            })
            .collect::<Vec<_>>()
    };
    let group = |g: &StoreGroup| h::Group {
        name: g.name.clone(),
        description: g.description.clone(),
        okta_id: g.okta_id.clone(),
    };
    let member = |m: &Membership| h::Membership {
        username: m.username.clone(),
        group: m.group.clone(),
    };
    changes
        .iter()
        .map(|c| match c {
            P::CreateUser(n) => h::Change::CreateUser(h::NewUser {
                username: n.username.clone(),
                display_name: n.display_name.clone(),
                email: n.email.clone(),
                active: n.active,
                okta_id: n.okta_id.clone(),
                attributes: attrs(&n.attributes),
            }),
            P::AdoptUser(k) => h::Change::AdoptUser(k.clone()),
            P::UpdateUser(u) => h::Change::UpdateUser(h::UserUpdate {
                key: u.key.clone(),
                username: u.username.clone(),
                display_name: u.display_name.clone(),
                email: u.email.clone(),
                active: u.active,
                okta_id: u.okta_id.clone(),
                attributes: u.attributes.as_ref().map(attrs),
            }),
            P::DeleteUser(k) => h::Change::DeleteUser(k.clone()),
            P::CreateGroup(g) => h::Change::CreateGroup(group(g)),
            P::UpdateGroup(g) => h::Change::UpdateGroup(group(g)),
            P::AddMembership(m) => h::Change::AddMembership(member(m)),
            P::RemoveMembership(m) => h::Change::RemoveMembership(member(m)),
        })
        .collect()
}

/// A new database in a temp dir (kept while the first value lives) with one Okta
/// directory (its id).
fn fresh_store() -> anyhow::Result<(tempfile::TempDir, usersync::product::db::Db, i64)> {
    let dir = tempfile::tempdir()?;
    let db = usersync::product::db::Db::open(&dir.path().join("native.db"))?;
    let id = usersync::product::db::directory::create_directory(&db.lock(), "native", "okta")?;
    Ok((dir, db, id))
}

/// Apply `changes` natively to a fresh store in two batches, the users and groups, then
/// the memberships: (ms of each).
pub fn time_apply_split(changes: &[plugin::store::Change]) -> anyhow::Result<(f64, f64)> {
    let (_dir, db, id) = fresh_store()?;
    let mut conn = db.lock();
    let changes = host_changes(changes);
    let split = changes
        .iter()
        .position(|c| matches!(c, usersync::host::bindings::store::Change::AddMembership(_)))
        .unwrap_or(changes.len());
    let mut times = [0.0; 2];
    for (i, part) in [&changes[..split], &changes[split..]]
        .into_iter()
        .enumerate()
    {
        let t = Instant::now();
        usersync::product::db::directory::apply(&mut conn, id, part, "JIRAUSER")
            .map_err(|e| anyhow!("native apply: {e:?}"))?;
        times[i] = t.elapsed().as_secs_f64() * 1e3;
    }
    Ok((times[0], times[1]))
}

/// Apply `changes` natively to a fresh store (a new database with one Okta directory):
/// the SQLite part of the component's `apply`, ms.
pub fn time_apply(changes: &[plugin::store::Change]) -> anyhow::Result<(f64, u32)> {
    let (_dir, db, id) = fresh_store()?;
    let mut conn = db.lock();
    let changes = host_changes(changes);
    let t = Instant::now();
    let r = usersync::product::db::directory::apply(&mut conn, id, &changes, "JIRAUSER")
        .map_err(|e| anyhow!("native apply: {e:?}"))?;
    Ok((t.elapsed().as_secs_f64() * 1e3, r.writes))
}
