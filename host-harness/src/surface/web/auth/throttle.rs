//! Login throttling: every failed admin login (the page's form and HTTP Basic alike)
//! counts against the user name tried and against the client's address. After a few
//! free failures each one imposes a wait that doubles, and after `lock_after` of them a
//! lockout; until the wait is over, attempts are refused without looking at the
//! password (so a guess that happens to be right is refused too). A success resets both.
//!
//! The state is bounded: at most `max_keys` user names and as many addresses are
//! tracked, entries are forgotten `forget` after their wait ended, and when full the
//! entry whose wait ends first goes (a flood of new names or addresses, each with one
//! free failure, evicts its own entries before a lockout). User names are kept as
//! digests, so a long one costs no more memory than a short one.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where the throttle (and the CSRF tokens' issue times) get the time from: the system's
/// monotonic clock, or in tests one that they move by hand.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> Instant;
}

/// The system's monotonic clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// How hard failed logins are throttled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Failures in a row that impose no wait (typos).
    pub free: u32,
    /// The wait after the first failure beyond `free`; it doubles with each further one.
    pub first_wait: Duration,
    /// Failures in a row that lock the user name or address out.
    pub lock_after: u32,
    /// How long a lockout lasts (each failure after it locks out again).
    pub lockout: Duration,
    /// How long after its wait ended a user name or address is forgotten.
    pub forget: Duration,
    /// Most user names tracked, and most addresses.
    pub max_keys: usize,
}

impl Limits {
    /// The defaults with `free` failures in a row before the waits (and the lockout
    /// still 7 failures after the first wait).
    pub fn with_free_failures(free: u32) -> Limits {
        let d = Limits::default();
        Limits {
            free,
            lock_after: free.saturating_add(d.lock_after - d.free),
            ..d
        }
    }
}

impl Default for Limits {
    /// 3 free failures, then waits of 1, 2, 4, ... 32 s, then 15 minutes locked after
    /// the 10th: at most about 10 guesses an hour per user name and per address.
    fn default() -> Limits {
        Limits {
            free: 3,
            first_wait: Duration::from_secs(1),
            lock_after: 10,
            lockout: Duration::from_secs(15 * 60),
            forget: Duration::from_secs(3600),
            max_keys: 10_000,
        }
    }
}

impl Limits {
    /// The wait imposed by the `failures`th failure in a row.
    fn wait(&self, failures: u32) -> Duration {
        if failures >= self.lock_after {
            self.lockout
        } else if failures <= self.free {
            Duration::ZERO
        } else {
            let doublings = (failures - self.free - 1).min(30);
            self.first_wait
                .saturating_mul(1 << doublings)
                .min(self.lockout)
        }
    }
}

/// One user name's or address's failures in a row.
struct Entry {
    failures: u32,
    /// No attempt before this.
    until: Instant,
}

/// The entries of one kind of key.
struct Table<K> {
    entries: HashMap<K, Entry>,
}

impl<K: Hash + Eq + Clone> Table<K> {
    fn new() -> Self {
        Table {
            entries: HashMap::new(),
        }
    }

    fn wait(&self, key: &K, now: Instant) -> Option<Duration> {
        let until = self.entries.get(key)?.until;
        (until > now).then(|| until - now)
    }

    /// Count a failure; the wait it imposes.
    fn fail(&mut self, key: &K, now: Instant, limits: &Limits) -> Duration {
        if !self.entries.contains_key(key) {
            self.make_room(now, limits);
        }
        let entry = self.entries.entry(key.clone()).or_insert(Entry {
            failures: 0,
            until: now,
        });
        entry.failures = entry.failures.saturating_add(1);
        let wait = limits.wait(entry.failures);
        entry.until = now + wait;
        wait
    }

    /// Below `max_keys`: forget what is old, then, if still full, the entry whose wait
    /// ends first.
    fn make_room(&mut self, now: Instant, limits: &Limits) {
        if self.entries.len() < limits.max_keys {
            return;
        }
        self.entries.retain(|_, e| e.until + limits.forget > now);
        while self.entries.len() >= limits.max_keys.max(1) {
            let first = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.until)
                .map(|(k, _)| k.clone());
            match first {
                Some(k) => self.entries.remove(&k),
                None => break,
            };
        }
    }

    fn reset(&mut self, key: &K) {
        self.entries.remove(key);
    }
}

/// The keys of one login attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempt {
    user: [u8; 32],
    address: IpAddr,
}

impl Attempt {
    /// An attempt as `user` from `address`. IPv6 addresses count by their /64 (what one
    /// client is usually given), IPv4-mapped ones as IPv4.
    pub fn new(user: &str, address: IpAddr) -> Attempt {
        let address = match address.to_canonical() {
            IpAddr::V6(v6) => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(prefix.into())
            }
            v4 => v4,
        };
        Attempt {
            user: super::password::digest(user),
            address,
        }
    }
}

struct State {
    users: Table<[u8; 32]>,
    addresses: Table<IpAddr>,
}

/// Failed logins per user name and per client address.
pub struct Throttle {
    limits: Limits,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

impl Throttle {
    /// A throttle with these limits and this clock.
    pub fn new(limits: Limits, clock: Arc<dyn Clock>) -> Throttle {
        Throttle {
            limits,
            clock,
            state: Mutex::new(State {
                users: Table::new(),
                addresses: Table::new(),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `None` if the attempt may be checked now, else how long until it may (the longer
    /// of its user name's and its address's waits).
    pub fn wait(&self, a: &Attempt) -> Option<Duration> {
        let now = self.clock.now();
        let s = self.state();
        s.users
            .wait(&a.user, now)
            .max(s.addresses.wait(&a.address, now))
    }

    /// Count a failed attempt; the wait it imposes on the next one (zero while free).
    pub fn failed(&self, a: &Attempt) -> Duration {
        let now = self.clock.now();
        let mut s = self.state();
        let user = s.users.fail(&a.user, now, &self.limits);
        let address = s.addresses.fail(&a.address, now, &self.limits);
        user.max(address)
    }

    /// A successful attempt: its user name and address start again from nothing.
    pub fn succeeded(&self, a: &Attempt) {
        let mut s = self.state();
        s.users.reset(&a.user);
        s.addresses.reset(&a.address);
    }

    /// The user names and addresses tracked.
    pub fn tracked(&self) -> (usize, usize) {
        let s = self.state();
        (s.users.entries.len(), s.addresses.entries.len())
    }

    /// The limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A clock the test moves.
    pub(crate) struct TestClock(Mutex<Instant>);

    impl TestClock {
        pub(crate) fn new() -> Arc<TestClock> {
            Arc::new(TestClock(Mutex::new(Instant::now())))
        }

        pub(crate) fn advance(&self, d: Duration) {
            *self.0.lock().unwrap() += d;
        }
    }

    impl Clock for TestClock {
        fn now(&self) -> Instant {
            *self.0.lock().unwrap()
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn throttle(limits: Limits) -> (Throttle, Arc<TestClock>) {
        let clock = TestClock::new();
        (Throttle::new(limits, clock.clone()), clock)
    }

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn the_wait_grows_then_locks_out_and_holds_until_it_ends() {
        let (t, clock) = throttle(Limits::default());
        let a = Attempt::new("admin", ip("10.0.0.1"));
        let mut waits = Vec::new();
        for _ in 0..11 {
            assert_eq!(t.wait(&a), None, "each attempt made once its wait is over");
            let w = t.failed(&a);
            waits.push(w.as_secs());
            assert_eq!(t.wait(&a), (!w.is_zero()).then_some(w));
            clock.advance(w);
        }
        assert_eq!(waits, [0, 0, 0, 1, 2, 4, 8, 16, 32, 900, 900]);
        // Locked: refused until the lockout ends, whatever the attempt.
        t.failed(&a);
        clock.advance(899 * SECOND);
        assert_eq!(t.wait(&a), Some(SECOND));
        clock.advance(SECOND);
        assert_eq!(t.wait(&a), None);
    }

    #[test]
    fn a_success_resets_the_user_name_and_the_address() {
        let (t, clock) = throttle(Limits::default());
        let a = Attempt::new("admin", ip("10.0.0.1"));
        for _ in 0..9 {
            clock.advance(t.failed(&a));
        }
        t.succeeded(&a);
        assert_eq!(t.tracked(), (0, 0));
        assert_eq!(t.failed(&a), Duration::ZERO, "free failures again");
    }

    #[test]
    fn user_names_and_addresses_count_independently() {
        let limits = Limits {
            free: 0,
            ..Limits::default()
        };
        let (t, _clock) = throttle(limits);
        let admin_here = Attempt::new("admin", ip("10.0.0.1"));
        assert_eq!(t.failed(&admin_here), SECOND);
        // The same user name from elsewhere waits (a guesser with many addresses)...
        let admin_there = Attempt::new("admin", ip("10.0.0.2"));
        assert_eq!(t.wait(&admin_there), Some(SECOND));
        // ... and so does another name from the same address (one guesser, many names).
        let bob_here = Attempt::new("bob", ip("10.0.0.1"));
        assert_eq!(t.wait(&bob_here), Some(SECOND));
        // Neither shared: free.
        assert_eq!(t.wait(&Attempt::new("bob", ip("10.0.0.2"))), None);
        // A success from elsewhere resets that address and the name, not this address.
        t.succeeded(&admin_there);
        assert_eq!(
            t.wait(&admin_here),
            Some(SECOND),
            "this address still waits"
        );
        assert_eq!(t.wait(&Attempt::new("admin", ip("10.0.0.3"))), None);
    }

    #[test]
    fn ipv6_counts_by_its_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(
            Attempt::new("a", ip("2001:db8:1:2:aaaa::1")),
            Attempt::new("a", ip("2001:db8:1:2:bbbb::2"))
        );
        assert_ne!(
            Attempt::new("a", ip("2001:db8:1:2::1")),
            Attempt::new("a", ip("2001:db8:1:3::1"))
        );
        assert_eq!(
            Attempt::new("a", ip("::ffff:10.0.0.1")),
            Attempt::new("a", ip("10.0.0.1"))
        );
    }

    #[test]
    fn a_flood_of_user_names_and_addresses_stays_bounded() {
        let limits = Limits {
            max_keys: 100,
            ..Limits::default()
        };
        let (t, clock) = throttle(limits);
        let target = Attempt::new("admin", ip("10.0.0.1"));
        for _ in 0..9 {
            clock.advance(t.failed(&target));
        }
        assert_eq!(t.failed(&target), 900 * SECOND, "locked out");
        for i in 0..5_000u32 {
            let a = Attempt::new(&format!("user{i}"), IpAddr::from(i.to_be_bytes()));
            t.failed(&a);
        }
        assert_eq!(t.tracked(), (100, 100));
        // The flood's entries wait less than the locked-out one: they went first.
        assert_eq!(t.wait(&target), Some(900 * SECOND), "still locked out");
        // Old entries are forgotten when room is needed.
        clock.advance(900 * SECOND + Limits::default().forget);
        t.failed(&Attempt::new("late", ip("10.9.9.9")));
        assert_eq!(t.tracked(), (1, 1));
    }
}
