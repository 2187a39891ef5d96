//! Stateless CSRF tokens for page requests authenticated by HTTP Basic: such a request
//! has no session to keep a token in, and must not create one (a client looping on
//! Basic would fill the server with sessions). The token is `ISSUED.MAC`: ISSUED the
//! seconds since the process started, MAC the HMAC-SHA256, under a key drawn at start,
//! of the user name and ISSUED. It proves the page was served by this process to that
//! user within [`TTL`]; no other site can read it, so a forged cross-site POST lacks it.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::time::{Duration, Instant};

/// How long a page's token stays good (as long as an idle session).
pub const TTL: Duration = Duration::from_secs(8 * 3600);

/// The key and the start the tokens' times count from.
pub struct Minter {
    key: [u8; 32],
    start: Instant,
}

impl Minter {
    /// A minter with a fresh random key: tokens of an earlier process are refused.
    pub fn new(start: Instant) -> Minter {
        Minter {
            key: rand::random(),
            start,
        }
    }

    fn mac(&self, user: &str, issued: u64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(user.as_bytes());
        mac.update(&[0]);
        mac.update(issued.to_string().as_bytes());
        mac
    }

    fn seconds(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.start).as_secs()
    }

    /// A token for `user`'s forms, issued `now`.
    pub fn token(&self, user: &str, now: Instant) -> String {
        let issued = self.seconds(now);
        let mac = self.mac(user, issued).finalize().into_bytes();
        format!("{issued}.{}", hex::encode(mac))
    }

    /// Whether `token` was issued by this process for `user` and is at most [`TTL`] old
    /// (the MAC compared in constant time).
    pub fn verify(&self, user: &str, token: &str, now: Instant) -> bool {
        let Some((issued, mac)) = token.split_once('.') else {
            return false;
        };
        let (Ok(issued), Ok(mac)) = (issued.parse::<u64>(), hex::decode(mac)) else {
            return false;
        };
        let age = self.seconds(now).checked_sub(issued);
        age.is_some_and(|age| age <= TTL.as_secs())
            && self.mac(user, issued).verify_slice(&mac).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_good_for_its_user_until_it_expires() {
        let start = Instant::now();
        let m = Minter::new(start);
        let later = start + Duration::from_secs(100);
        let t = m.token("admin", later);
        assert!(m.verify("admin", &t, later));
        assert!(m.verify("admin", &t, later + TTL), "good for TTL");
        assert!(
            !m.verify("admin", &t, later + TTL + Duration::from_secs(1)),
            "expired"
        );
        assert!(!m.verify("bob", &t, later), "another user's");
        assert!(!m.verify("admin", &t, start), "issued in the future");
    }

    #[test]
    fn forged_tokens_are_refused() {
        let start = Instant::now();
        let m = Minter::new(start);
        let t = m.token("admin", start);
        let (issued, mac) = t.split_once('.').unwrap();
        // Another process's key, a changed time, a changed MAC, garbage.
        assert!(!Minter::new(start).verify("admin", &t, start));
        let later = start + Duration::from_secs(5);
        assert!(!m.verify("admin", &format!("5.{mac}"), later));
        let mut flipped = hex::decode(mac).unwrap();
        flipped[0] ^= 1;
        let flipped = format!("{issued}.{}", hex::encode(flipped));
        assert!(!m.verify("admin", &flipped, start));
        for bad in [
            "",
            ".",
            "0.",
            "x.00",
            &format!("{issued}.{}", &mac[..10]),
            mac,
        ] {
            assert!(!m.verify("admin", bad, start), "{bad:?}");
        }
    }
}
