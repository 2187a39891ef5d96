//! The simulated org: users, groups and memberships, plus the mutations tests
//! apply between syncs.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use crate::generate::GenSpec;
use crate::ids;

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

/// The whole org: users and groups in creation order.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Org {
    /// Users, in creation order.
    pub users: Vec<OktaUser>,
    /// Groups, in creation order (the BUILT_IN `Everyone` first in generated orgs).
    pub groups: Vec<OktaGroup>,
}

/// The current time at millisecond precision (what the API can express).
pub(crate) fn now_ms() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// A timestamp for a change of something last changed at `prev`: now, but
/// strictly after `prev`, so `gt` checkpoints always see the change.
fn bump(prev: DateTime<Utc>) -> DateTime<Utc> {
    let now = now_ms();
    if now > prev {
        now
    } else {
        prev + Duration::milliseconds(1)
    }
}

impl Org {
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

    fn group_mut(&mut self, id: &str) -> Option<&mut OktaGroup> {
        self.groups.iter_mut().find(|g| g.id == id)
    }

    /// Sets `profile[key] = value` and bumps the user's `lastUpdated`.
    /// Unknown users are ignored.
    pub fn set_profile(&mut self, user_id: &str, key: &str, value: Value) {
        if let Some(u) = self.user_mut(user_id) {
            u.profile.insert(key.to_string(), value);
            u.last_updated = bump(u.last_updated);
        }
    }

    /// Sets the status and bumps `statusChanged` and `lastUpdated` (and sets
    /// `activated` the first time a user becomes ACTIVE). Unknown users are ignored.
    pub fn set_status(&mut self, user_id: &str, status: &str) {
        if let Some(u) = self.user_mut(user_id) {
            let t = bump(u.last_updated);
            u.status = status.to_string();
            u.status_changed = Some(t);
            u.last_updated = t;
            if status == "ACTIVE" && u.activated.is_none() {
                u.activated = Some(t);
            }
        }
    }

    /// Removes the user and its memberships, bumping those groups'
    /// `lastMembershipUpdated`.
    pub fn delete_user(&mut self, user_id: &str) {
        self.users.retain(|u| u.id != user_id);
        for g in &mut self.groups {
            let before = g.members.len();
            g.members.retain(|m| m != user_id);
            if g.members.len() != before {
                g.last_membership_updated = bump(g.last_membership_updated);
            }
        }
    }

    /// Adds a user (login = email) with the given status, also to `Everyone`
    /// (created if the org has none). Returns the new id.
    pub fn add_user(&mut self, login: &str, first: &str, last: &str, status: &str) -> String {
        let id = self.fresh_id("00u");
        let latest = self.users.iter().map(|u| u.created).max();
        let now = latest.map_or_else(now_ms, bump);
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

    /// Adds an empty group. Returns the new id.
    pub fn add_group(&mut self, name: &str, group_type: GroupType) -> String {
        let id = self.fresh_id("00g");
        let latest = self.groups.iter().map(|g| g.created).max();
        let now = latest.map_or_else(now_ms, bump);
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
        id
    }

    /// Renames a group and bumps its `lastUpdated`.
    pub fn rename_group(&mut self, group_id: &str, name: &str) {
        if let Some(g) = self.group_mut(group_id) {
            g.name = name.to_string();
            g.last_updated = bump(g.last_updated);
        }
    }

    /// Adds a member (no-op if already a member) and bumps the group's
    /// `lastMembershipUpdated`.
    pub fn add_member(&mut self, group_id: &str, user_id: &str) {
        if let Some(g) = self.group_mut(group_id)
            && !g.members.iter().any(|m| m == user_id)
        {
            g.members.push(user_id.to_string());
            g.last_membership_updated = bump(g.last_membership_updated);
        }
    }

    /// Removes a member (no-op if not a member) and bumps the group's
    /// `lastMembershipUpdated`.
    pub fn remove_member(&mut self, group_id: &str, user_id: &str) {
        if let Some(g) = self.group_mut(group_id) {
            let before = g.members.len();
            g.members.retain(|m| m != user_id);
            if g.members.len() != before {
                g.last_membership_updated = bump(g.last_membership_updated);
            }
        }
    }

    /// A random id with this prefix that no user or group has yet.
    fn fresh_id(&self, prefix: &str) -> String {
        let mut rng = rand::rng();
        loop {
            let id = ids::okta_id(prefix, &mut rng);
            if self.user(&id).is_none() && self.group(&id).is_none() {
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
