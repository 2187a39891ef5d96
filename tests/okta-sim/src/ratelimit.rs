//! Per-minute rate-limit buckets, reported in `X-Rate-Limit-*` headers.
//!
//! Requests are counted per bucket in fixed windows (60 s by default, shorter in
//! tests that compress a minute) starting at a bucket's first request. With
//! [`RateLimits::enforce`] a request over the limit is answered 429 E0000047.

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
    /// `/api/v1/logs`: 120/min.
    Logs,
    /// `/api/v1/apps*`: 100/min (a recorded `/apps/{id}/groups` answer reports 100).
    Apps,
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
            ["logs"] => Bucket::Logs,
            ["apps", ..] => Bucket::Apps,
            _ => Bucket::Other,
        }
    }
}

/// Rate-limit settings of a simulator.
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimits {
    /// Window length (Okta: one minute).
    pub window: std::time::Duration,
    /// Answer 429 over the limit (otherwise only count and report).
    pub enforce: bool,
    /// `GET /api/v1/users` per window.
    pub users: u32,
    /// `GET /api/v1/users/{idOrLogin}`.
    pub user: u32,
    /// `/api/v1/groups*` including `/groups/{id}/users`.
    pub groups: u32,
    /// `/api/v1/groups/{id}`.
    pub group: u32,
    /// `/api/v1/logs`.
    pub logs: u32,
    /// `/api/v1/apps*`.
    pub apps: u32,
    /// Everything else.
    pub other: u32,
    /// Requests in flight at once; more are answered 429 with Limit=0, Remaining=0.
    pub concurrency: Option<u32>,
    /// The percentage of each bucket one SSWS token may use (Okta's default for a
    /// token: 50). `None`: a token has the whole bucket (the library's default, kept
    /// for the tests written before; the command line defaults to 50).
    pub token_share: Option<u32>,
}

impl Default for RateLimits {
    /// Okta's Workforce defaults, per minute, counted and reported but not enforced.
    fn default() -> Self {
        RateLimits {
            window: std::time::Duration::from_secs(60),
            enforce: false,
            users: 600,
            user: 2000,
            groups: 500,
            group: 1000,
            logs: 120,
            apps: 100,
            other: 1200,
            concurrency: None,
            token_share: None,
        }
    }
}

impl RateLimits {
    /// Okta's default limits, enforced, in a window of `window` (compress a minute into
    /// a second with `Duration::from_secs(1)`), with Okta's Workforce concurrency limit.
    pub fn okta_defaults(window: std::time::Duration) -> Self {
        RateLimits {
            window,
            enforce: true,
            concurrency: Some(75),
            ..Default::default()
        }
    }

    fn limit(&self, bucket: Bucket) -> u32 {
        match bucket {
            Bucket::UsersList => self.users,
            Bucket::UserGet => self.user,
            Bucket::Groups => self.groups,
            Bucket::GroupGet => self.group,
            Bucket::Logs => self.logs,
            Bucket::Apps => self.apps,
            Bucket::Other => self.other,
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
    /// `X-Rate-Limit-Reset`: UTC epoch seconds when the window ends (rounded up).
    pub reset: i64,
    /// Whether this request went over the limit.
    pub exceeded: bool,
}

#[derive(Clone, Copy, Debug)]
struct Window {
    start_ms: i64,
    count: u32,
}

/// Counters for all buckets: the org's, and each OAuth app's share.
#[derive(Debug, Default)]
pub struct RateLimiter {
    limits: RateLimits,
    windows: HashMap<(Bucket, Option<String>), Window>,
}

impl RateLimiter {
    /// A limiter with these settings.
    pub fn new(limits: RateLimits) -> Self {
        RateLimiter {
            limits,
            windows: HashMap::new(),
        }
    }

    /// Whether over-limit requests are refused.
    pub fn enforced(&self) -> bool {
        self.limits.enforce
    }

    /// The concurrency limit, if any.
    pub fn concurrency(&self) -> Option<u32> {
        self.limits.concurrency
    }

    /// Counts one request in `bucket` at `now` (an SSWS token's request: the
    /// org's whole bucket).
    pub fn hit(&mut self, bucket: Bucket, now: DateTime<Utc>) -> RateStatus {
        let limit = self.limits.limit(bucket);
        let w = self.count((bucket, None), now);
        self.status(w, limit, false)
    }

    /// Counts one request of OAuth app `app`, which may use `percent` of each
    /// bucket (Okta's default for an app: 50 %). It counts in the org's bucket
    /// too; the headers report the app's share, and the request is over the limit
    /// when either is exhausted.
    pub fn hit_app(
        &mut self,
        bucket: Bucket,
        app: &str,
        percent: u32,
        now: DateTime<Utc>,
    ) -> RateStatus {
        let limit = self.limits.limit(bucket);
        let org = self.count((bucket, None), now);
        let share = (u64::from(limit) * u64::from(percent.min(100)) / 100).max(1) as u32;
        let w = self.count((bucket, Some(app.to_string())), now);
        self.status(w, share, org.count > limit)
    }

    /// Adds a request to the window of `key`, starting a new window when the last
    /// one is over.
    fn count(&mut self, key: (Bucket, Option<String>), now: DateTime<Utc>) -> Window {
        let now = now.timestamp_millis();
        let window_ms = self.window_ms();
        let w = self.windows.entry(key).or_insert(Window {
            start_ms: now,
            count: 0,
        });
        if now >= w.start_ms + window_ms {
            *w = Window {
                start_ms: now,
                count: 0,
            };
        }
        w.count += 1;
        *w
    }

    fn window_ms(&self) -> i64 {
        self.limits.window.as_millis().max(1) as i64
    }

    fn status(&self, w: Window, limit: u32, org_exceeded: bool) -> RateStatus {
        RateStatus {
            limit,
            remaining: limit.saturating_sub(w.count),
            reset: (w.start_ms + self.window_ms() + 999).div_euclid(1000),
            exceeded: w.count > limit || org_exceeded,
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
        let mut r = RateLimiter::new(RateLimits::default());
        let t0 = Utc::now();
        let a = r.hit(Bucket::Groups, t0);
        let reset = (t0.timestamp_millis() + 60_000 + 999).div_euclid(1000);
        assert_eq!((a.limit, a.remaining, a.reset), (500, 499, reset));
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

    #[test]
    fn an_oauth_app_gets_its_share_and_counts_in_the_orgs_bucket() {
        let limits = RateLimits {
            users: 10,
            ..RateLimits::default()
        };
        let mut r = RateLimiter::new(limits);
        let t0 = Utc::now();
        let first = r.hit_app(Bucket::UsersList, "app", 50, t0);
        assert_eq!(
            (first.limit, first.remaining, first.exceeded),
            (5, 4, false)
        );
        for _ in 0..4 {
            assert!(!r.hit_app(Bucket::UsersList, "app", 50, t0).exceeded);
        }
        let over = r.hit_app(Bucket::UsersList, "app", 50, t0);
        assert_eq!((over.limit, over.remaining, over.exceeded), (5, 0, true));
        // Another app has its own share; the org's bucket holds 6 + 1 requests now.
        assert!(!r.hit_app(Bucket::UsersList, "other", 50, t0).exceeded);
        let ssws = r.hit(Bucket::UsersList, t0);
        assert_eq!((ssws.limit, ssws.remaining), (10, 2));
        for _ in 0..2 {
            r.hit(Bucket::UsersList, t0);
        }
        // The org's bucket is exhausted: the other app is refused within its share.
        let org_over = r.hit_app(Bucket::UsersList, "other", 50, t0);
        assert_eq!((org_over.remaining, org_over.exceeded), (3, true));
    }
}

#[cfg(test)]
mod compressed {
    use super::*;

    #[test]
    fn a_compressed_window_resets_within_a_second() {
        let limits = RateLimits {
            users: 2,
            ..RateLimits::okta_defaults(std::time::Duration::from_millis(500))
        };
        let mut r = RateLimiter::new(limits);
        let t0 = Utc::now();
        assert!(!r.hit(Bucket::UsersList, t0).exceeded);
        assert!(!r.hit(Bucket::UsersList, t0).exceeded);
        let over = r.hit(Bucket::UsersList, t0);
        assert!(over.exceeded && over.remaining == 0);
        assert!(
            over.reset > t0.timestamp() && over.reset <= t0.timestamp() + 2,
            "rounded up"
        );
        assert!(
            !r.hit(Bucket::UsersList, t0 + chrono::Duration::milliseconds(600))
                .exceeded
        );
    }
}
