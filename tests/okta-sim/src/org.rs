//! The simulated org: users, groups and memberships, plus the mutations tests
//! apply between syncs.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::apps::OktaApp;
pub use crate::generate::GenSpec;
use crate::ids;
use crate::syslog::{EventType, NewEvent, Target};

/// An Okta user as the simulator stores it. Serialized with Okta's camelCase
/// field names; dates as `YYYY-MM-DDTHH:mm:ss.SSSZ`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OktaUser {
    /// `00u` + 17 base62 characters.
    pub id: String,
    /// One of `ACTIVE`, `STAGED`, `PROVISIONED`, `SUSPENDED`, `DEPROVISIONED`,
    /// `LOCKED_OUT`, `PASSWORD_EXPIRED`, `RECOVERY`.
    pub status: String,
    /// Creation time; also the list order key.
    #[serde(with = "crate::dates")]
    pub created: DateTime<Utc>,
    /// Activation time (`null` for never-activated users).
    #[serde(default, with = "crate::dates::option")]
    pub activated: Option<DateTime<Utc>>,
    /// Last status change.
    #[serde(default, with = "crate::dates::option")]
    pub status_changed: Option<DateTime<Utc>>,
    /// Last sign-in.
    #[serde(default, with = "crate::dates::option")]
    pub last_login: Option<DateTime<Utc>>,
    /// Last change of profile or status.
    #[serde(with = "crate::dates")]
    pub last_updated: DateTime<Utc>,
    /// Last password change.
    #[serde(default, with = "crate::dates::option")]
    pub password_changed: Option<DateTime<Utc>>,
    /// Profile attributes: `login`, `email`, `firstName`, `lastName`,
    /// `displayName`, `department`, `title`, custom ones such as
    /// `employeeNumber`, `costCenter`.
    #[serde(default)]
    pub profile: Map<String, Value>,
}

/// Okta's group types.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GroupType {
    /// A group managed in Okta.
    OktaGroup,
    /// A group imported from an app or directory (memberships read-only).
    AppGroup,
    /// The built-in `Everyone` group.
    BuiltIn,
}

impl GroupType {
    /// The wire name (`OKTA_GROUP`, `APP_GROUP`, `BUILT_IN`).
    pub fn as_str(self) -> &'static str {
        match self {
            GroupType::OktaGroup => "OKTA_GROUP",
            GroupType::AppGroup => "APP_GROUP",
            GroupType::BuiltIn => "BUILT_IN",
        }
    }
}

/// An Okta group with its member list.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OktaGroup {
    /// `00g` + 17 base62 characters.
    pub id: String,
    /// Serialized as `type`.
    #[serde(rename = "type")]
    pub group_type: GroupType,
    /// `profile.name`.
    pub name: String,
    /// `profile.description`.
    #[serde(default)]
    pub description: Option<String>,
    /// Creation time; also the list order key.
    #[serde(with = "crate::dates")]
    pub created: DateTime<Utc>,
    /// Last profile change.
    #[serde(with = "crate::dates")]
    pub last_updated: DateTime<Utc>,
    /// Last membership change.
    #[serde(with = "crate::dates")]
    pub last_membership_updated: DateTime<Utc>,
    /// Member user ids, in insertion order.
    #[serde(default)]
    pub members: Vec<String>,
}

/// The whole org: users, groups and apps in creation order.
///
/// Changes made through its methods are also written to a journal of System Log
/// events ([`Org::take_events`]; the simulator drains it after every
/// `Simulator::with_org`). Editing the public fields directly changes the data
/// without an event, like a change Okta did not log.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Org {
    /// Users, in creation order.
    pub users: Vec<OktaUser>,
    /// Groups, in creation order (the BUILT_IN `Everyone` first in generated orgs).
    pub groups: Vec<OktaGroup>,
    /// Applications with their user and group assignments, in creation order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<OktaApp>,
    #[serde(skip)]
    pub(crate) journal: Journal,
}

/// The events of changes not yet taken, and the simulated clock they are stamped by.
#[derive(Clone, Debug, Default)]
pub(crate) struct Journal {
    pub events: Vec<NewEvent>,
    /// Added to the real clock (the simulator's settable clock).
    pub clock_offset_ms: i64,
}

/// The current time at millisecond precision (what the API can express).
pub(crate) fn now_ms() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// `now`, but strictly after `prev`, so `gt` checkpoints always see a change made
/// to something last changed at `prev`.
fn after(now: DateTime<Utc>, prev: DateTime<Utc>) -> DateTime<Utc> {
    if now > prev {
        now
    } else {
        prev + Duration::milliseconds(1)
    }
}

/// The events a status change is logged as (Okta's lifecycle and account events;
/// the mapping of the less common transitions is a best guess, see the README).
fn status_events(from: &str, to: &str) -> &'static [EventType] {
    match (from, to) {
        (a, b) if a == b => &[],
        (_, "DEPROVISIONED") => &[EventType::UserDeactivate],
        (_, "SUSPENDED") => &[EventType::UserSuspend],
        ("SUSPENDED", _) => &[EventType::UserUnsuspend],
        ("DEPROVISIONED", _) => &[EventType::UserReactivate],
        (_, "LOCKED_OUT") => &[EventType::UserLock],
        ("LOCKED_OUT", _) => &[EventType::UserUnlock],
        (_, "PASSWORD_EXPIRED") => &[EventType::UserExpirePassword],
        (_, "RECOVERY") => &[EventType::UserResetPassword],
        ("STAGED" | "PROVISIONED", "ACTIVE" | "PROVISIONED") => &[EventType::UserActivate],
        _ => &[],
    }
}

impl Org {
    /// The simulated now at millisecond precision.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        now_ms() + Duration::milliseconds(self.journal.clock_offset_ms)
    }

    /// A timestamp for a change of something last changed at `prev`.
    pub(crate) fn bump(&self, prev: DateTime<Utc>) -> DateTime<Utc> {
        after(self.now(), prev)
    }

    /// Journals a SUCCESS event published now.
    pub(crate) fn log(&mut self, event_type: EventType, targets: Vec<Target>) {
        let published = self.now();
        let published = match self.journal.events.last() {
            Some(last) if last.published > published => last.published,
            _ => published,
        };
        let event = NewEvent::success(event_type, targets, published);
        self.journal.events.push(event);
    }

    /// The events of the changes made since the last call, oldest first.
    pub fn take_events(&mut self) -> Vec<NewEvent> {
        std::mem::take(&mut self.journal.events)
    }

    /// The `User` target of a user (`alternateId` = login, `displayName` = first and
    /// last name).
    pub(crate) fn user_target(u: &OktaUser) -> Target {
        let text = |k: &str| u.profile.get(k).and_then(Value::as_str).unwrap_or_default();
        let name = format!("{} {}", text("firstName"), text("lastName"));
        Target::user(&u.id, text("login"), name.trim())
    }

    fn user_target_of(&self, id: &str) -> Option<Target> {
        self.user(id).map(Org::user_target)
    }

    fn group_target_of(&self, id: &str) -> Option<Target> {
        self.group(id).map(|g| Target::group(&g.id, &g.name))
    }

    /// Parses an org from the JSON written by [`Org::to_json`].
    pub fn from_json(s: &str) -> anyhow::Result<Org> {
        Ok(serde_json::from_str(s)?)
    }

    /// Serializes the org as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("org serializes")
    }

    /// The user with this id.
    pub fn user(&self, id: &str) -> Option<&OktaUser> {
        self.users.iter().find(|u| u.id == id)
    }

    /// The `profile.login` of the first ACTIVE user, if any.
    pub fn first_active_login(&self) -> Option<String> {
        let u = self.users.iter().find(|u| u.status == "ACTIVE")?;
        u.profile.get("login")?.as_str().map(str::to_string)
    }

    /// The user whose `profile.login` equals `login`, case-insensitively.
    pub fn user_by_login(&self, login: &str) -> Option<&OktaUser> {
        self.users.iter().find(|u| {
            u.profile
                .get("login")
                .and_then(Value::as_str)
                .is_some_and(|l| l.eq_ignore_ascii_case(login))
        })
    }

    /// The group with this id.
    pub fn group(&self, id: &str) -> Option<&OktaGroup> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// The group with exactly this name.
    pub fn group_by_name(&self, name: &str) -> Option<&OktaGroup> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// The BUILT_IN `Everyone` group, if the org has one.
    pub fn everyone(&self) -> Option<&OktaGroup> {
        self.groups
            .iter()
            .find(|g| g.group_type == GroupType::BuiltIn && g.name == "Everyone")
    }

    fn user_mut(&mut self, id: &str) -> Option<&mut OktaUser> {
        self.users.iter_mut().find(|u| u.id == id)
    }

    pub(crate) fn group_mut(&mut self, id: &str) -> Option<&mut OktaGroup> {
        self.groups.iter_mut().find(|g| g.id == id)
    }

    /// Sets `profile[key] = value` and bumps the user's `lastUpdated`.
    /// Unknown users are ignored.
    /// Logs `user.account.update_profile`.
    pub fn set_profile(&mut self, user_id: &str, key: &str, value: Value) {
        let now = self.now();
        if let Some(u) = self.user_mut(user_id) {
            u.profile.insert(key.to_string(), value);
            u.last_updated = after(now, u.last_updated);
            let target = Org::user_target(u);
            self.log(EventType::UserUpdateProfile, vec![target]);
        }
    }

    /// Sets the status and bumps `statusChanged` and `lastUpdated` (and sets
    /// `activated` the first time a user becomes ACTIVE). Unknown users are ignored.
    /// Logs the transition's lifecycle event (README: "Event types").
    pub fn set_status(&mut self, user_id: &str, status: &str) {
        let now = self.now();
        if let Some(u) = self.user_mut(user_id) {
            let t = after(now, u.last_updated);
            let from = std::mem::replace(&mut u.status, status.to_string());
            u.status_changed = Some(t);
            u.last_updated = t;
            if status == "ACTIVE" && u.activated.is_none() {
                u.activated = Some(t);
            }
            let target = Org::user_target(u);
            for &event in status_events(&from, status) {
                self.log(event, vec![target.clone()]);
            }
        }
    }

    /// Removes the user, its memberships and app assignments, bumping those groups'
    /// `lastMembershipUpdated`. Logs `user.lifecycle.deactivate` first unless the user
    /// was DEPROVISIONED (Okta deletes only deactivated users: a first DELETE
    /// deactivates), then `user.lifecycle.delete.initiated` and `.completed`, and the
    /// `application.user_membership.remove` of its app assignments (no
    /// `group.user_membership.remove`: the deletion implies them).
    pub fn delete_user(&mut self, user_id: &str) {
        let Some(target) = self.user_target_of(user_id) else {
            return;
        };
        if self
            .user(user_id)
            .is_some_and(|u| u.status != "DEPROVISIONED")
        {
            self.log(EventType::UserDeactivate, vec![target.clone()]);
        }
        self.log(EventType::UserDeleteInitiated, vec![target.clone()]);
        self.with_app_diff(|org| {
            org.log(EventType::UserDeleteCompleted, vec![target]);
            let now = org.now();
            for g in &mut org.groups {
                let before = g.members.len();
                g.members.retain(|m| m != user_id);
                if g.members.len() != before {
                    g.last_membership_updated = after(now, g.last_membership_updated);
                }
            }
            for app in &mut org.apps {
                app.users.retain(|a| a.user_id != user_id);
            }
        });
        self.users.retain(|u| u.id != user_id);
    }

    /// Adds a user (login = email) with the given status, also to `Everyone`
    /// (created if the org has none). Returns the new id. Logs
    /// `user.lifecycle.create`, then `user.lifecycle.activate` for an ACTIVE or
    /// PROVISIONED user, then the `Everyone` membership.
    pub fn add_user(&mut self, login: &str, first: &str, last: &str, status: &str) -> String {
        let id = self.fresh_id("00u");
        let latest = self.users.iter().map(|u| u.created).max();
        let now = latest.map_or_else(|| self.now(), |t| self.bump(t));
        let mut profile = Map::new();
        profile.insert("firstName".into(), Value::from(first));
        profile.insert("lastName".into(), Value::from(last));
        profile.insert("displayName".into(), Value::from(format!("{first} {last}")));
        profile.insert("mobilePhone".into(), Value::Null);
        profile.insert("secondEmail".into(), Value::Null);
        profile.insert("login".into(), Value::from(login));
        profile.insert("email".into(), Value::from(login));
        let never_activated = matches!(status, "STAGED" | "PROVISIONED");
        self.users.push(OktaUser {
            id: id.clone(),
            status: status.to_string(),
            created: now,
            activated: (!never_activated).then_some(now),
            status_changed: (status != "STAGED").then_some(now),
            last_login: None,
            last_updated: now,
            password_changed: (!never_activated).then_some(now),
            profile,
        });
        let target = self.user_target_of(&id).expect("just added");
        self.log(EventType::UserCreate, vec![target.clone()]);
        if matches!(status, "ACTIVE" | "PROVISIONED") {
            self.log(EventType::UserActivate, vec![target]);
        }
        if self.everyone().is_none() {
            let eid = self.add_group("Everyone", GroupType::BuiltIn);
            if let Some(g) = self.group_mut(&eid) {
                g.description = Some("All users in your organization".into());
            }
        }
        let eid = self
            .everyone()
            .map(|g| g.id.clone())
            .expect("Everyone exists");
        self.add_member(&eid, &id);
        id
    }

    /// Adds an empty group. Returns the new id. Logs `group.lifecycle.create`.
    pub fn add_group(&mut self, name: &str, group_type: GroupType) -> String {
        let id = self.fresh_id("00g");
        let latest = self.groups.iter().map(|g| g.created).max();
        let now = latest.map_or_else(|| self.now(), |t| self.bump(t));
        self.groups.push(OktaGroup {
            id: id.clone(),
            group_type,
            name: name.to_string(),
            description: None,
            created: now,
            last_updated: now,
            last_membership_updated: now,
            members: Vec::new(),
        });
        self.log(EventType::GroupCreate, vec![Target::group(&id, name)]);
        id
    }

    /// Renames a group and bumps its `lastUpdated`. Logs `group.profile.update`.
    pub fn rename_group(&mut self, group_id: &str, name: &str) {
        let now = self.now();
        if let Some(g) = self.group_mut(group_id) {
            g.name = name.to_string();
            g.last_updated = after(now, g.last_updated);
            let target = Target::group(&g.id, &g.name);
            self.log(EventType::GroupProfileUpdate, vec![target]);
        }
    }

    /// Deletes a group with its memberships and app assignments. Logs
    /// `group.lifecycle.delete`, and `application.user_membership.remove` for users
    /// who lose an app with it.
    pub fn delete_group(&mut self, group_id: &str) {
        let Some(target) = self.group_target_of(group_id) else {
            return;
        };
        self.with_app_diff(|org| {
            org.log(EventType::GroupDelete, vec![target]);
            org.groups.retain(|g| g.id != group_id);
            for app in &mut org.apps {
                app.groups.retain(|a| a.group_id != group_id);
            }
        });
    }

    /// Adds a member (no-op if already a member) and bumps the group's
    /// `lastMembershipUpdated`. Logs `group.user_membership.add` (a `User` and a
    /// `UserGroup` target), then `application.user_membership.add` for each app the
    /// user gets through the group.
    pub fn add_member(&mut self, group_id: &str, user_id: &str) {
        let is_member = |g: &OktaGroup| g.members.iter().any(|m| m == user_id);
        if self.group(group_id).is_none_or(is_member) {
            return;
        }
        let Some(user) = self.user_target_of(user_id) else {
            return;
        };
        self.with_app_diff(|org| {
            let now = org.now();
            let g = org.group_mut(group_id).expect("checked above");
            g.members.push(user_id.to_string());
            g.last_membership_updated = after(now, g.last_membership_updated);
            let group = Target::group(&g.id, &g.name);
            org.log(EventType::GroupMemberAdd, vec![user, group]);
        });
    }

    /// Removes a member (no-op if not a member) and bumps the group's
    /// `lastMembershipUpdated`. Logs `group.user_membership.remove`, then
    /// `application.user_membership.remove` for each app the user loses with it.
    pub fn remove_member(&mut self, group_id: &str, user_id: &str) {
        let is_member = |g: &OktaGroup| g.members.iter().any(|m| m == user_id);
        if !self.group(group_id).is_some_and(is_member) {
            return;
        }
        let user = self
            .user_target_of(user_id)
            .unwrap_or_else(|| Target::user(user_id, "unknown", "unknown"));
        self.with_app_diff(|org| {
            let now = org.now();
            let g = org.group_mut(group_id).expect("checked above");
            g.members.retain(|m| m != user_id);
            g.last_membership_updated = after(now, g.last_membership_updated);
            let group = Target::group(&g.id, &g.name);
            org.log(EventType::GroupMemberRemove, vec![user, group]);
        });
    }

    /// A random id with this prefix that no user, group or app has yet.
    pub(crate) fn fresh_id(&self, prefix: &str) -> String {
        let mut rng = rand::rng();
        loop {
            let id = ids::okta_id(prefix, &mut rng);
            if self.user(&id).is_none() && self.group(&id).is_none() && self.app(&id).is_none() {
                return id;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Org {
        Org::generate(&GenSpec {
            users: 30,
            groups: 5,
            memberships_per_user: 2,
            seed: 7,
        })
    }

    #[test]
    fn json_round_trip() {
        let org = small();
        let back = Org::from_json(&org.to_json()).unwrap();
        assert_eq!(back.users.len(), org.users.len());
        assert_eq!(back.groups.len(), org.groups.len());
        assert_eq!(back.to_json(), org.to_json());
        assert!(org.to_json().contains("\"lastMembershipUpdated\""));
        assert!(org.to_json().contains("\"type\": \"BUILT_IN\""));
    }

    #[test]
    fn mutations_bump_timestamps() {
        let mut org = small();
        let uid = org.users[0].id.clone();
        let before = org.users[0].last_updated;
        org.set_profile(&uid, "title", Value::from("Boss"));
        assert!(org.user(&uid).unwrap().last_updated > before);
        org.set_status(&uid, "SUSPENDED");
        let u = org.user(&uid).unwrap();
        assert_eq!(u.status, "SUSPENDED");
        assert_eq!(u.status_changed, Some(u.last_updated));

        let gid = org.add_group("New Group", GroupType::OktaGroup);
        let g0 = org.group(&gid).unwrap().clone();
        org.add_member(&gid, &uid);
        org.add_member(&gid, &uid);
        let g1 = org.group(&gid).unwrap().clone();
        assert_eq!(g1.members, vec![uid.clone()]);
        assert!(g1.last_membership_updated > g0.last_membership_updated);
        org.rename_group(&gid, "Renamed");
        assert!(org.group_by_name("Renamed").unwrap().last_updated > g0.last_updated);

        org.delete_user(&uid);
        assert!(org.user(&uid).is_none());
        assert!(org.groups.iter().all(|g| !g.members.contains(&uid)));
        assert!(org.group(&gid).unwrap().last_membership_updated > g1.last_membership_updated);

        let nid = org.add_user("New.Person@example.com", "New", "Person", "STAGED");
        assert!(nid.starts_with("00u") && nid.len() == 20);
        assert_eq!(org.user_by_login("new.person@EXAMPLE.com").unwrap().id, nid);
        assert!(org.everyone().unwrap().members.contains(&nid));
        assert_eq!(org.users.last().unwrap().id, nid);
    }

    #[test]
    fn add_user_to_empty_org_creates_everyone() {
        let mut org = Org::default();
        let a = org.add_user("a@example.com", "A", "A", "ACTIVE");
        let b = org.add_user("b@example.com", "B", "B", "ACTIVE");
        assert_eq!(org.everyone().unwrap().members, vec![a.clone(), b.clone()]);
        assert!(org.user(&b).unwrap().created > org.user(&a).unwrap().created);
    }
}
