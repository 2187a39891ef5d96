//! The embedded SQLite database: the product's user directory (directories, users with
//! stable keys, groups, memberships, history) and the harness's own tables (connectors,
//! secrets, sync state, runs with their logs and changes). One file, created and
//! migrated here.

pub mod alerts;
pub mod connectors;
pub mod console;
pub mod directory;
pub mod directory_admin;
pub mod idp;
pub mod key;
pub mod lease;
pub mod metrics;
pub mod pending;
pub mod run_changes;
pub mod runs;
pub mod schedule;
pub mod seats;
pub mod secrets;
pub mod sync_state;

use key::{KeySource, SecretKey};
use parking_lot::{ArcMutexGuard, Mutex, MutexGuard, RawMutex};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::Arc;

/// Version 2: when each connector's schedule last fired (survives restarts).
const SCHEMA_V2: &str = r#"
CREATE TABLE schedule_state (
    connector_id INTEGER PRIMARY KEY REFERENCES connectors(id) ON DELETE CASCADE,
    last_fire INTEGER NOT NULL
);
"#;

/// Version 4 (WIT 0.2.0): users' last login; the users of a directory by key (paged
/// reads); the typed sync state as a versioned JSON document of our own, made from
/// 0.1.0's two string keys; a run's changes in rows of their own, taken out of the
/// reports 0.1.0 stored them in (`$.changes`, actions spelled as the 0.1.0 bindings'
/// serde derive did: `CreateUser`, or of the host's version-2 report documents, under
/// `$.report.changes`, already in kebab-case).
const SCHEMA_V4: &str = r#"
ALTER TABLE users ADD COLUMN last_login INTEGER;
CREATE INDEX users_by_directory_key ON users (directory_id, key);
CREATE TABLE connector_state (
    connector_id INTEGER PRIMARY KEY REFERENCES connectors(id) ON DELETE CASCADE,
    document TEXT NOT NULL
);
INSERT INTO connector_state (connector_id, document)
SELECT f.connector_id, json_object(
    'version', 1, 'lastFullSync', CAST(f.value AS INTEGER), 'lastDeepReconcile', NULL,
    'oktaCursor', COALESCE(c.value, ''), 'feedCursor', NULL,
    'groupMarks', json_array(), 'seatsDenied', json_array())
FROM sync_state f LEFT JOIN sync_state c ON c.connector_id = f.connector_id AND c.key = 'cursor'
WHERE f.key = 'last-full-sync';
DROP TABLE sync_state;
CREATE TABLE run_changes (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    grp TEXT,
    fields TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE INDEX run_changes_by_action ON run_changes (run_id, action, seq);
INSERT INTO run_changes (run_id, seq, action, target, grp, fields)
SELECT r.id, CAST(e.key AS INTEGER),
    CASE json_extract(e.value, '$.action')
        WHEN 'CreateUser' THEN 'create-user' WHEN 'UpdateUser' THEN 'update-user'
        WHEN 'ActivateUser' THEN 'activate-user' WHEN 'DeactivateUser' THEN 'deactivate-user'
        WHEN 'DeleteUser' THEN 'delete-user' WHEN 'MigrateUser' THEN 'migrate-user'
        WHEN 'CreateGroup' THEN 'create-group' WHEN 'UpdateGroup' THEN 'update-group'
        WHEN 'AddMembership' THEN 'add-membership' WHEN 'RemoveMembership' THEN 'remove-membership'
        ELSE json_extract(e.value, '$.action') END,
    json_extract(e.value, '$.target'), json_extract(e.value, '$.group'),
    COALESCE(json_extract(e.value, '$.fields'), '[]')
FROM runs r, json_each(r.report, CASE WHEN json_type(r.report, '$.report') = 'object'
    THEN '$.report.changes' ELSE '$.changes' END) e
WHERE r.report IS NOT NULL AND json_valid(r.report);
UPDATE runs SET report = json_remove(report, '$.changes', '$.report.changes')
WHERE report IS NOT NULL AND json_valid(report);
"#;

/// Why a run failed, as a kind (`model::FailureKind`); the upgrade on open fills it for
/// runs failed before (`runs::upgrade_stored`).
const SCHEMA_V3: &str = "ALTER TABLE runs ADD COLUMN failure TEXT;";

/// A connector's secret is its API token or, for an OAuth service app, its private key:
/// one column for whichever its settings' `credential` names.
const SCHEMA_V5: &str = "ALTER TABLE secrets RENAME COLUMN api_token TO secret;";

/// A page of a group's members by username (`group-members`) joins each member's key to
/// its username: an index holding both answers that from the index alone, without a
/// second lookup in the users table. (Whole-directory membership pages go by key and
/// name members from a map instead; see `directory::Usernames`.)
const SCHEMA_V6: &str = "CREATE INDEX users_key_username ON users (key, username);";

/// A run's changes in chunks of one action (see `run_changes`): a row per change made
/// the first sync of 100,000 users insert 1.1 million rows inside its apply. Each row of
/// v4's table becomes a chunk of one.
const SCHEMA_V7: &str = "
CREATE TABLE run_change_chunks (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    first INTEGER NOT NULL,
    action TEXT NOT NULL,
    first_of_action INTEGER NOT NULL,
    count INTEGER NOT NULL CHECK (count > 0),
    changes TEXT NOT NULL,
    UNIQUE (run_id, first)
);
CREATE INDEX run_change_chunks_by_action ON run_change_chunks (run_id, action, first_of_action);
INSERT INTO run_change_chunks (run_id, first, action, first_of_action, count, changes)
SELECT run_id, seq, action, ROW_NUMBER() OVER (PARTITION BY run_id, action ORDER BY seq) - 1, 1,
    json_array(json_array(target, grp, json(fields)))
FROM run_changes;
DROP TABLE run_changes;
";

/// Leases (`lease`): who syncs a connector, who runs the schedules, held by one
/// process until renewals stop; and the instance that owns each run, so that a run is
/// marked interrupted only once its owner no longer holds its connector's sync lease.
const SCHEMA_V8: &str = "
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    instance TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    acquired_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
ALTER TABLE runs ADD COLUMN owner TEXT;
";

/// Single sign-on (`idp`): one OpenID Connect identity provider per connector's Okta
/// org (its client secret sealed like the credentials, see `secrets::Slot`), and every
/// SSO login with the steps it went through (the login tracker reads a test login's).
const SCHEMA_V9: &str = "
CREATE TABLE identity_providers (
    connector_id INTEGER PRIMARY KEY REFERENCES connectors(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    client_secret TEXT NOT NULL,
    update_method TEXT NOT NULL CHECK (update_method IN ('none', 'usersync')),
    sync_connector_id INTEGER REFERENCES connectors(id) ON DELETE SET NULL,
    redirect_to_sso INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);
CREATE TABLE sso_logins (
    id INTEGER PRIMARY KEY,
    connector_id INTEGER NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
    test INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    username TEXT,
    decision TEXT CHECK (decision IN ('admitted', 'refused')),
    reason TEXT,
    steps TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX sso_logins_by_connector ON sso_logins (connector_id, id);
";

/// A user's history on the Users page: where in a run's change chunks each user-level
/// change (create, update, (de)activate, delete, migrate, anonymize) of an applied run
/// is, by the directory and username it named. Membership changes are not indexed (a
/// first sync of 100,000 users has a million): the page shows the user's groups as they
/// are. Keyed by run first, so that recording appends and a run's deletion cascades.
const SCHEMA_V10: &str = "
CREATE TABLE user_changes (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    chunk_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    directory_id INTEGER NOT NULL,
    username TEXT NOT NULL,
    PRIMARY KEY (run_id, chunk_id, position)
) WITHOUT ROWID;
CREATE INDEX user_changes_by_user ON user_changes (directory_id, username COLLATE NOCASE, run_id);
";

/// The admin's console (issue 16): plans the guard refused, kept for approval
/// (`pending`); who started a run or decided a plan (`run_actors`); the console's own
/// settings, approvals and alerts, as versioned documents (`console`); alerts to send
/// and their delivery attempts (`alerts`).
const SCHEMA_V11: &str = "
CREATE TABLE pending_plans (
    run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    connector_id INTEGER NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    kind TEXT NOT NULL,
    would_remove INTEGER NOT NULL,
    active_users INTEGER NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    decided_by TEXT,
    decided_at INTEGER,
    next_run INTEGER
);
CREATE INDEX pending_plans_by_status ON pending_plans (status, connector_id);
CREATE TABLE run_actors (
    run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    actor TEXT NOT NULL
);
CREATE TABLE console_settings (
    name TEXT PRIMARY KEY,
    document TEXT NOT NULL
);
CREATE TABLE alert_deliveries (
    id INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    connector TEXT,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    subject TEXT NOT NULL,
    text TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    delivered_at INTEGER
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (status, next_attempt_at);
CREATE TABLE alert_marks (
    connector_id INTEGER NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (connector_id, kind)
);
";

/// The migrations, in order: `PRAGMA user_version` = the last one applied.
const MIGRATIONS: [&str; 11] = [
    SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4, SCHEMA_V5, SCHEMA_V6, SCHEMA_V7, SCHEMA_V8,
    SCHEMA_V9, SCHEMA_V10, SCHEMA_V11,
];

const SCHEMA_V1: &str = r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE directories (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    kind TEXT NOT NULL CHECK (kind IN ('internal', 'okta', 'ldap', 'other')),
    position INTEGER NOT NULL
);
CREATE TABLE users (
    key TEXT PRIMARY KEY,
    directory_id INTEGER NOT NULL REFERENCES directories(id),
    username TEXT NOT NULL CHECK (length(username) > 0),
    display_name TEXT NOT NULL,
    email TEXT NOT NULL,
    active INTEGER NOT NULL,
    okta_id TEXT,
    attributes TEXT NOT NULL DEFAULT '{}',
    UNIQUE (directory_id, username COLLATE NOCASE)
);
CREATE INDEX users_by_username ON users (username COLLATE NOCASE);
CREATE INDEX users_by_email ON users (email COLLATE NOCASE);
CREATE INDEX users_by_okta_id ON users (okta_id);
CREATE TABLE groups (
    id INTEGER PRIMARY KEY,
    directory_id INTEGER NOT NULL REFERENCES directories(id),
    name TEXT NOT NULL CHECK (length(name) > 0),
    description TEXT NOT NULL DEFAULT '',
    okta_id TEXT,
    UNIQUE (directory_id, name COLLATE NOCASE)
);
CREATE TABLE memberships (
    group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_key TEXT NOT NULL REFERENCES users(key) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_key)
) WITHOUT ROWID;
CREATE INDEX memberships_by_user ON memberships (user_key);
CREATE TABLE history (
    id INTEGER PRIMARY KEY,
    user_key TEXT NOT NULL REFERENCES users(key),
    at INTEGER NOT NULL,
    text TEXT NOT NULL
);
CREATE TABLE connectors (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    config TEXT NOT NULL,
    directory_id INTEGER NOT NULL UNIQUE REFERENCES directories(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE secrets (
    connector_id INTEGER PRIMARY KEY REFERENCES connectors(id) ON DELETE CASCADE,
    api_token TEXT NOT NULL
);
CREATE TABLE sync_state (
    connector_id INTEGER NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (connector_id, key)
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    connector_id INTEGER NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    trigger TEXT NOT NULL,
    dry_run INTEGER NOT NULL,
    status TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    report TEXT,
    error TEXT
);
CREATE TABLE run_log (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    level TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX run_log_by_run ON run_log (run_id);
INSERT INTO directories (name, kind, position) VALUES ('Internal Directory', 'internal', 0);
"#;

/// A shared connection to the database file, and where the key of its credentials is
/// (see [`secrets`]). SQLite allows one writer at a time; the mutex serializes this
/// process's use of it.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
    key: Arc<KeySource>,
    /// Opened read-only: the file is not writable by this process (a read-only mount, a
    /// copy kept for inspection). Reads work; a write fails with SQLite's "readonly".
    read_only: bool,
    /// The file opened, to tell when it is deleted or replaced under a running process
    /// (`None` in memory).
    file: Option<FileId>,
}

/// A file's path and identity (device, inode) when it was opened.
#[derive(Clone, Debug)]
struct FileId {
    path: std::path::PathBuf,
    dev: u64,
    ino: u64,
}

impl FileId {
    fn of(path: &Path) -> Option<FileId> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).ok()?;
        Some(FileId {
            path: path.to_path_buf(),
            dev: m.dev(),
            ino: m.ino(),
        })
    }
}

/// Database failures, with the operation that failed.
#[derive(Debug, thiserror::Error)]
#[error("database: {context}: {source}")]
pub struct DbError {
    /// What was being done.
    pub context: String,
    /// The SQLite error.
    #[source]
    pub source: rusqlite::Error,
}

/// Attach context to rusqlite results.
pub trait Context<T> {
    /// Name the operation that failed.
    fn ctx(self, context: &str) -> Result<T, DbError>;
}

impl<T> Context<T> for rusqlite::Result<T> {
    fn ctx(self, context: &str) -> Result<T, DbError> {
        self.map_err(|source| DbError {
            context: context.to_string(),
            source,
        })
    }
}

impl Db {
    /// Open (creating if needed) the database at `path`, migrate it, and make the file
    /// readable by its owner only. Its credentials' key is `USERSYNC_SECRET_KEY`, else
    /// the key file `<path>.key` ([`KeySource::for_database`]).
    pub fn open(path: &Path) -> Result<Db, DbError> {
        Self::open_with_key(path, KeySource::for_database(path))
    }

    /// Open the database at `path` with its credentials' key from `key`.
    pub fn open_with_key(path: &Path, key: KeySource) -> Result<Db, DbError> {
        let opening = format!("opening {}", path.display());
        let (conn, read_only) = if writable(path) {
            (Connection::open(path).ctx(&opening)?, false)
        } else {
            (open_read_only(path).ctx(&opening)?, true)
        };
        if !read_only {
            restrict_permissions(path);
        }
        let db = Self::init(conn, key, read_only)?;
        Ok(Db {
            file: FileId::of(path),
            ..db
        })
    }

    /// A private in-memory database (tests), its credentials under a key of its own.
    pub fn in_memory() -> Result<Db, DbError> {
        Self::init(
            Connection::open_in_memory().ctx("opening an in-memory database")?,
            KeySource::Memory(SecretKey::generate()),
            false,
        )
    }

    fn init(conn: Connection, key: KeySource, read_only: bool) -> Result<Db, DbError> {
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .ctx("setting the busy timeout")?;
        // A 16 MiB page cache (SQLite's default is 2 MiB): a first sync of 100,000 users
        // inserts a million memberships into two indexes, and with the default cache most
        // of those inserts re-read pages through the kernel (half its CPU time).
        // WAL is a property of the file: a read-only connection keeps the file's.
        let journal = if read_only {
            ""
        } else {
            "PRAGMA journal_mode = WAL;"
        };
        conn.execute_batch(&format!(
            "{journal} PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
             PRAGMA cache_size = -16384;"
        ))
        .ctx("setting pragmas")?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .ctx("reading the schema version")?;
        if read_only && (version as usize) < MIGRATIONS.len() {
            return Err(read_only_upgrade(version));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            let v = i + 1;
            conn.execute_batch(&format!("BEGIN; {sql} PRAGMA user_version = {v}; COMMIT;"))
                .ctx(&format!("migrating the schema to version {v}"))?;
        }

        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
            key: Arc::new(key),
            read_only,
            file: None,
        })
    }

    /// `Err` when the database file was deleted or replaced since it was opened: the
    /// open connection would go on writing to a file no other process sees (and that
    /// is lost at exit). Checked before every write the harness starts.
    pub fn still_there(&self) -> Result<(), DbError> {
        let Some(opened) = &self.file else {
            return Ok(());
        };
        match FileId::of(&opened.path) {
            Some(now) if (now.dev, now.ino) == (opened.dev, opened.ino) => Ok(()),
            _ => Err(DbError {
                context: format!("checking the database file {}", opened.path.display()),
                source: rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_NOTFOUND),
                    Some(
                        "it was deleted or replaced while usersync was running; nothing more is written to it: restart usersync"
                            .into(),
                    ),
                ),
            }),
        }
    }

    /// Whether the file was opened read-only (see [`Db::open`]): the harness then
    /// leaves out the upkeep it does at open (upgrades, closing orphaned runs).
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// Where the key of the stored credentials is.
    pub fn key(&self) -> &KeySource {
        &self.key
    }

    /// The connection, for one operation.
    pub fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock()
    }

    /// The connection for as long as the guard lives, e.g. across the host calls of an
    /// apply made of several batches.
    pub fn lock_arc(&self) -> ArcMutexGuard<RawMutex, Connection> {
        self.conn.lock_arc()
    }
}

/// A read-only connection to `path`. A WAL database needs its `-shm` file, which a
/// read-only directory may not let SQLite create: then the file is opened `immutable`
/// (no other process may be writing it, which a read-only file also says).
fn open_read_only(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    if conn
        .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
        .is_ok()
    {
        return Ok(conn);
    }
    let absolute =
        std::path::absolute(path).map_err(|_| rusqlite::Error::InvalidPath(path.into()))?;
    let uri = url::Url::from_file_path(&absolute)
        .map_err(|()| rusqlite::Error::InvalidPath(path.into()))?;
    Connection::open_with_flags(
        format!("{uri}?immutable=1"),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
    )
}

/// Whether this process may write the database file at `path` (a file not there yet is
/// created, so writable).
fn writable(path: &Path) -> bool {
    match std::fs::OpenOptions::new().write(true).open(path) {
        Ok(_) => true,
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

/// A read-only database of an earlier schema cannot be read by this version, nor
/// upgraded.
fn read_only_upgrade(version: i64) -> DbError {
    let message = format!(
        "the database is read-only and has schema version {version}; this version of usersync reads version {}: open it once with write access to upgrade it",
        MIGRATIONS.len()
    );
    DbError {
        context: "opening a read-only database".into(),
        source: rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_READONLY),
            Some(message),
        ),
    }
}

#[cfg(unix)]
fn restrict_permissions(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for p in [
        path.to_path_buf(),
        path.with_extension("db-wal"),
        path.with_extension("db-shm"),
    ] {
        if p.exists() {
            let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600));
        }
    }
}

#[cfg(not(unix))]
fn restrict_permissions(_path: &Path) {}

/// Seconds since the epoch.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ChangeAction as Action;
    use crate::product::db::run_changes::ChangeQuery;

    /// A database as 0.1.0 left it (schema version 2): a connector with its two
    /// sync-state keys and a run whose report holds its changes.
    fn v2_database() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..2] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(
            r#"PRAGMA user_version = 2;
            INSERT INTO directories (name, kind, position) VALUES ('Okta: c', 'okta', 1);
            INSERT INTO connectors (name, config, directory_id, created_at, updated_at) VALUES ('c', '{}', 2, 0, 0);
            INSERT INTO sync_state VALUES (1, 'last-full-sync', '1764579600'), (1, 'cursor', '2025-12-01T09:00:00.000Z');
            INSERT INTO runs (connector_id, kind, trigger, dry_run, status, started_at, report)
            VALUES (1, 'full', 'manual', 0, 'succeeded', 0, '{"mode":"Full","writes":2,"changes":[
                {"action":"CreateUser","target":"ann","group":null,"fields":[{"field":"email","old":null,"new":"ann@example.com"}]},
                {"action":"AddMembership","target":"ann","group":"devs","fields":[]}]}');"#,
        )
        .unwrap();
        conn
    }

    #[test]
    fn a_0_1_0_database_keeps_its_sync_state_and_run_changes() {
        let db = Db::init(
            v2_database(),
            KeySource::Memory(SecretKey::generate()),
            false,
        )
        .unwrap();
        let conn = db.lock();
        let state = sync_state::load(&conn, 1).unwrap().expect("migrated");
        assert_eq!(state.version, sync_state::VERSION);
        assert_eq!(state.last_full_sync, 1_764_579_600);
        assert_eq!(state.okta_cursor, "2025-12-01T09:00:00.000Z");
        assert!(state.group_marks.is_empty() && state.feed_cursor.is_none());

        let page = run_changes::page(&conn, 1, ChangeQuery::first(10)).unwrap();
        assert_eq!(page.total, 2);
        assert_eq!(page.changes[0].action, Action::CreateUser);
        assert_eq!(
            page.changes[0].fields[0].new.as_deref(),
            Some("ann@example.com")
        );
        assert_eq!(page.changes[1].action, Action::AddMembership);
        assert_eq!(page.changes[1].group.as_deref(), Some("devs"));
        let report: String = conn
            .query_row("SELECT report FROM runs WHERE id = 1", [], |r| r.get(0))
            .unwrap();
        let report: serde_json::Value = serde_json::from_str(&report).unwrap();
        assert!(report.get("changes").is_none(), "{report}");
        assert_eq!(report["writes"], 2, "the rest of the report stays");
        let columns: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM pragma_table_info('users') WHERE name = 'last_login'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(columns, 1);
    }
}
