//! Leases: a named right (to sync one connector, to run the schedules) held by one
//! harness instance of one process until it lets go, or until it stops renewing it. The
//! row is the lease: taken atomically under `BEGIN IMMEDIATE`, renewed by its holder's
//! heartbeat ([`Keeper`]) every [`BEAT`], and gone when it has not been renewed for
//! [`TTL`] (three beats missed) or, on the holder's own host, as soon as the holder's
//! process is no longer there (a `kill -9` frees its leases at once). No admin ever
//! releases one: a holder that dies releases by expiry.
//!
//! SQLite serializes writers, so a decision taken in a write transaction ("the holder is
//! gone, take over") cannot overlap another process's open apply; and a holder's
//! apply, which holds the write lock for its whole length, renews its leases in its own
//! commit ([`Keeper::renew_in`]), so they are fresh when others can act again. A run's
//! commit re-checks that the run is still its own (`runs::finish_succeeded`).
//!
//! One row per lease name, so the table serves any store that has transactions (the
//! PostgreSQL store of a cluster: a lease per connector, one for the schedules).

use super::{Context, Db, DbError};
use parking_lot::Mutex;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeSet;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How often a holder renews its leases.
pub const BEAT: Duration = Duration::from_secs(5);

/// Seconds a lease lasts unless renewed: three beats.
pub const TTL: i64 = 3 * BEAT.as_secs() as i64;

/// The lease of the schedules of a database: only its holder fires them.
pub const SCHEDULER: &str = "scheduler";

/// The lease of syncing one connector (by id: names change).
pub fn sync_lease(connector_id: i64) -> String {
    format!("sync:{connector_id}")
}

/// Who holds a lease: one harness instance (a random id) of one process on one host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    /// Random, one per harness instance.
    pub instance: String,
    /// Its process.
    pub pid: u32,
    /// Its host's name.
    pub host: String,
}

impl Holder {
    /// A new instance of this process.
    pub fn this_process() -> Holder {
        Holder {
            instance: hex::encode(rand::random::<[u8; 8]>()),
            pid: std::process::id(),
            host: host_name(),
        }
    }

    /// Whether its process is known to be gone: on this host, and no such process.
    /// (On another host only expiry tells.)
    fn is_gone(&self) -> bool {
        !self.host.is_empty() && self.host == host_name() && !process_exists(self.pid)
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "process {} on {}", self.pid, self.host)
    }
}

/// A lease as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// What it is the right to.
    pub name: String,
    /// Who holds it.
    pub holder: Holder,
    /// When its holder took it (Unix seconds).
    pub acquired_at: i64,
    /// When it lapses unless renewed (Unix seconds).
    pub expires_at: i64,
}

impl Lease {
    /// Whether its holder still has it at `now`: renewed in time, and its process there.
    pub fn is_live(&self, now: i64) -> bool {
        self.expires_at > now && !self.holder.is_gone()
    }
}

/// This host's name, as leases record it ("" if unknown: then only expiry frees).
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

#[cfg(unix)]
fn process_exists(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    // Signal 0 checks only; EPERM means it exists (another user's).
    !matches!(
        rustix::process::test_kill_process(pid),
        Err(rustix::io::Errno::SRCH)
    )
}

#[cfg(not(unix))]
fn process_exists(_pid: u32) -> bool {
    true
}

/// The lease `name`, if anyone holds (or held) it.
pub fn get(conn: &Connection, name: &str) -> Result<Option<Lease>, DbError> {
    conn.query_row(
        "SELECT name, instance, pid, host, acquired_at, expires_at FROM leases WHERE name = ?1",
        [name],
        |r| {
            Ok(Lease {
                name: r.get(0)?,
                holder: Holder {
                    instance: r.get(1)?,
                    pid: r.get(2)?,
                    host: r.get(3)?,
                },
                acquired_at: r.get(4)?,
                expires_at: r.get(5)?,
            })
        },
    )
    .optional()
    .ctx("reading a lease")
}

/// Run `f` in a write transaction: the caller's if one is open, else one begun with
/// `BEGIN IMMEDIATE` (taking SQLite's write lock first, so that what `f` reads cannot
/// change before it writes) and committed if `f` succeeds.
pub fn immediate<T, E: From<DbError>>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, E>,
) -> Result<T, E> {
    if !conn.is_autocommit() {
        return f(conn);
    }
    conn.execute_batch("BEGIN IMMEDIATE")
        .ctx("starting a write transaction")?;
    let result = f(conn).and_then(|t| {
        conn.execute_batch("COMMIT").ctx("committing")?;
        Ok(t)
    });
    if result.is_err() && !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    result
}

/// Take `name` for `me` at `now`, unless someone (`me` included) holds it live: then
/// their lease is the answer. Inside a write transaction ([`immediate`]).
pub fn take(
    conn: &Connection,
    name: &str,
    me: &Holder,
    now: i64,
) -> Result<Result<(), Lease>, DbError> {
    immediate(conn, |conn| -> Result<_, DbError> {
        if let Some(held) = get(conn, name)?.filter(|l| l.is_live(now)) {
            return Ok(Err(held));
        }
        conn.execute(
            "INSERT OR REPLACE INTO leases (name, instance, pid, host, acquired_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![name, me.instance, me.pid, me.host, now, now + TTL],
        )
        .ctx("taking a lease")?;
        Ok(Ok(()))
    })
}

/// Whether `me` holds `name` (renewed or not: nobody took it since).
pub fn holds(conn: &Connection, name: &str, me: &Holder) -> Result<bool, DbError> {
    Ok(get(conn, name)?.is_some_and(|l| l.holder.instance == me.instance))
}

/// Let go of `name` if `me` holds it.
pub fn release(conn: &Connection, name: &str, me: &Holder) -> Result<(), DbError> {
    conn.execute(
        "DELETE FROM leases WHERE name = ?1 AND instance = ?2",
        params![name, me.instance],
    )
    .ctx("releasing a lease")?;
    Ok(())
}

/// Renew `me`'s lease `name` until `now` + [`TTL`]; whether `me` still held it.
pub fn renew(conn: &Connection, name: &str, me: &Holder, now: i64) -> Result<bool, DbError> {
    let n = conn
        .execute(
            "UPDATE leases SET expires_at = ?3 WHERE name = ?1 AND instance = ?2",
            params![name, me.instance, now + TTL],
        )
        .ctx("renewing a lease")?;
    Ok(n == 1)
}

/// One harness instance's leases: who it is, which leases it means to hold, and the
/// heartbeat thread that renews them every [`BEAT`] (started with the first lease; it
/// ends once the harness is gone).
pub struct Keeper {
    db: Db,
    me: Holder,
    held: Mutex<BTreeSet<String>>,
    beating: std::sync::Once,
}

impl std::fmt::Debug for Keeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keeper")
            .field("me", &self.me)
            .field("held", &*self.held.lock())
            .finish_non_exhaustive()
    }
}

impl Keeper {
    /// The leases of a new instance of this process on `db`.
    pub fn new(db: Db) -> Arc<Keeper> {
        Arc::new(Keeper {
            db,
            me: Holder::this_process(),
            held: Mutex::default(),
            beating: std::sync::Once::new(),
        })
    }

    /// This instance.
    pub fn me(&self) -> &Holder {
        &self.me
    }

    /// Take `name` (in `conn`'s transaction, if one is open) and renew it from now on;
    /// refused with the live holder's lease. If the caller's transaction rolls back, the
    /// renewals find nothing and stop.
    pub fn acquire(
        self: &Arc<Self>,
        conn: &Connection,
        name: &str,
        now: i64,
    ) -> Result<Result<(), Lease>, DbError> {
        let taken = take(conn, name, &self.me, now)?;
        if taken.is_ok() {
            self.held.lock().insert(name.to_string());
            self.beat_from_now();
        }
        Ok(taken)
    }

    /// Renew `name` now if this instance still holds it (and keep renewing it); whether
    /// it does.
    pub fn keep(
        self: &Arc<Self>,
        conn: &Connection,
        name: &str,
        now: i64,
    ) -> Result<bool, DbError> {
        let kept = renew(conn, name, &self.me, now)?;
        if kept {
            self.held.lock().insert(name.to_string());
            self.beat_from_now();
        }
        Ok(kept)
    }

    /// Stop renewing `name` (its row goes in the transaction that ends what it guarded,
    /// [`release`]; if that transaction fails, the lease lapses by expiry).
    pub fn forget(&self, name: &str) {
        self.held.lock().remove(name);
    }

    fn beat_from_now(self: &Arc<Self>) {
        self.beating.call_once(|| {
            let keeper = Arc::downgrade(self);
            std::thread::Builder::new()
                .name("usersync-lease-heartbeat".into())
                .spawn(move || heartbeat(keeper))
                .map(drop)
                .unwrap_or_else(|e| tracing::error!("no lease heartbeat thread: {e}"));
        });
    }

    /// Renew every lease this instance holds; a lease another instance took meanwhile
    /// (this one missed its beats) is dropped, said in the log.
    fn renew_all(&self) {
        if self.held.lock().is_empty() {
            return;
        }
        // Waits while this process's own apply holds the connection: nobody else can
        // write then either, so nobody can take the leases over meanwhile; the apply's
        // commit renews them (`renew_in`).
        if let Err(e) = self.renew_in(&self.db.lock()) {
            tracing::warn!("renewing leases: {e}");
        }
    }

    /// Renew every lease this instance holds in `conn`'s transaction. An apply's
    /// transaction renews them at its commit: a long apply holds SQLite's write lock, so
    /// the heartbeat cannot write meanwhile, and another process can act on an expiry
    /// only once it has that lock, that is after the commit has renewed them.
    pub fn renew_in(&self, conn: &Connection) -> Result<(), DbError> {
        let names: Vec<String> = self.held.lock().iter().cloned().collect();
        let now = super::now();
        for name in names {
            if !renew(conn, &name, &self.me, now)? {
                tracing::warn!("lease `{name}` was taken over by another process");
                self.forget(&name);
            }
        }
        Ok(())
    }
}

fn heartbeat(keeper: Weak<Keeper>) {
    loop {
        std::thread::sleep(BEAT);
        match keeper.upgrade() {
            Some(k) => k.renew_all(),
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn other(host: &str, pid: u32) -> Holder {
        Holder {
            instance: "other".into(),
            pid,
            host: host.into(),
        }
    }

    #[test]
    fn a_live_lease_is_refused_to_everyone_and_a_lapsed_or_orphaned_one_is_taken_over() {
        let db = Db::in_memory().unwrap();
        let conn = db.lock();
        let me = Holder::this_process();
        let elsewhere = other("another-host", 1);
        assert_eq!(take(&conn, "x", &elsewhere, 100).unwrap(), Ok(()));
        let refused = take(&conn, "x", &me, 100 + TTL - 1).unwrap().unwrap_err();
        assert_eq!(
            (refused.holder, refused.acquired_at),
            (elsewhere.clone(), 100)
        );
        // Not renewed for TTL: lapsed.
        assert_eq!(take(&conn, "x", &me, 100 + TTL).unwrap(), Ok(()));
        assert!(holds(&conn, "x", &me).unwrap());
        assert!(!renew(&conn, "x", &elsewhere, 200).unwrap(), "taken over");
        // Held by this instance: refused to it too (one sync of a connector at a time).
        assert!(take(&conn, "x", &me, 100 + TTL).unwrap().is_err());

        // On this host, a holder whose process is gone frees its lease before expiry.
        let dead = other(&host_name(), u32::MAX >> 2);
        assert_eq!(take(&conn, "y", &dead, 100).unwrap(), Ok(()));
        assert_eq!(take(&conn, "y", &me, 101).unwrap(), Ok(()));
        release(&conn, "y", &me).unwrap();
        assert_eq!(get(&conn, "y").unwrap(), None);
    }
}
