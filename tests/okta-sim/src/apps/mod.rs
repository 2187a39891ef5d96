//! Okta applications and who is assigned to them: users directly (`scope: "USER"`)
//! or through an assigned group (`scope: "GROUP"`). A sync scoped to an app reads
//! `/api/v1/apps/{id}/users` and `/api/v1/apps/{id}/groups` (okta-oauth-events.md §4).

pub(crate) mod api;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::org::Org;
use crate::syslog::{EventType, Target};

/// An app instance with its assignments.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OktaApp {
    /// `0oa` + 17 base62 characters.
    pub id: String,
    /// The app's integration name (`oidc_client` for the apps made here).
    pub name: String,
    /// The label admins see.
    pub label: String,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
    /// `signOnMode` (`OPENID_CONNECT` here).
    pub sign_on_mode: String,
    /// Creation time; also the list order key.
    #[serde(with = "crate::dates")]
    pub created: DateTime<Utc>,
    /// Last change of the app itself.
    #[serde(with = "crate::dates")]
    pub last_updated: DateTime<Utc>,
    /// Users assigned individually, in assignment order.
    #[serde(default)]
    pub users: Vec<AppUserAssignment>,
    /// Groups assigned, in assignment order (`priority` = position).
    #[serde(default)]
    pub groups: Vec<AppGroupAssignment>,
}

/// A user assigned to an app individually.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppUserAssignment {
    /// The user.
    pub user_id: String,
    /// When the assignment was made.
    #[serde(with = "crate::dates")]
    pub created: DateTime<Utc>,
}

/// A group assigned to an app: its members are assigned through it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppGroupAssignment {
    /// The group.
    pub group_id: String,
    /// When the assignment was made (`lastUpdated`).
    #[serde(with = "crate::dates")]
    pub created: DateTime<Utc>,
}

/// How a user holds an app assignment (`AppUser.scope`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignmentScope {
    /// Assigned individually (also when a group assigns it too, as Okta reports it).
    User,
    /// Assigned only through one or more groups.
    Group,
}

impl AssignmentScope {
    /// The wire value, `USER` or `GROUP`.
    pub fn as_str(self) -> &'static str {
        match self {
            AssignmentScope::User => "USER",
            AssignmentScope::Group => "GROUP",
        }
    }
}

impl OktaApp {
    /// Who is assigned and how: the individually assigned users (`USER`) and the
    /// members of assigned groups (`GROUP`), with the time each assignment began.
    pub fn assigned(&self, org: &Org) -> BTreeMap<String, (AssignmentScope, DateTime<Utc>)> {
        let mut out = BTreeMap::new();
        for a in &self.groups {
            for m in org.group(&a.group_id).map_or(&[][..], |g| &g.members) {
                out.entry(m.clone())
                    .or_insert((AssignmentScope::Group, a.created));
            }
        }
        for a in &self.users {
            out.insert(a.user_id.clone(), (AssignmentScope::User, a.created));
        }
        out
    }
}

impl Org {
    /// The app with this id.
    pub fn app(&self, id: &str) -> Option<&OktaApp> {
        self.apps.iter().find(|a| a.id == id)
    }

    fn app_mut(&mut self, id: &str) -> Option<&mut OktaApp> {
        self.apps.iter_mut().find(|a| a.id == id)
    }

    /// Adds an active OIDC app with this label. Returns its id. Logs
    /// `application.lifecycle.create`.
    pub fn add_app(&mut self, label: &str) -> String {
        let id = self.fresh_id("0oa");
        let latest = self.apps.iter().map(|a| a.created).max();
        let now = latest.map_or_else(|| self.now(), |t| self.bump(t));
        self.apps.push(OktaApp {
            id: id.clone(),
            name: "oidc_client".into(),
            label: label.to_string(),
            status: "ACTIVE".into(),
            sign_on_mode: "OPENID_CONNECT".into(),
            created: now,
            last_updated: now,
            users: Vec::new(),
            groups: Vec::new(),
        });
        let target = Target::app(&id, "oidc_client", label);
        self.log(EventType::AppCreate, vec![target]);
        id
    }

    /// Assigns a user to an app individually (no-op if it already is, or if either
    /// does not exist). Logs `application.user_membership.add` unless a group
    /// already gave the user the app.
    pub fn assign_user_to_app(&mut self, app_id: &str, user_id: &str) {
        if self.user(user_id).is_some() {
            self.change_app(app_id, |app, created| {
                if !app.users.iter().any(|a| a.user_id == user_id) {
                    let user_id = user_id.to_string();
                    app.users.push(AppUserAssignment { user_id, created });
                }
            });
        }
    }

    /// Removes a user's individual assignment. Logs
    /// `application.user_membership.remove` unless a group still gives the app.
    pub fn unassign_user_from_app(&mut self, app_id: &str, user_id: &str) {
        self.change_app(app_id, |app, _| app.users.retain(|a| a.user_id != user_id));
    }

    /// Assigns a group to an app (no-op if it already is, or if either does not
    /// exist). Logs `application.user_membership.add` for each member who did not
    /// have the app yet.
    pub fn assign_group_to_app(&mut self, app_id: &str, group_id: &str) {
        if self.group(group_id).is_some() {
            self.change_app(app_id, |app, created| {
                if !app.groups.iter().any(|a| a.group_id == group_id) {
                    let group_id = group_id.to_string();
                    app.groups.push(AppGroupAssignment { group_id, created });
                }
            });
        }
    }

    /// Removes a group's assignment. Logs `application.user_membership.remove` for
    /// each member who loses the app with it.
    pub fn unassign_group_from_app(&mut self, app_id: &str, group_id: &str) {
        self.change_app(app_id, |app, _| {
            app.groups.retain(|a| a.group_id != group_id)
        });
    }

    /// Changes one app's assignments (given now), logging what it changes.
    fn change_app(&mut self, app_id: &str, change: impl FnOnce(&mut OktaApp, DateTime<Utc>)) {
        let now = self.now();
        self.with_app_diff(|org| {
            if let Some(app) = org.app_mut(app_id) {
                change(app, now);
            }
        });
    }

    /// Runs `change`, then logs `application.user_membership.add` / `.remove` for
    /// every user whose effective assignment to an app it changed (directly or
    /// through a group), so each way of gaining or losing an app is logged once.
    pub(crate) fn with_app_diff(&mut self, change: impl FnOnce(&mut Org)) {
        let effective = |org: &Org| -> Vec<BTreeSet<String>> {
            let sets = org.apps.iter().map(|a| a.assigned(org).into_keys());
            sets.map(|users| users.collect()).collect()
        };
        let before = effective(self);
        let targets_before: BTreeMap<String, Target> = before
            .iter()
            .flatten()
            .filter_map(|id| self.user(id).map(|u| (id.clone(), Org::user_target(u))))
            .collect();
        change(self);
        let after = effective(self);
        let apps: Vec<Target> = (self.apps.iter())
            .map(|a| Target::app(&a.id, &a.name, &a.label))
            .collect();
        for (i, app) in apps.into_iter().enumerate() {
            let (was, is) = (before.get(i).cloned().unwrap_or_default(), &after[i]);
            for id in was.difference(is) {
                let user = targets_before.get(id).cloned();
                let user = user.unwrap_or_else(|| Target::user(id, "unknown", "unknown"));
                self.log(EventType::AppMemberRemove, vec![user, app.clone()]);
            }
            for id in is.difference(&was) {
                if let Some(user) = self.user(id).map(Org::user_target) {
                    self.log(EventType::AppMemberAdd, vec![user, app.clone()]);
                }
            }
        }
    }
}
