//! The JSON shapes Okta returns for users and groups (modelled on recorded
//! responses).

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::dates;
use crate::org::{GroupType, OktaGroup, OktaUser};

/// The user type id every simulated user has (`type.id`).
pub const USER_TYPE_ID: &str = "otyd1c5kqwvXbOtSn5d7";
/// The user schema id in `_links.schema`.
const USER_SCHEMA_ID: &str = "oscd1c5kqwvXbOtSn5d7";
/// The app an APP_GROUP is imported from (`_links.source`).
const APP_GROUP_SOURCE: &str = "0oad1c5l2rTjYvqFs5d7";

const LOGO_MEDIUM: &str = "https://ok12static.oktacdn.com/assets/img/logos/groups/odyssey/okta-medium.30ce6d4085dff29412984e4c191bc874.png";
const LOGO_LARGE: &str = "https://ok12static.oktacdn.com/assets/img/logos/groups/odyssey/okta-large.c3cb8cda8ae0add1b4fe928f5844dbe3.png";
const AD_LOGO_MEDIUM: &str = "https://ok12static.oktacdn.com/assets/img/logos/groups/odyssey/active_directory-medium.9f1a7d2bd96e3cd43e0d9d5ba4c0e9e2.png";
const AD_LOGO_LARGE: &str = "https://ok12static.oktacdn.com/assets/img/logos/groups/odyssey/active_directory-large.2c9bc5b2b6a1c9c8a6e4d5bd7e3a2f10.png";

fn href(url: String) -> Value {
    json!({ "href": url })
}

fn post(url: String) -> Value {
    json!({ "href": url, "method": "POST" })
}

/// A user as serialized by Okta (fields in Okta's order).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserJson<'a> {
    id: &'a str,
    status: &'a str,
    created: String,
    activated: Option<String>,
    status_changed: Option<String>,
    last_login: Option<String>,
    last_updated: String,
    password_changed: Option<String>,
    #[serde(rename = "type")]
    user_type: Value,
    profile: &'a Map<String, Value>,
    credentials: Value,
    #[serde(rename = "_links")]
    links: Value,
}

/// A user as in lists (`_links` has only `self`), or as from
/// `GET /api/v1/users/{id}` (`full`: the status-dependent lifecycle links too).
pub fn user<'a>(u: &'a OktaUser, origin: &str, full: bool) -> UserJson<'a> {
    let email = u.profile.get("email").cloned().unwrap_or(Value::Null);
    let mut credentials = Map::new();
    credentials.insert("password".into(), json!({}));
    if email.is_string() {
        credentials.insert(
            "emails".into(),
            json!([{ "value": email, "status": "VERIFIED", "type": "PRIMARY" }]),
        );
    }
    credentials.insert("provider".into(), json!({ "type": "OKTA", "name": "OKTA" }));

    let base = format!("{origin}/api/v1/users/{}", u.id);
    let mut links = Map::new();
    links.insert("self".into(), href(base.clone()));
    if full {
        links.insert(
            "schema".into(),
            href(format!(
                "{origin}/api/v1/meta/schemas/user/{USER_SCHEMA_ID}"
            )),
        );
        links.insert(
            "type".into(),
            href(format!("{origin}/api/v1/meta/types/user/{USER_TYPE_ID}")),
        );
        for (name, path) in lifecycle_links(&u.status) {
            links.insert((*name).into(), post(format!("{base}/{path}")));
        }
    }

    UserJson {
        id: &u.id,
        status: &u.status,
        created: dates::format(&u.created),
        activated: u.activated.as_ref().map(dates::format),
        status_changed: u.status_changed.as_ref().map(dates::format),
        last_login: u.last_login.as_ref().map(dates::format),
        last_updated: dates::format(&u.last_updated),
        password_changed: u.password_changed.as_ref().map(dates::format),
        user_type: json!({ "id": USER_TYPE_ID }),
        profile: &u.profile,
        credentials: Value::Object(credentials),
        links: Value::Object(links),
    }
}

/// A user as in lists, serialized straight from the org: the same JSON as
/// `user(u, origin, false)` without building it as `Value`s first (list pages are most of
/// what the simulator serves: a million member objects for a 100,000-user org).
pub fn list_user<'a>(u: &'a OktaUser, origin: &'a str) -> ListUser<'a> {
    ListUser { u, origin }
}

/// See [`list_user`].
pub struct ListUser<'a> {
    u: &'a OktaUser,
    origin: &'a str,
}

/// A timestamp as [`dates::format`] writes it, without the intermediate `String`.
struct Date<'a>(&'a chrono::DateTime<chrono::Utc>);

impl Serialize for Date<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use chrono::{Datelike, Timelike};
        let t = self.0;
        // Years chrono writes otherwise, and leap seconds: as `dates::format` does.
        if !(0..=9999).contains(&t.year()) || t.nanosecond() >= 1_000_000_000 {
            return s.serialize_str(&dates::format(t));
        }
        s.collect_str(&format_args!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.timestamp_subsec_millis()
        ))
    }
}

impl Serialize for ListUser<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;

        // The maps `user` builds are ordered by key (`serde_json::Map` is a BTreeMap):
        // these structs list their fields in that order.
        #[derive(Serialize)]
        struct TypeId {
            id: &'static str,
        }
        #[derive(Serialize)]
        struct Email<'a> {
            status: &'static str,
            #[serde(rename = "type")]
            kind: &'static str,
            value: &'a str,
        }
        #[derive(Serialize)]
        struct Empty {}
        #[derive(Serialize)]
        struct Provider {
            name: &'static str,
            #[serde(rename = "type")]
            kind: &'static str,
        }
        #[derive(Serialize)]
        struct Credentials<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            emails: Option<[Email<'a>; 1]>,
            password: Empty,
            provider: Provider,
        }
        struct Href<'a>(&'a str, &'a str);
        impl Serialize for Href<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("href", &format_args!("{}/api/v1/users/{}", self.0, self.1))?;
                m.end()
            }
        }
        #[derive(Serialize)]
        struct Links<'a> {
            #[serde(rename = "self")]
            this: Href<'a>,
        }

        let u = self.u;
        fn date(t: &Option<chrono::DateTime<chrono::Utc>>) -> Option<Date<'_>> {
            t.as_ref().map(Date)
        }
        let mut m = s.serialize_struct("UserJson", 12)?;
        m.serialize_field("id", &u.id)?;
        m.serialize_field("status", &u.status)?;
        m.serialize_field("created", &Date(&u.created))?;
        m.serialize_field("activated", &date(&u.activated))?;
        m.serialize_field("statusChanged", &date(&u.status_changed))?;
        m.serialize_field("lastLogin", &date(&u.last_login))?;
        m.serialize_field("lastUpdated", &Date(&u.last_updated))?;
        m.serialize_field("passwordChanged", &date(&u.password_changed))?;
        m.serialize_field("type", &TypeId { id: USER_TYPE_ID })?;
        m.serialize_field("profile", &u.profile)?;
        let email = u.profile.get("email").and_then(Value::as_str);
        m.serialize_field(
            "credentials",
            &Credentials {
                emails: email.map(|value| {
                    [Email {
                        status: "VERIFIED",
                        kind: "PRIMARY",
                        value,
                    }]
                }),
                password: Empty {},
                provider: Provider {
                    name: "OKTA",
                    kind: "OKTA",
                },
            },
        )?;
        m.serialize_field(
            "_links",
            &Links {
                this: Href(self.origin, &u.id),
            },
        )?;
        m.end()
    }
}

/// The lifecycle links Okta offers on a single user of this status.
fn lifecycle_links(status: &str) -> &'static [(&'static str, &'static str)] {
    const ACTIVE: &[(&str, &str)] = &[
        ("suspend", "lifecycle/suspend"),
        ("resetPassword", "lifecycle/reset_password"),
        ("forgotPassword", "credentials/forgot_password"),
        ("expirePassword", "lifecycle/expire_password"),
        (
            "changeRecoveryQuestion",
            "credentials/change_recovery_question",
        ),
        ("resetFactors", "lifecycle/reset_factors"),
        ("changePassword", "credentials/change_password"),
        ("deactivate", "lifecycle/deactivate"),
    ];
    match status {
        "ACTIVE" | "PASSWORD_EXPIRED" => ACTIVE,
        "RECOVERY" => &[
            ("suspend", "lifecycle/suspend"),
            ("resetPassword", "lifecycle/reset_password"),
            ("expirePassword", "lifecycle/expire_password"),
            ("resetFactors", "lifecycle/reset_factors"),
            ("deactivate", "lifecycle/deactivate"),
        ],
        "STAGED" => &[
            ("activate", "lifecycle/activate"),
            ("resetFactors", "lifecycle/reset_factors"),
            ("deactivate", "lifecycle/deactivate"),
        ],
        "PROVISIONED" => &[
            ("reactivate", "lifecycle/reactivate"),
            ("resetPassword", "lifecycle/reset_password"),
            ("resetFactors", "lifecycle/reset_factors"),
            ("deactivate", "lifecycle/deactivate"),
        ],
        "SUSPENDED" => &[
            ("unsuspend", "lifecycle/unsuspend"),
            ("resetFactors", "lifecycle/reset_factors"),
            ("deactivate", "lifecycle/deactivate"),
        ],
        "LOCKED_OUT" => &[
            ("unlock", "lifecycle/unlock"),
            ("resetPassword", "lifecycle/reset_password"),
            ("expirePassword", "lifecycle/expire_password"),
            ("resetFactors", "lifecycle/reset_factors"),
            ("deactivate", "lifecycle/deactivate"),
        ],
        "DEPROVISIONED" => &[("activate", "lifecycle/activate")],
        _ => &[],
    }
}

/// A group as serialized by Okta (fields in Okta's order).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupJson<'a> {
    id: &'a str,
    created: String,
    last_updated: String,
    last_membership_updated: String,
    object_class: [&'static str; 1],
    #[serde(rename = "type")]
    group_type: &'static str,
    profile: GroupProfile<'a>,
    #[serde(rename = "_links")]
    links: Value,
}

#[derive(Serialize)]
struct GroupProfile<'a> {
    name: &'a str,
    description: Option<&'a str>,
}

/// A group object (no `_links.self`, like real Okta groups).
pub fn group<'a>(g: &'a OktaGroup, origin: &str) -> GroupJson<'a> {
    let (object_class, medium, large) = match g.group_type {
        GroupType::AppGroup => (
            "okta:windows_security_principal",
            AD_LOGO_MEDIUM,
            AD_LOGO_LARGE,
        ),
        _ => ("okta:user_group", LOGO_MEDIUM, LOGO_LARGE),
    };
    let base = format!("{origin}/api/v1/groups/{}", g.id);
    let mut links = Map::new();
    links.insert(
        "logo".into(),
        json!([
            { "name": "medium", "href": medium, "type": "image/png" },
            { "name": "large", "href": large, "type": "image/png" }
        ]),
    );
    if g.group_type == GroupType::AppGroup {
        links.insert(
            "source".into(),
            href(format!("{origin}/api/v1/apps/{APP_GROUP_SOURCE}")),
        );
    }
    links.insert("users".into(), href(format!("{base}/users")));
    links.insert("apps".into(), href(format!("{base}/apps")));

    GroupJson {
        id: &g.id,
        created: dates::format(&g.created),
        last_updated: dates::format(&g.last_updated),
        last_membership_updated: dates::format(&g.last_membership_updated),
        object_class: [object_class],
        group_type: g.group_type.as_str(),
        profile: GroupProfile {
            name: &g.name,
            description: g.description.as_deref(),
        },
        links: Value::Object(links),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::{GenSpec, Org};

    #[test]
    fn list_users_serialize_as_the_value_form() {
        let mut org = Org::generate(&GenSpec {
            users: 400,
            groups: 5,
            memberships_per_user: 1,
            seed: 3,
        });
        // Odd profiles: no email, a non-string email, escapes, far dates.
        org.users[0].profile.remove("email");
        org.users[1].profile.insert("email".into(), Value::from(42));
        org.users[2]
            .profile
            .insert("email".into(), Value::from("q\"u\\o\u{e9}\n@example.com"));
        org.users[3].created =
            chrono::DateTime::from_timestamp_millis(-62_000_000_000_000).unwrap();
        org.users[4].last_login =
            Some(chrono::DateTime::from_timestamp_millis(253_402_300_799_999).unwrap());
        org.users[5].created =
            chrono::DateTime::from_timestamp_millis(-62_200_000_000_000).unwrap();
        org.users[6].last_updated =
            chrono::DateTime::from_timestamp_millis(253_402_300_800_000).unwrap();
        org.users[7].status_changed = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_milli_opt(23, 59, 59, 1_500))
            .map(|t| t.and_utc());
        assert!(org.users[7].status_changed.is_some());
        for origin in ["https://acme.okta.com", "http://127.0.0.1:8089/x\"y"] {
            for u in &org.users {
                assert_eq!(
                    serde_json::to_string(&list_user(u, origin)).unwrap(),
                    serde_json::to_string(&user(u, origin, false)).unwrap()
                );
            }
        }
    }
}
