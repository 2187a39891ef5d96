//! Project and diff: the Okta objects mapped onto what the store should hold, the part
//! of the store in play read (page by page), existing users of other directories
//! resolved, the plan made and kept within the licence's seats.

use super::fetch::Fetched;
use super::mode::Chosen;
use super::{Call, Context, Mode};
use crate::inactivity;
use crate::mapping::{self, Desired};
use crate::plan::{self, Plan, Policy, Scope};
use crate::rules::Rules;
use crate::seats::{self, AccessMembers, Namesakes};
use crate::store::{self, DirectorySnapshot, Membership, Store, StoreError, StoreUser};
use std::collections::{HashMap, HashSet};

/// What the store should hold, from one fetch.
pub struct Projected {
    /// The target state.
    pub desired: Desired,
    /// Whether the token sees only some groups.
    pub scoped: bool,
    /// What the admin should know.
    pub warnings: Vec<String>,
    /// Each Okta user's account start by Okta id, when inactivity cleanup needs it.
    pub since: HashMap<String, i64>,
}

/// Map the fetched objects. Okta's `Everyone` is visible to every org-wide token and
/// hidden from group-scoped admins: without it, the sync covers exactly what the token
/// sees and leaves the rest of the directory alone.
pub fn project(fetched: Fetched, call: &Call, chosen: &Chosen) -> Projected {
    let cfg = &call.settings.config;
    let since = match &call.settings.rules.lifecycle.inactivity {
        Some(_) => fetched
            .users
            .iter()
            .filter_map(|u| u.since().map(|s| (u.id.clone(), s)))
            .collect(),
        None => HashMap::new(),
    };
    let desired = mapping::desired_with(
        &fetched.users,
        &fetched.groups,
        &fetched.members,
        &call.settings.rules,
        &cfg.user_attributes,
    );
    let scoped = chosen.mode == Mode::Full && !fetched.org_wide;
    let mut desired = desired;
    desired.unread_groups = fetched.unread;
    desired.deprovisioned = fetched
        .deprovisioned
        .iter()
        .filter_map(|u| mapping::map_user_with(u, &call.settings.rules, &cfg.user_attributes).ok())
        .collect();
    let mut warnings = desired.warnings.clone();
    if scoped {
        warnings.push(format!(
            "the API token is scoped to {} groups (a group administrator's token): only their users are synced; others are left unchanged",
            fetched.groups.len()
        ));
    }
    Projected {
        desired,
        scoped,
        warnings,
        since,
    }
}

/// A plan and what the report says about it.
#[derive(Default)]
pub struct Diffed {
    /// The plan, within the seat limit.
    pub plan: Plan,
    /// Its digest, computed once (hashing a million changes takes a while).
    pub digest: String,
    /// Users denied a seat.
    pub seats_denied: Vec<String>,
    /// Active users of the directory before (0 for a scoped token, which sees only part
    /// of it: the guard then counts the changes alone).
    pub active_users: u32,
    /// Whether the token sees only some groups.
    pub scoped: bool,
    /// Okta users synced.
    pub okta_users: u32,
    /// Okta groups synced.
    pub okta_groups: u32,
    /// Projection and seat warnings (the plan's own are in the plan).
    pub warnings: Vec<String>,
    /// Lowercase usernames of the users an incremental sync saw (whose seats it judged).
    pub seen: Vec<String>,
    /// Whether the memberships of every user the plan creates are known: false when a
    /// created user's memberships of unread groups may be missing (see [`marks::next`]).
    ///
    /// [`marks::next`]: super::marks::next
    pub memberships_known: bool,
}

/// Read the store's part in play and diff the projection against it.
pub fn diff(
    projected: Projected,
    call: &Call,
    chosen: &Chosen,
    store: &mut impl Store,
) -> Result<Diffed, StoreError> {
    let Projected {
        mut desired,
        scoped,
        mut warnings,
        since,
    } = projected;
    let ctx = call.ctx;
    let mut diffed = Diffed {
        scoped,
        okta_users: desired.users.len() as u32,
        okta_groups: desired.groups.len() as u32,
        memberships_known: true,
        ..Default::default()
    };
    if chosen.mode != Mode::Full {
        diffed.seen = desired
            .users
            .iter()
            .map(|u| u.username.to_lowercase())
            .collect();
    }
    // Nothing changed in Okta: nothing to read from the store either.
    if chosen.mode != Mode::Full && desired.users.is_empty() && desired.groups.is_empty() {
        diffed.warnings = warnings;
        diffed.digest = diffed.plan.digest();
        return Ok(diffed);
    }
    // Memory: at 100k users the Okta objects, the desired state, the store snapshot and
    // the plan are each hundreds of MB; each is freed as soon as the next step has it.
    let full = store::snapshot(store, &ctx.directory)?;
    // The guard judges every sync against the whole directory, an incremental one too.
    if !scoped {
        diffed.active_users = full.users.iter().filter(|u| u.active).count() as u32;
    }
    if let Some(policy) = &call.settings.rules.lifecycle.inactivity {
        warnings.extend(inactivity::judge(
            &mut desired,
            &full,
            &since,
            policy,
            ctx.now,
        ));
    }
    let whole = chosen.mode == Mode::Full && !scoped;
    // Seats are read from the whole directory: a partial snapshot may leave out a user's
    // access-group memberships.
    let access = ctx
        .licensing
        .as_ref()
        .map(|l| l.access_members(&full.memberships))
        .unwrap_or_default();
    let (snapshot, scope) = if whole {
        (full, Scope::Full)
    } else {
        (partial_snapshot(full, &desired), Scope::Partial)
    };
    admit_unread_members(&mut desired, &snapshot);
    diffed.memberships_known = memberships_known(&desired, &snapshot);
    resolve_existing(&mut desired, &snapshot, &call.settings.rules, ctx, store)?;
    let policy = Policy::of(&call.settings.rules.users, &call.settings.rules.lifecycle);
    diffed.plan = plan::plan_with(&desired, &snapshot, scope, policy);
    diffed.seats_denied = limit_seats(
        &mut diffed.plan,
        snapshot.users,
        access,
        &desired,
        ctx,
        store,
    )?;
    warnings.extend(seat_warning(ctx, &diffed.seats_denied));
    diffed.warnings = warnings;
    diffed.digest = diffed.plan.digest();
    Ok(diffed)
}

/// The report's line about users denied a seat, if any.
pub fn seat_warning(ctx: &Context, denied: &[String]) -> Option<String> {
    ctx.licensing
        .as_ref()
        .and_then(|l| seats::warning(l, denied))
}

/// The part of a directory snapshot an incremental sync may touch: the users it fetched
/// (and the store members of its changed groups, for membership diffs), those groups and
/// their memberships.
fn partial_snapshot(full: DirectorySnapshot, desired: &Desired) -> DirectorySnapshot {
    let lower = |s: &str| s.to_lowercase();
    let ids: HashSet<&str> = desired.users.iter().map(|u| u.okta_id.as_str()).collect();
    let names: HashSet<String> = desired.users.iter().map(|u| lower(&u.username)).collect();
    let groups: HashSet<String> = desired.groups.iter().map(|g| lower(&g.name)).collect();
    let defaults: HashSet<String> = desired.default_groups.iter().map(|g| lower(g)).collect();
    // Default groups hold every user: only the fetched users' memberships are in play.
    let memberships: Vec<Membership> = full
        .memberships
        .into_iter()
        .filter(|m| {
            let g = lower(&m.group);
            groups.contains(&g) || (defaults.contains(&g) && names.contains(&lower(&m.username)))
        })
        .collect();
    let members: HashSet<String> = memberships.iter().map(|m| lower(&m.username)).collect();
    let users = full
        .users
        .into_iter()
        .filter(|u| {
            let name = lower(&u.username);
            u.okta_id.as_deref().is_some_and(|o| ids.contains(o))
                || names.contains(&name)
                || members.contains(&name)
        })
        .collect();
    let groups = full
        .groups
        .into_iter()
        .filter(|g| {
            let g = lower(&g.name);
            groups.contains(&g) || defaults.contains(&g)
        })
        .collect();
    DirectorySnapshot {
        users,
        groups,
        memberships,
    }
}

/// The store's members of the unread groups, as lowercase usernames.
fn members_of_unread(desired: &Desired, store: &DirectorySnapshot) -> HashSet<String> {
    let unread: HashSet<String> = store
        .groups
        .iter()
        .filter(|g| {
            g.okta_id
                .as_ref()
                .is_some_and(|id| desired.unread_groups.contains(id))
        })
        .map(|g| g.name.to_lowercase())
        .collect();
    store
        .memberships
        .iter()
        .filter(|m| unread.contains(&m.group.to_lowercase()))
        .map(|m| m.username.to_lowercase())
        .collect()
}

/// Admit the DEPROVISIONED users that the store holds as members of an unread group:
/// a deep reconcile would have seen them in that group's member list (Okta keeps a
/// deactivated user's memberships), so they are synced as inactive, not missing.
fn admit_unread_members(desired: &mut Desired, store: &DirectorySnapshot) {
    if desired.deprovisioned.is_empty() {
        return;
    }
    let members = members_of_unread(desired, store);
    let ids: HashSet<&str> = store
        .users
        .iter()
        .filter(|u| members.contains(&u.username.to_lowercase()))
        .filter_map(|u| u.okta_id.as_deref())
        .collect();
    let mut have_ids: HashSet<String> = desired.users.iter().map(|u| u.okta_id.clone()).collect();
    let mut have_names: HashSet<String> = desired
        .users
        .iter()
        .map(|u| u.username.to_lowercase())
        .collect();
    for u in std::mem::take(&mut desired.deprovisioned) {
        if ids.contains(u.okta_id.as_str())
            && have_ids.insert(u.okta_id.clone())
            && have_names.insert(u.username.to_lowercase())
        {
            desired.users.push(u);
        }
    }
}

/// Whether every user the plan would create has known memberships: with some member
/// lists unread, a user created now (one entering the sync's scope by a setting, a freed
/// seat, a resolved conflict) may be a member of an unread group; only users the read
/// lists name are sure to be complete (a new member of an old group changes its mark).
fn memberships_known(desired: &Desired, store: &DirectorySnapshot) -> bool {
    if desired.unread_groups.is_empty() {
        return true;
    }
    let members: HashSet<&str> = desired
        .memberships
        .iter()
        .map(|(u, _)| u.as_str())
        .collect();
    to_create(desired, store)
        .iter()
        .all(|(id, _, _)| members.contains(id.as_str()))
}

/// The users a sync would create: (Okta id, username, email).
fn to_create(desired: &Desired, ours: &DirectorySnapshot) -> Vec<(String, String, String)> {
    let ids: HashSet<&str> = ours
        .users
        .iter()
        .filter_map(|u| u.okta_id.as_deref())
        .collect();
    let names: HashSet<String> = ours
        .users
        .iter()
        .map(|u| u.username.to_lowercase())
        .collect();
    desired
        .users
        .iter()
        .filter(|u| {
            u.creatable
                && !ids.contains(u.okta_id.as_str())
                && !names.contains(&u.username.to_lowercase())
        })
        .map(|u| (u.okta_id.clone(), u.username.clone(), u.email.clone()))
        .collect()
}

/// For the users a sync would create, look for the same username (or email, per
/// setting) in the product's other directories: non-Okta directories' users are taken
/// over when migration is on; a username held by a directory earlier in the order is
/// otherwise reported and not created. A failed lookup fails the sync: taking it for
/// "nobody" would create a duplicate instead of migrating the user.
pub fn resolve_existing(
    desired: &mut Desired,
    ours: &DirectorySnapshot,
    rules: &Rules,
    ctx: &Context,
    store: &mut impl Store,
) -> Result<(), StoreError> {
    use crate::settings::Migrate;
    use crate::store::DirectoryKind;
    let new = to_create(desired, ours);
    if new.is_empty() {
        return Ok(());
    }
    let dirs = store.directories()?;
    let position = |id: &str| dirs.iter().find(|d| d.id == id);
    let our_position = position(&ctx.directory).map_or(u32::MAX, |d| d.position);
    let elsewhere = |users: Vec<StoreUser>| -> Vec<StoreUser> {
        users
            .into_iter()
            .filter(|u| u.directory != ctx.directory)
            .collect()
    };
    for (okta_id, username, email) in new {
        let mut found = elsewhere(store.find_by_username(&username)?);
        if found.is_empty()
            && rules.users.migrate == Migrate::ByUsernameOrEmail
            && !email.is_empty()
        {
            found = elsewhere(store.find_by_email(&email)?);
        }
        let Some(existing) = found.into_iter().next() else {
            continue;
        };
        let Some(dir) = position(&existing.directory) else {
            continue;
        };
        if rules.users.migrate != Migrate::Off && dir.kind != DirectoryKind::Okta {
            desired.adopt.insert(okta_id, existing);
        } else if dir.position < our_position {
            desired.blocked.insert(
                okta_id,
                format!(
                    "username `{}` is held by directory {}, earlier in the directory order; not created (conflict)",
                    existing.username, existing.directory
                ),
            );
        }
    }
    Ok(())
}

/// Who else holds `username`, by directory order; `Err` when the store fails.
fn namesakes(
    store: &mut impl Store,
    ctx: &Context,
    dirs: &[(String, u32)],
    username: &str,
) -> Result<Namesakes, StoreError> {
    let position = |id: &str| dirs.iter().find(|d| d.0 == id).map(|d| d.1);
    let ours = position(&ctx.directory).unwrap_or(u32::MAX);
    let mut n = Namesakes::default();
    for u in store.find_by_username(username)? {
        match position(&u.directory) {
            _ if u.directory == ctx.directory => {}
            Some(p) if p < ours => n.earlier = true,
            Some(_) => n.later = true,
            // A directory of unknown order: either could be true.
            None => (n.earlier, n.later) = (true, true),
        }
    }
    Ok(n)
}

/// Keep `plan` within the licence's seat limit, if the product has one; returns who was
/// denied a seat. `users` and `access` are what the plan was made against.
pub fn limit_seats(
    plan: &mut Plan,
    users: Vec<StoreUser>,
    access: AccessMembers,
    desired: &Desired,
    ctx: &Context,
    store: &mut impl Store,
) -> Result<Vec<String>, StoreError> {
    let Some(licensing) = &ctx.licensing else {
        return Ok(Vec::new());
    };
    // Users migrated here hold a seat if they hold one in the directory they leave.
    let mut migrated: Vec<(StoreUser, bool)> = Vec::new();
    for u in desired.adopt.values() {
        let seated = u.active
            && store
                .user_memberships(&u.directory, &u.username)?
                .iter()
                .any(|g| licensing.is_access(g));
        migrated.push((u.clone(), seated));
    }
    migrated.sort_by(|a, b| a.0.key.cmp(&b.0.key));
    let before = seats::Before {
        users,
        access,
        migrated,
    };
    let mut dirs: Option<Vec<(String, u32)>> = None;
    let mut lookup = |username: &str| -> Result<Namesakes, StoreError> {
        if dirs.is_none() {
            let all = store.directories()?;
            dirs = Some(all.into_iter().map(|d| (d.id, d.position)).collect());
        }
        namesakes(store, ctx, dirs.as_deref().unwrap_or_default(), username)
    };
    let mut failed: Option<StoreError> = None;
    let denied = seats::limit(plan, &before, licensing, |username| {
        // The store failed: the sync fails below; meanwhile assume the worst.
        lookup(username).unwrap_or_else(|e| {
            failed.get_or_insert(e);
            Namesakes {
                earlier: true,
                later: true,
            }
        })
    });
    match failed {
        Some(e) => Err(e),
        None => Ok(denied),
    }
}
