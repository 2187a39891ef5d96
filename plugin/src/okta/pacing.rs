//! Staying within Okta's rate limits and riding out its hiccups: per-bucket rate state
//! from `X-Rate-Limit-*` headers, waits until a window resets, and bounded exponential
//! backoff with jitter.

use super::transport::HttpResponse;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How hard to try.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries per request, the first included.
    pub max_attempts: u32,
    /// First backoff; doubled on each retry.
    pub base_backoff: Duration,
    /// Longest backoff.
    pub max_backoff: Duration,
    /// Longest wait for a rate-limit window to reset.
    pub max_rate_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            max_rate_wait: Duration::from_secs(120),
        }
    }
}

/// Okta's rate-limit buckets, as far as a sync uses them.
pub fn bucket(path: &str) -> &'static str {
    let path = path.split('?').next().unwrap_or(path);
    if path.starts_with("/api/v1/groups") {
        "groups"
    } else if path.starts_with("/api/v1/apps") {
        "apps"
    } else if path == "/api/v1/users" {
        "users"
    } else if path.starts_with("/api/v1/users/") && !path["/api/v1/users/".len()..].contains('/') {
        "user"
    } else {
        "other"
    }
}

#[derive(Clone, Copy, Debug)]
struct Window {
    /// Okta's `X-Rate-Limit-Reset` (epoch seconds), naming the window.
    reset: u64,
    remaining: u64,
    /// Okta's `X-Rate-Limit-Limit`, when it said.
    limit: Option<u64>,
    /// Time until the window resets, by Okta's clock, when the response arrived.
    reset_after: Duration,
    seen: Instant,
}

/// What the client knows of each bucket, the share of each bucket it may use, and a
/// jitter source.
#[derive(Debug)]
pub struct Pacer {
    windows: HashMap<&'static str, Window>,
    seed: u64,
    /// Percent of each bucket's limit this client may use (the rest is left to other
    /// integrations of the org).
    share: u64,
}

impl Default for Pacer {
    fn default() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        Pacer {
            windows: HashMap::new(),
            seed: nanos | 1,
            share: 100,
        }
    }
}

fn header_u64(resp: &HttpResponse, name: &str) -> Option<u64> {
    resp.header(name).and_then(|v| v.trim().parse().ok())
}

/// Seconds from the response's `Date` to its `X-Rate-Limit-Reset` (both Okta's clock).
fn reset_after(resp: &HttpResponse) -> Option<Duration> {
    let reset = header_u64(resp, "x-rate-limit-reset")? as i64;
    let date = resp
        .header("date")
        .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok())?
        .timestamp();
    Some(Duration::from_secs(reset.saturating_sub(date).max(0) as u64))
}

impl Pacer {
    /// Use only `percent` (1-100) of each bucket's limit.
    pub fn with_share(mut self, percent: u32) -> Self {
        self.share = u64::from(percent.clamp(1, 100));
        self
    }

    /// A random extra wait of up to `max`, so that clients do not retry in lockstep.
    pub fn jitter(&mut self, max: Duration) -> Duration {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let ms = max.as_millis() as u64;
        Duration::from_millis(if ms == 0 { 0 } else { self.seed % ms })
    }

    /// Requests left in a bucket's window, as last seen.
    pub fn remaining(&self, bucket: &str) -> Option<u64> {
        self.windows.get(bucket).map(|w| w.remaining)
    }

    /// Remember a response's rate-limit headers for its bucket. Responses of one window
    /// may arrive out of order (concurrent requests): the lowest `remaining` wins.
    pub fn record(&mut self, bucket: &'static str, resp: &HttpResponse) {
        let (Some(remaining), Some(reset), Some(reset_after)) = (
            header_u64(resp, "x-rate-limit-remaining"),
            header_u64(resp, "x-rate-limit-reset"),
            reset_after(resp),
        ) else {
            return;
        };
        let remaining = match self.windows.get(bucket) {
            Some(w) if w.reset == reset => w.remaining.min(remaining),
            _ => remaining,
        };
        let seen = Instant::now();
        self.windows.insert(
            bucket,
            Window {
                reset,
                remaining,
                limit: header_u64(resp, "x-rate-limit-limit"),
                reset_after,
                seen,
            },
        );
    }

    /// How long to wait before sending `n` requests in `bucket`: until the window resets
    /// when fewer than `n` requests are left in it, not counting the part of the limit
    /// left to others (`100 - share` percent of it).
    pub fn wait_before(&mut self, bucket: &'static str, n: u64) -> Duration {
        let share = self.share;
        let Some(w) = self.windows.get_mut(bucket) else {
            return Duration::ZERO;
        };
        let elapsed = w.seen.elapsed();
        let reserved = w.limit.map_or(0, |l| l.saturating_mul(100 - share) / 100);
        if w.remaining.saturating_sub(reserved) >= n || elapsed >= w.reset_after {
            w.remaining = w.remaining.saturating_sub(n);
            return Duration::ZERO;
        }
        let wait = w.reset_after - elapsed;
        self.windows.remove(bucket);
        wait + self.jitter(Duration::from_millis(250))
    }

    /// How long to wait after a 429: until the reset Okta names (plus jitter), else a backoff.
    pub fn rate_limited_wait(
        &mut self,
        resp: &HttpResponse,
        attempt: u32,
        policy: &RetryPolicy,
    ) -> Duration {
        match reset_after(resp) {
            Some(d) => d.min(policy.max_rate_wait) + self.jitter(Duration::from_millis(500)),
            None => self.backoff(attempt, policy),
        }
    }

    /// Exponential backoff for the `attempt`-th failure (1-based), with jitter.
    pub fn backoff(&mut self, attempt: u32, policy: &RetryPolicy) -> Duration {
        let exp = policy
            .base_backoff
            .saturating_mul(1 << attempt.saturating_sub(1).min(16));
        let d = exp.min(policy.max_backoff);
        d + self.jitter(d / 4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(remaining: u64, date: &str, reset: i64) -> HttpResponse {
        HttpResponse {
            status: 200,
            headers: vec![
                ("X-Rate-Limit-Remaining".into(), remaining.to_string()),
                ("X-Rate-Limit-Reset".into(), reset.to_string()),
                ("Date".into(), date.into()),
            ],
            body: vec![],
        }
    }

    #[test]
    fn buckets_follow_okta() {
        assert_eq!(bucket("/api/v1/users?limit=200"), "users");
        assert_eq!(bucket("/api/v1/apps/0oa1/users?limit=500"), "apps");
        assert_eq!(bucket("/api/v1/users/00u1"), "user");
        assert_eq!(bucket("/api/v1/users/00u1/groups"), "other");
        assert_eq!(bucket("/api/v1/groups/00g1/users?limit=1000"), "groups");
    }

    #[test]
    fn waits_for_the_reset_only_when_the_window_is_spent() {
        let mut p = Pacer::default();
        let date = "Mon, 23 Nov 2026 10:00:00 GMT";
        let t = chrono::DateTime::parse_from_rfc2822(date)
            .unwrap()
            .timestamp();
        p.record("users", &resp(3, date, t + 30));
        assert_eq!(p.wait_before("users", 2), Duration::ZERO);
        let wait = p.wait_before("users", 2);
        assert!(
            wait > Duration::from_secs(29) && wait <= Duration::from_secs(31),
            "{wait:?}"
        );
        assert_eq!(
            p.wait_before("groups", 100),
            Duration::ZERO,
            "unknown bucket: no wait"
        );
    }

    #[test]
    fn only_the_share_of_the_limit_is_used() {
        let date = "Mon, 23 Nov 2026 10:00:00 GMT";
        let t = chrono::DateTime::parse_from_rfc2822(date)
            .unwrap()
            .timestamp();
        let mut r = resp(60, date, t + 30);
        r.headers.push(("X-Rate-Limit-Limit".into(), "100".into()));
        let mut half = Pacer::default().with_share(50);
        half.record("users", &r);
        assert_eq!(
            half.wait_before("users", 10),
            Duration::ZERO,
            "60 left, 50 kept"
        );
        assert!(
            half.wait_before("users", 1) > Duration::from_secs(29),
            "50 left: the others' half"
        );
        let mut all = Pacer::default().with_share(100);
        all.record("users", &r);
        assert_eq!(all.wait_before("users", 60), Duration::ZERO);
    }

    #[test]
    fn out_of_order_responses_of_one_window_keep_the_lowest_remaining() {
        let mut p = Pacer::default();
        let date = "Mon, 23 Nov 2026 10:00:00 GMT";
        let t = chrono::DateTime::parse_from_rfc2822(date)
            .unwrap()
            .timestamp();
        p.record("groups", &resp(5, date, t + 1));
        p.record("groups", &resp(7, date, t + 1));
        assert_eq!(p.remaining("groups"), Some(5));
        p.record("groups", &resp(9, date, t + 2));
        assert_eq!(p.remaining("groups"), Some(9), "a new window");
    }

    #[test]
    fn backoff_grows_and_is_bounded() {
        let mut p = Pacer::default();
        let policy = RetryPolicy::default();
        let b1 = p.backoff(1, &policy);
        let b3 = p.backoff(3, &policy);
        assert!(b1 >= Duration::from_millis(250) && b1 < Duration::from_millis(320));
        assert!(b3 >= Duration::from_secs(1) && b3 < Duration::from_millis(1260));
        assert!(p.backoff(30, &policy) <= Duration::from_secs(10));
        let date = "Mon, 23 Nov 2026 10:00:00 GMT";
        let t = chrono::DateTime::parse_from_rfc2822(date)
            .unwrap()
            .timestamp();
        let w = p.rate_limited_wait(&resp(0, date, t + 2), 1, &policy);
        assert!(w >= Duration::from_secs(2) && w < Duration::from_millis(2500));
    }
}
