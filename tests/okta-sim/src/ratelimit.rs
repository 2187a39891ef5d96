//! Per-minute rate-limit buckets, reported in `X-Rate-Limit-*` headers.
//!
//! Requests are counted per bucket in fixed 60-second windows starting at a
//! bucket's first request. Nothing is enforced yet: [`RateStatus::exceeded`]
//! tells the caller when a 429 would be due.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

/// The rate-limit bucket of a request (Workforce defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// GET/POST `/api/v1/users`: 600/min.
    UsersList,
    /// GET `/api/v1/users/{idOrLogin}`: 2000/min.
    UserGet,
    /// `/api/v1/groups*` except `/api/v1/groups/{id}`: 500/min.
    Groups,
    /// `/api/v1/groups/{id}`: 1000/min.
    GroupGet,
    /// Everything else under `/api/v1`: 1200/min.
    Other,
}

impl Bucket {
    /// The bucket of a request.
    pub fn classify(method: &str, path: &str) -> Bucket {
        let segs: Vec<&str> = path
            .strip_prefix("/api/v1/")
            .map(|r| r.split('/').collect())
            .unwrap_or_default();
        match segs.as_slice() {
            ["users"] if method == "GET" || method == "POST" => Bucket::UsersList,
            ["users", _] if method == "GET" => Bucket::UserGet,
            ["groups", id] if *id != "rules" => Bucket::GroupGet,
            ["groups", ..] => Bucket::Groups,
            _ => Bucket::Other,
        }
    }

    /// Requests per minute.
    pub fn limit(self) -> u32 {
        match self {
            Bucket::UsersList => 600,
            Bucket::UserGet => 2000,
            Bucket::Groups => 500,
            Bucket::GroupGet => 1000,
            Bucket::Other => 1200,
        }
    }
}

/// The state of a bucket after counting a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateStatus {
    /// `X-Rate-Limit-Limit`.
    pub limit: u32,
    /// `X-Rate-Limit-Remaining`.
    pub remaining: u32,
    /// `X-Rate-Limit-Reset`: UTC epoch seconds when the window ends.
    pub reset: i64,
    /// Whether this request went over the limit.
    pub exceeded: bool,
}

#[derive(Clone, Copy, Debug)]
struct Window {
    start: i64,
    count: u32,
}

/// Counters for all buckets.
#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: HashMap<Bucket, Window>,
}

impl RateLimiter {
    /// Counts one request in `bucket` at `now`.
    pub fn hit(&mut self, bucket: Bucket, now: DateTime<Utc>) -> RateStatus {
        let now = now.timestamp();
        let w = self.windows.entry(bucket).or_insert(Window {
            start: now,
            count: 0,
        });
        if now >= w.start + 60 {
            *w = Window {
                start: now,
                count: 0,
            };
        }
        w.count += 1;
        let limit = bucket.limit();
        RateStatus {
            limit,
            remaining: limit.saturating_sub(w.count),
            reset: w.start + 60,
            exceeded: w.count > limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn classify() {
        assert_eq!(Bucket::classify("GET", "/api/v1/users"), Bucket::UsersList);
        assert_eq!(
            Bucket::classify("GET", "/api/v1/users/00u1"),
            Bucket::UserGet
        );
        assert_eq!(
            Bucket::classify("GET", "/api/v1/users/00u1/groups"),
            Bucket::Other
        );
        assert_eq!(Bucket::classify("GET", "/api/v1/groups"), Bucket::Groups);
        assert_eq!(
            Bucket::classify("GET", "/api/v1/groups/00g1"),
            Bucket::GroupGet
        );
        assert_eq!(
            Bucket::classify("GET", "/api/v1/groups/00g1/users"),
            Bucket::Groups
        );
        assert_eq!(Bucket::classify("GET", "/nope"), Bucket::Other);
    }

    #[test]
    fn windows() {
        let mut r = RateLimiter::default();
        let t0 = Utc::now();
        let a = r.hit(Bucket::Groups, t0);
        assert_eq!(
            (a.limit, a.remaining, a.reset),
            (500, 499, t0.timestamp() + 60)
        );
        let b = r.hit(Bucket::Groups, t0 + Duration::seconds(10));
        assert_eq!((b.remaining, b.reset), (498, a.reset));
        let c = r.hit(Bucket::Groups, t0 + Duration::seconds(61));
        assert_eq!(c.remaining, 499);
        assert!(c.reset > a.reset);
        for _ in 0..600 {
            r.hit(Bucket::UsersList, t0);
        }
        let d = r.hit(Bucket::UsersList, t0);
        assert!(d.exceeded && d.remaining == 0);
    }
}
