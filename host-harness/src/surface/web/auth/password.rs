//! The admin password `serve` is given: a password of at least [`MIN_CHARS`] characters,
//! or an argon2 hash of one (a PHC string, `$argon2id$v=19$...`), so that the file or
//! environment need not hold the password itself.

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;
use subtle::ConstantTimeEq;

/// The shortest admin password accepted.
pub const MIN_CHARS: usize = 12;

/// Why an admin password is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Too short to resist guessing.
    #[error(
        "the admin password has {0} characters; it needs at least {MIN_CHARS} (or give an argon2 hash of it, $argon2id$...)"
    )]
    TooShort(usize),
    /// Starts like an argon2 hash but is not one.
    #[error("the admin password looks like an argon2 hash but is not a valid one: {0}")]
    BadHash(String),
}

/// The admin password: its digest (compared in constant time) or its argon2 hash.
#[derive(Clone)]
pub struct Password(Kind);

#[derive(Clone)]
enum Kind {
    Plain([u8; 32]),
    Argon2 {
        hash: String,
        /// The digest of the password once one has matched the hash, so that later
        /// checks (every Basic request) do not each cost an argon2 computation.
        matched: OnceLock<[u8; 32]>,
    },
}

/// Never shows the password or its hash.
impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            Kind::Plain(_) => "Password(********)",
            Kind::Argon2 { .. } => "Password(argon2 hash)",
        })
    }
}

/// The SHA-256 of `s`: what secrets and user names are kept and compared as.
pub(super) fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

impl Password {
    /// A password as given: a `$argon2` string is a hash (and must parse as one), anything
    /// else a password of at least [`MIN_CHARS`] characters.
    pub fn new(given: &str) -> Result<Password, PasswordError> {
        if given.starts_with("$argon2") {
            PasswordHash::new(given).map_err(|e| PasswordError::BadHash(e.to_string()))?;
            return Ok(Password(Kind::Argon2 {
                hash: given.to_string(),
                matched: OnceLock::new(),
            }));
        }
        let chars = given.chars().count();
        if chars < MIN_CHARS {
            return Err(PasswordError::TooShort(chars));
        }
        Ok(Password(Kind::Plain(digest(given))))
    }

    /// The argon2id hash (a PHC string: random salt, the crate's default cost) of a new
    /// admin password of at least [`MIN_CHARS`] characters: what `usersync
    /// hash-password` prints, for a password file that does not hold the password.
    pub fn hash(password: &str) -> Result<String, PasswordError> {
        let chars = password.chars().count();
        if chars < MIN_CHARS {
            return Err(PasswordError::TooShort(chars));
        }
        let hash: PasswordHash = Argon2::default()
            .hash_password(password.as_bytes())
            .map_err(|e| PasswordError::BadHash(e.to_string()))?;
        Ok(hash.to_string())
    }

    /// Whether checking `password` costs an argon2 computation (run it off the async
    /// threads).
    pub fn slow(&self) -> bool {
        matches!(&self.0, Kind::Argon2 { matched, .. } if matched.get().is_none())
    }

    /// Whether `password` is the admin password (plain: compared as digests in constant
    /// time; hash: verified by argon2, or compared with the one that matched).
    pub fn matches(&self, password: &str) -> bool {
        let given = digest(password);
        match &self.0 {
            Kind::Plain(d) => d.ct_eq(&given).into(),
            Kind::Argon2 { hash, matched } => {
                if let Some(d) = matched.get() {
                    return d.ct_eq(&given).into();
                }
                let ok = Argon2::default()
                    .verify_password(password.as_bytes(), hash.as_str())
                    .is_ok();
                if ok {
                    let _ = matched.set(given);
                }
                ok
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordHasher;

    #[test]
    fn short_passwords_are_refused_long_ones_and_hashes_taken() {
        assert_eq!(
            Password::new("elevenchars").unwrap_err(),
            PasswordError::TooShort(11)
        );
        // Characters, not bytes.
        assert_eq!(
            Password::new("ééééééééééé").unwrap_err(),
            PasswordError::TooShort(11)
        );
        let p = Password::new("twelve chars").unwrap();
        assert!(p.matches("twelve chars") && !p.matches("twelve chars "));
        assert!(!p.slow());
        assert_eq!(format!("{p:?}"), "Password(********)");
        let e = Password::new("$argon2id$v=19$nonsense").unwrap_err();
        assert!(matches!(e, PasswordError::BadHash(_)), "{e}");
    }

    #[test]
    fn an_argon2_hash_checks_its_password() {
        let hash = Argon2::default()
            .hash_password(b"short")
            .unwrap()
            .to_string();
        let p = Password::new(&hash).unwrap();
        assert!(p.slow());
        assert!(!p.matches("wrong"));
        assert!(p.slow(), "a wrong one is not kept");
        assert!(p.matches("short"), "a hash's password may be short");
        assert!(!p.slow(), "matched once: later checks are digests");
        assert!(p.matches("short") && !p.matches("wrong"));
        assert!(!format!("{p:?}").contains("argon2id$"));
    }

    #[test]
    fn hash_password_makes_an_argon2id_hash_of_a_long_enough_password() {
        assert_eq!(
            Password::hash("eleven char"),
            Err(PasswordError::TooShort(11))
        );
        let hash = Password::hash("twelve chars").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert_ne!(
            hash,
            Password::hash("twelve chars").unwrap(),
            "a salt of its own"
        );
        let p = Password::new(&hash).unwrap();
        assert!(p.matches("twelve chars") && !p.matches("twelve chars "));
    }
}
