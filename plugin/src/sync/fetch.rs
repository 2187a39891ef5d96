//! Fetch: what a sync reads from Okta, all of it before anything is planned.

use super::marks::{self, Marks};
use super::mode::Chosen;
use super::scope::AppScope;
use super::{Call, Mode, SyncError};
use crate::host::{Host, Level};
use crate::okta::{OktaClient, OktaError, OktaErrorKind, OktaGroup, OktaUser, Transport};
use crate::state::{ConnectorState, GroupMark};
use crate::store::Store;
use std::collections::HashSet;

/// Most users denied a seat that one incremental sync offers a seat again (one Okta
/// request each); the others wait for the next sync.
pub const MAX_OFFERED: usize = 200;

/// Okta's users, groups and memberships as fetched for one sync.
#[derive(Default)]
pub struct Fetched {
    /// Users (and DEPROVISIONED members the users list leaves out).
    pub users: Vec<OktaUser>,
    /// Groups.
    pub groups: Vec<OktaGroup>,
    /// Member ids of each synced group, by group id.
    pub members: Vec<(String, Vec<String>)>,
    /// Whether Okta listed its `Everyone` group (a full sync's token sees the whole org),
    /// as read before an app scope narrowed the groups.
    pub org_wide: bool,
    /// Okta ids of the synced groups whose member lists were not read (their marks were
    /// unchanged): their memberships in the store stay as they are.
    pub unread: HashSet<String>,
    /// DEPROVISIONED users, listed apart when some member lists were not read (those
    /// lists would have given the ones that are members).
    pub deprovisioned: Vec<OktaUser>,
    /// The marks of the groups whose members this sync knows.
    pub marks: Vec<GroupMark>,
}

/// Everything the chosen mode needs: all of Okta, or what changed since the cursor.
/// A full sync skips the member lists of the groups whose `marks` are unchanged.
pub fn fetch<T: Transport>(
    client: &mut OktaClient<T>,
    call: &Call,
    chosen: &Chosen,
    marks: &Marks,
    host: &mut impl Host,
) -> Result<Fetched, OktaError> {
    match &chosen.since {
        None => fetch_full(client, call, marks, host),
        Some(since) => fetch_changes(client, call, since, host),
    }
}

/// Fetch the members of every synced group of `fetched`. Member lists also return
/// DEPROVISIONED users, which the users list omits: they are added (inactive) so that
/// their memberships stay. Groups whose `marks` are unchanged are not read.
fn fetch_members<T: Transport>(
    client: &mut OktaClient<T>,
    call: &Call,
    marks: &Marks,
    fetched: &mut Fetched,
) -> Result<(), OktaError> {
    let rules = &call.settings.rules;
    let mut known: HashSet<String> = fetched.users.iter().map(|u| u.id.clone()).collect();
    let mut ids: Vec<String> = Vec::new();
    for g in fetched.groups.iter().filter(|g| {
        rules.group_synced(&g.group_type, &g.profile.name) || rules.is_required(&g.profile.name)
    }) {
        fetched.marks.extend(marks::mark_of(g));
        if marks.unchanged(g, call) {
            fetched.unread.insert(g.id.clone());
        } else {
            ids.push(g.id.clone());
        }
    }
    // Only the ids of members are kept, and the few users the users list left out.
    let mut members: Vec<Vec<String>> = vec![Vec::new(); ids.len()];
    let mut extra: Vec<Vec<OktaUser>> = vec![Vec::new(); ids.len()];
    let concurrency = call.settings.config.member_concurrency as usize;
    client.for_members_of(&ids, concurrency, |i, page| {
        for m in page {
            if known.insert(m.id.clone()) {
                extra[i].push(m.user().map_err(|e| {
                    OktaError::new(
                        OktaErrorKind::BadResponse,
                        &format!("/api/v1/groups/{}/users", ids[i]),
                        format!("member {} is not the expected JSON: {e}", m.id),
                    )
                })?);
            }
            members[i].push(m.id);
        }
        Ok(())
    })?;
    fetched.users.extend(extra.into_iter().flatten());
    fetched.members.extend(ids.into_iter().zip(members));
    Ok(())
}

/// Everything: all users, all groups, every synced group's members (but those of
/// groups whose marks are unchanged).
fn fetch_full<T: Transport>(
    client: &mut OktaClient<T>,
    call: &Call,
    marks: &Marks,
    host: &mut impl Host,
) -> Result<Fetched, OktaError> {
    let mut f = Fetched {
        users: client.list_users()?,
        ..Default::default()
    };
    host.log(Level::Info, &format!("fetched {} users", f.users.len()));
    f.groups = client.list_groups()?;
    f.org_wide = f.groups.iter().any(|g| g.group_type == "BUILT_IN");
    let scope = app_scope(client, call, None, host)?;
    if let Some(scope) = &scope {
        scope.keep_groups(&mut f.groups);
    }
    fetch_members(client, call, marks, &mut f)?;
    if let Some(scope) = &scope {
        scope.restrict(&mut f);
    }
    if !f.unread.is_empty() {
        f.deprovisioned = client.list_deprovisioned_users()?;
    }
    host.log(
        Level::Info,
        &format!(
            "fetched {} groups and the members of {} of them ({} unchanged since last read)",
            f.groups.len(),
            f.members.len(),
            f.unread.len()
        ),
    );
    Ok(f)
}

/// Only what changed after `since`: changed users, changed groups and their members.
fn fetch_changes<T: Transport>(
    client: &mut OktaClient<T>,
    call: &Call,
    since: &str,
    host: &mut impl Host,
) -> Result<Fetched, OktaError> {
    let mut f = Fetched {
        users: client.list_users_updated_since(since)?,
        ..Default::default()
    };
    f.groups = client.list_groups_updated_since(since)?;
    let scope = app_scope(client, call, Some(since), host)?;
    if let Some(scope) = &scope {
        newly_assigned_groups(client, scope, &mut f)?;
        scope.keep_groups(&mut f.groups);
    }
    fetch_members(client, call, &Marks::default(), &mut f)?;
    if let Some(scope) = &scope {
        newly_assigned_users(client, scope, &mut f)?;
        scope.restrict(&mut f);
    }
    host.log(
        Level::Info,
        &format!(
            "changed since {since}: {} users, {} groups",
            f.users.len(),
            f.groups.len()
        ),
    );
    Ok(f)
}

/// The connector's application scope, read from Okta, if it has one (`since`: note the
/// assignments changed after it).
fn app_scope<T: Transport>(
    client: &mut OktaClient<T>,
    call: &Call,
    since: Option<&str>,
    host: &mut impl Host,
) -> Result<Option<AppScope>, OktaError> {
    let Some(app) = &call.settings.config.app_scope else {
        return Ok(None);
    };
    let scope = AppScope::fetch(client, app, since)?;
    host.log(
        Level::Info,
        &format!(
            "application {app}: {} users and {} groups assigned",
            scope.users.len(),
            scope.groups.len()
        ),
    );
    Ok(Some(scope))
}

/// Groups assigned to the app since the cursor, which an incremental sync would not
/// otherwise see (the assignment does not change the group): fetched with their members.
fn newly_assigned_groups<T: Transport>(
    client: &mut OktaClient<T>,
    scope: &AppScope,
    f: &mut Fetched,
) -> Result<(), OktaError> {
    for id in &scope.changed.groups {
        if !f.groups.iter().any(|g| g.id == *id)
            && let Some(g) = client.get_group(id)?
        {
            f.groups.push(g);
        }
    }
    Ok(())
}

/// Users assigned to the app since the cursor and not fetched yet (an assignment does
/// not change the user's `lastUpdated`).
fn newly_assigned_users<T: Transport>(
    client: &mut OktaClient<T>,
    scope: &AppScope,
    f: &mut Fetched,
) -> Result<(), OktaError> {
    for id in &scope.changed.users {
        if !f.users.iter().any(|u| u.id == *id)
            && let Some(u) = client.get_user(id)?
        {
            f.users.push(u);
        }
    }
    Ok(())
}

/// The users the last sync denied a licence seat, fetched again by an incremental sync
/// (which would otherwise not see them until they change in Okta) so that its plan
/// offers them a seat, when the licence has room. Returns the lowercase usernames
/// offered (at most [`MAX_OFFERED`], in the order seats are granted).
pub fn denied_again<T: Transport>(
    client: &mut OktaClient<T>,
    call: &Call,
    chosen: &Chosen,
    known: Option<&ConnectorState>,
    store: &mut impl Store,
    fetched: &mut Fetched,
) -> Result<Vec<String>, SyncError> {
    let (Some(licensing), Some(state)) = (&call.ctx.licensing, known) else {
        return Ok(Vec::new());
    };
    if chosen.mode == Mode::Full || licensing.seats_used >= licensing.seat_limit {
        return Ok(Vec::new());
    }
    let mut offered = Vec::new();
    for name in state.seats_denied.iter().take(MAX_OFFERED) {
        offered.push(name.to_lowercase());
        let ours = store
            .find_by_username(name)?
            .into_iter()
            .find(|u| u.directory == call.ctx.directory);
        let Some(id) = ours.and_then(|u| u.okta_id) else {
            continue;
        };
        if !fetched.users.iter().any(|u| u.id == id)
            && let Some(user) = client.get_user(&id)?
        {
            fetched.users.push(user);
        }
    }
    Ok(offered)
}
