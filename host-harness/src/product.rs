//! Product profiles: the Atlassian Data Center product this harness plays.

use crate::bindings::types::Product;
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
        admin_path: "/plugins/servlet/usersync",
    },
    Profile {
        product: Product::Confluence,
        name: "Confluence",
        key_prefix: "CONFUSER",
        default_groups: &["confluence-users"],
        admin_path: "/plugins/servlet/usersync",
    },
    Profile {
        product: Product::Bitbucket,
        name: "Bitbucket",
        key_prefix: "BBUSER",
        default_groups: &["stash-users"],
        admin_path: "/plugins/servlet/usersync",
    },
    Profile {
        product: Product::Bamboo,
        name: "Bamboo",
        key_prefix: "BAMUSER",
        default_groups: &[],
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

impl Default for Profile {
    fn default() -> Self {
        PROFILES[0]
    }
}
