//! Inactivity cleanup (`lifecycle.inactivity`): a user who has not logged in to the
//! product for `days` days (with `include-never-logged-in`, one who never did, counted
//! from when its Okta account was created or last activated) is held inactive by every
//! sync, unless it is a member of an exempt group. It is judged by the host's record of
//! its last login (`user.last-login`); a login sync, which is a login, does not judge and
//! so reactivates the user, and the host records the login.
//!
//! The rule only turns desired users inactive before the plan is made: the plan then
//! deactivates them (counted by the mass-deactivation guard like any deactivation), and
//! does not reactivate those it already deactivated.

use crate::mapping::Desired;
use crate::settings::InactivityPolicy;
use crate::store::DirectorySnapshot;
use std::collections::{HashMap, HashSet};

const DAY: i64 = 86_400;

/// Hold inactive the desired users the policy judges inactive at `now`; `since` gives
/// each Okta user's account start (Unix seconds) by Okta id. Returns the report's line
/// about the users it deactivates or creates inactive, if any.
pub fn judge(
    desired: &mut Desired,
    store: &DirectorySnapshot,
    since: &HashMap<String, i64>,
    policy: &InactivityPolicy,
    now: i64,
) -> Option<String> {
    let cutoff = now.saturating_sub(i64::from(policy.days).saturating_mul(DAY));
    let exempt = exempt_users(desired, store, policy);
    let by_okta: HashMap<&str, (bool, Option<i64>)> = store
        .users
        .iter()
        .filter_map(|u| u.okta_id.as_deref().map(|o| (o, (u.active, u.last_login))))
        .collect();
    let mut deactivated = Vec::new();
    for du in desired.users.iter_mut().filter(|u| u.active) {
        if exempt.contains(du.okta_id.as_str()) {
            continue;
        }
        let (was_active, last_login) = by_okta
            .get(du.okta_id.as_str())
            .copied()
            .unwrap_or((true, None));
        let stale = match last_login {
            Some(at) => at < cutoff,
            None => {
                policy.include_never_logged_in
                    && since.get(&du.okta_id).is_some_and(|&s| s < cutoff)
            }
        };
        if stale {
            du.active = false;
            if was_active {
                deactivated.push(du.username.clone());
            }
        }
    }
    (!deactivated.is_empty()).then(|| {
        deactivated.sort_by_key(|n| n.to_lowercase());
        let shown: Vec<&str> = deactivated.iter().take(20).map(String::as_str).collect();
        let more = deactivated.len().saturating_sub(shown.len());
        format!(
            "inactivity cleanup: {} users have not logged in for {} days{} and are deactivated until their next login: {}{}",
            deactivated.len(),
            policy.days,
            if policy.include_never_logged_in { " (or never did)" } else { "" },
            shown.join(", "),
            if more > 0 { format!(" and {more} more") } else { String::new() }
        )
    })
}

/// Okta ids of the desired users who are, or after the sync will be, members of an
/// exempt group.
fn exempt_users(
    desired: &Desired,
    store: &DirectorySnapshot,
    policy: &InactivityPolicy,
) -> HashSet<String> {
    let exempt: HashSet<String> = policy
        .exempt_groups
        .iter()
        .map(|g| g.trim().to_lowercase())
        .collect();
    let is_exempt = |g: &str| exempt.contains(&g.to_lowercase());
    if desired.default_groups.iter().any(|g| is_exempt(g)) {
        return desired.users.iter().map(|u| u.okta_id.clone()).collect();
    }
    let exempt_okta_groups: HashSet<&str> = desired
        .groups
        .iter()
        .filter(|g| is_exempt(&g.name))
        .map(|g| g.okta_id.as_str())
        .collect();
    let stored_members: HashSet<String> = store
        .memberships
        .iter()
        .filter(|m| is_exempt(&m.group))
        .map(|m| m.username.to_lowercase())
        .collect();
    let stored_ids: HashSet<&str> = store
        .users
        .iter()
        .filter(|u| stored_members.contains(&u.username.to_lowercase()))
        .filter_map(|u| u.okta_id.as_deref())
        .collect();
    desired
        .memberships
        .iter()
        .filter(|(_, g)| exempt_okta_groups.contains(g.as_str()))
        .map(|(u, _)| u.as_str())
        .chain(
            desired
                .users
                .iter()
                .map(|u| u.okta_id.as_str())
                .filter(|id| stored_ids.contains(id)),
        )
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::{DesiredGroup, DesiredUser};
    use crate::store::{Membership, StoreUser};

    const NOW: i64 = 1_800_000_000;

    fn desired(ids: &[&str]) -> Desired {
        Desired {
            users: ids
                .iter()
                .map(|id| DesiredUser {
                    okta_id: id.to_string(),
                    username: format!("user-{id}"),
                    active: true,
                    creatable: true,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    fn stored(id: &str, active: bool, last_login: Option<i64>) -> StoreUser {
        StoreUser {
            key: format!("K{id}"),
            username: format!("user-{id}"),
            okta_id: Some(id.into()),
            active,
            last_login,
            ..Default::default()
        }
    }

    fn policy(days: u32, never: bool, exempt: &[&str]) -> InactivityPolicy {
        InactivityPolicy {
            days,
            include_never_logged_in: never,
            exempt_groups: exempt.iter().map(|g| g.to_string()).collect(),
        }
    }

    #[test]
    fn stale_logins_are_held_inactive_and_exempt_groups_spared() {
        let mut d = desired(&["a", "b", "c", "d", "e", "f"]);
        d.groups.push(DesiredGroup {
            okta_id: "g1".into(),
            name: "Admins".into(),
            description: String::new(),
        });
        d.memberships.push(("c".into(), "g1".into()));
        let store = DirectorySnapshot {
            users: vec![
                stored("a", true, Some(NOW - 31 * DAY)),
                stored("b", true, Some(NOW - 29 * DAY)),
                stored("c", true, Some(NOW - 400 * DAY)),
                stored("d", true, None),
                stored("e", false, Some(NOW - 90 * DAY)),
                stored("f", true, Some(NOW - 90 * DAY)),
            ],
            memberships: vec![Membership {
                username: "USER-f".into(),
                group: "jira-administrators".into(),
            }],
            ..Default::default()
        };
        let since = HashMap::from([("d".to_string(), NOW - 999 * DAY)]);
        let line = judge(
            &mut d,
            &store,
            &since,
            &policy(30, false, &["admins", "Jira-Administrators"]),
            NOW,
        )
        .unwrap();
        let active: Vec<bool> = d.users.iter().map(|u| u.active).collect();
        assert_eq!(active, [false, true, true, true, false, true]);
        assert_eq!(
            line,
            "inactivity cleanup: 1 users have not logged in for 30 days and are deactivated until their next login: user-a"
        );
    }

    #[test]
    fn never_logged_in_counts_from_the_okta_account() {
        let mut d = desired(&["old", "young", "unknown"]);
        let since = HashMap::from([
            ("old".to_string(), NOW - 11 * DAY),
            ("young".to_string(), NOW - 9 * DAY),
        ]);
        let store = DirectorySnapshot::default();
        let line = judge(&mut d, &store, &since, &policy(10, true, &[]), NOW).unwrap();
        let active: Vec<bool> = d.users.iter().map(|u| u.active).collect();
        assert_eq!(active, [false, true, true]);
        assert!(line.contains("(or never did)"), "{line}");
        let mut d = desired(&["old"]);
        assert_eq!(
            judge(&mut d, &store, &since, &policy(10, false, &[]), NOW),
            None
        );
        assert!(d.users[0].active, "without include-never-logged-in");
    }
}
