//! Okta's date format, `YYYY-MM-DDTHH:mm:ss.SSSZ`, as a serde helper.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// Formats a timestamp the way Okta does: `2025-03-19T08:01:48.000Z`.
pub fn format(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses any RFC 3339 timestamp (with or without fractional seconds).
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Serializes with [`format`].
pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(t))
}

/// Deserializes with [`parse`].
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let s = String::deserialize(d)?;
    parse(&s).ok_or_else(|| serde::de::Error::custom(format!("bad timestamp: {s}")))
}

/// The same for `Option<DateTime<Utc>>` (`null` ↔ `None`).
pub mod option {
    use super::*;

    /// Serializes `None` as `null`.
    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&super::format(t)),
            None => s.serialize_none(),
        }
    }

    /// Deserializes `null` as `None`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) => super::parse(&s)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom(format!("bad timestamp: {s}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn okta_format() {
        let t = super::parse("2025-03-19T08:01:48Z").unwrap();
        assert_eq!(super::format(&t), "2025-03-19T08:01:48.000Z");
        let t = super::parse("2025-03-19T10:01:48.123456+02:00").unwrap();
        assert_eq!(super::format(&t), "2025-03-19T08:01:48.123Z");
    }
}
