//! System Log events: their types, targets and the JSON Okta writes for them
//! (`LogEvent` in the Management API spec; the values of fields a sync does not read
//! follow an Okta-sent event hook payload, see the README).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::{dates, ids};

/// The event types the simulator logs (Okta's event type catalog).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    /// `user.lifecycle.create`
    UserCreate,
    /// `user.lifecycle.activate`
    UserActivate,
    /// `user.lifecycle.reactivate`
    UserReactivate,
    /// `user.lifecycle.deactivate`
    UserDeactivate,
    /// `user.lifecycle.suspend`
    UserSuspend,
    /// `user.lifecycle.unsuspend`
    UserUnsuspend,
    /// `user.lifecycle.delete.initiated`
    UserDeleteInitiated,
    /// `user.lifecycle.delete.completed`
    UserDeleteCompleted,
    /// `user.account.update_profile`
    UserUpdateProfile,
    /// `user.account.lock`
    UserLock,
    /// `user.account.unlock`
    UserUnlock,
    /// `user.account.expire_password`
    UserExpirePassword,
    /// `user.account.reset_password`
    UserResetPassword,
    /// `group.user_membership.add`
    GroupMemberAdd,
    /// `group.user_membership.remove`
    GroupMemberRemove,
    /// `group.lifecycle.create`
    GroupCreate,
    /// `group.lifecycle.delete`
    GroupDelete,
    /// `group.profile.update`
    GroupProfileUpdate,
    /// `application.lifecycle.create`
    AppCreate,
    /// `application.user_membership.add`
    AppMemberAdd,
    /// `application.user_membership.remove`
    AppMemberRemove,
    /// `event_hook.delivery` (logged when a hook delivery finally failed)
    EventHookDelivery,
}

impl EventType {
    /// Every type, for lookups by name.
    pub const ALL: [EventType; 22] = [
        EventType::UserCreate,
        EventType::UserActivate,
        EventType::UserReactivate,
        EventType::UserDeactivate,
        EventType::UserSuspend,
        EventType::UserUnsuspend,
        EventType::UserDeleteInitiated,
        EventType::UserDeleteCompleted,
        EventType::UserUpdateProfile,
        EventType::UserLock,
        EventType::UserUnlock,
        EventType::UserExpirePassword,
        EventType::UserResetPassword,
        EventType::GroupMemberAdd,
        EventType::GroupMemberRemove,
        EventType::GroupCreate,
        EventType::GroupDelete,
        EventType::GroupProfileUpdate,
        EventType::AppCreate,
        EventType::AppMemberAdd,
        EventType::AppMemberRemove,
        EventType::EventHookDelivery,
    ];

    /// The wire name and Okta's `displayMessage`.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            EventType::UserCreate => ("user.lifecycle.create", "Create Okta user"),
            EventType::UserActivate => ("user.lifecycle.activate", "Activate Okta user"),
            EventType::UserReactivate => ("user.lifecycle.reactivate", "Reactivate Okta user"),
            EventType::UserDeactivate => ("user.lifecycle.deactivate", "Deactivate Okta user"),
            EventType::UserSuspend => ("user.lifecycle.suspend", "Suspend Okta user"),
            EventType::UserUnsuspend => ("user.lifecycle.unsuspend", "Unsuspend Okta user"),
            EventType::UserDeleteInitiated => (
                "user.lifecycle.delete.initiated",
                "Delete Okta user initiated",
            ),
            EventType::UserDeleteCompleted => (
                "user.lifecycle.delete.completed",
                "Delete Okta user completed",
            ),
            EventType::UserUpdateProfile => (
                "user.account.update_profile",
                "Update user profile for Okta",
            ),
            EventType::UserLock => ("user.account.lock", "Max sign in attempts exceeded"),
            EventType::UserUnlock => ("user.account.unlock", "Unlock user account"),
            EventType::UserExpirePassword => {
                ("user.account.expire_password", "Expire user password")
            }
            EventType::UserResetPassword => ("user.account.reset_password", "Reset user password"),
            EventType::GroupMemberAdd => {
                ("group.user_membership.add", "Add user to group membership")
            }
            EventType::GroupMemberRemove => (
                "group.user_membership.remove",
                "Remove user from group membership",
            ),
            EventType::GroupCreate => ("group.lifecycle.create", "Create okta user group"),
            EventType::GroupDelete => ("group.lifecycle.delete", "Delete okta user group"),
            EventType::GroupProfileUpdate => {
                ("group.profile.update", "Okta user group profile updated")
            }
            EventType::AppCreate => ("application.lifecycle.create", "Create application"),
            EventType::AppMemberAdd => (
                "application.user_membership.add",
                "Add user to application membership",
            ),
            EventType::AppMemberRemove => (
                "application.user_membership.remove",
                "Remove users application membership",
            ),
            EventType::EventHookDelivery => ("event_hook.delivery", "Event hook delivery"),
        }
    }

    /// The `eventType` value, e.g. `group.user_membership.add`.
    pub fn as_str(self) -> &'static str {
        self.names().0
    }

    /// The `displayMessage` Okta writes for it.
    pub fn display_message(self) -> &'static str {
        self.names().1
    }

    /// The type with this wire name.
    pub fn parse(name: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// One entry of an event's `target` (or its `actor`): `id`, `type`, `alternateId`,
/// `displayName`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The object's id.
    pub id: String,
    /// `User`, `UserGroup`, `AppInstance`, …
    pub kind: String,
    /// A user's login; `unknown` for a group (as Okta writes it); an app's name.
    pub alternate_id: String,
    /// A user's `firstName lastName`, a group's or app's name.
    pub display_name: String,
}

impl Target {
    /// A `User` target.
    pub fn user(id: &str, login: &str, display_name: &str) -> Target {
        Target::new(id, "User", login, display_name)
    }

    /// A `UserGroup` target: Okta writes `alternateId: "unknown"` for groups.
    pub fn group(id: &str, name: &str) -> Target {
        Target::new(id, "UserGroup", "unknown", name)
    }

    /// An `AppInstance` target.
    pub fn app(id: &str, name: &str, label: &str) -> Target {
        Target::new(id, "AppInstance", name, label)
    }

    /// Any target.
    pub fn new(id: &str, kind: &str, alternate_id: &str, display_name: &str) -> Target {
        Target {
            id: id.to_string(),
            kind: kind.to_string(),
            alternate_id: alternate_id.to_string(),
            display_name: display_name.to_string(),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "type": self.kind,
            "alternateId": self.alternate_id,
            "displayName": self.display_name,
            "detailEntry": null,
        })
    }
}

/// `outcome.result`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `SUCCESS`: the change happened.
    Success,
    /// `FAILURE` with this `reason`: nothing changed; a sync must ignore the event.
    Failure(String),
}

/// An event before it is stored: what happened, to what, when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    /// The event type.
    pub event_type: EventType,
    /// `target[]`, in order.
    pub targets: Vec<Target>,
    /// `outcome`.
    pub outcome: Outcome,
    /// `published`.
    pub published: DateTime<Utc>,
    /// `actor` (default: the simulator's admin, [`NewEvent::admin`]).
    pub actor: Target,
}

impl NewEvent {
    /// A SUCCESS event by the simulator's admin.
    pub fn success(event_type: EventType, targets: Vec<Target>, published: DateTime<Utc>) -> Self {
        NewEvent {
            event_type,
            targets,
            outcome: Outcome::Success,
            published,
            actor: NewEvent::admin(),
        }
    }

    /// The same event with `outcome.result` FAILURE and this reason (e.g. Okta's
    /// `INVALID_INPUT` or a policy's refusal): the change did not happen.
    pub fn failed(mut self, reason: &str) -> Self {
        self.outcome = Outcome::Failure(reason.to_string());
        self
    }

    /// The actor of the simulator's changes: an admin user.
    pub fn admin() -> Target {
        Target::user("00uSimAdmin000000000", "admin@example.com", "Okta Admin")
    }

    /// The `LogEvent` JSON with a fresh `uuid` and `transaction.id`.
    pub fn to_json(&self) -> Value {
        let (result, reason) = match &self.outcome {
            Outcome::Success => ("SUCCESS", Value::Null),
            Outcome::Failure(r) => ("FAILURE", Value::from(r.as_str())),
        };
        let targets: Vec<Value> = self.targets.iter().map(Target::to_json).collect();
        json!({
            "actor": self.actor.to_json(),
            "client": {
                "userAgent": {"rawUserAgent": "okta-sim", "os": "Unknown", "browser": "UNKNOWN"},
                "zone": "null",
                "device": "Unknown",
                "id": null,
                "ipAddress": "127.0.0.1",
                "geographicalContext": null,
            },
            "device": null,
            "authenticationContext": {
                "authenticationProvider": null,
                "credentialProvider": null,
                "credentialType": null,
                "issuer": null,
                "interface": null,
                "authenticationStep": 0,
                "externalSessionId": "unknown",
            },
            "displayMessage": self.event_type.display_message(),
            "eventType": self.event_type.as_str(),
            "outcome": {"result": result, "reason": reason},
            "published": dates::format(&self.published),
            "securityContext": {"asNumber": null, "asOrg": null, "isp": null, "domain": null, "isProxy": null},
            "severity": "INFO",
            "debugContext": {"debugData": {}},
            "legacyEventType": null,
            "transaction": {"type": "WEB", "id": ids::base62(&mut rand::rng(), 27), "detail": {}},
            "uuid": ids::uuid_v4(),
            "version": "0",
            "request": {"ipChain": []},
            "target": targets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
        assert_eq!(EventType::parse("user.session.start"), None);
    }
}
