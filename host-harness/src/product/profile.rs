//! Product profiles: the Atlassian Data Center product this harness plays.

use crate::host::bindings::types::Product;
use std::str::FromStr;

/// What differs between the products for a user sync.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Profile {
    /// WIT product.
    pub product: Product,
    /// Name shown to admins.
    pub name: &'static str,
    /// Prefix of new user keys (Jira's `JIRAUSER10100` style).
    pub key_prefix: &'static str,
    /// Groups every synced user gets by default (product access).
    pub default_groups: &'static [&'static str],
    /// Groups whose active members take a licence seat (none: the product is not
    /// licensed per user, so it has no seats to limit).
    pub access_groups: &'static [&'static str],
    /// Where admins find User Sync in the product.
    pub admin_path: &'static str,
}

/// The four products.
pub const PROFILES: [Profile; 4] = [
    Profile {
        product: Product::Jira,
        name: "Jira",
        key_prefix: "JIRAUSER",
        default_groups: &["jira-software-users"],
        access_groups: &["jira-software-users"],
        admin_path: "/plugins/servlet/usersync",
    },
    Profile {
        product: Product::Confluence,
        name: "Confluence",
        key_prefix: "CONFUSER",
        default_groups: &["confluence-users"],
        access_groups: &["confluence-users"],
        admin_path: "/plugins/servlet/usersync",
    },
    Profile {
        product: Product::Bitbucket,
        name: "Bitbucket",
        key_prefix: "BBUSER",
        default_groups: &["stash-users"],
        access_groups: &["stash-users"],
        admin_path: "/plugins/servlet/usersync",
    },
    Profile {
        product: Product::Bamboo,
        name: "Bamboo",
        key_prefix: "BAMUSER",
        default_groups: &[],
        // Bamboo is licensed by remote agents, not by users.
        access_groups: &[],
        admin_path: "/plugins/servlet/usersync",
    },
];

impl FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PROFILES
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(s.trim()))
            .copied()
            .ok_or_else(|| {
                format!("unknown product `{s}`; choose jira, confluence, bitbucket or bamboo")
            })
    }
}

/// Why a seat limit was refused; each names the setting (`seats`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SeatsError {
    /// Not a whole number.
    #[error("seats: `{0}` is not a number of seats; use a whole number from 1 up")]
    NotANumber(String),
    /// Zero seats.
    #[error("seats: a seat limit of 0 would let nobody use the product; use at least 1")]
    Zero,
    /// A product licensed otherwise.
    #[error("seats: {0} is licensed by remote agents, not by users; it has no user seats to limit")]
    NotPerUser(&'static str),
}

/// Parse a seat limit as an admin types it (`--seats 250`).
pub fn parse_seats(s: &str) -> Result<u32, SeatsError> {
    match s.trim().parse::<u32>() {
        Ok(0) => Err(SeatsError::Zero),
        Ok(n) => Ok(n),
        Err(_) => Err(SeatsError::NotANumber(s.to_string())),
    }
}

impl Profile {
    /// Check a seat limit against this product: at least 1, and only for products
    /// licensed per user.
    pub fn check_seats(&self, seats: Option<u32>) -> Result<(), SeatsError> {
        match seats {
            None => Ok(()),
            Some(0) => Err(SeatsError::Zero),
            Some(_) if self.access_groups.is_empty() => Err(SeatsError::NotPerUser(self.name)),
            Some(_) => Ok(()),
        }
    }
}

impl Default for Profile {
    fn default() -> Self {
        PROFILES[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seat_limits_are_whole_numbers_from_one_on_products_licensed_per_user() {
        assert_eq!(parse_seats(" 250 "), Ok(250));
        assert_eq!(parse_seats("0"), Err(SeatsError::Zero));
        for bad in ["ten", "-1", "2.5", "", "99999999999"] {
            assert_eq!(parse_seats(bad), Err(SeatsError::NotANumber(bad.into())));
        }
        let p = |name: &str| name.parse::<Profile>().unwrap();
        assert_eq!(p("jira").check_seats(Some(10)), Ok(()));
        assert_eq!(p("bitbucket").check_seats(None), Ok(()));
        assert_eq!(p("bamboo").check_seats(None), Ok(()));
        assert_eq!(
            p("bamboo").check_seats(Some(10)),
            Err(SeatsError::NotPerUser("Bamboo"))
        );
        assert!(
            SeatsError::NotPerUser("Bamboo")
                .to_string()
                .starts_with("seats: Bamboo")
        );
        assert_eq!(p("confluence").check_seats(Some(0)), Err(SeatsError::Zero));
    }
}
