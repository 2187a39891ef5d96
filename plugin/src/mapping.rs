//! From Okta objects to what the store should hold: usernames, display names, active
//! flags, attributes, which groups are synced.

use crate::config::ConnectorConfig;
use crate::okta::{OktaGroup, OktaUser};
use crate::rules::{FieldRule, Mapped, Rules, quoted};
use crate::settings::NoMatch;
use crate::store::StoreUser;
use std::collections::HashMap;
use std::collections::{BTreeMap, HashSet};

/// Longest username, display name, email and group name the products store (Jira's,
/// Confluence's and Bitbucket's user and group columns are 255 characters). A longer
/// value from Okta skips its object with a warning: storing a cut value would make a
/// different user or group.
pub const MAX_FIELD_CHARS: usize = 255;

/// `Err` naming the field when `value` is longer than the products store.
fn within_limit(what: &str, field: &str, value: &str) -> Result<(), String> {
    let chars = value.chars().count();
    if chars <= MAX_FIELD_CHARS {
        return Ok(());
    }
    Err(format!(
        "{what}: the {field} `{}` is {chars} characters, longer than the product's {MAX_FIELD_CHARS}; skipped",
        quoted(value)
    ))
}

/// A user as the store should hold it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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
    /// Fields an existing user keeps as they are (a mapping's `no-match: leave`).
    pub kept: Kept,
}

/// Fields of an existing user that a sync leaves as they are, because their mapping's
/// pattern did not match and its policy is `leave`. A new user gets the templated value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kept {
    /// The username (no rename).
    pub username: bool,
    /// The display name.
    pub display_name: bool,
    /// The email.
    pub email: bool,
    /// These template-made attributes.
    pub attributes: Vec<String>,
}

impl Kept {
    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        !self.username && !self.display_name && !self.email && self.attributes.is_empty()
    }
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
    /// Okta ids of groups seen but left as they are in the store, memberships included
    /// (e.g. a name longer than the product stores).
    pub untouched_groups: HashSet<String>,
    /// What the admin should know.
    pub warnings: Vec<String>,
    /// Groups every synced user belongs to (product access groups), local to the product.
    pub default_groups: Vec<String>,
    /// Users of other directories to take over, by Okta id (migration).
    pub adopt: HashMap<String, StoreUser>,
    /// Users not created because another directory holds their username, by Okta id.
    pub blocked: HashMap<String, String>,
    /// Okta ids of synced groups whose member lists were not read (unchanged since last
    /// read): the plan leaves their memberships in the store as they are.
    pub unread_groups: HashSet<String>,
    /// DEPROVISIONED users listed apart because some member lists were not read; the
    /// diff admits those the store holds as members of an unread group.
    pub deprovisioned: Vec<DesiredUser>,
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

/// Settings compiled from a config alone (no product default groups): for callers that
/// only map users and groups.
fn rules_of(cfg: &ConnectorConfig) -> Rules {
    Rules::compile(cfg, &[]).unwrap_or_else(|_| {
        Rules::compile(&ConnectorConfig::default(), &[]).expect("default settings compile")
    })
}

/// Map one Okta user, or say why it cannot be synced.
pub fn map_user(u: &OktaUser, cfg: &ConnectorConfig) -> Result<DesiredUser, String> {
    map_user_with(u, &rules_of(cfg), &cfg.user_attributes)
}

/// One field of one user through its mapping: the value, and whether an existing user
/// keeps its own; `Err` when the mapping skips the user.
fn field(
    u: &OktaUser,
    rule: &FieldRule,
    path: &str,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<(String, bool), String> {
    match rule.map(lookup) {
        Mapped::Set(v) => Ok((v, false)),
        Mapped::Keep(v) => Ok((v, true)),
        Mapped::Skip => Err(format!(
            "user {}: {path} gives nothing or does not match its pattern; skipped",
            u.id
        )),
    }
}

/// The username of `u`: only text names a user (a number or an array would become a
/// username like `["x"]`).
fn username(u: &OktaUser, rules: &Rules) -> Result<(String, bool), String> {
    let text = |a: &str| {
        u.profile
            .get(a)
            .and_then(serde_json::Value::as_str)
            .map(str::to_string)
    };
    let (mut name, kept) = field(u, &rules.username, "users.username", &text)?;
    if rules.users.lowercase_username {
        name = name.to_lowercase();
    }
    if name.is_empty() {
        let raw = rules.username.render(&text);
        return Err(if raw.is_empty() {
            format!("user {} has no {}; skipped", u.id, rules.username.names())
        } else {
            format!(
                "user {}: `{}` maps to an empty username; skipped",
                u.id,
                quoted(&raw)
            )
        });
    }
    Ok((name, kept))
}

/// The display name of `u`, whitespace collapsed; an empty one (unless the mapping
/// clears it) falls back to Okta's `displayName`, then to the username.
fn display_name(u: &OktaUser, rules: &Rules, username: &str) -> Result<(String, bool), String> {
    let lookup = |a: &str| u.attr(a);
    let (v, kept) = field(u, &rules.display_name, "users.display-name", &lookup)?;
    let v = v.split_whitespace().collect::<Vec<_>>().join(" ");
    if !v.is_empty() || (!kept && rules.display_name.on_no_match() == NoMatch::Clear) {
        return Ok((v, kept));
    }
    let fallback = match Rules::display_fallback().map(&lookup) {
        Mapped::Set(d) if !d.is_empty() => d,
        _ => username.to_string(),
    };
    Ok((fallback, kept))
}

/// The attributes of `u`: `copied` as they are, then the template-made ones; returns
/// them with the names an existing user keeps.
fn attributes(
    u: &OktaUser,
    rules: &Rules,
    copied: &[String],
) -> Result<(BTreeMap<String, String>, Vec<String>), String> {
    let lookup = |a: &str| u.attr(a);
    let mut out: BTreeMap<String, String> = copied
        .iter()
        .filter_map(|a| u.attr(a).map(|v| (a.clone(), v)))
        .collect();
    let mut kept = Vec::new();
    for (name, rule) in &rules.attributes {
        let (v, keep) = field(u, rule, &format!("users.attributes `{name}`"), &lookup)?;
        if keep {
            kept.push(name.clone());
        }
        if v.is_empty() {
            out.remove(name);
        } else {
            out.insert(name.clone(), v);
        }
    }
    Ok((out, kept))
}

/// Map one Okta user under compiled settings.
pub fn map_user_with(
    u: &OktaUser,
    rules: &Rules,
    attributes_copied: &[String],
) -> Result<DesiredUser, String> {
    let active = status_active(&u.status).ok_or_else(|| {
        format!(
            "user {} has unknown status `{}`; left unchanged",
            u.id, u.status
        )
    })?;
    let (username, kept_username) = username(u, rules)?;
    let (display_name, kept_display) = display_name(u, rules, &username)?;
    let (email, kept_email) = field(u, &rules.email, "users.email", &|a: &str| u.attr(a))?;
    let (attributes, kept_attributes) = attributes(u, rules, attributes_copied)?;
    let who = format!("user {}", u.id);
    within_limit(&who, "username", &username)?;
    within_limit(&who, "display name", &display_name)?;
    within_limit(&who, "email", &email)?;
    let staged = matches!(u.status.as_str(), "STAGED" | "PROVISIONED");
    Ok(DesiredUser {
        okta_id: u.id.clone(),
        username,
        display_name,
        email,
        active,
        creatable: active || (staged && rules.users.create_staged),
        attributes,
        kept: Kept {
            username: kept_username,
            display_name: kept_display,
            email: kept_email,
            attributes: kept_attributes,
        },
    })
}

/// Whether a group is synced under the config.
pub fn group_included(g: &OktaGroup, cfg: &ConnectorConfig) -> bool {
    rules_of(cfg).group_synced(&g.group_type, &g.profile.name)
}

/// Build the target state. `members` pairs an Okta group id with its members' ids.
pub fn desired(
    users: &[OktaUser],
    groups: &[OktaGroup],
    members: &[(String, Vec<String>)],
    cfg: &ConnectorConfig,
) -> Desired {
    desired_with(users, groups, members, &rules_of(cfg), &cfg.user_attributes)
}

/// The Okta ids of the members of the required groups (`None`: no requirement).
fn required_members<'a>(
    groups: &'a [OktaGroup],
    members: &'a [(String, Vec<String>)],
    rules: &Rules,
) -> Option<HashSet<&'a str>> {
    if rules.required.is_empty() {
        return None;
    }
    let ids: HashSet<&str> = groups
        .iter()
        .filter(|g| rules.is_required(&g.profile.name))
        .map(|g| g.id.as_str())
        .collect();
    Some(
        members
            .iter()
            .filter(|(g, _)| ids.contains(g.as_str()))
            .flat_map(|(_, us)| us.iter().map(String::as_str))
            .collect(),
    )
}

/// Build the target state under compiled settings.
pub fn desired_with(
    users: &[OktaUser],
    groups: &[OktaGroup],
    members: &[(String, Vec<String>)],
    rules: &Rules,
    attributes: &[String],
) -> Desired {
    let mut d = Desired {
        default_groups: rules.default_groups.clone(),
        ..Default::default()
    };
    let allowed = required_members(groups, members, rules);
    let mut seen_ids = HashSet::new();
    let mut seen_names = HashSet::new();
    let mut outside = 0;
    for u in users {
        if !seen_ids.insert(u.id.as_str()) {
            d.warnings.push(format!(
                "user {} was listed twice by Okta; counted once",
                u.id
            ));
            continue;
        }
        if allowed.as_ref().is_some_and(|a| !a.contains(u.id.as_str())) {
            outside += 1;
            continue;
        }
        match map_user_with(u, rules, attributes) {
            Ok(du) if !seen_names.insert(du.username.to_lowercase()) => d.warnings.push(format!(
                "user {} maps to username `{}` which another Okta user already has; skipped (neither overwrites the other)",

                u.id, du.username
            )),
            Ok(du) => d.users.push(du),
            Err(w) => {
                d.untouched.insert(u.id.clone());
                d.warnings.push(w);
            }
        }
    }
    if outside > 0 {
        d.warnings.push(format!(
            "{outside} Okta users are in none of the required groups and are out of scope"
        ));
    }
    let mut group_names = HashSet::new();
    let mut group_ids = HashSet::new();
    for g in groups
        .iter()
        .filter(|g| rules.group_synced(&g.group_type, &g.profile.name))
    {
        if !["OKTA_GROUP", "APP_GROUP", "BUILT_IN"].contains(&g.group_type.as_str()) {
            d.warnings.push(format!(
                "group `{}` has unknown type `{}`; synced like an Okta group",
                quoted(&g.profile.name),
                quoted(&g.group_type)
            ));
        }
        let name = rules.group_name(g.profile.name.trim());
        if name.trim().is_empty() || !group_ids.insert(g.id.as_str()) {
            continue;
        }
        if let Err(w) = within_limit(&format!("group {}", g.id), "group name", &name) {
            d.untouched_groups.insert(g.id.clone());
            d.warnings.push(w);
            continue;
        }
        if !group_names.insert(name.to_lowercase()) {
            d.warnings.push(format!(
                "two Okta groups map to the group name `{name}`; only the first is synced"
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
        for login in [
            serde_json::json!(42),
            serde_json::json!(["a@x.com"]),
            serde_json::json!({"v": "a"}),
        ] {
            assert!(
                map_user(
                    &user("00u5", "ACTIVE", serde_json::json!({ "login": login })),
                    &cfg
                )
                .unwrap_err()
                .contains("no login")
            );
        }
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

    #[test]
    fn names_longer_than_the_product_stores_skip_their_object() {
        let long = "a".repeat(MAX_FIELD_CHARS + 1);
        let users = vec![
            user(
                "00u1",
                "ACTIVE",
                serde_json::json!({"login": format!("{long}@x.com")}),
            ),
            user(
                "00u2",
                "ACTIVE",
                serde_json::json!({"login": "b@x.com", "firstName": long}),
            ),
            user(
                "00u3",
                "ACTIVE",
                serde_json::json!({"login": "c@x.com", "email": long}),
            ),
            user(
                "00u4",
                "ACTIVE",
                serde_json::json!({"login": format!("{}@x.com", "d".repeat(249))}),
            ),
        ];
        let group = |id: &str, name: &str| -> OktaGroup {
            serde_json::from_value(
                serde_json::json!({"id": id, "type": "OKTA_GROUP", "profile": {"name": name}}),
            )
            .unwrap()
        };
        let groups = vec![group("00g1", &"g".repeat(10_000)), group("00g2", "ok")];
        let members = vec![
            ("00g1".to_string(), vec!["00u4".to_string()]),
            ("00g2".to_string(), vec!["00u4".to_string()]),
        ];
        let d = desired(&users, &groups, &members, &ConnectorConfig::default());
        // A 255-character username is taken; one longer skips the user, as a longer
        // display name or email does.
        assert_eq!(d.users.len(), 1);
        assert_eq!(d.users[0].username.chars().count(), 255);
        assert_eq!(
            d.untouched,
            ["00u1", "00u2", "00u3"].map(String::from).into()
        );
        assert_eq!(d.groups.len(), 1);
        assert_eq!(d.groups[0].name, "ok");
        assert_eq!(d.untouched_groups, ["00g1".to_string()].into());
        assert_eq!(d.memberships, [("00u4".to_string(), "00g2".to_string())]);
        let w = d.warnings.join("\n");
        for expected in [
            "user 00u1: the username `",
            "user 00u2: the display name `",
            "user 00u3: the email `",
            "group 00g1: the group name `",
            "is 10000 characters, longer than the product's 255; skipped",
        ] {
            assert!(w.contains(expected), "{expected} not in {w}");
        }
        // Every warning quotes at most 200 characters of a name.
        assert!(d.warnings.iter().all(|w| w.len() < 400), "{w}");
    }
}
