//! Property tests of the Okta JSON model and the mapping to store users and groups: any
//! JSON (random profile values, nulls, wrong types, missing fields) either parses or is
//! refused, never panics; a mapped user always has a lowercase, trimmed, non-empty
//! username taken from `login`, a non-empty display name, and only the configured
//! attributes; `desired` never holds two users with one id or username, and memberships
//! only of synced groups and of users it knows.

use plugin::config::ConnectorConfig;
use plugin::mapping::{self, status_active};
use plugin::okta::{OktaGroup, OktaUser};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::collections::HashSet;

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        "[ a-zA-Z0-9@._-]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A profile value: mostly strings (with spaces, case, Unicode), some other types.
fn profile_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => "[ \t]{0,2}[a-zA-Z0-9.@_-]{0,10}[ \t]{0,2}".prop_map(Value::from),
        2 => any::<String>().prop_map(Value::from),
        1 => Just(Value::from("ÄÖÜ.İstanbul@X.COM")),
        1 => Just(Value::from("   ")),
        2 => any_json(),
    ]
}

/// A user object: maybe an id (maybe of the wrong type), a status (known, unknown,
/// null, wrong type), a profile (maybe null or not an object) with Okta's base
/// attributes holding anything, and unknown top-level fields.
fn user_json() -> impl Strategy<Value = Value> {
    let id = prop_oneof![
        6 => "00u[a-zA-Z0-9]{1,17}".prop_map(Value::from),
        1 => any_json(),
    ];
    let status = prop_oneof![
        6 => prop::sample::select(vec![
            "ACTIVE", "PASSWORD_EXPIRED", "LOCKED_OUT", "RECOVERY", "SUSPENDED",
            "DEPROVISIONED", "STAGED", "PROVISIONED", "WEIRD", "", "active",
        ])
        .prop_map(Value::from),
        1 => any_json(),
    ];
    let keys = prop::sample::select(vec![
        "login",
        "email",
        "firstName",
        "lastName",
        "displayName",
        "department",
        "title",
        "costCenter",
        "nickName",
    ]);
    let profile = prop_oneof![
        8 => proptest::collection::btree_map(keys, profile_value(), 0..8)
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        1 => any_json(),
    ];
    (
        proptest::option::of(id),
        proptest::option::of(status),
        proptest::option::of(profile),
        proptest::collection::btree_map("[a-zA-Z_]{1,10}", any_json(), 0..3),
    )
        .prop_map(|(id, status, profile, extra)| {
            let mut m: Map<String, Value> = extra.into_iter().collect();
            for (k, v) in [("id", id), ("status", status), ("profile", profile)] {
                if let Some(v) = v {
                    m.insert(k.into(), v);
                }
            }
            Value::Object(m)
        })
}

/// A group object, as loosely shaped.
fn group_json() -> impl Strategy<Value = Value> {
    let ty = prop_oneof![
        prop::sample::select(vec!["OKTA_GROUP", "APP_GROUP", "BUILT_IN", "NEW_KIND"])
            .prop_map(Value::from),
        any_json(),
    ];
    let name = prop_oneof![
        4 => "[ ]{0,1}[A-Za-z ]{0,8}[ ]{0,1}".prop_map(Value::from),
        1 => any_json(),
    ];
    (
        proptest::option::of("00g[a-z0-9]{1,4}".prop_map(Value::from)),
        proptest::option::of(ty),
        proptest::option::of(name),
        proptest::option::of(any_json()),
        any::<bool>(),
    )
        .prop_map(|(id, ty, name, description, profile_is_object)| {
            let mut profile = Map::new();
            if let Some(n) = name {
                profile.insert("name".into(), n);
            }
            if let Some(d) = description {
                profile.insert("description".into(), d);
            }
            let mut m = Map::new();
            if let Some(id) = id {
                m.insert("id".into(), id);
            }
            if let Some(ty) = ty {
                m.insert("type".into(), ty);
            }
            m.insert(
                "profile".into(),
                if profile_is_object {
                    Value::Object(profile)
                } else {
                    Value::Null
                },
            );
            Value::Object(m)
        })
}

fn config() -> impl Strategy<Value = ConnectorConfig> {
    (
        any::<bool>(),
        proptest::collection::vec(
            prop::sample::select(vec!["department", "title", "costCenter", "missing"]),
            0..4,
        ),
    )
        .prop_map(|(built_in, attrs)| ConnectorConfig {
            include_built_in_groups: built_in,
            user_attributes: attrs.into_iter().map(String::from).collect(),
            ..Default::default()
        })
}

/// The invariants of one mapped user.
fn check_mapped(u: &OktaUser, cfg: &ConnectorConfig) -> Result<(), TestCaseError> {
    let login = u
        .profile
        .get("login")
        .and_then(Value::as_str)
        .map(String::from);
    match mapping::map_user(u, cfg) {
        Ok(d) => {
            let login = login.expect("mapped users have a login");
            prop_assert_eq!(&d.okta_id, &u.id);
            prop_assert_eq!(&d.username, &login.trim().to_lowercase());
            prop_assert!(!d.username.is_empty());
            prop_assert_eq!(&d.username.to_lowercase(), &d.username, "lowercase");
            prop_assert_eq!(d.username.trim(), d.username.as_str(), "trimmed");
            prop_assert!(!d.display_name.trim().is_empty(), "a display name");
            prop_assert_eq!(d.email.trim(), d.email.as_str());
            prop_assert_eq!(Some(d.active), status_active(&u.status));
            prop_assert!(!d.creatable || d.active, "only active users are created");
            for (k, v) in &d.attributes {
                prop_assert!(cfg.user_attributes.contains(k));
                prop_assert_eq!(Some(v.clone()), u.attr(k));
            }
        }
        Err(why) => {
            prop_assert!(why.contains(&u.id), "the reason names the user: {}", why);
            let blank = login.as_deref().is_none_or(|l| l.trim().is_empty());
            prop_assert!(
                status_active(&u.status).is_none() || blank,
                "refused only for an unknown status or no login: {}",
                why
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Any JSON object: parsing succeeds or fails, mapping never panics, and a mapped user
    /// keeps every invariant.
    #[test]
    fn any_user_json_parses_or_is_refused_and_maps(v in user_json(), cfg in config()) {
        let text = v.to_string();
        match serde_json::from_str::<OktaUser>(&text) {
            Ok(u) => {
                prop_assert!(v["id"].is_string(), "an id is required");
                check_mapped(&u, &cfg)?;
            }
            Err(_) => {
                let profile_ok = matches!(v.get("profile"), None | Some(Value::Null | Value::Object(_)));
                let status_ok = matches!(v.get("status"), None | Some(Value::Null | Value::String(_)));
                let updated_ok = matches!(v.get("lastUpdated"), None | Some(Value::Null | Value::String(_)));
                prop_assert!(
                    !v["id"].is_string() || !profile_ok || !status_ok || !updated_ok,
                    "refused a well-shaped user: {}",
                    text
                );
            }
        }
    }

    /// A user whose profile has a non-blank string login is always synced unless its
    /// status is unknown.
    #[test]
    fn a_login_and_a_known_status_always_map(
        login in "[ ]{0,2}[A-Za-z0-9._@+-]{1,20}[ ]{0,2}",
        status in prop::sample::select(vec!["ACTIVE", "PASSWORD_EXPIRED", "LOCKED_OUT", "RECOVERY", "SUSPENDED", "DEPROVISIONED", "STAGED", "PROVISIONED"]),
        first in proptest::option::of(profile_value()),
        last in proptest::option::of(profile_value()),
        display in proptest::option::of(profile_value()),
        cfg in config(),
    ) {
        let mut profile = json!({ "login": login });
        for (k, v) in [("firstName", first), ("lastName", last), ("displayName", display)] {
            if let Some(v) = v {
                profile[k] = v;
            }
        }
        let u: OktaUser = serde_json::from_value(json!({"id": "00u1", "status": status, "profile": profile})).unwrap();
        let d = mapping::map_user(&u, &cfg).expect("maps");
        prop_assert_eq!(d.username, login.trim().to_lowercase());
        check_mapped(&u, &cfg)?;
    }

    /// Any group JSON parses or is refused without panicking; a parsed group has an id
    /// and a name.
    #[test]
    fn any_group_json_parses_or_is_refused(v in group_json()) {
        if let Ok(g) = serde_json::from_value::<OktaGroup>(v.clone()) {
            prop_assert!(v["id"].is_string() && v["profile"]["name"].is_string());
            prop_assert_eq!(&g.profile.name, v["profile"]["name"].as_str().unwrap());
        }
    }

    /// Bytes that are not JSON (or not UTF-8) are refused, never panic.
    #[test]
    fn arbitrary_bytes_are_refused_or_parsed(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = serde_json::from_slice::<Vec<OktaUser>>(&bytes);
        let _ = serde_json::from_slice::<Vec<OktaGroup>>(&bytes);
        let _ = serde_json::from_slice::<OktaUser>(&bytes);
    }

    /// The target state of random users, groups and member lists: users unique by id
    /// and username, groups unique by id and (case-insensitive) name, BUILT_IN groups
    /// only when enabled, memberships only of synced groups and without duplicates, and
    /// every user either synced, left untouched (reported), or reported as a duplicate.
    #[test]
    fn desired_is_consistent(
        users in proptest::collection::vec(user_json(), 0..12),
        groups in proptest::collection::vec(group_json(), 0..8),
        members in proptest::collection::vec(
            ("00g[a-z0-9]{1,4}", proptest::collection::vec("00u[a-zA-Z0-9]{1,3}", 0..6)),
            0..8,
        ),
        cfg in config(),
    ) {
        let users: Vec<OktaUser> = users.into_iter().filter_map(|v| serde_json::from_value(v).ok()).collect();
        let groups: Vec<OktaGroup> = groups.into_iter().filter_map(|v| serde_json::from_value(v).ok()).collect();
        let d = mapping::desired(&users, &groups, &members, &cfg);

        let ids: HashSet<&str> = d.users.iter().map(|u| u.okta_id.as_str()).collect();
        prop_assert_eq!(ids.len(), d.users.len(), "one user per id");
        let names: HashSet<String> = d.users.iter().map(|u| u.username.to_lowercase()).collect();
        prop_assert_eq!(names.len(), d.users.len(), "one user per username");
        for u in &d.users {
            prop_assert!(!d.untouched.contains(&u.okta_id));
        }
        let distinct_ids: HashSet<&str> = users.iter().map(|u| u.id.as_str()).collect();
        prop_assert!(d.users.len() + d.untouched.len() <= distinct_ids.len());
        prop_assert_eq!(
            d.users.len() + d.warnings.len() >= users.len(),
            true,
            "every user not synced is reported"
        );

        let gids: HashSet<&str> = d.groups.iter().map(|g| g.okta_id.as_str()).collect();
        prop_assert_eq!(gids.len(), d.groups.len());
        let gnames: HashSet<String> = d.groups.iter().map(|g| g.name.to_lowercase()).collect();
        prop_assert_eq!(gnames.len(), d.groups.len());
        for g in &d.groups {
            prop_assert!(!g.name.is_empty() && g.name.trim() == g.name);
            let src = groups.iter().find(|x| x.id == g.okta_id).unwrap();
            prop_assert!(src.group_type != "BUILT_IN" || cfg.include_built_in_groups);
        }
        let mut seen = HashSet::new();
        for m in &d.memberships {
            prop_assert!(gids.contains(m.1.as_str()), "only synced groups");
            prop_assert!(seen.insert(m.clone()), "no duplicate membership {:?}", m);
        }
    }
}
