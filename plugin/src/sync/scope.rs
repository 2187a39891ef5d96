//! Scope by Okta application assignment (`app-scope`): only the users assigned to the
//! app (directly or through an assigned group, as `GET /api/v1/apps/{id}/users` lists
//! them) and the groups assigned to it (`/apps/{id}/groups`) are synced. Full,
//! incremental and change-feed syncs read the assignments with [`AppScope::fetch`] and
//! keep only what it [`admits`](AppScope::admits_user); login syncs ask about one user
//! ([`AppScope::admits_login`]). Users who lose the assignment are missing users: a full
//! sync applies `missing-users` to them (as to users deleted in Okta).

use super::fetch::Fetched;
use crate::okta::{AppAssignment, OktaClient, OktaError, OktaGroup, Transport};
use std::collections::HashSet;

/// Who and what an application's assignments admit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppScope {
    /// The application's id.
    pub app: String,
    /// Ids of the assigned users, directly or through a group.
    pub users: HashSet<String>,
    /// Ids of the assigned groups.
    pub groups: HashSet<String>,
    /// Ids of the users and groups whose assignment changed after the `since` given to
    /// [`AppScope::fetch`] (none without one): an incremental sync fetches them.
    pub changed: Changed,
}

/// Assignments made or changed after a time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changed {
    /// Users (directly or through a group).
    pub users: Vec<String>,
    /// Groups.
    pub groups: Vec<String>,
}

/// Ids of the assignments changed after `since` (an RFC 3339 time); an assignment
/// without a readable time counts as changed (fetching it again costs one request,
/// missing it would leave the user out).
fn changed_after(list: &[AppAssignment], since: Option<&str>) -> Vec<String> {
    let Some(since) = since.and_then(time) else {
        return Vec::new();
    };
    list.iter()
        .filter(|a| {
            a.last_updated
                .as_deref()
                .and_then(time)
                .is_none_or(|t| t > since)
        })
        .map(|a| a.id.clone())
        .collect()
}

fn time(t: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(t).ok()
}

impl AppScope {
    /// Read the application's assignments (every page of both lists); with `since`, also
    /// note which changed after it.
    pub fn fetch<T: Transport>(
        client: &mut OktaClient<T>,
        app: &str,
        since: Option<&str>,
    ) -> Result<AppScope, OktaError> {
        let users = client.list_app_users(app)?;
        let groups = client.list_app_groups(app)?;
        Ok(AppScope {
            app: app.to_string(),
            changed: Changed {
                users: changed_after(&users, since),
                groups: changed_after(&groups, since),
            },
            users: users.into_iter().map(|a| a.id).collect(),
            groups: groups.into_iter().map(|a| a.id).collect(),
        })
    }

    /// Whether the user with this Okta id is assigned.
    pub fn admits_user(&self, okta_id: &str) -> bool {
        self.users.contains(okta_id)
    }

    /// Whether the group with this Okta id is assigned.
    pub fn admits_group(&self, okta_id: &str) -> bool {
        self.groups.contains(okta_id)
    }

    /// Keep only the assigned groups (before their members are fetched).
    pub fn keep_groups(&self, groups: &mut Vec<OktaGroup>) {
        groups.retain(|g| self.admits_group(&g.id));
    }

    /// Keep only the assigned users, groups and memberships of a fetch.
    pub fn restrict(&self, fetched: &mut Fetched) {
        fetched.users.retain(|u| self.admits_user(&u.id));
        self.keep_groups(&mut fetched.groups);
        fetched.members.retain(|(g, _)| self.admits_group(g));
        for (_, members) in &mut fetched.members {
            members.retain(|u| self.admits_user(u));
        }
    }

    /// For a login sync: whether the user is assigned (one request), and its groups
    /// narrowed to the assigned ones (one listing of the app's groups, if it is).
    pub fn admits_login<T: Transport>(
        client: &mut OktaClient<T>,
        app: &str,
        user_id: &str,
        groups: &mut Vec<OktaGroup>,
    ) -> Result<bool, OktaError> {
        if !client.is_assigned(app, user_id)? {
            return Ok(false);
        }
        let assigned: HashSet<String> = client
            .list_app_groups(app)?
            .into_iter()
            .map(|a| a.id)
            .collect();
        groups.retain(|g| assigned.contains(&g.id));
        Ok(true)
    }
}
