//! Random Okta-looking identifiers.

use rand::Rng;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `n` random base62 characters.
pub fn base62<R: Rng + ?Sized>(rng: &mut R, n: usize) -> String {
    (0..n)
        .map(|_| BASE62[rng.random_range(0..BASE62.len())] as char)
        .collect()
}

/// An Okta object id: a 3-character prefix (`00u`, `00g`, …) + 17 base62 characters.
pub fn okta_id<R: Rng + ?Sized>(prefix: &str, rng: &mut R) -> String {
    format!("{prefix}{}", base62(rng, 17))
}

/// An error id: `oae` + 22 random characters (25 in all, like Okta's).
pub fn error_id() -> String {
    format!("oae{}", base62(&mut rand::rng(), 22))
}

/// A request id for `X-Okta-Request-Id`: 32 lowercase hex digits.
pub fn request_id() -> String {
    let mut rng = rand::rng();
    (0..32)
        .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap())
        .collect()
}

/// A random (version 4) UUID in its hyphenated lowercase form, as Okta writes
/// event `uuid`s and hook `eventId`s.
pub fn uuid_v4() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}
