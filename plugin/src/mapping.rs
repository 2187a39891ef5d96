//! From Okta objects to what the store should hold: usernames, display names, active
//! flags, attributes, which groups are synced.

use crate::config::ConnectorConfig;
use crate::okta::{OktaGroup, OktaUser};
use std::collections::{BTreeMap, HashSet};

/// A user as the store should hold it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesiredUser {
    /// Okta id.
    pub okta_id: String,
    /// Username in the product.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Email.
    pub email: String,
    /// Active flag from the Okta status.
    pub active: bool,
    /// Whether the user may be created when the store does not have it yet.
    pub creatable: bool,
    /// Attributes copied from the profile.
    pub attributes: BTreeMap<String, String>,
}

/// A group as the store should hold it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesiredGroup {
    /// Okta id.
    pub okta_id: String,
    /// Group name.
    pub name: String,
    /// Description.
    pub description: String,
}

/// The whole target state of one directory, computed from an Okta snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Desired {
    /// Users to hold.
    pub users: Vec<DesiredUser>,
    /// Groups to hold.
    pub groups: Vec<DesiredGroup>,
    /// Memberships as (Okta user id, Okta group id).
    pub memberships: Vec<(String, String)>,
    /// Okta ids of users seen but left as they are (e.g. unknown status).
    pub untouched: HashSet<String>,
    /// What the admin should know.
    pub warnings: Vec<String>,
}

/// How an Okta status maps to the product: `Some(active)`, or `None` when unknown.
/// ACTIVE, PASSWORD_EXPIRED, LOCKED_OUT, RECOVERY are active; SUSPENDED, DEPROVISIONED,
/// STAGED and PROVISIONED are not (the last two are never created).
pub fn status_active(status: &str) -> Option<bool> {
    match status {
        "ACTIVE" | "PASSWORD_EXPIRED" | "LOCKED_OUT" | "RECOVERY" => Some(true),
        "SUSPENDED" | "DEPROVISIONED" | "STAGED" | "PROVISIONED" => Some(false),
        _ => None,
    }
}

/// Map one Okta user, or say why it cannot be synced.
pub fn map_user(u: &OktaUser, cfg: &ConnectorConfig) -> Result<DesiredUser, String> {
    let active = status_active(&u.status).ok_or_else(|| {
        format!(
            "user {} has unknown status `{}`; left unchanged",
            u.id, u.status
        )
    })?;
    let login = u
        .attr("login")
        .map(|l| l.trim().to_lowercase())
        .filter(|l| !l.is_empty())
        .ok_or_else(|| format!("user {} has no login; skipped", u.id))?;
    let first = u.attr("firstName").unwrap_or_default();
    let last = u.attr("lastName").unwrap_or_default();
    let full = format!("{} {}", first.trim(), last.trim())
        .trim()
        .to_string();
    let display_name = if !full.is_empty() {
        full
    } else {
        u.attr("displayName")
            .filter(|d| !d.trim().is_empty())
            .unwrap_or_else(|| login.clone())
    };
    let attributes = cfg
        .user_attributes
        .iter()
        .filter_map(|a| u.attr(a).map(|v| (a.clone(), v)))
        .collect();
    Ok(DesiredUser {
        okta_id: u.id.clone(),
        username: login,
        display_name,
        email: u.attr("email").unwrap_or_default().trim().to_string(),
        active,
        creatable: matches!(
            u.status.as_str(),
            "ACTIVE" | "PASSWORD_EXPIRED" | "LOCKED_OUT" | "RECOVERY"
        ),
        attributes,
    })
}

/// Whether a group is synced under the config.
pub fn group_included(g: &OktaGroup, cfg: &ConnectorConfig) -> bool {
    g.group_type != "BUILT_IN" || cfg.include_built_in_groups
}

/// Build the target state. `members` pairs an Okta group id with its members' ids.
pub fn desired(
    users: &[OktaUser],
    groups: &[OktaGroup],
    members: &[(String, Vec<String>)],
    cfg: &ConnectorConfig,
) -> Desired {
    let mut d = Desired::default();
    let mut seen_ids = HashSet::new();
    let mut seen_names = HashSet::new();
    for u in users {
        if !seen_ids.insert(u.id.as_str()) {
            d.warnings.push(format!(
                "user {} was listed twice by Okta; counted once",
                u.id
            ));
            continue;
        }
        match map_user(u, cfg) {
            Ok(du) if !seen_names.insert(du.username.clone()) => d.warnings.push(format!(
                "user {} maps to username `{}` which another Okta user already has; skipped",
                u.id, du.username
            )),
            Ok(du) => d.users.push(du),
            Err(w) => {
                d.untouched.insert(u.id.clone());
                d.warnings.push(w);
            }
        }
    }
    let mut group_names = HashSet::new();
    let mut group_ids = HashSet::new();
    for g in groups.iter().filter(|g| group_included(g, cfg)) {
        if !["OKTA_GROUP", "APP_GROUP", "BUILT_IN"].contains(&g.group_type.as_str()) {
            d.warnings.push(format!(
                "group `{}` has unknown type `{}`; synced like an Okta group",
                g.profile.name, g.group_type
            ));
        }
        let name = g.profile.name.trim().to_string();
        if name.is_empty() || !group_ids.insert(g.id.as_str()) {
            continue;
        }
        if !group_names.insert(name.to_lowercase()) {
            d.warnings.push(format!(
                "two Okta groups are named `{name}`; only the first is synced"
            ));
            continue;
        }
        d.groups.push(DesiredGroup {
            okta_id: g.id.clone(),
            name,
            description: g.profile.description.clone().unwrap_or_default(),
        });
    }
    let synced: HashSet<&str> = d.groups.iter().map(|g| g.okta_id.as_str()).collect();
    for (gid, uids) in members.iter().filter(|(g, _)| synced.contains(g.as_str())) {
        let mut seen = HashSet::new();
        for uid in uids.iter().filter(|u| seen.insert(u.as_str())) {
            d.memberships.push((uid.clone(), gid.clone()));
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str, status: &str, profile: serde_json::Value) -> OktaUser {
        serde_json::from_value(serde_json::json!({"id": id, "status": status, "profile": profile}))
            .unwrap()
    }

    #[test]
    fn maps_names_status_and_attributes() {
        let cfg = ConnectorConfig {
            user_attributes: vec!["department".into(), "missing".into()],
            ..Default::default()
        };
        let u = user(
            "00u1",
            "LOCKED_OUT",
            serde_json::json!({"login":"Ann.Lee@X.com","email":"ann@x.com","firstName":"Ann","lastName":"Lee","department":"R&D"}),
        );
        let d = map_user(&u, &cfg).unwrap();
        assert_eq!(d.username, "ann.lee@x.com");
        assert_eq!(d.display_name, "Ann Lee");
        assert!(d.active && d.creatable);
        assert_eq!(
            d.attributes.into_iter().collect::<Vec<_>>(),
            [("department".to_string(), "R&D".to_string())]
        );
        let u = user(
            "00u2",
            "STAGED",
            serde_json::json!({"login":"b","displayName":"Bee"}),
        );
        let d = map_user(&u, &cfg).unwrap();
        assert_eq!(d.display_name, "Bee");
        assert!(!d.active && !d.creatable);
        assert!(
            map_user(
                &user("00u3", "WEIRD", serde_json::json!({"login":"c"})),
                &cfg
            )
            .unwrap_err()
            .contains("unknown status `WEIRD`")
        );
        assert!(
            map_user(&user("00u4", "ACTIVE", serde_json::json!({})), &cfg)
                .unwrap_err()
                .contains("no login")
        );
    }

    #[test]
    fn duplicate_usernames_and_ids_are_reported_not_overwritten() {
        let users = vec![
            user("00u1", "ACTIVE", serde_json::json!({"login":"a@x.com"})),
            user("00u2", "ACTIVE", serde_json::json!({"login":"A@X.com"})),
            user("00u1", "ACTIVE", serde_json::json!({"login":"a@x.com"})),
        ];
        let d = desired(&users, &[], &[], &ConnectorConfig::default());
        assert_eq!(d.users.len(), 1);
        assert_eq!(d.users[0].okta_id, "00u1");
        assert_eq!(d.warnings.len(), 2);
    }
}
