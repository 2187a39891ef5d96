//! The parts of Okta's user and group objects a sync reads. Deserialization is lenient
//! where Okta is ("properties with null values may be omitted", "new properties may be
//! added"), and strict only on what a sync cannot do without: ids and group names.

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// An Okta user (`GET /api/v1/users`, `/groups/{id}/users`, `/users/{id}`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OktaUser {
    /// `00u…` id.
    pub id: String,
    /// Lifecycle status (`ACTIVE`, `SUSPENDED`, ...); unknown values are kept as text.
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: String,
    /// Last change of profile or status.
    #[serde(default)]
    pub last_updated: Option<String>,
    /// When the Okta user was created (inactivity cleanup counts a user who never
    /// logged in from the later of this and `activated`).
    #[serde(default)]
    pub created: Option<String>,
    /// When the Okta user was last activated.
    #[serde(default)]
    pub activated: Option<String>,
    /// Profile attributes, base and custom, any JSON type.
    #[serde(default, deserialize_with = "null_as_default")]
    pub profile: Map<String, Value>,
}

impl OktaUser {
    /// Since when the user has had its account (Unix seconds): the later of `created`
    /// and `activated`, if Okta gave either as an RFC 3339 time.
    pub fn since(&self) -> Option<i64> {
        [&self.created, &self.activated]
            .into_iter()
            .flatten()
            .filter_map(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp())
            .max()
    }

    /// A profile attribute as text: strings as they are, other non-null values as JSON.
    pub fn attr(&self, name: &str) -> Option<String> {
        match self.profile.get(name)? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }
}

/// A member as a group's member list (`GET /api/v1/groups/{id}/users`) gives it: its
/// id, and the whole user as raw JSON, parsed by [`OktaMember::user`] only when needed.
/// A sync needs the full user only for the few members the users list leaves out;
/// building a million profiles it then drops took most of a 100k-user sync's fetch.
#[derive(Debug)]
pub struct OktaMember {
    /// `00u…` id.
    pub id: String,
    raw: Box<RawValue>,
}

impl OktaMember {
    /// The whole user.
    pub fn user(&self) -> Result<OktaUser, serde_json::Error> {
        serde_json::from_str(self.raw.get())
    }
}

impl<'de> Deserialize<'de> for OktaMember {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Id {
            id: String,
        }
        let raw = Box::<RawValue>::deserialize(d)?;
        let Id { id } = serde_json::from_str(raw.get()).map_err(serde::de::Error::custom)?;
        Ok(OktaMember { id, raw })
    }
}

/// An Okta group (`GET /api/v1/groups`, `/users/{id}/groups`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OktaGroup {
    /// `00g…` id.
    pub id: String,
    /// `OKTA_GROUP`, `APP_GROUP`, `BUILT_IN`; unknown values kept as text.
    #[serde(rename = "type", default, deserialize_with = "null_as_default")]
    pub group_type: String,
    /// Name and description.
    pub profile: GroupProfile,
    /// Last profile change.
    #[serde(default)]
    pub last_updated: Option<String>,
    /// Last membership change.
    #[serde(default)]
    pub last_membership_updated: Option<String>,
}

/// An assignment to an Okta application (`GET /api/v1/apps/{id}/users` gives a user's,
/// direct or through a group; `/apps/{id}/groups` a group's): the user or group id and
/// when the assignment last changed.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AppAssignment {
    /// The assigned user's (`00u…`) or group's (`00g…`) id.
    pub id: String,
    /// When the assignment was made or last changed.
    #[serde(default)]
    pub last_updated: Option<String>,
}

/// A group's profile.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct GroupProfile {
    /// Group name.
    pub name: String,
    /// Description (often null).
    #[serde(default)]
    pub description: Option<String>,
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerates_nulls_missing_fields_and_custom_attributes() {
        let u: OktaUser = serde_json::from_str(
            r#"{"id":"00u1","status":null,"profile":{"login":"a@b.c","lastName":null,"number123":1,"array123":["x"]},"extra":{}}"#,
        )
        .unwrap();
        assert_eq!(u.status, "");
        assert_eq!(u.attr("login").as_deref(), Some("a@b.c"));
        assert_eq!(u.attr("lastName"), None);
        assert_eq!(u.attr("number123").as_deref(), Some("1"));
        assert_eq!(u.attr("array123").as_deref(), Some(r#"["x"]"#));
        let u: OktaUser = serde_json::from_str(r#"{"id":"00u2","profile":null}"#).unwrap();
        assert!(u.profile.is_empty());
    }

    #[test]
    fn requires_ids_and_group_names() {
        assert!(serde_json::from_str::<OktaUser>(r#"{"status":"ACTIVE"}"#).is_err());
        assert!(serde_json::from_str::<OktaGroup>(r#"{"id":"00g1","profile":{}}"#).is_err());
        let g: OktaGroup = serde_json::from_str(
            r#"{"id":"00g1","type":"NEW_KIND","profile":{"name":"n","description":null}}"#,
        )
        .unwrap();
        assert_eq!(g.group_type, "NEW_KIND");
        assert_eq!(g.profile.description, None);
    }

    #[test]
    fn a_member_keeps_its_id_and_is_parsed_in_full_only_when_asked() {
        let page: Vec<OktaMember> = serde_json::from_str(
            r#"[{"id":"00u1","status":"ACTIVE","profile":{"login":"a@example.com"}},
                {"id":"00u2","profile":5}]"#,
        )
        .unwrap();
        assert_eq!(page[0].id, "00u1");
        let u = page[0].user().unwrap();
        assert_eq!(u.status, "ACTIVE");
        assert_eq!(u.attr("login").as_deref(), Some("a@example.com"));
        // A bad profile fails only the member whose full user is asked for.
        assert_eq!(page[1].id, "00u2");
        assert!(page[1].user().is_err());
        let no_id = serde_json::from_str::<Vec<OktaMember>>(r#"[{"profile":{}}]"#).unwrap_err();
        assert!(no_id.to_string().contains("missing field `id`"), "{no_id}");
    }
}
