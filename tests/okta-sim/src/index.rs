//! Lookups into the org by user id, by login, by member and in creation order, each built
//! on first use, once per version of the org (the org changes only through
//! `Simulator::with_org`, which drops the index). Without them every `/groups/{id}/users`
//! page mapped all users by id, every users page sorted and filtered all users, and every
//! login lookup scanned them: O(users) per request, minutes for a 100,000-user org.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::org::{OktaGroup, OktaUser, Org};

/// Positions in `Org::users` / `Org::groups`. Each part is built on first use, from the
/// org the index belongs to (requests hold the org's lock while they use it).
#[derive(Debug, Default)]
pub(crate) struct OrgIndex {
    by_id: OnceLock<HashMap<String, usize>>,
    by_login: OnceLock<HashMap<String, usize>>,
    groups_of: OnceLock<HashMap<String, Vec<usize>>>,
    by_creation: OnceLock<Vec<usize>>,
}

impl OrgIndex {
    /// An index of `org`, built part by part as it is used. Where ids or logins repeat,
    /// the first user wins, as in [`Org::user`] and [`Org::user_by_login`].
    pub fn build(_org: &Org) -> OrgIndex {
        OrgIndex::default()
    }

    /// The user with this id (same as [`Org::user`]).
    pub fn user<'o>(&self, org: &'o Org, id: &str) -> Option<&'o OktaUser> {
        let by_id = self.by_id.get_or_init(|| {
            let mut m = HashMap::with_capacity(org.users.len());
            for (i, u) in org.users.iter().enumerate() {
                m.entry(u.id.clone()).or_insert(i);
            }
            m
        });
        by_id.get(id).map(|&i| &org.users[i])
    }

    /// The user with this login, ASCII case-insensitively (same as [`Org::user_by_login`]).
    pub fn user_by_login<'o>(&self, org: &'o Org, login: &str) -> Option<&'o OktaUser> {
        let by_login = self.by_login.get_or_init(|| {
            let mut m = HashMap::with_capacity(org.users.len());
            for (i, u) in org.users.iter().enumerate() {
                if let Some(login) = u.profile.get("login").and_then(|v| v.as_str()) {
                    m.entry(login.to_ascii_lowercase()).or_insert(i);
                }
            }
            m
        });
        by_login
            .get(&login.to_ascii_lowercase())
            .map(|&i| &org.users[i])
    }

    /// Positions of all users ordered by creation (`created`, then id).
    pub fn by_creation(&self, org: &Org) -> &[usize] {
        self.by_creation.get_or_init(|| {
            let mut v: Vec<usize> = (0..org.users.len()).collect();
            // Stable: users with equal keys stay in org order.
            v.sort_by(|&a, &b| {
                crate::users::user_key(&org.users[a]).cmp(&crate::users::user_key(&org.users[b]))
            });
            v
        })
    }

    /// The groups that list `user_id` as a member, in org order.
    pub fn groups_of<'o>(&self, org: &'o Org, user_id: &str) -> Vec<&'o OktaGroup> {
        let groups_of = self.groups_of.get_or_init(|| {
            let mut m: HashMap<String, Vec<usize>> = HashMap::new();
            for (gi, g) in org.groups.iter().enumerate() {
                for member in &g.members {
                    let groups = m.entry(member.clone()).or_default();
                    if groups.last() != Some(&gi) {
                        groups.push(gi);
                    }
                }
            }
            m
        });
        groups_of
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
