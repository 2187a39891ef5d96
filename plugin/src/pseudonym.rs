//! Pseudonyms of anonymized users (`missing-users: anonymize`): made from the user's
//! stable key alone, so that the same user always gets the same pseudonym (a second sync
//! changes nothing, and the product's history, which points at the key, reads the same)
//! and no pseudonym says anything of the person. The Okta id stays, so that a user who
//! returns to Okta is recognized and gets its names back.

use sha2::{Digest, Sha256};

/// What an anonymized user is called.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pseudonym {
    /// The username: `anon-` and 16 hex digits of SHA-256 of the key.
    pub username: String,
    /// An address that can never be delivered (`.invalid` is reserved by RFC 2606).
    pub email: String,
    /// The display name.
    pub display_name: String,
}

/// The pseudonym of the user with `key`.
pub fn of(key: &str) -> Pseudonym {
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let username = format!("anon-{hex}");
    Pseudonym {
        email: format!("{username}@anonymized.invalid"),
        display_name: format!("Anonymized user {hex}"),
        username,
    }
}

/// Whether the user with `key` and `username` is anonymized (holds its pseudonym).
pub fn is_anonymized(key: &str, username: &str) -> bool {
    of(key).username.eq_ignore_ascii_case(username)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_stable_per_key_and_say_nothing_of_the_person() {
        let a = of("JIRAUSER10000");
        assert_eq!(a, of("JIRAUSER10000"));
        assert_ne!(a.username, of("JIRAUSER10001").username);
        assert!(a.username.starts_with("anon-") && a.username.len() == 21);
        assert_eq!(a.email, format!("{}@anonymized.invalid", a.username));
        assert!(is_anonymized("JIRAUSER10000", &a.username.to_uppercase()));
        assert!(!is_anonymized("JIRAUSER10001", &a.username));
    }
}
