//! Lookups into the org by user id, by login and by member, built once per version of
//! the org (the org changes only through `Simulator::with_org`, which drops the index).
//! Without it, every `/groups/{id}/users` page mapped all users by id and every login
//! lookup scanned all users: O(users) per request, minutes for a 100,000-user org.

use std::collections::HashMap;

use crate::org::{OktaGroup, OktaUser, Org};

/// Positions in `Org::users` / `Org::groups`.
#[derive(Debug, Default)]
pub(crate) struct OrgIndex {
    by_id: HashMap<String, usize>,
    by_login: HashMap<String, usize>,
    groups_of: HashMap<String, Vec<usize>>,
}

impl OrgIndex {
    /// Index `org`. Where ids or logins repeat, the first user wins, as in
    /// [`Org::user`] and [`Org::user_by_login`].
    pub fn build(org: &Org) -> OrgIndex {
        let mut ix = OrgIndex::default();
        for (i, u) in org.users.iter().enumerate() {
            ix.by_id.entry(u.id.clone()).or_insert(i);
            if let Some(login) = u.profile.get("login").and_then(|v| v.as_str()) {
                ix.by_login.entry(login.to_ascii_lowercase()).or_insert(i);
            }
        }
        for (gi, g) in org.groups.iter().enumerate() {
            for m in &g.members {
                let groups = ix.groups_of.entry(m.clone()).or_default();
                if groups.last() != Some(&gi) {
                    groups.push(gi);
                }
            }
        }
        ix
    }

    /// The user with this id (same as [`Org::user`]).
    pub fn user<'o>(&self, org: &'o Org, id: &str) -> Option<&'o OktaUser> {
        self.by_id.get(id).map(|&i| &org.users[i])
    }

    /// The user with this login, ASCII case-insensitively (same as [`Org::user_by_login`]).
    pub fn user_by_login<'o>(&self, org: &'o Org, login: &str) -> Option<&'o OktaUser> {
        self.by_login
            .get(&login.to_ascii_lowercase())
            .map(|&i| &org.users[i])
    }

    /// The groups that list `user_id` as a member, in org order.
    pub fn groups_of<'o>(&self, org: &'o Org, user_id: &str) -> Vec<&'o OktaGroup> {
        self.groups_of
            .get(user_id)
            .map(|v| v.iter().map(|&i| &org.groups[i]).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::GenSpec;

    #[test]
    fn agrees_with_the_linear_lookups() {
        let mut org = Org::generate(&GenSpec {
            users: 300,
            groups: 20,
            memberships_per_user: 3,
            seed: 11,
        });
        let dup = org.users[5].clone();
        org.users.push(dup);
        let ix = OrgIndex::build(&org);
        for u in &org.users {
            assert!(std::ptr::eq(
                ix.user(&org, &u.id).unwrap(),
                org.user(&u.id).unwrap()
            ));
            let login = u.profile["login"].as_str().unwrap().to_uppercase();
            assert!(std::ptr::eq(
                ix.user_by_login(&org, &login).unwrap(),
                org.user_by_login(&login).unwrap()
            ));
            let linear: Vec<&str> = org
                .groups
                .iter()
                .filter(|g| g.members.contains(&u.id))
                .map(|g| g.id.as_str())
                .collect();
            let indexed: Vec<&str> = ix
                .groups_of(&org, &u.id)
                .iter()
                .map(|g| g.id.as_str())
                .collect();
            assert_eq!(indexed, linear);
        }
        assert!(ix.user(&org, "00unknown").is_none());
        assert!(ix.user_by_login(&org, "nobody@example.com").is_none());
        assert!(ix.groups_of(&org, "00unknown").is_empty());
    }
}
